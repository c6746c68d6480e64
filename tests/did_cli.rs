//! `shine did` against pyfixest 0.60: every stored reference fit (feols and fepois; 2×2
//! DiD and event studies; iid, HC1, CRV1 one- and two-way; weights and offsets) run
//! through the binary, compared to 1e-6 relative. References made by
//! `tests/reference/fixest/make_reference.py`.

mod common;

use std::path::PathBuf;

use common::{read_json, reference, rel_diff, run_failing, run_json, shine, Scratch};
use common::{ACCUMULATED, OPTIMISER};
use serde_json::Value;

/// The pyfixest reference fits and their data.
fn fixest(file: &str) -> PathBuf {
    reference("fixest").join(file)
}

fn run(case: &Value) -> Value {
    let vcov = match &case["vcov"] {
        Value::String(s) if s == "hetero" => "hc1".to_string(),
        Value::String(s) => s.clone(),
        Value::Object(m) => format!(
            "cluster:{}",
            m["CRV1"].as_str().expect("CRV1").replace('+', ",")
        ),
        other => panic!("vcov {other}"),
    };
    let mut cmd = shine();
    cmd.args(["did", "--json", "--quiet", "--data"])
        .arg(fixest(case["data_file"].as_str().expect("data file")))
        .args(["--formula", case["formula"].as_str().expect("formula")])
        .args(["--vcov", &vcov])
        .args([
            "--family",
            if case["estimator"] == "fepois" {
                "poisson"
            } else {
                "gaussian"
            },
        ]);
    if let Some(w) = case["weights"].as_str() {
        cmd.args(["--weights", w]);
    }
    if let Some(o) = case["offset"].as_str() {
        cmd.args(["--offset", o]);
    }
    run_json(&mut cmd)
}

#[test]
fn agrees_with_pyfixest_on_every_reference_fit() {
    let reference = read_json(fixest("fixest_reference.json"));
    let cases = reference["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40);
    let mut worst: f64 = 0.0;
    for case in cases {
        let name = case["name"].as_str().unwrap_or_default();
        let ours = run(case);
        assert_eq!(ours["n_obs"], case["n_obs"], "{name}: n_obs");
        let theirs = case["coefficients"].as_array().expect("coefficients");
        let mine = ours["coefficients"].as_array().expect("our coefficients");
        assert_eq!(mine.len(), theirs.len(), "{name}: number of coefficients");
        for (a, b) in mine.iter().zip(theirs) {
            assert_eq!(a["term"], b["term"], "{name}");
            for key in [
                "estimate",
                "std_error",
                "statistic",
                "p_value",
                "conf_low",
                "conf_high",
            ] {
                let (x, y) = (
                    a[key].as_f64().expect("ours"),
                    b[key].as_f64().expect("theirs"),
                );
                let d = rel_diff(x, y);
                worst = worst.max(d);
                assert!(d < OPTIMISER, "{name}: {} {key}: {x} vs {y}", a["term"]);
            }
            if ours["family"] == "poisson" {
                let rr = a["rate_ratio"].as_f64().expect("rate ratio");
                assert!(
                    (rr - b["estimate"].as_f64().expect("estimate").exp()).abs() < ACCUMULATED * rr
                );
            }
        }
        let collinear: Vec<&str> = ours["collinear"]
            .as_array()
            .expect("collinear")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let expected: Vec<&str> = case["collinear"]
            .as_array()
            .expect("collinear")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(collinear, expected, "{name}: collinear");
        if let Some(pre) = case.get("pretrend").filter(|p| !p.is_null()) {
            let ours = &ours["pretrend_test"];
            assert_eq!(ours["terms"], pre["terms"], "{name}");
            for (k, r) in [
                ("chi_squared", "chi2_statistic"),
                ("chi_squared_p_value", "chi2_p_value"),
                ("statistic", "f_statistic"),
                ("p_value", "f_p_value"),
            ] {
                let (x, y) = (
                    ours[k].as_f64().expect("ours"),
                    pre[r].as_f64().expect("theirs"),
                );
                assert!(
                    rel_diff(x, y) < OPTIMISER,
                    "{name}: pre-trend {k}: {x} vs {y}"
                );
            }
        }
    }
    eprintln!("largest relative difference from pyfixest: {worst:.2e}");
}

fn did_error(csv: &str, formula: &str, extra: &[&str]) -> (Option<i32>, String) {
    let scratch = Scratch::new("did-error");
    let path = scratch.write("p.csv", csv);
    let run = run_failing(
        shine()
            .args(["did", "--formula", formula, "--data"])
            .arg(&path)
            .args(extra),
    );
    (run.code, run.stderr)
}

#[test]
fn bad_panels_give_clear_messages() {
    let mut csv = String::from("unit,period,y,d,label,one\n");
    for u in 0..6 {
        for p in 0..4 {
            let d = u32::from(u < 3 && p >= 2);
            csv.push_str(&format!("{u},{p},{},{d},x{u},1\n", (u + p) % 3));
        }
    }
    // A negative outcome under Poisson names the row.
    let negative = csv.replacen("\n0,0,0,", "\n0,0,-1,", 1);
    let (code, err) = did_error(&negative, "y ~ d | unit + period", &["--family", "poisson"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("row 2, column y") && err.contains("negative"),
        "{err}"
    );
    // A non-numeric outcome.
    let (code, err) = did_error(&csv, "label ~ d | unit + period", &[]);
    assert_eq!(code, Some(2), "{err}");
    // A fixed effect with a single level.
    let (code, err) = did_error(&csv, "y ~ d | unit + one", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("one"), "{err}");
    // A regressor collinear with the fixed effects is dropped with a warning naming it.
    let (code, err) = did_error(&csv, "y ~ d + period | unit + period", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("period") && err.contains("collinear"), "{err}");
    // An empty panel (header only) and an unknown --vcov.
    let (code, err) = did_error("unit,period,y,d\n", "y ~ d | unit + period", &[]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = did_error(&csv, "y ~ d | unit + period", &["--vcov", "robust"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cluster:COL"), "{err}");
}

#[test]
fn hostile_formulas_and_thread_counts_get_exit_2_not_a_crash() {
    let castle = reference("fixest/castle.csv");
    let deep = format!(
        "l_homicide ~ {}post{} | sid + year",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let signs = format!("l_homicide ~ {}post | sid + year", "-".repeat(50_000));
    for formula in [deep, signs] {
        let run = run_failing(
            shine()
                .args(["did", "--quiet", "--formula", &formula])
                .arg("--data")
                .arg(&castle),
        );
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(
            run.stderr.contains("nested more than 200 levels"),
            "{}",
            run.stderr
        );
    }
    let run = run_failing(shine().args(["--threads", "100000", "plan"]));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("per logical CPU"), "{}", run.stderr);
}
