//! `shine simulate --raw`: the synthetic population as raw register files.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::ValueEnum;

use super::row_groups::{write_dta_in_groups, write_parquet_in_groups};
use super::Globals;
use crate::data::formats::dta_write::write_dta;
use crate::data::read::FileFormat;
use crate::data::simulate::{
    is_raw_register_name, raw_registers, RawFile, RawTable, SimulatedExtracts,
};
use crate::data::validate::{ExtractMetadata, EXTRACT_METADATA_FILE};
use crate::data::write::write_table;
use crate::InputError;

/// The file format of the raw registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RawFormat {
    Parquet,
    /// Stata datasets, format 118 (Stata 14 and later).
    Dta,
}

impl RawFormat {
    const ALL: [RawFormat; 2] = [RawFormat::Parquet, RawFormat::Dta];

    fn extension(self) -> &'static str {
        match self {
            RawFormat::Parquet => "parquet",
            RawFormat::Dta => "dta",
        }
    }
}

pub fn write_raw(
    sim: &SimulatedExtracts,
    out: &Path,
    seed: u64,
    format: RawFormat,
    force: bool,
    started: Instant,
    globals: Globals,
) -> anyhow::Result<ExitCode> {
    // Raw register files already there, of either format: `shine import` would read a
    // register written in both formats twice.
    let mut existing: Vec<String> = std::fs::read_dir(out)
        .with_context(|| format!("cannot read {}", out.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| {
            RawFormat::ALL.iter().any(|f| {
                name.strip_suffix(f.extension())
                    .and_then(|stem| stem.strip_suffix('.'))
                    .is_some_and(is_raw_register_name)
            })
        })
        .collect();
    existing.sort();
    if let Some(first) = existing.first() {
        if !force {
            return Err(InputError(format!(
                "{} already holds {first} and more: choose another --out or pass --force",
                out.display(),
            ))
            .into());
        }
        for name in &existing {
            let stale = out.join(name);
            std::fs::remove_file(&stale)
                .with_context(|| format!("cannot remove {}", stale.display()))?;
        }
    }
    let mut rows = 0;
    raw_registers(sim, seed, &mut |file: RawFile<'_>| -> anyhow::Result<()> {
        rows += write_raw_file(out, file, format)?;
        Ok(())
    })?;
    std::fs::write(
        out.join("truth.json"),
        serde_json::to_string_pretty(&sim.truth)? + "\n",
    )?;
    let meta = ExtractMetadata {
        start: sim.truth.extract_period.start.clone(),
        end: sim.truth.extract_period.end.clone(),
        description: Some(format!(
            "Synthetic raw registers written by shine simulate --raw (seed {seed})."
        )),
    };
    std::fs::write(out.join(EXTRACT_METADATA_FILE), toml::to_string(&meta)?)?;
    if !globals.quiet {
        eprintln!(
            "simulate --raw: {} persons as {} register rows, written to {} in {:.1} s",
            sim.persons.height(),
            rows,
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes one raw register file and returns its number of rows.
fn write_raw_file(out: &Path, file: RawFile<'_>, format: RawFormat) -> anyhow::Result<usize> {
    let path = out.join(format!("{}.{}", file.name, format.extension()));
    match (file.table, format) {
        (RawTable::Whole(mut frame), RawFormat::Parquet) => {
            write_table(&mut frame, &path, FileFormat::Parquet)?;
            Ok(frame.height())
        }
        (RawTable::Whole(frame), RawFormat::Dta) => {
            write_dta(&path, &frame)?;
            Ok(frame.height())
        }
        (RawTable::Parts { rows, mut part }, RawFormat::Parquet) => {
            write_parquet_in_groups(&path, rows, &mut *part)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(rows)
        }
        (RawTable::Parts { rows, mut part }, RawFormat::Dta) => {
            write_dta_in_groups(&path, rows, &mut *part)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(rows)
        }
    }
}
