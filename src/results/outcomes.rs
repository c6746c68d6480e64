//! The register outcomes of `shine analyse`: difference-in-differences rate ratios,
//! event studies and raw rates per outcome group.

use serde::Serialize;

use crate::results::did::{BootstrapInfo, DidCoefficient, PretrendTest};
use crate::stats::evalue::EValue;

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
    /// The wild cluster bootstrap behind `linear`'s `boot_*` columns, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linear_bootstrap: Option<BootstrapInfo>,
    pub event_study: Vec<EventPoint>,
    pub pretrend_test: Option<PretrendTest>,
    pub n_obs: usize,
    pub n_dropped: usize,
    /// E-values of the rate ratio and of its interval limit closer to 1 (VanderWeele &
    /// Ding 2017), the rate ratio read as a risk ratio.
    pub e_value: Option<EValue>,
    /// The same contrast from a negative binomial model of the counts before and after
    /// the index date, or why it could not be fitted (main analysis only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negative_binomial: Option<NegativeBinomial>,
    /// The rate ratio at a placebo index date before the real one (main analysis's
    /// outcome groups only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placebo: Option<Placebo>,
}

/// The placebo-date analysis of one outcome: every member's index date moved back
/// `periods` periods, both windows before the real index date.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Placebo {
    Fitted {
        periods: i32,
        rate_ratio: DidCoefficient,
    },
    NotFitted {
        not_fitted: String,
    },
}

/// The negative binomial sensitivity analysis of one outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum NegativeBinomial {
    Fitted(NegBinRateRatio),
    /// Why the model could not be fitted (e.g. no overdispersion).
    NotFitted {
        not_fitted: String,
    },
}

/// The rate ratio of a negative binomial (NB2) model of each member's counts before and
/// after the index date, `count ~ referred * post + offset(log(exposure))`, weighted by
/// the matching weights (model-based standard errors, as `MASS::glm.nb`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NegBinRateRatio {
    pub rate_ratio: f64,
    pub conf_low: f64,
    pub conf_high: f64,
    pub p_value: f64,
    /// The shape θ: Var(y) = μ + μ²/θ.
    pub theta: f64,
    pub theta_std_error: f64,
    /// Member-by-side rows the model used.
    pub n_obs: usize,
}

/// A negative-control outcome: its DiD results, or why its models could not be fitted
/// (a rare contact type in a small cohort may have no events on one side).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum NegativeControl {
    Fitted(Box<OutcomeDid>),
    NotFitted { outcome: String, not_fitted: String },
}
