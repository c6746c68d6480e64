//! `shine simulate --raw`: the synthetic population as raw register files.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use super::row_groups::write_parquet_in_groups;
use super::Globals;
use crate::data::read::FileFormat;
use crate::data::simulate::{
    is_raw_register_name, raw_registers, RawFile, RawTable, SimulatedExtracts,
};
use crate::data::validate::{ExtractMetadata, EXTRACT_METADATA_FILE};
use crate::data::write::write_table;
use crate::InputError;

pub fn write_raw(
    sim: &SimulatedExtracts,
    out: &Path,
    seed: u64,
    force: bool,
    started: Instant,
    globals: Globals,
) -> anyhow::Result<ExitCode> {
    if !force {
        let mut existing: Vec<String> = std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| {
                name.strip_suffix(".parquet")
                    .is_some_and(is_raw_register_name)
            })
            .collect();
        existing.sort();
        if let Some(first) = existing.first() {
            return Err(InputError(format!(
                "{} already holds {first} and more: choose another --out or pass --force",
                out.display(),
            ))
            .into());
        }
    }
    let mut rows = 0;
    raw_registers(sim, seed, &mut |file: RawFile<'_>| -> anyhow::Result<()> {
        rows += write_raw_file(out, file)?;
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

/// Writes one raw register file as Parquet and returns its number of rows.
fn write_raw_file(out: &Path, file: RawFile<'_>) -> anyhow::Result<usize> {
    let path = out.join(format!("{}.parquet", file.name));
    match file.table {
        RawTable::Whole(mut frame) => {
            write_table(&mut frame, &path, FileFormat::Parquet)?;
            Ok(frame.height())
        }
        RawTable::Parts { rows, mut part } => {
            write_parquet_in_groups(&path, rows, &mut *part)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(rows)
        }
    }
}
