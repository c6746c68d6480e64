//! `shine dictionary`: prints the data dictionary.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::data::dictionary::{Dictionary, TableName};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct DictionaryArgs {
    /// Print only this table: persons, covariates, referrals, contacts or proms.
    #[arg(long, value_name = "NAME", value_parser = table_name)]
    table: Option<TableName>,
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
}

pub fn run(args: DictionaryArgs) -> anyhow::Result<ExitCode> {
    let dictionary = Dictionary::embedded();
    let table = args.table;
    let text = match args.format {
        Format::Markdown => dictionary.to_markdown(table),
        Format::Json => {
            let mut json = match table {
                Some(t) => serde_json::to_string_pretty(dictionary.table(t))?,
                None => serde_json::to_string_pretty(dictionary)?,
            };
            json.push('\n');
            json
        }
    };
    super::print_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// A table of the dictionary by its name.
fn table_name(name: &str) -> Result<TableName, String> {
    TableName::parse(name).ok_or_else(|| {
        "no such table (persons, covariates, referrals, contacts, proms)".to_string()
    })
}
