//! `shine audit`: the disclosure audit of a results folder.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::report::disclosure::audit::{audit, read_folder};
use crate::InputError;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The results folder of `shine analyse`.
    #[arg(value_name = "RESULTS")]
    results: PathBuf,
    /// Write the findings as JSON to stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let files = read_folder(&args.results).map_err(|e| {
        InputError(format!(
            "{}: cannot read the results (results.json and tables/*.csv): {e}",
            args.results.display()
        ))
    })?;
    let findings = audit(&files);
    if args.json {
        super::print_stdout(&(serde_json::to_string_pretty(&findings)? + "\n"))?;
    } else if findings.is_empty() {
        super::print_stdout(&format!(
            "{}: no cell discloses fewer persons than the threshold ({} files audited)\n",
            args.results.display(),
            files.len()
        ))?;
    } else {
        let mut text = format!(
            "{}: {} cell(s) disclose fewer persons than the threshold:\n",
            args.results.display(),
            findings.len()
        );
        for f in &findings {
            text.push_str(&format!("  {f}\n"));
        }
        super::print_stdout(&text)?;
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
