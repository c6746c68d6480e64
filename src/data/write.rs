//! Writing extract tables (CSV or Parquet) in the dictionary's format.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use polars::prelude::*;

use super::read::FileFormat;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Polars { path: String, source: PolarsError },
}

/// Writes a table: CSV with a comma delimiter, `.` decimals, ISO dates and a header; or
/// Parquet (zstd, with statistics). The same frame always gives the same bytes.
pub fn write_table(
    frame: &mut DataFrame,
    path: &Path,
    format: FileFormat,
) -> Result<(), WriteError> {
    let shown = path.display().to_string();
    let io = |source| WriteError::Io {
        path: shown.clone(),
        source,
    };
    let pl = |source| WriteError::Polars {
        path: shown.clone(),
        source,
    };
    let file = File::create(path).map_err(io)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    match format {
        FileFormat::Csv => write_csv(frame, &mut out).map_err(pl)?,
        FileFormat::Parquet => {
            ParquetWriter::new(&mut out)
                .with_compression(ParquetCompression::Zstd(None))
                .finish(frame)
                .map_err(pl)?;
        }
        FileFormat::Sas7bdat | FileFormat::Stata => {
            return Err(pl(PolarsError::InvalidOperation(
                "SAS and Stata files are read, not written: write .csv or .parquet".into(),
            )))
        }
    }
    out.flush().map_err(io)?;
    Ok(())
}

/// Writes a frame as CSV: comma delimiter, header, ISO dates.
pub fn write_csv<W: Write>(frame: &mut DataFrame, out: &mut W) -> Result<(), PolarsError> {
    CsvWriter::new(out)
        .include_header(true)
        .with_separator(b',')
        .with_date_format(Some("%Y-%m-%d".into()))
        .finish(frame)
}
