//! The results folder of `shine analyse`: every table (CSV and Markdown), every figure
//! (SVG and PNG), `report.html`, `results.json`, `manifest.json`, and the matched
//! cohort when it is asked for — built in memory from the results, then written.

use std::path::{Path, PathBuf};

use super::cohort::{
    extract_counts_table, flow_figure, flow_table, matched_cohort_csv, rate_table,
};
use super::did as did_report;
use super::disclosure::audit::{audit, Finding};
use super::disclosure::Rule;
use super::figures::{Figure, FigureError};
use super::html;
use super::manifest::{Manifest, SHINE_VERSION};
use super::matching as matching_report;
use super::output::{OutputError, ResultsFolder};
use super::results_json::results_json;
use super::robustness::{negative_control_table, robustness_table};
use super::sensitivity::sensitivity_table;
use super::survey::{score_count_table, survey_table};
use super::table::ResultTable;
use super::table_one::table_one_table;
use crate::results::analysis::AnalysisResults;

/// How the run was asked for, recorded in the manifest, and what to export.
#[derive(Debug, Clone)]
pub struct FolderOptions {
    /// The command line, e.g. `analyse --demo`.
    pub command: String,
    /// Where the plan came from (`default` or the file).
    pub plan_source: String,
    /// Write the person-level matched cohort too.
    pub export_matched: bool,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Figure(#[from] FigureError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("matched_cohort.csv")]
    Csv(#[from] csv::Error),
    /// The disclosure audit found cells that disclose small counts; nothing was written.
    #[error("the disclosure audit of the results found {} cell(s) disclosing fewer persons than the threshold; nothing was written:\n{}", .0.len(), .0.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n"))]
    Disclosure(Vec<Finding>),
}

/// Refuses early, before any work, a `target` that overlaps the `inputs`, or is a
/// non-empty folder without `force`, or with `force` is not shine's results
/// ([`ResultsFolder::check_target`]).
pub fn check_target(target: &Path, force: bool, inputs: &[PathBuf]) -> Result<(), OutputError> {
    ResultsFolder::check_target(target, force, inputs)
}

/// Builds the results folder and writes it to `target` (replacing it with `force`).
pub fn write(
    results: &AnalysisResults,
    options: &FolderOptions,
    target: &Path,
    force: bool,
    inputs: &[PathBuf],
) -> Result<(), ReportError> {
    let folder = render(results, options)?;
    let findings = audit(folder.files());
    if !findings.is_empty() {
        return Err(ReportError::Disclosure(findings));
    }
    folder.commit(target, force, inputs)?;
    Ok(())
}

/// The tables of the results folder, in the order they are listed.
fn tables(results: &AnalysisResults) -> Vec<ResultTable> {
    let rule = Rule::of(&results.plan.disclosure);
    let threshold = rule.threshold;
    let main = &results.main;
    let cohort = &*main.cohort;
    let mut tables = vec![
        extract_counts_table(&results.counts),
        flow_table(&cohort.flow, main.settings.ratio),
        table_one_table(
            &results.table_one.0,
            Some(&results.table_one.1),
            ("referred", "comparison"),
            rule,
        ),
        matching_report::balance_table(&cohort.balance, threshold),
        matching_report::ps_model_table(&cohort.ps_model),
        rate_table(&results.rates),
        did_report::rate_ratio_table(&main.did),
        did_report::event_study_table(&main.did),
        did_report::linear_table(&main.did),
        robustness_table(&main.did),
        negative_control_table(&main.negative_controls),
        survey_table(&results.survey_by_wave, results.counts.referred, threshold),
        did_report::survey_change_table(&main.survey),
        sensitivity_table(main, &results.sensitivity),
        score_count_table(&results.score_counts),
    ];
    if let Some(p) = &results.participation {
        tables.push(super::participation::participation_table(p, threshold));
        tables.push(super::participation::dose_response_table(p, threshold));
    }
    tables.extend(super::forest::linear_bootstrap_table(
        &main.did,
        &main.negative_controls,
        main.settings.cluster,
    ));
    tables
}

/// The figures of the results folder, each with its file name (without extension).
fn figures(results: &AnalysisResults) -> Result<Vec<(String, Figure)>, FigureError> {
    let rule = Rule::of(&results.plan.disclosure);
    let threshold = rule.threshold;
    let main = &results.main;
    let cohort = &*main.cohort;
    let mut figures: Vec<(String, Figure)> = matching_report::figures(
        &cohort.balance,
        &results.propensity.distance,
        &results.propensity.treated,
        &cohort.row_weights,
        threshold,
    )?
    .into_iter()
    .map(|(name, f)| (name.to_string(), f))
    .collect();
    figures.push((
        "flow".into(),
        flow_figure(&cohort.flow, main.settings.ratio, rule)?,
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
    if let Some(forest) = super::forest::forest_figure(main, &results.sensitivity)? {
        figures.push(("forest".into(), forest));
    }
    Ok(figures)
}

/// Every table, figure, the report, results.json and manifest.json, in memory.
pub fn render(
    results: &AnalysisResults,
    options: &FolderOptions,
) -> Result<ResultsFolder, ReportError> {
    let plan = &results.plan;
    let rule = Rule::of(&plan.disclosure);
    let threshold = rule.threshold;
    let mut folder = ResultsFolder::default();
    let tables = tables(results);
    for table in &tables {
        folder.add(&format!("tables/{}.csv", table.name), table.to_csv(rule));
        folder.add(
            &format!("tables/{}.md", table.name),
            table.to_markdown(rule),
        );
    }
    folder.add(
        "tables/tables.docx",
        super::docx::tables_docx(&tables, rule, "SHINE: tables of the matched analysis"),
    );
    let figures = figures(results)?;
    for (name, figure) in &figures {
        folder.add(&format!("figures/{name}.svg"), figure.svg.clone());
        folder.add(&format!("figures/{name}.png"), figure.png.clone());
    }
    if options.export_matched {
        folder.add(
            "matched_cohort.csv",
            matched_cohort_csv(&results.matched_persons)?,
        );
    }
    folder.add("results.json", results_json(results)?);
    let report = html::Report {
        plan,
        tables: &tables,
        figures: &figures,
        main: &results.main,
        sensitivity: &results.sensitivity,
        cohort: &results.counts,
        rule,
        software: format!("shine {SHINE_VERSION}"),
    };
    folder.add("report.html", report.render());
    let manifest = Manifest {
        shine_version: SHINE_VERSION,
        command: options.command.clone(),
        seed: plan.seed,
        disclosure_threshold: threshold,
        plan_source: options.plan_source.clone(),
        plan: plan.clone(),
        inputs: results.inputs.clone(),
        extract_period: results.extract_period.clone(),
        outputs: folder.listing(),
    };
    folder.add(
        "manifest.json",
        serde_json::to_string_pretty(&manifest)? + "\n",
    );
    Ok(folder)
}
