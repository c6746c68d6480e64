//! The cohort of `shine analyse`: what the extract holds, the matched cohort with its
//! flow and balance, and the naive versus matched contact rates.

use serde::Serialize;

use crate::data::cohort::RiskSetFlow;
use crate::plan::Caliper;
use crate::stats::balance::{BalanceRow, SampleSizes};
use crate::stats::coefficient::Coefficient;

/// Counts of the extract, for the results.
#[derive(Debug, Clone, Serialize)]
pub struct CohortCounts {
    pub persons: u64,
    pub referred: u64,
    pub comparison_pool: u64,
    pub contacts: u64,
    pub survey_responses: u64,
}

/// The matching options of one analysis, as the plan resolves them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskSetMatching {
    pub formula: String,
    pub ratio: usize,
    /// In standard deviations of the linear logit over all stacked rows.
    pub caliper: Option<Caliper>,
    pub exact: Vec<String>,
    /// Whether a comparison person may be matched again in a later risk set.
    pub reuse_comparisons: bool,
}

/// Which group a cohort member belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Referred,
    Comparison,
}

impl Group {
    /// The group's name in tables and exports.
    pub fn name(self) -> &'static str {
        match self {
            Group::Referred => "referred",
            Group::Comparison => "comparison",
        }
    }
}

/// One member of the matched cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortMember {
    /// The person's index in the registry.
    pub person: u32,
    pub group: Group,
    pub matched_set: usize,
    pub index_date: i32,
    pub weight: f64,
    /// The member's row in the stacked risk sets.
    #[serde(skip)]
    pub row: usize,
}

/// Counts for the flow diagram, from referral to the matched cohort.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CohortFlow {
    #[serde(flatten)]
    pub risk_sets: RiskSetFlow,
    pub referred_matched: usize,
    pub referred_unmatched: usize,
    pub referred_with_fewer_than_ratio: usize,
    pub comparison_matched: usize,
    /// Comparison person-months dropped before fitting because a categorical covariate
    /// takes a level there that no referred person has (outside common support; keeping
    /// them would make the propensity model separate).
    pub comparison_rows_outside_support: usize,
}

/// The matched cohort and what it took to get there.
#[derive(Debug, Clone)]
pub struct MatchedCohort {
    pub members: Vec<CohortMember>,
    pub flow: CohortFlow,
    pub ps_model: Vec<Coefficient>,
    pub balance: Vec<BalanceRow>,
    /// The largest absolute standardised mean difference after matching over the
    /// covariates (the distance left out).
    pub max_abs_smd_after: f64,
    pub sizes: SampleSizes,
    pub caliper_width: Option<f64>,
    /// Matching weight per row of the model's stacked risk sets (0 when unmatched).
    pub row_weights: Vec<f64>,
    pub warnings: Vec<String>,
}

/// One member of the matched cohort as exported on request (person-level data).
#[derive(Debug, Clone, PartialEq)]
pub struct MatchedPerson {
    pub person_id: String,
    pub group: Group,
    pub matched_set: usize,
    /// Days since 1970-01-01.
    pub index_date: i32,
    pub weight: f64,
}

/// The linear propensity score of every row of the stacked risk sets the model was
/// fitted on, with the row's treatment, for the distribution figure.
#[derive(Debug, Clone, Default)]
pub struct PropensityScores {
    pub distance: Vec<f64>,
    pub treated: Vec<bool>,
}

/// Contacts per person-year in a window around the index date.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub persons: usize,
    pub person_years: f64,
    pub rate: f64,
}

/// How far a naive comparison (referred vs the whole eligible pool) is from the
/// matched one, per outcome group, before and after the index date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateComparison {
    pub outcome: String,
    /// `before` (the `days_before` days up to the index date) or `after` (from it).
    pub window: &'static str,
    pub referred: Rate,
    pub matched_comparison: Rate,
    pub eligible_pool: Rate,
    /// Referred vs the eligible pool: what an unmatched comparison would report.
    pub naive_ratio: f64,
    /// Referred vs their matched comparison persons.
    pub matched_ratio: f64,
}
