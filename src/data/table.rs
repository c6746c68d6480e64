//! Reading any analysis table (for `shine match`, `shine did`, `shine mixed`), and
//! turning its columns into the typed inputs of the `stats` layer.
//!
//! Unlike the extracts, these tables have no dictionary: column types are inferred from
//! the whole file (numbers, `true`/`false`, dates, otherwise text). CSV may use a comma
//! or a semicolon (detected); with a semicolon, `,` is the decimal mark. A blank line is
//! skipped but counted: rows in messages are a spreadsheet's (see [`super::rows`]).

use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use super::read::{detect_delimiter, FileFormat};
use super::rows::{without_blank_rows, RowNumbers};

mod plain_csv;
use crate::stats::design::{ColumnData, DataSet};

/// A table that cannot be read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    #[error("{file}: {message}")]
    Unreadable { file: String, message: String },
    #[error("{file}: no column `{column}`{hint}")]
    MissingColumn {
        file: String,
        column: String,
        hint: String,
    },
    #[error("{file}: column `{column}` has type {dtype}, which cannot be used in a model")]
    UnusableColumn {
        file: String,
        column: String,
        dtype: String,
    },
    /// A column of numbers with a few cells of text: read as categories, it would give
    /// one coefficient per distinct value, which is never what was meant.
    #[error("{file}, row {row}, column {column}: `{value}` in a column of numbers ({count} cell(s) are not numbers: {cells}) — expected a number (empty or NA when missing), or factor({column}) in the formula to use the column as categories")]
    TextAmongNumbers {
        file: String,
        /// The first cell that is not a number.
        row: usize,
        column: String,
        value: String,
        count: usize,
        cells: String,
    },
    #[error("{file}, row {row}, column {column}: `{column}` appears twice in the header — expected unique column names")]
    DuplicateColumn {
        file: String,
        row: usize,
        column: String,
    },
    #[error("{file}, row {row}, column {column}: {message}")]
    BadValue {
        file: String,
        row: usize,
        column: String,
        message: String,
    },
}

/// Where a table came from, for messages: the file as the user named it (shown by
/// `Display`) and the spreadsheet row of each record.
#[derive(Debug, Clone)]
pub struct TableSource {
    pub file: String,
    pub rows: RowNumbers,
}

impl TableSource {
    /// A file whose records start on row 2 (a header on row 1, no blank lines).
    pub fn new(file: &str) -> TableSource {
        TableSource {
            file: file.to_string(),
            rows: RowNumbers::after_header(),
        }
    }

    /// The spreadsheet row of the record at `index`.
    pub fn row(&self, index: usize) -> usize {
        self.rows.row(index)
    }
}

impl std::fmt::Display for TableSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.file)
    }
}

/// Reads a CSV, Parquet, SAS (`.sas7bdat`) or Stata (`.dta`) file, inferring CSV column
/// types from the data.
pub fn read_any(path: &Path) -> Result<DataFrame, TableError> {
    read_any_table(path).map(|(frame, _)| frame)
}

/// [`read_any`], with where the table came from: the file named as in `path` and the
/// spreadsheet row of each record (blank CSV lines are skipped, not read as records).
pub fn read_any_table(path: &Path) -> Result<(DataFrame, TableSource), TableError> {
    let file = path.display().to_string();
    let mut source = TableSource::new(&file);
    let unreadable = |message: String| TableError::Unreadable {
        file: file.clone(),
        message,
    };
    if super::formats::PackageFormat::from_path(path).is_some() {
        // The pool the command runs in bounds the decoder's threads.
        let options = super::formats::ReadOptions {
            threads: rayon::current_num_threads(),
        };
        let frame =
            super::formats::read_frame(path, options).map_err(|e| TableError::Unreadable {
                file: file.clone(),
                message: e.to_string(),
            })?;
        if frame.height() == 0 {
            return Err(unreadable("the table has no rows".into()));
        }
        return Ok((frame, source));
    }
    let format = FileFormat::from_path(path).ok_or_else(|| {
        unreadable("unknown file type: expected .csv, .parquet, .sas7bdat or .dta".into())
    })?;
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    let frame = match format {
        FileFormat::Parquet => {
            super::read::parquet::read_parquet(bytes).map_err(|e| unreadable(e.to_string()))?
        }
        // Named by their extension, these were read above.
        FileFormat::Sas7bdat | FileFormat::Stata => {
            return Err(unreadable(
                "a SAS or Stata file must end in .sas7bdat or .dta".into(),
            ))
        }
        FileFormat::Csv => {
            let (frame, rows) = csv_frame(&bytes, &file)?;
            source.rows = rows;
            frame
        }
    };
    if frame.height() == 0 {
        return Err(unreadable("the table has no rows".into()));
    }
    Ok((frame, source))
}

/// A table read for a model: the whole frame, or only the model's columns.
pub enum ModelTable {
    Frame(DataFrame),
    /// The columns asked for, as [`to_dataset`] makes them.
    Columns(DataSet),
}

/// [`read_any_table`] for a model over `columns`: a plain CSV file (see
/// [`plain_csv`]) is read straight into those columns, on every thread, without a data
/// frame; any other file as [`read_any_table`] reads it, with the same messages.
pub fn read_model_table(
    path: &Path,
    columns: &[String],
) -> Result<(ModelTable, TableSource), TableError> {
    let plain = super::formats::PackageFormat::from_path(path).is_none()
        && matches!(FileFormat::from_path(path), Some(FileFormat::Csv));
    if !plain {
        let (frame, source) = read_any_table(path)?;
        return Ok((ModelTable::Frame(frame), source));
    }
    let file = path.display().to_string();
    let mut source = TableSource::new(&file);
    let bytes = FileBytes::of(path).map_err(|e| TableError::Unreadable {
        file: file.clone(),
        message: e.to_string(),
    })?;
    if let Some(data) = plain_csv::read_plain_csv(&bytes, columns) {
        return Ok((ModelTable::Columns(data), source));
    }
    let (frame, rows) = csv_frame(&bytes, &file)?;
    source.rows = rows;
    if frame.height() == 0 {
        return Err(TableError::Unreadable {
            file,
            message: "the table has no rows".into(),
        });
    }
    Ok((ModelTable::Frame(frame), source))
}

/// A file's bytes, mapped into memory where the system can: the threads that read a
/// large table then take its pages straight from the page cache, without first copying
/// them into a buffer of the process on one thread (about 40 ms of a 64 MB file).
enum FileBytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl FileBytes {
    fn of(path: &Path) -> std::io::Result<FileBytes> {
        let file = std::fs::File::open(path)?;
        if file.metadata()?.len() > 0 {
            // SAFETY: the map is only read. Another program that truncates the file while
            // it is mapped can make reading a page fail (SIGBUS); polars maps its input
            // files in the same way.
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                return Ok(FileBytes::Mapped(map));
            }
        }
        std::fs::read(path).map(FileBytes::Read)
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(map) => map,
            FileBytes::Read(bytes) => bytes,
        }
    }
}

/// The frame of a CSV file's bytes (`file` names it in messages), and the spreadsheet
/// row of each record.
fn csv_frame(bytes: &[u8], file: &str) -> Result<(DataFrame, RowNumbers), TableError> {
    let unreadable = |message: String| TableError::Unreadable {
        file: file.to_string(),
        message,
    };
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(unreadable("the file is empty".into()));
    }
    let delimiter = detect_delimiter(body);
    if let Err(e) = std::str::from_utf8(body) {
        let row = super::rows::CsvRows::new(body, delimiter)
            .find(|r| r.next > e.valid_up_to())
            .map_or(1, |r| r.row);
        return Err(TableError::BadValue {
            file: file.to_string(),
            row,
            column: invalid_utf8_column(body, delimiter, e.valid_up_to()),
            message:
                "bytes that are not valid UTF-8 — expected UTF-8 text (save the file as UTF-8)"
                    .into(),
        });
    }
    // A blank line is not a record: it is dropped here and counted in the rows. Without
    // quotes, carriage returns or two line ends in a row there is none to drop, and the
    // rows are numbered from 2 (found in a few fast scans instead of one slow one).
    let (header_row, rows, body) = if lines_without_blanks(body) {
        (
            1,
            RowNumbers::after_header(),
            std::borrow::Cow::Borrowed(body),
        )
    } else {
        let layout = without_blank_rows(body, delimiter);
        (layout.header_row, layout.records, layout.body)
    };
    if let Some(column) = duplicated_header(&body, delimiter) {
        return Err(TableError::DuplicateColumn {
            file: file.to_string(),
            row: header_row,
            column,
        });
    }
    // Infer types from the first rows; if a later value does not fit, infer
    // again from every row.
    let read = |infer: Option<usize>| {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(infer)
            .with_parse_options(
                CsvParseOptions::default()
                    .with_separator(delimiter)
                    .with_decimal_comma(delimiter == b';')
                    .with_null_values(Some(NullValues::AllColumns(vec!["NA".into(), "".into()]))),
            )
            .into_reader_with_file_handle(Cursor::new(body.as_ref()))
            .finish()
    };
    let frame = read(Some(10_000))
        .or_else(|_| read(None))
        .map_err(|e| unreadable(e.to_string()))?;
    Ok((frame, rows))
}

/// Whether CSV bytes are lines of which none is blank, so that every line is a row and
/// a record (or the header): no quote (a value spanning lines), no carriage return, no
/// line end at the start or right after another.
fn lines_without_blanks(body: &[u8]) -> bool {
    if body.first() == Some(&b'\n') || body.contains(&b'"') || body.contains(&b'\r') {
        return false;
    }
    // Blocks compared whole (vector compares), stopping at the first block with a blank.
    let (ends, nexts) = (
        &body[..body.len().saturating_sub(1)],
        body.get(1..).unwrap_or(&[]),
    );
    !ends
        .chunks(1 << 14)
        .zip(nexts.chunks(1 << 14))
        .any(|(a, b)| {
            a.iter().zip(b).fold(false, |blank, (&x, &y)| {
                blank | ((x == b'\n') & (y == b'\n'))
            })
        })
}

/// The header name of the column holding byte `at` of a CSV body (for an encoding
/// error), or `#N` when the header itself is at fault.
fn invalid_utf8_column(body: &[u8], delimiter: u8, at: usize) -> String {
    let line_start = body[..at.min(body.len())]
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(0, |i| i + 1);
    let index = body[line_start..at.min(body.len())]
        .iter()
        .filter(|&&b| b == delimiter)
        .count();
    let header = body
        .split(|&b| b == b'\n' || b == b'\r')
        .find(|line| !line.is_empty())
        .unwrap_or(&[]);
    let name = header
        .split(|&b| b == delimiter)
        .nth(index)
        .and_then(|n| std::str::from_utf8(n).ok())
        .map(|n| n.trim().trim_matches('"').to_string());
    match name {
        Some(n) if line_start > 0 && !n.is_empty() => n,
        _ => format!("#{}", index + 1),
    }
}

/// The closest column name, for "did you mean" hints.
pub fn did_you_mean(frame: &DataFrame, column: &str) -> String {
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    crate::stats::design::closest_name(column, &names)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default()
}

/// Converts the named columns to the `stats` layer's data set: numbers (integers and
/// floats) to numeric, booleans to logical, text to categorical (levels in sorted byte
/// order, as R's `sort` in the C locale), dates to days since 1970-01-01.
///
/// A text column outside `categorical` whose cells are nearly all numbers is refused
/// ([`TableError::TextAmongNumbers`]), naming the cells that are not.
pub fn to_dataset(
    frame: &DataFrame,
    columns: &[String],
    source: &TableSource,
    categorical: &BTreeSet<String>,
) -> Result<DataSet, TableError> {
    // The columns are converted on the pool's threads and added in their given order.
    let file = source.file.as_str();
    let converted = crate::stats::map_indices(columns.len(), |k| {
        convert_column(frame, &columns[k], source, categorical)
    });
    let mut data = DataSet::new();
    for (name, data_column) in columns.iter().zip(converted) {
        data.push(name, data_column?)
            .map_err(|e| TableError::Unreadable {
                file: file.to_string(),
                message: e.to_string(),
            })?;
    }
    Ok(data)
}

/// One column of `frame`, converted as [`to_dataset`] describes.
fn convert_column(
    frame: &DataFrame,
    name: &str,
    source: &TableSource,
    categorical: &BTreeSet<String>,
) -> Result<ColumnData, TableError> {
    let file = source.file.as_str();
    // Names match whatever their case (registers use upper case: PNR, KOEN).
    let column = frame
        .column(name)
        .ok()
        .or_else(|| {
            frame
                .columns()
                .iter()
                .find(|c| c.name().as_str().eq_ignore_ascii_case(name))
        })
        .ok_or_else(|| TableError::MissingColumn {
            file: file.to_string(),
            column: name.to_string(),
            hint: did_you_mean(frame, name),
        })?;
    let series = column.as_materialized_series();
    // Categorical text is text; a timestamp counts in days, as a date does.
    let series = &match series.dtype() {
        DataType::Categorical(..) | DataType::Enum(..) => series
            .cast(&DataType::String)
            .unwrap_or_else(|_| series.clone()),
        DataType::Datetime(..) => series
            .cast(&DataType::Float64)
            .map(|s| s / timestamp_units_per_day(series.dtype()))
            .unwrap_or_else(|_| series.clone()),
        _ => series.clone(),
    };
    let dtype = series.dtype().clone();
    let unusable = || TableError::UnusableColumn {
        file: file.to_string(),
        column: name.to_string(),
        dtype: dtype.to_string(),
    };
    let data_column = if dtype.is_primitive_numeric() || matches!(dtype, DataType::Date) {
        let values = series.cast(&DataType::Float64).map_err(|_| unusable())?;
        let values = values.f64().map_err(|_| unusable())?;
        ColumnData::Numeric(values.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    } else if let Ok(b) = series.bool() {
        ColumnData::Logical(b.iter().collect())
    } else if let Ok(s) = series.str() {
        let values: Vec<Option<&str>> = s.iter().collect();
        let column = ColumnData::from_strings(&values);
        if !categorical.contains(name) && mostly_numbers(&column) {
            check_text_among_numbers(&values, source, name)?;
        }
        column
    } else {
        return Err(unusable());
    };
    Ok(data_column)
}

/// Whether a text column has cells that are not numbers among at least
/// [`NUMERIC_SHARE`] that are, counted over its distinct values (a column of a few
/// labels is parsed a few times, not once per row); only then does
/// [`check_text_among_numbers`] look at every row.
fn mostly_numbers(column: &ColumnData) -> bool {
    let ColumnData::Categorical { codes, levels } = column else {
        return false;
    };
    let mut count = vec![0usize; levels.len()];
    for code in codes.iter().flatten() {
        if let Some(c) = count.get_mut(code as usize) {
            *c += 1;
        }
    }
    let present: usize = count.iter().sum();
    let numbers: usize = levels
        .iter()
        .zip(&count)
        .filter(|(level, _)| super::read::parse_decimal(level.trim()).is_some())
        .map(|(_, &c)| c)
        .sum();
    numbers < present && numbers as f64 >= NUMERIC_SHARE * present as f64
}

/// The share of a column's cells that must be numbers for its other cells to be taken
/// for mistakes rather than categories.
const NUMERIC_SHARE: f64 = 0.9;

/// How many of the cells that are not numbers a message names.
const CELLS_NAMED: usize = 5;

/// Refuses a text column whose cells are nearly all numbers, naming the others (rows as
/// a spreadsheet numbers them: the header is row 1).
fn check_text_among_numbers(
    values: &[Option<&str>],
    source: &TableSource,
    column: &str,
) -> Result<(), TableError> {
    let present = values.iter().flatten().count();
    let text: Vec<(usize, &str)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .filter(|(_, v)| super::read::parse_decimal(v.trim()).is_none())
        .collect();
    let numbers = present - text.len();
    if text.is_empty() || (numbers as f64) < NUMERIC_SHARE * present as f64 {
        return Ok(());
    }
    let mut cells: Vec<String> = text
        .iter()
        .take(CELLS_NAMED)
        .map(|(i, v)| format!("row {}: `{v}`", source.row(*i)))
        .collect();
    if text.len() > CELLS_NAMED {
        cells.push(format!("and {} more", text.len() - CELLS_NAMED));
    }
    let (first, value) = text.first().copied().unwrap_or((0, ""));
    Err(TableError::TextAmongNumbers {
        file: source.file.clone(),
        row: source.row(first),
        value: value.to_string(),
        column: column.to_string(),
        count: text.len(),
        cells: cells.join(", "),
    })
}

/// The first column name that appears twice in a CSV header, if any.
fn duplicated_header(body: &[u8], delimiter: u8) -> Option<String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(body);
    let header = reader.records().next()?.ok()?;
    let mut seen = BTreeSet::new();
    header
        .iter()
        .map(str::trim)
        .find(|name| !seen.insert(*name))
        .map(str::to_string)
}

/// Units of a timestamp column per day (to turn it into days since 1970-01-01).
fn timestamp_units_per_day(dtype: &DataType) -> f64 {
    match dtype {
        DataType::Datetime(TimeUnit::Nanoseconds, _) => 86_400e9,
        DataType::Datetime(TimeUnit::Microseconds, _) => 86_400e6,
        _ => 86_400e3,
    }
}
