//! `shine mixed` against lme4 1.1-31 and lmerTest 3.1-3: every stored reference fit run
//! through the binary (references made by `tests/reference/lmm/lmm_reference.R`).

mod common;

use common::{file_name, json_files, read_json, reference, rel_diff, repo_path};
use common::{run_failing, run_json, shine, Scratch, OPTIMISER, SECOND_ORDER};
use serde_json::Value;

#[test]
fn agrees_with_lme4_and_lmertest() {
    let mut checked = 0;
    for path in json_files(reference("lmm")) {
        let r = read_json(&path);
        let Some(formula) = r["formula"].as_str() else {
            continue;
        };
        let name = file_name(&path);
        if name == "insteval.json" {
            // The full InstEval data are not in the repository (the bench writes them);
            // the ignored test `insteval_full_agrees_with_lme4` checks this reference.
            continue;
        }
        let method = if r["method"] == "ML" { "ml" } else { "reml" };
        let ours = run_json(
            shine()
                .args([
                    "mixed",
                    "--json",
                    "--quiet",
                    "--method",
                    method,
                    "--formula",
                    formula,
                    "--data",
                ])
                .arg(repo_path(r["data_file"].as_str().expect("data file"))),
        );
        let fe = &r["fixed_effects"];
        let terms = fe["term"].as_array().expect("terms");
        for (i, term) in terms.iter().enumerate() {
            let mine = &ours["fixed_effects"][i];
            assert_eq!(mine["term"], *term, "{name}");
            for (key, tol) in [
                ("estimate", OPTIMISER),
                ("std_error", OPTIMISER),
                ("df", SECOND_ORDER),
                ("statistic", OPTIMISER),
            ] {
                let (a, b) = (
                    mine[key].as_f64().expect("ours"),
                    fe[key][i].as_f64().expect("theirs"),
                );
                // InstEval's criterion is flat: converged optimisers stop a few 1e-6
                // apart in θ, so its crossed subset is held to the 1e-5.
                let tol = if name.starts_with("insteval") {
                    tol.max(1e-5)
                } else {
                    tol
                };
                assert!(rel_diff(a, b) < tol, "{name}: {term} {key}: {a} vs {b}");
            }
        }
        for key in ["log_likelihood", "aic", "bic", "sigma"] {
            let (a, b) = (
                ours[key].as_f64().expect("ours"),
                r[key].as_f64().expect("theirs"),
            );
            assert!(rel_diff(a, b) < OPTIMISER, "{name}: {key}: {a} vs {b}");
        }
        assert_eq!(ours["singular"], r["singular"], "{name}: singular flag");
        assert_eq!(ours["n_obs"], r["n_obs"], "{name}");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} reference fits found");
}

#[test]
fn bad_models_give_clear_messages_and_exit_codes() {
    let sleep = reference("lmm/sleepstudy.csv");
    let run = |formula: &str| {
        let run = run_failing(
            shine()
                .args(["mixed", "--formula", formula, "--data"])
                .arg(&sleep),
        );
        (run.code, run.stderr)
    };
    // A formula naming a missing column.
    let (code, err) = run("Reaction ~ Dayz + (1 | Subject)");
    assert_eq!(code, Some(2));
    assert!(err.contains("Dayz"), "{err}");
    // No random term.
    let (code, err) = run("Reaction ~ Days");
    assert_eq!(code, Some(2));
    assert!(err.contains("random"), "{err}");
    // A grouping factor with as many levels as observations (more random effects than
    // observations), as lme4 refuses it.
    let dir = Scratch::new("mixed");
    let mut csv = String::from("y,x,g,one\n");
    for i in 0..30 {
        csv.push_str(&format!("{},{},{i},a\n", (i * 7 % 11) as f64, i % 5));
    }
    std::fs::write(dir.join("t.csv"), &csv).expect("write");
    let run_t = |formula: &str| {
        let run = run_failing(
            shine()
                .args(["mixed", "--formula", formula, "--data"])
                .arg(dir.join("t.csv")),
        );
        (run.code, run.stderr)
    };
    let (code, err) = run_t("y ~ x + (1 | g)");
    assert_eq!(code, Some(2), "{err}");
    // A grouping factor with one level.
    let (code, err) = run_t("y ~ x + (1 | one)");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("level"), "{err}");
    // A response with no variance.
    let flat: String = csv
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                format!("5{}\n", &l[l.find(',').unwrap_or(0)..])
            }
        })
        .collect();
    std::fs::write(dir.join("flat.csv"), flat).expect("write");
    let out = common::run(
        shine()
            .args(["mixed", "--formula", "y ~ 1 + (1 | x)", "--data"])
            .arg(dir.join("flat.csv")),
    );
    let err = &out.stderr;
    assert_eq!(out.code, Some(2), "{err}");
    assert!(
        err.contains("variance") || err.contains("constant"),
        "{err}"
    );
}

/// `--emmeans "wave | group"`: the change from baseline per group and the difference
/// between groups in that change agree with lmerTest's `contest1D` (stored in
/// `tests/reference/lmm/survey_panel.json`).
#[test]
fn emmeans_contrasts_agree_with_lmertest() {
    let r = read_json(reference("lmm/survey_panel.json"));
    let ours = run_json(
        shine()
            .args([
                "mixed",
                "--json",
                "--quiet",
                "--emmeans",
                "wave | group",
                "--formula",
            ])
            .arg(r["formula"].as_str().expect("formula"))
            .arg("--data")
            .arg(repo_path(r["data_file"].as_str().expect("data file"))),
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
            ("estimate", OPTIMISER),
            ("std_error", OPTIMISER),
            ("df", SECOND_ORDER),
            ("conf_low", OPTIMISER),
            ("conf_high", OPTIMISER),
        ] {
            let (a, b) = (
                mine[key].as_f64().expect("ours"),
                reference[key].as_f64().expect("theirs"),
            );
            assert!(rel_diff(a, b) < tol, "{name} {key}: {a} vs {b}");
        }
    }
    // Means for 3 waves × 2 groups; changes for 2 later waves × 2 groups.
    assert_eq!(em["means"].as_array().map(Vec::len), Some(6));
    assert_eq!(em["changes"].as_array().map(Vec::len), Some(4));
}

/// `--vcov cr1` and `--vcov cr2`: the standard errors are the square roots of
/// clubSandwich 0.5.8's `vcovCR(fit, type = "CR1")` / `"CR2"` diagonal, on G − 1 df
/// (CR1) or coef_test's Satterthwaite df (CR2) (references made by
/// `tests/reference/lmm/robust/robust_reference.R`).
#[test]
fn robust_standard_errors_agree_with_clubsandwich() {
    let mut checked = 0;
    let paths = json_files(reference("lmm/robust"));
    // jsonlite writes a model with one term as scalars.
    let list = |v: &Value| match v {
        Value::Array(a) => a.clone(),
        one => vec![one.clone()],
    };
    for path in paths {
        let r = read_json(&path);
        let data = reference("lmm").join(r["data"].as_str().expect("data"));
        for (vcov, key) in [("cr1", "vcov_cr1"), ("cr2", "vcov_cr2")] {
            let name = format!("{} --vcov {vcov}", path.display());
            let ours = run_json(
                shine()
                    .args(["mixed", "--json", "--quiet", "--vcov", vcov, "--formula"])
                    .arg(r["formula"].as_str().expect("formula"))
                    .arg("--data")
                    .arg(&data),
            );
            assert_eq!(ours["standard_errors"]["type"], "cluster_robust", "{name}");
            assert_eq!(
                ours["standard_errors"]["kind"],
                vcov.to_uppercase(),
                "{name}"
            );
            let clusters = r["clusters"].as_f64().expect("clusters");
            let df_cr2 = list(&r["df_cr2_satterthwaite"]);
            for (i, term) in list(&r["terms"]).iter().enumerate() {
                let mine = &ours["fixed_effects"][i];
                assert_eq!(mine["term"], *term, "{name}");
                let row = &r[key][i];
                let variance = row.get(i).unwrap_or(row).as_f64().expect("vcov");
                let se = variance.sqrt();
                let got = mine["std_error"].as_f64().expect("std_error");
                assert!(
                    rel_diff(got, se) < SECOND_ORDER,
                    "{name} {term}: {got} vs {se}"
                );
                let df = mine["df"].as_f64().expect("df");
                let want = if vcov == "cr1" {
                    clusters - 1.0
                } else {
                    df_cr2[i].as_f64().expect("df")
                };
                assert!(
                    rel_diff(df, want) < SECOND_ORDER,
                    "{name} {term}: df {df} vs {want}"
                );
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
}
