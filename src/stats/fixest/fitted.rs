//! A fitted model: the coefficient table, the variance, what was dropped, and the joint
//! Wald test of a set of coefficients (the event-study pre-trend test).

use nalgebra::DMatrix;
use serde::Serialize;

use super::{FeError, FeFamily};
use crate::stats::coefficient::Coefficient;
use crate::stats::vcov::{wald_test, WaldTest};

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
    pub coefficients: Vec<Coefficient>,
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
    pub fn coefficient(&self, name: &str) -> Option<&Coefficient> {
        self.coefficients.iter().find(|c| c.term == name)
    }

    /// Joint Wald test that the coefficients `terms` are all zero, with this fit's
    /// variance: F = W/q on (q, [`FeFit::df_residual`]) degrees of freedom as fixest's
    /// `wald()` reports it, and W with its χ²_q p-value as pyfixest's
    /// `wald_test(R, distribution = "chi2")` does.
    ///
    /// # Errors
    /// [`FeError::UnknownTerm`] for a name that is not a kept coefficient; the errors
    /// of [`crate::stats::vcov::wald_test`].
    pub fn wald_test<S: AsRef<str>>(&self, terms: &[S]) -> Result<WaldTest, FeError> {
        let mut indices = Vec::with_capacity(terms.len());
        for t in terms {
            let t = t.as_ref();
            let j = self
                .coefficients
                .iter()
                .position(|c| c.term == t)
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
