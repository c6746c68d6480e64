//! `shine simulate --raw`: the synthetic population as raw register files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use polars::prelude::*;

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

/// The row groups that polars' `ParquetWriter::finish` cuts a frame of one chunk into:
/// one group below 512² rows; otherwise `rows / 512²` groups of `rows / groups` rows,
/// the last one also taking the remainder.
fn row_groups(rows: usize) -> Vec<Range<usize>> {
    const GROUP: usize = 512 * 512;
    let groups = rows / GROUP;
    if groups <= 1 {
        return vec![0..rows];
    }
    let size = rows / groups;
    (0..groups)
        .map(|g| {
            g * size..if g + 1 == groups {
                rows
            } else {
                (g + 1) * size
            }
        })
        .collect()
}

/// Writes `rows` rows built group by group by `part`, with the options of
/// [`write_table`]: the same bytes as writing the whole frame, with one row group in
/// memory at a time.
fn write_parquet_in_groups(
    path: &Path,
    rows: usize,
    part: &mut dyn FnMut(Range<usize>) -> PolarsResult<DataFrame>,
) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut groups = row_groups(rows).into_iter();
    let first = part(groups.next().unwrap_or(0..0))?;
    let mut writer = ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Zstd(None))
        .batched(first.schema())?;
    writer.write_batch(&first)?;
    drop(first);
    for range in groups {
        writer.write_batch(&part(range)?)?;
    }
    writer.finish()?;
    drop(writer);
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::row_groups;

    #[test]
    fn row_groups_cover_the_rows_as_polars_cuts_them() {
        assert_eq!(row_groups(0), vec![0..0]);
        assert_eq!(row_groups(262_143), vec![0..262_143]);
        assert_eq!(row_groups(524_287), vec![0..524_287]);
        // 1,000,000 rows: 3 groups of 333,333, the last with the remainder.
        assert_eq!(
            row_groups(1_000_000),
            vec![0..333_333, 333_333..666_666, 666_666..1_000_000]
        );
    }
}
