//! The dose-response against R 4.2 (`summary(lm(change ~ score))` and t intervals per
//! level; tests/reference/participation/dose_response.R, which also wrote the data).

use serde_json::Value;

use super::{dose_response, DoseResponseError};
use crate::test_support::{assert_close, CONVERGED};

const SCORES: [f64; 5] = [4.0, 3.0, 2.0, 1.0, 0.0];

fn data(name: &str) -> (Vec<usize>, Vec<f64>) {
    let text = match name {
        "dose_response_trend.csv" => {
            include_str!("../../../tests/reference/participation/dose_response_trend.csv")
        }
        "dose_response_null.csv" => {
            include_str!("../../../tests/reference/participation/dose_response_null.csv")
        }
        other => panic!("{other}"),
    };
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let (mut levels, mut changes) = (Vec::new(), Vec::new());
    for rec in reader.records() {
        let rec = rec.expect("record");
        levels.push(rec[0].parse::<usize>().expect("level"));
        changes.push(rec[1].parse::<f64>().expect("change"));
    }
    (levels, changes)
}

#[test]
fn trend_test_and_level_means_equal_r_lm() {
    let json: Value = serde_json::from_str(include_str!(
        "../../../tests/reference/participation/dose_response_reference.json"
    ))
    .expect("reference");
    let cases = json["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 2);
    for case in cases {
        let (levels, changes) = data(case["data_file"].as_str().expect("file"));
        let d = dose_response(&levels, &SCORES, &changes).expect("fit");
        let name = case["name"].as_str().expect("name");
        let f = |k: &str| case[k].as_f64().expect(k);
        assert_eq!(d.n as f64, f("n"));
        let t = &d.trend;
        for (what, ours, theirs) in [
            ("slope", t.estimate, f("slope")),
            ("std_error", t.std_error, f("std_error")),
            ("statistic", t.statistic, f("statistic")),
            ("p_value", t.p_value, f("p_value")),
            ("conf_low", t.conf_low, f("conf_low")),
            ("conf_high", t.conf_high, f("conf_high")),
            ("df", t.df.expect("df"), f("df")),
        ] {
            assert_close(&format!("{name}: {what}"), ours, theirs, CONVERGED);
        }
        let reference = case["levels"].as_array().expect("levels");
        assert_eq!(d.levels.len(), reference.len());
        for (ours, theirs) in d.levels.iter().zip(reference) {
            assert_eq!(ours.level as u64, theirs["level"].as_u64().expect("level"));
            assert_eq!(ours.n as u64, theirs["n"].as_u64().expect("n"));
            for (what, a, b) in [
                ("mean", ours.mean, &theirs["mean"]),
                ("conf_low", ours.conf_low, &theirs["conf_low"]),
                ("conf_high", ours.conf_high, &theirs["conf_high"]),
            ] {
                assert_close(
                    &format!("{name}, level {}: {what}", ours.level),
                    a,
                    b.as_f64().expect(what),
                    CONVERGED,
                );
            }
        }
    }
}

#[test]
fn adding_a_constant_to_the_changes_leaves_the_trend_unchanged() {
    let (levels, changes) = data("dose_response_trend.csv");
    let shifted: Vec<f64> = changes.iter().map(|c| c + 10.0).collect();
    let a = dose_response(&levels, &SCORES, &changes).expect("fit");
    let b = dose_response(&levels, &SCORES, &shifted).expect("fit");
    assert_close("slope", b.trend.estimate, a.trend.estimate, 1e-9);
    assert_close("std_error", b.trend.std_error, a.trend.std_error, 1e-9);
}

#[test]
fn too_few_persons_or_one_level_only_is_an_error() {
    assert_eq!(
        dose_response(&[0, 0, 0, 0], &SCORES, &[1.0, 2.0, 3.0, 4.0]),
        Err(DoseResponseError::TooFew)
    );
    assert_eq!(
        dose_response(&[0, 1], &SCORES, &[1.0, 2.0]),
        Err(DoseResponseError::TooFew)
    );
    assert!(matches!(
        dose_response(&[7], &SCORES, &[1.0]),
        Err(DoseResponseError::UnknownLevel { level: 7, .. })
    ));
}
