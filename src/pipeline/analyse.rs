//! The `analyse` pipeline: validate → score → write the results folder.
//!
//! Matching, difference-in-differences, the mixed models and the HTML report are added
//! as stages here as they are built.

use std::path::PathBuf;

use polars::prelude::*;
use serde::Serialize;

use crate::data::cohort::{risk_sets, Registry};
use crate::data::dictionary::TableName;
use crate::data::read::civil_from_days;
use crate::data::score::{score_proms, ScoreCount, ScoreOptions};
use crate::data::validate::Extracts;
use crate::data::validate::{validate, ExtractPaths, ExtractPeriod, ValidationReport};
use crate::pipeline::did_stage::{did_stage, OutcomeDid};
use crate::pipeline::mixed_stage::{survey_outcome, Response, SurveyModel, SurveyOutcome};
use crate::plan::{AnalysisSettings, Plan};
use crate::pipeline::progress::{Progress, Stage};
use crate::pipeline::propensity::{table_one_of, PropensityError, PsTerm};
use crate::pipeline::risk_set::{
    fit_risk_set_model, match_risk_sets, rate_comparison, CohortFlow, Group, MatchedCohort,
    RateComparison, RiskSetMatching, RiskSetModel,
};
use crate::report::cohort as cohort_report;
use crate::report::did as did_report;
use crate::report::figures::Figure;
use crate::report::html;
use crate::report::manifest::{Manifest, SHINE_VERSION};
use crate::report::matching as matching_report;
use crate::report::output::{OutputError, ResultsFolder};
use crate::report::sensitivity::{self as sensitivity_report, SensitivityResults};
use crate::report::table::{Cell, ResultTable};
use crate::report::table_one::table_one_table;
use crate::stats::balance::BalanceRow;
use crate::stats::table_one::TableOne;

/// Everything `analyse` needs, resolved from the command line and the plan.
#[derive(Debug, Clone)]
pub struct AnalyseConfig {
    pub paths: ExtractPaths,
    pub period: Option<ExtractPeriod>,
    pub out: PathBuf,
    pub force: bool,
    /// The resolved analysis plan (its seed included).
    pub plan: Plan,
    /// Where the plan came from (`default` or the file), recorded in the manifest.
    pub plan_source: String,
    pub quiet: bool,
    /// How the run was asked for, recorded in the manifest.
    pub command: String,
    /// Write the person-level matched cohort too.
    pub export_matched: bool,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyseError {
    /// Bad extracts or options (exit code 2).
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("scoring the survey: {0}")]
    Score(#[from] crate::data::score::ScoreTableError),
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// An analysis step that could not be completed (exit code 1).
    #[error("{0}")]
    Analysis(String),
    #[error(transparent)]
    Figure(#[from] crate::report::figures::FigureError),
}

#[derive(Debug)]
pub struct AnalyseOutcome {
    pub out: PathBuf,
}

/// Counts of the extract, for the results.
#[derive(Debug, Clone, Serialize)]
pub struct CohortCounts {
    pub persons: u64,
    pub referred: u64,
    pub comparison_pool: u64,
    pub contacts: u64,
    pub survey_responses: u64,
}

/// Survey scores per wave (referred persons), before any modelling.
#[derive(Debug, Clone, Serialize)]
pub struct WaveSummary {
    pub wave: i64,
    pub responses: u64,
    pub ucla3: Moments,
    pub ucla3_severe: u64,
    pub eq5d_index: Moments,
    pub eq_vas: Moments,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Moments {
    pub n: u64,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
}

impl Moments {
    fn of(values: impl Iterator<Item = f64>) -> Moments {
        let v: Vec<f64> = values.collect();
        let n = v.len();
        let mean = (n > 0).then(|| v.iter().sum::<f64>() / n as f64);
        let sd = mean
            .filter(|_| n > 1)
            .map(|m| (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
        Moments {
            n: n as u64,
            mean,
            sd,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct Results<'a> {
    shine_version: &'static str,
    plan: &'a Plan,
    difference_in_differences: &'a [OutcomeDid],
    survey_outcomes: &'a [SurveyOutcome],
    matching: MatchingResults<'a>,
    sensitivity: Vec<SensitivityResults>,
    cohort: &'a CohortCounts,
    survey_by_wave: &'a [WaveSummary],
    score_counts: &'a [ScoreCount],
    validation: ValidationSummary,
}

#[derive(Debug, Clone, Serialize)]
struct MatchingResults<'a> {
    options: &'a RiskSetMatching,
    flow: &'a CohortFlow,
    caliper_width: Option<f64>,
    propensity_model: &'a [PsTerm],
    balance: &'a [BalanceRow],
    max_abs_smd_after: f64,
    rates: &'a [RateComparison],
}

/// The derived analysis tables and the matching stage's results.
struct MatchedStage {
    registry: Registry,
    model: RiskSetModel,
    main: AnalysisRun,
    table_one: (TableOne, TableOne),
    rates: Vec<RateComparison>,
}

/// One analysis (the main one or a sensitivity analysis): its matched cohort, DiD and
/// survey results.
#[derive(Debug, Clone)]
pub struct AnalysisRun {
    pub settings: AnalysisSettings,
    pub cohort: std::rc::Rc<MatchedCohort>,
    pub did: Vec<OutcomeDid>,
    pub survey: Vec<SurveyOutcome>,
}

fn matching_options(plan: &Plan, settings: &AnalysisSettings) -> RiskSetMatching {
    RiskSetMatching {
        formula: settings.propensity_formula(),
        ratio: settings.ratio,
        caliper: settings.caliper,
        exact: plan.matching.exact.clone(),
    }
}

fn propensity_error(e: PropensityError) -> AnalyseError {
    match e {
        PropensityError::Input(m) => AnalyseError::Input(m),
        PropensityError::Analysis(m) => AnalyseError::Analysis(m),
    }
}

/// The registry and the monthly risk sets, derived from the extracts.
fn derive(
    extracts: &Extracts,
    plan: &Plan,
) -> Result<(Registry, crate::data::cohort::StackedRiskSets), AnalyseError> {
    let registry = Registry::from_extracts(extracts, &plan.outcome_groups())
        .map_err(|e| AnalyseError::Input(e.to_string()))?;
    let stacked = risk_sets(&registry, &plan.risk_set_options());
    Ok((registry, stacked))
}

/// Fits the propensity model and matches the main analysis, with its balance, Table 1
/// and the naive-versus-matched rates.
fn match_cohort(
    registry: Registry,
    stacked: crate::data::cohort::StackedRiskSets,
    extract_end: Option<i32>,
    config: &AnalyseConfig,
) -> Result<MatchedStage, AnalyseError> {
    let plan = &config.plan;
    let settings = plan.main_analysis();
    let options = matching_options(plan, &settings);
    let model =
        fit_risk_set_model(&stacked, &options.formula, &options.exact).map_err(propensity_error)?;
    drop(stacked);
    let cohort = match_risk_sets(&registry, &model, &options).map_err(propensity_error)?;
    if !config.quiet {
        for w in &cohort.warnings {
            eprintln!("warning: {w}");
        }
    }
    let rates = rate_comparison(
        &registry,
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
    .map_err(|e| AnalyseError::Analysis(e.to_string()))?;
    Ok(MatchedStage {
        registry,
        model,
        main: AnalysisRun {
            settings,
            cohort: std::rc::Rc::new(cohort),
            did: Vec::new(),
            survey: Vec::new(),
        },
        table_one,
        rates,
    })
}

/// The matched cohort, one row per member, in matched-set order.
fn cohort_csv(registry: &Registry, cohort: &MatchedCohort) -> String {
    let mut out = String::from("person_id,group,matched_set,index_date,weight\n");
    for m in &cohort.members {
        let group = match m.group {
            Group::Referred => "referred",
            Group::Comparison => "comparison",
        };
        out.push_str(&format!(
            "{},{group},{},{},{}\n",
            registry.ids[m.person as usize],
            m.matched_set,
            crate::data::read::format_date(m.index_date),
            m.weight
        ));
    }
    out
}

/// The survey outcomes, each by its mixed model: referred persons, and matched
/// comparison persons when they answered too. With `complete_cases`, only persons
/// with a score at every wave of that outcome.
fn survey_stage(
    scored: &DataFrame,
    registry: &Registry,
    cohort: &MatchedCohort,
    plan: &Plan,
    complete_cases: bool,
    stage: &Stage,
) -> Result<Vec<SurveyOutcome>, AnalyseError> {
    let ids = scored.column("person_id")?.str()?.clone();
    // Comparison persons in the matched cohort answer relative to their index date.
    let comparison: std::collections::BTreeMap<u32, i32> = cohort
        .members
        .iter()
        .filter(|m| m.group == Group::Comparison)
        .map(|m| (m.person, m.index_date))
        .collect();
    let wave = scored.column("wave")?.i64()?.clone();
    let model = SurveyModel {
        practice_random_effect: plan.survey.practice_random_effect,
        robust: plan.survey.standard_errors.robust_type(),
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
        out.push(
            survey_outcome(outcome, registry, &responses, model)
                .map_err(|e| AnalyseError::Analysis(e.to_string()))?,
        );
    }
    Ok(out)
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
    let mut answered: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
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

/// The validation outcome without examples (examples can hold person_ids).
#[derive(Debug, Clone, Serialize)]
struct ValidationSummary {
    errors: usize,
    warnings: usize,
    problems: Vec<(String, usize)>,
}

impl ValidationSummary {
    fn of(report: &ValidationReport) -> ValidationSummary {
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
}

/// What the sensitivity analyses share with the main one.
struct Shared<'a> {
    registry: &'a Registry,
    model: &'a RiskSetModel,
    scored: Option<&'a DataFrame>,
    extract: Option<(i32, i32)>,
    plan: &'a Plan,
}

/// Runs the DiD and survey models of one analysis on `cohort`.
fn run_analysis(
    shared: &Shared<'_>,
    settings: AnalysisSettings,
    cohort: std::rc::Rc<MatchedCohort>,
    stage: &Stage,
) -> Result<AnalysisRun, AnalyseError> {
    stage.step(&format!("{}: DiD", settings.name));
    let did = did_stage(
        shared.registry,
        &cohort,
        shared.plan.panel_window(),
        shared.extract,
        settings.cluster,
    )
    .map_err(|e| AnalyseError::Analysis(e.to_string()))?;
    stage.step(&format!("{}: mixed models", settings.name));
    let survey = match shared.scored {
        Some(frame) => survey_stage(
            frame,
            shared.registry,
            &cohort,
            shared.plan,
            settings.complete_cases,
            stage,
        )?,
        None => Vec::new(),
    };
    Ok(AnalysisRun {
        settings,
        cohort,
        did,
        survey,
    })
}

/// A sensitivity analysis: rematched when its matching differs from the main
/// analysis', and its models refitted only where a setting they use changed.
fn sensitivity_run(
    shared: &Shared<'_>,
    main: &AnalysisRun,
    settings: AnalysisSettings,
    stage: &Stage,
) -> Result<AnalysisRun, AnalyseError> {
    if settings.covariates != main.settings.covariates {
        // Another propensity model, fitted on the main analysis's risk sets.
        stage.step(&format!("{}: propensity model", settings.name));
        let options = matching_options(shared.plan, &settings);
        let model = fit_risk_set_model(&shared.model.stacked, &options.formula, &options.exact)
            .map_err(propensity_error)?;
        stage.step(&format!("{}: matching", settings.name));
        let cohort =
            match_risk_sets(shared.registry, &model, &options).map_err(propensity_error)?;
        return run_analysis(shared, settings, std::rc::Rc::new(cohort), stage);
    }
    let same_matching =
        settings.ratio == main.settings.ratio && settings.caliper == main.settings.caliper;
    if !same_matching {
        stage.step(&format!("{}: matching", settings.name));
        let options = matching_options(shared.plan, &settings);
        let cohort =
            match_risk_sets(shared.registry, shared.model, &options).map_err(propensity_error)?;
        return run_analysis(shared, settings, std::rc::Rc::new(cohort), stage);
    }
    let did = if settings.cluster == main.settings.cluster {
        main.did.clone()
    } else {
        stage.step(&format!("{}: DiD", settings.name));
        did_stage(
            shared.registry,
            &main.cohort,
            shared.plan.panel_window(),
            shared.extract,
            settings.cluster,
        )
        .map_err(|e| AnalyseError::Analysis(e.to_string()))?
    };
    let survey = match shared.scored {
        Some(frame) if settings.complete_cases != main.settings.complete_cases => survey_stage(
            frame,
            shared.registry,
            &main.cohort,
            shared.plan,
            settings.complete_cases,
            stage,
        )?,
        _ => main.survey.clone(),
    };
    Ok(AnalysisRun {
        settings,
        cohort: main.cohort.clone(),
        did,
        survey,
    })
}

/// Runs the pipeline and writes the results folder.
pub fn analyse(config: &AnalyseConfig) -> Result<AnalyseOutcome, AnalyseError> {
    ResultsFolder::check_target(&config.out, config.force)?;
    let plan = &config.plan;
    let progress = Progress::new(config.quiet);

    let stage = progress.stage("validate", 0);
    let validation = validate(&config.paths, config.period);
    if !validation.report.valid {
        eprint!("{}", validation.report.to_text());
        return Err(AnalyseError::Input(format!(
            "the extracts are not valid ({} errors, listed above); run `shine validate` on them after fixing",
            validation.report.errors
        )));
    }
    stage.finish();

    let stage = progress.stage("derive", 0);
    stage.step("survey scores, person registry, monthly risk sets");
    let extracts = &validation.extracts;
    let height = |t: TableName| extracts.frame(t).map_or(0, |f| f.height() as u64);
    let referred = height(TableName::Referrals);
    let cohort = CohortCounts {
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
                    prorate: plan.prorate(),
                },
            )?;
            (
                summarise_waves(&scored.frame)?,
                scored.counts,
                Some(scored.frame),
            )
        }
        None => (Vec::new(), Vec::new(), None),
    };
    let (registry, stacked) = derive(extracts, plan)?;
    stage.finish();

    let stage = progress.stage("match", 0);
    stage.step("propensity model, matching, balance, Table 1");
    let mut matched = match_cohort(
        registry,
        stacked,
        validation.report.extract_period_end,
        config,
    )?;
    stage.finish();

    let extract = validation
        .report
        .extract_period_start
        .zip(validation.report.extract_period_end);
    let shared = Shared {
        registry: &matched.registry,
        model: &matched.model,
        scored: scored_frame.as_ref(),
        extract,
        plan,
    };
    let main_settings = matched.main.settings.clone();
    let stage = progress.stage("did", 0);
    stage.step("rate ratios, event studies, pre-trend tests");
    let did = did_stage(
        shared.registry,
        &matched.main.cohort,
        plan.panel_window(),
        extract,
        main_settings.cluster,
    )
    .map_err(|e| AnalyseError::Analysis(e.to_string()))?;
    stage.finish();
    let stage = progress.stage("mixed", 0);
    let survey = match shared.scored {
        Some(frame) => survey_stage(
            frame,
            shared.registry,
            &matched.main.cohort,
            plan,
            main_settings.complete_cases,
            &stage,
        )?,
        None => Vec::new(),
    };
    stage.finish();
    let main = AnalysisRun {
        settings: main_settings,
        cohort: matched.main.cohort.clone(),
        did,
        survey,
    };

    let analyses = plan.sensitivity_analyses();
    let stage = progress.stage("sensitivity", analyses.len() as u64);
    let mut sensitivity = Vec::new();
    for settings in analyses {
        sensitivity.push(sensitivity_run(&shared, &main, settings, &stage)?);
        stage.advance();
    }
    stage.finish();
    matched.main = main;

    let stage = progress.stage("report", 0);
    let folder = write_results(
        config,
        &validation.report,
        &cohort,
        &waves,
        &score_counts,
        &matched,
        &sensitivity,
    )?;
    folder.commit(&config.out, config.force)?;
    stage.finish();
    Ok(AnalyseOutcome {
        out: config.out.clone(),
    })
}

/// Every table, figure, the report, results.json and manifest.json, in memory.
fn write_results(
    config: &AnalyseConfig,
    validation: &ValidationReport,
    cohort: &CohortCounts,
    waves: &[WaveSummary],
    score_counts: &[ScoreCount],
    matched: &MatchedStage,
    sensitivity: &[AnalysisRun],
) -> Result<ResultsFolder, AnalyseError> {
    let plan = &config.plan;
    let threshold = plan.disclosure.threshold;
    let main = &matched.main;
    let c = &*main.cohort;
    let mut folder = ResultsFolder::default();
    let tables = vec![
        cohort_table(cohort),
        cohort_report::flow_table(&c.flow, main.settings.ratio),
        table_one_table(
            &matched.table_one.0,
            Some(&matched.table_one.1),
            ("referred", "comparison"),
            threshold,
        ),
        matching_report::balance_table(&c.balance),
        matching_report::ps_model_table(&c.ps_model),
        cohort_report::rate_table(&matched.rates),
        did_report::rate_ratio_table(&main.did),
        did_report::event_study_table(&main.did),
        did_report::linear_table(&main.did),
        survey_table(waves, cohort.referred, threshold),
        did_report::survey_change_table(&main.survey),
        sensitivity_report::sensitivity_table(main, sensitivity),
        score_count_table(score_counts),
    ];
    for table in &tables {
        folder.add(
            &format!("tables/{}.csv", table.name),
            table.to_csv(threshold),
        );
        folder.add(
            &format!("tables/{}.md", table.name),
            table.to_markdown(threshold),
        );
    }
    let mut figures: Vec<(String, Figure)> = matching_report::figures(
        &c.balance,
        &matched.model.ps.distance,
        &matched.model.ps.treated,
        &c.row_weights,
        threshold,
    )?
    .into_iter()
    .map(|(name, f)| (name.to_string(), f))
    .collect();
    figures.push((
        "flow".into(),
        cohort_report::flow_figure(&c.flow, main.settings.ratio, threshold)?,
    ));
    for o in &main.did {
        figures.push((
            format!("event_study_{}", o.outcome),
            did_report::event_study_figure(o)?,
        ));
        figures.push((
            format!("raw_rates_{}", o.outcome),
            did_report::raw_rate_figure(o)?,
        ));
    }
    for o in &main.survey {
        figures.push((
            format!("trajectory_{}", o.outcome),
            did_report::trajectory_figure(o)?,
        ));
    }
    for (name, figure) in &figures {
        folder.add(&format!("figures/{name}.svg"), figure.svg.clone());
        folder.add(&format!("figures/{name}.png"), figure.png.clone());
    }
    if config.export_matched {
        folder.add("matched_cohort.csv", cohort_csv(&matched.registry, c));
    }
    let results = Results {
        shine_version: SHINE_VERSION,
        plan,
        survey_outcomes: &main.survey,
        difference_in_differences: &main.did,
        matching: MatchingResults {
            options: &matching_options(plan, &main.settings),
            flow: &c.flow,
            caliper_width: c.caliper_width,
            propensity_model: &c.ps_model,
            balance: &c.balance,
            max_abs_smd_after: max_abs_smd(c),
            rates: &matched.rates,
        },
        sensitivity: sensitivity
            .iter()
            .map(|s| SensitivityResults::of(s, threshold))
            .collect(),
        cohort,
        survey_by_wave: &suppress_waves(waves, threshold),
        score_counts,
        validation: ValidationSummary::of(validation),
    };
    folder.add(
        "results.json",
        serde_json::to_string_pretty(&results)? + "\n",
    );
    let report = html::Report {
        plan,
        tables: &tables,
        figures: &figures,
        main,
        sensitivity,
        cohort,
        threshold,
        software: format!("shine {SHINE_VERSION}"),
    };
    folder.add("report.html", report.render());
    let manifest = Manifest {
        shine_version: SHINE_VERSION,
        command: config.command.clone(),
        seed: plan.seed,
        disclosure_threshold: threshold,
        plan_source: config.plan_source.clone(),
        plan: plan.clone(),
        inputs: validation.files.clone(),
        extract_period: validation.extract_period.clone(),
        outputs: folder.listing(),
    };
    folder.add(
        "manifest.json",
        serde_json::to_string_pretty(&manifest)? + "\n",
    );
    Ok(folder)
}

/// The largest absolute SMD after matching over the covariates (not the distance).
pub fn max_abs_smd(c: &MatchedCohort) -> f64 {
    c.balance
        .iter()
        .filter(|r| r.term != "distance")
        .filter_map(|r| r.smd_after.map(f64::abs))
        .fold(0.0, f64::max)
}

fn summarise_waves(scored: &DataFrame) -> Result<Vec<WaveSummary>, PolarsError> {
    let wave = scored.column("wave")?.i64()?.clone();
    let f = |name: &str| -> Result<Float64Chunked, PolarsError> {
        Ok(scored.column(name)?.f64()?.clone())
    };
    let (ucla, eq, vas) = (f("ucla3_total")?, f("eq5d_index")?, f("eq5d_vas")?);
    let severe = scored.column("ucla3_severe")?.bool()?.clone();
    let ids = scored.column("person_id")?.str()?.clone();
    let mut waves: Vec<i64> = wave.iter().flatten().collect();
    waves.sort_unstable();
    waves.dedup();
    // Sums run in person order, so the input's row order cannot change a bit.
    let mut order: Vec<usize> = (0..scored.height()).collect();
    order.sort_by(|&a, &b| {
        ids.get(a)
            .cmp(&ids.get(b))
            .then(wave.get(a).cmp(&wave.get(b)))
    });
    Ok(waves
        .iter()
        .map(|&w| {
            let rows: Vec<usize> = order
                .iter()
                .copied()
                .filter(|&i| wave.get(i) == Some(w))
                .collect();
            let pick = |c: &Float64Chunked| Moments::of(rows.iter().filter_map(|&i| c.get(i)));
            WaveSummary {
                wave: w,
                responses: rows.len() as u64,
                ucla3: pick(&ucla),
                ucla3_severe: rows
                    .iter()
                    .filter(|&&i| severe.get(i) == Some(true))
                    .count() as u64,
                eq5d_index: pick(&eq),
                eq_vas: pick(&vas),
            }
        })
        .collect())
}

fn suppress_waves(waves: &[WaveSummary], threshold: u64) -> Vec<WaveSummary> {
    use crate::report::disclosure::must_suppress;
    let hide = |m: Moments| {
        if must_suppress(m.n, threshold) {
            Moments {
                n: 0,
                mean: None,
                sd: None,
            }
        } else {
            m
        }
    };
    waves
        .iter()
        .map(|w| WaveSummary {
            wave: w.wave,
            responses: if must_suppress(w.responses, threshold) {
                0
            } else {
                w.responses
            },
            ucla3: hide(w.ucla3),
            ucla3_severe: if must_suppress(w.ucla3_severe, threshold) {
                0
            } else {
                w.ucla3_severe
            },
            eq5d_index: hide(w.eq5d_index),
            eq_vas: hide(w.eq_vas),
        })
        .collect()
}

fn cohort_table(c: &CohortCounts) -> ResultTable {
    let mut t = ResultTable::new(
        "extract_counts",
        "Extract: persons, referrals, contacts and survey responses",
        &["quantity", "n"],
    );
    for (label, n) in [
        ("persons in the extract", c.persons),
        ("referred to the programme", c.referred),
        ("comparison pool (never referred)", c.comparison_pool),
        ("healthcare contacts", c.contacts),
        ("survey responses (person × wave)", c.survey_responses),
    ] {
        t.push(vec![Cell::text(label), Cell::Count(n)]);
    }
    t
}

fn mean_sd(m: &Moments, threshold: u64, decimals: usize) -> Cell {
    match (m.mean, m.sd) {
        _ if crate::report::disclosure::must_suppress(m.n, threshold) => Cell::Missing,
        (Some(mean), Some(sd)) => Cell::text(format!("{mean:.decimals$} ({sd:.decimals$})")),
        (Some(mean), None) => Cell::number(mean, decimals),
        _ => Cell::Missing,
    }
}

/// A percentage that hides a numerator of 1 to threshold − 1 persons.
fn percent(n: u64, of: u64, threshold: u64) -> Cell {
    if of == 0
        || crate::report::disclosure::must_suppress(n, threshold)
        || crate::report::disclosure::must_suppress(of, threshold)
    {
        Cell::Missing
    } else {
        Cell::number(100.0 * n as f64 / of as f64, 1)
    }
}

fn survey_table(waves: &[WaveSummary], referred: u64, threshold: u64) -> ResultTable {
    let mut t = ResultTable::new(
        "survey_by_wave",
        "Survey scores by wave (observed, referred persons)",
        &[
            "wave (months)",
            "responses",
            "responses, % of referred",
            "UCLA-3 n",
            "UCLA-3 mean (SD)",
            "severe loneliness (UCLA-3 ≥ 7) n",
            "severe loneliness, %",
            "EQ-5D-5L index n",
            "EQ-5D-5L index mean (SD)",
            "EQ VAS n",
            "EQ VAS mean (SD)",
        ],
    );
    for w in waves {
        t.push(vec![
            Cell::text(w.wave.to_string()),
            Cell::Count(w.responses),
            percent(w.responses, referred, threshold),
            Cell::Count(w.ucla3.n),
            mean_sd(&w.ucla3, threshold, 2),
            Cell::Count(w.ucla3_severe),
            percent(w.ucla3_severe, w.ucla3.n, threshold),
            Cell::Count(w.eq5d_index.n),
            mean_sd(&w.eq5d_index, threshold, 3),
            Cell::Count(w.eq_vas.n),
            mean_sd(&w.eq_vas, threshold, 1),
        ]);
    }
    t.notes.push("EQ-5D-5L index with the Danish value set (Jensen et al. 2021). Means are of observed scores; model-based estimates follow from the mixed models. The share of referred persons responding shows the attrition by wave.".into());
    t
}

fn score_count_table(counts: &[ScoreCount]) -> ResultTable {
    let mut t = ResultTable::new(
        "score_completeness",
        "Survey scores computed and lost to missing items",
        &[
            "score",
            "survey rows",
            "scored",
            "prorated",
            "lost to missing items",
            "not answered",
        ],
    );
    for c in counts {
        t.push(vec![
            Cell::text(c.score),
            Cell::Count(c.rows as u64),
            Cell::Count(c.scored as u64),
            Cell::Count(c.prorated as u64),
            Cell::Count(c.lost_to_missing_items as u64),
            Cell::Count(c.not_answered as u64),
        ]);
    }
    t
}
