//! Negative binomial regression (NB2, log link) as `MASS::glm.nb` fits it: IRLS for the
//! coefficients given θ, maximum likelihood for θ given the fitted means, alternated
//! until both settle.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::gamma::ln_gamma;
use thiserror::Error;

use super::error::check_length;
use super::irls::irls;
use super::rows::linear_predictor;
use super::wls::{weighted_least_squares, WlsSolution};
use super::{Family, GlmError, GlmOptions};
use crate::stats::coefficient::Coefficient;
use crate::stats::design::DesignRows;
use crate::stats::tail::two_sided;

/// Above this θ the variance μ + μ²/θ is Poisson's to within a millionth for any mean
/// up to 1: the data show no overdispersion and θ's maximum likelihood estimate runs off
/// to infinity (MASS then stops at its iteration limit with θ ≈ 1e10).
pub const THETA_NO_OVERDISPERSION: f64 = 1e6;

/// Errors of [`fit_negative_binomial`].
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum NegBinError {
    /// An input or an IRLS step failed (see [`GlmError`]).
    #[error(transparent)]
    Glm(#[from] GlmError),
    /// θ grows without bound: the counts are no more variable than Poisson counts.
    #[error("the data show no overdispersion (theta grows without bound, {theta:.3e} after {alternations} alternations): use the Poisson model")]
    NoOverdispersion { theta: f64, alternations: usize },
    /// θ's Newton iteration did not settle, or went below zero.
    #[error("the maximum likelihood estimate of theta did not converge ({reason}); check the counts for extreme values")]
    ThetaNotConverged { reason: &'static str },
    /// The alternation of IRLS and θ did not converge within `max_iter`.
    #[error("the negative binomial fit did not converge in {alternations} alternations of IRLS and theta; try more iterations or a simpler model")]
    NotConverged { alternations: usize },
    /// The response is not a count ≥ 0.
    #[error("the negative binomial model needs counts >= 0, but y = {value} at row {row}")]
    NegativeCount { row: usize, value: f64 },
}

/// A fitted negative binomial model: MASS's `negbin` object and `summary.negbin`'s
/// coefficient table (Wald z tests, dispersion 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NegBinFit {
    /// One row per column of the design matrix, in the original column order.
    pub coefficients: Vec<Coefficient>,
    /// Names of aliased columns.
    pub aliased: Vec<String>,
    /// Shape parameter θ (`fit$theta`): Var(y) = μ + μ²/θ.
    pub theta: f64,
    /// Standard error of θ (`fit$SE.theta`): the inverse observed information of θ's
    /// last Newton step.
    pub theta_std_error: f64,
    /// Twice the maximised log-likelihood (`fit$twologlik`).
    pub two_log_likelihood: f64,
    /// `-twologlik + 2 rank + 2` (θ counts as a parameter).
    pub aic: f64,
    /// Residual deviance of the last IRLS fit.
    pub deviance: f64,
    /// Observations with positive weight minus rank.
    pub df_residual: usize,
    pub rank: usize,
    /// Alternations of IRLS and θ (`fit$iter` is the IRLS count of the last one).
    pub alternations: usize,
    /// Covariance of the non-aliased coefficients (dispersion 1).
    #[serde(skip)]
    pub vcov: DMatrix<f64>,
    /// Fitted means μ.
    #[serde(skip)]
    pub fitted: DVector<f64>,
}

/// Options of [`fit_negative_binomial`], as `glm.nb(control = glm.control(...))`.
///
/// | field | default | range |
/// |---|---|---|
/// | `max_iter` | 25 | ≥ 1: IRLS iterations, alternations and θ's Newton steps (MASS uses `maxit` for all three) |
/// | `epsilon` | 1e-8 | > 0: IRLS deviance rule and the alternation rule |
pub type NegBinOptions = GlmOptions;

/// Fits the negative binomial regression
/// `log E[yᵢ] = xᵢ'β + offsetᵢ`, `Var(yᵢ) = μᵢ + μᵢ²/θ` (NB2) by maximum likelihood, as
/// `MASS::glm.nb(y ~ X - 1 + offset(offset), weights, control = glm.control(epsilon,
/// maxit))` does.
///
/// | parameter | default | range |
/// |---|---|---|
/// | `x` | — | n×p, finite (include a column of ones for the intercept) |
/// | `y` | — | counts ≥ 0 |
/// | `weights` | all 1 | ≥ 0, prior weights |
/// | `offset` | all 0 | finite (log exposure) |
/// | `options` | `max_iter` 25, `epsilon` 1e-8 | see [`NegBinOptions`]; its `family` is ignored |
///
/// The algorithm is glm.nb's: a Poisson fit (R's `glm.fit` from `y + 0.1`); θ by
/// `theta.ml` (Newton's method on the profile score from the moment start
/// n / Σ wᵢ(yᵢ/μᵢ − 1)², stopping when the step is below ε_mach^¼ or after `max_iter`
/// steps); then, while |ΔL|/d₁ + |Δθ| > `epsilon` (L the log-likelihood, d₁ =
/// √(2 max(1, df_residual))), an IRLS fit of the negative binomial family with θ fixed,
/// started from the current linear predictor, followed by θ from `theta.ml` at the means
/// before that fit (MASS's order). Standard errors are `summary.negbin`'s: the inverse
/// of X'WX of the last IRLS step, dispersion 1, z tests. The standard error of θ is
/// 1/√(observed information) at θ's last Newton step (`SE.theta`).
///
/// # Errors
/// - [`NegBinError::Glm`] for bad inputs (shapes, non-finite values, weights) and failed
///   IRLS steps.
/// - [`NegBinError::NegativeCount`] for y < 0.
/// - [`NegBinError::NoOverdispersion`] when θ exceeds [`THETA_NO_OVERDISPERSION`].
/// - [`NegBinError::ThetaNotConverged`], [`NegBinError::NotConverged`] when an
///   iteration limit is reached.
///
/// ## References
/// - Venables, W. N. & Ripley, B. D. (2002). *Modern Applied Statistics with S*, 4th
///   ed., Springer, sec. 7.4; R package MASS, `glm.nb`, `theta.ml`, `negative.binomial`.
/// - Lawless, J. F. (1987). Negative binomial and mixed Poisson regression. *Canadian
///   Journal of Statistics* 15(3), 209–225.
pub fn fit_negative_binomial<X: DesignRows + ?Sized>(
    x: &X,
    y: &DVector<f64>,
    weights: Option<&DVector<f64>>,
    offset: Option<&DVector<f64>>,
    column_names: &[String],
    options: &NegBinOptions,
) -> Result<NegBinFit, NegBinError> {
    let n = x.nrows();
    let p = x.ncols();
    let poisson = GlmOptions {
        family: Family::Poisson,
        ..*options
    };
    poisson.validate()?;
    if n == 0 {
        return Err(GlmError::NoObservations.into());
    }
    check_length("y", y.len(), n)?;
    check_length("column_names", column_names.len(), p)?;
    if let Some(row) = y.iter().position(|v| !v.is_finite()) {
        return Err(GlmError::NonFinite {
            what: "y",
            row,
            column: None,
            value: y[row],
        }
        .into());
    }
    if let Some(row) = y.iter().position(|&v| v < 0.0) {
        return Err(NegBinError::NegativeCount { row, value: y[row] });
    }
    let prior = match weights {
        Some(w) => {
            check_length("weights", w.len(), n)?;
            if let Some(row) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
                return Err(GlmError::NegativeWeight { row, value: w[row] }.into());
            }
            w.clone()
        }
        None => DVector::from_element(n, 1.0),
    };
    let off = match offset {
        Some(o) => {
            check_length("offset", o.len(), n)?;
            if let Some(row) = o.iter().position(|v| !v.is_finite()) {
                return Err(GlmError::NonFinite {
                    what: "offset",
                    row,
                    column: None,
                    value: o[row],
                }
                .into());
            }
            o.clone()
        }
        None => DVector::zeros(n),
    };
    let max_iter = options.max_iter;
    let epsilon = options.epsilon;

    // glm.nb's initial Poisson fit.
    let start = irls(x, y, &prior, &off, &poisson, None)?;
    if start.wls.rank == 0 {
        return Err(GlmError::NoEstimableColumn.into());
    }
    let n_ok = prior.iter().filter(|&&w| w != 0.0).count();
    let mut mu = start.mu;
    let mut theta = theta_ml(y, &mu, &prior, max_iter)?;
    let df_residual = n_ok.saturating_sub(start.wls.rank);
    let d1 = (2.0 * (df_residual.max(1)) as f64).sqrt();
    let d2 = 1.0;
    let mut delta: f64 = 1.0;
    let mut lm = log_likelihood(y, &mu, &prior, theta.estimate);
    let mut lm0 = lm + 2.0 * d1;
    let mut fit: Option<NbIrls> = None;
    let mut alternations = 0;
    loop {
        alternations += 1;
        if alternations > max_iter {
            return Err(NegBinError::NotConverged {
                alternations: max_iter,
            });
        }
        if (lm0 - lm).abs() / d1 + delta.abs() / d2 <= epsilon {
            alternations -= 1;
            break;
        }
        let eta_start = mu.map(f64::ln);
        let step = nb_irls(x, y, &prior, &off, theta.estimate, &eta_start, options)?;
        let previous = theta.estimate;
        theta = theta_ml(y, &mu, &prior, max_iter)?;
        if theta.estimate > THETA_NO_OVERDISPERSION {
            return Err(NegBinError::NoOverdispersion {
                theta: theta.estimate,
                alternations,
            });
        }
        mu.copy_from(&step.mu);
        delta = previous - theta.estimate;
        lm0 = lm;
        lm = log_likelihood(y, &mu, &prior, theta.estimate);
        fit = Some(step);
    }
    let fit = match fit {
        Some(f) => f,
        // Converged without a negative binomial step (cannot happen with epsilon < 2):
        // one step keeps the table well defined.
        None => nb_irls(
            x,
            y,
            &prior,
            &off,
            theta.estimate,
            &mu.map(f64::ln),
            options,
        )?,
    };
    let wls = &fit.wls;
    let rank = wls.rank;
    let vcov = wls.unscaled_covariance();
    let normal = Normal::standard();
    // Wald intervals, as `confint.default`.
    let quantile = normal.inverse_cdf(0.975);
    let mut coefficients: Vec<Coefficient> =
        column_names.iter().map(Coefficient::aliased).collect();
    for (i, &col) in wls.pivot.iter().enumerate().take(rank) {
        let estimate = fit.coefficients[col];
        let std_error = vcov[(i, i)].sqrt();
        let statistic = estimate / std_error;
        coefficients[col] = Coefficient {
            term: column_names[col].clone(),
            estimate,
            std_error,
            statistic,
            df: None,
            p_value: two_sided(statistic, |s| 2.0 * normal.cdf(-s)),
            conf_low: estimate - quantile * std_error,
            conf_high: estimate + quantile * std_error,
        };
    }
    let aliased = (0..p)
        .filter(|&j| wls.aliased[j])
        .map(|j| column_names[j].clone())
        .collect();
    let two_log_likelihood = 2.0 * lm;
    Ok(NegBinFit {
        coefficients,
        aliased,
        theta: theta.estimate,
        theta_std_error: theta.std_error,
        two_log_likelihood,
        aic: -two_log_likelihood + 2.0 * rank as f64 + 2.0,
        deviance: fit.deviance,
        df_residual: n_ok.saturating_sub(rank),
        rank,
        alternations,
        vcov,
        fitted: mu,
    })
}

/// θ and its standard error from `theta.ml`.
#[derive(Debug, Clone, Copy)]
struct ThetaEstimate {
    estimate: f64,
    std_error: f64,
}

/// MASS's `theta.ml`: Newton's method for θ given the means, from the moment estimate,
/// stopping when the step is at most ε_mach^¼ or after `limit − 1` steps.
fn theta_ml(
    y: &DVector<f64>,
    mu: &DVector<f64>,
    w: &DVector<f64>,
    limit: usize,
) -> Result<ThetaEstimate, NegBinError> {
    let n: f64 = w.sum();
    let eps = f64::EPSILON.powf(0.25);
    let moment: f64 = (0..y.len())
        .map(|i| {
            let r = y[i] / mu[i] - 1.0;
            w[i] * r * r
        })
        .sum();
    let mut t0 = n / moment;
    let mut info = f64::NAN;
    let mut it = 0;
    let mut delta: f64 = 1.0;
    loop {
        it += 1;
        if it >= limit || delta.abs() <= eps {
            break;
        }
        t0 = t0.abs();
        if !t0.is_finite() || t0 > THETA_NO_OVERDISPERSION * 1e4 {
            // The score stays positive: θ = ∞ (Poisson) is the maximum.
            return Err(NegBinError::NoOverdispersion {
                theta: t0,
                alternations: 0,
            });
        }
        let (score, information) = theta_score_information(y, mu, w, t0);
        info = information;
        delta = score / information;
        t0 += delta;
    }
    if it == limit {
        if t0 > THETA_NO_OVERDISPERSION {
            return Err(NegBinError::NoOverdispersion {
                theta: t0,
                alternations: 0,
            });
        }
        return Err(NegBinError::ThetaNotConverged {
            reason: "iteration limit reached",
        });
    }
    if t0 < 0.0 {
        return Err(NegBinError::ThetaNotConverged {
            reason: "the estimate went below zero",
        });
    }
    Ok(ThetaEstimate {
        estimate: t0,
        std_error: (1.0 / info).sqrt(),
    })
}

/// The score and the observed information of θ (`theta.ml`'s `score` and `info`).
fn theta_score_information(
    y: &DVector<f64>,
    mu: &DVector<f64>,
    w: &DVector<f64>,
    th: f64,
) -> (f64, f64) {
    let (mut score, mut info) = (0.0, 0.0);
    let (dg_th, tg_th, ln_th) = (digamma(th), trigamma(th), th.ln());
    for i in 0..y.len() {
        let (yi, mi) = (y[i], mu[i]);
        let mt = mi + th;
        score += w[i] * (digamma(th + yi) - dg_th + ln_th + 1.0 - mt.ln() - (yi + th) / mt);
        info += w[i] * (-trigamma(th + yi) + tg_th - 1.0 / th + 2.0 / mt - (yi + th) / (mt * mt));
    }
    (score, info)
}

/// The negative binomial log-likelihood (glm.nb's `loglik`).
fn log_likelihood(y: &DVector<f64>, mu: &DVector<f64>, w: &DVector<f64>, th: f64) -> f64 {
    let base = -ln_gamma(th) + th * th.ln();
    (0..y.len())
        .map(|i| {
            let (yi, mi) = (y[i], mu[i]);
            let y_log_mu = if yi == 0.0 { 0.0 } else { yi * mi.ln() };
            w[i] * (ln_gamma(th + yi) + base - ln_gamma(yi + 1.0) + y_log_mu
                - (th + yi) * (th + mi).ln())
        })
        .sum()
}

/// Unit deviance of the negative binomial family (`negative.binomial()$dev.resids`).
fn deviance_residual(y: f64, mu: f64, w: f64, th: f64) -> f64 {
    2.0 * w * (y * (y.max(1.0) / mu).ln() - (y + th) * ((y + th) / (mu + th)).ln())
}

fn deviance(y: &DVector<f64>, mu: &DVector<f64>, w: &DVector<f64>, th: f64) -> f64 {
    (0..y.len())
        .map(|i| deviance_residual(y[i], mu[i], w[i], th))
        .sum()
}

/// The state after an IRLS fit with θ fixed.
struct NbIrls {
    coefficients: DVector<f64>,
    mu: DVector<f64>,
    deviance: f64,
    wls: WlsSolution,
}

/// `glm.fit` with `negative.binomial(theta)` (log link) started from `eta_start`.
fn nb_irls<X: DesignRows + ?Sized>(
    x: &X,
    y: &DVector<f64>,
    prior: &DVector<f64>,
    offset: &DVector<f64>,
    theta: f64,
    eta_start: &DVector<f64>,
    options: &GlmOptions,
) -> Result<NbIrls, NegBinError> {
    let n = y.len();
    let tol = options.qr_tolerance();
    let inverse_link = |e: f64| e.exp().max(f64::EPSILON);
    let mut eta = eta_start.clone();
    let mut mu = eta.map(inverse_link);
    let mut dev_old = deviance(y, &mu, prior, theta);
    let mut coef_old: Option<DVector<f64>> = None;
    let mut z = DVector::zeros(n);
    let mut ww = DVector::zeros(n);
    let mut last: Option<(DVector<f64>, WlsSolution, f64)> = None;
    for iter in 1..=options.max_iter {
        for i in 0..n {
            if prior[i] <= 0.0 {
                z[i] = 0.0;
                ww[i] = 0.0;
                continue;
            }
            // d mu / d eta = max(exp(eta), eps); V(mu) = mu + mu²/θ.
            let d = inverse_link(eta[i]);
            let variance = mu[i] + mu[i] * mu[i] / theta;
            z[i] = (eta[i] - offset[i]) + (y[i] - mu[i]) / d;
            ww[i] = prior[i] * d * d / variance;
        }
        let wls = weighted_least_squares(x, &z, &ww, tol)?;
        if wls.coefficients.iter().any(|c| !c.is_finite()) {
            return Err(GlmError::NoValidCoefficients { iteration: iter }.into());
        }
        let mut start = wls.coefficients.clone();
        linear_predictor(x, &start, offset, &mut eta);
        mu = eta.map(inverse_link);
        let mut dev = deviance(y, &mu, prior, theta);
        let mut halvings = 0;
        while !dev.is_finite() {
            let previous = coef_old
                .as_ref()
                .ok_or(GlmError::NoValidCoefficients { iteration: iter })?;
            halvings += 1;
            if halvings > options.max_iter {
                return Err(GlmError::StepHalvingFailed { iteration: iter }.into());
            }
            start = (&start + previous) / 2.0;
            linear_predictor(x, &start, offset, &mut eta);
            mu = eta.map(inverse_link);
            dev = deviance(y, &mu, prior, theta);
        }
        let done = (dev - dev_old).abs() / (dev.abs() + 0.1) < options.epsilon;
        last = Some((start.clone(), wls, dev));
        if done {
            break;
        }
        dev_old = dev;
        coef_old = Some(start);
    }
    // Like glm.fit, a fit that reaches `max_iter` keeps its last iterate; the outer
    // alternation then decides convergence.
    let (coefficients, wls, deviance) =
        last.ok_or(GlmError::NoValidCoefficients { iteration: 0 })?;
    Ok(NbIrls {
        coefficients,
        mu,
        deviance,
        wls,
    })
}

/// ψ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the
/// asymptotic series (Abramowitz & Stegun 6.3.18); error below 1e-15 relative.
pub(crate) fn digamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let x2 = 1.0 / (x * x);
    // Bernoulli terms B₂ₖ/(2k x²ᵏ), k = 1..7.
    let series = x2
        * (1.0 / 12.0
            - x2 * (1.0 / 120.0
                - x2 * (1.0 / 252.0
                    - x2 * (1.0 / 240.0
                        - x2 * (1.0 / 132.0 - x2 * (691.0 / 32760.0 - x2 / 12.0))))));
    acc + x.ln() - 0.5 / x - series
}

/// ψ'(x) for x > 0: ψ'(x) = ψ'(x + 1) + 1/x² up to x ≥ 10, then the asymptotic series
/// (Abramowitz & Stegun 6.4.12).
pub(crate) fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let x2 = 1.0 / (x * x);
    // 1/x + 1/(2x²) + Σ B₂ₖ / x²ᵏ⁺¹.
    let series = x2
        * (1.0 / 6.0
            - x2 * (1.0 / 30.0
                - x2 * (1.0 / 42.0 - x2 * (1.0 / 30.0 - x2 * (5.0 / 66.0 - x2 * 691.0 / 2730.0)))));
    acc + 1.0 / x + 0.5 * x2 + series / x
}
