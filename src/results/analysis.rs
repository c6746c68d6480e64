//! Everything one run of `shine analyse` found: the main analysis, each sensitivity
//! analysis, and what the extract and the matching looked like. The pipeline returns
//! [`AnalysisResults`]; the printers in `report` read it.

use std::rc::Rc;

use serde::Serialize;

use super::cohort::{
    CohortCounts, MatchedCohort, MatchedPerson, PropensityScores, RateComparison, RiskSetMatching,
};
use super::outcomes::{NegativeControl, OutcomeDid};
use super::survey::{SurveyOutcome, WaveSummary};
use crate::data::read::FileInfo;
use crate::data::score::ScoreCount;
use crate::plan::{AnalysisSettings, Plan};
use crate::stats::table_one::TableOne;

/// One analysis (the main one or a sensitivity analysis): its matched cohort, DiD and
/// survey results.
#[derive(Debug, Clone)]
pub struct AnalysisRun {
    pub settings: AnalysisSettings,
    /// Shared with the main analysis when the matching settings are the same.
    pub cohort: Rc<MatchedCohort>,
    pub did: Vec<OutcomeDid>,
    /// The negative-control outcomes, analysed as `did` (main analysis only).
    pub negative_controls: Vec<NegativeControl>,
    pub survey: Vec<SurveyOutcome>,
}

/// What a headline estimate estimates. Written `rate_ratio`, `change_wave_N` or
/// `difference_in_change_wave_N` in `results.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimand {
    /// The DiD rate ratio of the change after referral.
    RateRatio,
    /// The change from baseline at survey wave `N` (months).
    Change { wave: i64 },
    /// The difference between groups in the change from baseline at wave `N`.
    DifferenceInChange { wave: i64 },
}

impl std::fmt::Display for Estimand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Estimand::RateRatio => f.write_str("rate_ratio"),
            Estimand::Change { wave } => write!(f, "change_wave_{wave}"),
            Estimand::DifferenceInChange { wave } => write!(f, "difference_in_change_wave_{wave}"),
        }
    }
}

impl Serialize for Estimand {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One headline estimate of an analysis, for the summary and the side-by-side
/// comparison of the sensitivity analyses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyEstimate {
    pub outcome: String,
    pub estimand: Estimand,
    pub estimate: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

impl AnalysisRun {
    /// The headline estimates: the DiD rate ratio per outcome group, and per survey
    /// outcome the change from baseline (or the difference in change between groups,
    /// when comparison persons answered) at each follow-up wave.
    pub fn key_estimates(&self) -> Vec<KeyEstimate> {
        let mut out = Vec::new();
        for o in &self.did {
            let c = &o.rate_ratio;
            if let (Some(rr), Some(lo), Some(hi)) =
                (c.rate_ratio, c.rate_ratio_conf_low, c.rate_ratio_conf_high)
            {
                out.push(KeyEstimate {
                    outcome: o.outcome.clone(),
                    estimand: Estimand::RateRatio,
                    estimate: rr,
                    conf_low: lo,
                    conf_high: hi,
                });
            }
        }
        for o in &self.survey {
            let (list, estimand): (_, fn(i64) -> Estimand) = if o.difference_in_change.is_empty() {
                (&o.change, |wave| Estimand::Change { wave })
            } else {
                (&o.difference_in_change, |wave| {
                    Estimand::DifferenceInChange { wave }
                })
            };
            for e in list {
                out.push(KeyEstimate {
                    outcome: o.outcome.clone(),
                    estimand: estimand(e.wave),
                    estimate: e.estimate,
                    conf_low: e.conf_low,
                    conf_high: e.conf_high,
                });
            }
        }
        out
    }
}

/// The validation outcome without examples (examples can hold person_ids).
#[derive(Debug, Clone, Serialize)]
pub struct ValidationSummary {
    pub errors: usize,
    pub warnings: usize,
    /// Each kind of problem found, with how often.
    pub problems: Vec<(String, usize)>,
}

/// The results of `shine analyse`.
#[derive(Debug, Clone)]
pub struct AnalysisResults {
    /// The resolved plan the results were made under.
    pub plan: Plan,
    /// The input files with their hashes and row counts.
    pub inputs: Vec<FileInfo>,
    /// The period the extracts cover, when given.
    pub extract_period: Option<String>,
    pub validation: ValidationSummary,
    pub counts: CohortCounts,
    /// Observed survey scores per wave (not yet under disclosure control).
    pub survey_by_wave: Vec<WaveSummary>,
    pub score_counts: Vec<ScoreCount>,
    /// The main analysis's matching options.
    pub matching: RiskSetMatching,
    /// The propensity scores of the main analysis's model.
    pub propensity: PropensityScores,
    /// Table 1 of the stacked risk sets: before matching and after (weighted).
    pub table_one: (TableOne, TableOne),
    /// Naive versus matched contact rates of the main analysis.
    pub rates: Vec<RateComparison>,
    /// The main analysis's matched cohort, person by person, in matched-set order.
    pub matched_persons: Vec<MatchedPerson>,
    /// The registered participation outcomes, when the extracts hold the table.
    pub participation: Option<super::participation::ParticipationResults>,
    pub main: AnalysisRun,
    pub sensitivity: Vec<AnalysisRun>,
}
