//! The robustness table: each outcome's rate ratio beside the negative binomial model's,
//! with the E-values of the rate ratio.

use super::did::label;
use super::table::{Cell, ResultTable};
use crate::results::outcomes::{NegativeBinomial, OutcomeDid};

/// `RR (low to high)` with 3 decimals.
fn interval(rr: f64, low: f64, high: f64) -> String {
    format!("{rr:.3} ({low:.3} to {high:.3})")
}

/// One row per outcome: the Poisson rate ratio, the negative binomial one with θ, and
/// the E-values of the Poisson estimate and of its interval limit closer to 1.
pub fn robustness_table(did: &[OutcomeDid]) -> ResultTable {
    let mut t = ResultTable::new(
        "robustness",
        "Robustness of the rate ratios: negative binomial model and E-values",
        &[
            "outcome",
            "poisson_rate_ratio",
            "negative_binomial_rate_ratio",
            "theta",
            "e_value",
            "e_value_ci",
        ],
    );
    for o in did {
        let r = &o.rate_ratio;
        let poisson = match (r.rate_ratio, r.rate_ratio_conf_low, r.rate_ratio_conf_high) {
            (Some(rr), Some(low), Some(high)) => Cell::text(interval(rr, low, high)),
            _ => Cell::Missing,
        };
        let (negbin, theta) = match &o.negative_binomial {
            NegativeBinomial::Fitted(nb) => (
                Cell::text(interval(nb.rate_ratio, nb.conf_low, nb.conf_high)),
                Cell::number(nb.theta, 3),
            ),
            NegativeBinomial::NotFitted { .. } => (Cell::text("not fitted"), Cell::Missing),
        };
        t.push(vec![
            Cell::text(label(&o.outcome)),
            poisson,
            negbin,
            theta,
            Cell::maybe(o.e_value.map(|e| e.estimate), 2),
            Cell::maybe(o.e_value.map(|e| e.ci_limit), 2),
        ]);
    }
    t.notes.push(
        "Negative binomial (NB2): each person's contacts before and after the index date, count ~ referred × post with log exposure as offset, weighted by the matching weights, model-based standard errors (MASS::glm.nb); θ is its shape (Var = μ + μ²/θ), small θ meaning strong overdispersion."
            .into(),
    );
    t.notes.push(
        "E-value (VanderWeele & Ding 2017): the minimum strength of association, on the risk-ratio scale, that an unmeasured confounder would need with both referral and the outcome to explain away the Poisson rate ratio (e_value) or to move its confidence interval to include 1 (e_value_ci; 1 when it already does). The rate ratio is read as a risk ratio, the convention for rate ratios; this is most nearly exact for outcomes that are rare per person."
            .into(),
    );
    for o in did {
        if let NegativeBinomial::NotFitted { not_fitted } = &o.negative_binomial {
            t.notes.push(format!(
                "{}: the negative binomial model was not fitted: {not_fitted}",
                label(&o.outcome)
            ));
        }
    }
    t
}
