//! `shine convert`: SAS and Stata datasets to Parquet or CSV, streaming.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::Globals;
use crate::data::convert::{
    convert_file, expand_inputs, open_all, plan_targets, Compression, ConvertError, ConvertOptions,
    OutputFormat,
};
use crate::data::formats::ReadOptions;
use crate::pipeline::progress::Progress;
use crate::InputError;

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// SAS (.sas7bdat) or Stata (.dta) files, or folders of them.
    #[arg(value_name = "FILE", required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder (yearly register files go to REGISTER/year=YYYY/), or one output
    /// file when converting one file.
    #[arg(long, value_name = "DIR|FILE")]
    out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Parquet)]
    format: Format,
    /// Parquet compression: snappy (read by every reader), zstd (smaller, slower to
    /// write), lz4 (fastest), none.
    #[arg(long, value_enum, default_value_t = Codec::Snappy)]
    compression: Codec,
    /// Lower-case the variable names (PNR → pnr).
    #[arg(long)]
    lower_case: bool,
    /// Rows read and written at a time (memory grows with it).
    #[arg(long, value_name = "N", default_value_t = CHUNK_ROWS, hide = true)]
    chunk_rows: usize,
}

/// Rows per chunk, and so per Parquet row group. Chunks of 32,768 rows took less CPU
/// time than 65,536 or 131,072 (a 5,000,000-row register of 10 variables: 2.3 s
/// against 2.5 s and 3.2 s; a chunk's columns then stay in the processor's caches
/// between decoding and encoding), and a row group of 32,768 rows is still large
/// enough for readers.
const CHUNK_ROWS: usize = 32_768;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Parquet,
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Codec {
    Snappy,
    Zstd,
    Lz4,
    None,
}

pub fn run(args: ConvertArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    crate::memory::reuse_freed_memory();
    let format = match args.format {
        Format::Parquet => OutputFormat::Parquet,
        Format::Csv => OutputFormat::Csv,
    };
    let options = ConvertOptions {
        format,
        compression: match args.compression {
            Codec::Snappy => Compression::Snappy,
            Codec::Zstd => Compression::Zstd,
            Codec::Lz4 => Compression::Lz4,
            Codec::None => Compression::Uncompressed,
        },
        lower_case: args.lower_case,
        chunk_rows: args.chunk_rows.max(1),
        read: ReadOptions {
            threads: globals.threads,
        },
    };
    let bad = |e: ConvertError| -> anyhow::Error {
        if e.is_bad_input() {
            InputError(e.to_string()).into()
        } else {
            e.into()
        }
    };
    let files = expand_inputs(&args.inputs).map_err(bad)?;
    let targets = plan_targets(&files, &args.out, format).map_err(bad)?;
    let sources = open_all(&targets, options.read).map_err(bad)?;
    let total: u64 = sources.iter().map(|s| s.rows()).sum();
    let progress = Progress::new(globals.quiet);
    let stage = progress.stage("convert", total);
    for (source, target) in sources.iter().zip(&targets) {
        stage.step(&target.input.display().to_string());
        let converted = convert_file(source.as_ref(), target, &options, &mut |rows| {
            stage.advance_by(rows)
        })
        .map_err(bad)?;
        if !globals.quiet {
            stage.println(&format!(
                "{} → {} ({} rows, {} variables)",
                converted.input, converted.output, converted.rows, converted.variables
            ));
        }
    }
    stage.finish();
    Ok(ExitCode::SUCCESS)
}
