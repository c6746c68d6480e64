//! `shine did`: difference-in-differences and event studies on any panel table.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::Globals;
use crate::data::table::read_any;
use crate::pipeline::did::{fit_did, DidSpec};
use crate::pipeline::fit_error::FitError;
use crate::report::did_table::{print_did, warnings};
use crate::results::did::VcovSpec;
use crate::stats::fixest::FeFamily;
use crate::stats::formula;
use crate::InputError;

/// The model family: fixest's `feols` or `fepois`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Family {
    /// Least squares.
    Gaussian,
    /// Poisson pseudo-maximum likelihood.
    Poisson,
}

impl From<Family> for FeFamily {
    fn from(family: Family) -> FeFamily {
        match family {
            Family::Gaussian => FeFamily::Gaussian,
            Family::Poisson => FeFamily::Poisson,
        }
    }
}

#[derive(Debug, Args)]
pub struct DidArgs {
    /// The panel (CSV or Parquet), one row per unit and period.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// fixest syntax: `y ~ treated_post | unit + period`, or
    /// `y ~ i(rel_period, treated, ref = -1) | unit + period`.
    #[arg(long, value_name = "FORMULA")]
    formula: String,
    /// gaussian (OLS, fixest's feols) or poisson (PPML, fixest's fepois).
    #[arg(long, value_enum, default_value = "gaussian")]
    family: Family,
    /// Column added to the linear predictor with coefficient 1 (e.g. log exposure).
    #[arg(long, value_name = "COL")]
    offset: Option<String>,
    /// Column of observation weights.
    #[arg(long, value_name = "COL")]
    weights: Option<String>,
    /// Variance: iid, hc1, or cluster:COL[,COL] (CR1, one- or two-way).
    #[arg(long, default_value = "iid", value_name = "VCOV")]
    vcov: VcovSpec,
    /// Write the results as JSON to stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DidArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    let file = args.data.display().to_string();
    let spec = DidSpec {
        formula: formula::parse(&args.formula).map_err(|e| InputError(e.to_string()))?,
        family: args.family.into(),
        offset: args.offset,
        weights: args.weights,
        vcov: args.vcov,
    };
    let frame = read_any(&args.data).map_err(|e| InputError(e.to_string()))?;
    let result = fit_did(&frame, &file, &spec).map_err(exit_error)?;
    if !globals.quiet {
        for line in warnings(&result) {
            eprintln!("{line}");
        }
    }
    super::print_stdout(&print_did(&result, args.json)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Bad input exits with code 2, a failed analysis with 1.
fn exit_error(e: FitError) -> anyhow::Error {
    if e.is_input() {
        InputError(e.to_string()).into()
    } else {
        e.into()
    }
}
