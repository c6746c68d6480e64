//! `shine import`: raw registers → the five extract tables and an import report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use super::row_groups::write_parquet_in_groups;
use super::{print_stdout, Globals};
use crate::data::calendar::format_date;
use crate::data::read::{parse_iso_date, FileFormat};
use crate::data::registers::{explain_names, import, Imported, Recipe, RegisterError};
use crate::data::validate::{ExtractMetadata, ExtractPeriod, EXTRACT_METADATA_FILE};
use crate::data::write::write_table;
use crate::InputError;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Folder of register files (Parquet, CSV, SAS, Stata; one per register and year,
    /// sub-folders included).
    #[arg(long, value_name = "DIR", required_unless_present = "explain")]
    pub registers: Option<PathBuf>,
    /// Folder to write persons, covariates, referrals, contacts, proms (Parquet),
    /// extract.toml and the import report into.
    #[arg(long, value_name = "DIR", required_unless_present = "explain")]
    pub out: Option<PathBuf>,
    /// A recipe file (TOML) with the names and code lists that differ from the embedded
    /// recipes.
    #[arg(long, value_name = "FILE")]
    pub recipe: Option<PathBuf>,
    /// Print the resolved recipe (TOML) to stdout; with --registers, also which of the
    /// recipe's names the register files have (as TOML comments).
    #[arg(long)]
    pub explain: bool,
    /// First day of the extract period (default: extract.toml in the registers folder).
    #[arg(long, value_name = "DATE", requires = "extract_end")]
    pub extract_start: Option<String>,
    /// Last day of the extract period.
    #[arg(long, value_name = "DATE", requires = "extract_start")]
    pub extract_end: Option<String>,
    /// Replace extract files already in the output folder.
    #[arg(long)]
    pub force: bool,
}

/// The recipe the arguments ask for.
pub fn resolve_recipe(file: Option<&Path>) -> anyhow::Result<Recipe> {
    match file {
        None => Ok(Recipe::embedded()),
        Some(path) => Recipe::with_file(path).map_err(|e| InputError(e.to_string()).into()),
    }
}

fn period(args: &ImportArgs) -> Result<Option<ExtractPeriod>, InputError> {
    let (Some(start), Some(end)) = (&args.extract_start, &args.extract_end) else {
        return Ok(None);
    };
    let day = |flag: &str, s: &str| {
        parse_iso_date(s)
            .ok_or_else(|| InputError(format!("{flag} {s:?}: expected an ISO date YYYY-MM-DD")))
    };
    let period = ExtractPeriod {
        start: day("--extract-start", start)?,
        end: day("--extract-end", end)?,
    };
    if period.end < period.start {
        return Err(InputError("--extract-end is before --extract-start".into()));
    }
    Ok(Some(period))
}

const OUTPUTS: [&str; 8] = [
    "persons.parquet",
    "covariates.parquet",
    "referrals.parquet",
    "contacts.parquet",
    "proms.parquet",
    EXTRACT_METADATA_FILE,
    "import_report.json",
    "import_report.md",
];

/// Imports `registers` and writes the extracts to `out`; the command layer of both
/// `shine import` and `shine analyse --registers`.
pub fn import_to(
    registers: &Path,
    out: &Path,
    recipe: &Recipe,
    period: Option<ExtractPeriod>,
    force: bool,
    globals: Globals,
) -> anyhow::Result<Imported> {
    let started = Instant::now();
    let mut imported = import(registers, recipe, period)
        .map_err(|e: RegisterError| anyhow::Error::new(InputError(e.to_string())))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    if !force {
        let existing: Vec<&str> = OUTPUTS
            .iter()
            .copied()
            .filter(|f| out.join(f).exists())
            .collect();
        if !existing.is_empty() {
            return Err(InputError(format!(
                "{} already holds {}: choose another --out or pass --force",
                out.display(),
                existing.join(", ")
            ))
            .into());
        }
    }
    for (name, frame) in [
        ("persons", &mut imported.persons),
        ("covariates", &mut imported.covariates),
        ("referrals", &mut imported.referrals),
        ("proms", &mut imported.proms),
    ] {
        write_table(
            frame,
            &out.join(format!("{name}.parquet")),
            FileFormat::Parquet,
        )?;
    }
    let contacts = out.join("contacts.parquet");
    write_parquet_in_groups(&contacts, imported.contacts.height(), &mut |rows| {
        imported.contacts.frame(rows)
    })
    .with_context(|| format!("cannot write {}", contacts.display()))?;
    let meta = ExtractMetadata {
        start: format_date(imported.period.start),
        end: format_date(imported.period.end),
        description: Some(format!(
            "Extracts built by shine import from {}.",
            registers.display()
        )),
    };
    std::fs::write(out.join(EXTRACT_METADATA_FILE), toml::to_string(&meta)?)?;
    std::fs::write(
        out.join("import_report.json"),
        serde_json::to_string_pretty(&imported.report)? + "\n",
    )?;
    std::fs::write(out.join("import_report.md"), imported.report.to_markdown())?;
    if !globals.quiet {
        let r = &imported.report;
        eprintln!(
            "import: {} files read; {} persons, {} covariate rows, {} referrals, {} contacts, {} survey rows in {:.1} s; written to {}",
            r.files.len(),
            imported.persons.height(),
            imported.covariates.height(),
            imported.referrals.height(),
            imported.contacts.height(),
            imported.proms.height(),
            started.elapsed().as_secs_f64(),
            out.display()
        );
        for w in &r.warnings {
            eprintln!(
                "warning: {} ({} times; first: {}, row {}, column {}: {})",
                w.kind, w.count, w.first.file, w.first.row, w.first.variable, w.first.message
            );
        }
    }
    Ok(imported)
}

pub fn run(args: ImportArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    let recipe = resolve_recipe(args.recipe.as_deref())?;
    if args.explain {
        print_stdout(&recipe.to_toml())?;
        if let Some(dir) = &args.registers {
            let found = explain_names(dir, &recipe).map_err(|e| InputError(e.to_string()))?;
            print_stdout(&found)?;
        }
    }
    let (Some(registers), Some(out)) = (&args.registers, &args.out) else {
        return Ok(ExitCode::SUCCESS);
    };
    let period = period(&args)?;
    import_to(registers, out, &recipe, period, args.force, globals)?;
    Ok(ExitCode::SUCCESS)
}
