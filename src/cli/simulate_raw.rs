//! `shine simulate --raw`: the synthetic population as raw register files.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use super::Globals;
use crate::data::read::FileFormat;
use crate::data::simulate::{raw_registers, SimulatedExtracts};
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
    let files = raw_registers(sim, seed)?;
    if !force {
        let existing: Vec<String> = files
            .iter()
            .map(|f| format!("{}.parquet", f.name))
            .filter(|name| out.join(name).exists())
            .collect();
        if !existing.is_empty() {
            return Err(InputError(format!(
                "{} already holds {} and more: choose another --out or pass --force",
                out.display(),
                existing[0]
            ))
            .into());
        }
    }
    let mut rows = 0;
    for mut f in files.into_iter() {
        rows += f.frame.height();
        write_table(
            &mut f.frame,
            &out.join(format!("{}.parquet", f.name)),
            FileFormat::Parquet,
        )?;
    }
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
