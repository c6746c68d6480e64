//! Tables and figures of a propensity-score matching.

use crate::pipeline::propensity::{MatchAnalysis, PsTerm};
use crate::stats::balance::BalanceRow;

use super::figures::{self, Figure, FigureError, LovePoint, ScoreSample};
use super::table::{Cell, ResultTable};

/// The propensity model, in broom's columns.
pub fn ps_model_table(terms: &[PsTerm]) -> ResultTable {
    let mut t = ResultTable::new(
        "ps_model",
        "Propensity score model (logistic regression)",
        &["term", "estimate", "std_error", "statistic", "p_value"],
    );
    for c in terms {
        t.push(vec![
            Cell::text(&c.term),
            Cell::estimate(c.estimate, 4),
            Cell::estimate(c.std_error, 4),
            Cell::estimate(c.statistic, 3),
            Cell::estimate(c.p_value, 4),
        ]);
    }
    t.notes
        .push("Aliased (collinear) terms have no estimate, as R reports NA.".into());
    t
}

/// Balance before and after matching, as MatchIt's `summary()` computes it for the ATT.
pub fn balance_table(rows: &[BalanceRow]) -> ResultTable {
    let mut t = ResultTable::new(
        "balance",
        "Covariate balance before and after matching",
        &[
            "term",
            "type",
            "mean_treated_before",
            "mean_control_before",
            "smd_before",
            "variance_ratio_before",
            "ecdf_mean_before",
            "ecdf_max_before",
            "mean_treated_after",
            "mean_control_after",
            "smd_after",
            "variance_ratio_after",
            "ecdf_mean_after",
            "ecdf_max_after",
        ],
    );
    for r in rows {
        t.push(vec![
            Cell::text(&r.term),
            Cell::text(if r.binary { "binary" } else { "continuous" }),
            Cell::estimate(r.mean_treated_before, 4),
            Cell::estimate(r.mean_control_before, 4),
            Cell::maybe(r.smd_before, 4),
            Cell::maybe(r.variance_ratio_before, 4),
            Cell::maybe(r.ecdf_mean_before, 4),
            Cell::maybe(r.ecdf_max_before, 4),
            Cell::estimate(r.mean_treated_after, 4),
            Cell::estimate(r.mean_control_after, 4),
            Cell::maybe(r.smd_after, 4),
            Cell::maybe(r.variance_ratio_after, 4),
            Cell::maybe(r.ecdf_mean_after, 4),
            Cell::maybe(r.ecdf_max_after, 4),
        ]);
    }
    t.notes.push(
        "Standardised mean differences use the treated group's standard deviation before matching (MatchIt's ATT convention); binary terms are 0/1 and have no variance ratio."
            .into(),
    );
    t
}

/// Sample sizes as MatchIt's summary prints them.
pub fn counts_table(m: &MatchAnalysis) -> ResultTable {
    let mut t = ResultTable::new(
        "match_counts",
        "Sample sizes",
        &["sample", "control", "treated"],
    );
    let s = &m.sizes;
    t.push(vec![
        Cell::text("all"),
        Cell::Count(s.control.all as u64),
        Cell::Count(s.treated.all as u64),
    ]);
    t.push(vec![
        Cell::text("matched (effective sample size)"),
        Cell::number(s.control.matched_ess, 2),
        Cell::number(s.treated.matched_ess, 2),
    ]);
    t.push(vec![
        Cell::text("matched"),
        Cell::Count(s.control.matched as u64),
        Cell::Count(s.treated.matched as u64),
    ]);
    t.push(vec![
        Cell::text("unmatched"),
        Cell::Count(s.control.unmatched as u64),
        Cell::Count(s.treated.unmatched as u64),
    ]);
    t
}

/// The love plot (every balance row except the distance) and the propensity-score
/// distribution before and after, from per-row linear logits, treatment and weights.
pub fn figures(
    balance: &[BalanceRow],
    distance: &[f64],
    treated: &[bool],
    weights: &[f64],
    threshold: u64,
) -> Result<Vec<(&'static str, Figure)>, FigureError> {
    let points: Vec<LovePoint> = balance
        .iter()
        .filter(|r| r.term != "distance")
        .filter_map(|r| {
            Some(LovePoint {
                term: r.term.clone(),
                smd_before: r.smd_before?,
                smd_after: r.smd_after,
            })
        })
        .collect();
    let love = figures::love_plot(&points, 0.1)?;
    let group = |in_group: bool, weighted: bool| {
        let rows: Vec<usize> = (0..treated.len())
            .filter(|&i| treated[i] == in_group)
            .collect();
        ScoreSample {
            scores: rows.iter().map(|&i| distance[i]).collect(),
            weights: rows
                .iter()
                .map(|&i| if weighted { weights[i] } else { 1.0 })
                .collect(),
        }
    };
    let distribution = figures::propensity_distribution(
        (&group(true, false), &group(false, false)),
        (&group(true, true), &group(false, true)),
        threshold as usize,
    )?;
    Ok(vec![("love_plot", love), ("ps_distribution", distribution)])
}
