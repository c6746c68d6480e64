//! `shine match` against MatchIt: the propensity model, the matched sets and the
//! balance statistics of every stored reference run (R 4.2.2, MatchIt 4.5.1, made by
//! `tests/reference/matching/matching.R`).
//!
//! The references are the `_intended` runs: MatchIt 4.5.1's vector routine truncates
//! distance gaps to integers (see `tests/reference/matching/MATCHIT_NOTES.md`), so the
//! matched sets are compared with MatchIt's defect-free distance-matrix routine, which
//! later MatchIt releases use too.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{file_name, read_json, reference, rel_diff, run_failing, run_json, run_ok, shine};
use common::{Scratch, EXACT, OPTIMISER};
use serde_json::Value;

/// The MatchIt reference runs and their data.
fn matching(file: &str) -> PathBuf {
    reference("matching").join(file)
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn run_match(reference: &Value) -> Value {
    let options = &reference["options"];
    let data = matching(reference["data_file"].as_str().expect("data_file"));
    let mut cmd = shine();
    cmd.args(["match", "--json", "--id", "id", "--data"])
        .arg(&data)
        .args(["--formula", reference["formula"].as_str().expect("formula")])
        .args(["--ratio", &options["ratio"].to_string()]);
    if let Some(c) = options["caliper"].as_f64() {
        cmd.args(["--caliper", &c.to_string()]);
    }
    if options["replace"] == true {
        cmd.arg("--replace");
    }
    if let Some(order) = options["m_order_argument"].as_str() {
        cmd.args(["--order", order]);
    }
    run_json(&mut cmd)
}

#[test]
fn matches_matchit_on_every_reference_run() {
    let files: Vec<PathBuf> = common::json_files(matching(""))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("_intended.json"))
        .collect();
    assert_eq!(files.len(), 24, "expected 24 reference runs");
    for path in files {
        let name = file_name(&path);
        let reference = read_json(&path);
        let ours = run_match(&reference);

        // The propensity model: R's glm (MatchIt fits it with quasibinomial, same estimates).
        let model = &reference["distance_model"];
        for (i, term) in model["terms"].as_array().expect("terms").iter().enumerate() {
            let expected = model["estimate"][i].as_f64().expect("estimate");
            let got = ours["ps_model"][i]["estimate"]
                .as_f64()
                .expect("our estimate");
            assert_eq!(ours["ps_model"][i]["term"], *term, "{name}");
            assert!(
                rel_diff(got, expected) <= OPTIMISER,
                "{name}: {term} {got} vs {expected}"
            );
        }

        // The matched sets: per treated unit, the controls' distance gaps (ties between
        // controls at exactly equal distance may pick either, as the notes explain).
        let distance: BTreeMap<String, f64> = reference["units"]["id"]
            .as_array()
            .expect("ids")
            .iter()
            .zip(reference["units"]["distance"].as_array().expect("distance"))
            .map(|(id, d)| (id_text(id), d.as_f64().expect("d")))
            .collect();
        let gap = |t: &str, c: &str| (distance[t] - distance[c]).abs();
        let mut expected: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mm = &reference["match_matrix"];
        for (i, t) in mm["treated_id"]
            .as_array()
            .expect("treated")
            .iter()
            .enumerate()
        {
            let t = id_text(t);
            let controls: Vec<f64> = mm["control_ids"][i]
                .as_array()
                .expect("row")
                .iter()
                .filter(|c| !c.is_null())
                .map(|c| gap(&t, &id_text(c)))
                .collect();
            if !controls.is_empty() {
                expected.insert(t, controls);
            }
        }
        let mut got: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for p in ours["pairs"].as_array().expect("pairs") {
            let (t, c) = (id_text(&p["treated"]), id_text(&p["control"]));
            let g = gap(&t, &c);
            got.entry(t).or_default().push(g);
        }
        for v in expected.values_mut().chain(got.values_mut()) {
            v.sort_by(f64::total_cmp);
        }
        assert_eq!(got.len(), expected.len(), "{name}: treated units matched");
        for (t, gaps) in &expected {
            let ours_gaps = got
                .get(t)
                .unwrap_or_else(|| panic!("{name}: {t} unmatched by shine"));
            assert_eq!(ours_gaps.len(), gaps.len(), "{name}: controls of {t}");
            for (a, b) in ours_gaps.iter().zip(gaps) {
                assert!((a - b).abs() < EXACT, "{name}: treated {t}: gap {a} vs {b}");
            }
        }
        assert_eq!(
            ours["n_treated_matched"], reference["sample_sizes"]["treated"]["matched"],
            "{name}"
        );
        // With replacement on lalonde, R's tie order between two identical duplicate
        // controls takes one of them twice (MATCHIT_NOTES.md); the count of distinct
        // controls differs there by construction.
        let duplicate_tie = name.starts_with("lalonde") && name.contains("_repl");
        if !duplicate_tie {
            assert_eq!(
                ours["n_controls_matched"], reference["sample_sizes"]["control"]["matched"],
                "{name}"
            );
        }

        // Balance after matching: the SMD of every row (the SMD does not depend on
        // which of two tied controls was taken, as their covariates are identical).
        let matched = reference["balance"]["matched"]
            .as_array()
            .expect("matched balance");
        let all = reference["balance"]["all"].as_array().expect("all balance");
        let rows = ours["balance"].as_array().expect("our balance");
        assert_eq!(rows.len(), matched.len(), "{name}: balance rows");
        for ((row, after), before) in rows.iter().zip(matched).zip(all) {
            assert_eq!(row["term"], after["term"], "{name}");
            for (ours_key, theirs, key) in [
                ("smd_before", before, "std_mean_diff"),
                ("smd_after", after, "std_mean_diff"),
                ("variance_ratio_before", before, "var_ratio"),
                ("ecdf_max_after", after, "ecdf_max"),
                ("ecdf_mean_after", after, "ecdf_mean"),
            ] {
                if duplicate_tie && ours_key != "smd_before" && ours_key != "variance_ratio_before"
                {
                    continue;
                }
                match (row[ours_key].as_f64(), theirs[key].as_f64()) {
                    (Some(a), Some(b)) => assert!(
                        rel_diff(a, b) <= OPTIMISER,
                        "{name}: {} {ours_key}: {a} vs {b}",
                        row["term"]
                    ),
                    (None, None) => {}
                    (a, b) => panic!("{name}: {} {ours_key}: {a:?} vs {b:?}", row["term"]),
                }
            }
        }
    }
}

#[test]
fn result_does_not_depend_on_row_order() {
    let text = std::fs::read_to_string(matching("lalonde.csv")).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    lines.rotate_left(100);
    let scratch = Scratch::new("match");
    let shuffled = scratch.write(
        "lalonde_shuffled.csv",
        format!("{header}\n{}\n", lines.join("\n")),
    );
    let run = |data: &Path| {
        let json = run_json(
            shine()
                .args([
                    "match",
                    "--json",
                    "--id",
                    "id",
                    "--ratio",
                    "3",
                    "--caliper",
                    "0.2",
                    "--formula",
                ])
                .arg("treat ~ age + educ + race + married + nodegree + re74 + re75")
                .arg("--data")
                .arg(data),
        );
        let mut pairs: Vec<(String, String)> = json["pairs"]
            .as_array()
            .expect("pairs")
            .iter()
            .map(|p| (id_text(&p["treated"]), id_text(&p["control"])))
            .collect();
        pairs.sort();
        pairs
    };
    assert_eq!(run(&matching("lalonde.csv")), run(&shuffled));
}

/// The plain CSV route (only the model's columns, without a data frame) and the general
/// route (`--out` reads the whole table) print the same JSON, byte for byte.
#[test]
fn plain_and_general_reading_print_the_same_json() {
    let scratch = Scratch::new("match-routes");
    let run = |extra: &[&str]| {
        run_ok(
            shine()
                .args(["match", "--json", "--ratio", "2", "--caliper", "0.3"])
                .args(["--formula", "treat ~ age + educ + race + married + re74"])
                .arg("--data")
                .arg(matching("lalonde.csv"))
                .args(extra),
        )
        .stdout
    };
    let plain = run(&[]);
    let out = scratch.join("out");
    let general = run(&["--out", out.to_str().expect("a UTF-8 path")]);
    assert_eq!(plain, general);
    let value: Value = serde_json::from_str(&plain).expect("JSON");
    assert_eq!(
        value["weights"].as_array().map(Vec::len),
        Some(614),
        "a weight per row of lalonde"
    );
}

fn match_error(csv: &str, formula: &str, extra: &[&str]) -> (Option<i32>, String) {
    let scratch = Scratch::new("match-error");
    let path = scratch.write("t.csv", csv);
    let run = run_failing(
        shine()
            .args(["match", "--formula", formula, "--data"])
            .arg(&path)
            .args(extra),
    );
    (run.code, run.stderr)
}

fn table(rows: &[(u8, f64, f64, &str)]) -> String {
    let mut s = String::from("id,treat,x,z,g\n");
    for (i, (t, x, z, g)) in rows.iter().enumerate() {
        s.push_str(&format!("{},{t},{x},{z},{g}\n", i + 1));
    }
    s
}

#[test]
fn bad_inputs_give_clear_messages_and_exit_codes() {
    let base: Vec<(u8, f64, f64, &str)> = (0..40)
        .map(|i| {
            (
                (i % 3 == 0) as u8,
                (i * 7 % 11) as f64,
                (i % 5) as f64,
                if i % 2 == 0 { "a" } else { "b" },
            )
        })
        .collect();

    // Complete separation: x > 5 exactly when treated.
    let sep: Vec<_> = base
        .iter()
        .map(|&(t, _, z, g)| (t, if t == 1 { 10.0 + z } else { z }, z, g))
        .collect();
    let (code, err) = match_error(&table(&sep), "treat ~ x + z", &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("separation") && err.contains('x'), "{err}");

    // A collinear covariate is dropped with a warning naming it; matching goes on.
    let mut csv = String::from("id,treat,x,x2\n");
    for (i, (t, x, _, _)) in base.iter().enumerate() {
        csv.push_str(&format!("{},{t},{x},{}\n", i + 1, 2.0 * x));
    }
    let (code, err) = match_error(&csv, "treat ~ x + x2", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("x2") && err.contains("collinear"), "{err}");

    // No treated rows, no control rows.
    let none: Vec<_> = base.iter().map(|&(_, x, z, g)| (0, x, z, g)).collect();
    let (code, err) = match_error(&table(&none), "treat ~ x", &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no treated rows"), "{err}");
    let all: Vec<_> = base.iter().map(|&(_, x, z, g)| (1, x, z, g)).collect();
    let (code, err) = match_error(&table(&all), "treat ~ x", &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no control rows"), "{err}");

    // A covariate that is all missing.
    let mut csv = String::from("id,treat,x,w\n");
    for (i, (t, x, _, _)) in base.iter().enumerate() {
        csv.push_str(&format!("{},{t},{x},NA\n", i + 1));
    }
    let (code, err) = match_error(&csv, "treat ~ x + w", &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("column w is missing in every row"), "{err}");

    // A caliper that matches nobody.
    let (code, err) = match_error(&table(&base), "treat ~ x + z", &["--caliper", "0.0000001"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("widen --caliper"), "{err}");

    // Duplicate ids.
    let dup = table(&base).replace("\n2,", "\n1,");
    let (code, err) = match_error(&dup, "treat ~ x", &["--id", "id"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("row 3, column id") && err.contains("also in row 2 — expected each id once"),
        "{err}"
    );

    // A formula naming a missing column, and a non-binary treatment.
    let (code, err) = match_error(&table(&base), "treat ~ agee", &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("agee"), "{err}");
    let (code, err) = match_error(&table(&base), "x ~ z", &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("expected a treatment of 0/1"), "{err}");
}

#[test]
fn the_output_folder_never_replaces_the_data_or_a_foreign_folder() {
    let scratch = Scratch::new("match-out");
    let data = scratch
        .copy_of(&reference("matching"), "data")
        .join("lalonde.csv");
    let original = std::fs::read(&data).expect("read data");
    let run_out = |out: &Path, force: bool| {
        let mut command = shine();
        command
            .args([
                "match",
                "--quiet",
                "--id",
                "id",
                "--formula",
                "treat ~ age + educ + re74",
            ])
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(out);
        if force {
            command.arg("--force");
        }
        run_failing(&mut command)
    };
    // The data file itself, and the folder that holds it.
    for out in [data.clone(), scratch.join("data")] {
        let run = run_out(&out, true);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stderr.contains("the input"), "{}", run.stderr);
        assert_eq!(std::fs::read(&data).expect("data kept"), original);
    }
    // A folder shine did not write is kept, even with --force.
    let foreign = scratch.join("foreign");
    std::fs::create_dir_all(&foreign).expect("mkdir");
    std::fs::write(foreign.join("notes.txt"), "mine").expect("write");
    let run = run_out(&foreign, true);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(foreign.join("notes.txt").exists());
    // Its own results carry a manifest, and --force replaces them.
    let out = scratch.join("matched");
    assert!(run_out(&out, false).success());
    let manifest = read_json(out.join("manifest.json"));
    assert_eq!(manifest["command"], "match");
    assert!(manifest["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .any(|f| f["path"] == "matched.csv"));
    assert_eq!(run_out(&out, false).code, Some(2));
    assert!(run_out(&out, true).success());
}
