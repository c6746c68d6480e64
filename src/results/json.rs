//! The structure of `results.json`: every estimate of `shine analyse`, under
//! disclosure control (the report fills it in).

use serde::Serialize;

use super::analysis::{KeyEstimate, ValidationSummary};
use super::cohort::{CohortCounts, CohortFlow, RateComparison, RiskSetMatching};
use super::outcomes::{NegativeControl, OutcomeDid};
use super::survey::{SurveyOutcome, WaveSummary};
use crate::data::score::ScoreCount;
use crate::plan::{AnalysisSettings, Plan};
use crate::results::matching::serialize_ps_model;
use crate::stats::balance::BalanceRow;
use crate::stats::coefficient::Coefficient;

/// `results.json`, field by field in the order written.
#[derive(Debug, Clone, Serialize)]
pub struct ResultsJson<'a> {
    pub shine_version: &'static str,
    pub plan: &'a Plan,
    pub difference_in_differences: &'a [OutcomeDid],
    /// The negative-control outcomes, analysed as the outcome groups.
    pub negative_controls: &'a [NegativeControl],
    pub survey_outcomes: &'a [SurveyOutcome],
    pub matching: MatchingResults<'a>,
    pub sensitivity: Vec<SensitivityResults>,
    pub cohort: &'a CohortCounts,
    /// Observed scores per wave, with small counts suppressed.
    pub survey_by_wave: Vec<WaveSummary>,
    pub score_counts: &'a [ScoreCount],
    pub validation: &'a ValidationSummary,
    /// The participation outcomes, means of fewer persons than the threshold left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participation: Option<super::participation::ParticipationResults>,
}

/// The main analysis's matching in `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct MatchingResults<'a> {
    pub options: &'a RiskSetMatching,
    pub flow: &'a CohortFlow,
    pub caliper_width: Option<f64>,
    #[serde(serialize_with = "serialize_ps_model")]
    pub propensity_model: &'a [Coefficient],
    pub balance: &'a [BalanceRow],
    pub max_abs_smd_after: f64,
    pub rates: &'a [RateComparison],
}

/// A sensitivity analysis in `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct SensitivityResults {
    pub settings: AnalysisSettings,
    /// `None` when suppressed under the disclosure rule.
    pub referred_matched: Option<usize>,
    pub comparison_matched: Option<usize>,
    pub max_abs_smd_after: f64,
    pub estimates: Vec<KeyEstimate>,
}
