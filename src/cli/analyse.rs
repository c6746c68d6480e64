//! `shine analyse`: the pre-registered pipeline from extracts to a results folder.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::plan::read_plan;
use super::{ExtractArgs, Globals};
use crate::pipeline::analyse::{analyse, AnalyseConfig, AnalyseError};
use crate::pipeline::demo;
use crate::pipeline::progress::Progress;
use crate::plan::Plan;
use crate::report::output::OutputError;
use crate::report::results_folder::{self, FolderOptions, ReportError};
use crate::InputError;

#[derive(Debug, Args)]
pub struct AnalyseArgs {
    /// Analyse the bundled synthetic example instead of extracts.
    #[arg(long, conflicts_with_all = ["folder", "persons", "covariates", "referrals", "contacts", "proms"])]
    demo: bool,
    /// Start from raw registers: import them (as `shine import` does) into the folder of
    /// --staging, then analyse those extracts.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["demo", "folder", "persons", "covariates", "referrals", "contacts", "proms"])]
    registers: Option<PathBuf>,
    /// With --registers: a recipe file laid over the embedded register recipes.
    #[arg(long, value_name = "FILE", requires = "registers")]
    recipe: Option<PathBuf>,
    /// With --registers: where the imported extracts go (default: the results folder's
    /// name followed by -extracts, beside it).
    #[arg(long, value_name = "DIR", requires = "registers")]
    staging: Option<PathBuf>,
    #[command(flatten)]
    extracts: ExtractArgs,
    /// Results folder.
    #[arg(long, default_value = "shine-results", value_name = "DIR")]
    out: PathBuf,
    /// Replace a non-empty results folder.
    #[arg(long)]
    force: bool,
    /// The analysis plan (TOML; `shine plan` prints the default, which is used
    /// without this option).
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Random seed, overriding the plan's (default: the plan's; the demo's is 2026).
    #[arg(long, allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Also write the matched cohort (person_id, group, matched_set, index_date,
    /// weight) to `matched_cohort.csv`: person-level data, off by default.
    #[arg(long)]
    export_matched: bool,
}

pub fn run(args: AnalyseArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    let (mut plan, plan_source) = match &args.plan {
        Some(path) => (read_plan(path)?, path.display().to_string()),
        None => (Plan::default(), "default".to_string()),
    };
    let (paths, period, command) = if args.demo {
        let period = demo::extract_period().map_err(|e| anyhow::anyhow!("bundled demo: {e}"))?;
        if args.plan.is_none() {
            plan.seed = demo::DEMO_SEED;
        }
        (demo::extract_paths(), Some(period), "analyse --demo")
    } else if let Some(registers) = &args.registers {
        let recipe = super::import::resolve_recipe(args.recipe.as_deref())?;
        let staging = args.staging.clone().unwrap_or_else(|| {
            let name = args.out.file_name().map_or_else(
                || "shine-results".into(),
                |n| n.to_string_lossy().into_owned(),
            );
            args.out.with_file_name(format!("{name}-extracts"))
        });
        let imported = super::import::import_to(
            registers,
            &staging,
            &recipe,
            args.extracts.period()?,
            args.force,
            globals,
        )?;
        let paths = crate::data::validate::ExtractPaths {
            folder: Some(staging),
            ..Default::default()
        };
        (paths, Some(imported.period), "analyse --registers")
    } else {
        (args.extracts.paths()?, args.extracts.period()?, "analyse")
    };
    if let Some(seed) = args.seed {
        plan.seed = seed;
    }
    let inputs: Vec<PathBuf> = paths
        .folder
        .iter()
        .chain(paths.files.values())
        .chain(args.plan.iter())
        .cloned()
        .collect();
    results_folder::check_target(&args.out, args.force, &inputs).map_err(output_error)?;
    let config = AnalyseConfig {
        paths,
        period,
        plan,
        quiet: globals.quiet,
    };
    let progress = Progress::new(globals.quiet);
    let results = analyse(&config, &progress).map_err(|e| match e {
        AnalyseError::Input(message) => anyhow::Error::new(InputError(message)),
        other => anyhow::Error::new(other),
    })?;
    let stage = progress.stage("report", 0);
    let options = FolderOptions {
        command: command.to_string(),
        plan_source,
        export_matched: args.export_matched,
    };
    results_folder::write(&results, &options, &args.out, args.force, &inputs).map_err(
        |e| match e {
            ReportError::Output(e) => output_error(e),
            other => anyhow::Error::new(other),
        },
    )?;
    stage.finish();
    if !globals.quiet {
        eprintln!("results written to {}", args.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// An --out that cannot be used is a usage error (exit code 2); failing to write is not.
fn output_error(e: OutputError) -> anyhow::Error {
    match e {
        OutputError::NotEmpty(_)
        | OutputError::OverlapsInput { .. }
        | OutputError::NotResults(_)
        | OutputError::IsFile(_) => anyhow::Error::new(InputError(e.to_string())),
        other => anyhow::Error::new(other),
    }
}
