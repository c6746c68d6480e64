//! `shine plan`: prints the default analysis plan, or checks a plan file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::plan::{Plan, DEFAULT_PLAN};
use crate::InputError;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Check this plan instead and print it resolved (every default filled in).
    #[arg(long, value_name = "FILE")]
    check: Option<PathBuf>,
}

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    match args.check {
        None => print!("{DEFAULT_PLAN}"),
        Some(path) => print!("{}", read_plan(&path)?.to_toml()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads and checks a plan file; errors are input errors (exit code 2) naming the key.
pub fn read_plan(path: &std::path::Path) -> Result<Plan, InputError> {
    Plan::read(path).map_err(|e| InputError(e.to_string()))
}
