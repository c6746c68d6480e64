//! `shine match` against MatchIt 4.7.2, run for run: every stored reference of
//! `tests/reference/matching/matchit_4.7.2/` (made by `matching_4.7.2.R` with MatchIt
//! 4.7.2 built from source by `install_matchit_4.7.2.sh`). The matched sets must be
//! the same controls, by id, for every treated unit.
//!
//! shine runs without `--id`, so that ties in distance are broken by row order as in
//! MatchIt; row numbers are mapped to the data's ids afterwards.
//!
//! Here shine fits its own propensity model, whose linear logits agree with R's to
//! about 1e-13 but not to the last bit. Where many gaps between different pairs are
//! equal to the last bit in R's doubles (duplicate lalonde controls; the coarse tie
//! designs), the farthest order and, with replacement, the side of an exact tie can
//! follow those bits. [`BIT_SENSITIVE`] lists the runs where that changes a few sets
//! (counted with this build); with R's own distances the sets are identical in every
//! run (src/stats/matching/tests/matchit_472.rs).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{file_name, read_json, reference, rel_diff, run_json, shine, OPTIMISER};
use serde_json::Value;

/// Runs whose sets depend on the last bit of the distances, and the most treated units
/// that may be matched differently there.
const BIT_SENSITIVE: &[(&str, usize)] = &[
    ("lalonde_r1_cal0.2_norepl_farthest.json", 4),
    ("lalonde_r1_cal0.2_repl.json", 2),
    ("lalonde_r1_nocal_norepl_farthest.json", 10),
    ("lalonde_r1_nocal_repl.json", 2),
    ("lalonde_r3_cal0.2_norepl_farthest.json", 4),
    ("lalonde_r3_nocal_norepl_farthest.json", 10),
    ("nhefs_ties_r3_nocal_norepl_farthest.json", 12),
];

fn matching(file: &str) -> PathBuf {
    reference("matching").join(file)
}

/// The ids of a reference data file, in row order.
fn ids_of(data_file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(matching(data_file)).expect("read data");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let j = header.iter().position(|h| *h == "id").expect("id column");
    lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').nth(j).expect("id").to_string())
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn run_match(reference: &Value) -> Value {
    let options = &reference["options"];
    let data = matching(reference["data_file"].as_str().expect("data_file"));
    let mut cmd = shine();
    cmd.args(["match", "--json", "--data"])
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

/// Treated id → its controls' ids, sorted.
type Sets = BTreeMap<String, Vec<String>>;

fn matchit_sets(reference: &Value) -> Sets {
    let mm = &reference["match_matrix"];
    let mut sets = Sets::new();
    for (t, row) in mm["treated_id"]
        .as_array()
        .expect("treated_id")
        .iter()
        .zip(mm["control_ids"].as_array().expect("control_ids"))
    {
        let mut controls: Vec<String> = row
            .as_array()
            .expect("row")
            .iter()
            .filter(|c| !c.is_null())
            .map(text)
            .collect();
        if !controls.is_empty() {
            controls.sort();
            sets.insert(text(t), controls);
        }
    }
    sets
}

fn shine_sets(ours: &Value, ids: &[String]) -> Sets {
    let id = |v: &Value| {
        let row = v.as_u64().expect("row number without --id") as usize;
        ids[row - 1].clone()
    };
    let mut sets = Sets::new();
    for p in ours["pairs"].as_array().expect("pairs") {
        sets.entry(id(&p["treated"]))
            .or_default()
            .push(id(&p["control"]));
    }
    for controls in sets.values_mut() {
        controls.sort();
    }
    sets
}

#[test]
fn matched_sets_are_matchit_472s_on_every_reference_run() {
    let files: Vec<PathBuf> = common::json_files(matching("matchit_4.7.2"))
        .into_iter()
        .filter(|p| !file_name(p).ends_with("_glm.json"))
        .collect();
    assert_eq!(files.len(), 54, "expected 54 reference runs");
    for path in files {
        let name = file_name(&path);
        let reference = read_json(&path);
        assert_eq!(reference["versions"]["MatchIt"], "4.7.2", "{name}");
        let ids = ids_of(reference["data_file"].as_str().expect("data_file"));
        let ours = run_match(&reference);

        let want = matchit_sets(&reference);
        let got = shine_sets(&ours, &ids);
        let differing: Vec<&String> = want
            .keys()
            .chain(got.keys())
            .filter(|t| want.get(*t) != got.get(*t))
            .collect();
        if let Some(&(_, most)) = BIT_SENSITIVE.iter().find(|(n, _)| *n == name) {
            assert!(
                differing.len() <= most,
                "{name}: {} treated units matched differently",
                differing.len()
            );
            continue;
        }
        assert!(
            differing.is_empty(),
            "{name}: {} treated units matched differently, first {:?}: shine {:?}, MatchIt {:?}",
            differing.len(),
            differing[0],
            got.get(differing[0]),
            want.get(differing[0])
        );
        let sizes = &reference["sample_sizes"];
        assert_eq!(
            ours["n_treated_matched"], sizes["treated"]["matched"],
            "{name}"
        );
        assert_eq!(
            ours["n_controls_matched"], sizes["control"]["matched"],
            "{name}"
        );

        // Balance after matching, every statistic MatchIt reports for it.
        let matched = reference["balance"]["matched"].as_array().expect("balance");
        let rows = ours["balance"].as_array().expect("our balance");
        assert_eq!(rows.len(), matched.len(), "{name}: balance rows");
        for (row, after) in rows.iter().zip(matched) {
            assert_eq!(row["term"], after["term"], "{name}");
            for (ours_key, key) in [
                ("smd_after", "std_mean_diff"),
                ("ecdf_max_after", "ecdf_max"),
                ("ecdf_mean_after", "ecdf_mean"),
            ] {
                match (row[ours_key].as_f64(), after[key].as_f64()) {
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
