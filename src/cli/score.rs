//! `shine score`: scores UCLA and EQ-5D responses in a proms file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::Globals;
use crate::data::instruments::{Prorate, ValueSet};
use crate::data::score::ScoreOptions;
use crate::pipeline::score::{score_file, ScoreFileError};
use crate::report::score::print_scores;
use crate::InputError;

/// The EQ-5D value set.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ValueSetArg {
    /// Danish EQ-5D-5L (Jensen et al. 2021).
    #[value(name = "dk-5l", alias = "dk_5l")]
    Dk5l,
    /// Danish EQ-5D-3L TTO (Wittrup-Jensen et al. 2009).
    #[value(name = "dk-3l", alias = "dk_3l")]
    Dk3l,
}

impl From<ValueSetArg> for ValueSet {
    fn from(set: ValueSetArg) -> ValueSet {
        match set {
            ValueSetArg::Dk5l => ValueSet::Dk5L,
            ValueSetArg::Dk3l => ValueSet::Dk3L,
        }
    }
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The proms file (CSV or Parquet, as the data dictionary defines it).
    #[arg(long, value_name = "FILE")]
    proms: PathBuf,
    /// EQ-5D value set: dk-5l (Jensen et al. 2021) or dk-3l (Wittrup-Jensen et al. 2009).
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        default_value = "dk-5l",
        value_name = "SET"
    )]
    value_set: ValueSetArg,
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
    let options = ScoreOptions {
        value_set: args.value_set.into(),
        prorate: args.prorate.map_or(Prorate::None, Prorate::MaxMissing),
    };
    let mut scored = score_file(&args.proms, options).map_err(|e| {
        if let ScoreFileError::Invalid { report, .. } = &e {
            eprint!("{}", report.to_text());
        }
        if e.is_input() {
            anyhow::Error::new(InputError(e.to_string()))
        } else {
            anyhow::Error::new(e)
        }
    })?;
    let printout = print_scores(&mut scored, args.out.as_deref(), args.json)?;
    super::print_stdout(&printout.stdout)?;
    if !globals.quiet {
        eprint!("{}", printout.stderr);
    }
    Ok(ExitCode::SUCCESS)
}
