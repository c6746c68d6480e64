//! `shine did --bootstrap wild` through the binary: the JSON columns `boot_p_value`,
//! `boot_conf_low`, `boot_conf_high` against wildboottest 0.3.2 (full enumeration, so the
//! p-values are exact; tests/reference/wild_bootstrap/make_reference.py), the table, and
//! the refusals. The estimator itself is tested in src/stats/fixest/tests_wild_bootstrap.rs.

mod common;

use common::{read_json, reference, run_failing, run_json, run_ok, shine};
use serde_json::Value;

fn panel(name: &str) -> std::path::PathBuf {
    reference("wild_bootstrap").join(format!("panel_{name}.csv"))
}

fn reference_run(panel: &str, weights: &str) -> Value {
    let json = read_json(reference("wild_bootstrap").join("wildboottest_reference.json"));
    json["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .find(|r| r["panel"] == panel && r["weights"] == weights)
        .cloned()
        .expect("run")
}

#[test]
fn json_p_values_equal_wildboottest_under_full_enumeration() {
    for name in ["g6", "g8", "g12"] {
        let r = reference_run(name, "rademacher");
        let out = run_json(
            shine()
                .args(["did", "--json", "--quiet", "--data"])
                .arg(panel(name))
                .args(["--formula", r["formula"].as_str().expect("formula")])
                .args(["--vcov", "cluster:practice", "--bootstrap", "wild"]),
        );
        let c = out["coefficients"]
            .as_array()
            .expect("coefficients")
            .iter()
            .find(|c| c["term"] == "treated_post")
            .expect("treated_post");
        assert_eq!(
            c["boot_p_value"].as_f64(),
            r["p_value_without_ties"].as_f64(),
            "{name}"
        );
        let (lo, hi, est) = (
            c["boot_conf_low"].as_f64().expect("low"),
            c["boot_conf_high"].as_f64().expect("high"),
            c["estimate"].as_f64().expect("estimate"),
        );
        assert!(lo < est && est < hi, "{name}: {lo} {est} {hi}");
        let info = &out["bootstrap"];
        assert_eq!(info["full_enumeration"], true);
        assert_eq!(info["draws"].as_u64(), r["draws"].as_u64());
        assert_eq!(info["weights"], "rademacher");
        assert_eq!(info["cluster"], "practice");
    }
}

#[test]
fn without_bootstrap_the_json_has_no_bootstrap_columns() {
    let out = run_ok(
        shine()
            .args(["did", "--json", "--quiet", "--data"])
            .arg(panel("g8"))
            .args(["--formula", "y ~ treated_post + x | unit + period"])
            .args(["--vcov", "cluster:practice"]),
    );
    assert!(!out.stdout.contains("boot_"), "{}", out.stdout);
    assert!(!out.stdout.contains("\"bootstrap\""), "{}", out.stdout);
}

#[test]
fn the_table_shows_the_bootstrap_columns_and_how_they_were_drawn() {
    let out = run_ok(
        shine()
            .args(["did", "--quiet", "--data"])
            .arg(panel("g20"))
            .args(["--formula", "y ~ treated_post + x | unit + period"])
            .args(["--vcov", "cluster:practice", "--bootstrap", "wild"])
            .args([
                "--bootstrap-weights",
                "webb",
                "--bootstrap-reps",
                "999",
                "--seed",
                "5",
            ]),
    );
    assert!(out.stdout.contains("Wild cluster bootstrap (restricted, null imposed), Webb weights, 20 clusters of practice, 999 draws, seed 5"), "{}", out.stdout);
    assert!(out
        .stdout
        .contains("| term | boot_p_value | boot_conf_low | boot_conf_high |"));
    assert!(out.stdout.contains("| treated_post | "));
    // Same seed, same output.
    let again = run_ok(
        shine()
            .args(["did", "--quiet", "--data"])
            .arg(panel("g20"))
            .args(["--formula", "y ~ treated_post + x | unit + period"])
            .args(["--vcov", "cluster:practice", "--bootstrap", "wild"])
            .args([
                "--bootstrap-weights",
                "webb",
                "--bootstrap-reps",
                "999",
                "--seed",
                "5",
            ])
            .args(["--threads", "1"]),
    );
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn bootstrap_without_clusters_poisson_or_two_way_is_refused_with_exit_2() {
    let base = |extra: &[&str]| {
        let mut cmd = shine();
        cmd.args(["did", "--quiet", "--data"])
            .arg(panel("g8"))
            .args([
                "--formula",
                "y ~ treated_post + x | unit + period",
                "--bootstrap",
                "wild",
            ])
            .args(extra);
        run_failing(&mut cmd)
    };
    let run = base(&[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--vcov cluster:COL"), "{}", run.stderr);
    let run = base(&["--vcov", "cluster:practice,period"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("one way"), "{}", run.stderr);
    // A Poisson model that fits (a count outcome), then the bootstrap is refused.
    let run = run_failing(
        shine()
            .args(["did", "--quiet", "--data"])
            .arg(panel("g8"))
            .args(["--formula", "practice ~ x | period", "--bootstrap", "wild"])
            .args(["--vcov", "cluster:practice", "--family", "poisson"]),
    );
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("least squares"), "{}", run.stderr);
    let run = base(&["--vcov", "cluster:practice", "--bootstrap-reps", "0"]);
    assert_eq!(run.code, Some(2));
    // A bootstrap option without --bootstrap is a usage error.
    let run = run_failing(
        shine()
            .args(["did", "--quiet", "--data"])
            .arg(panel("g8"))
            .args([
                "--formula",
                "y ~ treated_post | unit + period",
                "--seed",
                "3",
            ]),
    );
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--bootstrap"), "{}", run.stderr);
}
