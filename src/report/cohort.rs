//! Tables of the matched cohort: the flow from referral to matched cohort, and the
//! naive versus matched comparison of contact rates.

use crate::pipeline::risk_set::{CohortFlow, RateComparison};

use super::disclosure::SumRelation;
use super::figures::{flow_diagram, Figure, FigureError, FlowBox, FlowDiagram};
use super::table::{Cell, ResultTable};

/// STROBE-style flow: referred → in a risk set → matched, and the comparison pool.
pub fn flow_table(flow: &CohortFlow, ratio: usize) -> ResultTable {
    let mut t = ResultTable::new(
        "flow",
        "From referral to the matched cohort",
        &["step", "n"],
    );
    let r = &flow.risk_sets;
    let rows: [(&str, usize); 11] = [
        ("referred", r.referred),
        (
            "excluded: referred outside the study period",
            r.referred_outside_study_period,
        ),
        (
            "excluded: no covariate snapshot for the year before referral",
            r.referred_without_snapshot,
        ),
        ("referred in a monthly risk set", r.referred_in_risk_sets),
        (
            "referred matched to at least one comparison person",
            flow.referred_matched,
        ),
        (
            "referred not matched (no comparison person within the caliper)",
            flow.referred_unmatched,
        ),
        (
            "matched with fewer comparison persons than the ratio",
            flow.referred_with_fewer_than_ratio,
        ),
        ("monthly risk sets", r.risk_sets),
        (
            "eligible comparison persons (in any risk set)",
            r.comparison_persons,
        ),
        (
            "comparison person-months outside common support (a covariate level no referred person has)",
            flow.comparison_rows_outside_support,
        ),
        ("comparison persons matched", flow.comparison_matched),
    ];
    for (label, n) in rows {
        t.push(vec![Cell::text(label), Cell::Count(n as u64)]);
    }
    t.sums = vec![
        SumRelation {
            total: (0, 1),
            parts: vec![(1, 1), (2, 1), (3, 1)],
        },
        SumRelation {
            total: (3, 1),
            parts: vec![(4, 1), (5, 1)],
        },
    ];
    t.notes.push(format!(
        "Matching 1:{ratio} without replacement across risk sets; the eligible pool counts each person once though they may enter several monthly risk sets ({} person-months in all).",
        r.comparison_rows
    ));
    t
}

/// Contact rates before and after the index date: what a naive comparison with the
/// whole eligible pool shows, and what the matched comparison shows.
pub fn rate_table(rates: &[RateComparison]) -> ResultTable {
    let mut t = ResultTable::new(
        "naive_vs_matched",
        "Contacts per person-year: referred vs the eligible pool (naive) and vs the matched comparison",
        &[
            "outcome",
            "window",
            "referred",
            "matched comparison",
            "eligible pool",
            "ratio referred / matched",
            "ratio referred / pool (naive)",
        ],
    );
    for r in rates {
        t.push(vec![
            Cell::text(&r.outcome),
            Cell::text(r.window),
            Cell::number(r.referred.rate, 3),
            Cell::number(r.matched_comparison.rate, 3),
            Cell::number(r.eligible_pool.rate, 3),
            Cell::number(r.matched_ratio, 3),
            Cell::number(r.naive_ratio, 3),
        ]);
    }
    t.notes.push(
        "Before the index date a good match shows a ratio near 1; the naive ratio shows the confounding of referral. After the index date the crude ratios mix the effect with any remaining difference; the difference-in-differences estimates adjust for it."
            .into(),
    );
    t
}

/// The flow table's counts as a STROBE-style diagram, with the same disclosure control
/// (small counts and the counts that would reveal them are hidden).
pub fn flow_figure(flow: &CohortFlow, ratio: usize, threshold: u64) -> Result<Figure, FigureError> {
    let table = flow_table(flow, ratio);
    let shown = table.rendered(threshold);
    let n = |row: usize| shown[row][1].clone();
    let b = |lines: Vec<String>| FlowBox { lines };
    let diagram = FlowDiagram {
        title: "From referral to the matched cohort".into(),
        steps: vec![
            (
                b(vec![format!("Referred to the programme: n = {}", n(0))]),
                Some(b(vec![
                    format!("Excluded: n = {}", n(1)),
                    "no covariate snapshot for the year".into(),
                    "before referral".into(),
                ])),
            ),
            (
                b(vec![
                    format!("In a monthly risk set: n = {}", n(2)),
                    format!("{} risk sets; eligible comparison", n(6)),
                    format!("persons: n = {}", n(7)),
                ]),
                Some(b(vec![
                    format!("Not matched: n = {}", n(4)),
                    "no comparison person within".into(),
                    "the caliper".into(),
                ])),
            ),
            (
                b(vec![
                    format!("Matched referred persons: n = {}", n(3)),
                    format!("Matched comparison persons: n = {}", n(9)),
                    format!("1:{ratio} matching; fewer than {ratio}: n = {}", n(5)),
                ]),
                None,
            ),
        ],
    };
    flow_diagram(&diagram)
}
