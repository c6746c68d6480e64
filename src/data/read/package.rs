//! Extracts stored as SAS or Stata datasets, and the storage types that typed formats
//! (Parquet, SAS, Stata) use for a dictionary type without being it.

use std::path::Path;

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::{check_typed_frame, hex, FileFormat, FileInfo, TypedTable};
use crate::data::dictionary::{ColumnType, Table, TableName};
use crate::data::formats::{self, PackageFormat, ReadOptions};
use crate::data::problems::{Problem, ProblemKind, Problems};

/// Reads an extract stored as a `.sas7bdat` or `.dta` file.
pub(super) fn read_package_table(
    path: &Path,
    table: TableName,
    def: &Table,
    problems: &mut Problems,
) -> Option<TypedTable> {
    let file = path.display().to_string();
    let unreadable = |problems: &mut Problems, message: String| {
        problems.push(ProblemKind::FileUnreadable, Problem::new(&file, message));
    };
    let format = match PackageFormat::from_path(path) {
        Some(PackageFormat::Sas7bdat) => FileFormat::Sas7bdat,
        Some(PackageFormat::Stata) => FileFormat::Stata,
        None => {
            unreadable(problems, "expected a .sas7bdat or .dta file".into());
            return None;
        }
    };
    let sha256 = match file_sha256(path) {
        Ok(digest) => digest,
        Err(e) => {
            unreadable(problems, e.to_string());
            return None;
        }
    };
    // The pool the command runs in bounds the decoder's threads.
    let options = ReadOptions {
        threads: rayon::current_num_threads(),
    };
    let frame = match formats::read_frame(path, options) {
        Ok(frame) => frame,
        Err(e) => {
            // The error already names the file.
            let message = e.to_string();
            let message = message
                .strip_prefix(&format!("{file}: "))
                .or_else(|| message.strip_prefix(&format!("{file}, ")))
                .unwrap_or(&message)
                .to_string();
            unreadable(problems, message);
            return None;
        }
    };
    if frame.height() == 0 {
        problems.push(
            ProblemKind::NoDataRows,
            Problem::new(&file, "the file has variables but no rows"),
        );
        return None;
    }
    let frame = check_typed_frame(&file, &frame, def, problems)?;
    Some(TypedTable {
        info: FileInfo {
            table,
            path: file.clone(),
            format,
            delimiter: None,
            rows: frame.height(),
            sha256,
        },
        frame,
        rows: super::RowNumbers::after_header(),
    })
}

/// The SHA-256 of a file, read in blocks (the file may be large).
fn file_sha256(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// The column in the storage type the dictionary's `kind` is read from, where the file
/// holds the same values in another type: categorical text as text; SAS and Stata
/// numbers (always doubles) that are whole as integers for integer and 0/1 columns;
/// timestamps as their day for date columns. Anything else is returned as it is, and
/// checked (and reported) as it is.
pub(super) fn storage_for(series: &Series, kind: ColumnType) -> Series {
    let dtype = series.dtype();
    let cast = |to: &DataType| series.cast(to).unwrap_or_else(|_| series.clone());
    match (kind, dtype) {
        (_, DataType::Categorical(..) | DataType::Enum(..)) => cast(&DataType::String),
        (ColumnType::Integer | ColumnType::Boolean, DataType::Float32 | DataType::Float64) => {
            let Ok(values) = series.cast(&DataType::Float64) else {
                return series.clone();
            };
            let whole = values.f64().is_ok_and(|v| {
                v.iter()
                    .flatten()
                    .all(|x| x.fract() == 0.0 && x.abs() < 9.0e15)
            });
            if whole {
                cast(&DataType::Int64)
            } else {
                series.clone()
            }
        }
        (ColumnType::Date, DataType::Datetime(..)) => cast(&DataType::Date),
        _ => series.clone(),
    }
}
