//! The exponential families of [`fit_glm`](super::fit_glm) with their canonical links: R's
//! `binomial()`, `poisson()` and `gaussian()` family objects (link, inverse link,
//! variance, deviance residuals, starting values, AIC).

use nalgebra::DVector;
use serde::Serialize;
use statrs::function::gamma::ln_gamma;

/// Exponential family and link of a GLM (the canonical link of each family, as R's
/// defaults `binomial()`, `poisson()` and `gaussian()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Bernoulli/binomial response with the logit link. `y` is a proportion in [0, 1]
    /// and the prior weight is the number of trials (R's vector form of `binomial()`).
    Binomial,
    /// Poisson counts with the log link; `y >= 0`.
    Poisson,
    /// Normal response with the identity link (least squares).
    Gaussian,
}

/// R's `THRESH` in `logit_linkinv` and `logit_mu_eta` (src/library/stats/src/family.c).
const LOGIT_THRESHOLD: f64 = 30.0;

impl Family {
    /// R's family name (`family$family`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Binomial => "binomial",
            Family::Poisson => "poisson",
            Family::Gaussian => "gaussian",
        }
    }

    /// Whether the dispersion is fixed at 1 (z statistics) rather than estimated
    /// (t statistics), as in R's `summary.glm`.
    pub fn has_fixed_dispersion(self) -> bool {
        matches!(self, Family::Binomial | Family::Poisson)
    }

    /// Link function g(mu) (`family$linkfun`).
    pub fn link(self, mu: f64) -> f64 {
        match self {
            Family::Binomial => (mu / (1.0 - mu)).ln(),
            Family::Poisson => mu.ln(),
            Family::Gaussian => mu,
        }
    }

    /// Inverse link mu = g^-1(eta) (`family$linkinv`), with R's clamping: the logit
    /// inverse is bounded away from 0 and 1 beyond |eta| > 30, the log inverse is at
    /// least machine epsilon.
    pub fn inverse_link(self, eta: f64) -> f64 {
        match self {
            Family::Binomial => {
                let t = if eta < -LOGIT_THRESHOLD {
                    f64::EPSILON
                } else if eta > LOGIT_THRESHOLD {
                    1.0 / f64::EPSILON
                } else {
                    eta.exp()
                };
                t / (1.0 + t)
            }
            Family::Poisson => eta.exp().max(f64::EPSILON),
            Family::Gaussian => eta,
        }
    }

    /// Derivative d mu / d eta (`family$mu.eta`), with R's clamping.
    pub fn mu_eta(self, eta: f64) -> f64 {
        match self {
            Family::Binomial => {
                if !(-LOGIT_THRESHOLD..=LOGIT_THRESHOLD).contains(&eta) {
                    f64::EPSILON
                } else {
                    let e = eta.exp();
                    let opexp = 1.0 + e;
                    e / (opexp * opexp)
                }
            }
            Family::Poisson => eta.exp().max(f64::EPSILON),
            Family::Gaussian => 1.0,
        }
    }

    /// The inverse link and its derivative at `eta`, `(mu, d mu / d eta)`: the values of
    /// [`Family::inverse_link`] and [`Family::mu_eta`] to the bit, with one exponential
    /// for the logit where both take it.
    pub fn mean_and_slope(self, eta: f64) -> (f64, f64) {
        match self {
            Family::Binomial if (-LOGIT_THRESHOLD..=LOGIT_THRESHOLD).contains(&eta) => {
                let e = eta.exp();
                let opexp = 1.0 + e;
                (e / opexp, e / (opexp * opexp))
            }
            _ => (self.inverse_link(eta), self.mu_eta(eta)),
        }
    }

    /// Variance function V(mu) (`family$variance`).
    pub fn variance(self, mu: f64) -> f64 {
        match self {
            Family::Binomial => mu * (1.0 - mu),
            Family::Poisson => mu,
            Family::Gaussian => 1.0,
        }
    }

    /// Unit deviance of one observation times its prior weight (`family$dev.resids`).
    pub fn deviance_residual(self, y: f64, mu: f64, weight: f64) -> f64 {
        match self {
            Family::Binomial => 2.0 * weight * (y_log_y(y, mu) + y_log_y(1.0 - y, 1.0 - mu)),
            Family::Poisson => {
                if y > 0.0 {
                    2.0 * weight * (y * (y / mu).ln() - (y - mu))
                } else {
                    2.0 * mu * weight
                }
            }
            Family::Gaussian => weight * (y - mu) * (y - mu),
        }
    }

    /// Deviance: the sum of the weighted unit deviances.
    /// (The unit deviances are computed on the worker threads and summed in row order.)
    pub fn deviance(self, y: &DVector<f64>, mu: &DVector<f64>, weights: &DVector<f64>) -> f64 {
        let n = y.len().min(mu.len()).min(weights.len());
        crate::stats::terms_in_order(n, |i| self.deviance_residual(y[i], mu[i], weights[i]))
            .into_iter()
            .sum()
    }

    /// Starting value of mu from `family$initialize` (binomial: (w y + 0.5) / (w + 1),
    /// Poisson: y + 0.1, gaussian: y).
    pub fn initial_mu(self, y: f64, weight: f64) -> f64 {
        match self {
            Family::Binomial => (weight * y + 0.5) / (weight + 1.0),
            Family::Poisson => y + 0.1,
            Family::Gaussian => y,
        }
    }

    /// `family$validmu` for one value (`valideta` is always true for these links).
    pub fn valid_mu(self, mu: f64) -> bool {
        match self {
            Family::Binomial => mu.is_finite() && mu > 0.0 && mu < 1.0,
            Family::Poisson => mu.is_finite() && mu > 0.0,
            Family::Gaussian => true,
        }
    }

    /// Whether `y` lies in the family's support (`family$initialize` checks).
    pub(super) fn response_in_range(self, y: f64) -> bool {
        match self {
            Family::Binomial => (0.0..=1.0).contains(&y),
            Family::Poisson => y >= 0.0,
            Family::Gaussian => true,
        }
    }

    pub(super) fn expected_range(self) -> &'static str {
        match self {
            Family::Binomial => "a proportion 0 <= y <= 1",
            Family::Poisson => "a count y >= 0",
            Family::Gaussian => "any finite number",
        }
    }

    /// `family$aic(y, n, mu, wt, dev)`: minus twice the log-likelihood (plus 2 for the
    /// estimated variance of the gaussian family), before glm.fit adds `2 * rank`.
    pub(super) fn aic(
        self,
        y: &DVector<f64>,
        mu: &DVector<f64>,
        weights: &DVector<f64>,
        deviance: f64,
    ) -> f64 {
        match self {
            // Each row's term on the worker threads, added in row order from 0.
            Family::Binomial => {
                // R: m <- if (any(n > 1)) n else wt, and n is all ones for a vector y.
                let term = |i: usize| {
                    let (yi, mi, wi) = (y[i], mu[i], weights[i]);
                    // Rows of weight 0 add nothing: a zero term leaves the sum as it is.
                    if wi > 0.0 {
                        let trials = wi.round_ties_even();
                        let successes = (wi * yi).round_ties_even();
                        binomial_log_density(successes, trials, mi)
                    } else {
                        0.0
                    }
                };
                let n = y.len().min(mu.len()).min(weights.len());
                let terms = crate::stats::terms_in_order(n, term);
                -2.0 * terms.iter().fold(0.0, |total, &t| total + t)
            }
            Family::Poisson => {
                let term = |i: usize| poisson_log_density(y[i], mu[i]) * weights[i];
                let n = y.len().min(mu.len()).min(weights.len());
                let terms = crate::stats::terms_in_order(n, term);
                -2.0 * terms.iter().fold(0.0, |total, &t| total + t)
            }
            Family::Gaussian => {
                let n = y.len() as f64;
                let sum_log_w: f64 = weights.iter().map(|w| w.ln()).sum();
                n * ((deviance / n * 2.0 * std::f64::consts::PI).ln() + 1.0) + 2.0 - sum_log_w
            }
        }
    }
}

/// y * log(y / mu), with 0 * log(0) = 0 (R's `y_log_y`).
fn y_log_y(y: f64, mu: f64) -> f64 {
    if y != 0.0 {
        y * (y / mu).ln()
    } else {
        0.0
    }
}

/// log of R's `dbinom(x, n, p)` for integer-valued x and n.
fn binomial_log_density(x: f64, n: f64, p: f64) -> f64 {
    if n == 0.0 {
        return if x == 0.0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if x < 0.0 || x > n {
        return f64::NEG_INFINITY;
    }
    let q = 1.0 - p;
    if x == 0.0 {
        return n * q.ln();
    }
    if x == n {
        return n * p.ln();
    }
    let log_choose = ln_gamma(n + 1.0) - ln_gamma(x + 1.0) - ln_gamma(n - x + 1.0);
    log_choose + x * p.ln() + (n - x) * q.ln()
}

/// log of R's `dpois(x, lambda)`: minus infinity for a non-integer x (where R warns
/// and returns density 0).
fn poisson_log_density(x: f64, lambda: f64) -> f64 {
    if (x - x.round()).abs() > 1e-7 * x.abs().max(1.0) || x < 0.0 {
        return f64::NEG_INFINITY;
    }
    let x = x.round();
    if lambda == 0.0 {
        return if x == 0.0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if x == 0.0 {
        return -lambda;
    }
    x * lambda.ln() - lambda - ln_gamma(x + 1.0)
}
