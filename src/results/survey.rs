//! The survey outcomes of `shine analyse`: observed scores by wave, and the mixed
//! models' changes from baseline and model-based means.

use serde::Serialize;

/// Survey scores per wave (referred persons), before any modelling.
#[derive(Debug, Clone, Serialize)]
pub struct WaveSummary {
    pub wave: i64,
    pub responses: u64,
    pub ucla3: Moments,
    pub ucla3_severe: u64,
    pub eq5d_index: Moments,
    pub eq_vas: Moments,
}

/// The number of observed scores, their mean and standard deviation (`None` when
/// there are too few scores for them).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Moments {
    pub n: u64,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
}

/// An estimate at one survey wave with its interval (Satterthwaite or cluster-robust).
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub wave: i64,
    pub estimate: f64,
    pub std_error: f64,
    pub df: f64,
    pub p_value: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

/// The results of one survey outcome.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyOutcome {
    pub outcome: String,
    pub formula: String,
    /// How the standard errors were computed.
    pub standard_errors: String,
    pub n_obs: usize,
    pub n_persons: usize,
    /// Change from baseline at each follow-up wave.
    pub change: Vec<Estimate>,
    /// Model-based mean per wave (of the referred, when both groups answered).
    pub means: Vec<Estimate>,
    /// When comparison persons answered too: the difference between referred and
    /// comparison persons in the change from baseline, per follow-up wave.
    pub difference_in_change: Vec<Estimate>,
    pub singular: bool,
    pub converged: bool,
}
