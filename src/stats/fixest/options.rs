//! The options of [`fit_fe`](super::fit_fe): the model family, the variance, and the
//! numerical settings. [`FeModel::validate`] is the one place the settings are checked;
//! the estimator's internals take the checked [`ValidFeModel`] it returns.

use std::ops::Deref;

use serde::Serialize;

use super::FeError;

/// The model family of [`fit_fe`](super::fit_fe).
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

/// Options of [`fit_fe`](super::fit_fe).
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
///
/// Columns are demeaned in parallel on the threads of the caller's rayon pool; results
/// do not depend on their number.
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
        }
    }

    /// These options, checked against the ranges in the table above.
    ///
    /// # Errors
    /// [`FeError::InvalidOption`] naming the first option out of range.
    pub(super) fn validate(&self) -> Result<ValidFeModel, FeError> {
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
        ] {
            if v == 0 {
                return Err(FeError::InvalidOption {
                    name,
                    message: "must be at least 1".to_string(),
                });
            }
        }
        Ok(ValidFeModel(*self))
    }
}

impl Default for FeModel {
    fn default() -> Self {
        FeModel::new(FeFamily::Gaussian)
    }
}

/// An [`FeModel`] whose options are in range: made only by [`FeModel::validate`], and what
/// the estimator's internals take, so that an unchecked option cannot reach them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ValidFeModel(FeModel);

impl Deref for ValidFeModel {
    type Target = FeModel;

    fn deref(&self) -> &FeModel {
        &self.0
    }
}
