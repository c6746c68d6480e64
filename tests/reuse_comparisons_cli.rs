//! Risk-set matching with and without reusing comparison persons in later risk sets
//! (`[matching] reuse_comparisons`), on a small simulated pool where the comparison
//! persons are fewer than the places to fill.

mod common;

use std::process::Command;

use common::{read_json, run_ok, Scratch, SHINE};

/// `analyse` of one small simulation with 1:10 matching and `reuse_comparisons` set;
/// returns the matching flow of results.json.
fn flow(reuse: bool) -> serde_json::Value {
    let root = Scratch::new(if reuse { "reuse-on" } else { "reuse-off" });
    let extracts = root.join("extracts");
    let out = root.join("out");
    run_ok(
        Command::new(SHINE)
            .args([
                "simulate",
                "--quiet",
                "--referred",
                "100",
                "--pool",
                "1200",
                "--seed",
                "3",
                "--out",
            ])
            .arg(&extracts),
    );
    let plan = root.join("plan.toml");
    std::fs::write(
        &plan,
        format!("sensitivity = []\n[matching]\nratio = 10\nreuse_comparisons = {reuse}\n"),
    )
    .expect("plan");
    run_ok(
        Command::new(SHINE)
            .args(["analyse", "--quiet", "--plan"])
            .arg(&plan)
            .arg("--out")
            .arg(&out)
            .arg(&extracts),
    );
    let results = read_json(out.join("results.json"));
    assert_eq!(
        results["matching"]["options"]["reuse_comparisons"].as_bool(),
        Some(reuse)
    );
    results["matching"]["flow"].clone()
}

fn count(flow: &serde_json::Value, key: &str) -> u64 {
    flow[key].as_u64().unwrap_or_else(|| panic!("flow: {key}"))
}

#[test]
fn without_reuse_each_comparison_person_is_matched_once_at_most() {
    let flow = flow(false);
    // Every matched comparison is a different person of the pool, so the pool runs out.
    assert!(count(&flow, "comparison_matched") <= count(&flow, "comparison_persons"));
    assert!(count(&flow, "referred_with_fewer_than_ratio") > 0);
}

#[test]
fn with_reuse_a_comparison_person_can_be_matched_in_several_risk_sets() {
    let flow = flow(true);
    // More matched comparisons than persons in the pool: some are in several sets.
    assert!(count(&flow, "comparison_matched") > count(&flow, "comparison_persons"));
}
