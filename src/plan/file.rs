//! The plan file as written: the TOML's tables and keys, each with its default, before
//! any value is checked. [`super::Plan`] is made from it by checking every value once;
//! it is written back through it, so the manifest records the plan in the same form.

use serde::{Deserialize, Serialize};

use super::{ClusterBy, SurveyErrors};
use crate::data::instruments::ValueSet;
pub use crate::stats::fixest::BootstrapWeights;

/// Whether the linear DiD of `analyse` gets wild cluster bootstrap intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinearBootstrap {
    /// The restricted wild cluster bootstrap (WCR), clustered as the standard errors.
    Wild,
    None,
}

/// The whole plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanFile {
    pub seed: u64,
    pub study: Study,
    pub eligibility: Eligibility,
    pub propensity: Propensity,
    pub matching: Matching,
    pub outcomes: Outcomes,
    pub survey: Survey,
    pub disclosure: Disclosure,
    pub sensitivity: Vec<Sensitivity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Study {
    /// Municipality codes (DST) a comparison person must live in, as of the previous
    /// year's register snapshot.
    pub catchment_municipalities: Vec<i64>,
    /// Referrals from this date on enter the analysis (ISO date; empty: no bound).
    pub referral_start: String,
    /// Referrals up to and including this date enter the analysis (empty: no bound).
    pub referral_end: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Eligibility {
    /// Minimum age in years at the index date.
    pub min_age: i32,
    /// Persons referred later may serve as comparison persons before their own referral
    /// (their comparison follow-up ends the day before it).
    pub later_referred_as_comparison: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Propensity {
    /// Right-hand side of the propensity model, in R's formula syntax; the treatment is
    /// `treated`.
    pub covariates: Vec<String>,
    /// Days before the index date over which prior healthcare use is counted
    /// (`prior_<outcome>` covariates).
    pub prior_use_days: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Matching {
    /// Comparison persons per referred person (1:K).
    pub ratio: usize,
    /// In standard deviations of the linear logit of the propensity score; 0 for none.
    pub caliper: f64,
    /// Variables matched on exactly.
    pub exact: Vec<String>,
    /// Whether a person matched as a comparison in one risk set stays available in the
    /// later ones (each risk set then draws from everyone at risk that month).
    pub reuse_comparisons: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeGroupPlan {
    pub name: String,
    pub contact_types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Outcomes {
    pub period_days: i32,
    pub periods_before: i32,
    pub periods_after: i32,
    /// `matched_set` or `person`.
    pub cluster: ClusterBy,
    /// The wild cluster bootstrap (WCR) of the linear DiD: `wild` or `none`.
    pub linear_bootstrap: LinearBootstrap,
    /// `rademacher`, `webb` or `mammen`.
    pub bootstrap_weights: BootstrapWeights,
    /// Bootstrap draws B (all 2^G sign vectors instead when 2^G ≤ B, Rademacher).
    pub bootstrap_reps: usize,
    pub groups: Vec<OutcomeGroupPlan>,
    /// Outcomes the programme cannot plausibly change, analysed exactly as the outcome
    /// groups; their rate ratios should be near 1.
    pub negative_controls: Vec<OutcomeGroupPlan>,
    /// The placebo index date: this many periods before the real one, with only data from
    /// before the real index date in both windows; 0 for none.
    pub placebo_periods: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Survey {
    /// `dk-5l` (Jensen et al. 2021) or `dk-3l` (Wittrup-Jensen et al. 2009).
    pub value_set: ValueSet,
    /// UCLA items that may be missing with the score prorated; 0: none.
    pub prorate_max_missing: usize,
    /// Only persons who answered every wave.
    pub complete_cases: bool,
    /// Add a random intercept for the general practice: `(1 | practice_id/person_id)`.
    pub practice_random_effect: bool,
    /// `robust` (cluster-robust CR2 with Satterthwaite df, by person, or by practice
    /// with the practice random effect), `robust_cr1` (CR1 on clusters − 1 df) or
    /// `model` (model-based with Satterthwaite df, as lmerTest) or `model_kenward_roger`
    /// (model-based with Kenward–Roger's adjusted standard errors and df).
    pub standard_errors: SurveyErrors,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Disclosure {
    /// Counts from 1 to threshold − 1 are suppressed. `min_cell` is the same setting
    /// under the name some institutions' output rules use.
    #[serde(alias = "min_cell")]
    pub threshold: u64,
    /// Shown counts are rounded to the nearest multiple of this base (conventional
    /// rounding, each cell on its own); 1 shows them as they are.
    #[serde(skip_serializing_if = "is_one")]
    pub round_to: u64,
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// One sensitivity analysis: the main analysis with some settings changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sensitivity {
    pub name: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caliper: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_cases: Option<bool>,
    /// Propensity covariates instead of the main analysis's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covariates: Option<Vec<String>>,
}
