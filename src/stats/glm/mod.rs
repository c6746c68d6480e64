//! Generalised linear models fitted by iteratively reweighted least squares (IRLS),
//! reproducing R's `glm()` / `glm.fit()` number for number: the same starting values,
//! the same weighted least-squares solver decisions (LINPACK `dqrdc2` limited column
//! pivoting), the same convergence rule, iteration count, deviance, AIC and summary table.
//!
//! The entry point is [`fit_glm`]. The building blocks of one IRLS iteration —
//! [`working_values`] (working response and weights) and [`weighted_least_squares`]
//! (R's `Cdqrls`) — are public so that other estimators (e.g. a Poisson model with
//! high-dimensional fixed effects, which demeans between the two steps) reuse exactly
//! the same numerics.
//!
//! Layout: `family` (links, variances, deviances of the families), `options` and
//! `error` (`glm.control()` and the typed errors), `irls` (the `glm.fit` loop and its
//! working values, and the provisional steps of large fits), `wls` (one weighted
//! least-squares step) on `qr` (the tall-skinny QR) or `gram` (the normal equations, for
//! very tall sparse designs and provisional steps; `fused` makes each provisional step
//! one pass over the rows) and `linpack` (`dqrdc2`, `dqrsl`),
//! `rows` (passes over the design in blocks
//! of rows), `separation` (detection from the IRLS path) and `fit` ([`fit_glm`] and
//! the `summary.glm` table). `negbin` is the negative binomial regression of
//! `MASS::glm.nb` ([`fit_negative_binomial`]), built on the same IRLS pieces.

mod error;
mod family;
mod fit;
mod fused;
mod gram;
mod irls;
mod linpack;
mod negbin;
mod options;
mod qr;
mod rows;
mod separation;
mod wls;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fit;
#[cfg(test)]
mod tests_gram;
#[cfg(test)]
mod tests_negbin;
#[cfg(test)]
mod tests_qr;
#[cfg(test)]
mod tests_refined;
#[cfg(test)]
mod tests_segments;

pub use error::GlmError;
pub use family::Family;
pub use fit::{fit_glm, fit_glm_from, GlmFit, WaldStatistic};
pub use irls::{refine_large_fits, working_values, WorkingValues};
pub use negbin::{
    fit_negative_binomial, NegBinError, NegBinFit, NegBinOptions, THETA_NO_OVERDISPERSION,
};
pub use options::{GlmOptions, LeastSquares};
pub use separation::Separation;
pub use wls::{weighted_least_squares, weighted_least_squares_by, WlsSolution};
