//! The register outcomes of `shine analyse`: difference-in-differences rate ratios,
//! event studies and raw rates per outcome group.

use serde::Serialize;

use crate::results::did::{DidCoefficient, PretrendTest};

/// One event-study coefficient.
#[derive(Debug, Clone, Serialize)]
pub struct EventPoint {
    pub period: i32,
    pub estimate: f64,
    pub std_error: f64,
    pub rate_ratio: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

/// The raw contact rate of a group in one period.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RawRate {
    pub period: i32,
    /// Contacts per person per 30 days, referred persons.
    pub referred: f64,
    /// The same for the matched comparison persons, weighted by the matching weights.
    pub comparison: f64,
}

/// The DiD results of one outcome group.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeDid {
    pub outcome: String,
    pub raw_rates: Vec<RawRate>,
    /// The 2×2 DiD on the log scale, with `rate_ratio` and its interval.
    pub rate_ratio: DidCoefficient,
    /// The linear DiD: change in contacts per person per 30 days.
    pub linear: DidCoefficient,
    pub event_study: Vec<EventPoint>,
    pub pretrend_test: Option<PretrendTest>,
    pub n_obs: usize,
    pub n_dropped: usize,
}
