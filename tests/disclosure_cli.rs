//! Disclosure control through the real binary: rounding of every shown count
//! (`disclosure.round_to`) and the means of 0/1 terms that rest on 1–4 persons, on a
//! small simulation where such terms exist, checked with `shine audit` and by reading
//! the files directly.

mod common;

use std::path::Path;

use common::{read_json, run, run_ok, shine, Scratch};
use serde_json::Value;

/// A small simulation: 30 referred among 2,000, so several education and income
/// levels have 1 to 4 referred persons.
fn small_simulation(scratch: &Scratch) -> std::path::PathBuf {
    let dir = scratch.join("sim");
    run_ok(
        shine()
            .args([
                "simulate",
                "--referred",
                "30",
                "--pool",
                "2000",
                "--seed",
                "3",
                "--out",
            ])
            .arg(&dir),
    );
    dir
}

/// The default plan with `round_to` set.
fn plan_rounding_to(scratch: &Scratch, base: u64) -> std::path::PathBuf {
    let printed = run_ok(shine().arg("plan")).stdout;
    assert!(
        printed.contains("\nround_to = 1\n"),
        "the default plan lacks round_to"
    );
    scratch.write(
        "plan.toml",
        printed.replace("\nround_to = 1\n", &format!("\nround_to = {base}\n")),
    )
}

fn analyse(data: &Path, out: &Path, plan: Option<&Path>) {
    let mut command = shine();
    command
        .arg("analyse")
        .arg(data)
        .arg("--out")
        .arg(out)
        .arg("--quiet");
    if let Some(plan) = plan {
        command.arg("--plan").arg(plan);
    }
    run_ok(&mut command);
}

fn audit_is_clean(results: &Path) {
    let audited = run(shine().arg("audit").arg(results).arg("--json"));
    assert_eq!(audited.code, Some(0), "{}", audited.stdout);
    assert_eq!(audited.json(), Value::Array(vec![]));
}

#[test]
fn rounding_to_five_leaves_only_multiples_of_five() {
    let scratch = Scratch::new("round-to");
    let data = small_simulation(&scratch);
    let plan = plan_rounding_to(&scratch, 5);
    let out = scratch.join("rounded");
    analyse(&data, &out, Some(&plan));
    audit_is_clean(&out);

    // Read directly, not through the audit: every count of the flow table and of
    // results.json's flow is a marker or a multiple of 5.
    let flow = std::fs::read_to_string(out.join("tables/flow.csv")).expect("flow.csv");
    let mut counts = 0;
    for line in flow.lines().skip(1) {
        let cell = line.rsplit(',').next().expect("cell");
        if let Ok(n) = cell.parse::<u64>() {
            assert_eq!(n % 5, 0, "flow.csv: {line}");
            counts += 1;
        } else {
            assert!(cell == "<5" || cell == "[s]", "flow.csv: {line}");
        }
    }
    assert!(counts >= 4, "{flow}");
    let json = read_json(out.join("results.json"));
    assert_eq!(json["plan"]["disclosure"]["round_to"], 5);
    for (name, n) in json["matching"]["flow"].as_object().expect("flow") {
        if let Some(n) = n.as_u64() {
            if name != "risk_sets" {
                assert_eq!(n % 5, 0, "results.json flow {name} = {n}");
            }
        }
    }
    // Multiples of 5 prove nothing unless some count was not one before: compare
    // with the same run unrounded (each count within half a base of its own).
    let plain = scratch.join("plain");
    analyse(&data, &plain, None);
    audit_is_clean(&plain);
    let unrounded = read_json(plain.join("results.json"));
    let mut changed = 0;
    for (name, n) in unrounded["matching"]["flow"].as_object().expect("flow") {
        if let (Some(raw), Some(shown)) = (n.as_u64(), json["matching"]["flow"][name].as_u64()) {
            if name != "risk_sets" {
                assert!(shown.abs_diff(raw) <= 2, "{name}: {raw} shown as {shown}");
                changed += usize::from(shown != raw);
            }
        }
    }
    assert!(
        changed > 0,
        "no flow count needed rounding: the test shows nothing"
    );
    let report = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(report.contains("rounded to the nearest multiple of 5"));
    assert!(!std::fs::read_to_string(plain.join("report.html"))
        .expect("report")
        .contains("rounded to the nearest multiple"));
}

#[test]
fn means_of_binary_terms_on_few_persons_are_withheld() {
    let scratch = Scratch::new("derived");
    let data = small_simulation(&scratch);
    let out = scratch.join("results");
    analyse(&data, &out, None);
    audit_is_clean(&out);
    let json = read_json(out.join("results.json"));
    let referred = json["matching"]["flow"]["referred_in_risk_sets"]
        .as_u64()
        .expect("referred in risk sets");
    let mut withheld = 0;
    for row in json["matching"]["balance"].as_array().expect("balance") {
        if row["binary"] != true {
            continue;
        }
        match &row["mean_treated_before"] {
            Value::String(marker) => {
                assert_eq!(marker, "<5");
                assert_eq!(row["smd_before"], "[s]", "{row}");
                withheld += 1;
            }
            mean => {
                let ones = (mean.as_f64().expect("mean") * referred as f64).round() as u64;
                for n in [ones, referred - ones] {
                    assert!(n == 0 || n >= 5, "{}: {n} persons", row["term"]);
                }
            }
        }
    }
    // The simulation plants terms with 1 to 4 referred persons.
    assert!(
        withheld > 0,
        "no planted small term: the test shows nothing"
    );
    let balance = std::fs::read_to_string(out.join("tables/balance.csv")).expect("balance");
    assert_eq!(
        balance
            .lines()
            .filter(|l| l.contains(",binary,<5,"))
            .count(),
        withheld
    );
}

#[test]
fn the_audit_catches_a_planted_derivable_mean() {
    let scratch = Scratch::new("derived-planted");
    let data = small_simulation(&scratch);
    let out = scratch.join("results");
    analyse(&data, &out, None);
    // Plant: a withheld mean written back as the proportion it hid (2 of the referred).
    let path = out.join("results.json");
    let mut json = read_json(&path);
    let referred = json["matching"]["flow"]["referred_in_risk_sets"]
        .as_u64()
        .expect("referred in risk sets");
    let row = json["matching"]["balance"]
        .as_array_mut()
        .expect("balance")
        .iter_mut()
        .find(|r| r["mean_treated_before"] == "<5")
        .expect("a withheld mean");
    row["mean_treated_before"] = serde_json::json!(2.0 / referred as f64);
    std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json")).expect("write");
    let audited = run(shine().arg("audit").arg(&out));
    assert_eq!(audited.code, Some(1), "{}", audited.stdout);
    assert!(
        audited.stdout.contains("gives 2 persons with the value 1"),
        "{}",
        audited.stdout
    );
}
