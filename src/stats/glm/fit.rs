//! [`fit_glm`]: input checks, the IRLS fit, and R's `summary.glm` table.

use std::borrow::Cow;

use nalgebra::{DMatrix, DVector};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::error::check_length;
use super::irls::irls;
use super::rows::{column_is_all_ones, for_each_block, linear_predictor, PASS_BLOCK_ROWS};
use super::separation::detect_separation;
use super::{Family, GlmError, GlmOptions, Separation};
use crate::stats::coefficient::Coefficient;
use crate::stats::design::DesignRows;
use crate::stats::tail::two_sided;

/// Which reference distribution the Wald statistics use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaldStatistic {
    /// Standard normal (dispersion fixed at 1: binomial, Poisson).
    Z,
    /// Student t with `df_residual` degrees of freedom (estimated dispersion: gaussian).
    T,
}

/// A fitted GLM: R's `glm` object plus the `summary.glm` table.
#[derive(Debug, Clone, PartialEq)]
pub struct GlmFit {
    /// Family and link that were fitted.
    pub family: Family,
    /// One row per column of the design matrix, in the original column order.
    pub coefficients: Vec<Coefficient>,
    /// Names of the aliased columns (coefficient NA in R), in the original order.
    pub aliased: Vec<String>,
    /// Residual deviance.
    pub deviance: f64,
    /// Null deviance: of the intercept-only model (refitted with the offset, as
    /// `glm()` does, when there is an offset) or of mu = g^-1(offset) without an intercept.
    pub null_deviance: f64,
    /// Residual degrees of freedom: observations with positive weight minus rank.
    pub df_residual: usize,
    /// Null degrees of freedom: observations with positive weight minus the intercept.
    pub df_null: usize,
    /// Number of non-aliased columns.
    pub rank: usize,
    /// R's AIC: `family$aic(...) + 2 * rank`.
    pub aic: f64,
    /// Dispersion used for the standard errors: 1 for binomial and Poisson, the
    /// residual deviance over `df_residual` for gaussian (NaN if `df_residual` is 0).
    pub dispersion: f64,
    /// Reference distribution of `statistic` and `p_value`.
    pub statistic: WaldStatistic,
    /// IRLS iterations performed (R's `iter`).
    pub iterations: usize,
    /// Whether the deviance converged within `max_iter` iterations.
    pub converged: bool,
    /// Whether step halving was needed in the last iteration (R's `boundary`).
    pub boundary: bool,
    /// Fitted means mu.
    pub fitted: DVector<f64>,
    /// Linear predictor eta = X beta + offset.
    pub linear_predictor: DVector<f64>,
    /// Working weights of the final IRLS iteration (R's `fit$weights`; 0 for rows with
    /// zero prior weight).
    pub working_weights: DVector<f64>,
    /// Working residuals (y - mu) / (d mu / d eta) at the solution (R's `fit$residuals`).
    pub working_residuals: DVector<f64>,
    /// Covariance matrix of the non-aliased coefficients, in their original order:
    /// dispersion times (X'WX)^-1 from the final least-squares step.
    pub vcov: DMatrix<f64>,
    /// Set when separation (or a fitted value numerically on the boundary) was found.
    pub separation: Option<Separation>,
}

impl GlmFit {
    /// Estimates of all columns in the original order (NaN for aliased ones).
    pub fn estimates(&self) -> DVector<f64> {
        DVector::from_iterator(
            self.coefficients.len(),
            self.coefficients.iter().map(|c| c.estimate),
        )
    }

    /// Log-likelihood implied by R's AIC (`logLik.glm`): p = rank, plus one for the
    /// gaussian dispersion.
    pub fn log_likelihood(&self) -> f64 {
        let params = self.rank as f64
            + if self.family == Family::Gaussian {
                1.0
            } else {
                0.0
            };
        params - self.aic / 2.0
    }
}

/// Fits a generalised linear model by iteratively reweighted least squares, as R's
/// `glm(y ~ X - 1 + offset(offset), family, weights)` with the columns of `x` as the
/// design matrix (include a column of ones for the intercept).
///
/// Model: `g(E[yᵢ]) = xᵢ'β + offsetᵢ`, `Var(yᵢ) = φ V(μᵢ) / wᵢ`, with the canonical
/// link g of the family (logit, log, identity), prior weights w and dispersion φ
/// (1 for binomial and Poisson, estimated for gaussian).
///
/// | parameter | default | range |
/// |---|---|---|
/// | `x` | — | n×p, finite, n ≥ 1, p ≥ 1 |
/// | `y` | — | length n; binomial: proportions in [0, 1]; Poisson: ≥ 0; gaussian: finite |
/// | `weights` | all 1 | length n, finite, ≥ 0, not all 0; binomial: numbers of trials |
/// | `offset` | all 0 | length n, finite |
/// | `column_names` | — | length p |
/// | `options.family` | — | `Binomial`, `Poisson`, `Gaussian` |
/// | `options.max_iter` | 25 | ≥ 1 |
/// | `options.epsilon` | 1e-8 | > 0 |
///
/// The algorithm is R's `glm.fit`: start from `family$initialize`'s mu (binomial
/// (w y + 0.5)/(w + 1), Poisson y + 0.1, gaussian y); each iteration solves the weighted
/// least-squares problem of the working response (see
/// [`working_values`](super::working_values) and
/// [`weighted_least_squares`](super::weighted_least_squares), whose rank decision uses
/// tolerance min(1e-7, epsilon/1000)); step halving when the deviance is not finite;
/// stop when |dev − dev_old| / (|dev| + 0.1) < epsilon. Columns aliased in the final
/// step get NaN estimates and are listed in `aliased`. Standard errors are
/// sqrt(φ diag((X'WX)^-1)) with W the working weights of the final step (as
/// `summary.glm`). An intercept is a column whose entries are all exactly 1; it
/// decides the null deviance and `df_null` as R's `attr(terms, "intercept")` does.
///
/// Separation (binomial and Poisson): R only warns ("fitted probabilities numerically
/// 0 or 1 occurred", and not even that when the fitted values stop at ~1e-9) while
/// the estimates of some columns run off towards infinity. It is detected without
/// linear programming, from the IRLS path: under complete or quasi-complete
/// separation the estimates move along a direction of recession, each iteration
/// moving the linear predictor of the separated observations by about 1 (the Newton
/// step on log(1 + e^-t) or e^-t at large t) for as long as the loop runs, whereas a
/// converging fit's steps shrink quadratically. Column j is *diverging* when its
/// steps in each of the last 3 iterations, on the linear-predictor scale
/// (|Δβ_j| × max_i |x_ij|), exceed 0.5, keep their sign and shrink by less than half
/// from one iteration to the next; or, in a fit that did not converge, when
/// SE_j × max|x_j| > 1e3 and |β_j| × max|x_j| > 10. The intercept is listed only if no
/// other column diverges. [`Separation::observations`] counts the observations whose
/// linear predictor still moved by more than 0.5 in the last iteration (when a column
/// diverges) or whose fitted value is within 1e-10 of 0 or 1 (Poisson: below 1e-10).
/// `separation` is `Some` when either set is non-empty.
///
/// Non-convergence is not an error: `converged` is false and the last iterate is
/// returned.
///
/// # Errors
/// - [`GlmError::DimensionMismatch`] if `y`, `weights`, `offset` or `column_names` do
///   not match `x`.
/// - [`GlmError::NoObservations`], [`GlmError::NoColumns`] for an empty design.
/// - [`GlmError::NonFinite`] for NaN or infinite values in any input.
/// - [`GlmError::ResponseOutOfRange`] for binomial y outside [0, 1] or negative Poisson y.
/// - [`GlmError::NegativeWeight`], [`GlmError::NoPositiveWeight`] for bad weights.
/// - [`GlmError::InvalidOption`] for `max_iter` = 0 or `epsilon` ≤ 0 (see
///   [`GlmOptions::validate`]).
/// - [`GlmError::NoEstimableColumn`] if every column is aliased.
/// - [`GlmError::NoValidCoefficients`], [`GlmError::StepHalvingFailed`] when the
///   linear predictor overflows and step halving cannot recover (R stops there too).
///
/// ## References
/// - McCullagh, P. and Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed.
///   Chapman & Hall. Chapter 2 (IRLS), 4 (binomial), 6 (Poisson).
/// - R Core Team. `glm.fit`, `summary.glm` and `family` in package stats
///   (src/library/stats/R/glm.R, family.R; src/appl/dqrdc2.f, dqrls.f).
pub fn fit_glm<X: DesignRows + ?Sized>(
    x: &X,
    y: &DVector<f64>,
    weights: Option<&DVector<f64>>,
    offset: Option<&DVector<f64>>,
    column_names: &[String],
    options: &GlmOptions,
) -> Result<GlmFit, GlmError> {
    fit_glm_from(x, y, weights, offset, column_names, options, None)
}

/// [`fit_glm`] started from coefficients `start` (R's `glm(..., start = )`): the
/// iterations begin at the fitted values of the linear predictor `offset + X start`
/// instead of the family's `initialize`. From a start near the estimates (a fit on a
/// subsample, say) Newton's method needs a few iterations where the family's start may
/// take a dozen; it converges to the same estimates within the convergence tolerance,
/// not to the last bits of R's path from its own start. `None` is [`fit_glm`].
///
/// # Errors
/// As [`fit_glm`]; also [`GlmError::DimensionMismatch`] for a `start` whose length is not
/// the number of columns, [`GlmError::NonFinite`] for a start value that is not finite
/// (its `row` is the column) and [`GlmError::NoValidCoefficients`] at iteration 0 when
/// the start's fitted values are out of the family's range.
pub fn fit_glm_from<X: DesignRows + ?Sized>(
    x: &X,
    y: &DVector<f64>,
    weights: Option<&DVector<f64>>,
    offset: Option<&DVector<f64>>,
    column_names: &[String],
    options: &GlmOptions,
    start: Option<&DVector<f64>>,
) -> Result<GlmFit, GlmError> {
    validate(x, y, weights, offset, column_names, options)?;
    if let Some(start) = start {
        check_length("start", start.len(), x.ncols())?;
        if let Some(j) = start.iter().position(|b| !b.is_finite()) {
            return Err(GlmError::NonFinite {
                what: "start",
                row: j,
                column: None,
                value: start[j],
            });
        }
    }
    let family = options.family;
    let n = x.nrows();
    let p = x.ncols();
    let prior = weights
        .cloned()
        .unwrap_or_else(|| DVector::from_element(n, 1.0));
    let off = offset.cloned().unwrap_or_else(|| DVector::zeros(n));
    // R's binomial initialize sets y[weights == 0] <- 0.
    let y_fit = if family == Family::Binomial && prior.iter().any(|&w| w == 0.0) {
        Cow::Owned(DVector::from_fn(n, |i, _| {
            if prior[i] == 0.0 {
                0.0
            } else {
                y[i]
            }
        }))
    } else {
        Cow::Borrowed(y)
    };

    let start_mu = start.map(|beta| {
        let mut eta = DVector::zeros(n);
        linear_predictor(x, beta, &off, &mut eta);
        eta.map(|e| family.inverse_link(e))
    });
    let fit = irls(x, &y_fit, &prior, &off, options, start_mu.as_ref())?;
    drop(start_mu);
    let wls = &fit.wls;
    if wls.rank == 0 {
        return Err(GlmError::NoEstimableColumn);
    }

    let intercept = (0..p).find(|&j| column_is_all_ones(x, j));
    let null_deviance = match (intercept, offset) {
        (Some(_), Some(_)) => {
            // glm() refits the intercept-only model with the offset, starting from
            // the fitted values of the full model.
            let x0 = DMatrix::from_element(n, 1, 1.0);
            irls(&x0, &y_fit, &prior, &off, options, Some(&fit.mu))?.deviance
        }
        (Some(_), None) => {
            let sw: f64 = prior.sum();
            let wtdmu = prior.dot(&y_fit) / sw;
            // `family.deviance` at mu = wtdmu on every row, a residual per distinct
            // (y, weight) pair of a run: the same terms, added in row order.
            let residual = |y: f64, w: f64| family.deviance_residual(y, wtdmu, w);
            crate::stats::pair_terms_in_order(y_fit.as_slice(), prior.as_slice(), residual)
                .into_iter()
                .sum()
        }
        (None, _) => {
            let mu0 = off.map(|o| family.inverse_link(o));
            family.deviance(&y_fit, &mu0, &prior)
        }
    };

    let n_ok = prior.iter().filter(|&&w| w != 0.0).count();
    let rank = wls.rank;
    let df_residual = n_ok.saturating_sub(rank);
    let df_null = n_ok.saturating_sub(usize::from(intercept.is_some()));
    let aic = family.aic(&y_fit, &fit.mu, &prior, fit.deviance) + 2.0 * rank as f64;

    let dispersion = if family.has_fixed_dispersion() {
        1.0
    } else if df_residual > 0 {
        // summary.glm: sum of working weights × working residuals² over df.residual.
        let mut s = 0.0;
        for i in 0..n {
            let ww = fit.working_weights[i];
            if ww > 0.0 {
                let r = (y_fit[i] - fit.mu[i]) / family.mu_eta(fit.eta[i]);
                s += ww * r * r;
            }
        }
        s / df_residual as f64
    } else {
        f64::NAN
    };
    let statistic = if family.has_fixed_dispersion() {
        WaldStatistic::Z
    } else {
        WaldStatistic::T
    };

    // Covariance in pivot order = original order of the non-aliased columns.
    let vcov = wls.unscaled_covariance() * dispersion;
    let std_errors: Vec<f64> = (0..rank).map(|i| vcov[(i, i)].sqrt()).collect();
    let normal = Normal::standard();
    let student = if df_residual > 0 {
        StudentsT::new(0.0, 1.0, df_residual as f64).ok()
    } else {
        None
    };
    // Wald intervals, as `confint.default` (normal) or `confint.lm` (t) compute them.
    let quantile = match statistic {
        WaldStatistic::Z => normal.inverse_cdf(0.975),
        WaldStatistic::T => student.as_ref().map_or(f64::NAN, |t| t.inverse_cdf(0.975)),
    };
    let mut coefficients: Vec<Coefficient> =
        column_names.iter().map(Coefficient::aliased).collect();
    for (i, &col) in wls.pivot.iter().enumerate().take(rank) {
        let estimate = fit.coefficients[col];
        let se = std_errors[i];
        let stat = estimate / se;
        let p_value = match statistic {
            WaldStatistic::Z => two_sided(stat, |s| 2.0 * normal.cdf(-s)),
            WaldStatistic::T => student
                .as_ref()
                .map_or(f64::NAN, |t| two_sided(stat, |s| 2.0 * t.cdf(-s))),
        };
        coefficients[col] = Coefficient {
            term: column_names[col].clone(),
            estimate,
            std_error: se,
            statistic: stat,
            df: None,
            p_value,
            conf_low: estimate - quantile * se,
            conf_high: estimate + quantile * se,
        };
    }
    let aliased: Vec<String> = (0..p)
        .filter(|&j| wls.aliased[j])
        .map(|j| column_names[j].clone())
        .collect();

    let mut working_residuals = DVector::zeros(n);
    crate::stats::for_each_part(
        n,
        (
            working_residuals.as_mut_slice(),
            (y_fit.as_slice(), (fit.mu.as_slice(), fit.eta.as_slice())),
        ),
        |_, (out, (y, (mu, eta)))| {
            for (i, r) in out.iter_mut().enumerate() {
                *r = (y[i] - mu[i]) / family.mu_eta(eta[i]);
            }
        },
    );
    let separation = detect_separation(
        x,
        &fit,
        &prior,
        &coefficients,
        intercept,
        column_names,
        family,
    );

    Ok(GlmFit {
        family,
        coefficients,
        aliased,
        deviance: fit.deviance,
        null_deviance,
        df_residual,
        df_null,
        rank,
        aic,
        dispersion,
        statistic,
        iterations: fit.iterations,
        converged: fit.converged,
        boundary: fit.boundary,
        fitted: fit.mu,
        linear_predictor: fit.eta,
        working_weights: fit.working_weights,
        working_residuals,
        vcov,
        separation,
    })
}

/// The input checks of [`fit_glm`] (see its `# Errors`): the options, then the shapes,
/// finiteness, the weights and the family's range of the response, reporting the first
/// failure.
fn validate<X: DesignRows + ?Sized>(
    x: &X,
    y: &DVector<f64>,
    weights: Option<&DVector<f64>>,
    offset: Option<&DVector<f64>>,
    column_names: &[String],
    options: &GlmOptions,
) -> Result<(), GlmError> {
    let n = x.nrows();
    let p = x.ncols();
    options.validate()?;
    if n == 0 {
        return Err(GlmError::NoObservations);
    }
    if p == 0 {
        return Err(GlmError::NoColumns);
    }
    check_length("y", y.len(), n)?;
    check_length("column_names", column_names.len(), p)?;
    if let Some(w) = weights {
        check_length("weights", w.len(), n)?;
    }
    if let Some(o) = offset {
        check_length("offset", o.len(), n)?;
    }
    // The first non-finite entry of the first column that has one; columns finite by
    // construction are not read.
    if (0..p).all(|j| x.finite_by_construction(j)) {
        return validate_vectors(y, weights, offset, options);
    }
    let parts = crate::stats::for_each_part(n, 0..n, |_, rows| {
        let mut first_bad: Vec<Option<(usize, f64)>> = vec![None; p];
        for_each_block(x, rows, |start, len, block| {
            for (j, bad) in first_bad.iter_mut().enumerate() {
                if bad.is_none() {
                    let column = &block[j * PASS_BLOCK_ROWS..j * PASS_BLOCK_ROWS + len];
                    if let Some(i) = column.iter().position(|v| !v.is_finite()) {
                        *bad = Some((start + i, column[i]));
                    }
                }
            }
        });
        first_bad
    });
    let first_bad = (0..p).find_map(|j| parts.iter().find_map(|part| part[j]).map(|b| (j, b)));
    if let Some((j, (row, value))) = first_bad {
        return Err(GlmError::NonFinite {
            what: "x",
            row,
            column: Some(column_names[j].clone()),
            value,
        });
    }
    validate_vectors(y, weights, offset, options)
}

/// The checks of [`validate`] on the response, weights and offset.
fn validate_vectors(
    y: &DVector<f64>,
    weights: Option<&DVector<f64>>,
    offset: Option<&DVector<f64>>,
    options: &GlmOptions,
) -> Result<(), GlmError> {
    let check_finite =
        |what: &'static str, v: &DVector<f64>| match v.iter().position(|a| !a.is_finite()) {
            Some(i) => Err(GlmError::NonFinite {
                what,
                row: i,
                column: None,
                value: v[i],
            }),
            None => Ok(()),
        };
    check_finite("y", y)?;
    if let Some(o) = offset {
        check_finite("offset", o)?;
    }
    if let Some(w) = weights {
        check_finite("weights", w)?;
        if let Some(i) = w.iter().position(|&v| v < 0.0) {
            return Err(GlmError::NegativeWeight {
                row: i,
                value: w[i],
            });
        }
        if w.iter().all(|&v| v == 0.0) {
            return Err(GlmError::NoPositiveWeight);
        }
    }
    let family = options.family;
    for (i, &yi) in y.iter().enumerate() {
        let w = weights.map_or(1.0, |w| w[i]);
        // R checks binomial y after zeroing the responses of zero-weight rows.
        let zeroed_by_r = family == Family::Binomial && w == 0.0;
        if !(family.response_in_range(yi) || zeroed_by_r) {
            return Err(GlmError::ResponseOutOfRange {
                family: family.name(),
                row: i,
                value: yi,
                expected: family.expected_range(),
            });
        }
    }
    Ok(())
}
