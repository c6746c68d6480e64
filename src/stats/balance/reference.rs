//! Reference data shared by the balance and matching tests: MatchIt 4.5.1 runs on
//! lalonde and nhefs, exported by tests/reference/matching/matching.R (R 4.2.2,
//! MatchIt 4.5.1; see MATCHIT_NOTES.md there).

use serde_json::Value;
use std::collections::HashMap;

/// Balance statistics agree with MatchIt's summary to this relative tolerance (the
/// formulas are the same; only summation order and R's long-double accumulation differ).
pub(crate) const MATCHIT_REL_TOL: f64 = 1e-9;
/// Absolute floor for balance statistics that are zero up to rounding.
pub(crate) const ROUNDING_FLOOR: f64 = 1e-13;

macro_rules! runs {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../tests/reference/matching/", $name, ".json")))),*]
    };
}

/// Every stored `matchit()` run: MatchIt 4.5.1 as is (`<run>`) and the
/// defect-free algorithm (`<run>_intended`).
pub(crate) const RUNS: &[(&str, &str)] = runs![
    "lalonde_r1_cal0.2_norepl",
    "lalonde_r1_cal0.2_norepl_intended",
    "lalonde_r1_cal0.2_repl",
    "lalonde_r1_cal0.2_repl_intended",
    "lalonde_r1_nocal_norepl",
    "lalonde_r1_nocal_norepl_intended",
    "lalonde_r1_nocal_norepl_data",
    "lalonde_r1_nocal_norepl_data_intended",
    "lalonde_r1_nocal_norepl_smallest",
    "lalonde_r1_nocal_norepl_smallest_intended",
    "lalonde_r1_nocal_repl",
    "lalonde_r1_nocal_repl_intended",
    "lalonde_r3_cal0.2_norepl",
    "lalonde_r3_cal0.2_norepl_intended",
    "lalonde_r3_cal0.2_norepl_data",
    "lalonde_r3_cal0.2_norepl_data_intended",
    "lalonde_r3_cal0.2_norepl_smallest",
    "lalonde_r3_cal0.2_norepl_smallest_intended",
    "lalonde_r3_cal0.2_repl",
    "lalonde_r3_cal0.2_repl_intended",
    "lalonde_r3_nocal_norepl",
    "lalonde_r3_nocal_norepl_intended",
    "lalonde_r3_nocal_repl",
    "lalonde_r3_nocal_repl_intended",
    "nhefs_r1_cal0.2_norepl",
    "nhefs_r1_cal0.2_norepl_intended",
    "nhefs_r1_cal0.2_repl",
    "nhefs_r1_cal0.2_repl_intended",
    "nhefs_r1_nocal_norepl",
    "nhefs_r1_nocal_norepl_intended",
    "nhefs_r1_nocal_norepl_data",
    "nhefs_r1_nocal_norepl_data_intended",
    "nhefs_r1_nocal_norepl_smallest",
    "nhefs_r1_nocal_norepl_smallest_intended",
    "nhefs_r1_nocal_repl",
    "nhefs_r1_nocal_repl_intended",
    "nhefs_r3_cal0.2_norepl",
    "nhefs_r3_cal0.2_norepl_intended",
    "nhefs_r3_cal0.2_norepl_data",
    "nhefs_r3_cal0.2_norepl_data_intended",
    "nhefs_r3_cal0.2_norepl_smallest",
    "nhefs_r3_cal0.2_norepl_smallest_intended",
    "nhefs_r3_cal0.2_repl",
    "nhefs_r3_cal0.2_repl_intended",
    "nhefs_r3_nocal_norepl",
    "nhefs_r3_nocal_norepl_intended",
    "nhefs_r3_nocal_repl",
    "nhefs_r3_nocal_repl_intended",
];

/// Every stored MatchIt 4.7.2 run (`tests/reference/matching/matching_4.7.2.R`),
/// named `matchit_4.7.2/<run>`: the current reference. 4.7.2's routine has neither
/// defect of 4.5.1, so there are no `_intended` companions.
pub(crate) const RUNS_472: &[(&str, &str)] = runs![
    "matchit_4.7.2/lalonde_r1_cal0.2_norepl",
    "matchit_4.7.2/lalonde_r1_cal0.2_norepl_closest",
    "matchit_4.7.2/lalonde_r1_cal0.2_norepl_farthest",
    "matchit_4.7.2/lalonde_r1_cal0.2_repl",
    "matchit_4.7.2/lalonde_r1_nocal_norepl",
    "matchit_4.7.2/lalonde_r1_nocal_norepl_closest",
    "matchit_4.7.2/lalonde_r1_nocal_norepl_data",
    "matchit_4.7.2/lalonde_r1_nocal_norepl_farthest",
    "matchit_4.7.2/lalonde_r1_nocal_norepl_smallest",
    "matchit_4.7.2/lalonde_r1_nocal_repl",
    "matchit_4.7.2/lalonde_r3_cal0.2_norepl",
    "matchit_4.7.2/lalonde_r3_cal0.2_norepl_closest",
    "matchit_4.7.2/lalonde_r3_cal0.2_norepl_data",
    "matchit_4.7.2/lalonde_r3_cal0.2_norepl_farthest",
    "matchit_4.7.2/lalonde_r3_cal0.2_norepl_smallest",
    "matchit_4.7.2/lalonde_r3_cal0.2_repl",
    "matchit_4.7.2/lalonde_r3_nocal_norepl",
    "matchit_4.7.2/lalonde_r3_nocal_norepl_closest",
    "matchit_4.7.2/lalonde_r3_nocal_norepl_farthest",
    "matchit_4.7.2/lalonde_r3_nocal_repl",
    "matchit_4.7.2/lalonde_ties_r1_nocal_norepl",
    "matchit_4.7.2/lalonde_ties_r1_nocal_norepl_closest",
    "matchit_4.7.2/lalonde_ties_r1_nocal_norepl_data",
    "matchit_4.7.2/lalonde_ties_r1_nocal_repl",
    "matchit_4.7.2/lalonde_ties_r3_cal0.2_norepl",
    "matchit_4.7.2/lalonde_ties_r3_nocal_norepl_farthest",
    "matchit_4.7.2/lalonde_ties_r3_nocal_repl",
    "matchit_4.7.2/nhefs_r1_cal0.2_norepl",
    "matchit_4.7.2/nhefs_r1_cal0.2_norepl_closest",
    "matchit_4.7.2/nhefs_r1_cal0.2_norepl_farthest",
    "matchit_4.7.2/nhefs_r1_cal0.2_repl",
    "matchit_4.7.2/nhefs_r1_nocal_norepl",
    "matchit_4.7.2/nhefs_r1_nocal_norepl_closest",
    "matchit_4.7.2/nhefs_r1_nocal_norepl_data",
    "matchit_4.7.2/nhefs_r1_nocal_norepl_farthest",
    "matchit_4.7.2/nhefs_r1_nocal_norepl_smallest",
    "matchit_4.7.2/nhefs_r1_nocal_repl",
    "matchit_4.7.2/nhefs_r3_cal0.2_norepl",
    "matchit_4.7.2/nhefs_r3_cal0.2_norepl_closest",
    "matchit_4.7.2/nhefs_r3_cal0.2_norepl_data",
    "matchit_4.7.2/nhefs_r3_cal0.2_norepl_farthest",
    "matchit_4.7.2/nhefs_r3_cal0.2_norepl_smallest",
    "matchit_4.7.2/nhefs_r3_cal0.2_repl",
    "matchit_4.7.2/nhefs_r3_nocal_norepl",
    "matchit_4.7.2/nhefs_r3_nocal_norepl_closest",
    "matchit_4.7.2/nhefs_r3_nocal_norepl_farthest",
    "matchit_4.7.2/nhefs_r3_nocal_repl",
    "matchit_4.7.2/nhefs_ties_r1_nocal_norepl",
    "matchit_4.7.2/nhefs_ties_r1_nocal_norepl_closest",
    "matchit_4.7.2/nhefs_ties_r1_nocal_norepl_data",
    "matchit_4.7.2/nhefs_ties_r1_nocal_repl",
    "matchit_4.7.2/nhefs_ties_r3_cal0.2_norepl",
    "matchit_4.7.2/nhefs_ties_r3_nocal_norepl_farthest",
    "matchit_4.7.2/nhefs_ties_r3_nocal_repl",
];

const LALONDE_CSV: &str = include_str!("../../../tests/reference/matching/lalonde.csv");
const NHEFS_CSV: &str = include_str!("../../../tests/reference/matching/nhefs.csv");

/// One reference run with the data it was computed from.
pub(crate) struct Case {
    pub json: Value,
    /// Unit ids in data order.
    pub ids: Vec<String>,
    pub treated: Vec<bool>,
    /// Linear-logit propensity score per unit (MatchIt's `distance`).
    pub distance: Vec<f64>,
    /// R's matching weights.
    pub weights: Vec<f64>,
    /// The rows of MatchIt's balance table: `distance`, then the covariates, factors
    /// as one 0/1 column per level.
    pub columns: Vec<(String, Vec<f64>)>,
    /// R's match matrix: (treated row, control rows in round order, NA dropped),
    /// one entry per treated unit in data order.
    pub match_matrix: Vec<(usize, Vec<usize>)>,
    /// Option values of the run.
    pub ratio: usize,
    pub caliper: Option<f64>,
    pub replace: bool,
    pub order: String,
}

pub(crate) fn text(name: &str) -> &'static str {
    RUNS.iter()
        .chain(RUNS_472)
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no reference run {name}"))
}

pub(crate) fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::Number(x) => x.as_f64(),
        other => panic!("not a number: {other}"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| num(x).expect("non-null"))
        .collect()
}

pub(crate) fn load(name: &str) -> Case {
    let json: Value = serde_json::from_str(text(name)).expect("valid JSON");
    let csv = match json["data_file"].as_str().expect("data_file") {
        "lalonde.csv" => LALONDE_CSV,
        "nhefs.csv" => NHEFS_CSV,
        other => panic!("unknown data file {other}"),
    };
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let rows: Vec<Vec<&str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    let column = |name: &str| -> Vec<&str> {
        let j = header.iter().position(|h| *h == name).expect("column");
        rows.iter().map(|r| r[j]).collect()
    };
    let ids: Vec<String> = column("id").into_iter().map(String::from).collect();
    let units = &json["units"];
    let json_ids: Vec<String> = units["id"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids, json_ids, "{name}: CSV and JSON ids differ");
    let treated: Vec<bool> = nums(&units["treat"]).iter().map(|&t| t == 1.0).collect();
    let distance = nums(&units["distance"]);
    let weights = nums(&units["weights"]);

    let formula = json["formula"].as_str().expect("formula");
    let (lhs, rhs) = formula.split_once('~').expect("formula with ~");
    let treat_name = lhs.trim();
    let treat_csv: Vec<bool> = column(treat_name).iter().map(|t| *t == "1").collect();
    assert_eq!(treat_csv, treated, "{name}: treatment column");
    let mut columns = vec![("distance".to_string(), distance.clone())];
    for term in rhs.split('+').map(str::trim) {
        let values = column(term);
        match json["factor_levels"][term].as_array() {
            Some(levels) => {
                for level in levels.iter().map(|l| l.as_str().expect("level")) {
                    let x = values
                        .iter()
                        .map(|v| f64::from(u8::from(*v == level)))
                        .collect();
                    columns.push((format!("{term}{level}"), x));
                }
            }
            None => {
                let x = values
                    .iter()
                    .map(|v| v.parse::<f64>().expect("number"))
                    .collect();
                columns.push((term.to_string(), x));
            }
        }
    }

    let row_of: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mm = &json["match_matrix"];
    let match_matrix = mm["treated_id"]
        .as_array()
        .expect("treated_id")
        .iter()
        .zip(mm["control_ids"].as_array().expect("control_ids"))
        .map(|(t, cs)| {
            let t = row_of[t.as_str().expect("id")];
            let cs = cs
                .as_array()
                .expect("row")
                .iter()
                .filter_map(|c| c.as_str().map(|c| row_of[c]))
                .collect();
            (t, cs)
        })
        .collect();
    let options = &json["options"];
    Case {
        ids,
        treated,
        distance,
        weights,
        columns,
        match_matrix,
        ratio: options["ratio"].as_u64().expect("ratio") as usize,
        caliper: num(&options["caliper"]),
        replace: options["replace"].as_bool().expect("replace"),
        order: options["m_order_effective"]
            .as_str()
            .expect("order")
            .to_string(),
        json,
    }
}
