//! Results of `shine mixed`: the linear mixed model and its estimated marginal means.

use serde::Serialize;

use crate::stats::lmm::LmmFit;

/// One estimate of the reference grid: a marginal mean, a change from the first level,
/// or a difference between groups in that change.
#[derive(Debug, Clone, Serialize)]
pub struct GridEstimate {
    /// The level of the variable (e.g. the wave).
    pub level: String,
    /// The group, when the means are by group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// What is estimated, e.g. `3 - 0` or `(3 - 0): referred - comparison`.
    pub contrast: String,
    pub estimate: f64,
    pub std_error: f64,
    pub df: f64,
    pub statistic: f64,
    pub p_value: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

/// Means, changes from the first level and differences in change between groups.
#[derive(Debug, Clone, Serialize)]
pub struct Emmeans {
    pub variable: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub means: Vec<GridEstimate>,
    pub changes: Vec<GridEstimate>,
    pub differences: Vec<GridEstimate>,
}

/// A fitted linear mixed model with what was asked of it.
#[derive(Debug, Clone)]
pub struct MixedResult {
    /// The fit; cluster-robust standard errors replace the model's when asked for.
    pub fit: LmmFit,
    /// Rows of the table left out for a missing value.
    pub dropped_rows: usize,
    /// Estimated marginal means, when asked for and the fit converged.
    pub emmeans: Option<Emmeans>,
}
