//! The survey stage of `analyse`: for each survey outcome (UCLA-3, EQ-5D-5L index, EQ
//! VAS), the linear mixed model `score ~ factor(wave) + age + sex + (1 | person_id)`
//! (`group * factor(wave)` when comparison persons answered too) fitted by REML on every
//! available response, the change from baseline at each
//! follow-up wave with Satterthwaite intervals, and model-based means per wave (at the
//! mean of the covariates, as emmeans averages them).

use std::collections::BTreeMap;

use polars::prelude::{DataFrame, PolarsError};

use super::emmeans::emmeans;
use super::progress::Stage;
use crate::data::cohort::Registry;
use crate::data::read::civil_from_days;
use crate::plan::Plan;
use crate::results::cohort::{Group, MatchedCohort};
use crate::results::mixed::GridEstimate;
use crate::results::survey::{Estimate, SurveyOutcome};
use crate::stats::coefficient::Coefficient;
use crate::stats::design::{model_matrix, random_effect_design, ColumnData, DataSet};
use crate::stats::formula;
use crate::stats::lmm::{cluster_robust_vcov, fit_lmm, DfMethod, LmmOptions, RobustType};

/// One scored response of a referred person.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub person_id: String,
    pub wave: i64,
    pub score: f64,
    /// Days since 1970-01-01 of the index date (for the age covariate).
    pub referral_date: i32,
    /// `referred` or `comparison`.
    pub group: &'static str,
    /// The general practice at the index date (for the practice random effect).
    pub practice: Option<String>,
}

/// How the survey model is specified (from the plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SurveyModel {
    /// Persons nested in general practices: `(1 | practice_id/person_id)`.
    pub practice_random_effect: bool,
    /// Cluster-robust standard errors (CR1 or CR2) by the outermost grouping factor
    /// instead of the model-based ones with Satterthwaite df.
    pub robust: Option<RobustType>,
    /// Model-based standard errors and df by Kenward–Roger instead of Satterthwaite
    /// (when not robust).
    pub kenward_roger: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("survey outcome {outcome}: {message}")]
pub struct MixedStageError {
    pub outcome: String,
    pub message: String,
}

/// The survey stage failed: a column of the scored survey, or a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SurveyStageError {
    #[error(transparent)]
    Frame(#[from] PolarsError),
    #[error(transparent)]
    Model(#[from] MixedStageError),
}

/// A contrast of the mixed model as the estimate at survey wave `wave`.
fn estimate_at(wave: i64, c: &Coefficient) -> Estimate {
    Estimate {
        wave,
        estimate: c.estimate,
        std_error: c.std_error,
        df: c.df.unwrap_or(f64::NAN),
        p_value: c.p_value,
        conf_low: c.conf_low,
        conf_high: c.conf_high,
    }
}

/// Fits the survey model of one outcome on its responses.
pub fn survey_outcome(
    outcome: &str,
    registry: &Registry,
    responses: &[Response],
    model: SurveyModel,
) -> Result<SurveyOutcome, MixedStageError> {
    let err = |message: String| MixedStageError {
        outcome: outcome.to_string(),
        message,
    };
    let mut rows: Vec<&Response> = responses.iter().filter(|r| r.score.is_finite()).collect();
    rows.sort_by(|a, b| a.person_id.cmp(&b.person_id).then(a.wave.cmp(&b.wave)));
    let person = |id: &str| registry.ids.binary_search_by(|p| p.as_str().cmp(id)).ok();
    let mut data = DataSet::new();
    let ids: Vec<Option<&str>> = rows.iter().map(|r| Some(r.person_id.as_str())).collect();
    let sexes: Vec<Option<&str>> = rows
        .iter()
        .map(|r| person(&r.person_id).map(|p| registry.sex[p].as_str()))
        .collect();
    let ages: Vec<f64> = rows
        .iter()
        .map(|r| {
            person(&r.person_id).map_or(f64::NAN, |p| {
                f64::from(r.referral_date - registry.birth[p]) / 365.25
            })
        })
        .collect();
    let push = |data: &mut DataSet, name: &str, column: ColumnData| {
        data.push(name, column).map_err(|e| err(e.to_string()))
    };
    push(
        &mut data,
        "score",
        ColumnData::Numeric(rows.iter().map(|r| r.score).collect()),
    )?;
    push(
        &mut data,
        "wave",
        ColumnData::Numeric(rows.iter().map(|r| r.wave as f64).collect()),
    )?;
    push(&mut data, "age", ColumnData::Numeric(ages))?;
    push(&mut data, "sex", ColumnData::from_strings(&sexes))?;
    push(&mut data, "person_id", ColumnData::from_strings(&ids))?;
    let both_groups =
        rows.iter().any(|r| r.group == "comparison") && rows.iter().any(|r| r.group == "referred");
    let groups: Vec<Option<&str>> = rows.iter().map(|r| Some(r.group)).collect();
    push(&mut data, "group", ColumnData::from_strings(&groups))?;
    let practices: Vec<Option<&str>> = rows.iter().map(|r| r.practice.as_deref()).collect();
    push(
        &mut data,
        "practice_id",
        ColumnData::from_strings(&practices),
    )?;
    let fixed = if both_groups {
        "score ~ group * factor(wave) + age + sex"
    } else {
        "score ~ factor(wave) + age + sex"
    };
    let random = if model.practice_random_effect {
        "(1 | practice_id/person_id)"
    } else {
        "(1 | person_id)"
    };
    let text = format!("{fixed} + {random}");
    let f = formula::parse(&text).map_err(|e| err(e.to_string()))?;
    let design = model_matrix(&f, &data).map_err(|e| err(e.to_string()))?;
    let random = random_effect_design(&f, &data, &design.rows).map_err(|e| err(e.to_string()))?;
    let options = LmmOptions {
        df: if model.kenward_roger && model.robust.is_none() {
            DfMethod::KenwardRoger
        } else {
            DfMethod::Satterthwaite
        },
        ..LmmOptions::default()
    };
    let mut fit = fit_lmm(&design, &random, &options).map_err(|e| err(e.to_string()))?;
    if !fit.converged {
        return Err(err(
            "the mixed model did not converge: check the scores for a constant outcome".into(),
        ));
    }
    let standard_errors = if let Some(kind) = model.robust {
        let robust =
            cluster_robust_vcov(&fit, &design, &random, kind).map_err(|e| err(e.to_string()))?;
        fit = fit.with_robust_vcov(&robust);
        match kind {
            RobustType::Cr1 => format!(
                "cluster-robust (CR1) by {}, {} clusters, t on {} df",
                robust.cluster_by,
                robust.clusters,
                robust.clusters - 1
            ),
            RobustType::Cr2 => format!(
                "cluster-robust (CR2) by {}, {} clusters, t on Satterthwaite df",
                robust.cluster_by, robust.clusters
            ),
        }
    } else if model.kenward_roger {
        "model-based, Kenward-Roger adjusted standard errors and df".to_string()
    } else {
        "model-based, Satterthwaite df".to_string()
    };
    if both_groups {
        let grid = emmeans(&f, &data, &design, &fit, "wave", Some("group")).map_err(err)?;
        let pick = |list: &[GridEstimate], group: &str| -> Vec<Estimate> {
            list.iter()
                .filter(|g| g.group.as_deref() == Some(group))
                .map(|g| Estimate {
                    wave: g.level.parse().unwrap_or_default(),
                    estimate: g.estimate,
                    std_error: g.std_error,
                    df: g.df,
                    p_value: g.p_value,
                    conf_low: g.conf_low,
                    conf_high: g.conf_high,
                })
                .collect()
        };
        let mut persons: Vec<&str> = rows.iter().map(|r| r.person_id.as_str()).collect();
        persons.dedup();
        return Ok(SurveyOutcome {
            outcome: outcome.to_string(),
            formula: text.clone(),
            standard_errors,
            n_obs: fit.n_obs,
            n_persons: persons.len(),
            change: pick(&grid.changes, "referred"),
            means: pick(&grid.means, "referred"),
            difference_in_change: pick(&grid.differences, "referred"),
            singular: fit.singular,
            converged: fit.converged,
        });
    }
    let names = &design.column_names;
    let p = names.len();
    let index = |name: &str| names.iter().position(|n| n == name);
    let mut waves: Vec<i64> = rows.iter().map(|r| r.wave).collect();
    waves.sort_unstable();
    waves.dedup();
    let baseline = waves.first().copied().unwrap_or(0);
    // Covariate means over the rows used, for the model-based means.
    let used = design.x.nrows() as f64;
    let column_mean = |j: usize| design.x.column(j).iter().sum::<f64>() / used;
    let mut change = Vec::new();
    let mut means = Vec::new();
    for &w in &waves {
        let wave_term = format!("factor(wave){w}");
        let mut l = vec![0.0; p];
        for (j, name) in names.iter().enumerate() {
            l[j] = if name == "(Intercept)" {
                1.0
            } else if name.starts_with("factor(wave)") {
                f64::from(u8::from(*name == wave_term))
            } else {
                column_mean(j)
            };
        }
        let mean = fit.contrast(&l).map_err(|e| err(e.to_string()))?;
        means.push(estimate_at(w, &mean));
        if w != baseline {
            let j = index(&wave_term).ok_or_else(|| err(format!("no term {wave_term}")))?;
            let mut c = vec![0.0; p];
            c[j] = 1.0;
            let d = fit.contrast(&c).map_err(|e| err(e.to_string()))?;
            change.push(estimate_at(w, &d));
        }
    }
    let mut persons: Vec<&str> = rows.iter().map(|r| r.person_id.as_str()).collect();
    persons.dedup();
    Ok(SurveyOutcome {
        outcome: outcome.to_string(),
        formula: text,
        standard_errors,
        n_obs: fit.n_obs,
        n_persons: persons.len(),
        change,
        means,
        difference_in_change: Vec::new(),
        singular: fit.singular,
        converged: fit.converged,
    })
}

/// The survey outcomes, each by its mixed model: referred persons, and matched
/// comparison persons when they answered too. With `complete_cases`, only persons
/// with a score at every wave of that outcome.
pub fn survey_stage(
    scored: &DataFrame,
    registry: &Registry,
    cohort: &MatchedCohort,
    plan: &Plan,
    complete_cases: bool,
    stage: &Stage,
) -> Result<Vec<SurveyOutcome>, SurveyStageError> {
    let ids = scored.column("person_id")?.str()?.clone();
    let wave = scored.column("wave")?.i64()?.clone();
    // Comparison persons in the matched cohort answer relative to their index date: with
    // reused comparison persons, the one their answers follow.
    let responded = scored
        .column("response_date")?
        .cast(&polars::prelude::DataType::Int32)?;
    let responded = responded.i32()?;
    let mut first_response: BTreeMap<u32, i32> = BTreeMap::new();
    for (id, day) in ids.iter().zip(responded.iter()) {
        let (Some(id), Some(day)) = (id, day) else {
            continue;
        };
        if let Ok(p) = registry.ids.binary_search_by(|x| x.as_str().cmp(id)) {
            let first = first_response.entry(p as u32).or_insert(day);
            *first = (*first).min(day);
        }
    }
    let comparison = survey_index_dates(
        cohort
            .members
            .iter()
            .filter(|m| m.group == Group::Comparison)
            .map(|m| (m.person, m.index_date)),
        &first_response,
    );
    let model = SurveyModel {
        practice_random_effect: plan.survey.practice_random_effect,
        robust: plan.survey.standard_errors.robust_type(),
        kenward_roger: plan.survey.standard_errors.kenward_roger(),
    };
    let mut out = Vec::new();
    for (outcome, column) in SURVEY_OUTCOMES {
        stage.step(outcome);
        let score = scored.column(column)?.f64()?.clone();
        let mut responses: Vec<Response> = (0..scored.height())
            .filter_map(|i| {
                let id = ids.get(i)?;
                let p = registry.ids.binary_search_by(|x| x.as_str().cmp(id)).ok()?;
                let (referral_date, group) =
                    match (registry.referral[p], comparison.get(&(p as u32))) {
                        (Some(d), _) => (d, "referred"),
                        (None, Some(&d)) => (d, "comparison"),
                        (None, None) => return None,
                    };
                let year = civil_from_days(referral_date).0;
                Some(Response {
                    person_id: id.to_string(),
                    wave: wave.get(i)?,
                    score: score.get(i)?,
                    referral_date,
                    group,
                    practice: registry
                        .snapshot(p as u32, year - 1)
                        .and_then(|s| s.practice)
                        .map(|t| registry.text(t).to_string()),
                })
            })
            .collect();
        if complete_cases {
            responses = complete_responses(responses);
        }
        if responses.is_empty() {
            continue;
        }
        out.push(survey_outcome(outcome, registry, &responses, model)?);
    }
    Ok(out)
}

/// The index date each comparison person's survey answers belong to. A comparison person
/// reused in later risk sets (`matching.reuse_comparisons`) is in several matched sets,
/// with one index date each, but answers one series of questionnaires: it follows the
/// last of those index dates on or before the person's first response (the earliest
/// index date when every one is after it, or when no response is dated). Referred
/// persons have one index date, their referral, and are not looked up here.
fn survey_index_dates(
    members: impl Iterator<Item = (u32, i32)>,
    first_response: &BTreeMap<u32, i32>,
) -> BTreeMap<u32, i32> {
    let mut dates: BTreeMap<u32, Vec<i32>> = BTreeMap::new();
    for (person, index_date) in members {
        dates.entry(person).or_default().push(index_date);
    }
    dates
        .into_iter()
        .filter_map(|(person, mut list)| {
            list.sort_unstable();
            let earliest = *list.first()?;
            let anchor = first_response
                .get(&person)
                .and_then(|&first| list.iter().rev().find(|&&d| d <= first).copied())
                .unwrap_or(earliest);
            Some((person, anchor))
        })
        .collect()
}

/// The survey outcomes modelled: name and the scored column.
const SURVEY_OUTCOMES: [(&str, &str); 3] = [
    ("ucla3", "ucla3_total"),
    ("eq5d5l_index", "eq5d_index"),
    ("eq_vas", "eq5d_vas"),
];

/// Only the responses of persons with a finite score at every wave that occurs.
fn complete_responses(responses: Vec<Response>) -> Vec<Response> {
    let mut waves: Vec<i64> = responses.iter().map(|r| r.wave).collect();
    waves.sort_unstable();
    waves.dedup();
    let mut answered: BTreeMap<&str, Vec<i64>> = Default::default();
    for r in responses.iter().filter(|r| r.score.is_finite()) {
        answered
            .entry(r.person_id.as_str())
            .or_default()
            .push(r.wave);
    }
    let complete: std::collections::BTreeSet<String> = answered
        .into_iter()
        .filter(|(_, w)| waves.iter().all(|x| w.contains(x)))
        .map(|(id, _)| id.to_string())
        .collect();
    responses
        .into_iter()
        .filter(|r| complete.contains(&r.person_id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_comparison_persons_survey_follows_the_index_date_before_their_first_answer() {
        // Person 1 is matched on days 100, 250 and 400 (the last set's date is not the
        // one) and first answers on day 260; person 2 on days 20 and 50 and answers
        // before both; person 3 on day 70 and never answers with a date.
        let members = [(1, 100), (2, 20), (1, 250), (2, 50), (1, 400), (3, 70)];
        let first_response = BTreeMap::from([(1, 260), (2, 10)]);
        let dates = survey_index_dates(members.into_iter(), &first_response);
        assert_eq!(dates, BTreeMap::from([(1, 250), (2, 20), (3, 70)]));
        // On the day of the index date itself, that index date.
        let same_day = survey_index_dates([(1, 100), (1, 260)].into_iter(), &first_response);
        assert_eq!(same_day[&1], 260);
    }
}
