//! The robustness section's forest plot and the table of the linear DiD's wild cluster
//! bootstrap: every estimate of each outcome gathered from the results (the main rate
//! ratio, each sensitivity analysis, the negative binomial model, the placebo index
//! date, the negative controls, the CR1 and bootstrap intervals of the linear DiD).

use std::rc::Rc;

use super::did::label;
use super::figures::{
    forest_plot, Figure, FigureError, ForestPanel, ForestRow, LinearIntervals, RowKind,
};
use super::table::{Cell, ResultTable};
use crate::plan::ClusterBy;
use crate::results::analysis::AnalysisRun;
use crate::results::did::DidCoefficient;
use crate::results::outcomes::{NegativeBinomial, NegativeControl, OutcomeDid, Placebo};
use crate::stats::fixest::BootstrapWeights;

/// A Poisson coefficient's rate ratio and interval as a row.
fn rate_ratio_row(label: String, kind: RowKind, c: &DidCoefficient) -> Option<ForestRow> {
    Some(ForestRow {
        label,
        kind,
        estimate: c.rate_ratio?,
        conf_low: c.rate_ratio_conf_low?,
        conf_high: c.rate_ratio_conf_high?,
        e_value: None,
    })
}

fn weights_name(w: BootstrapWeights) -> &'static str {
    match w {
        BootstrapWeights::Rademacher => "Rademacher",
        BootstrapWeights::Webb => "Webb",
        BootstrapWeights::Mammen => "Mammen",
    }
}

/// The linear DiD's intervals, when it was bootstrapped.
fn linear_intervals(o: &OutcomeDid) -> Option<LinearIntervals> {
    let info = o.linear_bootstrap.as_ref()?;
    let c = &o.linear;
    Some(LinearIntervals {
        estimate: c.coefficient.estimate,
        cr1: (c.coefficient.conf_low, c.coefficient.conf_high),
        bootstrap: (c.boot_conf_low?, c.boot_conf_high?),
        bootstrap_p_value: c.boot_p_value?,
        bootstrap_label: format!(
            "wild cluster bootstrap (WCR, {}{})",
            weights_name(info.weights),
            if info.full_enumeration {
                ", enumerated"
            } else {
                ""
            }
        ),
    })
}

/// The panels: one per outcome group of the main analysis, then the negative controls.
pub fn forest_panels(main: &AnalysisRun, sensitivity: &[AnalysisRun]) -> Vec<ForestPanel> {
    let mut panels = Vec::new();
    for o in &main.did {
        let mut rows = Vec::new();
        if let Some(mut row) = rate_ratio_row(
            "main analysis (Poisson DiD)".into(),
            RowKind::Main,
            &o.rate_ratio,
        ) {
            row.e_value = o.e_value.map(|e| (e.estimate, e.ci_limit));
            rows.push(row);
        }
        // A sensitivity analysis that changes only the survey models (same cohort, same
        // clustering) has the main analysis's rate ratios: it would repeat the first row.
        let changes_did = |run: &&AnalysisRun| {
            !Rc::ptr_eq(&run.cohort, &main.cohort) || run.settings.cluster != main.settings.cluster
        };
        for run in sensitivity.iter().filter(changes_did) {
            if let Some(s) = run.did.iter().find(|d| d.outcome == o.outcome) {
                rows.extend(rate_ratio_row(
                    run.settings.label.clone(),
                    RowKind::Sensitivity,
                    &s.rate_ratio,
                ));
            }
        }
        if let Some(NegativeBinomial::Fitted(nb)) = &o.negative_binomial {
            rows.push(ForestRow {
                label: format!("negative binomial (NB2, θ = {:.2})", nb.theta),
                kind: RowKind::NegativeBinomial,
                estimate: nb.rate_ratio,
                conf_low: nb.conf_low,
                conf_high: nb.conf_high,
                e_value: None,
            });
        }
        if let Some(Placebo::Fitted {
            periods,
            rate_ratio,
        }) = &o.placebo
        {
            rows.extend(rate_ratio_row(
                format!("placebo index date, {periods} periods back (expected 1)"),
                RowKind::ExpectedNull,
                rate_ratio,
            ));
        }
        panels.push(ForestPanel {
            title: label(&o.outcome).to_string(),
            rows,
            linear: linear_intervals(o),
        });
    }
    let controls: Vec<ForestRow> = main
        .negative_controls
        .iter()
        .filter_map(|c| match c {
            NegativeControl::Fitted(o) => rate_ratio_row(
                format!("{} (expected 1)", label(&o.outcome)),
                RowKind::ExpectedNull,
                &o.rate_ratio,
            ),
            NegativeControl::NotFitted { .. } => None,
        })
        .collect();
    if !controls.is_empty() {
        panels.push(ForestPanel {
            title: "negative-control outcomes (Poisson DiD, as the main analysis)".into(),
            rows: controls,
            linear: None,
        });
    }
    panels
}

/// The forest plot of every estimate, or `None` when there is nothing to draw.
pub fn forest_figure(
    main: &AnalysisRun,
    sensitivity: &[AnalysisRun],
) -> Result<Option<Figure>, FigureError> {
    let panels = forest_panels(main, sensitivity);
    if panels.iter().all(|p| p.rows.is_empty()) {
        return Ok(None);
    }
    forest_plot(
        "Every estimate of each outcome: rate ratios with 95% CI and E-values",
        &panels,
    )
    .map(Some)
}

/// One row per outcome (and negative control) whose linear DiD was bootstrapped: the
/// estimate, its CR1 interval and p-value, and the wild cluster bootstrap's; `None` when
/// the plan turned the bootstrap off.
pub fn linear_bootstrap_table(
    did: &[OutcomeDid],
    controls: &[NegativeControl],
    cluster: ClusterBy,
) -> Option<ResultTable> {
    let fitted_controls = controls.iter().filter_map(|c| match c {
        NegativeControl::Fitted(o) => Some(&**o),
        NegativeControl::NotFitted { .. } => None,
    });
    let rows: Vec<&OutcomeDid> = did
        .iter()
        .chain(fitted_controls)
        .filter(|o| o.linear_bootstrap.is_some())
        .collect();
    let info = rows.first()?.linear_bootstrap.clone()?;
    let mut t = ResultTable::new(
        "did_linear_bootstrap",
        "Linear difference-in-differences: cluster-robust and wild cluster bootstrap inference",
        &[
            "outcome",
            "estimate",
            "conf_low",
            "conf_high",
            "p_value",
            "boot_conf_low",
            "boot_conf_high",
            "boot_p_value",
        ],
    );
    // An infinite limit (the p-value never falls below 0.05 on that side) is written ±∞.
    let limit = |v: Option<f64>| match v {
        Some(v) if v.is_infinite() => Cell::text(if v > 0.0 { "∞" } else { "−∞" }),
        other => Cell::maybe(other, 4),
    };
    for o in rows {
        let c = &o.linear;
        t.push(vec![
            Cell::text(label(&o.outcome)),
            Cell::estimate(c.coefficient.estimate, 4),
            Cell::estimate(c.coefficient.conf_low, 4),
            Cell::estimate(c.coefficient.conf_high, 4),
            Cell::estimate(c.coefficient.p_value, 4),
            limit(c.boot_conf_low),
            limit(c.boot_conf_high),
            Cell::maybe(c.boot_p_value, 4),
        ]);
    }
    let by = match cluster {
        ClusterBy::MatchedSet => "matched set",
        ClusterBy::Person => "person",
    };
    t.notes.push(format!(
        "Least squares on the rate per 30-day period with person and period fixed effects, weighted by exposure times the matching weight. conf_low, conf_high, p_value: standard errors clustered by {by} (CR1). boot_*: restricted wild cluster bootstrap (WCR, null imposed; Roodman et al. 2019), clustered by {by} ({} clusters), {} weights, {} draws{}, seed {}; the p-value is the share of bootstrap |t| above the sample's, and the interval is every value not rejected at the 5% level (test inversion). The weighted model is bootstrapped as ordinary least squares on data multiplied by the square root of the weights (negative-control outcomes included).",
        info.clusters,
        weights_name(info.weights),
        info.draws,
        if info.full_enumeration {
            " (every sign vector: exact)"
        } else {
            ""
        },
        info.seed,
    ));
    Some(t)
}
