//! What either estimator hands to the variance, and the weighted least-squares step
//! both use.

use nalgebra::{DMatrix, DVector};

use super::FeError;
use crate::stats::glm::{weighted_least_squares, WlsSolution};

/// What the variance needs from either estimator.
pub(super) struct Estimate {
    pub(super) names: Vec<String>,
    pub(super) beta: Vec<f64>,
    /// (X̃'WX̃)⁻¹ of the kept columns.
    pub(super) bread: DMatrix<f64>,
    /// Demeaned kept regressors, n×k column-major.
    pub(super) x_tilde: DMatrix<f64>,
    /// Score multipliers wᵢ eᵢ (weight × working residual).
    pub(super) u: Vec<f64>,
    /// Σ wᵢ eᵢ² (least squares).
    pub(super) rss: f64,
    pub(super) deviance: f64,
    pub(super) collinear: Vec<String>,
    pub(super) iterations: usize,
    pub(super) converged: bool,
    pub(super) sweeps: usize,
}

/// Tolerance of the final least-squares steps' rank decision; collinearity has already
/// been dealt with by [`super::collinear::independent_columns`].
const WLS_TOLERANCE: f64 = 1e-10;

/// Least squares of z on X with weights, requiring full column rank.
pub(super) fn solve_wls(
    x: &DMatrix<f64>,
    z: &DVector<f64>,
    w: &DVector<f64>,
) -> Result<(WlsSolution, Vec<bool>), FeError> {
    let sol = weighted_least_squares(x, z, w, WLS_TOLERANCE)?;
    let aliased = sol.aliased.clone();
    Ok((sol, aliased))
}
