//! `shine validate`: checks extracts and reports every problem found.

use std::process::ExitCode;

use clap::Args;

use super::{ExtractArgs, Globals};
use crate::data::validate::validate;
use crate::InputError;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    extracts: ExtractArgs,
    /// Write the report as JSON to stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ValidateArgs, _globals: Globals) -> anyhow::Result<ExitCode> {
    let paths = args.extracts.paths()?;
    let period = args.extracts.period()?;
    let validation = validate(&paths, period);
    let report = &validation.report;
    if args.json {
        super::print_stdout(&(serde_json::to_string_pretty(report)? + "\n"))?;
    } else {
        super::print_stdout(&report.to_text())?;
    }
    if report.valid {
        Ok(ExitCode::SUCCESS)
    } else {
        // The report went to stdout; stderr says what is wrong first, in one line.
        Err(InputError(report.error_summary()).into())
    }
}
