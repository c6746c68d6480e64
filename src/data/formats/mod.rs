//! Reading statistical packages' data files: SAS datasets (`.sas7bdat`) and Stata
//! datasets (`.dta`, releases 114–119), in chunks of rows, as polars frames.
//!
//! Both readers stream: a file of any size is read a chunk of rows at a time, each chunk
//! handed to a callback and dropped before the next is decoded, so memory is bounded by
//! the chunk size, not the file. The parsing of the binary formats is done by the
//! `sas7bdat` and `dta` crates; this module decides what the values mean, as R haven
//! does, so that a file reads the same in `shine` as in R:
//!
//! | stored | read as |
//! |---|---|
//! | SAS numeric with a date format (`DATE`, `DDMMYY`, `MMDDYY`, `YYMMDD`, `WEEKDATE`, `E8601DA`, `B8601DA`, `IS8601DA`) | Date |
//! | SAS numeric with a date-time format (`DATETIME`, `E8601DT`, `B8601DT`, `IS8601DT`) | Datetime (µs, no time zone) |
//! | SAS numeric with a time format (`TIME`, `HHMM`, `E8601TM`, `B8601TM`, `IS8601TM`) | Float64: seconds since midnight |
//! | other SAS numerics, Stata `byte`/`int`/`long`/`float`/`double` | Float64 (Stata `%td`/`%d` → Date, `%tc`/`%tC` → Datetime) |
//! | SAS and Stata missing values (`.`, `.A`–`.Z`, `._`, `.a`–`.z`) | null |
//! | text | String (SAS: trailing blanks removed; an empty value is null) |
//!
//! Text is decoded from the file's declared encoding (SAS: Latin-1, WLATIN1, UTF-8, ...;
//! Stata 118+: UTF-8, earlier releases: Windows-1252) to UTF-8.
//!
//! Stata datasets are also written, a chunk of rows at a time ([`dta_write`]).

use std::path::Path;

use polars::prelude::*;

pub mod dta;
pub mod dta_write;
pub mod sas;
mod temporal;
mod views;

#[cfg(test)]
mod tests;

/// Rows per chunk when a caller has no reason to choose: about 8 MB of doubles for a
/// register of 16 numeric variables.
pub const DEFAULT_CHUNK_ROWS: usize = 65_536;

/// A data file of a statistical package that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not what its name says, or its header or metadata are damaged.
    #[error("{file}: not a readable {format} file: {message}")]
    Header {
        file: String,
        format: &'static str,
        message: String,
    },
    /// The data part is damaged: the message says where reading stopped.
    #[error("{file}, row {row}{variable}: {message}")]
    Data {
        file: String,
        /// The first row that could not be read, numbered as the readers number rows: row
        /// 2 is the first observation, as if the variable names were row 1.
        row: u64,
        /// `, column NAME` when one variable is to blame, otherwise empty.
        variable: String,
        message: String,
    },
    /// The caller's handling of a chunk failed (e.g. writing it).
    #[error("{file}: {source}")]
    Sink {
        file: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Which package wrote a file, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageFormat {
    Sas7bdat,
    Stata,
}

impl PackageFormat {
    /// `.sas7bdat` or `.dta` (any case); `None` for any other file.
    pub fn from_path(path: &Path) -> Option<PackageFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "sas7bdat" => Some(PackageFormat::Sas7bdat),
            "dta" => Some(PackageFormat::Stata),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PackageFormat::Sas7bdat => "SAS7BDAT",
            PackageFormat::Stata => "Stata",
        }
    }
}

/// What a variable holds once read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    Number,
    Text,
    Date,
    DateTime,
    /// Seconds since midnight (SAS time formats).
    Time,
}

impl ValueKind {
    /// The polars type of a column of this kind.
    pub fn dtype(self) -> DataType {
        match self {
            ValueKind::Number | ValueKind::Time => DataType::Float64,
            ValueKind::Text => DataType::String,
            ValueKind::Date => DataType::Date,
            ValueKind::DateTime => DataType::Datetime(TimeUnit::Microseconds, None),
        }
    }
}

/// One variable of a package data file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Variable {
    pub name: String,
    pub kind: ValueKind,
    /// The display format the file gives it (`DATE9.`, `%td`, ...), if any.
    pub format: Option<String>,
    pub label: Option<String>,
}

/// A package data file opened for reading: its variables, its row count, and its rows in
/// chunks.
pub trait PackageFile {
    /// The file's name as messages show it.
    fn file(&self) -> &str;
    fn variables(&self) -> &[Variable];
    /// The number of observations the file holds (deleted SAS rows excluded).
    fn rows(&self) -> u64;
    /// Calls `sink` with consecutive chunks of at most `chunk_rows` rows, in file order,
    /// columns as `variables()` says; stops at the first error.
    ///
    /// # Errors
    /// A damaged file ([`FormatError::Data`], naming the row) or an error of `sink`.
    fn read_chunks(
        &self,
        chunk_rows: usize,
        sink: &mut dyn FnMut(DataFrame) -> Result<(), FormatError>,
    ) -> Result<(), FormatError>;

    /// The empty frame with this file's columns and types.
    fn empty_frame(&self) -> DataFrame {
        let columns: Vec<Column> = self
            .variables()
            .iter()
            .map(|v| Column::new_empty(v.name.as_str().into(), &v.kind.dtype()))
            .collect();
        DataFrame::new(0, columns).unwrap_or_default()
    }
}

/// How to read a package file.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Threads the SAS page decoder may use (the command's `--threads`); the rows come
    /// out in file order whatever the number.
    pub threads: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { threads: 1 }
    }
}

/// Opens a `.sas7bdat` or `.dta` file.
///
/// # Errors
/// An unknown extension, a missing file, or a damaged header.
pub fn open(path: &Path, options: ReadOptions) -> Result<Box<dyn PackageFile>, FormatError> {
    match PackageFormat::from_path(path) {
        Some(PackageFormat::Sas7bdat) => Ok(Box::new(sas::SasFile::open(path, options)?)),
        Some(PackageFormat::Stata) => Ok(Box::new(dta::DtaFile::open(path)?)),
        None => Err(FormatError::Header {
            file: path.display().to_string(),
            format: "SAS or Stata",
            message: "expected a .sas7bdat or .dta file".into(),
        }),
    }
}

/// Reads a whole `.sas7bdat` or `.dta` file into one frame (for the analysis commands,
/// which hold their table in memory anyway).
///
/// # Errors
/// As [`open`] and [`PackageFile::read_chunks`].
pub fn read_frame(path: &Path, options: ReadOptions) -> Result<DataFrame, FormatError> {
    let file = open(path, options)?;
    let mut frame = file.empty_frame();
    let name = file.file().to_string();
    file.read_chunks(DEFAULT_CHUNK_ROWS, &mut |chunk| {
        frame
            .vstack_mut_owned(chunk)
            .map_err(|e| FormatError::Sink {
                file: name.clone(),
                source: Box::new(e),
            })?;
        Ok(())
    })?;
    frame.rechunk_mut();
    Ok(frame)
}

/// Builds a Float64 column from values and a missing-value test.
fn float_column(name: &str, values: impl Iterator<Item = Option<f64>>) -> Column {
    Float64Chunked::from_iter_options(name.into(), values)
        .into_series()
        .into_column()
}

/// Builds a Date column from days since 1970-01-01.
fn date_column(name: &str, days: impl Iterator<Item = Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), days)
        .into_date()
        .into_series()
        .into_column()
}

/// Builds a Datetime column from microseconds since 1970-01-01T00:00:00.
fn datetime_column(name: &str, micros: impl Iterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), micros)
        .into_datetime(TimeUnit::Microseconds, None)
        .into_series()
        .into_column()
}
