//! `shine mixed --df kenward-roger` against lmerTest 3.1-3 `summary(m, ddf =
//! "Kenward-Roger")`, `contest1D` and pbkrtest 0.5.2 `vcovAdj` (references made by
//! `tests/reference/lmm/kr/kr_reference.R`, lme4 pushed to convergence).

mod common;

use common::{file_name, json_files, read_json, reference, rel_diff, repo_path};
use common::{run_failing, run_json, run_ok, shine};
use serde_json::Value;

/// The acceptance tolerances for Kenward–Roger (relative): standard errors and df.
const KR_SE: f64 = 1e-5;
const KR_DF: f64 = 1e-3;

fn kr_fit(formula: &str, data: &str, extra: &[&str]) -> Value {
    run_json(
        shine()
            .args(["mixed", "--json", "--quiet", "--df", "kenward-roger"])
            .args(extra)
            .args(["--formula", formula, "--data"])
            .arg(repo_path(data)),
    )
}

#[test]
fn kenward_roger_agrees_with_pbkrtest_on_every_reference() {
    let mut checked = 0;
    for path in json_files(reference("lmm/kr")) {
        let r = read_json(&path);
        let name = file_name(&path);
        let ours = kr_fit(
            r["formula"].as_str().expect("formula"),
            r["data_file"].as_str().expect("data file"),
            &[],
        );
        assert_eq!(ours["df_method"], "KenwardRoger", "{name}");
        assert_eq!(ours["n_obs"], r["n_obs"], "{name}");
        let fe = &r["fixed_effects"];
        for (i, term) in fe["term"].as_array().expect("terms").iter().enumerate() {
            let mine = &ours["fixed_effects"][i];
            assert_eq!(mine["term"], *term, "{name}");
            for (key, tol) in [
                ("estimate", KR_SE),
                ("std_error", KR_SE),
                ("df", KR_DF),
                ("statistic", KR_SE),
                ("conf_low", KR_SE),
                ("conf_high", KR_SE),
            ] {
                let (a, b) = (
                    mine[key].as_f64().expect("ours"),
                    fe[key][i].as_f64().expect("theirs"),
                );
                assert!(rel_diff(a, b) < tol, "{name}: {term} {key}: {a} vs {b}");
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 6,
        "only {checked} Kenward-Roger references found"
    );
}

/// `--emmeans "wave | group"` with Kenward–Roger: the changes from baseline and the
/// difference between groups agree with `contest1D(m, L, ddf = "Kenward-Roger")`.
#[test]
fn emmeans_contrasts_use_kenward_roger() {
    let r = read_json(reference("lmm/kr/kr_survey_panel.json"));
    let ours = kr_fit(
        r["formula"].as_str().expect("formula"),
        r["data_file"].as_str().expect("data file"),
        &["--emmeans", "wave | group"],
    );
    let em = &ours["emmeans"];
    let find = |list: &str, contrast: &str, group: &str| -> Value {
        em[list]
            .as_array()
            .expect("list")
            .iter()
            .find(|e| e["contrast"] == contrast && e["group"] == group)
            .cloned()
            .unwrap_or_else(|| panic!("no {list} {contrast} {group}"))
    };
    for (name, mine) in [
        (
            "change_wave3_referred",
            find("changes", "3 - 0", "referred"),
        ),
        (
            "change_wave9_referred",
            find("changes", "9 - 0", "referred"),
        ),
        (
            "did_wave9",
            find("differences", "(9 - 0): referred - comparison", "referred"),
        ),
    ] {
        let reference = r["contrasts"]
            .as_array()
            .expect("contrasts")
            .iter()
            .find(|c| c["name"] == name)
            .expect("reference contrast");
        for (key, tol) in [
            ("estimate", KR_SE),
            ("std_error", KR_SE),
            ("df", KR_DF),
            ("conf_low", KR_SE),
            ("conf_high", KR_SE),
        ] {
            let (a, b) = (
                mine[key].as_f64().expect("ours"),
                reference[key].as_f64().expect("theirs"),
            );
            assert!(rel_diff(a, b) < tol, "{name} {key}: {a} vs {b}");
        }
    }
}

#[test]
fn text_output_names_kenward_roger() {
    let run = run_ok(
        shine()
            .args(["mixed", "--quiet", "--df", "kenward-roger", "--formula"])
            .arg("Reaction ~ Days + (Days | Subject)")
            .arg("--data")
            .arg(reference("lmm/sleepstudy.csv")),
    );
    assert!(run.stdout.contains("Kenward-Roger"), "{}", run.stdout);
}

#[test]
fn kenward_roger_with_ml_is_an_input_error() {
    let run = run_failing(
        shine()
            .args([
                "mixed",
                "--method",
                "ml",
                "--df",
                "kenward-roger",
                "--formula",
            ])
            .arg("Reaction ~ Days + (Days | Subject)")
            .arg("--data")
            .arg(reference("lmm/sleepstudy.csv")),
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("REML"), "{}", run.stderr);
}
