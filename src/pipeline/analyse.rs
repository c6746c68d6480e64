//! The `analyse` pipeline: validate → derive → match → difference-in-differences →
//! survey models → sensitivity analyses. It returns the [`AnalysisResults`]; the
//! printers in `report` write the results folder from them.

use std::rc::Rc;

use polars::prelude::*;

use crate::data::cohort::{risk_sets, Registry, StackedRiskSets};
use crate::data::dictionary::TableName;
use crate::data::score::{score_proms, ScoreOptions, ScoreTableError};
use crate::data::validate::{validate, ExtractPaths, ExtractPeriod, Validation, ValidationReport};
use crate::pipeline::did_stage::{did_each, DidScope, DidStageError, OutcomeSet};
use crate::pipeline::mixed_stage::{survey_stage, SurveyStageError};
use crate::pipeline::participation::participation_stage;
use crate::pipeline::progress::{Progress, Stage};
use crate::pipeline::propensity::{table_one_of, PropensityError};
use crate::pipeline::risk_set::{
    fit_risk_set_model, match_risk_sets, rate_comparison, BalanceDetail, RiskSetModel,
};
use crate::pipeline::survey_waves::summarise_waves;
use crate::plan::{AnalysisSettings, Plan};
use crate::results::analysis::{AnalysisResults, AnalysisRun, ValidationSummary};
use crate::results::cohort::{
    CohortCounts, MatchedCohort, MatchedPerson, PropensityScores, RateComparison, RiskSetMatching,
};
use crate::results::outcomes::NegativeControl;
use crate::stats::table_one::TableOne;

/// Everything the `analyse` pipeline needs, resolved from the command line and the plan.
#[derive(Debug, Clone)]
pub struct AnalyseConfig {
    pub paths: ExtractPaths,
    pub period: Option<ExtractPeriod>,
    /// The resolved analysis plan (its seed included).
    pub plan: Plan,
    /// No warnings on stderr.
    pub quiet: bool,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyseError {
    /// Bad extracts or options (exit code 2).
    #[error("{0}")]
    Input(String),
    #[error("scoring the survey: {0}")]
    Score(#[from] ScoreTableError),
    #[error(transparent)]
    Polars(#[from] PolarsError),
    /// An analysis step that could not be completed (exit code 1).
    #[error("{0}")]
    Analysis(String),
    /// Table 1 could not be built (exit code 1).
    #[error(transparent)]
    TableOne(PropensityError),
    #[error(transparent)]
    Did(#[from] DidStageError),
    #[error(transparent)]
    Survey(#[from] SurveyStageError),
}

fn propensity_error(e: PropensityError) -> AnalyseError {
    match e {
        PropensityError::Analysis(m) => AnalyseError::Analysis(m),
        input => AnalyseError::Input(input.to_string()),
    }
}

fn matching_options(plan: &Plan, settings: &AnalysisSettings) -> RiskSetMatching {
    RiskSetMatching {
        formula: settings.covariates.formula_text(),
        ratio: settings.ratio,
        caliper: settings.caliper,
        exact: plan.matching.exact.clone(),
        reuse_comparisons: plan.matching.reuse_comparisons,
    }
}

/// The registry and the monthly risk sets, derived from the extracts, which are freed
/// once the registry holds what is needed of them (the contacts above all), before
/// the risk sets are stacked.
fn derive(
    extracts: crate::data::validate::Extracts,
    plan: &Plan,
) -> Result<(Registry, StackedRiskSets), AnalyseError> {
    let registry =
        Registry::from_extracts(&extracts, &plan.outcome_groups(), &plan.negative_controls())
            .map_err(|e| AnalyseError::Input(e.to_string()))?;
    drop(extracts);
    crate::memory::release_free_memory();
    let stacked = risk_sets(&registry, &plan.risk_set_options());
    // Without comparison persons nothing can be matched; say which setting is to blame
    // rather than let the propensity model find no controls.
    if stacked.rows.iter().any(|r| r.treated) && !stacked.rows.iter().any(|r| !r.treated) {
        let codes: Vec<String> = plan
            .study
            .catchment_municipalities
            .iter()
            .map(i64::to_string)
            .collect();
        return Err(AnalyseError::Input(format!(
            "plan, study.catchment_municipalities: no person of the comparison pool lived in {} (by the covariate snapshot of the year before a referral) — expected the municipality codes of the extracts' covariates",
            codes.join(", ")
        )));
    }
    Ok((registry, stacked))
}

/// The main analysis's propensity model and matched cohort, with its Table 1 and the
/// naive-versus-matched rates.
struct MainMatching {
    model: RiskSetModel,
    cohort: MatchedCohort,
    table_one: (TableOne, TableOne),
    rates: Vec<RateComparison>,
}

/// Fits the propensity model and matches the main analysis, with its balance, Table 1
/// and the naive-versus-matched rates.
fn match_main(
    registry: &Registry,
    stacked: StackedRiskSets,
    extract_end: Option<i32>,
    config: &AnalyseConfig,
) -> Result<MainMatching, AnalyseError> {
    let plan = &config.plan;
    let options = matching_options(plan, &plan.main_analysis());
    // The plan's names were checked when it was read, and the extracts when they were
    // validated: what fails here is the model on these data (a covariate with one level
    // among the persons of the risk sets, ...), an analysis that cannot be completed.
    // Given up to the fit, so that common support trims them in place.
    let model = fit_risk_set_model(
        Rc::new(stacked),
        plan.propensity.covariates.formula(),
        &options.exact,
    )
    .map_err(|e| {
        let m = e.to_string();
        AnalyseError::Analysis(format!(
            "the propensity model could not be fitted on these risk sets: {m} — remove or merge that covariate in the plan's propensity.covariates"
        ))
    })?;
    let cohort = match_risk_sets(registry, &model, &options, BalanceDetail::Table)
        .map_err(propensity_error)?;
    if !config.quiet {
        for w in &cohort.warnings {
            eprintln!("warning: {w}");
        }
    }
    let rates = rate_comparison(
        registry,
        &model.stacked,
        &cohort,
        plan.propensity.prior_use_days,
        plan.outcomes.period_days * plan.outcomes.periods_after,
        extract_end,
    );
    let mut nonnormal = vec!["charlson_index".to_string()];
    nonnormal.extend(
        plan.outcomes
            .groups
            .iter()
            .map(|g| format!("prior_{}", g.name)),
    );
    let nonnormal: Vec<&str> = nonnormal.iter().map(String::as_str).collect();
    let table_one = table_one_of(
        &model.formula,
        &model.stacked.data,
        &model.ps.treated,
        &cohort.row_weights,
        &nonnormal,
    )
    .map_err(AnalyseError::TableOne)?;
    Ok(MainMatching {
        model,
        cohort,
        table_one,
        rates,
    })
}

/// What every analysis shares: the registry, the main analysis's propensity model
/// and matched cohort, the scored survey and the extract period.
struct Shared<'a> {
    registry: &'a Registry,
    model: &'a RiskSetModel,
    scored: Option<&'a DataFrame>,
    extract: Option<(i32, i32)>,
    plan: &'a Plan,
}

/// Where an analysis reports its progress: the main analysis times its DiD and its
/// survey models as stages of their own; a sensitivity analysis is a step of the
/// `sensitivity` stage.
enum Steps<'a> {
    Main(&'a Progress),
    Sensitivity(&'a Stage),
}

impl Steps<'_> {
    /// Runs one part of an analysis: for the main analysis as the stage `stage_name`
    /// (its timing line printed when it succeeds), otherwise within the current stage.
    fn part<T, E>(
        &self,
        stage_name: &'static str,
        message: Option<&str>,
        work: impl FnOnce(&Stage) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Steps::Main(progress) => {
                let stage = progress.stage(stage_name, 0);
                if let Some(m) = message {
                    stage.step(m);
                }
                let out = work(&stage)?;
                stage.finish();
                Ok(out)
            }
            Steps::Sensitivity(stage) => {
                if let Some(m) = message {
                    stage.step(m);
                }
                work(stage)
            }
        }
    }
}

/// The matched cohort of a sensitivity analysis: the main analysis's when its matching
/// is the same; rematched on the main propensity model when only the ratio or the
/// caliper changed; on a propensity model of its own when its covariates changed.
fn sensitivity_cohort(
    shared: &Shared<'_>,
    main: &AnalysisRun,
    settings: &AnalysisSettings,
    stage: &Stage,
) -> Result<Rc<MatchedCohort>, AnalyseError> {
    let options = matching_options(shared.plan, settings);
    if settings.covariates != main.settings.covariates {
        // Another propensity model, fitted on the main analysis's risk sets.
        stage.step(&format!("{}: propensity model", settings.name));
        let model = fit_risk_set_model(
            Rc::clone(&shared.model.stacked),
            settings.covariates.formula(),
            &options.exact,
        )
        .map_err(propensity_error)?;
        stage.step(&format!("{}: matching", settings.name));
        let cohort = match_risk_sets(shared.registry, &model, &options, BalanceDetail::LargestSmd)
            .map_err(propensity_error)?;
        return Ok(Rc::new(cohort));
    }
    if settings.ratio != main.settings.ratio || settings.caliper != main.settings.caliper {
        stage.step(&format!("{}: matching", settings.name));
        let cohort = match_risk_sets(
            shared.registry,
            shared.model,
            &options,
            BalanceDetail::LargestSmd,
        )
        .map_err(propensity_error)?;
        return Ok(Rc::new(cohort));
    }
    Ok(main.cohort.clone())
}

/// One analysis on its matched cohort: the DiD of every outcome group and the survey
/// models. A sensitivity analysis on the main analysis's cohort reuses the main
/// results that its changed settings do not touch.
fn run_analysis(
    shared: &Shared<'_>,
    settings: AnalysisSettings,
    cohort: Rc<MatchedCohort>,
    main: Option<&AnalysisRun>,
    steps: &Steps<'_>,
) -> Result<AnalysisRun, AnalyseError> {
    let same_cohort = main.filter(|m| Rc::ptr_eq(&m.cohort, &cohort));
    let window = shared.plan.panel_window();
    let (did, negative_controls) =
        match same_cohort.filter(|m| m.settings.cluster == settings.cluster) {
            Some(m) => (m.did.clone(), Vec::new()),
            None => {
                let (message, main_analysis) = match steps {
                    Steps::Main(_) => (
                        "rate ratios, event studies, pre-trend tests, robustness".to_string(),
                        true,
                    ),
                    Steps::Sensitivity(_) => (format!("{}: DiD", settings.name), false),
                };
                steps.part("did", Some(&message), |_| {
                    // The robustness analyses belong to the main analysis only.
                    let scope = DidScope {
                        outcomes: OutcomeSet::Groups,
                        negative_binomial: main_analysis,
                        placebo_periods: if main_analysis {
                            shared.plan.outcomes.placebo_periods
                        } else {
                            0
                        },
                        linear_bootstrap: if main_analysis {
                            shared.plan.linear_bootstrap_options()
                        } else {
                            None
                        },
                    };
                    let run = |scope| {
                        did_each(
                            shared.registry,
                            &cohort,
                            window,
                            shared.extract,
                            settings.cluster,
                            scope,
                        )
                    };
                    let did = run(scope).into_iter().collect::<Result<Vec<_>, _>>()?;
                    // A negative control that cannot be fitted (too rare in a small
                    // cohort) is reported as such; it does not stop the analysis.
                    let negative_controls = if main_analysis {
                        run(DidScope {
                            outcomes: OutcomeSet::NegativeControls,
                            placebo_periods: 0,
                            ..scope
                        })
                        .into_iter()
                        .map(|r| match r {
                            Ok(did) => NegativeControl::Fitted(Box::new(did)),
                            Err(e) => NegativeControl::NotFitted {
                                outcome: e.outcome,
                                not_fitted: e.message,
                            },
                        })
                        .collect()
                    } else {
                        Vec::new()
                    };
                    Ok::<_, DidStageError>((did, negative_controls))
                })?
            }
        };
    let survey = match same_cohort.filter(|m| m.settings.complete_cases == settings.complete_cases)
    {
        Some(m) => m.survey.clone(),
        None => {
            let message = match steps {
                Steps::Main(_) => None,
                Steps::Sensitivity(_) => Some(format!("{}: mixed models", settings.name)),
            };
            steps.part("mixed", message.as_deref(), |stage| match shared.scored {
                Some(frame) => survey_stage(
                    frame,
                    shared.registry,
                    &cohort,
                    shared.plan,
                    settings.complete_cases,
                    stage,
                ),
                None => Ok(Vec::new()),
            })?
        }
    };
    Ok(AnalysisRun {
        settings,
        cohort,
        did,
        negative_controls,
        survey,
    })
}

/// The validation outcome without examples (examples can hold person_ids).
fn validation_summary(report: &ValidationReport) -> ValidationSummary {
    ValidationSummary {
        errors: report.errors,
        warnings: report.warnings,
        problems: report
            .problems
            .iter()
            .map(|g| (g.kind.code(), g.total))
            .collect(),
    }
}

/// The matched cohort person by person, with the person ids of the registry.
fn matched_persons(registry: &Registry, cohort: &MatchedCohort) -> Vec<MatchedPerson> {
    cohort
        .members
        .iter()
        .map(|m| MatchedPerson {
            person_id: registry.ids[m.person as usize].clone(),
            group: m.group,
            matched_set: m.matched_set,
            index_date: m.index_date,
            weight: m.weight,
        })
        .collect()
}

/// Runs the pipeline, reporting its stages on `progress`.
pub fn analyse(
    config: &AnalyseConfig,
    progress: &Progress,
) -> Result<AnalysisResults, AnalyseError> {
    let plan = &config.plan;

    let stage = progress.stage("validate", 0);
    let Validation {
        report,
        extracts: all_extracts,
    } = validate(&config.paths, config.period);
    if !report.valid {
        eprint!("{}", report.to_text());
        return Err(AnalyseError::Input(format!(
            "{}; the extracts are not valid (every problem is listed above): run `shine validate` on them after fixing",
            report.error_summary()
        )));
    }
    stage.finish();

    let stage = progress.stage("derive", 0);
    stage.step("survey scores, person registry, monthly risk sets");
    let extracts = &all_extracts;
    let height = |t: TableName| extracts.frame(t).map_or(0, |f| f.height() as u64);
    let referred = height(TableName::Referrals);
    let counts = CohortCounts {
        persons: height(TableName::Persons),
        referred,
        comparison_pool: height(TableName::Persons).saturating_sub(referred),
        contacts: height(TableName::Contacts),
        survey_responses: height(TableName::Proms),
    };
    let (waves, score_counts, scored_frame) = match extracts.frame(TableName::Proms) {
        Some(proms) => {
            let scored = score_proms(
                proms,
                ScoreOptions {
                    value_set: plan.survey.value_set,
                    prorate: plan.survey.prorate,
                },
            )?;
            // The survey by wave describes the referred persons (its shares are of the
            // referred); answers of comparison persons reach only the models, which
            // take those of matched comparison persons.
            let referred = super::referred_responses::referred_responses(
                &scored.frame,
                extracts.frame(TableName::Referrals),
            )?;
            (
                summarise_waves(&referred)?,
                scored.counts,
                Some(scored.frame),
            )
        }
        None => (Vec::new(), Vec::new(), None),
    };
    let participation = extracts
        .frame(TableName::Participation)
        .map(|frame| participation_stage(frame, scored_frame.as_ref()))
        .transpose()?;
    // Everything later works on the registry, the risk sets and the scored survey.
    let (registry, stacked) = derive(all_extracts, plan)?;
    stage.finish();

    let stage = progress.stage("match", 0);
    stage.step("propensity model, matching, balance, Table 1");
    let matched = match_main(&registry, stacked, report.extract_period_end, config)?;
    stage.finish();

    let shared = Shared {
        registry: &registry,
        model: &matched.model,
        scored: scored_frame.as_ref(),
        extract: report.extract_period_start.zip(report.extract_period_end),
        plan,
    };
    let main_settings = plan.main_analysis();
    let main = run_analysis(
        &shared,
        main_settings,
        Rc::new(matched.cohort),
        None,
        &Steps::Main(progress),
    )?;

    let analyses = plan.sensitivity_analyses();
    let stage = progress.stage("sensitivity", analyses.len() as u64);
    let mut sensitivity = Vec::new();
    for settings in analyses {
        let cohort = sensitivity_cohort(&shared, &main, &settings, &stage)?;
        sensitivity.push(run_analysis(
            &shared,
            settings,
            cohort,
            Some(&main),
            &Steps::Sensitivity(&stage),
        )?);
        stage.advance();
    }
    stage.finish();

    let model = matched.model;
    Ok(AnalysisResults {
        plan: plan.clone(),
        inputs: report.files.clone(),
        extract_period: report.extract_period.clone(),
        validation: validation_summary(&report),
        counts,
        survey_by_wave: waves,
        score_counts,
        matching: matching_options(plan, &main.settings),
        propensity: PropensityScores {
            distance: model.ps.distance,
            treated: model.ps.treated,
        },
        table_one: matched.table_one,
        rates: matched.rates,
        matched_persons: matched_persons(&registry, &main.cohort),
        participation,
        main,
        sensitivity,
    })
}
