//! The sensitivity analyses side by side with the main analysis.

use super::disclosure::must_suppress;
use super::table::{Cell, ResultTable};
use crate::plan::ClusterBy;
use crate::results::analysis::{AnalysisRun, Estimand, KeyEstimate};
use crate::results::json::SensitivityResults;

/// A sensitivity analysis as `results.json` shows it: the matched numbers suppressed
/// under the disclosure rule.
pub fn sensitivity_results(run: &AnalysisRun, threshold: u64) -> SensitivityResults {
    let shown = |n: usize| (!must_suppress(n as u64, threshold)).then_some(n);
    SensitivityResults {
        settings: run.settings.clone(),
        referred_matched: shown(run.cohort.flow.referred_matched),
        comparison_matched: shown(run.cohort.flow.comparison_matched),
        max_abs_smd_after: run.cohort.max_abs_smd_after,
        estimates: run.key_estimates(),
    }
}

fn describe(estimand: Estimand) -> String {
    match estimand {
        Estimand::RateRatio => "rate ratio".into(),
        Estimand::Change { wave } => format!("change from baseline at {wave} months"),
        Estimand::DifferenceInChange { wave } => {
            format!("difference in change at {wave} months")
        }
    }
}

/// The main analysis and each sensitivity analysis side by side: one row per
/// estimate, one column per analysis, with the matched numbers on top.
pub fn sensitivity_table(main: &AnalysisRun, sensitivity: &[AnalysisRun]) -> ResultTable {
    let runs: Vec<&AnalysisRun> = std::iter::once(main).chain(sensitivity).collect();
    let labels: Vec<String> = runs.iter().map(|r| r.settings.label.clone()).collect();
    let mut columns: Vec<&str> = vec!["outcome", "estimate"];
    columns.extend(labels.iter().map(String::as_str));
    let mut t = ResultTable::new(
        "sensitivity",
        "Sensitivity analyses beside the main analysis: estimate (95% CI)",
        &columns,
    );
    let count_row = |label: &str, f: &dyn Fn(&AnalysisRun) -> usize| {
        let mut row = vec![Cell::text("matched cohort"), Cell::text(label)];
        row.extend(runs.iter().map(|r| Cell::Count(f(r) as u64)));
        row
    };
    t.push(count_row("referred persons matched", &|r| {
        r.cohort.flow.referred_matched
    }));
    t.push(count_row(
        "comparison matches (once per matched set)",
        &|r| r.cohort.flow.comparison_matched,
    ));
    let mut smd = vec![
        Cell::text("matched cohort"),
        Cell::text("largest |SMD| after matching"),
    ];
    smd.extend(
        runs.iter()
            .map(|r| Cell::number(r.cohort.max_abs_smd_after, 3)),
    );
    t.push(smd);
    let estimates: Vec<Vec<KeyEstimate>> = runs.iter().map(|r| r.key_estimates()).collect();
    for e in &estimates[0] {
        let decimals = if e.estimand == Estimand::RateRatio || e.outcome == "eq5d5l_index" {
            3
        } else {
            2
        };
        let mut row = vec![
            Cell::text(super::did::label(&e.outcome)),
            Cell::text(describe(e.estimand)),
        ];
        for list in &estimates {
            row.push(
                match list
                    .iter()
                    .find(|x| x.outcome == e.outcome && x.estimand == e.estimand)
                {
                    Some(x) => Cell::text(format!(
                        "{:.d$} ({:.d$} to {:.d$})",
                        x.estimate,
                        x.conf_low,
                        x.conf_high,
                        d = decimals
                    )),
                    None => Cell::Missing,
                },
            );
        }
        t.push(row);
    }
    let main_covariates = main.settings.covariates.terms();
    for r in sensitivity {
        let s = &r.settings;
        let terms = s.covariates.terms();
        let covariates = if terms == main_covariates {
            String::new()
        } else if terms.iter().all(|c| main_covariates.contains(c)) {
            let left_out: Vec<&str> = main_covariates
                .iter()
                .filter(|c| !terms.contains(c))
                .map(String::as_str)
                .collect();
            format!(
                "propensity model without {} (largest |SMD| over its covariates), ",
                left_out.join(", ")
            )
        } else {
            format!(
                "propensity model on {} (largest |SMD| over these), ",
                terms.join(" + ")
            )
        };
        t.notes.push(format!(
            "{}: {covariates}1:{} matching, caliper {}, standard errors clustered by {}, survey on {}.",
            s.label,
            s.ratio,
            s.caliper
                .map_or("none".to_string(), |c| format!("{} SD of the logit", c.width())),
            match s.cluster {
                ClusterBy::MatchedSet => "matched set",
                ClusterBy::Person => "person",
            },
            if s.complete_cases {
                "complete cases"
            } else {
                "all available responses"
            }
        ));
    }
    t
}
