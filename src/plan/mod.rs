//! The analysis plan: every choice of the pre-registered analysis in one TOML file.
//!
//! `shine plan` prints [`DEFAULT_PLAN`], the SHINE plan with a comment on every
//! setting; `shine analyse --plan FILE` reads a plan, where any key left out keeps its
//! default. Unknown keys and impossible values are errors that name the key. The
//! resolved plan is recorded in `manifest.json`.

mod defaults;
mod read;

use serde::{Deserialize, Serialize};

use crate::data::cohort::{OutcomeGroup, RiskSetOptions};
use crate::data::instruments::{Prorate, ValueSet};
use crate::data::panel::PanelWindow;
use crate::data::read::parse_iso_date;

pub use read::PlanError;

/// The default plan, as `shine plan` prints it. A test checks that it parses to
/// [`Plan::default`].
pub const DEFAULT_PLAN: &str = include_str!("default_plan.toml");

/// Statistics Denmark's minimum cell size: counts from 1 to 4 persons are suppressed.
pub const DEFAULT_THRESHOLD: u64 = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Plan {
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
    /// Persons referred later may serve as comparison persons before their own referral.
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
    pub groups: Vec<OutcomeGroupPlan>,
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
    /// `model` (model-based with Satterthwaite df, as lmerTest).
    pub standard_errors: SurveyErrors,
}

/// The standard errors of the survey models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyErrors {
    /// Cluster-robust CR2 with Satterthwaite df (clubSandwich's defaults).
    Robust,
    /// Cluster-robust CR1 on clusters − 1 df.
    RobustCr1,
    /// Model-based with Satterthwaite df (lmerTest).
    Model,
}

impl SurveyErrors {
    /// The cluster-robust type, or `None` for model-based standard errors.
    pub fn robust_type(self) -> Option<crate::stats::lmm::RobustType> {
        match self {
            SurveyErrors::Robust => Some(crate::stats::lmm::RobustType::Cr2),
            SurveyErrors::RobustCr1 => Some(crate::stats::lmm::RobustType::Cr1),
            SurveyErrors::Model => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Disclosure {
    /// Counts from 1 to threshold − 1 are suppressed.
    pub threshold: u64,
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

/// The unit of clustering of the standard errors of the difference-in-differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterBy {
    MatchedSet,
    Person,
}

/// The settings of one analysis (the main one or a sensitivity analysis), resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisSettings {
    pub name: String,
    pub label: String,
    pub ratio: usize,
    pub caliper: Option<f64>,
    pub cluster: ClusterBy,
    pub complete_cases: bool,
    /// Right-hand side terms of the propensity model.
    pub covariates: Vec<String>,
}

impl AnalysisSettings {
    /// The propensity formula, `treated ~ covariates`.
    pub fn propensity_formula(&self) -> String {
        format!("treated ~ {}", self.covariates.join(" + "))
    }
}

impl Plan {
    /// The propensity formula, `treated ~ covariates`.
    pub fn propensity_formula(&self) -> String {
        self.main_analysis().propensity_formula()
    }

    pub fn risk_set_options(&self) -> RiskSetOptions {
        let (referral_start, referral_end) = self.referral_period();
        RiskSetOptions {
            catchment: self.study.catchment_municipalities.clone(),
            min_age: self.eligibility.min_age,
            allow_later_referred: self.eligibility.later_referred_as_comparison,
            prior_days: self.propensity.prior_use_days,
            referral_start,
            referral_end,
        }
    }

    /// The referral period as days since 1970-01-01 (checked by [`Plan::check`]).
    pub fn referral_period(&self) -> (Option<i32>, Option<i32>) {
        let day = |s: &str| (!s.is_empty()).then(|| parse_iso_date(s)).flatten();
        (
            day(&self.study.referral_start),
            day(&self.study.referral_end),
        )
    }

    pub fn outcome_groups(&self) -> Vec<OutcomeGroup> {
        self.outcomes
            .groups
            .iter()
            .map(|g| OutcomeGroup {
                name: g.name.clone(),
                contact_types: g.contact_types.clone(),
            })
            .collect()
    }

    pub fn panel_window(&self) -> PanelWindow {
        PanelWindow {
            period_days: self.outcomes.period_days,
            periods_before: self.outcomes.periods_before,
            periods_after: self.outcomes.periods_after,
        }
    }

    pub fn prorate(&self) -> Prorate {
        match self.survey.prorate_max_missing {
            0 => Prorate::None,
            k => Prorate::MaxMissing(k),
        }
    }

    /// The main analysis.
    pub fn main_analysis(&self) -> AnalysisSettings {
        AnalysisSettings {
            name: "main".into(),
            label: "main analysis".into(),
            ratio: self.matching.ratio,
            caliper: caliper(self.matching.caliper),
            cluster: self.outcomes.cluster,
            complete_cases: self.survey.complete_cases,
            covariates: self.propensity.covariates.clone(),
        }
    }

    /// The sensitivity analyses, each the main analysis with its changes applied.
    pub fn sensitivity_analyses(&self) -> Vec<AnalysisSettings> {
        let main = self.main_analysis();
        self.sensitivity
            .iter()
            .map(|s| AnalysisSettings {
                name: s.name.clone(),
                label: s.label.clone(),
                ratio: s.ratio.unwrap_or(main.ratio),
                caliper: s.caliper.map_or(main.caliper, caliper),
                cluster: s.cluster.unwrap_or(main.cluster),
                complete_cases: s.complete_cases.unwrap_or(main.complete_cases),
                covariates: s
                    .covariates
                    .clone()
                    .unwrap_or_else(|| main.covariates.clone()),
            })
            .collect()
    }
}

fn caliper(c: f64) -> Option<f64> {
    (c > 0.0).then_some(c)
}

#[cfg(test)]
mod tests;
