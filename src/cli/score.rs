//! `shine score`: scores UCLA and EQ-5D responses in a proms file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::Globals;
use crate::data::dictionary::{Dictionary, TableName};
use crate::data::instruments::{Prorate, ValueSet};
use crate::data::problems::Problems;
use crate::data::read::{read_table, FileFormat};
use crate::data::score::{score_proms, ScoreOptions, ScoreTableError};
use crate::data::validate::ValidationReport;
use crate::data::write::write_table;
use crate::InputError;

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The proms file (CSV or Parquet, as the data dictionary defines it).
    #[arg(long, value_name = "FILE")]
    proms: PathBuf,
    /// EQ-5D value set: dk-5l (Jensen et al. 2021) or dk-3l (Wittrup-Jensen et al. 2009).
    #[arg(long, default_value = "dk-5l", value_name = "SET")]
    value_set: String,
    /// Prorate UCLA totals over at most K missing items (mean of answered items × items).
    #[arg(long, value_name = "K")]
    prorate: Option<usize>,
    /// Write the scores here (.csv or .parquet); default: CSV to stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the counts of scored and lost scores as JSON to stdout (needs --out).
    #[arg(long, requires = "out")]
    json: bool,
}

pub fn run(args: ScoreArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    let value_set =
        ValueSet::parse(&args.value_set).map_err(|e| InputError(format!("--value-set: {e}")))?;
    let prorate = args.prorate.map_or(Prorate::None, Prorate::MaxMissing);
    let dictionary = Dictionary::embedded();
    let mut problems = Problems::default();
    let table = read_table(
        &args.proms,
        TableName::Proms,
        dictionary.table(TableName::Proms),
        &mut problems,
    );
    let table = match table {
        Some(t) if !problems.has_errors() => t,
        _ => {
            let report = ValidationReport {
                valid: false,
                errors: problems.count(crate::data::problems::Severity::Error),
                warnings: problems.count(crate::data::problems::Severity::Warning),
                extract_period: None,
                extract_period_end: None,
                extract_period_start: None,
                files: Vec::new(),
                problems: problems.groups(),
            };
            eprint!("{}", report.to_text());
            return Err(InputError(format!(
                "{}: cannot be scored (see the problems above)",
                args.proms.display()
            ))
            .into());
        }
    };
    let mut scored =
        score_proms(&table.frame, ScoreOptions { value_set, prorate }).map_err(|e| match e {
            ScoreTableError::Score { .. } => {
                anyhow::Error::new(InputError(format!("{}, {e}", args.proms.display())))
            }
            other => anyhow::Error::new(other),
        })?;
    match &args.out {
        Some(path) => {
            let format = FileFormat::from_path(path).unwrap_or(FileFormat::Csv);
            write_table(&mut scored.frame, path, format)?;
        }
        None => {
            let mut bytes = Vec::new();
            crate::data::write::write_csv(&mut scored.frame, &mut bytes)?;
            super::print_stdout(&String::from_utf8_lossy(&bytes))?;
        }
    }
    if args.json {
        let json = serde_json::json!({ "value_set": value_set.as_str(), "counts": scored.counts });
        super::print_stdout(&(serde_json::to_string_pretty(&json)? + "\n"))?;
    } else if !globals.quiet {
        eprintln!("score       rows  scored  prorated  lost to missing items  not answered");
        for c in &scored.counts {
            eprintln!(
                "{:<12}{:>5} {:>7} {:>9} {:>22} {:>13}",
                c.score, c.rows, c.scored, c.prorated, c.lost_to_missing_items, c.not_answered
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
