//! Linear mixed models fitted by REML or ML through the profiled deviance of lme4, with
//! Satterthwaite degrees of freedom as lmerTest computes them.
//!
//! The model (Bates, Mächler, Bolker & Walker 2015, eq. 2–3):
//!
//! ```text
//!   y = Xβ + Zb + ε,   b = Λ_θ u,   u ~ N(0, σ² I_q),   ε ~ N(0, σ² I_n)
//! ```
//!
//! with one lower-triangular template per random-effect term (`(1 + t | g)` has a 2 × 2
//! template, three elements of θ), repeated for every level of the term's grouping
//! factor. For a given θ the penalised least-squares problem is solved with a Cholesky
//! factor that follows the block structure of `ZᵀZ` (see [`pls`]); β and σ are profiled
//! out and the deviance (ML) or REML criterion is minimised over θ ≥ 0 on the diagonal
//! ([`optimize`]): with the analytic gradient of `pls::gradient` by a projected
//! quasi-Newton iteration where every factor after the first has one column per level
//! (random intercepts, crossed or nested, and any random slope on the first factor),
//! otherwise by a derivative-free search with a Newton polish. Satterthwaite's df follow
//! lmerTest's `contest1D`: the Hessian of the deviance in (θ, σ) and the Jacobian of
//! `Cov(β̂)` in (θ, σ) ([`satterthwaite`]), from the analytic derivatives where they
//! exist, otherwise by numDeriv's Richardson extrapolation ([`numderiv`]).
//!
//! | parameter | default | range |
//! |---|---|---|
//! | [`LmmOptions::method`] | [`Method::Reml`] | REML or ML |
//! | [`LmmOptions::df`] | [`DfMethod::Satterthwaite`] | Satterthwaite, residual `n − p`, or Kenward–Roger (REML; [`KenwardRoger`]) |
//! | [`LmmOptions::max_evaluations`] | 20 000 | deviance evaluations, ≥ 100 |
//! | [`LmmOptions::singular_tolerance`] | 1e-4 | lme4's `isSingular(tol)` |
//!
//! Terms are put in lme4's order (by decreasing number of levels of their grouping
//! factor, when not already so), so θ, the variance components and the group counts come
//! in the order lme4 prints them.
//!
//! Numerics. Terms on the same grouping factor are merged into one block, so
//! `(1 + t | id)` and `(t || id)` on 100 000 subjects cost O(subjects) per evaluation,
//! with memory linear in the number of observations. The random effects of the other
//! grouping factors (nested or crossed: `(1 | practice)`, `(1 | plate) + (1 | sample)`)
//! go into a dense Cholesky block of their total size, limited to
//! [`DENSE_REMAINDER_LIMIT`]; larger crossed designs return [`LmmError::TooLarge`].
//!
//! # Errors
//! [`fit_lmm`] returns an [`LmmError`] for: no response, no random-effect term, a
//! non-finite value, a response without variance, a rank-deficient fixed-effect matrix,
//! a grouping factor with one level, as many levels as observations, or more random
//! effects than observations in a term (lme4's checks), and a crossed design too large
//! for the dense block. A fit that does not converge is returned with
//! [`LmmFit::converged`] false and a message saying what to try.
//!
//! ## References
//! - Bates D, Mächler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models
//!   using lme4. *Journal of Statistical Software* 67(1), 1–48. doi:10.18637/jss.v067.i01
//! - Kuznetsova A, Brockhoff PB, Christensen RHB (2017). lmerTest package: tests in
//!   linear mixed effects models. *Journal of Statistical Software* 82(13), 1–26.
//! - Satterthwaite FE (1946). An approximate distribution of estimates of variance
//!   components. *Biometrics Bulletin* 2(6), 110–114.

mod dense;
mod kenward_roger;
mod numderiv;
mod optimize;
mod pls;
mod robust;
mod satterthwaite;

pub use kenward_roger::{KenwardRoger, KrError, KR_MAX_RANDOM_EFFECTS};
pub use robust::{
    cluster_robust_vcov, Cr2Df, RobustError, RobustType, RobustVcov, CR2_MAX_CLUSTER_SIZE,
};
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_synthetic;

use nalgebra::DMatrix;
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::coefficient::Coefficient;
use super::design::{Design, RandomEffectBlock};
use super::tail::upper;
use pls::{Model, TermInput};

/// Largest number of random effects outside the grouping factor with the most levels
/// (the dense part of the Cholesky factor; 4000² doubles are 128 MB).
pub const DENSE_REMAINDER_LIMIT: usize = 4000;

/// The estimation criterion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Method {
    /// Restricted maximum likelihood (lme4's default, `REML = TRUE`).
    #[default]
    Reml,
    /// Maximum likelihood (`REML = FALSE`); needed to compare fixed effects by a
    /// likelihood-ratio test.
    Ml,
}

/// Degrees of freedom for the t tests and intervals of fixed effects and contrasts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum DfMethod {
    /// Satterthwaite's approximation as lmerTest 3.1 computes it.
    #[default]
    Satterthwaite,
    /// The residual degrees of freedom `n − p`.
    Residual,
    /// Kenward & Roger (1997) as pbkrtest 0.5.2 computes them: the adjusted covariance of
    /// β̂ and its df (REML fits only; see [`kenward_roger`](KenwardRoger)).
    KenwardRoger,
}

/// The covariance behind the standard errors of the fixed effects.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StandardErrors {
    /// The model's own covariance; tests on [`LmmFit::df_method`] degrees of freedom.
    #[default]
    ModelBased,
    /// Cluster-robust (`kind` CR1 or CR2) by the levels of `cluster_by`; tests on
    /// `clusters − 1` df (CR1) or Satterthwaite df (CR2).
    ClusterRobust {
        kind: String,
        cluster_by: String,
        clusters: usize,
    },
}

/// Options of [`fit_lmm`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LmmOptions {
    pub method: Method,
    pub df: DfMethod,
    /// Maximum number of deviance evaluations of the optimiser.
    pub max_evaluations: usize,
    /// A variance parameter is on the boundary when a diagonal element of θ is below this
    /// (lme4's `isSingular(tol = 1e-4)`).
    pub singular_tolerance: f64,
}

impl LmmOptions {
    /// Checks that the options are in range: at least 100 deviance evaluations (what
    /// the optimiser needs to start), a singularity tolerance in [0, 1).
    ///
    /// # Errors
    /// [`LmmError::InvalidOption`] naming the first option out of range.
    pub fn validate(&self) -> Result<(), LmmError> {
        if self.max_evaluations < 100 {
            return Err(LmmError::InvalidOption {
                name: "max_evaluations",
                value: self.max_evaluations as f64,
                expected: "at least 100",
            });
        }
        if !(0.0..1.0).contains(&self.singular_tolerance) {
            return Err(LmmError::InvalidOption {
                name: "singular_tolerance",
                value: self.singular_tolerance,
                expected: "a number in [0, 1)",
            });
        }
        Ok(())
    }
}

impl Default for LmmOptions {
    fn default() -> Self {
        LmmOptions {
            method: Method::Reml,
            df: DfMethod::Satterthwaite,
            max_evaluations: 20_000,
            singular_tolerance: 1e-4,
        }
    }
}

/// The variance of one random-effect column of a term.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VarianceComponent {
    /// The grouping factor, made unique as lme4's `VarCorr` does (`Subject`,
    /// `Subject.1` for the second term of `(Days || Subject)`).
    pub group: String,
    /// The column: `(Intercept)`, `Days`.
    pub term: String,
    pub variance: f64,
    pub std_dev: f64,
}

/// The correlation between two random-effect columns of one term.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Correlation {
    pub group: String,
    pub term1: String,
    pub term2: String,
    pub correlation: f64,
}

/// The number of levels of a grouping factor (lme4's `ngrps`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupCount {
    pub group: String,
    pub n_groups: usize,
}

/// A likelihood-ratio test between two nested ML fits, as lme4's `anova(m0, m1)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LikelihoodRatioTest {
    /// Number of parameters (logLik df) of the smaller and the larger model.
    pub n_parameters: [usize; 2],
    pub log_likelihood: [f64; 2],
    pub deviance: [f64; 2],
    pub aic: [f64; 2],
    pub bic: [f64; 2],
    /// `2 · max(0, ℓ₁ − ℓ₀)`.
    pub chisq: f64,
    pub df: usize,
    pub p_value: f64,
}

/// The lmerTest quantities behind Satterthwaite's df.
#[derive(Clone, Debug, PartialEq)]
struct Satterthwaite {
    /// `2 H⁺`, H the Hessian of the deviance in (θ, σ) (lmerTest's `vcov_varpar`).
    vcov_varpar: DMatrix<f64>,
    /// `∂ Cov(β̂) / ∂ varparᵢ`, one p × p matrix per element of (θ, σ).
    jacobian: Vec<DMatrix<f64>>,
}

/// A fitted linear mixed model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LmmFit {
    pub method: Method,
    /// Degrees of freedom of the model-based tests (see `standard_errors`).
    pub df_method: DfMethod,
    /// Model-based, or cluster-robust after [`LmmFit::with_robust_vcov`].
    pub standard_errors: StandardErrors,
    pub fixed_effects: Vec<Coefficient>,
    /// Per term (in lme4's order) and column; the residual is [`LmmFit::sigma`].
    pub random_effects: Vec<VarianceComponent>,
    pub correlations: Vec<Correlation>,
    /// Residual standard deviation σ.
    pub sigma: f64,
    /// The log-likelihood (the REML log-likelihood for REML fits, as lme4's `logLik`).
    pub log_likelihood: f64,
    /// lme4's `REMLcrit` (REML fits).
    pub reml_criterion: Option<f64>,
    /// `−2 logLik` (ML fits).
    pub deviance: Option<f64>,
    pub aic: f64,
    pub bic: f64,
    pub n_obs: usize,
    pub n_groups: Vec<GroupCount>,
    /// Parameters counted by AIC/BIC: `p + length(θ) + 1`.
    pub n_parameters: usize,
    /// The relative covariance factor, lme4's `getME(m, "theta")`.
    pub theta: Vec<f64>,
    /// lme4's names of θ: `Subject.(Intercept)`, `Subject.Days.(Intercept)`, ...
    pub theta_names: Vec<String>,
    /// The random-effect terms in lme4's order (`1 + Days | Subject`).
    pub random_terms: Vec<String>,
    pub converged: bool,
    /// A variance parameter is on the boundary (lme4's `isSingular`).
    pub singular: bool,
    /// Warnings: singular fit, non-convergence (with what to try), lmerTest's Hessian
    /// checks.
    pub messages: Vec<String>,
    /// Deviance evaluations used by the optimiser.
    pub evaluations: usize,
    #[serde(skip)]
    vcov: DMatrix<f64>,
    #[serde(skip)]
    satterthwaite: Option<Satterthwaite>,
    /// The adjusted covariance and df parts, with `DfMethod::KenwardRoger`.
    #[serde(skip)]
    kenward_roger: Option<KenwardRoger>,
    /// Degrees of freedom of every test when the covariance was replaced by a CR1
    /// cluster-robust one (clusters − 1).
    #[serde(skip)]
    robust_df: Option<f64>,
    /// The Satterthwaite df of contrasts when the covariance was replaced by a CR2 one.
    #[serde(skip)]
    cr2_df: Option<Cr2Df>,
}

/// Why a mixed model could not be fitted or tested.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LmmError {
    #[error("mixed model: the formula has no response (write it as `y ~ ...`)")]
    NoResponse,
    #[error("mixed model: the formula has no random-effect term; add one such as `(1 | id)`, or fit a linear model instead")]
    NoRandomEffects,
    #[error("mixed model: {what} has {found} rows but the model has {expected} observations")]
    DimensionMismatch {
        what: String,
        expected: usize,
        found: usize,
    },
    /// `row` counts the observations used, from 0; the message counts from 1.
    #[error("mixed model: {what} is {value} in observation {} of the rows used; every value must be finite", row + 1)]
    NonFinite {
        what: String,
        row: usize,
        value: f64,
    },
    #[error("mixed model: {n_obs} observation(s) for {n_fixed} fixed-effect coefficient(s); the model needs more observations than coefficients")]
    TooFewObservations { n_obs: usize, n_fixed: usize },
    #[error("mixed model: the response has no variance (every value is {value}); there is nothing to model")]
    ConstantResponse { value: f64 },
    #[error("mixed model: the fixed-effect model matrix is rank deficient: {} {} a linear combination of the columns before; drop or recode (lme4 would drop them)", columns.join(", "), if columns.len() == 1 { "is" } else { "are" })]
    RankDeficient { columns: Vec<String> },
    #[error("mixed model: the grouping factor `{group}` has only one level in the rows used; grouping factors must have > 1 sampled level (lme4)")]
    SingleLevel { group: String },
    #[error("mixed model: the grouping factor `{group}` has {levels} levels for {n_obs} observations; the number of levels of each grouping factor must be < number of observations (lme4)")]
    TooManyLevels {
        group: String,
        levels: usize,
        n_obs: usize,
    },
    #[error("mixed model: number of observations (={n_obs}) <= number of random effects (={n_random}) for term ({term}); the random-effects parameters and the residual variance are probably unidentifiable (lme4); simplify the term, e.g. drop the random slope")]
    TooManyRandomEffects {
        term: String,
        n_random: usize,
        n_obs: usize,
    },
    #[error("mixed model: the random-effect term ({term}) has no columns")]
    EmptyTerm { term: String },
    #[error("mixed model: {q} random effects outside the grouping factor with the most levels, more than the {limit} handled by the dense part of the Cholesky factor; crossed factors that both have many levels are not supported")]
    TooLarge { q: usize, limit: usize },
    #[error("mixed model: {message}")]
    NumericalFailure { message: String },
    #[error(transparent)]
    KenwardRoger(#[from] KrError),
    #[error("mixed model: option `{name}` is {value}; it must be {expected}")]
    InvalidOption {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("contrast: {found} coefficient(s) given but the model has {expected} fixed effects")]
    ContrastLength { expected: usize, found: usize },
    #[error("likelihood-ratio test: both models must be fitted by maximum likelihood (Method::Ml); refit REML fits with ML, as anova() does")]
    LrtNeedsMl,
    #[error("likelihood-ratio test: the models were fitted to different observations ({0} and {1} rows)")]
    LrtDifferentData(usize, usize),
    #[error("likelihood-ratio test: both models have {0} parameters; nested models differ in their number of parameters")]
    LrtSameSize(usize),
}

const NOT_CONVERGED_ADVICE: &str = "try rescaling covariates (centre them, or change their units), simplifying the random-effects structure (drop a random slope, or use uncorrelated terms `(t || g)`), or raising the evaluation limit";

/// Fits a linear mixed model: the fixed effects from `design` (its `x` and `response`),
/// the random effects from `random` (as [`super::design::random_effect_design`] returns
/// them, in formula order).
///
/// # Errors
/// See [`LmmError`] and the module documentation.
pub fn fit_lmm(
    design: &Design,
    random: &[RandomEffectBlock],
    options: &LmmOptions,
) -> Result<LmmFit, LmmError> {
    options.validate()?;
    if options.df == DfMethod::KenwardRoger && options.method != Method::Reml {
        return Err(KrError::NeedsReml.into());
    }
    let y = design.response.as_ref().ok_or(LmmError::NoResponse)?;
    let y: Vec<f64> = y.iter().copied().collect();
    let x = &design.x;
    let n = y.len();
    let p = x.ncols();
    if random.is_empty() {
        return Err(LmmError::NoRandomEffects);
    }
    if x.nrows() != n {
        return Err(LmmError::DimensionMismatch {
            what: "the fixed-effect model matrix".into(),
            expected: n,
            found: x.nrows(),
        });
    }
    if let Some(row) = y.iter().position(|v| !v.is_finite()) {
        return Err(LmmError::NonFinite {
            what: "the response".into(),
            row,
            value: y[row],
        });
    }
    for c in 0..p {
        if let Some(row) = x.column(c).iter().position(|v| !v.is_finite()) {
            return Err(LmmError::NonFinite {
                what: format!(
                    "the fixed-effect column `{}`",
                    column_name(&design.column_names, c)
                ),
                row,
                value: x[(row, c)],
            });
        }
    }
    let mut levels = Vec::with_capacity(random.len());
    for block in random {
        if block.group_codes.len() != n || block.z.nrows() != n {
            return Err(LmmError::DimensionMismatch {
                what: format!("the random-effect term ({})", block.term),
                expected: n,
                found: if block.group_codes.len() != n {
                    block.group_codes.len()
                } else {
                    block.z.nrows()
                },
            });
        }
        if block.z.ncols() == 0 {
            return Err(LmmError::EmptyTerm {
                term: block.term.clone(),
            });
        }
        for c in 0..block.z.ncols() {
            if let Some(row) = block.z.column(c).iter().position(|v| !v.is_finite()) {
                return Err(LmmError::NonFinite {
                    what: format!(
                        "the column `{}` of the random-effect term ({})",
                        column_name(&block.column_names, c),
                        block.term
                    ),
                    row,
                    value: block.z[(row, c)],
                });
            }
        }
        let max_code = block
            .group_codes
            .iter()
            .max()
            .map_or(0, |&c| c as usize + 1);
        levels.push(block.group_levels.len().max(max_code));
    }
    if n <= p {
        return Err(LmmError::TooFewObservations {
            n_obs: n,
            n_fixed: p,
        });
    }
    if y.iter().all(|&v| v == y[0]) {
        return Err(LmmError::ConstantResponse { value: y[0] });
    }
    let aliased = aliased_columns(x);
    if !aliased.is_empty() {
        return Err(LmmError::RankDeficient {
            columns: aliased
                .iter()
                .map(|&c| column_name(&design.column_names, c))
                .collect(),
        });
    }
    // lme4's checks (mkReTrms / checkNlevels / checkZdims).
    for (block, &l) in random.iter().zip(&levels) {
        // A level listed but not used still counts in lme4 only if present; codes are
        // dense, so the number of levels used is the maximum code + 1.
        let used = used_levels(&block.group_codes, l);
        if used < 2 {
            return Err(LmmError::SingleLevel {
                group: block.group_name.clone(),
            });
        }
        if used >= n {
            return Err(LmmError::TooManyLevels {
                group: block.group_name.clone(),
                levels: used,
                n_obs: n,
            });
        }
    }
    for (block, &l) in random.iter().zip(&levels) {
        let n_random = l * block.z.ncols();
        if n <= n_random {
            return Err(LmmError::TooManyRandomEffects {
                term: block.term.clone(),
                n_random,
                n_obs: n,
            });
        }
    }

    // lme4's term order: if the numbers of levels are not already non-increasing,
    // `rev(order(nl))` (ties end up in reverse formula order).
    let mut order: Vec<usize> = (0..random.len()).collect();
    if levels.windows(2).any(|w| w[1] > w[0]) {
        order.sort_by_key(|&i| levels[i]);
        order.reverse();
    }
    // The size of the dense block, before anything is allocated.
    let first_group = &random[order[0]].group_name;
    let q_rest: usize = order
        .iter()
        .filter(|&&i| random[i].group_name != *first_group)
        .map(|&i| levels[i] * random[i].z.ncols())
        .sum();
    if q_rest > DENSE_REMAINDER_LIMIT {
        return Err(LmmError::TooLarge {
            q: q_rest,
            limit: DENSE_REMAINDER_LIMIT,
        });
    }
    let inputs: Vec<TermInput<'_>> = order
        .iter()
        .map(|&i| TermInput {
            group: &random[i].group_name,
            codes: &random[i].group_codes,
            n_levels: levels[i],
            z: &random[i].z,
        })
        .collect();
    let model = Model::new(x, &y, &inputs);
    let terms: Vec<&RandomEffectBlock> = order.iter().map(|&i| &random[i]).collect();

    let reml = options.method == Method::Reml;
    let mut ws = model.workspace();
    let nf = n as f64;
    let df_resid = if reml { (n - p) as f64 } else { nf };
    let mut objective = |theta: &[f64]| -> f64 {
        match model.solve(theta, &mut ws, false) {
            Some(s) => {
                let mut d = s.log_det_l
                    + df_resid * (1.0 + (2.0 * std::f64::consts::PI * s.pwrss / df_resid).ln());
                if reml {
                    d += s.log_det_rx;
                }
                d
            }
            None => f64::INFINITY,
        }
    };
    let lower = model.lower_bounds();
    let start = model.theta_start();
    if !objective(&start).is_finite() {
        return Err(LmmError::NumericalFailure {
            message: "the deviance cannot be evaluated at the starting values; check the data for extreme values".into(),
        });
    }
    let max_eval = options.max_evaluations;
    let opt = if model.has_derivatives() {
        // The analytic gradient (pls/gradient.rs) with a quasi-Newton iteration; where
        // it does not settle, the derivative-free search takes over from its end point.
        let mut ws = model.workspace();
        // The last point solved, so that its gradient reuses the factorisation.
        let mut last: Option<(Vec<f64>, pls::Pls)> = None;
        let mut value_and_gradient =
            |theta: &[f64], with_gradient: bool| -> Option<(f64, Vec<f64>)> {
                let s = match &last {
                    Some((t, s)) if t.as_slice() == theta => *s,
                    _ => {
                        last = None;
                        let s = model.solve(theta, &mut ws, true)?;
                        last = Some((theta.to_vec(), s));
                        s
                    }
                };
                let mut value = s.log_det_l
                    + df_resid * (1.0 + (2.0 * std::f64::consts::PI * s.pwrss / df_resid).ln());
                if reml {
                    value += s.log_det_rx;
                }
                if !with_gradient {
                    return Some((value, Vec::new()));
                }
                let d = model.derivatives(&mut ws, reml, false)?;
                let gradient = d
                    .trace
                    .iter()
                    .zip(&d.quad)
                    .map(|(t, q)| t - q * df_resid / s.pwrss)
                    .collect();
                Some((value, gradient))
            };
        let first =
            optimize::minimize_with_gradient(&mut value_and_gradient, &start, &lower, max_eval);
        if first.converged {
            first
        } else {
            let mut rest = optimize::minimize(
                &mut objective,
                &first.x,
                &lower,
                max_eval.saturating_sub(first.evaluations).max(1),
            );
            rest.evaluations += first.evaluations;
            rest
        }
    } else {
        optimize::minimize(&mut objective, &start, &lower, max_eval)
    };
    let theta = opt.x.clone();

    let mut ws = model.workspace();
    let pls = model
        .solve(&theta, &mut ws, true)
        .ok_or_else(|| LmmError::NumericalFailure {
            message: "the penalised least-squares problem has no solution at the optimum".into(),
        })?;
    // The criterion from the residuals themselves (the optimiser used the cheaper
    // identity; they agree to rounding).
    let mut criterion =
        pls.log_det_l + df_resid * (1.0 + (2.0 * std::f64::consts::PI * pls.pwrss / df_resid).ln());
    if reml {
        criterion += pls.log_det_rx;
    }
    let sigma = (pls.pwrss / df_resid).sqrt();
    if sigma.is_nan() || sigma <= 0.0 || sigma.is_infinite() {
        return Err(LmmError::NumericalFailure {
            message: "the residual standard deviation is zero: the response is fitted exactly"
                .into(),
        });
    }
    let beta = model.beta(&ws);
    let unscaled = dense::chol_inverse(&ws.lx, p);
    let vcov = DMatrix::from_fn(p, p, |i, j| sigma * sigma * unscaled[i * p + j]);

    let mut messages = Vec::new();
    let converged = opt.converged;
    if !converged {
        messages.push(format!(
            "the model did not converge ({}); {NOT_CONVERGED_ADVICE}",
            opt.message.as_deref().unwrap_or("optimiser stopped")
        ));
    }
    let singular = lower
        .iter()
        .zip(&theta)
        .any(|(&l, &t)| l == 0.0 && t < options.singular_tolerance);
    if singular {
        messages.push(
            "boundary (singular) fit: a variance component is estimated as zero or a correlation as ±1 (lme4: see help('isSingular')); consider simplifying the random-effects structure".into(),
        );
    }

    let satterthwaite = match options.df {
        DfMethod::Satterthwaite => Some(satterthwaite::parts(
            &model,
            &theta,
            sigma,
            reml,
            &mut messages,
        )),
        DfMethod::Residual | DfMethod::KenwardRoger => None,
    };
    let kenward_roger = match options.df {
        DfMethod::KenwardRoger => {
            let kr_terms = order
                .iter()
                .enumerate()
                .map(|(t, &i)| {
                    let w = random[i].z.ncols();
                    let tmpl = DMatrix::from_row_slice(w, w, &model.term_template(t, &theta));
                    kenward_roger::KrTerm {
                        codes: &random[i].group_codes,
                        n_levels: levels[i],
                        z: &random[i].z,
                        covariance: &tmpl * tmpl.transpose() * (sigma * sigma),
                    }
                })
                .collect();
            let input = kenward_roger::KrInput {
                x,
                terms: kr_terms,
                sigma2: sigma * sigma,
                vcov: &vcov,
            };
            Some(KenwardRoger::new(&input)?)
        }
        _ => None,
    };

    let n_theta = theta.len();
    let n_parameters = p + n_theta + 1;
    let log_likelihood = -criterion / 2.0;
    let aic = criterion + 2.0 * n_parameters as f64;
    let bic = criterion + n_parameters as f64 * nf.ln();

    let mut fit = LmmFit {
        method: options.method,
        df_method: options.df,
        standard_errors: StandardErrors::ModelBased,
        fixed_effects: Vec::new(),
        random_effects: Vec::new(),
        correlations: Vec::new(),
        sigma,
        log_likelihood,
        reml_criterion: if reml { Some(criterion) } else { None },
        deviance: if reml { None } else { Some(criterion) },
        aic,
        bic,
        n_obs: n,
        n_groups: Vec::new(),
        n_parameters,
        theta: theta.clone(),
        theta_names: Vec::new(),
        random_terms: terms.iter().map(|t| t.term.clone()).collect(),
        converged,
        singular,
        messages,
        evaluations: opt.evaluations,
        vcov,
        satterthwaite,
        kenward_roger,
        robust_df: None,
        cr2_df: None,
    };
    for (j, &b) in beta.iter().enumerate() {
        let mut l = vec![0.0; p];
        l[j] = 1.0;
        let c = fit.contrast_unchecked(&l, &beta);
        fit.fixed_effects.push(Coefficient {
            estimate: b,
            ..c.named(column_name(&design.column_names, j))
        });
    }
    fill_variance_components(&mut fit, &model, &terms, &theta, sigma);
    Ok(fit)
}

impl LmmFit {
    /// The fixed-effect estimates β̂.
    pub fn coefficients(&self) -> Vec<f64> {
        self.fixed_effects.iter().map(|f| f.estimate).collect()
    }

    /// `Cov(β̂) = σ² R_X⁻¹ R_X⁻ᵀ` (lme4's `vcov`).
    pub fn vcov(&self) -> &DMatrix<f64> {
        &self.vcov
    }

    /// The Kenward–Roger adjusted covariance and df parts, for fits with
    /// [`DfMethod::KenwardRoger`] (and model-based standard errors).
    pub fn kenward_roger(&self) -> Option<&KenwardRoger> {
        self.kenward_roger.as_ref()
    }

    /// The residual degrees of freedom `n − p`.
    pub fn df_residual(&self) -> f64 {
        (self.n_obs - self.vcov.nrows()) as f64
    }

    /// lmerTest's `vcov_varpar`: the asymptotic covariance of (θ, σ), when the fit used
    /// Satterthwaite df.
    pub fn vcov_varpar(&self) -> Option<&DMatrix<f64>> {
        self.satterthwaite.as_ref().map(|s| &s.vcov_varpar)
    }

    /// The estimate, SE, df, t, p and 95 % interval of `Lβ`, as lmerTest's
    /// `contest1D(model, L, confint = TRUE)` with the fit's df method (Satterthwaite:
    /// `df = 2 (LᵀVL)² / (gᵀ A g)` with `gᵢ = Lᵀ (∂V/∂varparᵢ) L` and `A` the covariance
    /// of the variance parameters). This is what emmeans-style marginal means and their
    /// differences need: `L` is a row of the reference grid, or a difference of rows.
    /// The row's `term` is empty: the caller names the combination
    /// ([`Coefficient::named`]).
    ///
    /// # Errors
    /// [`LmmError::ContrastLength`] when `l` does not have one weight per fixed effect.
    pub fn contrast(&self, l: &[f64]) -> Result<Coefficient, LmmError> {
        let p = self.fixed_effects.len();
        if l.len() != p {
            return Err(LmmError::ContrastLength {
                expected: p,
                found: l.len(),
            });
        }
        Ok(self.contrast_unchecked(l, &self.coefficients()))
    }

    fn contrast_unchecked(&self, l: &[f64], beta: &[f64]) -> Coefficient {
        let estimate: f64 = l.iter().zip(beta).map(|(a, b)| a * b).sum();
        if let Some(kr) = &self.kenward_roger {
            let var = kr.variance(l);
            return Coefficient::t_test("", estimate, var.sqrt(), kr.df_row(l));
        }
        let var = quadratic_form(l, &self.vcov);
        let df = match &self.satterthwaite {
            Some(s) => {
                let grad: Vec<f64> = s.jacobian.iter().map(|j| quadratic_form(l, j)).collect();
                let denom = quadratic_form(&grad, &s.vcov_varpar);
                2.0 * var * var / denom
            }
            None => match &self.cr2_df {
                Some(cr2) => cr2.df(l),
                None => self.robust_df.unwrap_or_else(|| self.df_residual()),
            },
        };
        Coefficient::t_test("", estimate, var.sqrt(), df)
    }

    /// The fit with its covariance of β̂ replaced by a cluster-robust one: the fixed
    /// effects' tests and every contrast then use it, on clusters − 1 degrees of freedom
    /// (CR1) or Satterthwaite degrees of freedom (CR2).
    pub fn with_robust_vcov(mut self, robust: &RobustVcov) -> LmmFit {
        self.vcov = robust.vcov.clone();
        self.satterthwaite = None;
        self.kenward_roger = None;
        self.robust_df = Some(robust.clusters as f64 - 1.0);
        self.cr2_df = robust.cr2.clone();
        self.standard_errors = StandardErrors::ClusterRobust {
            kind: robust.kind.name().to_string(),
            cluster_by: robust.cluster_by.clone(),
            clusters: robust.clusters,
        };
        let beta = self.coefficients();
        let p = beta.len();
        for j in 0..p {
            let mut l = vec![0.0; p];
            l[j] = 1.0;
            let c = self.contrast_unchecked(&l, &beta);
            let f = &mut self.fixed_effects[j];
            *f = Coefficient {
                term: std::mem::take(&mut f.term),
                estimate: f.estimate,
                ..c
            };
        }
        self
    }
}

/// lme4's `anova(m0, m1)` for two ML fits: the χ² statistic `2 (ℓ₁ − ℓ₀)` (0 if
/// negative) on the difference in the number of parameters. The arguments may come in
/// either order.
///
/// # Errors
/// Either fit is REML; the fits have different numbers of observations or the same
/// number of parameters.
pub fn likelihood_ratio_test(a: &LmmFit, b: &LmmFit) -> Result<LikelihoodRatioTest, LmmError> {
    if a.method != Method::Ml || b.method != Method::Ml {
        return Err(LmmError::LrtNeedsMl);
    }
    if a.n_obs != b.n_obs {
        return Err(LmmError::LrtDifferentData(a.n_obs, b.n_obs));
    }
    if a.n_parameters == b.n_parameters {
        return Err(LmmError::LrtSameSize(a.n_parameters));
    }
    let (m0, m1) = if a.n_parameters < b.n_parameters {
        (a, b)
    } else {
        (b, a)
    };
    let chisq = 2.0 * (m1.log_likelihood - m0.log_likelihood).max(0.0);
    let df = m1.n_parameters - m0.n_parameters;
    let p_value = ChiSquared::new(df as f64).map_or(f64::NAN, |d| upper(chisq, |x| d.sf(x)));
    Ok(LikelihoodRatioTest {
        n_parameters: [m0.n_parameters, m1.n_parameters],
        log_likelihood: [m0.log_likelihood, m1.log_likelihood],
        deviance: [-2.0 * m0.log_likelihood, -2.0 * m1.log_likelihood],
        aic: [m0.aic, m1.aic],
        bic: [m0.bic, m1.bic],
        chisq,
        df,
        p_value,
    })
}

fn column_name(names: &[String], c: usize) -> String {
    names
        .get(c)
        .cloned()
        .unwrap_or_else(|| format!("column {}", c + 1))
}

fn used_levels(codes: &[u32], levels: usize) -> usize {
    let mut seen = vec![false; levels];
    let mut count = 0;
    for &c in codes {
        let c = c as usize;
        if c < levels && !seen[c] {
            seen[c] = true;
            count += 1;
        }
    }
    count
}

/// Columns that are (numerically) linear combinations of earlier columns: R's `qr()`
/// rule with `tol = 1e-7` (a column whose norm after orthogonalisation on the kept
/// columns falls below `tol` times its original norm is aliased).
fn aliased_columns(x: &DMatrix<f64>) -> Vec<usize> {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let mut aliased = Vec::new();
    for c in 0..x.ncols() {
        let mut v: Vec<f64> = x.column(c).iter().copied().collect();
        let norm0 = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        for _ in 0..2 {
            for q in &basis {
                let d: f64 = q.iter().zip(&v).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(q).for_each(|(a, b)| *a -= d * b);
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm0 == 0.0 || norm < 1e-7 * norm0 {
            aliased.push(c);
        } else {
            v.iter_mut().for_each(|a| *a /= norm);
            basis.push(v);
        }
    }
    aliased
}

fn quadratic_form(l: &[f64], m: &DMatrix<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..l.len() {
        for j in 0..l.len() {
            s += l[i] * m[(i, j)] * l[j];
        }
    }
    s
}

/// Variance components, correlations, θ names and group counts, as lme4 prints them.
fn fill_variance_components(
    fit: &mut LmmFit,
    model: &Model,
    terms: &[&RandomEffectBlock],
    theta: &[f64],
    sigma: f64,
) {
    let s2 = sigma * sigma;
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (t, block) in terms.iter().enumerate() {
        let w = block.z.ncols();
        let tmpl = model.term_template(t, theta);
        let group = match seen.iter_mut().find(|(g, _)| *g == block.group_name) {
            Some((g, count)) => {
                let name = format!("{g}.{count}");
                *count += 1;
                name
            }
            None => {
                seen.push((block.group_name.clone(), 1));
                block.group_name.clone()
            }
        };
        let cov = |i: usize, j: usize| -> f64 {
            (0..w)
                .map(|m| tmpl[i * w + m] * tmpl[j * w + m])
                .sum::<f64>()
                * s2
        };
        let names: Vec<String> = (0..w)
            .map(|c| column_name(&block.column_names, c))
            .collect();
        for (c, name) in names.iter().enumerate() {
            let v = cov(c, c);
            fit.random_effects.push(VarianceComponent {
                group: group.clone(),
                term: name.clone(),
                variance: v,
                std_dev: v.sqrt(),
            });
        }
        for j in 0..w {
            for i in (j + 1)..w {
                fit.correlations.push(Correlation {
                    group: group.clone(),
                    term1: names[j].clone(),
                    term2: names[i].clone(),
                    correlation: cov(i, j) / (cov(i, i) * cov(j, j)).sqrt(),
                });
            }
        }
        for j in 0..w {
            for i in j..w {
                fit.theta_names.push(if i == j {
                    format!("{}.{}", block.group_name, names[i])
                } else {
                    format!("{}.{}.{}", block.group_name, names[i], names[j])
                });
            }
        }
    }
    for (t, block) in terms.iter().enumerate() {
        if !fit.n_groups.iter().any(|g| g.group == block.group_name) {
            let levels = model.blocks[model.terms[t].block].n_levels;
            fit.n_groups.push(GroupCount {
                group: block.group_name.clone(),
                n_groups: levels,
            });
        }
    }
}
