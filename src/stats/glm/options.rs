//! Control options of the IRLS fit (R's `glm.control()`), checked in one place.

use serde::Serialize;

use super::{Family, GlmError};

/// Options of [`fit_glm`](super::fit_glm), as R's `glm.control()`.
///
/// | field | default | range |
/// |---|---|---|
/// | `family` | — | `Binomial`, `Poisson`, `Gaussian` |
/// | `max_iter` | 25 | ≥ 1 |
/// | `epsilon` | 1e-8 | > 0, finite |
/// | `solver` | `Householder` | `Householder`, `NormalEquations` |
///
/// [`GlmOptions::validate`] checks the ranges; [`fit_glm`](super::fit_glm) calls it
/// before it looks at the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GlmOptions {
    /// Family and (canonical) link.
    pub family: Family,
    /// Maximum number of IRLS iterations (R's `maxit`, default 25).
    pub max_iter: usize,
    /// Convergence tolerance (R's `epsilon`, default 1e-8): converged when
    /// |dev - dev_old| / (|dev| + 0.1) < epsilon.
    pub epsilon: f64,
    /// How each weighted least-squares step is solved.
    pub solver: LeastSquares,
}

/// How the weighted least-squares step of IRLS is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum LeastSquares {
    /// A Householder QR of sqrt(W)X, as R's `glm.fit`: R's numbers to the last digits.
    #[default]
    Householder,
    /// The Cholesky factor of X'WX summed over the non-zero entries of each row: a tenth
    /// of the work on tall designs of indicator columns, at the cost of squaring the
    /// condition number (coefficients to about 1e-10 relative on propensity designs).
    NormalEquations,
}

impl GlmOptions {
    /// R's defaults (`glm.control()`: `epsilon = 1e-8`, `maxit = 25`) for a family.
    pub fn new(family: Family) -> Self {
        GlmOptions {
            family,
            max_iter: 25,
            epsilon: 1e-8,
            solver: LeastSquares::Householder,
        }
    }

    /// Checks that the options are in range: `max_iter` at least 1, `epsilon` positive
    /// and finite.
    ///
    /// # Errors
    /// [`GlmError::InvalidOption`] naming the first option out of range (`max_iter`
    /// before `epsilon`).
    pub fn validate(&self) -> Result<(), GlmError> {
        if self.max_iter == 0 {
            return Err(GlmError::InvalidOption {
                name: "max_iter",
                value: 0.0,
                expected: "at least 1",
            });
        }
        if !(self.epsilon > 0.0 && self.epsilon.is_finite()) {
            return Err(GlmError::InvalidOption {
                name: "epsilon",
                value: self.epsilon,
                expected: "a positive finite number",
            });
        }
        Ok(())
    }

    /// Tolerance of the QR rank decision in each least-squares step, as glm.fit:
    /// `min(1e-7, epsilon / 1000)` (1e-11 with the default epsilon).
    pub fn qr_tolerance(&self) -> f64 {
        (self.epsilon / 1000.0).min(1e-7)
    }
}

impl Default for GlmOptions {
    /// Gaussian family with R's control defaults (R's `glm()` default family).
    fn default() -> Self {
        GlmOptions::new(Family::Gaussian)
    }
}
