//! The `analyse` pipeline: validate → score → write the results folder.
//!
//! Matching, difference-in-differences, the mixed models and the HTML report are added
//! as stages here as they are built.

use std::path::PathBuf;
use std::time::Instant;

use polars::prelude::*;
use serde::Serialize;

use crate::data::cohort::{
    default_outcome_groups, default_propensity_formula, risk_sets, Registry, RiskSetOptions,
};
use crate::data::dictionary::TableName;
use crate::data::instruments::ValueSet;
use crate::data::panel::PanelWindow;
use crate::data::score::{score_proms, ScoreCount, ScoreOptions};
use crate::data::validate::Extracts;
use crate::data::validate::{validate, ExtractPaths, ExtractPeriod, ValidationReport};
use crate::pipeline::did_stage::{did_stage, ClusterBy, OutcomeDid};
use crate::pipeline::mixed_stage::{survey_outcome, Response, SurveyOutcome};
use crate::pipeline::propensity::{table_one_of, PropensityError, PsTerm};
use crate::pipeline::risk_set::{
    fit_risk_set_model, match_risk_sets, rate_comparison, CohortFlow, Group, MatchedCohort,
    RateComparison, RiskSetMatching, RiskSetModel,
};
use crate::report::cohort as cohort_report;
use crate::report::did as did_report;
use crate::report::manifest::{Manifest, SHINE_VERSION};
use crate::report::matching as matching_report;
use crate::report::output::{OutputError, ResultsFolder};
use crate::report::table::{Cell, ResultTable};
use crate::report::table_one::table_one_table;
use crate::stats::balance::BalanceRow;
use crate::stats::table_one::TableOne;

/// Everything `analyse` needs, resolved from the command line.
#[derive(Debug, Clone)]
pub struct AnalyseConfig {
    pub paths: ExtractPaths,
    pub period: Option<ExtractPeriod>,
    pub out: PathBuf,
    pub force: bool,
    pub seed: u64,
    pub disclosure_threshold: u64,
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
    difference_in_differences: &'a [OutcomeDid],
    survey_outcomes: &'a [SurveyOutcome],
    matching: MatchingResults<'a>,
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

/// The matching stage's results.
struct MatchedStage {
    registry: Registry,
    /// The person-level matched cohort as CSV (written only when asked for).
    cohort_csv: String,
    options: RiskSetMatching,
    table_one: (TableOne, TableOne),
    model: RiskSetModel,
    cohort: MatchedCohort,
    rates: Vec<RateComparison>,
}

/// Builds the registry and the monthly risk sets and matches them.
fn match_cohort(
    extracts: &Extracts,
    extract_end: Option<i32>,
    config: &AnalyseConfig,
) -> Result<MatchedStage, AnalyseError> {
    let groups = default_outcome_groups();
    let registry = Registry::from_extracts(extracts, &groups)
        .map_err(|e| AnalyseError::Input(e.to_string()))?;
    let stacked = risk_sets(&registry, &RiskSetOptions::default());
    let options = RiskSetMatching {
        formula: default_propensity_formula(&groups),
        ratio: 5,
        caliper: Some(0.2),
        exact: vec!["sex".to_string()],
    };
    let to_error = |e| match e {
        PropensityError::Input(m) => AnalyseError::Input(m),
        PropensityError::Analysis(m) => AnalyseError::Analysis(m),
    };
    let model = fit_risk_set_model(&stacked, &options.formula, &options.exact).map_err(to_error)?;
    let cohort = match_risk_sets(&registry, &model, &options).map_err(to_error)?;
    if !config.quiet {
        for w in &cohort.warnings {
            eprintln!("warning: {w}");
        }
    }
    let rates = rate_comparison(&registry, &model.stacked, &cohort, 365, 270, extract_end);
    let formula = crate::stats::formula::parse(&options.formula)
        .map_err(|e| AnalyseError::Input(e.to_string()))?;
    let mut nonnormal = vec!["charlson_index".to_string()];
    nonnormal.extend(groups.iter().map(|g| format!("prior_{}", g.name)));
    let nonnormal: Vec<&str> = nonnormal.iter().map(String::as_str).collect();
    let table_one = table_one_of(
        &formula,
        &model.stacked.data,
        &model.ps.treated,
        &cohort.row_weights,
        &nonnormal,
    )
    .map_err(|e| AnalyseError::Analysis(e.to_string()))?;
    let cohort_csv = cohort_csv(&registry, &cohort);
    Ok(MatchedStage {
        registry,
        cohort_csv,
        options,
        table_one,
        model,
        cohort,
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
/// comparison persons when they answered too.
fn survey_stage(
    scored: &DataFrame,
    registry: &Registry,
    cohort: &MatchedCohort,
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
    let mut out = Vec::new();
    for (outcome, column) in [
        ("ucla3", "ucla3_total"),
        ("eq5d5l_index", "eq5d_index"),
        ("eq_vas", "eq5d_vas"),
    ] {
        let score = scored.column(column)?.f64()?.clone();
        let responses: Vec<Response> = (0..scored.height())
            .filter_map(|i| {
                let id = ids.get(i)?;
                let p = registry.ids.binary_search_by(|x| x.as_str().cmp(id)).ok()?;
                let (referral_date, group) =
                    match (registry.referral[p], comparison.get(&(p as u32))) {
                        (Some(d), _) => (d, "referred"),
                        (None, Some(&d)) => (d, "comparison"),
                        (None, None) => return None,
                    };
                Some(Response {
                    person_id: id.to_string(),
                    wave: wave.get(i)?,
                    score: score.get(i)?,
                    referral_date,
                    group,
                })
            })
            .collect();
        if responses.is_empty() {
            continue;
        }
        out.push(
            survey_outcome(outcome, registry, &responses)
                .map_err(|e| AnalyseError::Analysis(e.to_string()))?,
        );
    }
    Ok(out)
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

fn timing(quiet: bool, stage: &str, started: Instant) {
    if !quiet {
        eprintln!("{stage:<10} {:>7.2} s", started.elapsed().as_secs_f64());
    }
}

/// Runs the pipeline and writes the results folder.
pub fn analyse(config: &AnalyseConfig) -> Result<AnalyseOutcome, AnalyseError> {
    ResultsFolder::check_target(&config.out, config.force)?;

    let started = Instant::now();
    let validation = validate(&config.paths, config.period);
    if !validation.report.valid {
        eprint!("{}", validation.report.to_text());
        return Err(AnalyseError::Input(format!(
            "the extracts are not valid ({} errors, listed above); run `shine validate` on them after fixing",
            validation.report.errors
        )));
    }
    timing(config.quiet, "validate", started);

    let started = Instant::now();
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
                    value_set: ValueSet::Dk5L,
                    ..Default::default()
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
    timing(config.quiet, "score", started);

    let started = Instant::now();
    let matched = match_cohort(extracts, validation.report.extract_period_end, config)?;
    timing(config.quiet, "match", started);

    let started = Instant::now();
    let extract = validation
        .report
        .extract_period_start
        .zip(validation.report.extract_period_end);
    let did = did_stage(
        &matched.registry,
        &matched.cohort,
        PanelWindow::default(),
        extract,
        ClusterBy::MatchedSet,
    )
    .map_err(|e| AnalyseError::Analysis(e.to_string()))?;
    timing(config.quiet, "did", started);

    let started = Instant::now();
    let survey = match &scored_frame {
        Some(frame) => survey_stage(frame, &matched.registry, &matched.cohort)?,
        None => Vec::new(),
    };
    timing(config.quiet, "mixed", started);

    let started = Instant::now();
    let threshold = config.disclosure_threshold;
    let mut folder = ResultsFolder::default();
    for table in [
        cohort_table(&cohort),
        survey_table(&waves, cohort.referred, threshold),
        score_count_table(&score_counts),
    ] {
        folder.add(
            &format!("tables/{}.csv", table.name),
            table.to_csv(threshold),
        );
        folder.add(
            &format!("tables/{}.md", table.name),
            table.to_markdown(threshold),
        );
    }
    for table in [
        did_report::survey_change_table(&survey),
        did_report::rate_ratio_table(&did),
        did_report::event_study_table(&did),
        did_report::linear_table(&did),
        cohort_report::flow_table(&matched.cohort.flow, matched.options.ratio),
        table_one_table(
            &matched.table_one.0,
            Some(&matched.table_one.1),
            ("referred", "comparison"),
            threshold,
        ),
        matching_report::balance_table(&matched.cohort.balance),
        matching_report::ps_model_table(&matched.cohort.ps_model),
        cohort_report::rate_table(&matched.rates),
    ] {
        folder.add(
            &format!("tables/{}.csv", table.name),
            table.to_csv(threshold),
        );
        folder.add(
            &format!("tables/{}.md", table.name),
            table.to_markdown(threshold),
        );
    }
    let c = &matched.cohort;
    for (name, figure) in matching_report::figures(
        &c.balance,
        &matched.model.ps.distance,
        &matched.model.ps.treated,
        &c.row_weights,
        threshold,
    )? {
        folder.add(&format!("figures/{name}.svg"), figure.svg);
        folder.add(&format!("figures/{name}.png"), figure.png);
    }
    if config.export_matched {
        folder.add("matched_cohort.csv", matched.cohort_csv);
    }
    for o in &did {
        let figure = did_report::event_study_figure(o)?;
        folder.add(
            &format!("figures/event_study_{}.svg", o.outcome),
            figure.svg,
        );
        folder.add(
            &format!("figures/event_study_{}.png", o.outcome),
            figure.png,
        );
        let figure = did_report::raw_rate_figure(o)?;
        folder.add(&format!("figures/raw_rates_{}.svg", o.outcome), figure.svg);
        folder.add(&format!("figures/raw_rates_{}.png", o.outcome), figure.png);
    }
    for o in &survey {
        let figure = did_report::trajectory_figure(o)?;
        folder.add(&format!("figures/trajectory_{}.svg", o.outcome), figure.svg);
        folder.add(&format!("figures/trajectory_{}.png", o.outcome), figure.png);
    }
    let results = Results {
        shine_version: SHINE_VERSION,
        survey_outcomes: &survey,
        difference_in_differences: &did,
        matching: MatchingResults {
            options: &matched.options,
            flow: &c.flow,
            caliper_width: c.caliper_width,
            propensity_model: &c.ps_model,
            balance: &c.balance,
            max_abs_smd_after: c
                .balance
                .iter()
                .filter(|r| r.term != "distance")
                .filter_map(|r| r.smd_after.map(f64::abs))
                .fold(0.0, f64::max),
            rates: &matched.rates,
        },
        cohort: &cohort,
        survey_by_wave: &suppress_waves(&waves, threshold),
        score_counts: &score_counts,
        validation: ValidationSummary::of(&validation.report),
    };
    folder.add(
        "results.json",
        serde_json::to_string_pretty(&results)? + "\n",
    );
    let manifest = Manifest {
        shine_version: SHINE_VERSION,
        command: config.command.clone(),
        seed: config.seed,
        disclosure_threshold: threshold,
        inputs: validation.report.files.clone(),
        extract_period: validation.report.extract_period.clone(),
        outputs: folder.listing(),
    };
    folder.add(
        "manifest.json",
        serde_json::to_string_pretty(&manifest)? + "\n",
    );
    folder.commit(&config.out, config.force)?;
    timing(config.quiet, "write", started);
    Ok(AnalyseOutcome {
        out: config.out.clone(),
    })
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
