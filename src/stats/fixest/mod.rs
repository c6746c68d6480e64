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
//! ## Layout
//! [`fit_fe`] (in `fit`) checks the options (`options`) and the inputs, selects the rows
//! (`rows`), recodes the fixed effects (`index`) and calls the estimator: `gaussian` or
//! `poisson`, both built on the demeaning (`demean`), the collinearity check
//! (`collinear`) and a shared least-squares step (`estimate`). `variance` turns their
//! `Estimate` into the variance and the coefficient table; `fitted` holds the result
//! and its Wald test, `error` the errors. `wild_bootstrap` is the restricted wild
//! cluster bootstrap of a least-squares fit ([`wild_cluster_bootstrap`]).
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

mod collinear;
mod demean;
mod error;
mod estimate;
mod fit;
mod fitted;
mod gaussian;
mod index;
mod options;
mod poisson;
mod rows;
mod variance;
mod wild_bootstrap;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_reference;
#[cfg(test)]
mod tests_speed;
#[cfg(test)]
mod tests_wild_bootstrap;
#[cfg(test)]
mod tests_wild_bootstrap_weighted;

pub use error::FeError;
pub use fit::fit_fe;
pub use fitted::{DroppedRows, FeFit};
pub use options::{FeFamily, FeModel, Vcov};
pub use wild_bootstrap::{
    wild_cluster_bootstrap, wild_cluster_bootstrap_weighted, BootstrapWeights, WildBootstrap,
    WildBootstrapError, WildBootstrapOptions,
};
