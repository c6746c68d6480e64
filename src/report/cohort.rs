//! Tables of the cohort: the extract's counts, the flow from referral to matched
//! cohort, the naive versus matched comparison of contact rates, and the matched cohort
//! itself when it is asked for.

use crate::data::read::format_date;
use crate::results::cohort::{CohortCounts, CohortFlow, MatchedPerson, RateComparison};

use super::disclosure::SumRelation;
use super::figures::{flow_diagram, Figure, FigureError, FlowBox, FlowDiagram};
use super::table::{Cell, ResultTable};

/// What the extract holds: persons, referrals, contacts and survey responses.
pub fn extract_counts_table(c: &CohortCounts) -> ResultTable {
    let mut t = ResultTable::new(
        "extract_counts",
        "Extract: persons, referrals, contacts and survey responses",
        &["quantity", "n"],
    );
    for (label, n) in [
        ("persons in the extract", c.persons),
        ("referred to the programme", c.referred),
        ("comparison pool (never referred)", c.comparison_pool),
        ("healthcare contacts", c.contacts),
        ("survey responses (person × wave)", c.survey_responses),
    ] {
        t.push(vec![Cell::text(label), Cell::Count(n)]);
    }
    t
}

/// `matched_cohort.csv`: one row per member of the matched cohort, in matched-set
/// order (person-level data, written only when asked for).
pub fn matched_cohort_csv(persons: &[MatchedPerson]) -> Result<String, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    out.write_record(["person_id", "group", "matched_set", "index_date", "weight"])?;
    for m in persons {
        out.write_record([
            m.person_id.as_str(),
            m.group.name(),
            &m.matched_set.to_string(),
            &format_date(m.index_date),
            &m.weight.to_string(),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    // Every field is valid UTF-8, so the file is too.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The rows of the flow table, in their order (the diagram and the sum relations
/// refer to rows by these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlowRow {
    Referred,
    OutsideStudyPeriod,
    NoSnapshot,
    InRiskSet,
    Matched,
    Unmatched,
    FewerThanRatio,
    RiskSets,
    EligibleComparison,
    OutsideSupport,
    ComparisonMatched,
}

impl FlowRow {
    const fn index(self) -> usize {
        self as usize
    }
}

/// The flow's rows: (row, label, count), in [`FlowRow`] order.
fn flow_rows(flow: &CohortFlow) -> [(FlowRow, &'static str, usize); 11] {
    let r = &flow.risk_sets;
    [
        (FlowRow::Referred, "referred", r.referred),
        (
            FlowRow::OutsideStudyPeriod,
            "excluded: referred outside the study period",
            r.referred_outside_study_period,
        ),
        (
            FlowRow::NoSnapshot,
            "excluded: no covariate snapshot for the year before referral",
            r.referred_without_snapshot,
        ),
        (
            FlowRow::InRiskSet,
            "referred in a monthly risk set",
            r.referred_in_risk_sets,
        ),
        (
            FlowRow::Matched,
            "referred matched to at least one comparison person",
            flow.referred_matched,
        ),
        (
            FlowRow::Unmatched,
            "referred not matched (no comparison person within the caliper)",
            flow.referred_unmatched,
        ),
        (
            FlowRow::FewerThanRatio,
            "matched with fewer comparison persons than the ratio",
            flow.referred_with_fewer_than_ratio,
        ),
        (FlowRow::RiskSets, "monthly risk sets", r.risk_sets),
        (
            FlowRow::EligibleComparison,
            "eligible comparison persons (in any risk set)",
            r.comparison_persons,
        ),
        (
            FlowRow::OutsideSupport,
            "comparison person-months outside common support (a covariate level no referred person has)",
            flow.comparison_rows_outside_support,
        ),
        (
            FlowRow::ComparisonMatched,
            "comparison matches (a person counted once per matched set)",
            flow.comparison_matched,
        ),
    ]
}

/// STROBE-style flow: referred → in a risk set → matched, and the comparison pool.
pub fn flow_table(flow: &CohortFlow, ratio: usize) -> ResultTable {
    let mut t = ResultTable::new(
        "flow",
        "From referral to the matched cohort",
        &["step", "n"],
    );
    for (i, (row, label, n)) in flow_rows(flow).into_iter().enumerate() {
        debug_assert_eq!(row.index(), i);
        t.push(vec![Cell::text(label), Cell::Count(n as u64)]);
    }
    let cell = |row: FlowRow| (row.index(), 1);
    t.sums = vec![
        SumRelation {
            total: cell(FlowRow::Referred),
            parts: vec![
                cell(FlowRow::OutsideStudyPeriod),
                cell(FlowRow::NoSnapshot),
                cell(FlowRow::InRiskSet),
            ],
        },
        SumRelation {
            total: cell(FlowRow::InRiskSet),
            parts: vec![cell(FlowRow::Matched), cell(FlowRow::Unmatched)],
        },
    ];
    t.notes.push(format!(
        "Matching 1:{ratio} within each monthly risk set; the eligible pool counts each person once though they may enter several monthly risk sets ({} person-months in all).",
        flow.risk_sets.comparison_rows
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
pub fn flow_figure(
    flow: &CohortFlow,
    ratio: usize,
    rule: impl Into<super::disclosure::Rule>,
) -> Result<Figure, FigureError> {
    let table = flow_table(flow, ratio);
    let shown = table.rendered(rule);
    let n = |row: FlowRow| shown[row.index()][1].clone();
    let b = |lines: Vec<String>| FlowBox { lines };
    let diagram = FlowDiagram {
        title: "From referral to the matched cohort".into(),
        steps: vec![
            (
                b(vec![format!(
                    "Referred to the programme: n = {}",
                    n(FlowRow::Referred)
                )]),
                Some(b(vec![
                    format!(
                        "Referred outside the study period: n = {}",
                        n(FlowRow::OutsideStudyPeriod)
                    ),
                    format!(
                        "No covariate snapshot for the year before: n = {}",
                        n(FlowRow::NoSnapshot)
                    ),
                ])),
            ),
            (
                b(vec![
                    format!("In a monthly risk set: n = {}", n(FlowRow::InRiskSet)),
                    format!("{} risk sets; eligible comparison", n(FlowRow::RiskSets)),
                    format!("persons: n = {}", n(FlowRow::EligibleComparison)),
                ]),
                Some(b(vec![
                    format!("Not matched: n = {}", n(FlowRow::Unmatched)),
                    "no comparison person within".into(),
                    "the caliper".into(),
                ])),
            ),
            (
                b(vec![
                    format!("Matched referred persons: n = {}", n(FlowRow::Matched)),
                    format!("Comparison matches: n = {}", n(FlowRow::ComparisonMatched)),
                    format!(
                        "1:{ratio} matching; fewer than {ratio}: n = {}",
                        n(FlowRow::FewerThanRatio)
                    ),
                ]),
                None,
            ),
        ],
    };
    flow_diagram(&diagram)
}

#[cfg(test)]
mod tests;
