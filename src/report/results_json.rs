//! `results.json`: every estimate of `shine analyse`, with the counts that the
//! disclosure rule hides suppressed.

use super::manifest::SHINE_VERSION;
use super::sensitivity::sensitivity_results;
use super::survey::suppress_waves;
use crate::results::analysis::AnalysisResults;
use crate::results::json::{MatchingResults, ResultsJson};

/// The text of `results.json`: pretty-printed, with a final newline.
pub fn results_json(results: &AnalysisResults) -> Result<String, serde_json::Error> {
    let threshold = results.plan.disclosure.threshold;
    let main = &results.main;
    let cohort = &*main.cohort;
    let json = ResultsJson {
        shine_version: SHINE_VERSION,
        plan: &results.plan,
        difference_in_differences: &main.did,
        negative_controls: &main.negative_controls,
        survey_outcomes: &main.survey,
        matching: MatchingResults {
            options: &results.matching,
            flow: &cohort.flow,
            caliper_width: cohort.caliper_width,
            propensity_model: &cohort.ps_model,
            balance: &cohort.balance,
            max_abs_smd_after: cohort.max_abs_smd_after,
            rates: &results.rates,
        },
        sensitivity: results
            .sensitivity
            .iter()
            .map(|s| sensitivity_results(s, threshold))
            .collect(),
        cohort: &results.counts,
        survey_by_wave: suppress_waves(&results.survey_by_wave, threshold),
        score_counts: &results.score_counts,
        validation: &results.validation,
        participation: results
            .participation
            .as_ref()
            .map(|p| super::participation::suppress_small_means(p, threshold)),
    };
    let mut value = serde_json::to_value(&json)?;
    super::disclosure::derived::suppress_balance(&mut value, &cohort.balance, threshold);
    super::disclosure::json::suppress(
        &mut value,
        super::disclosure::Rule::of(&results.plan.disclosure),
    );
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}
