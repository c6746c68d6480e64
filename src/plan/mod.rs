//! The analysis plan: every choice of the pre-registered analysis in one TOML file.
//!
//! `shine plan` prints [`DEFAULT_PLAN`], the SHINE plan with a comment on every
//! setting; `shine analyse --plan FILE` reads a plan, where any key left out keeps its
//! default. Unknown keys and impossible values are errors that name the key. The
//! resolved plan is recorded in `manifest.json`.

mod columns;
mod defaults;
mod file;
mod read;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::data::calendar::days_from_date;
use crate::data::cohort::{OutcomeGroup, RiskSetOptions};
use crate::data::instruments::{Prorate, ValueSet};
use crate::data::panel::PanelWindow;
use crate::stats::formula::Formula;

pub use file::{
    BootstrapWeights, Disclosure, Eligibility, LinearBootstrap, OutcomeGroupPlan, Outcomes,
    PlanFile,
};
pub use read::PlanError;

/// The default plan, as `shine plan` prints it. A test checks that it parses to
/// [`Plan::default`].
pub const DEFAULT_PLAN: &str = include_str!("default_plan.toml");

/// Statistics Denmark's minimum cell size: counts from 1 to 4 persons are suppressed.
pub const DEFAULT_THRESHOLD: u64 = 5;

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
    /// Model-based with Kenward–Roger's adjusted standard errors and df (pbkrtest,
    /// lmerTest `ddf = "Kenward-Roger"`).
    ModelKenwardRoger,
}

impl SurveyErrors {
    /// The cluster-robust type, or `None` for model-based standard errors.
    pub fn robust_type(self) -> Option<crate::stats::lmm::RobustType> {
        match self {
            SurveyErrors::Robust => Some(crate::stats::lmm::RobustType::Cr2),
            SurveyErrors::RobustCr1 => Some(crate::stats::lmm::RobustType::Cr1),
            SurveyErrors::Model | SurveyErrors::ModelKenwardRoger => None,
        }
    }

    /// Whether the model-based tests use Kenward–Roger's adjustment.
    pub fn kenward_roger(self) -> bool {
        self == SurveyErrors::ModelKenwardRoger
    }
}

/// The unit of clustering of the standard errors of the difference-in-differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterBy {
    MatchedSet,
    Person,
}

/// The analysis plan, checked: every value usable as it stands. Made from a
/// [`PlanFile`] by [`Plan::from_file`] (which names the key of the first impossible
/// value) and written back as one, so it serialises exactly as the file's form.
#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    /// Municipality codes (DST) a comparison person must live in, as of the previous
    /// year's register snapshot; at least one.
    pub catchment_municipalities: Vec<i64>,
    /// Referrals from this date on enter the analysis.
    pub referral_start: Option<NaiveDate>,
    /// Referrals up to and including this date enter the analysis; not before
    /// `referral_start`.
    pub referral_end: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Propensity {
    /// The right-hand side of the propensity model.
    pub covariates: Covariates,
    /// Days before the index date over which prior healthcare use is counted
    /// (`prior_<outcome>` covariates); at least 1.
    pub prior_use_days: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Matching {
    /// Comparison persons per referred person (1:K), 1–100.
    pub ratio: usize,
    pub caliper: Option<Caliper>,
    /// Variables matched on exactly.
    pub exact: Vec<String>,
    /// Whether a person matched as a comparison stays available in later risk sets.
    pub reuse_comparisons: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    pub value_set: ValueSet,
    /// How many UCLA items may be missing with the score prorated.
    pub prorate: Prorate,
    /// Only persons who answered every wave.
    pub complete_cases: bool,
    /// Add a random intercept for the general practice: `(1 | practice_id/person_id)`.
    pub practice_random_effect: bool,
    pub standard_errors: SurveyErrors,
}

/// One sensitivity analysis: the main analysis with the settings it names changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivity {
    /// Not `main`; unique among the sensitivity analyses.
    pub name: String,
    pub label: String,
    /// `Some(None)`: without a caliper (the file's `caliper = 0`).
    pub caliper: Option<Option<Caliper>>,
    pub ratio: Option<usize>,
    pub cluster: Option<ClusterBy>,
    pub complete_cases: Option<bool>,
    /// Propensity covariates instead of the main analysis's.
    pub covariates: Option<Covariates>,
}

/// A caliper: the largest allowed distance between matched persons, in standard
/// deviations of the linear logit of the propensity score. Positive and finite; the
/// plan file's `0` means no caliper and is `None` here.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Caliper(f64);

impl Caliper {
    /// The caliper of a width from the plan file: `Ok(None)` for 0 (no caliper), an
    /// error for a negative or non-finite width.
    pub fn from_width(width: f64) -> Result<Option<Caliper>, String> {
        if !width.is_finite() || width < 0.0 {
            return Err(format!(
                "must be a width ≥ 0 in SD of the logit (0: no caliper), got {width}"
            ));
        }
        Ok((width > 0.0).then_some(Caliper(width)))
    }

    /// The width in standard deviations of the linear logit.
    pub fn width(self) -> f64 {
        self.0
    }
}

/// The right-hand side of a propensity model: the terms as the plan writes them (R's
/// formula syntax) and the parsed formula `treated ~ terms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Covariates {
    terms: Vec<String>,
    formula: Formula,
}

impl Covariates {
    /// Parses the terms; an error says what is wrong with `treated ~ terms`.
    pub fn parse(terms: Vec<String>) -> Result<Covariates, String> {
        if terms.is_empty() {
            return Err("needs at least one covariate".into());
        }
        let text = format!("treated ~ {}", terms.join(" + "));
        let formula = crate::stats::formula::parse(&text).map_err(|e| format!("`{text}`: {e}"))?;
        Ok(Covariates { terms, formula })
    }

    /// The terms as written.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// `treated ~ terms`, parsed.
    pub fn formula(&self) -> &Formula {
        &self.formula
    }

    /// `treated ~ terms`, as text.
    pub fn formula_text(&self) -> String {
        format!("treated ~ {}", self.terms.join(" + "))
    }
}

impl Serialize for Covariates {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.terms.serialize(serializer)
    }
}

impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PlanFile::from(self).serialize(serializer)
    }
}

/// The settings of one analysis (the main one or a sensitivity analysis), resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisSettings {
    pub name: String,
    pub label: String,
    pub ratio: usize,
    pub caliper: Option<Caliper>,
    pub cluster: ClusterBy,
    pub complete_cases: bool,
    /// Right-hand side terms of the propensity model.
    pub covariates: Covariates,
}

impl Plan {
    pub fn risk_set_options(&self) -> RiskSetOptions {
        let day = |d: Option<NaiveDate>| d.map(days_from_date);
        RiskSetOptions {
            catchment: self.study.catchment_municipalities.clone(),
            min_age: self.eligibility.min_age,
            allow_later_referred: self.eligibility.later_referred_as_comparison,
            prior_days: self.propensity.prior_use_days,
            referral_start: day(self.study.referral_start),
            referral_end: day(self.study.referral_end),
        }
    }

    pub fn outcome_groups(&self) -> Vec<OutcomeGroup> {
        groups_of(&self.outcomes.groups)
    }

    /// The negative-control outcomes.
    pub fn negative_controls(&self) -> Vec<OutcomeGroup> {
        groups_of(&self.outcomes.negative_controls)
    }

    pub fn panel_window(&self) -> PanelWindow {
        PanelWindow {
            period_days: self.outcomes.period_days,
            periods_before: self.outcomes.periods_before,
            periods_after: self.outcomes.periods_after,
        }
    }

    /// The wild cluster bootstrap of the linear DiD, seeded with the plan's seed, or
    /// `None` when the plan turns it off.
    pub fn linear_bootstrap_options(&self) -> Option<crate::stats::fixest::WildBootstrapOptions> {
        (self.outcomes.linear_bootstrap == LinearBootstrap::Wild).then_some(
            crate::stats::fixest::WildBootstrapOptions {
                weights: self.outcomes.bootstrap_weights,
                reps: self.outcomes.bootstrap_reps,
                seed: self.seed,
                confidence_level: 0.95,
            },
        )
    }

    /// The main analysis.
    pub fn main_analysis(&self) -> AnalysisSettings {
        AnalysisSettings {
            name: "main".into(),
            label: "main analysis".into(),
            ratio: self.matching.ratio,
            caliper: self.matching.caliper,
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
                caliper: s.caliper.unwrap_or(main.caliper),
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

#[cfg(test)]
mod tests;

fn groups_of(plans: &[OutcomeGroupPlan]) -> Vec<OutcomeGroup> {
    plans
        .iter()
        .map(|g| OutcomeGroup {
            name: g.name.clone(),
            contact_types: g.contact_types.clone(),
        })
        .collect()
}
