//! `shine simulate`: synthetic extracts with known true effects.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::simulate_raw::RawFormat;
use super::Globals;
use crate::data::dictionary::TableName;
use crate::data::read::FileFormat;
use crate::data::simulate::{simulate, SimulationConfig};
use crate::data::validate::{ExtractMetadata, EXTRACT_METADATA_FILE};
use crate::data::write::write_table;
use crate::InputError;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Folder to write persons, covariates, referrals, contacts, proms, truth.json and extract.toml into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Number of referred persons.
    #[arg(long, default_value_t = 350)]
    referred: usize,
    /// Number of persons in the comparison pool.
    #[arg(long, default_value_t = 20_000)]
    pool: usize,
    /// Random seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    seed: u64,
    /// Also select referred persons on their unobserved frailty, with this log-weight per
    /// unit of log frailty (0: referral depends only on observed covariates and prior
    /// use). Matching on prior use then regresses to the mean and biases the DiD rate
    /// ratios towards 1, which this option lets you see (e.g. 0.7).
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "W",
        allow_negative_numbers = true
    )]
    frailty_selection: f64,
    /// Scale the weights of prior use in the selection into referral (1: the default
    /// weights; 0: referral does not depend on prior use), e.g. to check what the
    /// dependence does to the placebo index dates.
    #[arg(long, default_value_t = 1.0, value_name = "S")]
    prior_use_selection: f64,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Replace extract files already in the folder.
    #[arg(long)]
    force: bool,
    /// Write the population as raw registers instead (BEF, DOD, VNDS, UDDA, IND, DREAM,
    /// SSSY, LPR2, LPR3, the 1813 calls, referral list and survey; one file per register
    /// and year, as `shine import` reads them).
    #[arg(long)]
    raw: bool,
    /// The file format of --raw: Parquet, or Stata datasets (.dta, format 118, read by
    /// Stata 14 and later).
    #[arg(long, value_enum, default_value = "parquet", requires = "raw")]
    raw_format: RawFormat,
}

pub fn run(args: SimulateArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        Format::Csv => FileFormat::Csv,
        Format::Parquet => FileFormat::Parquet,
    };
    let config = SimulationConfig {
        referred: args.referred,
        pool: args.pool,
        seed: args.seed,
        frailty_selection: args.frailty_selection,
        prior_use_selection: args.prior_use_selection,
    };
    let started = Instant::now();
    let mut sim = simulate(&config).map_err(|e| InputError(e.to_string()))?;
    let simulated = started.elapsed();

    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    if args.raw {
        return super::simulate_raw::write_raw(
            &sim,
            &args.out,
            args.seed,
            args.raw_format,
            args.force,
            started,
            globals,
        );
    }
    if !args.force {
        let existing: Vec<String> = TableName::ALL
            .iter()
            .flat_map(|t| ["csv", "parquet"].map(|ext| format!("{t}.{ext}")))
            .chain(["truth.json".to_string()])
            .filter(|name| out.join(name).exists())
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
    for (table, frame) in [
        (TableName::Persons, &mut sim.persons),
        (TableName::Covariates, &mut sim.covariates),
        (TableName::Referrals, &mut sim.referrals),
        (TableName::Contacts, &mut sim.contacts),
        (TableName::Proms, &mut sim.proms),
        (TableName::Participation, &mut sim.participation),
    ] {
        let path = out.join(format!("{table}.{}", format.extension()));
        // A stale file of the other format would make the folder ambiguous.
        for other in ["csv", "parquet"] {
            let stale = out.join(format!("{table}.{other}"));
            if other != format.extension() && stale.exists() {
                std::fs::remove_file(&stale)
                    .with_context(|| format!("cannot remove {}", stale.display()))?;
            }
        }
        write_table(frame, &path, format)?;
    }
    let truth = serde_json::to_string_pretty(&sim.truth)? + "\n";
    std::fs::write(out.join("truth.json"), truth)?;
    let meta = ExtractMetadata {
        start: sim.truth.extract_period.start.clone(),
        end: sim.truth.extract_period.end.clone(),
        description: Some(format!(
            "Synthetic extracts written by shine simulate (seed {}, {} referred, {} in the pool).",
            args.seed, args.referred, args.pool
        )),
    };
    std::fs::write(out.join(EXTRACT_METADATA_FILE), toml::to_string(&meta)?)?;
    if !globals.quiet {
        eprintln!(
            "simulate: {} persons, {} covariate rows, {} referrals, {} contacts, {} survey rows in {:.1} s; written to {} in {:.1} s",
            sim.persons.height(),
            sim.covariates.height(),
            sim.referrals.height(),
            sim.contacts.height(),
            sim.proms.height(),
            simulated.as_secs_f64(),
            out.display(),
            (started.elapsed() - simulated).as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
