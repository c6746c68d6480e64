//! The errors of [`fit_fe`](super::fit_fe) and [`FeFit::wald_test`](super::FeFit::wald_test).

use thiserror::Error;

use super::DroppedRows;
use crate::stats::glm::GlmError;
use crate::stats::vcov::VcovError;

/// Errors of [`fit_fe`](super::fit_fe). Rows are 0-based positions in the inputs.
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
