use super::*;
use crate::data::cohort::RiskSetFlow;

fn flow() -> CohortFlow {
    CohortFlow {
        risk_sets: RiskSetFlow {
            referred: 350,
            referred_outside_study_period: 7,
            referred_without_snapshot: 12,
            referred_in_risk_sets: 331,
            risk_sets: 18,
            comparison_rows: 46_000,
            comparison_persons: 2_700,
        },
        referred_matched: 320,
        referred_unmatched: 11,
        referred_with_fewer_than_ratio: 16,
        comparison_matched: 1_580,
        comparison_rows_outside_support: 0,
    }
}

#[test]
fn every_flow_row_is_labelled_and_counted_in_order() {
    let f = flow();
    let table = flow_table(&f, 5);
    let rows = table.rendered(5);
    for (i, (row, label, n)) in flow_rows(&f).into_iter().enumerate() {
        assert_eq!(row.index(), i);
        assert_eq!(rows[i][0], label);
        assert_eq!(rows[i][1], n.to_string());
    }
}

#[test]
fn the_flow_diagram_shows_each_count_in_its_box() {
    let svg = flow_figure(&flow(), 5, 5).unwrap().svg;
    for text in [
        "Referred to the programme: n = 350",
        "Referred outside the study period: n = 7",
        "No covariate snapshot for the year before: n = 12",
        "In a monthly risk set: n = 331",
        "18 risk sets; eligible comparison",
        "persons: n = 2700",
        "Not matched: n = 11",
        "Matched referred persons: n = 320",
        "Comparison matches: n = 1580",
        "1:5 matching; fewer than 5: n = 16",
    ] {
        assert!(svg.contains(text), "{text} missing from the flow diagram");
    }
}
