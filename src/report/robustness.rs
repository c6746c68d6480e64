//! The robustness tables: each outcome's rate ratio beside the negative binomial model's
//! and the placebo index date's, with the E-values of the rate ratio; and the
//! negative-control outcomes.

use super::did::label;
use super::table::{Cell, ResultTable};
use crate::results::did::DidCoefficient;
use crate::results::outcomes::{NegativeBinomial, NegativeControl, OutcomeDid, Placebo};

/// `RR (low to high)` with 3 decimals.
fn interval(rr: f64, low: f64, high: f64) -> String {
    format!("{rr:.3} ({low:.3} to {high:.3})")
}

/// A Poisson coefficient's rate ratio with its interval.
fn rate_ratio_cell(r: &DidCoefficient) -> Cell {
    match (r.rate_ratio, r.rate_ratio_conf_low, r.rate_ratio_conf_high) {
        (Some(rr), Some(low), Some(high)) => Cell::text(interval(rr, low, high)),
        _ => Cell::Missing,
    }
}

/// One row per outcome: the Poisson rate ratio, the negative binomial one with θ, the
/// placebo index date's, and the E-values of the Poisson estimate and of its interval
/// limit closer to 1.
pub fn robustness_table(did: &[OutcomeDid]) -> ResultTable {
    let mut t = ResultTable::new(
        "robustness",
        "Robustness of the rate ratios: negative binomial model, placebo index date and E-values",
        &[
            "outcome",
            "poisson_rate_ratio",
            "negative_binomial_rate_ratio",
            "theta",
            "placebo_rate_ratio",
            "e_value",
            "e_value_ci",
        ],
    );
    for o in did {
        let (negbin, theta) = match &o.negative_binomial {
            Some(NegativeBinomial::Fitted(nb)) => (
                Cell::text(interval(nb.rate_ratio, nb.conf_low, nb.conf_high)),
                Cell::number(nb.theta, 3),
            ),
            Some(NegativeBinomial::NotFitted { .. }) => (Cell::text("not fitted"), Cell::Missing),
            None => (Cell::Missing, Cell::Missing),
        };
        let placebo = match &o.placebo {
            Some(Placebo::Fitted { rate_ratio, .. }) => rate_ratio_cell(rate_ratio),
            Some(Placebo::NotFitted { .. }) => Cell::text("not fitted"),
            None => Cell::Missing,
        };
        t.push(vec![
            Cell::text(label(&o.outcome)),
            rate_ratio_cell(&o.rate_ratio),
            negbin,
            theta,
            placebo,
            Cell::maybe(o.e_value.map(|e| e.estimate), 2),
            Cell::maybe(o.e_value.map(|e| e.ci_limit), 2),
        ]);
    }
    t.notes.push(
        "Negative binomial (NB2): each person's contacts before and after the index date, count ~ referred × post with log exposure as offset, weighted by the matching weights, model-based standard errors (MASS::glm.nb); θ is its shape (Var = μ + μ²/θ), small θ meaning strong overdispersion."
            .into(),
    );
    if let Some(periods) = did.iter().find_map(|o| match &o.placebo {
        Some(Placebo::Fitted { periods, .. }) => Some(*periods),
        _ => None,
    }) {
        t.notes.push(format!(
            "Placebo index date: every referred person's and comparison person's index date moved back {periods} periods, the DiD fitted as the main one on the periods before the real index date only (the last {periods} of them as the placebo 'after' window). With no change before referral, the rate ratio is 1; a rate ratio away from 1 points to diverging trends or anticipation."
        ));
    }
    t.notes.push(
        "E-value (VanderWeele & Ding 2017): the minimum strength of association, on the risk-ratio scale, that an unmeasured confounder would need with both referral and the outcome to explain away the Poisson rate ratio (e_value) or to move its confidence interval to include 1 (e_value_ci; 1 when it already does). The rate ratio is read as a risk ratio, the convention for rate ratios; this is most nearly exact for outcomes that are rare per person."
            .into(),
    );
    for o in did {
        if let Some(NegativeBinomial::NotFitted { not_fitted }) = &o.negative_binomial {
            t.notes.push(format!(
                "{}: the negative binomial model was not fitted: {not_fitted}",
                label(&o.outcome)
            ));
        }
        if let Some(Placebo::NotFitted { not_fitted }) = &o.placebo {
            t.notes.push(format!(
                "{}: the placebo analysis was not fitted: {not_fitted}",
                label(&o.outcome)
            ));
        }
    }
    t
}

/// Whether a rate ratio's interval holds 1.
fn covers_one(r: &DidCoefficient) -> Option<bool> {
    Some(r.rate_ratio_conf_low? <= 1.0 && 1.0 <= r.rate_ratio_conf_high?)
}

/// One row per negative-control outcome: its DiD rate ratio, analysed exactly as the
/// outcome groups, and whether its interval holds 1.
pub fn negative_control_table(controls: &[NegativeControl]) -> ResultTable {
    let mut t = ResultTable::new(
        "negative_controls",
        "Negative-control outcomes: rate ratios that should be near 1",
        &["outcome", "rate_ratio", "p_value", "near_1"],
    );
    for control in controls {
        let o = match control {
            NegativeControl::Fitted(o) => o,
            NegativeControl::NotFitted {
                outcome,
                not_fitted,
            } => {
                t.push(vec![
                    Cell::text(label(outcome)),
                    Cell::text("not fitted"),
                    Cell::Missing,
                    Cell::Missing,
                ]);
                t.notes
                    .push(format!("{}: not fitted: {not_fitted}", label(outcome)));
                continue;
            }
        };
        t.push(vec![
            Cell::text(label(&o.outcome)),
            rate_ratio_cell(&o.rate_ratio),
            Cell::estimate(o.rate_ratio.coefficient.p_value, 4),
            match covers_one(&o.rate_ratio) {
                Some(true) => Cell::text("yes: the interval includes 1"),
                Some(false) => Cell::text("no: the interval excludes 1"),
                None => Cell::Missing,
            },
        ]);
    }
    t.notes.push(
        "Negative-control outcomes (Lipsitch, Tchetgen Tchetgen & Cohen 2010): contacts the programme cannot plausibly change, analysed exactly as the outcome groups (Poisson DiD with member and period fixed effects, matching weights, clustered standard errors). A rate ratio away from 1 points to confounding or diverging trends that also bias the outcomes of interest."
            .into(),
    );
    t
}
