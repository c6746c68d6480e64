//! E-values against the closed form computed independently in Python
//! (tests/reference/evalue/evalue_reference.py) and against published figures
//! (tests/reference/evalue/published.json).

use serde_json::Value;

use super::*;
use crate::test_support::{assert_close, EXACT};

fn measure(name: &str) -> RatioMeasure {
    match name {
        "rr" => RatioMeasure::RiskRatio,
        "rate" => RatioMeasure::RateRatio,
        "or_rare" => RatioMeasure::OddsRatio {
            common_outcome: false,
        },
        "or_common" => RatioMeasure::OddsRatio {
            common_outcome: true,
        },
        "hr_rare" => RatioMeasure::HazardRatio {
            common_outcome: false,
        },
        "hr_common" => RatioMeasure::HazardRatio {
            common_outcome: true,
        },
        other => panic!("measure {other}"),
    }
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key}"))
}

#[test]
fn evalues_equal_the_closed_form_computed_in_python() {
    let json: Value = serde_json::from_str(include_str!(
        "../../../tests/reference/evalue/evalue_reference.json"
    ))
    .expect("json");
    let cases = json["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 14);
    for c in cases {
        let m = measure(c["measure"].as_str().expect("measure"));
        let e = evalue(f(c, "estimate"), f(c, "conf_low"), f(c, "conf_high"), m).expect("evalue");
        let what = format!("{c}");
        assert_close(
            &format!("RR of {what}"),
            e.risk_ratio,
            f(c, "risk_ratio"),
            EXACT,
        );
        assert_close(
            &format!("E of {what}"),
            e.estimate,
            f(c, "evalue_estimate"),
            EXACT,
        );
        assert_close(
            &format!("E(CI) of {what}"),
            e.ci_limit,
            f(c, "evalue_ci"),
            EXACT,
        );
    }
}

#[test]
fn evalues_reproduce_the_published_examples() {
    let json: Value = serde_json::from_str(include_str!(
        "../../../tests/reference/evalue/published.json"
    ))
    .expect("json");
    for c in json["examples"].as_array().expect("examples") {
        let e = evalue(
            f(c, "estimate"),
            f(c, "conf_low"),
            f(c, "conf_high"),
            RatioMeasure::RiskRatio,
        )
        .expect("evalue");
        let unit = f(c, "unit");
        for (ours, printed) in [
            (e.estimate, f(c, "evalue_estimate")),
            (e.ci_limit, f(c, "evalue_ci")),
        ] {
            assert!(
                (ours - printed).abs() < unit,
                "{}: {ours} vs printed {printed}",
                c["source"]
            );
        }
    }
}

#[test]
fn protective_and_harmful_ratios_of_the_same_size_share_an_evalue() {
    assert_close(
        "symmetry",
        evalue_of_risk_ratio(0.8),
        evalue_of_risk_ratio(1.25),
        EXACT,
    );
    assert_eq!(evalue_of_risk_ratio(1.0), 1.0);
    let e = evalue(1.1, 0.9, 1.3, RatioMeasure::RateRatio).expect("evalue");
    assert_eq!(e.ci_limit, 1.0, "an interval across 1 has E-value 1");
}

#[test]
fn bad_ratios_are_refused() {
    assert_eq!(
        evalue(0.0, 0.0, 1.0, RatioMeasure::RiskRatio),
        Err(EValueError::NotARatio {
            what: "estimate",
            value: 0.0
        })
    );
    assert!(matches!(
        evalue(2.0, 2.5, 3.0, RatioMeasure::RateRatio),
        Err(EValueError::LimitsOutOfOrder { .. })
    ));
    assert!(matches!(
        evalue(f64::NAN, 1.0, 2.0, RatioMeasure::RateRatio),
        Err(EValueError::NotARatio { .. })
    ));
}
