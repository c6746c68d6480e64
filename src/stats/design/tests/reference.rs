//! Model matrices, random-effect designs and fixed-effect codes against R 4.2.2's
//! `model.matrix()` and lme4 1.1-31 (the script and its output are in
//! `tests/reference/design/`).

use nalgebra::DMatrix;
use serde_json::Value as Json;

use super::*;
use crate::test_support::EXACT;

const REFERENCE: &str = include_str!("../../../../tests/reference/design/model_matrix.json");

fn load() -> Json {
    serde_json::from_str(REFERENCE).unwrap_or_else(|e| panic!("reference JSON: {e}"))
}

fn data_set(j: &Json) -> DataSet {
    let mut data = DataSet::new();
    for col in j["data"].as_array().into_iter().flatten() {
        let name = col["name"].as_str().unwrap_or_default();
        let values = col["values"].as_array().cloned().unwrap_or_default();
        let c = match col["type"].as_str() {
            Some("numeric") => ColumnData::Numeric(
                values
                    .iter()
                    .map(|v| v.as_f64().unwrap_or(f64::NAN))
                    .collect(),
            ),
            Some("logical") => ColumnData::Logical(values.iter().map(Json::as_bool).collect()),
            Some("string") => {
                let v: Vec<Option<&str>> = values.iter().map(Json::as_str).collect();
                ColumnData::from_strings(&v)
            }
            Some("factor") => {
                let levels: Vec<String> = col["levels"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.as_str().map(str::to_string))
                    .collect();
                let codes = values
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .and_then(|s| levels.iter().position(|l| l == s))
                            .map(|i| i as u32)
                    })
                    .collect();
                ColumnData::Categorical { codes, levels }
            }
            other => panic!("column type {other:?}"),
        };
        data.push(name, c).unwrap_or_else(|e| panic!("{e}"));
    }
    data
}

fn strs(j: &Json) -> Vec<String> {
    j.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn usizes(j: &Json) -> Vec<usize> {
    j.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_u64().map(|u| u as usize))
        .collect()
}

/// R's JSON keeps 15 significant digits, so the values agree to round-off ([`EXACT`]),
/// relative to the larger of R's value and 1. This is stricter near 0 than
/// [`crate::test_support::assert_close`] (whose absolute floor is 1e-10), and the
/// dummies and small values of a model matrix are compared at that strictness.
fn assert_close(what: &str, got: f64, want: f64) {
    let scale = want.abs().max(1.0);
    assert!(
        (got - want).abs() <= EXACT * scale,
        "{what}: got {got}, R has {want}"
    );
}

fn assert_matrix(what: &str, got: &DMatrix<f64>, want: &Json) {
    let rows = want.as_array().cloned().unwrap_or_default();
    assert_eq!(got.nrows(), rows.len(), "{what}: rows");
    for (i, row) in rows.iter().enumerate() {
        let row = row.as_array().cloned().unwrap_or_default();
        assert_eq!(got.ncols(), row.len(), "{what}: columns");
        for (k, v) in row.iter().enumerate() {
            assert_close(
                &format!("{what} [{i},{k}]"),
                got[(i, k)],
                v.as_f64().unwrap_or(f64::NAN),
            );
        }
    }
}

#[test]
fn model_matrices_match_r() {
    let j = load();
    let data = data_set(&j);
    let cases = j["cases"].as_array().cloned().unwrap_or_default();
    assert!(cases.len() >= 20);
    for case in &cases {
        let text = case["formula"].as_str().unwrap_or_default();
        let options = DesignOptions {
            unused_levels: if case["mode"] == "keep" {
                UnusedLevels::Keep
            } else {
                UnusedLevels::Drop
            },
        };
        let d = model_matrix_with(&formula(text), &data, &options)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            d.column_names,
            strs(&case["column_names"]),
            "{text}: column names"
        );
        assert_eq!(d.assign, usizes(&case["assign"]), "{text}: assign");
        assert_eq!(
            d.term_labels,
            strs(&case["term_labels"]),
            "{text}: term labels"
        );
        assert_eq!(d.rows, usizes(&case["rows"]), "{text}: rows");
        assert_eq!(d.dropped_rows, data.n_rows() - d.rows.len());
        let y = d.response.unwrap_or_else(|| panic!("{text}: no response"));
        for (i, want) in case["response"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            assert_close(
                &format!("{text}: y[{i}]"),
                y[i],
                want.as_f64().unwrap_or(f64::NAN),
            );
        }
        assert_matrix(text, &d.x, &case["x"]);
    }
}

#[test]
fn random_effect_design_matches_lme4() {
    let j = load();
    let data = data_set(&j);
    let re = &j["random"];
    let f = formula(re["formula"].as_str().unwrap_or_default());
    let d = model_matrix(&f, &data).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.rows, usizes(&re["rows"]));
    let blocks = random_effect_design(&f, &data, &d.rows).unwrap_or_else(|e| panic!("{e}"));
    let want = re["terms"].as_array().cloned().unwrap_or_default();
    assert_eq!(blocks.len(), want.len());
    for (b, w) in blocks.iter().zip(&want) {
        assert_eq!(b.term, w["term"].as_str().unwrap_or_default());
        assert_eq!(b.group_name, w["group_name"].as_str().unwrap_or_default());
        assert_eq!(b.group_levels, strs(&w["group_levels"]), "{}", b.term);
        let codes: Vec<usize> = b.group_codes.iter().map(|&c| c as usize).collect();
        assert_eq!(codes, usizes(&w["group_codes"]), "{}", b.term);
        assert_eq!(b.column_names, strs(&w["column_names"]), "{}", b.term);
        assert_matrix(&b.term, &b.z, &w["z"]);
    }
}

#[test]
fn fixed_effect_codes_match_r_factors() {
    let j = load();
    let data = data_set(&j);
    let fe = &j["fixed_effects"];
    let f = formula(fe["formula"].as_str().unwrap_or_default());
    let d = model_matrix(&f, &data).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.rows, usizes(&fe["rows"]));
    let got = fixed_effect_codes(&f, &data, &d.rows).unwrap_or_else(|e| panic!("{e}"));
    let want = fe["effects"].as_array().cloned().unwrap_or_default();
    assert_eq!(got.len(), want.len());
    for ((name, codes), w) in got.iter().zip(&want) {
        assert_eq!(name, w["name"].as_str().unwrap_or_default());
        let codes: Vec<usize> = codes.iter().map(|&c| c as usize).collect();
        assert_eq!(codes, usizes(&w["codes"]), "{name}");
    }
}
