//! Linear and Poisson regressions with any number of high-dimensional fixed effects,
//! as fixest's `feols` / `fepois` and pyfixest's `feols` / `fepois` estimate them: the
//! fixed effects are projected out ("demeaned") by alternating projections, Poisson
//! pseudo-maximum likelihood by iteratively reweighted least squares with weighted
//! demeaning at every step, and the variance is iid, HC1 or cluster-robust CR1 (one- or
//! two-way) with fixest's small-sample conventions (see [`super::vcov`]).
//!
//! The entry point is [`fit_fe`]; the joint Wald test of a set of coefficients (the
//! event-study pre-trend test) is [`FeFit::wald_test`].
//!
//! ## What is dropped, and why (pyfixest 0.60 defaults)
//! 1. Rows with a zero weight (fixest drops them; they carry no information).
//! 2. Singletons (`fixef_rm = "singleton"`, pyfixest's default for `feols` and
//!    `fepois`): a row alone in a level of any fixed effect is fitted exactly and only
//!    shrinks the residual degrees of freedom. Removed repeatedly until none is left.
//! 3. Poisson only, after 2 (pyfixest's `separation_check = ["fe"]`, fixest's
//!    `fixef.rm = "perfect"`): rows in a level of any fixed effect whose outcome is 0
//!    throughout. Their fixed effect would be −∞ (perfect prediction). One pass, as in
//!    pyfixest: singletons it may leave behind are kept.
//!
//! A regressor collinear with the fixed effects (its variation left after demeaning is
//! below `collinearity_tolerance` times its variation before) or with earlier
//! regressors is dropped and named in [`FeFit::collinear`] (fixest: "The variable `x`
//! has been removed because of collinearity"). A column named `(Intercept)` is removed
//! silently when there is a fixed effect, since the fixed effects absorb it (fixest and
//! pyfixest print no intercept).
//!
//! A fixed effect with a single level (after the drops) is an error: it only
//! duplicates the intercept, which is almost always a mistake in the formula (fixest
//! would run, absorbing the intercept).
//!
//! ## Numerical approach
//! Demeaning works in the space of fixed-effect coefficients (Gaure 2013; Bergé 2018):
//! with the fixed effects ordered by decreasing number of levels, the coefficients of
//! the first are eliminated in closed form and a Gauss–Seidel sweep over the others is
//! accelerated by Irons & Tuck's (1969) extrapolation, as in fixest. One sweep costs one
//! pass over the rows per fixed effect and needs no n-sized scratch, so columns are
//! demeaned in place. A single fixed effect is exact in one pass. Iteration stops when
//! no coefficient moves by more than `fixef_tolerance` times the (weighted) standard
//! deviation of the column. Poisson IRLS re-uses each column's coefficients from the
//! previous iteration as a warm start (as ppmlhdfe does) and loosens the demeaning
//! tolerance while the deviance is still far from converged (Correia, Guimarães &
//! Zylkin 2020); the iteration that declares convergence always demeans at full
//! tolerance. Least-squares steps use the tall-skinny QR of
//! [`super::glm::weighted_least_squares`].
//!
//! Poisson standard errors are evaluated at the solution: working weights from the
//! final μ, regressors demeaned with them, working residuals (yᵢ − μᵢ)/μᵢ. pyfixest
//! and fixest take weights and residuals from their last IRLS step instead, one step
//! behind, so their standard errors carry an error of the order of that step (up to
//! ~1e-6 relative at their default tolerances); at convergence the two coincide.
//!
//! ## Agreement with pyfixest
//! The tests compare 48 pyfixest 0.60 fits (`tests/reference/fixest/`, made by
//! `make_reference.py` with tight tolerances) at 1e-6 relative: estimates and standard
//! errors agree to ~1e-8, statistics, p-values, intervals, variance matrices, counts of
//! dropped rows, collinear regressors and the Wald pre-trend tests too.
//!
//! ## The pre-trend test
//! [`FeFit::wald_test`] gives W = b'V⁻¹b for the chosen coefficients with this fit's
//! variance, as an F statistic W/q on (q, nobs − nparams) degrees of freedom, which is
//! what fixest's `wald()` reports whatever the variance, and as W with its χ²_q
//! p-value, which is what pyfixest's `wald_test(R, distribution = "chi2")` reports
//! (pyfixest switches to χ² whenever R is not the identity, i.e. for any subset).
//!
//! ## References
//! - Gaure, S. (2013). OLS with multiple high dimensional category variables.
//!   *Computational Statistics & Data Analysis* 66, 8–18.
//! - Bergé, L. (2018). Efficient estimation of maximum likelihood models with multiple
//!   fixed-effects: the R package FENmlm. CREA Discussion Papers 13.
//! - Irons, B. M. & Tuck, R. C. (1969). A version of the Aitken accelerator for computer
//!   iteration. *International Journal for Numerical Methods in Engineering* 1, 275–277.
//! - Correia, S., Guimarães, P. & Zylkin, T. (2020). Fast Poisson estimation with
//!   high-dimensional fixed effects. *The Stata Journal* 20(1), 95–115.
//! - Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2011). Robust inference with
//!   multiway clustering. *Journal of Business & Economic Statistics* 29(2), 238–249.

use std::borrow::Cow;

use nalgebra::{DMatrix, DVector};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use thiserror::Error;

use super::glm::{weighted_least_squares, GlmError, WlsSolution};
use super::vcov::{
    cluster_meat, hetero_meat, is_nested, sandwich, small_sample_k, wald_test, VcovError, WaldTest,
};

/// The model family of [`fit_fe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeFamily {
    /// Least squares (fixest's `feols`).
    Gaussian,
    /// Poisson pseudo-maximum likelihood with the log link (fixest's `fepois`).
    Poisson,
}

/// The variance of the estimates.
#[derive(Debug, Clone, PartialEq)]
pub enum Vcov {
    /// Homoskedastic ("iid" in fixest).
    Iid,
    /// Heteroskedasticity-robust HC1 ("hetero" in fixest).
    Hc1,
    /// Cluster-robust CR1 by one or two cluster variables, each given as a name and a
    /// code per input row (CRV1 in pyfixest, `cluster = ~a + b` in fixest).
    Cluster(Vec<(String, Vec<u32>)>),
}

/// Options of [`fit_fe`].
///
/// | field | default | range | meaning |
/// |---|---|---|---|
/// | `family` | `Gaussian` | | least squares or Poisson |
/// | `fixef_tolerance` | 1e-8 | (0, 1) | demeaning stops when no fixed-effect coefficient moves by more than this times the column's standard deviation (fixest's `fixef.tol` is 1e-6 on a relative change; tighter here so that results agree with the exact solution to ~1e-8) |
/// | `fixef_max_iter` | 10 000 | ≥ 1 | sweeps per demeaning (fixest: `fixef.iter`) |
/// | `irls_tolerance` | 1e-10 | (0, 1) | Poisson: stop when \|dev − dev_old\| / (0.1 + \|dev_old\|) is below it (fixest's `glm.tol` rule; its default 1e-8) |
/// | `irls_max_iter` | 25 | ≥ 1 | Poisson IRLS iterations (fixest's `glm.iter`) |
/// | `drop_singletons` | true | | pyfixest's `fixef_rm = "singleton"` |
/// | `drop_separated` | true | | Poisson: drop fixed-effect levels whose outcome is all zero |
/// | `collinearity_tolerance` | 1e-9 | [0, 1) | a regressor whose variation after demeaning (and after projecting out earlier regressors) is below this share of its variation is dropped |
/// | `confidence_level` | 0.95 | (0, 1) | confidence intervals |
/// | `threads` | 1 | ≥ 1 | columns demeaned in parallel; results do not depend on it |
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FeModel {
    pub family: FeFamily,
    pub fixef_tolerance: f64,
    pub fixef_max_iter: usize,
    pub irls_tolerance: f64,
    pub irls_max_iter: usize,
    pub drop_singletons: bool,
    pub drop_separated: bool,
    pub collinearity_tolerance: f64,
    pub confidence_level: f64,
    pub threads: usize,
}

impl FeModel {
    /// The defaults for `family`.
    pub fn new(family: FeFamily) -> Self {
        FeModel {
            family,
            fixef_tolerance: 1e-8,
            fixef_max_iter: 10_000,
            irls_tolerance: 1e-10,
            irls_max_iter: 25,
            drop_singletons: true,
            drop_separated: true,
            collinearity_tolerance: 1e-9,
            confidence_level: 0.95,
            threads: 1,
        }
    }

    fn validate(&self) -> Result<(), FeError> {
        let unit = |name: &'static str, v: f64| {
            if v > 0.0 && v < 1.0 {
                Ok(())
            } else {
                Err(FeError::InvalidOption {
                    name,
                    message: format!("{v} is not in (0, 1)"),
                })
            }
        };
        unit("fixef_tolerance", self.fixef_tolerance)?;
        unit("irls_tolerance", self.irls_tolerance)?;
        unit("confidence_level", self.confidence_level)?;
        if !(self.collinearity_tolerance >= 0.0 && self.collinearity_tolerance < 1.0) {
            return Err(FeError::InvalidOption {
                name: "collinearity_tolerance",
                message: format!("{} is not in [0, 1)", self.collinearity_tolerance),
            });
        }
        for (name, v) in [
            ("fixef_max_iter", self.fixef_max_iter),
            ("irls_max_iter", self.irls_max_iter),
            ("threads", self.threads),
        ] {
            if v == 0 {
                return Err(FeError::InvalidOption {
                    name,
                    message: "must be at least 1".to_string(),
                });
            }
        }
        Ok(())
    }
}

impl Default for FeModel {
    fn default() -> Self {
        FeModel::new(FeFamily::Gaussian)
    }
}

/// One row of the coefficient table (broom's columns).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeCoefficient {
    pub name: String,
    pub estimate: f64,
    pub std_error: f64,
    /// t (Gaussian) or z (Poisson).
    pub statistic: f64,
    pub p_value: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

/// How many input rows were dropped, by reason (in the order they are applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DroppedRows {
    /// Rows with weight 0.
    pub zero_weight: usize,
    /// Rows alone in a level of a fixed effect (removed repeatedly).
    pub singletons: usize,
    /// Poisson: rows in a fixed-effect level whose outcome is 0 throughout.
    pub separated: usize,
}

impl DroppedRows {
    pub fn total(&self) -> usize {
        self.zero_weight + self.singletons + self.separated
    }
}

/// A fitted fixed-effects model.
#[derive(Debug, Clone, PartialEq)]
pub struct FeFit {
    pub family: FeFamily,
    /// The regressors kept, in input order.
    pub coefficients: Vec<FeCoefficient>,
    /// Variance of the kept coefficients, in the order of `coefficients`.
    pub vcov: DMatrix<f64>,
    /// `iid`, `hetero`, `CRV1(unit)`, `CRV1(unit, period)`.
    pub vcov_type: String,
    /// Observations used.
    pub n_obs: usize,
    /// Input rows not used (`dropped.total()`).
    pub n_dropped: usize,
    pub dropped: DroppedRows,
    /// Regressors dropped as collinear with the fixed effects or earlier regressors.
    pub collinear: Vec<String>,
    /// IRLS iterations (1 for least squares).
    pub iterations: usize,
    /// Whether IRLS and every demeaning converged.
    pub converged: bool,
    /// The most sweeps one demeaning needed.
    pub demeaning_sweeps: usize,
    /// Poisson deviance; for least squares the (weighted) residual sum of squares.
    pub deviance: f64,
    /// nobs − nparams with nparams = k + Σ levels − (number of fixed effects − 1)
    /// (fixest's residual degrees of freedom).
    pub df_residual: usize,
    /// K of the small-sample factor (N − 1)/(N − K) of this variance.
    pub df_k: usize,
    /// Degrees of freedom of the t statistics; `None` for Poisson (normal).
    pub t_df: Option<f64>,
    /// Levels of each fixed effect over the rows used, in input order.
    pub fixed_effect_sizes: Vec<(String, usize)>,
    /// Clusters of each cluster variable over the rows used.
    pub cluster_sizes: Vec<(String, usize)>,
    /// The input rows used, ascending.
    pub kept_rows: Vec<usize>,
}

impl FeFit {
    /// The estimates in the order of `coefficients`.
    pub fn estimates(&self) -> Vec<f64> {
        self.coefficients.iter().map(|c| c.estimate).collect()
    }

    /// The coefficient called `name`.
    pub fn coefficient(&self, name: &str) -> Option<&FeCoefficient> {
        self.coefficients.iter().find(|c| c.name == name)
    }

    /// Joint Wald test that the coefficients `terms` are all zero, with this fit's
    /// variance: F = W/q on (q, [`FeFit::df_residual`]) degrees of freedom as fixest's
    /// `wald()` reports it, and W with its χ²_q p-value as pyfixest's
    /// `wald_test(R, distribution = "chi2")` does.
    ///
    /// # Errors
    /// [`FeError::UnknownTerm`] for a name that is not a kept coefficient; the errors
    /// of [`super::vcov::wald_test`].
    pub fn wald_test<S: AsRef<str>>(&self, terms: &[S]) -> Result<WaldTest, FeError> {
        let mut indices = Vec::with_capacity(terms.len());
        for t in terms {
            let t = t.as_ref();
            let j = self
                .coefficients
                .iter()
                .position(|c| c.name == t)
                .ok_or_else(|| FeError::UnknownTerm {
                    name: t.to_string(),
                })?;
            indices.push(j);
        }
        let names = terms.iter().map(|t| t.as_ref().to_string()).collect();
        Ok(wald_test(
            names,
            &self.estimates(),
            &self.vcov,
            &indices,
            self.df_residual as f64,
        )?)
    }
}

/// Errors of [`fit_fe`]. Rows are 0-based positions in the inputs.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum FeError {
    #[error("{what} has {found} entries, expected {expected}")]
    DimensionMismatch {
        what: String,
        expected: usize,
        found: usize,
    },
    #[error("`{variable}` is not a finite number at row {row} ({value})")]
    NonFinite {
        variable: String,
        row: usize,
        value: f64,
    },
    #[error(
        "Poisson regression needs a count or rate >= 0, but the outcome is {value} at row {row}"
    )]
    NegativeOutcome { row: usize, value: f64 },
    #[error("weights must be >= 0, but the weight is {value} at row {row}")]
    NegativeWeight { row: usize, value: f64 },
    #[error("no observations left out of {n_input}: {} with zero weight, {} singletons, {} in fixed-effect groups whose outcome is all zero", dropped.zero_weight, dropped.singletons, dropped.separated)]
    NoObservations {
        n_input: usize,
        dropped: DroppedRows,
    },
    #[error("fixed effect `{name}` has a single level in the rows used: it only absorbs the intercept; remove it from the formula")]
    SingleLevelFixedEffect { name: String },
    #[error("cluster variable `{name}` has a single cluster in the rows used; cluster-robust standard errors need at least two")]
    SingleCluster { name: String },
    #[error("cluster-robust standard errors take one or two cluster variables, not {found}")]
    ClusterCount { found: usize },
    #[error("the model has no regressor to estimate")]
    NoRegressors,
    #[error("every regressor is collinear with the fixed effects: {}", names.join(", "))]
    AllCollinear { names: Vec<String> },
    #[error("no residual degrees of freedom: {n_obs} observations for {n_params} parameters (regressors and fixed-effect levels)")]
    NoResidualDf { n_obs: usize, n_params: usize },
    #[error("invalid option {name}: {message}")]
    InvalidOption { name: &'static str, message: String },
    #[error("the Poisson fit diverged at IRLS iteration {iteration}: the linear predictor is not finite; check for separation or rescale the regressors")]
    Diverged { iteration: usize },
    #[error("`{name}` is not a coefficient of the model")]
    UnknownTerm { name: String },
    #[error(transparent)]
    Glm(#[from] GlmError),
    #[error(transparent)]
    Vcov(#[from] VcovError),
}

/// Fits `y ~ x | fixed effects` by least squares (fixest's `feols`) or Poisson
/// pseudo-maximum likelihood (`fepois`).
///
/// Model: `E(yᵢ) = xᵢ'β + Σ_q α_q(g_q(i))` (Gaussian), or
/// `E(yᵢ) = exp(xᵢ'β + Σ_q α_q(g_q(i)) + offsetᵢ)` (Poisson), with weights wᵢ
/// (analytic weights: the least-squares / quasi-likelihood contribution of row i is
/// multiplied by wᵢ).
///
/// | argument | meaning |
/// |---|---|
/// | `y` | outcome, n rows, finite (Poisson: ≥ 0) |
/// | `x` | n×p regressors, finite; a column `(Intercept)` is dropped when there are fixed effects |
/// | `column_names` | p names |
/// | `fixed_effects` | `(name, code per row)` per fixed effect (any `u32` codes; none for a model without fixed effects) |
/// | `weights` | ≥ 0, finite; rows with weight 0 are dropped |
/// | `offset` | Poisson: added to the linear predictor (log exposure); Gaussian: subtracted from `y` |
/// | `vcov` | [`Vcov`] |
/// | `model` | [`FeModel`] |
///
/// Non-convergence is not an error: the fit comes back with `converged = false`.
///
/// # Errors
/// Mismatched lengths; a non-finite value (named, with its row); a negative Poisson
/// outcome or negative weight; no observation left after the drops; a fixed effect or
/// cluster variable with a single level; more than two cluster variables; no regressor,
/// or all of them collinear; no residual degrees of freedom; an invalid option; a
/// diverging Poisson fit.
#[allow(clippy::too_many_arguments)]
pub fn fit_fe(
    y: &[f64],
    x: &DMatrix<f64>,
    column_names: &[String],
    fixed_effects: &[(String, Vec<u32>)],
    weights: Option<&[f64]>,
    offset: Option<&[f64]>,
    vcov: &Vcov,
    model: &FeModel,
) -> Result<FeFit, FeError> {
    model.validate()?;
    let n_input = y.len();
    validate_inputs(
        y,
        x,
        column_names,
        fixed_effects,
        weights,
        offset,
        vcov,
        model,
    )?;

    // Rows used. Codes far larger than the number of rows are compacted first, so that
    // tables indexed by code stay small.
    let fe_input: Vec<Cow<'_, [u32]>> = fixed_effects
        .iter()
        .map(|(_, c)| compact_codes(c))
        .collect();
    let (keep, dropped) = select_rows(y, &fe_input, weights, model);
    let n = keep.iter().filter(|&&k| k).count();
    if n == 0 {
        return Err(FeError::NoObservations { n_input, dropped });
    }
    let all_kept = n == n_input;

    // Fixed effects over the rows used, densely recoded.
    let mut fe_codes: Vec<Cow<'_, [u32]>> = Vec::with_capacity(fixed_effects.len());
    let mut fixed_effect_sizes = Vec::with_capacity(fixed_effects.len());
    for ((name, _), codes) in fixed_effects.iter().zip(fe_input) {
        let (dense, size) = match codes {
            Cow::Borrowed(c) => dense_codes(c, &keep, n),
            Cow::Owned(c) => {
                let (d, size) = dense_codes(&c, &keep, n);
                (Cow::Owned(d.into_owned()), size)
            }
        };
        if size < 2 {
            return Err(FeError::SingleLevelFixedEffect { name: name.clone() });
        }
        fe_codes.push(dense);
        fixed_effect_sizes.push((name.clone(), size));
    }
    let clusters = match vcov {
        Vcov::Cluster(vars) => {
            let mut out = Vec::with_capacity(vars.len());
            for (name, codes) in vars {
                let (dense, size) = dense_codes(codes, &keep, n);
                if size < 2 {
                    return Err(FeError::SingleCluster { name: name.clone() });
                }
                out.push((name.clone(), dense, size));
            }
            out
        }
        _ => Vec::new(),
    };

    // Regressors: drop the intercept when the fixed effects absorb it.
    let has_fe = !fixed_effects.is_empty();
    let candidate: Vec<usize> = (0..x.ncols())
        .filter(|&j| !(has_fe && column_names[j] == "(Intercept)"))
        .collect();
    if candidate.is_empty() {
        return Err(FeError::NoRegressors);
    }
    let gather = |v: &[f64]| -> Vec<f64> {
        if all_kept {
            v.to_vec()
        } else {
            v.iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(&x, _)| x)
                .collect()
        }
    };
    let y_used = gather(y);
    let w_used = weights.map(gather);
    let offset_used = offset.map(gather);
    let mut x_data = Vec::with_capacity(n * candidate.len());
    for &j in &candidate {
        let column = x.column(j);
        x_data.extend(
            column
                .iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(&v, _)| v),
        );
    }
    let x_used = DMatrix::from_vec(n, candidate.len(), x_data);
    let names_used: Vec<String> = candidate.iter().map(|&j| column_names[j].clone()).collect();

    let index = FixedEffectIndex::new(fe_codes, n);
    let estimate = match model.family {
        FeFamily::Gaussian => fit_gaussian(
            y_used,
            x_used,
            &names_used,
            &index,
            w_used.as_deref(),
            offset_used.as_deref(),
            model,
        )?,
        FeFamily::Poisson => fit_poisson(
            &y_used,
            x_used,
            &names_used,
            &index,
            w_used.as_deref(),
            offset_used.as_deref(),
            model,
        )?,
    };

    let sizes: Vec<usize> = fixed_effect_sizes.iter().map(|(_, s)| *s).collect();
    let k = estimate.names.len();
    let n_params = if sizes.is_empty() {
        k
    } else {
        k + sizes.iter().sum::<usize>() - (sizes.len() - 1)
    };
    if n_params >= n {
        return Err(FeError::NoResidualDf { n_obs: n, n_params });
    }
    let variance = variance(&estimate, &index, &sizes, &clusters, vcov, model.family, n);
    let coefficients = inference(&estimate, &variance.matrix, variance.t_df, model);

    Ok(FeFit {
        family: model.family,
        coefficients,
        vcov: variance.matrix,
        vcov_type: variance.label,
        n_obs: n,
        n_dropped: dropped.total(),
        dropped,
        collinear: estimate.collinear,
        iterations: estimate.iterations,
        converged: estimate.converged,
        demeaning_sweeps: estimate.sweeps,
        deviance: estimate.deviance,
        df_residual: n - n_params,
        df_k: variance.df_k,
        t_df: variance.t_df,
        fixed_effect_sizes,
        cluster_sizes: clusters
            .iter()
            .map(|(name, _, g)| (name.clone(), *g))
            .collect(),
        kept_rows: (0..n_input).filter(|&i| keep[i]).collect(),
    })
}

#[allow(clippy::too_many_arguments)]
fn validate_inputs(
    y: &[f64],
    x: &DMatrix<f64>,
    column_names: &[String],
    fixed_effects: &[(String, Vec<u32>)],
    weights: Option<&[f64]>,
    offset: Option<&[f64]>,
    vcov: &Vcov,
    model: &FeModel,
) -> Result<(), FeError> {
    let n = y.len();
    let check = |what: String, found: usize, expected: usize| {
        if found == expected {
            Ok(())
        } else {
            Err(FeError::DimensionMismatch {
                what,
                expected,
                found,
            })
        }
    };
    check("the regressor matrix".to_string(), x.nrows(), n)?;
    check(
        "the column names".to_string(),
        column_names.len(),
        x.ncols(),
    )?;
    for (name, codes) in fixed_effects {
        check(format!("fixed effect `{name}`"), codes.len(), n)?;
    }
    if let Some(w) = weights {
        check("the weights".to_string(), w.len(), n)?;
    }
    if let Some(o) = offset {
        check("the offset".to_string(), o.len(), n)?;
    }
    if let Vcov::Cluster(vars) = vcov {
        if vars.is_empty() || vars.len() > 2 {
            return Err(FeError::ClusterCount { found: vars.len() });
        }
        for (name, codes) in vars {
            check(format!("cluster variable `{name}`"), codes.len(), n)?;
        }
    }
    if x.ncols() == 0 {
        return Err(FeError::NoRegressors);
    }
    for (i, &v) in y.iter().enumerate() {
        if !v.is_finite() {
            return Err(FeError::NonFinite {
                variable: "the outcome".to_string(),
                row: i,
                value: v,
            });
        }
        if model.family == FeFamily::Poisson && v < 0.0 {
            return Err(FeError::NegativeOutcome { row: i, value: v });
        }
    }
    for (j, name) in column_names.iter().enumerate() {
        if let Some((i, &v)) = x.column(j).iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(FeError::NonFinite {
                variable: name.clone(),
                row: i,
                value: v,
            });
        }
    }
    if let Some(w) = weights {
        for (i, &v) in w.iter().enumerate() {
            if !v.is_finite() {
                return Err(FeError::NonFinite {
                    variable: "the weights".to_string(),
                    row: i,
                    value: v,
                });
            }
            if v < 0.0 {
                return Err(FeError::NegativeWeight { row: i, value: v });
            }
        }
    }
    if let Some(o) = offset {
        if let Some((i, &v)) = o.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(FeError::NonFinite {
                variable: "the offset".to_string(),
                row: i,
                value: v,
            });
        }
    }
    Ok(())
}

/// The rows kept after zero weights, singletons and (Poisson) all-zero groups.
fn select_rows(
    y: &[f64],
    fixed_effects: &[Cow<'_, [u32]>],
    weights: Option<&[f64]>,
    model: &FeModel,
) -> (Vec<bool>, DroppedRows) {
    let n = y.len();
    let mut keep = vec![true; n];
    let mut dropped = DroppedRows::default();
    if let Some(w) = weights {
        for (k, &wi) in keep.iter_mut().zip(w) {
            if wi == 0.0 {
                *k = false;
                dropped.zero_weight += 1;
            }
        }
    }
    if fixed_effects.is_empty() {
        return (keep, dropped);
    }
    let n_slots: Vec<usize> = fixed_effects
        .iter()
        .map(|c| c.iter().map(|&v| v as usize + 1).max().unwrap_or(0))
        .collect();
    let mut counts = vec![0u32; n_slots.iter().copied().max().unwrap_or(0)];
    if model.drop_singletons {
        // Repeat until no fixed effect has a level with a single row (pyfixest's
        // detect_singletons).
        loop {
            let mut changed = false;
            for (codes, &slots) in fixed_effects.iter().zip(&n_slots) {
                let counts = &mut counts[..slots];
                counts.fill(0);
                for (i, &c) in codes.iter().enumerate() {
                    if keep[i] {
                        counts[c as usize] = counts[c as usize].saturating_add(1);
                    }
                }
                for (i, &c) in codes.iter().enumerate() {
                    if keep[i] && counts[c as usize] == 1 {
                        keep[i] = false;
                        dropped.singletons += 1;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }
    if model.family == FeFamily::Poisson && model.drop_separated {
        // Levels (of any fixed effect) whose outcome is 0 in every row kept so far.
        let mut separated = vec![false; n];
        for (codes, &slots) in fixed_effects.iter().zip(&n_slots) {
            let mut positive = vec![false; slots];
            for (i, &c) in codes.iter().enumerate() {
                if keep[i] && y[i] > 0.0 {
                    positive[c as usize] = true;
                }
            }
            for (i, &c) in codes.iter().enumerate() {
                if keep[i] && !positive[c as usize] {
                    separated[i] = true;
                }
            }
        }
        for (k, s) in keep.iter_mut().zip(&separated) {
            if *s && *k {
                *k = false;
                dropped.separated += 1;
            }
        }
    }
    (keep, dropped)
}

/// The codes themselves, or, when some code is far larger than the number of rows, the
/// codes recoded to `0..G` in the same order.
fn compact_codes(codes: &[u32]) -> Cow<'_, [u32]> {
    let max = codes.iter().copied().max().unwrap_or(0) as usize;
    if max < 4 * codes.len() + 1024 {
        return Cow::Borrowed(codes);
    }
    let mut distinct = codes.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    Cow::Owned(
        codes
            .iter()
            .map(|c| distinct.binary_search(c).map_or(0, |p| p as u32))
            .collect(),
    )
}

/// Codes of the rows kept (`keep`, `n_kept` of them), recoded to `0..G` in the order of
/// the input codes, and G. Borrows the input when every row is kept and the codes are
/// already dense.
fn dense_codes<'a>(codes: &'a [u32], keep: &[bool], n_kept: usize) -> (Cow<'a, [u32]>, usize) {
    let kept = || codes.iter().zip(keep).filter(|(_, &k)| k).map(|(&c, _)| c);
    let slots = kept().map(|c| c as usize + 1).max().unwrap_or(0);
    if slots <= 4 * n_kept + 1024 {
        const ABSENT: u32 = u32::MAX;
        let mut map = vec![ABSENT; slots];
        for c in kept() {
            map[c as usize] = 0;
        }
        let mut g = 0u32;
        for m in map.iter_mut() {
            if *m != ABSENT {
                *m = g;
                g += 1;
            }
        }
        let size = g as usize;
        if n_kept == codes.len() && size == slots {
            return (Cow::Borrowed(codes), size);
        }
        let dense = kept().map(|c| map[c as usize]).collect();
        (Cow::Owned(dense), size)
    } else {
        let mut distinct: Vec<u32> = kept().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let dense = kept()
            .map(|c| distinct.binary_search(&c).map_or(0, |p| p as u32))
            .collect();
        (Cow::Owned(dense), distinct.len())
    }
}

// ---------------------------------------------------------------------------------
// Demeaning
// ---------------------------------------------------------------------------------

/// The fixed effects over the rows used, in processing order (most levels first), with
/// the layout of their coefficients in one flat vector.
struct FixedEffectIndex<'a> {
    codes: Vec<Cow<'a, [u32]>>,
    sizes: Vec<usize>,
    /// `offsets[q]..offsets[q + 1]` are the coefficients of fixed effect q.
    offsets: Vec<usize>,
    /// `order[q]` is the input position of the q-th fixed effect processed.
    order: Vec<usize>,
    n: usize,
}

/// Per-level sums of a weight vector, inverted.
struct LevelWeights<'w> {
    weights: Option<&'w [f64]>,
    inverse: Vec<f64>,
}

/// What one demeaning did.
#[derive(Debug, Clone, Copy)]
struct Demeaned {
    sweeps: usize,
    converged: bool,
    /// The weighted standard deviation of the column before demeaning.
    scale: f64,
}

/// Scratch vectors of one demeaning, reused across columns and IRLS iterations.
#[derive(Default)]
struct Workspace {
    sv: Vec<f64>,
    acc: Vec<f64>,
    x: Vec<f64>,
    gx: Vec<f64>,
    ggx: Vec<f64>,
}

impl<'a> FixedEffectIndex<'a> {
    fn new(codes: Vec<Cow<'a, [u32]>>, n: usize) -> Self {
        let mut sizes_in: Vec<usize> = codes
            .iter()
            .map(|c| c.iter().map(|&v| v as usize + 1).max().unwrap_or(0))
            .collect();
        let mut order: Vec<usize> = (0..codes.len()).collect();
        // Most levels first; ties keep the input order.
        order.sort_by(|&a, &b| sizes_in[b].cmp(&sizes_in[a]).then(a.cmp(&b)));
        let mut slots: Vec<Option<Cow<'a, [u32]>>> = codes.into_iter().map(Some).collect();
        let mut ordered = Vec::with_capacity(order.len());
        let mut sizes = Vec::with_capacity(order.len());
        for &q in &order {
            if let Some(c) = slots[q].take() {
                ordered.push(c);
            }
            sizes.push(std::mem::take(&mut sizes_in[q]));
        }
        let mut offsets = vec![0];
        for s in &sizes {
            let last = offsets.last().copied().unwrap_or(0);
            offsets.push(last + s);
        }
        FixedEffectIndex {
            codes: ordered,
            sizes,
            offsets,
            order,
            n,
        }
    }

    fn n_fe(&self) -> usize {
        self.codes.len()
    }

    fn n_coef(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }

    /// The codes of the fixed effect given in input position `input_q`.
    fn codes_of_input(&self, input_q: usize) -> Option<&[u32]> {
        self.order
            .iter()
            .position(|&q| q == input_q)
            .map(|p| &*self.codes[p])
    }

    fn level_weights<'w>(&self, weights: Option<&'w [f64]>) -> LevelWeights<'w> {
        let mut inverse = vec![0.0; self.n_coef()];
        for (q, codes) in self.codes.iter().enumerate() {
            let sums = &mut inverse[self.offsets[q]..self.offsets[q + 1]];
            match weights {
                Some(w) => {
                    for (&c, &wi) in codes.iter().zip(w) {
                        sums[c as usize] += wi;
                    }
                }
                None => {
                    for &c in codes.iter() {
                        sums[c as usize] += 1.0;
                    }
                }
            }
            for s in sums.iter_mut() {
                *s = if *s > 0.0 { 1.0 / *s } else { 0.0 };
            }
        }
        LevelWeights { weights, inverse }
    }

    /// Replaces `v` by its residual from the weighted projection on the fixed effects.
    /// `coef` (length `n_coef()`) holds the fixed-effect coefficients of `v`: read as a
    /// warm start, written with the solution.
    fn demean(
        &self,
        lw: &LevelWeights<'_>,
        v: &mut [f64],
        coef: &mut [f64],
        ws: &mut Workspace,
        tol: f64,
        max_sweeps: usize,
    ) -> Demeaned {
        let n_fe = self.n_fe();
        let n_coef = self.n_coef();
        // Weighted level sums of v, and its weighted mean and standard deviation (one
        // pass, with the data shifted by v[0] so that a constant column has exactly 0).
        ws.sv.clear();
        ws.sv.resize(n_coef, 0.0);
        let shift = v.first().copied().unwrap_or(0.0);
        let (mut sw, mut swd, mut swd2) = (0.0, 0.0, 0.0);
        for i in 0..self.n {
            let wi = lw.weights.map_or(1.0, |w| w[i]);
            let wv = wi * v[i];
            let d = v[i] - shift;
            sw += wi;
            swd += wi * d;
            swd2 += wi * d * d;
            for q in 0..n_fe {
                ws.sv[self.offsets[q] + self.codes[q][i] as usize] += wv;
            }
        }
        let (mean, scale) = if sw > 0.0 {
            let md = swd / sw;
            (shift + md, (swd2 / sw - md * md).max(0.0).sqrt())
        } else {
            (0.0, 0.0)
        };
        if n_fe == 0 {
            return Demeaned {
                sweeps: 0,
                converged: true,
                scale,
            };
        }
        if scale <= 0.0 || scale.is_nan() {
            // A constant column: the fixed effects absorb it exactly.
            v.iter_mut().for_each(|x| *x = 0.0);
            coef.iter_mut().for_each(|c| *c = 0.0);
            coef[..self.offsets[1]].iter_mut().for_each(|c| *c = mean);
            return Demeaned {
                sweeps: 0,
                converged: true,
                scale,
            };
        }
        let mut sweeps = 1;
        let mut converged = true;
        if n_fe == 1 {
            for (c, (s, inv)) in coef.iter_mut().zip(ws.sv.iter().zip(&lw.inverse)) {
                *c = s * inv;
            }
        } else {
            let m = n_coef - self.offsets[1];
            let threshold = tol * scale;
            ws.x.clear();
            ws.x.extend_from_slice(&coef[self.offsets[1]..]);
            ws.gx.resize(m, 0.0);
            ws.ggx.resize(m, 0.0);
            let mut acc = std::mem::take(&mut ws.acc);
            self.sweep(lw, &ws.sv, coef, &ws.x, &mut ws.gx, &mut acc);
            let mut keep_going = max_abs_diff(&ws.x, &ws.gx) > threshold;
            while keep_going && sweeps < max_sweeps {
                self.sweep(lw, &ws.sv, coef, &ws.gx, &mut ws.ggx, &mut acc);
                sweeps += 1;
                if max_abs_diff(&ws.gx, &ws.ggx) <= threshold {
                    // Converged without extrapolation (e.g. a balanced panel, exact
                    // after one sweep).
                    std::mem::swap(&mut ws.gx, &mut ws.ggx);
                    keep_going = false;
                    break;
                }
                irons_tuck(&mut ws.x, &ws.gx, &ws.ggx);
                self.sweep(lw, &ws.sv, coef, &ws.x, &mut ws.gx, &mut acc);
                sweeps += 1;
                keep_going = max_abs_diff(&ws.x, &ws.gx) > threshold;
            }
            converged = !keep_going;
            // `coef` holds the state of the last sweep: the others' final values and the
            // first fixed effect's from the sweep's start, which is within tolerance.
            debug_assert!(coef[self.offsets[1]..] == ws.gx[..]);
            ws.acc = acc;
        }
        // v − Σ_q α_q[g_q(i)].
        match n_fe {
            1 => {
                let g0 = &self.codes[0];
                for i in 0..self.n {
                    v[i] -= coef[g0[i] as usize];
                }
            }
            2 => {
                let (g0, g1) = (&self.codes[0], &self.codes[1]);
                let (a0, a1) = coef.split_at(self.offsets[1]);
                for i in 0..self.n {
                    v[i] -= a0[g0[i] as usize] + a1[g1[i] as usize];
                }
            }
            _ => {
                for i in 0..self.n {
                    let mut s = 0.0;
                    for q in 0..n_fe {
                        s += coef[self.offsets[q] + self.codes[q][i] as usize];
                    }
                    v[i] -= s;
                }
            }
        }
        Demeaned {
            sweeps,
            converged,
            scale,
        }
    }

    /// One Gauss–Seidel sweep: with the coefficients of fixed effects 1.. set to `input`,
    /// recompute fixed effect 0, then 1, 2, ... in turn; `output` receives the new
    /// coefficients of fixed effects 1...
    fn sweep(
        &self,
        lw: &LevelWeights<'_>,
        sv: &[f64],
        coef: &mut [f64],
        input: &[f64],
        output: &mut [f64],
        acc: &mut Vec<f64>,
    ) {
        let start = self.offsets[1];
        coef[start..].copy_from_slice(input);
        for q in 0..self.n_fe() {
            self.update(q, lw, sv, coef, acc);
        }
        output.copy_from_slice(&coef[start..]);
    }

    /// α_q[l] = (Σ_{i in l} wᵢ vᵢ − Σ_{i in l} wᵢ Σ_{h≠q} α_h[g_h(i)]) / Σ_{i in l} wᵢ.
    fn update(
        &self,
        q: usize,
        lw: &LevelWeights<'_>,
        sv: &[f64],
        coef: &mut [f64],
        acc: &mut Vec<f64>,
    ) {
        let size = self.sizes[q];
        acc.clear();
        acc.resize(size, 0.0);
        let gq = &self.codes[q];
        if self.n_fe() == 2 {
            let other = 1 - q;
            let go = &self.codes[other];
            let co = &coef[self.offsets[other]..self.offsets[other + 1]];
            match lw.weights {
                Some(w) => {
                    for i in 0..self.n {
                        acc[gq[i] as usize] += w[i] * co[go[i] as usize];
                    }
                }
                None => {
                    for i in 0..self.n {
                        acc[gq[i] as usize] += co[go[i] as usize];
                    }
                }
            }
        } else {
            for i in 0..self.n {
                let mut s = 0.0;
                for h in 0..self.n_fe() {
                    if h != q {
                        s += coef[self.offsets[h] + self.codes[h][i] as usize];
                    }
                }
                acc[gq[i] as usize] += lw.weights.map_or(s, |w| w[i] * s);
            }
        }
        let base = self.offsets[q];
        for l in 0..size {
            coef[base + l] = (sv[base + l] - acc[l]) * lw.inverse[base + l];
        }
    }

    /// Adds each column's fixed-effect part back: the inverse of [`Self::demean`]. A
    /// column without coefficients yet is left alone.
    fn restore_columns(&self, x: &mut DMatrix<f64>, coefs: &[Vec<f64>]) {
        let n = self.n;
        for (col, coef) in x.as_mut_slice().chunks_mut(n.max(1)).zip(coefs) {
            if coef.len() != self.n_coef() {
                continue;
            }
            for i in 0..n {
                let mut s = 0.0;
                for q in 0..self.n_fe() {
                    s += coef[self.offsets[q] + self.codes[q][i] as usize];
                }
                col[i] += s;
            }
        }
    }

    /// Demeans several columns, each with its own coefficients, on up to `threads`
    /// threads. Each column's computation is independent of the others', so the result
    /// does not depend on the number of threads.
    fn demean_columns(
        &self,
        lw: &LevelWeights<'_>,
        columns: Vec<(&mut [f64], &mut Vec<f64>)>,
        tol: f64,
        max_sweeps: usize,
        threads: usize,
    ) -> Vec<Demeaned> {
        let n_coef = self.n_coef();
        let run = |(v, coef): (&mut [f64], &mut Vec<f64>), ws: &mut Workspace| {
            coef.resize(n_coef, 0.0);
            self.demean(lw, v, coef, ws, tol, max_sweeps)
        };
        let n_cols = columns.len();
        let threads = threads.min(n_cols).max(1);
        if threads == 1 {
            let mut ws = Workspace::default();
            return columns.into_iter().map(|c| run(c, &mut ws)).collect();
        }
        // Column j goes to thread j % threads.
        type Job<'c> = (usize, (&'c mut [f64], &'c mut Vec<f64>));
        let mut buckets: Vec<Vec<Job<'_>>> = (0..threads).map(|_| Vec::new()).collect();
        for (j, c) in columns.into_iter().enumerate() {
            buckets[j % threads].push((j, c));
        }
        let mut results: Vec<Option<Demeaned>> = vec![None; n_cols];
        std::thread::scope(|scope| {
            let handles: Vec<_> = buckets
                .into_iter()
                .map(|bucket| {
                    let run = &run;
                    scope.spawn(move || {
                        let mut ws = Workspace::default();
                        bucket
                            .into_iter()
                            .map(|(j, c)| (j, run(c, &mut ws)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                // A panic in a worker is a bug; propagate it.
                let done = match h.join() {
                    Ok(done) => done,
                    Err(payload) => std::panic::resume_unwind(payload),
                };
                for (j, d) in done {
                    results[j] = Some(d);
                }
            }
        });
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or(Demeaned {
                    sweeps: 0,
                    converged: false,
                    scale: 0.0,
                })
            })
            .collect()
    }
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()))
}

/// Irons & Tuck (1969) extrapolation from X, G(X), G(G(X)), in place in `x`.
fn irons_tuck(x: &mut [f64], gx: &[f64], ggx: &[f64]) {
    let (mut vprod, mut ssq) = (0.0, 0.0);
    for i in 0..x.len() {
        let d_gx = ggx[i] - gx[i];
        let d2 = d_gx - gx[i] + x[i];
        vprod += d_gx * d2;
        ssq += d2 * d2;
    }
    if ssq > 0.0 && ssq.is_finite() {
        let coef = vprod / ssq;
        for i in 0..x.len() {
            x[i] = ggx[i] - coef * (ggx[i] - gx[i]);
        }
    } else {
        x.copy_from_slice(ggx);
    }
}

// ---------------------------------------------------------------------------------
// Estimation
// ---------------------------------------------------------------------------------

/// What the variance needs from either estimator.
struct Estimate {
    names: Vec<String>,
    beta: Vec<f64>,
    /// (X̃'WX̃)⁻¹ of the kept columns.
    bread: DMatrix<f64>,
    /// Demeaned kept regressors, n×k column-major.
    x_tilde: DMatrix<f64>,
    /// Score multipliers wᵢ eᵢ (weight × working residual).
    u: Vec<f64>,
    /// Σ wᵢ eᵢ² (least squares).
    rss: f64,
    deviance: f64,
    collinear: Vec<String>,
    iterations: usize,
    converged: bool,
    sweeps: usize,
}

/// Columns to keep: sequential Cholesky on X̃'WX̃; column j is dropped when its squared
/// norm after projecting out the earlier kept columns is at most `tol` times
/// `reference[j]` (its weighted sum of squares before demeaning, centred when there
/// are fixed effects).
fn independent_columns(
    x: &DMatrix<f64>,
    w: Option<&[f64]>,
    reference: &[f64],
    tol: f64,
) -> Vec<bool> {
    let n = x.nrows();
    let p = x.ncols();
    let mut gram = DMatrix::<f64>::zeros(p, p);
    // Blocked accumulation: one pass over the rows for all pairs.
    const BLOCK: usize = 512;
    let xs = x.as_slice();
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK).min(n);
        for a in 0..p {
            let xa = &xs[a * n + start..a * n + end];
            for b in 0..=a {
                let xb = &xs[b * n + start..b * n + end];
                let s: f64 = match w {
                    Some(w) => {
                        let wb = &w[start..end];
                        xa.iter().zip(xb).zip(wb).map(|((p, q), r)| p * q * r).sum()
                    }
                    None => xa.iter().zip(xb).map(|(p, q)| p * q).sum(),
                };
                gram[(a, b)] += s;
            }
        }
        start = end;
    }
    let mut r = DMatrix::<f64>::zeros(p, p);
    let mut keep = vec![false; p];
    for j in 0..p {
        let mut rjj = gram[(j, j)];
        for l in 0..j {
            if keep[l] {
                rjj -= r[(l, j)] * r[(l, j)];
            }
        }
        // NaN-safe: a column is kept only if both comparisons hold.
        let independent = reference[j] > 0.0 && rjj > tol * reference[j];
        if !independent {
            continue;
        }
        keep[j] = true;
        let d = rjj.sqrt();
        r[(j, j)] = d;
        for i in (j + 1)..p {
            let mut s = gram[(i, j)];
            for l in 0..j {
                if keep[l] {
                    s -= r[(l, i)] * r[(l, j)];
                }
            }
            r[(j, i)] = s / d;
        }
    }
    keep
}

fn select_columns(x: &DMatrix<f64>, keep: &[bool]) -> DMatrix<f64> {
    let cols: Vec<usize> = (0..keep.len()).filter(|&j| keep[j]).collect();
    DMatrix::from_fn(x.nrows(), cols.len(), |i, j| x[(i, cols[j])])
}

/// Tolerance of the final least-squares steps' rank decision; collinearity has already
/// been dealt with by [`independent_columns`].
const WLS_TOLERANCE: f64 = 1e-10;

/// Least squares of z on X with weights, requiring full column rank.
fn solve_wls(
    x: &DMatrix<f64>,
    z: &DVector<f64>,
    w: &DVector<f64>,
) -> Result<(WlsSolution, Vec<bool>), FeError> {
    let sol = weighted_least_squares(x, z, w, WLS_TOLERANCE)?;
    let aliased = sol.aliased.clone();
    Ok((sol, aliased))
}

fn fit_gaussian(
    mut y: Vec<f64>,
    mut x: DMatrix<f64>,
    names: &[String],
    index: &FixedEffectIndex<'_>,
    weights: Option<&[f64]>,
    offset: Option<&[f64]>,
    model: &FeModel,
) -> Result<Estimate, FeError> {
    let n = y.len();
    if let Some(o) = offset {
        for (yi, oi) in y.iter_mut().zip(o) {
            *yi -= oi;
        }
    }
    let lw = index.level_weights(weights);
    let p = x.ncols();
    let mut coefs: Vec<Vec<f64>> = vec![Vec::new(); p + 1];
    let mut columns: Vec<(&mut [f64], &mut Vec<f64>)> = Vec::with_capacity(p + 1);
    let (coef_y, coef_x) = coefs.split_at_mut(1);
    columns.push((&mut y[..], &mut coef_y[0]));
    for (col, c) in x.as_mut_slice().chunks_mut(n.max(1)).zip(coef_x.iter_mut()) {
        columns.push((col, c));
    }
    let outcomes = index.demean_columns(
        &lw,
        columns,
        model.fixef_tolerance,
        model.fixef_max_iter,
        model.threads,
    );
    drop(coefs);
    let sum_w = weights.map_or(n as f64, |w| w.iter().sum());
    let reference = reference_scales(&x, weights, &outcomes[1..], index.n_fe() > 0, sum_w);

    let keep = independent_columns(&x, weights, &reference, model.collinearity_tolerance);
    if !keep.iter().any(|&k| k) {
        return Err(FeError::AllCollinear {
            names: names.to_vec(),
        });
    }
    let mut collinear = dropped_names(names, &keep);
    let mut kept = kept_names(names, &keep);
    if !collinear.is_empty() {
        x = select_columns(&x, &keep);
    }
    let w_vec = DVector::from_vec(weights.map_or_else(|| vec![1.0; n], <[f64]>::to_vec));
    let y_vec = DVector::from_vec(y);
    let sol = loop {
        let (sol, aliased) = solve_wls(&x, &y_vec, &w_vec)?;
        if !aliased.iter().any(|&a| a) {
            break sol;
        }
        let keep: Vec<bool> = aliased.iter().map(|&a| !a).collect();
        collinear.extend(dropped_names(&kept, &keep));
        kept = kept_names(&kept, &keep);
        if kept.is_empty() {
            return Err(FeError::AllCollinear {
                names: names.to_vec(),
            });
        }
        x = select_columns(&x, &keep);
    };
    let beta: Vec<f64> = sol.coefficients.iter().copied().collect();
    // Residuals, then the score multipliers wᵢ eᵢ in the outcome's buffer.
    let mut u = y_vec;
    let mut rss = 0.0;
    for i in 0..n {
        let mut fitted = 0.0;
        for (j, bj) in beta.iter().enumerate() {
            fitted += x[(i, j)] * bj;
        }
        let e = u[i] - fitted;
        rss += w_vec[i] * e * e;
        u[i] = w_vec[i] * e;
    }
    drop(w_vec);
    let u = Vec::from(u.data);
    let sweeps = outcomes.iter().map(|d| d.sweeps).max().unwrap_or(0);
    let converged = outcomes.iter().all(|d| d.converged);
    Ok(Estimate {
        names: kept,
        beta,
        bread: sol.unscaled_covariance(),
        x_tilde: x,
        u,
        rss,
        deviance: rss,
        collinear,
        iterations: 1,
        converged,
        sweeps,
    })
}

/// The weighted sums of squares the collinearity check compares against: centred when
/// there are fixed effects (every fixed effect absorbs a constant).
fn reference_scales(
    x_demeaned: &DMatrix<f64>,
    weights: Option<&[f64]>,
    outcomes: &[Demeaned],
    has_fe: bool,
    sum_w: f64,
) -> Vec<f64> {
    if has_fe {
        outcomes.iter().map(|d| d.scale * d.scale * sum_w).collect()
    } else {
        (0..x_demeaned.ncols())
            .map(|j| {
                let col = x_demeaned.column(j);
                match weights {
                    Some(w) => col.iter().zip(w).map(|(v, wi)| wi * v * v).sum(),
                    None => col.iter().map(|v| v * v).sum(),
                }
            })
            .collect()
    }
}

fn kept_names(names: &[String], keep: &[bool]) -> Vec<String> {
    names
        .iter()
        .zip(keep)
        .filter(|(_, &k)| k)
        .map(|(s, _)| s.clone())
        .collect()
}

fn dropped_names(names: &[String], keep: &[bool]) -> Vec<String> {
    names
        .iter()
        .zip(keep)
        .filter(|(_, &k)| !k)
        .map(|(s, _)| s.clone())
        .collect()
}

/// Poisson deviance 2 Σ wᵢ (yᵢ log(yᵢ/μᵢ) − (yᵢ − μᵢ)).
fn poisson_deviance(y: &[f64], mu: &[f64], weights: Option<&[f64]>) -> f64 {
    let mut d = 0.0;
    for i in 0..y.len() {
        let term = if y[i] > 0.0 {
            y[i] * (y[i] / mu[i]).ln()
        } else {
            0.0
        } - (y[i] - mu[i]);
        d += weights.map_or(term, |w| w[i] * term);
    }
    2.0 * d
}

/// Loosest demeaning tolerance used in early IRLS iterations.
const LOOSE_FIXEF_TOLERANCE: f64 = 1e-4;

fn fit_poisson(
    y: &[f64],
    x: DMatrix<f64>,
    names: &[String],
    index: &FixedEffectIndex<'_>,
    weights: Option<&[f64]>,
    offset: Option<&[f64]>,
    model: &FeModel,
) -> Result<Estimate, FeError> {
    let n = y.len();
    let mut names: Vec<String> = names.to_vec();
    let mut collinear: Vec<String> = Vec::new();
    let off = |i: usize| offset.map_or(0.0, |o| o[i]);
    let prior = |i: usize| weights.map_or(1.0, |w| w[i]);

    // Buffers, reused across iterations. `irls_w` holds μ between iterations and the
    // working weights (prior weight × μ) during one.
    let y_mean = y.iter().sum::<f64>() / n as f64;
    // Starting values as pyfixest: μ = (y + ȳ) / 2 with the unweighted mean.
    let mut irls_w = DVector::<f64>::from_fn(n, |i, _| (y[i] + y_mean) / 2.0);
    let mut eta: Vec<f64> = irls_w.iter().map(|m| m.ln()).collect();
    let mut last_deviance = poisson_deviance(y, irls_w.as_slice(), weights);
    // The regressors are demeaned in place; before each re-demeaning with new weights
    // their fixed-effect part is added back (X = X̃ + Σ_q α_q), which saves a copy of X
    // at the price of a rounding error of a few ulps per iteration.
    let mut x_tilde = x;
    let mut z_tilde = DVector::<f64>::zeros(n);
    let mut coef_z: Vec<f64> = Vec::new();
    let mut coef_x: Vec<Vec<f64>> = vec![Vec::new(); x_tilde.ncols()];
    let mut inner_tol = LOOSE_FIXEF_TOLERANCE.max(model.fixef_tolerance);
    let mut converged = false;
    let mut iterations = 0;
    let mut sweeps = 0;
    let mut demeaning_converged = true;
    let mut beta: Option<Vec<f64>> = None;
    let mut deviance = last_deviance;

    for iteration in 1..=model.irls_max_iter {
        iterations = iteration;
        for i in 0..n {
            let mu = irls_w[i];
            irls_w[i] = prior(i) * mu;
            z_tilde[i] = eta[i] - off(i) + y[i] / mu - 1.0;
        }
        index.restore_columns(&mut x_tilde, &coef_x);
        let lw = index.level_weights(Some(irls_w.as_slice()));
        let mut columns: Vec<(&mut [f64], &mut Vec<f64>)> = Vec::with_capacity(x_tilde.ncols() + 1);
        columns.push((z_tilde.as_mut_slice(), &mut coef_z));
        for (col, c) in x_tilde
            .as_mut_slice()
            .chunks_mut(n.max(1))
            .zip(coef_x.iter_mut())
        {
            columns.push((col, c));
        }
        let outcomes =
            index.demean_columns(&lw, columns, inner_tol, model.fixef_max_iter, model.threads);
        sweeps = sweeps.max(outcomes.iter().map(|d| d.sweeps).max().unwrap_or(0));
        let full_tolerance = inner_tol <= model.fixef_tolerance;

        if iteration == 1 {
            // Collinearity with the fixed effects, judged at the first weights (pyfixest).
            let sum_w: f64 = irls_w.iter().sum();
            let reference = reference_scales(
                &x_tilde,
                Some(irls_w.as_slice()),
                &outcomes[1..],
                index.n_fe() > 0,
                sum_w,
            );
            let keep = independent_columns(
                &x_tilde,
                Some(irls_w.as_slice()),
                &reference,
                model.collinearity_tolerance,
            );
            if !keep.iter().any(|&k| k) {
                return Err(FeError::AllCollinear { names });
            }
            if keep.iter().any(|&k| !k) {
                drop_columns(&keep, &mut names, &mut collinear, &mut x_tilde, &mut coef_x);
            }
        }
        let sol = loop {
            let (sol, aliased) = solve_wls(&x_tilde, &z_tilde, &irls_w)?;
            if !aliased.iter().any(|&a| a) {
                break sol;
            }
            // Collinear at these weights though not at the first ones: drop and re-solve.
            let keep: Vec<bool> = aliased.iter().map(|&a| !a).collect();
            drop_columns(&keep, &mut names, &mut collinear, &mut x_tilde, &mut coef_x);
            if names.is_empty() {
                return Err(FeError::AllCollinear { names: collinear });
            }
        };

        // η = z − (z̃ − X̃β) + offset with z = η_old − offset + y/μ_old − 1; `irls_w`
        // receives the new μ.
        let b = sol.coefficients.as_slice();
        let mut dev = 0.0;
        for i in 0..n {
            let mut fitted = 0.0;
            for (j, bj) in b.iter().enumerate() {
                fitted += x_tilde[(i, j)] * bj;
            }
            let resid = z_tilde[i] - fitted;
            let mu_old = irls_w[i] / prior(i);
            eta[i] += y[i] / mu_old - 1.0 - resid;
            let mu = eta[i].exp();
            if !mu.is_finite() {
                return Err(FeError::Diverged { iteration });
            }
            irls_w[i] = mu;
            let term = if y[i] > 0.0 {
                y[i] * (y[i] / mu).ln()
            } else {
                0.0
            } - (y[i] - mu);
            dev += prior(i) * term;
        }
        deviance = 2.0 * dev;
        if !deviance.is_finite() {
            return Err(FeError::Diverged { iteration });
        }
        let crit = (deviance - last_deviance).abs() / (0.1 + last_deviance.abs());
        last_deviance = deviance;
        beta = Some(b.to_vec());
        demeaning_converged = outcomes.iter().all(|d| d.converged);
        if crit < model.irls_tolerance && full_tolerance {
            converged = true;
            break;
        }
        inner_tol = model
            .fixef_tolerance
            .max((crit * 1e-3).min(LOOSE_FIXEF_TOLERANCE));
    }
    drop(eta);
    let Some(beta) = beta else {
        return Err(FeError::AllCollinear { names: collinear });
    };

    // The variance at the solution: weights (prior weight × μᵢ), regressors demeaned
    // with them (warm-started, so cheap), and the working residuals there,
    // (yᵢ − μᵢ)/μᵢ, which the first-order conditions make orthogonal to the fixed
    // effects and X̃. pyfixest and fixest take them from the last IRLS step, one step
    // behind; at their tight-tolerance solution the two agree.
    for i in 0..n {
        let mu = irls_w[i];
        irls_w[i] = prior(i) * mu;
        z_tilde[i] = (y[i] - mu) / mu;
    }
    index.restore_columns(&mut x_tilde, &coef_x);
    let lw = index.level_weights(Some(irls_w.as_slice()));
    let columns: Vec<(&mut [f64], &mut Vec<f64>)> = x_tilde
        .as_mut_slice()
        .chunks_mut(n.max(1))
        .zip(coef_x.iter_mut())
        .collect();
    let outcomes = index.demean_columns(
        &lw,
        columns,
        model.fixef_tolerance,
        model.fixef_max_iter,
        model.threads,
    );
    sweeps = sweeps.max(outcomes.iter().map(|d| d.sweeps).max().unwrap_or(0));
    let demeaning_converged = demeaning_converged && outcomes.iter().all(|d| d.converged);
    let (at_solution, aliased) = solve_wls(&x_tilde, &z_tilde, &irls_w)?;
    if aliased.iter().any(|&a| a) {
        return Err(FeError::AllCollinear { names });
    }
    // Score multipliers (prior weight × (yᵢ − μᵢ)), in the working-residual buffer.
    for i in 0..n {
        z_tilde[i] *= irls_w[i];
    }
    Ok(Estimate {
        names,
        beta,
        bread: at_solution.unscaled_covariance(),
        x_tilde,
        u: Vec::from(z_tilde.data),
        rss: 0.0,
        deviance,
        collinear,
        iterations,
        converged: converged && demeaning_converged,
        sweeps,
    })
}

/// Removes the columns not in `keep` from the (demeaned) regressors and their warm
/// starts, and records their names as collinear.
fn drop_columns(
    keep: &[bool],
    names: &mut Vec<String>,
    collinear: &mut Vec<String>,
    x_tilde: &mut DMatrix<f64>,
    coef_x: &mut Vec<Vec<f64>>,
) {
    collinear.extend(dropped_names(names, keep));
    *names = kept_names(names, keep);
    *x_tilde = select_columns(x_tilde, keep);
    let mut flags = keep.iter();
    coef_x.retain(|_| flags.next().copied().unwrap_or(false));
}

// ---------------------------------------------------------------------------------
// Variance and inference
// ---------------------------------------------------------------------------------

struct Variance {
    matrix: DMatrix<f64>,
    label: String,
    df_k: usize,
    t_df: Option<f64>,
}

fn variance(
    est: &Estimate,
    index: &FixedEffectIndex<'_>,
    fe_sizes: &[usize],
    clusters: &[(String, Cow<'_, [u32]>, usize)],
    vcov: &Vcov,
    family: FeFamily,
    n: usize,
) -> Variance {
    let k = est.names.len();
    let nf = n as f64;
    let xs = est.x_tilde.as_slice();
    let gaussian = family == FeFamily::Gaussian;
    let t_df = |df: f64| if gaussian { Some(df) } else { None };
    match vcov {
        Vcov::Iid => {
            let df_k = small_sample_k(k, fe_sizes, &[]);
            let factor = (nf - 1.0) / (nf - df_k as f64);
            let sigma2 = if gaussian { est.rss / (nf - 1.0) } else { 1.0 };
            Variance {
                matrix: &est.bread * (sigma2 * factor),
                label: "iid".to_string(),
                df_k,
                t_df: t_df(nf - df_k as f64),
            }
        }
        Vcov::Hc1 => {
            let df_k = small_sample_k(k, fe_sizes, &[]);
            let factor = nf / (nf - df_k as f64);
            let meat = hetero_meat(xs, n, &est.u);
            Variance {
                matrix: sandwich(&est.bread, &meat) * factor,
                label: "hetero".to_string(),
                df_k,
                t_df: t_df(nf - df_k as f64),
            }
        }
        Vcov::Cluster(_) => {
            // One-way: the variable; two-way: both and their intersection.
            let mut dims: Vec<(Cow<'_, [u32]>, usize, f64)> = clusters
                .iter()
                .map(|(_, codes, g)| (Cow::Borrowed(&**codes), *g, 1.0))
                .collect();
            if clusters.len() == 2 {
                let (inter, g12) = intersection(&clusters[0].1, clusters[0].2, &clusters[1].1);
                dims.push((Cow::Owned(inter), g12, -1.0));
            }
            let g_min = dims.iter().map(|d| d.1).min().unwrap_or(0);
            let nested: Vec<bool> = (0..fe_sizes.len())
                .map(|q| {
                    index.codes_of_input(q).is_some_and(|fe| {
                        dims.iter().any(|(c, _, _)| is_nested(fe, fe_sizes[q], c))
                    })
                })
                .collect();
            let df_k = small_sample_k(k, fe_sizes, &nested);
            let g = g_min as f64;
            let factor = (nf - 1.0) / (nf - df_k as f64) * g / (g - 1.0);
            let mut matrix = DMatrix::zeros(k, k);
            for (codes, groups, sign) in &dims {
                let meat = cluster_meat(xs, n, &est.u, codes, *groups);
                matrix += sandwich(&est.bread, &meat) * (sign * factor);
            }
            let names: Vec<&str> = clusters.iter().map(|c| c.0.as_str()).collect();
            Variance {
                matrix,
                label: format!("CRV1({})", names.join(", ")),
                df_k,
                t_df: t_df(g - 1.0),
            }
        }
    }
}

/// Dense codes of the pairs (a, b) and their number.
fn intersection(a: &[u32], ga: usize, b: &[u32]) -> (Vec<u32>, usize) {
    let gb = b.iter().map(|&v| v as u64 + 1).max().unwrap_or(0);
    let key = |i: usize| a[i] as u64 * gb + b[i] as u64;
    let n = a.len();
    let space = ga as u64 * gb;
    if space <= 4 * n as u64 + 1024 {
        const ABSENT: u32 = u32::MAX;
        let mut slot = vec![ABSENT; space as usize];
        for i in 0..n {
            slot[key(i) as usize] = 0;
        }
        let mut g = 0u32;
        for s in slot.iter_mut() {
            if *s != ABSENT {
                *s = g;
                g += 1;
            }
        }
        ((0..n).map(|i| slot[key(i) as usize]).collect(), g as usize)
    } else {
        let mut distinct: Vec<u64> = (0..n).map(key).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let codes = (0..n)
            .map(|i| distinct.binary_search(&key(i)).map_or(0, |p| p as u32))
            .collect();
        (codes, distinct.len())
    }
}

fn inference(
    est: &Estimate,
    vcov: &DMatrix<f64>,
    t_df: Option<f64>,
    model: &FeModel,
) -> Vec<FeCoefficient> {
    let alpha = 1.0 - model.confidence_level;
    let normal = Normal::standard();
    let student = t_df.and_then(|df| StudentsT::new(0.0, 1.0, df).ok());
    let quantile = match (&student, t_df) {
        (Some(t), _) => t.inverse_cdf(1.0 - alpha / 2.0),
        (None, Some(_)) => f64::NAN,
        (None, None) => normal.inverse_cdf(1.0 - alpha / 2.0),
    };
    est.names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let estimate = est.beta[j];
            let std_error = vcov[(j, j)].sqrt();
            let statistic = estimate / std_error;
            let p_value = match (&student, t_df) {
                (Some(t), _) => 2.0 * t.cdf(-statistic.abs()),
                (None, Some(_)) => f64::NAN,
                (None, None) => 2.0 * normal.cdf(-statistic.abs()),
            };
            FeCoefficient {
                name: name.clone(),
                estimate,
                std_error,
                statistic,
                p_value,
                conf_low: estimate - quantile * std_error,
                conf_high: estimate + quantile * std_error,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::design::{fixed_effect_codes, model_matrix, ColumnData, DataSet};
    use super::super::formula::parse;
    use super::*;
    use serde_json::Value;

    /// Relative agreement required with pyfixest.
    const REL_TOL: f64 = 1e-6;
    /// Values below this in absolute size are compared absolutely.
    const ABS_FLOOR: f64 = 1e-10;

    const REFERENCE: &str = include_str!("../../tests/reference/fixest/fixest_reference.json");

    fn data_file(name: &str) -> &'static str {
        match name {
            "grunfeld.csv" => include_str!("../../tests/reference/fixest/grunfeld.csv"),
            "organ_donations.csv" => {
                include_str!("../../tests/reference/fixest/organ_donations.csv")
            }
            "castle.csv" => include_str!("../../tests/reference/fixest/castle.csv"),
            "fatalities.csv" => include_str!("../../tests/reference/fixest/fatalities.csv"),
            "patents.csv" => include_str!("../../tests/reference/fixest/patents.csv"),
            "simulated_panel.csv" => {
                include_str!("../../tests/reference/fixest/simulated_panel.csv")
            }
            other => panic!("unknown data file {other}"),
        }
    }

    /// A CSV without quoting: numeric columns where every value parses, text otherwise.
    fn read_csv(text: &str) -> DataSet {
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let rows: Vec<Vec<&str>> = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').collect())
            .collect();
        let mut data = DataSet::new();
        for (j, name) in header.iter().enumerate() {
            let raw: Vec<&str> = rows.iter().map(|r| r[j]).collect();
            let numeric: Option<Vec<f64>> = raw.iter().map(|v| v.parse::<f64>().ok()).collect();
            let column = match numeric {
                Some(v) => ColumnData::Numeric(v),
                None => ColumnData::from_strings(&raw.iter().map(|s| Some(*s)).collect::<Vec<_>>()),
            };
            data.push(*name, column).expect("column");
        }
        data
    }

    fn num(v: &Value) -> f64 {
        match v {
            Value::Null => f64::NAN,
            Value::Number(x) => x.as_f64().expect("number"),
            other => panic!("not a number: {other}"),
        }
    }

    fn column(data: &DataSet, name: &str, rows: &[usize]) -> Vec<f64> {
        match data.get(name) {
            Some(ColumnData::Numeric(v)) => rows.iter().map(|&r| v[r]).collect(),
            _ => panic!("no numeric column {name}"),
        }
    }

    fn rel_diff(a: f64, b: f64) -> f64 {
        if a.is_nan() && b.is_nan() {
            return 0.0;
        }
        let d = (a - b).abs();
        if b.abs() < ABS_FLOOR {
            d
        } else {
            d / b.abs()
        }
    }

    /// Codes of `spec` ("a+b") over `rows`, as fixed effects of a throwaway formula.
    fn groupings(
        data: &DataSet,
        response: &str,
        spec: &str,
        rows: &[usize],
    ) -> Vec<(String, Vec<u32>)> {
        let f = parse(&format!("{response} ~ 1 | {spec}")).expect("formula");
        fixed_effect_codes(&f, data, rows).expect("codes")
    }

    struct Prepared {
        y: Vec<f64>,
        x: DMatrix<f64>,
        names: Vec<String>,
        fe: Vec<(String, Vec<u32>)>,
        weights: Option<Vec<f64>>,
        offset: Option<Vec<f64>>,
        vcov: Vcov,
        model: FeModel,
    }

    fn prepare(case: &Value) -> Prepared {
        let data = read_csv(data_file(case["data_file"].as_str().expect("data file")));
        let formula_text = case["formula"].as_str().expect("formula");
        let f = parse(formula_text).expect("formula parses");
        let design = model_matrix(&f, &data).expect("model matrix");
        let fe = fixed_effect_codes(&f, &data, &design.rows).expect("fixed effects");
        let response = formula_text.split('~').next().expect("lhs").trim();
        let vcov = match &case["vcov"] {
            Value::String(s) if s == "iid" => Vcov::Iid,
            Value::String(s) if s == "hetero" => Vcov::Hc1,
            Value::Object(m) => {
                let spec = m["CRV1"].as_str().expect("CRV1");
                Vcov::Cluster(groupings(&data, response, spec, &design.rows))
            }
            other => panic!("vcov {other}"),
        };
        let family = match case["estimator"].as_str() {
            Some("feols") => FeFamily::Gaussian,
            Some("fepois") => FeFamily::Poisson,
            other => panic!("estimator {other:?}"),
        };
        let optional = |key: &str| case[key].as_str().map(|c| column(&data, c, &design.rows));
        Prepared {
            y: design.response.expect("response").iter().copied().collect(),
            x: design.x,
            names: design.column_names,
            fe,
            weights: optional("weights"),
            offset: optional("offset"),
            vcov,
            model: FeModel::new(family),
        }
    }

    fn fit(p: &Prepared) -> Result<FeFit, FeError> {
        fit_fe(
            &p.y,
            &p.x,
            &p.names,
            &p.fe,
            p.weights.as_deref(),
            p.offset.as_deref(),
            &p.vcov,
            &p.model,
        )
    }

    /// Collects disagreements instead of stopping at the first.
    #[derive(Default)]
    struct Checker {
        failures: Vec<String>,
        worst: f64,
        worst_at: String,
        /// The same over estimates and standard errors only.
        worst_estimate_se: f64,
    }

    impl Checker {
        fn close(&mut self, case: &str, what: &str, ours: f64, theirs: f64) {
            let d = rel_diff(ours, theirs);
            if what.ends_with("estimate") || what.ends_with("std_error") {
                self.worst_estimate_se = self.worst_estimate_se.max(d);
            }
            if d > self.worst {
                self.worst = d;
                self.worst_at = format!("{case} {what}");
            }
            if d.is_nan() || d > REL_TOL {
                self.fail(format!("{case} {what}: {ours} vs {theirs} (rel {d:.2e})"));
            }
        }

        fn fail(&mut self, message: String) {
            self.failures.push(message);
        }
    }

    /// Every stored pyfixest model: estimates, standard errors, statistics, p-values,
    /// intervals, the variance matrix, counts and the pre-trend Wald test.
    #[test]
    fn agrees_with_pyfixest() {
        let reference: Value = serde_json::from_str(REFERENCE).expect("valid JSON");
        let cases = reference["cases"].as_array().expect("cases");
        assert!(cases.len() >= 40);
        let mut ck = Checker::default();
        for case in cases {
            let name = case["name"].as_str().expect("name");
            let p = prepare(case);
            let fit = match fit(&p) {
                Ok(f) => f,
                Err(e) => {
                    ck.fail(format!("{name}: {e}"));
                    continue;
                }
            };
            let coefs = case["coefficients"].as_array().expect("coefficients");
            let names: Vec<&str> = coefs
                .iter()
                .map(|c| c["term"].as_str().expect("term"))
                .collect();
            let ours: Vec<&str> = fit.coefficients.iter().map(|c| c.name.as_str()).collect();
            if names != ours {
                ck.fail(format!("{name}: terms {ours:?} vs {names:?}"));
                continue;
            }
            for (c, r) in fit.coefficients.iter().zip(coefs) {
                for (what, ours) in [
                    ("estimate", c.estimate),
                    ("std_error", c.std_error),
                    ("statistic", c.statistic),
                    ("p_value", c.p_value),
                    ("conf_low", c.conf_low),
                    ("conf_high", c.conf_high),
                ] {
                    ck.close(name, &format!("{} {what}", c.name), ours, num(&r[what]));
                }
            }
            let v = case["vcov_matrix"].as_array().expect("vcov");
            let scale = (0..fit.vcov.nrows())
                .map(|i| fit.vcov[(i, i)].abs())
                .fold(0.0, f64::max);
            for (i, row) in v.iter().enumerate() {
                for (j, val) in row.as_array().expect("row").iter().enumerate() {
                    // Entries relative to the largest variance.
                    let d = (fit.vcov[(i, j)] - num(val)).abs() / scale;
                    ck.worst = ck.worst.max(d);
                    if d.is_nan() || d > REL_TOL {
                        ck.fail(format!(
                            "{name} vcov[{i},{j}]: {} vs {}",
                            fit.vcov[(i, j)],
                            num(val)
                        ));
                    }
                }
            }
            let counts = [
                ("n_obs", fit.n_obs, "n_obs"),
                ("singletons", fit.dropped.singletons, "n_dropped_singletons"),
                ("separated", fit.dropped.separated, "n_dropped_separation"),
                ("df_k", fit.df_k, "df_k"),
            ];
            for (what, ours, key) in counts {
                if ours as u64 != case[key].as_u64().expect("count") {
                    ck.fail(format!("{name} {what}: {ours} vs {}", case[key]));
                }
            }
            let collinear: Vec<&str> = case["collinear"]
                .as_array()
                .expect("collinear")
                .iter()
                .map(|c| c.as_str().expect("name"))
                .collect();
            if fit.collinear != collinear {
                ck.fail(format!(
                    "{name} collinear: {:?} vs {collinear:?}",
                    fit.collinear
                ));
            }
            for (fe, size) in &fit.fixed_effect_sizes {
                let key = fe.replace('^', "_");
                if case["fixed_effect_sizes"][&key].as_u64() != Some(*size as u64) {
                    ck.fail(format!(
                        "{name} size of {fe}: {size} vs {}",
                        case["fixed_effect_sizes"][&key]
                    ));
                }
            }
            if let Some(df) = fit.t_df {
                ck.close(name, "t df", df, num(&case["df_t"]));
            }
            match fit.family {
                FeFamily::Gaussian => ck.close(name, "rss", fit.deviance, num(&case["rss"])),
                FeFamily::Poisson => {
                    ck.close(name, "deviance", fit.deviance, num(&case["deviance"]))
                }
            }
            if !fit.converged {
                ck.fail(format!("{name}: not converged"));
            }
            if let Some(pre) = case.get("pretrend") {
                let terms: Vec<&str> = pre["terms"]
                    .as_array()
                    .expect("terms")
                    .iter()
                    .map(|t| t.as_str().expect("term"))
                    .collect();
                match fit.wald_test(&terms) {
                    Ok(w) => {
                        ck.close(
                            name,
                            "wald chi2",
                            w.chi_squared,
                            num(&pre["chi2_statistic"]),
                        );
                        ck.close(
                            name,
                            "wald chi2 p",
                            w.chi_squared_p_value,
                            num(&pre["chi2_p_value"]),
                        );
                        ck.close(name, "wald F", w.statistic, num(&pre["f_statistic"]));
                        ck.close(name, "wald F p", w.p_value, num(&pre["f_p_value"]));
                        ck.close(name, "wald df2", w.df2, num(&pre["f_df2"]));
                        if w.df1 as u64 != pre["df1"].as_u64().expect("df1") {
                            ck.fail(format!("{name} wald df1 {}", w.df1));
                        }
                    }
                    Err(e) => ck.fail(format!("{name} wald: {e}")),
                }
            }
        }
        eprintln!(
            "largest relative difference from pyfixest: {:.2e} ({}); estimates and standard errors: {:.2e}",
            ck.worst, ck.worst_at, ck.worst_estimate_se
        );
        assert!(
            ck.failures.is_empty(),
            "{} failures:\n{}",
            ck.failures.len(),
            ck.failures.join("\n")
        );
    }

    // -----------------------------------------------------------------------------
    // Properties and errors on simulated panels
    // -----------------------------------------------------------------------------

    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Poisson, StandardNormal};

    /// A person × period panel with treatment from period `t0` for half the units,
    /// dropping some rows at random (unbalanced), with counts, an outcome, exposure.
    struct Panel {
        unit: Vec<u32>,
        period: Vec<u32>,
        pair: Vec<u32>,
        treated_post: Vec<f64>,
        x2: Vec<f64>,
        y: Vec<f64>,
        count: Vec<f64>,
        log_exposure: Vec<f64>,
        weight: Vec<f64>,
    }

    fn panel(units: usize, periods: usize, seed: u64) -> Panel {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut p = Panel {
            unit: Vec::new(),
            period: Vec::new(),
            pair: Vec::new(),
            treated_post: Vec::new(),
            x2: Vec::new(),
            y: Vec::new(),
            count: Vec::new(),
            log_exposure: Vec::new(),
            weight: Vec::new(),
        };
        let t0 = periods / 2;
        for u in 0..units {
            let a: f64 = rng.sample::<f64, _>(StandardNormal) * 0.5;
            let treated = u % 2 == 1;
            for t in 0..periods {
                if rng.random_bool(0.1) {
                    continue;
                }
                let tp = if treated && t >= t0 { 1.0 } else { 0.0 };
                let x2: f64 = rng.sample::<f64, _>(StandardNormal) + 0.1 * t as f64;
                let exposure: f64 = rng.random_range(0.3..1.0);
                let eta = -0.3 + a + 0.05 * t as f64 + 0.25 * tp + 0.1 * x2;
                let lambda = exposure * eta.exp();
                let count = Poisson::new(lambda).map_or(0.0, |d| d.sample(&mut rng));
                let noise: f64 = rng.sample(StandardNormal);
                p.unit.push(u as u32);
                p.period.push(t as u32);
                p.pair.push((u / 2) as u32);
                p.treated_post.push(tp);
                p.x2.push(x2);
                p.y.push(2.0 + a + 0.1 * t as f64 + 0.5 * tp + 0.3 * x2 + noise);
                p.count.push(count);
                p.log_exposure.push(exposure.ln());
                p.weight.push(rng.random_range(0.5..2.0));
            }
        }
        p
    }

    fn regressors(p: &Panel) -> (DMatrix<f64>, Vec<String>) {
        let n = p.y.len();
        let x = DMatrix::from_fn(
            n,
            2,
            |i, j| if j == 0 { p.treated_post[i] } else { p.x2[i] },
        );
        (x, vec!["treated_post".to_string(), "x2".to_string()])
    }

    fn fes(p: &Panel) -> Vec<(String, Vec<u32>)> {
        vec![
            ("unit".to_string(), p.unit.clone()),
            ("period".to_string(), p.period.clone()),
        ]
    }

    fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
        match r {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    fn assert_same_fit(a: &FeFit, b: &FeFit, tol: f64) {
        assert_eq!(a.coefficients.len(), b.coefficients.len());
        for (x, y) in a.coefficients.iter().zip(&b.coefficients) {
            assert_eq!(x.name, y.name);
            assert!(
                rel_diff(x.estimate, y.estimate) < tol,
                "{}: {} vs {}",
                x.name,
                x.estimate,
                y.estimate
            );
            assert!(
                rel_diff(x.std_error, y.std_error) < tol,
                "{}: {} vs {}",
                x.name,
                x.std_error,
                y.std_error
            );
        }
        assert_eq!(a.n_obs, b.n_obs);
        assert_eq!(a.dropped, b.dropped);
    }

    #[test]
    fn adding_a_constant_to_the_outcome_leaves_the_did_unchanged() {
        for seed in 0..10 {
            let p = panel(40, 8, seed);
            let (x, names) = regressors(&p);
            let cluster = Vcov::Cluster(vec![("unit".to_string(), p.unit.clone())]);
            let model = FeModel::default();
            let base = ok(fit_fe(
                &p.y,
                &x,
                &names,
                &fes(&p),
                Some(&p.weight),
                None,
                &cluster,
                &model,
            ));
            let shift = 1000.0 * (seed as f64 - 4.5);
            let shifted: Vec<f64> = p.y.iter().map(|v| v + shift).collect();
            let moved = ok(fit_fe(
                &shifted,
                &x,
                &names,
                &fes(&p),
                Some(&p.weight),
                None,
                &cluster,
                &model,
            ));
            assert_same_fit(&base, &moved, 1e-8);
        }
    }

    #[test]
    fn permuting_rows_leaves_the_results_unchanged() {
        for (seed, family) in [
            (1, FeFamily::Gaussian),
            (2, FeFamily::Poisson),
            (3, FeFamily::Poisson),
        ] {
            let p = panel(60, 10, seed);
            let n = p.y.len();
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
            let mut perm: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                let j = rng.random_range(0..=i);
                perm.swap(i, j);
            }
            let outcome = if family == FeFamily::Gaussian {
                &p.y
            } else {
                &p.count
            };
            let pf = |v: &[f64]| -> Vec<f64> { perm.iter().map(|&i| v[i]).collect() };
            let pu = |v: &[u32]| -> Vec<u32> { perm.iter().map(|&i| v[i]).collect() };
            let (x, names) = regressors(&p);
            let xp = DMatrix::from_fn(n, 2, |i, j| x[(perm[i], j)]);
            let model = FeModel::new(family);
            for vcov_of in [0, 1, 2] {
                let make = |unit: Vec<u32>, period: Vec<u32>| match vcov_of {
                    0 => Vcov::Hc1,
                    1 => Vcov::Cluster(vec![("unit".to_string(), unit)]),
                    _ => Vcov::Cluster(vec![
                        ("unit".to_string(), unit),
                        ("period".to_string(), period),
                    ]),
                };
                let a = ok(fit_fe(
                    outcome,
                    &x,
                    &names,
                    &fes(&p),
                    Some(&p.weight),
                    Some(&p.log_exposure),
                    &make(p.unit.clone(), p.period.clone()),
                    &model,
                ));
                let fe_perm = vec![
                    ("unit".to_string(), pu(&p.unit)),
                    ("period".to_string(), pu(&p.period)),
                ];
                let b = ok(fit_fe(
                    &pf(outcome),
                    &xp,
                    &names,
                    &fe_perm,
                    Some(&pf(&p.weight)),
                    Some(&pf(&p.log_exposure)),
                    &make(pu(&p.unit), pu(&p.period)),
                    &model,
                ));
                assert_same_fit(&a, &b, 1e-8);
                let mut mapped: Vec<usize> = b.kept_rows.iter().map(|&i| perm[i]).collect();
                mapped.sort_unstable();
                assert_eq!(mapped, a.kept_rows);
            }
        }
    }

    #[test]
    fn demeaned_columns_are_orthogonal_to_every_fixed_effect() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 3000;
        for n_fe in 1..=3 {
            let sizes = [150usize, 12, 7];
            let codes: Vec<Vec<u32>> = (0..n_fe)
                .map(|q| {
                    (0..n)
                        .map(|i| {
                            if i < sizes[q] {
                                i as u32
                            } else {
                                rng.random_range(0..sizes[q] as u32)
                            }
                        })
                        .collect()
                })
                .collect();
            let w: Vec<f64> = (0..n).map(|_| rng.random_range(0.1..3.0)).collect();
            let v0: Vec<f64> = (0..n)
                .map(|i| rng.sample::<f64, _>(StandardNormal) + (codes[0][i] % 5) as f64)
                .collect();
            let index =
                FixedEffectIndex::new(codes.iter().map(|c| Cow::Borrowed(&c[..])).collect(), n);
            for weights in [None, Some(&w[..])] {
                let lw = index.level_weights(weights);
                let mut v = v0.clone();
                let mut coef = vec![0.0; index.n_coef()];
                let d = index.demean(
                    &lw,
                    &mut v,
                    &mut coef,
                    &mut Workspace::default(),
                    1e-12,
                    10_000,
                );
                assert!(d.converged);
                for c in &codes {
                    let levels = c.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
                    let mut sums = vec![0.0; levels];
                    for i in 0..n {
                        sums[c[i] as usize] += weights.map_or(1.0, |w| w[i]) * v[i];
                    }
                    let worst = sums.iter().fold(0.0_f64, |m, s| m.max(s.abs()));
                    assert!(worst < 1e-8 * d.scale * n as f64, "n_fe {n_fe}: {worst}");
                }
                // The residual plus the fixed effects gives back the column.
                for i in 0..n {
                    let fe: f64 = (0..index.n_fe())
                        .map(|q| coef[index.offsets[q] + index.codes[q][i] as usize])
                        .sum();
                    assert!((v[i] + fe - v0[i]).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn threads_do_not_change_a_single_bit() {
        let p = panel(80, 12, 11);
        let (x, names) = regressors(&p);
        let vcov = Vcov::Cluster(vec![("pair".to_string(), p.pair.clone())]);
        for family in [FeFamily::Gaussian, FeFamily::Poisson] {
            let outcome = if family == FeFamily::Gaussian {
                &p.y
            } else {
                &p.count
            };
            let one = FeModel::new(family);
            let two = FeModel { threads: 2, ..one };
            let a = ok(fit_fe(
                outcome,
                &x,
                &names,
                &fes(&p),
                None,
                Some(&p.log_exposure),
                &vcov,
                &one,
            ));
            let b = ok(fit_fe(
                outcome,
                &x,
                &names,
                &fes(&p),
                None,
                Some(&p.log_exposure),
                &vcov,
                &two,
            ));
            assert_eq!(a, b);
        }
    }

    #[test]
    fn poisson_without_fixed_effects_is_glm() {
        use super::super::glm::{fit_glm, Family, GlmOptions};
        let p = panel(30, 6, 5);
        let n = p.y.len();
        let x = DMatrix::from_fn(n, 3, |i, j| match j {
            0 => 1.0,
            1 => p.treated_post[i],
            _ => p.x2[i],
        });
        let names = vec![
            "(Intercept)".to_string(),
            "treated_post".to_string(),
            "x2".to_string(),
        ];
        let fit = ok(fit_fe(
            &p.count,
            &x,
            &names,
            &[],
            None,
            Some(&p.log_exposure),
            &Vcov::Iid,
            &FeModel::new(FeFamily::Poisson),
        ));
        let glm = ok(fit_glm(
            &x,
            &DVector::from_vec(p.count.clone()),
            None,
            Some(&DVector::from_vec(p.log_exposure.clone())),
            &names,
            &GlmOptions::new(Family::Poisson),
        ));
        // pyfixest's iid variance for fepois carries the factor (N − 1)/(N − k); R's
        // glm takes the weights of its last iteration, one step behind the solution
        // used here, which moves the standard errors by ~1e-5.
        let factor = ((n as f64 - 1.0) / (n as f64 - 3.0)).sqrt();
        for (a, b) in fit.coefficients.iter().zip(&glm.coefficients) {
            assert!(
                rel_diff(a.estimate, b.estimate) < 1e-8,
                "{} {}",
                a.estimate,
                b.estimate
            );
            assert!(
                rel_diff(a.std_error, b.std_error * factor) < 1e-4,
                "{} {}",
                a.std_error,
                b.std_error
            );
        }
    }

    #[test]
    fn a_regressor_collinear_with_the_fixed_effects_is_dropped_and_named() {
        let p = panel(30, 6, 9);
        let n = p.y.len();
        let treated: Vec<f64> = p.unit.iter().map(|&u| (u % 2) as f64).collect();
        let x = DMatrix::from_fn(n, 3, |i, j| match j {
            0 => 1.0,
            1 => p.treated_post[i],
            _ => treated[i],
        });
        let names = vec![
            "(Intercept)".to_string(),
            "treated_post".to_string(),
            "treated".to_string(),
        ];
        for family in [FeFamily::Gaussian, FeFamily::Poisson] {
            let outcome = if family == FeFamily::Gaussian {
                &p.y
            } else {
                &p.count
            };
            let fit = ok(fit_fe(
                outcome,
                &x,
                &names,
                &fes(&p),
                None,
                None,
                &Vcov::Iid,
                &FeModel::new(family),
            ));
            assert_eq!(fit.collinear, ["treated"]);
            let terms: Vec<&str> = fit.coefficients.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(terms, ["treated_post"]);
        }
    }

    #[test]
    fn bad_input_gives_clear_errors() {
        let p = panel(20, 6, 3);
        let n = p.y.len();
        let (x, names) = regressors(&p);
        let pois = FeModel::new(FeFamily::Poisson);
        let ols = FeModel::default();

        let mut negative = p.count.clone();
        negative[5] = -1.0;
        let e = fit_fe(
            &negative,
            &x,
            &names,
            &fes(&p),
            None,
            None,
            &Vcov::Iid,
            &pois,
        );
        assert_eq!(
            e,
            Err(FeError::NegativeOutcome {
                row: 5,
                value: -1.0
            })
        );

        let mut missing = x.clone();
        missing[(3, 1)] = f64::NAN;
        match fit_fe(
            &p.y,
            &missing,
            &names,
            &fes(&p),
            None,
            None,
            &Vcov::Iid,
            &ols,
        ) {
            Err(FeError::NonFinite { variable, row, .. }) => {
                assert_eq!((variable.as_str(), row), ("x2", 3))
            }
            other => panic!("{other:?}"),
        }

        let single = vec![
            ("country".to_string(), vec![0u32; n]),
            ("unit".to_string(), p.unit.clone()),
        ];
        let e = fit_fe(&p.y, &x, &names, &single, None, None, &Vcov::Iid, &ols);
        assert_eq!(
            e,
            Err(FeError::SingleLevelFixedEffect {
                name: "country".to_string()
            })
        );
        let message = FeError::SingleLevelFixedEffect {
            name: "country".to_string(),
        }
        .to_string();
        assert!(message.contains("`country`") && message.contains("single level"));

        let zeros = vec![0.0; n];
        match fit_fe(&zeros, &x, &names, &fes(&p), None, None, &Vcov::Iid, &pois) {
            Err(FeError::NoObservations { n_input, dropped }) => {
                assert_eq!(n_input, n);
                assert_eq!(dropped.separated, n);
            }
            other => panic!("{other:?}"),
        }

        let three = Vcov::Cluster(vec![
            ("unit".to_string(), p.unit.clone()),
            ("period".to_string(), p.period.clone()),
            ("pair".to_string(), p.pair.clone()),
        ]);
        let e = fit_fe(&p.y, &x, &names, &fes(&p), None, None, &three, &ols);
        assert_eq!(e, Err(FeError::ClusterCount { found: 3 }));

        let short = &p.y[..n - 1];
        assert!(matches!(
            fit_fe(short, &x, &names, &fes(&p), None, None, &Vcov::Iid, &ols),
            Err(FeError::DimensionMismatch { .. })
        ));

        let only_fe = DMatrix::from_element(n, 1, 1.0);
        let e = fit_fe(
            &p.y,
            &only_fe,
            &["(Intercept)".to_string()],
            &fes(&p),
            None,
            None,
            &Vcov::Iid,
            &ols,
        );
        assert_eq!(e, Err(FeError::NoRegressors));

        let period_x = DMatrix::from_fn(n, 1, |i, _| p.period[i] as f64);
        let e = fit_fe(
            &p.y,
            &period_x,
            &["t".to_string()],
            &fes(&p),
            None,
            None,
            &Vcov::Iid,
            &ols,
        );
        assert_eq!(
            e,
            Err(FeError::AllCollinear {
                names: vec!["t".to_string()]
            })
        );

        let bad = FeModel {
            fixef_tolerance: 0.0,
            ..ols
        };
        assert!(matches!(
            fit_fe(&p.y, &x, &names, &fes(&p), None, None, &Vcov::Iid, &bad),
            Err(FeError::InvalidOption {
                name: "fixef_tolerance",
                ..
            })
        ));

        let fit = ok(fit_fe(
            &p.y,
            &x,
            &names,
            &fes(&p),
            None,
            None,
            &Vcov::Iid,
            &ols,
        ));
        assert_eq!(
            fit.wald_test(&["nope"]),
            Err(FeError::UnknownTerm {
                name: "nope".to_string()
            })
        );
    }

    #[test]
    fn non_convergence_is_reported_not_an_error() {
        let p = panel(30, 8, 21);
        let (x, names) = regressors(&p);
        let model = FeModel {
            irls_max_iter: 2,
            ..FeModel::new(FeFamily::Poisson)
        };
        let fit = ok(fit_fe(
            &p.count,
            &x,
            &names,
            &fes(&p),
            None,
            Some(&p.log_exposure),
            &Vcov::Iid,
            &model,
        ));
        assert!(!fit.converged);
        assert_eq!(fit.iterations, 2);
        let full = ok(fit_fe(
            &p.count,
            &x,
            &names,
            &fes(&p),
            None,
            Some(&p.log_exposure),
            &Vcov::Iid,
            &FeModel::new(FeFamily::Poisson),
        ));
        assert!(full.converged);
        assert!(full.iterations > 2 && full.iterations <= 25);
    }

    #[test]
    fn sparse_codes_give_the_same_fit() {
        let p = panel(40, 6, 13);
        let (x, names) = regressors(&p);
        let dense = fes(&p);
        let sparse: Vec<(String, Vec<u32>)> = dense
            .iter()
            .map(|(n, c)| {
                (
                    n.clone(),
                    c.iter().map(|&v| 4_000_000_000 - 7 * v).collect(),
                )
            })
            .collect();
        let vcov = |f: &[(String, Vec<u32>)]| Vcov::Cluster(vec![f[0].clone()]);
        let model = FeModel::new(FeFamily::Poisson);
        let a = ok(fit_fe(
            &p.count,
            &x,
            &names,
            &dense,
            None,
            None,
            &vcov(&dense),
            &model,
        ));
        let b = ok(fit_fe(
            &p.count,
            &x,
            &names,
            &sparse,
            None,
            None,
            &vcov(&sparse),
            &model,
        ));
        assert_same_fit(&a, &b, 1e-10);
    }

    #[test]
    fn singletons_are_dropped_repeatedly() {
        // Unit 2 has one row; dropping it leaves period 3 with one row (unit 0's).
        let unit = vec![0, 0, 0, 1, 1, 1, 2, 3, 3, 4, 4];
        let period = vec![0, 1, 3, 0, 1, 2, 2, 0, 1, 1, 2];
        let n = unit.len();
        let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
        let x = DMatrix::from_fn(n, 1, |i, _| (i as f64 * 1.3).cos());
        let fe = vec![("unit".to_string(), unit), ("period".to_string(), period)];
        let fit = ok(fit_fe(
            &y,
            &x,
            &["x".to_string()],
            &fe,
            None,
            None,
            &Vcov::Iid,
            &FeModel::default(),
        ));
        assert_eq!(fit.dropped.singletons, 2);
        assert_eq!(fit.kept_rows, [0, 1, 3, 4, 5, 7, 8, 9, 10]);
        let keep_all = FeModel {
            drop_singletons: false,
            ..FeModel::default()
        };
        let fit = ok(fit_fe(
            &y,
            &x,
            &["x".to_string()],
            &fe,
            None,
            None,
            &Vcov::Iid,
            &keep_all,
        ));
        assert_eq!(fit.n_obs, n);
    }

    // -----------------------------------------------------------------------------
    // Speed and memory (issue 4 targets). Run with
    //   cargo test --release --lib fixest::tests::five_million -- --ignored --nocapture
    // and FIXEST_BENCH_CSV=/tmp/panel.csv to also write the panel for pyfixest.
    // -----------------------------------------------------------------------------

    fn memory_kib(key: &str) -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    }

    /// CPU seconds (user + system) of this process so far, from /proc/self/stat.
    fn cpu_seconds() -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name in parentheses; utime and stime are 14 and 15.
        let rest = stat.rsplit(')').next().unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |k: usize| {
            fields
                .get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / 100.0
    }

    #[test]
    #[ignore]
    fn five_million_rows_two_fixed_effects() {
        use std::io::Write;
        use std::time::Instant;
        let (units, periods) = (250_000usize, 20usize);
        let n = units * periods;
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        let mut unit = Vec::with_capacity(n);
        let mut period = Vec::with_capacity(n);
        let mut tp = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        let mut count = Vec::with_capacity(n);
        for u in 0..units {
            let a: f64 = rng.sample::<f64, _>(StandardNormal) * 0.5;
            let treated = u % 2 == 1;
            for t in 0..periods {
                let d = if treated && t >= periods / 2 {
                    1.0
                } else {
                    0.0
                };
                let eta = -0.5 + a + 0.02 * t as f64 + 0.2 * d;
                let noise: f64 = rng.sample(StandardNormal);
                unit.push(u as u32);
                period.push(t as u32);
                tp.push(d);
                y.push(1.0 + a + 0.05 * t as f64 + 0.3 * d + noise);
                count.push(Poisson::new(eta.exp()).map_or(0.0, |p| p.sample(&mut rng)));
            }
        }
        if let Ok(path) = std::env::var("FIXEST_BENCH_CSV") {
            let file = std::fs::File::create(&path).expect("create csv");
            let mut out = std::io::BufWriter::new(file);
            writeln!(out, "unit,period,treated_post,y,count").expect("write");
            for i in 0..n {
                writeln!(
                    out,
                    "{},{},{},{},{}",
                    unit[i], period[i], tp[i], y[i], count[i]
                )
                .expect("write");
            }
        }
        // The formula layer's share: model matrix and fixed-effect codes from columns.
        {
            let mut data = DataSet::new();
            let as_f64 = |v: &[u32]| ColumnData::Numeric(v.iter().map(|&c| c as f64).collect());
            ok(data.push("unit", as_f64(&unit)));
            ok(data.push("period", as_f64(&period)));
            ok(data.push("treated_post", ColumnData::Numeric(tp.clone())));
            ok(data.push("count", ColumnData::Numeric(count.clone())));
            let start = Instant::now();
            let f = ok(parse("count ~ treated_post | unit + period"));
            let design = ok(model_matrix(&f, &data));
            let codes = ok(fixed_effect_codes(&f, &data, &design.rows));
            eprintln!(
                "model_matrix + fixed_effect_codes: {:.2} s ({} columns, {} fixed effects)",
                start.elapsed().as_secs_f64(),
                design.x.ncols(),
                codes.len()
            );
        }
        let x = DMatrix::from_vec(n, 1, tp);
        let names = vec!["treated_post".to_string()];
        let fe = vec![
            ("unit".to_string(), unit.clone()),
            ("period".to_string(), period),
        ];
        let vcov = Vcov::Cluster(vec![("unit".to_string(), unit)]);
        // The inputs of one fit: the outcome and treated_post (f64), the two fixed
        // effects' and the cluster variable's codes (u32).
        let input_bytes = n * (8 * 2 + 4 * 3);
        let threads: usize = std::env::var("FIXEST_BENCH_THREADS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(1);
        for family in [FeFamily::Gaussian, FeFamily::Poisson] {
            let outcome = if family == FeFamily::Gaussian {
                &y
            } else {
                &count
            };
            // Reset the peak resident set size (Linux: write 5 to clear_refs).
            let _ = std::fs::write("/proc/self/clear_refs", "5");
            let before = memory_kib("VmRSS:").unwrap_or(0);
            let model = FeModel {
                threads,
                ..FeModel::new(family)
            };
            let start = Instant::now();
            let cpu_start = cpu_seconds();
            let fit = ok(fit_fe(outcome, &x, &names, &fe, None, None, &vcov, &model));
            let seconds = start.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu_start;
            let peak = memory_kib("VmHWM:").unwrap_or(0);
            let c = &fit.coefficients[0];
            eprintln!(
                "{family:?}: {seconds:.2} s ({cpu:.2} s CPU), {} IRLS iterations, max {} sweeps; estimate {:.6} (se {:.6}); n_obs {}, dropped {}; \
                 extra peak memory {:.0} MB = {:.2} × input columns ({:.0} MB)",
                fit.iterations,
                fit.demeaning_sweeps,
                c.estimate,
                c.std_error,
                fit.n_obs,
                fit.n_dropped,
                (peak.saturating_sub(before)) as f64 / 1024.0,
                (peak.saturating_sub(before)) as f64 * 1024.0 / input_bytes as f64,
                input_bytes as f64 / 1e6 / 1.048576,
            );
            assert!(fit.converged);
        }
    }
}
