//! Reading extracts: CSV or Parquet files into typed data frames whose schema comes from
//! the data dictionary — nothing is inferred from the data.
//!
//! CSV: UTF-8 with or without a byte-order mark, comma or semicolon delimiter (detected
//! from the header line), `.` or `,` as decimal mark, ISO dates. Parquet: columns either
//! of the dictionary's type or as strings (parsed as CSV fields are).
//!
//! Every value is checked as it is converted (type, range, allowed codes, required), and
//! each problem is recorded with its file, row (as a spreadsheet numbers it, blank lines
//! counted: see [`super::rows`]) and column, so a report lists every problem rather than
//! stopping at the first.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::dictionary::{Column as ColumnDef, ColumnType, Table, TableName};
use super::problems::{Problem, ProblemKind, Problems};
use super::rows::{CsvRows, RowNumbers};

// The calendar lives in `super::calendar`; its conversions stay reachable here, where
// the rest of the crate has always found them.
pub use super::calendar::{
    civil_from_days, days_from_civil, days_from_date, format_date, parse_iso_date,
};

/// The storage format of an extract file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Parquet,
    /// A SAS dataset (read only).
    Sas7bdat,
    /// A Stata dataset (read only).
    Stata,
}

impl FileFormat {
    pub fn from_path(path: &Path) -> Option<FileFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" | "txt" => Some(FileFormat::Csv),
            "parquet" | "pq" => Some(FileFormat::Parquet),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Parquet => "parquet",
            FileFormat::Sas7bdat => "sas7bdat",
            FileFormat::Stata => "dta",
        }
    }
}

/// What a file was, for the manifest and the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileInfo {
    pub table: TableName,
    pub path: String,
    pub format: FileFormat,
    /// The CSV delimiter found in the header line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    pub rows: usize,
    pub sha256: String,
}

/// A table read and converted to the dictionary's types.
///
/// Columns present in the file and in the dictionary, in dictionary order, with polars
/// types: string and enumeration → String, integer → Int64, float → Float64,
/// date → Date, boolean → Boolean. Values that failed their checks are null here and
/// recorded as problems.
#[derive(Debug, Clone)]
pub struct TypedTable {
    pub info: FileInfo,
    pub frame: DataFrame,
    /// The spreadsheet row of each record.
    pub rows: RowNumbers,
}

impl TypedTable {
    /// The spreadsheet row of the record at `index` (blank lines counted; header = row 1
    /// when the file starts with it).
    pub fn row_of(&self, index: usize) -> usize {
        self.rows.row(index)
    }
}

/// Finds the file of each table: an explicit path wins; otherwise `NAME.csv` or
/// `NAME.parquet` in `folder`. Returns `Err` with a message when both exist.
pub fn locate(
    folder: Option<&Path>,
    explicit: Option<&Path>,
    table: TableName,
) -> Result<Option<PathBuf>, String> {
    if let Some(path) = explicit {
        return Ok(Some(path.to_path_buf()));
    }
    let Some(folder) = folder else {
        return Ok(None);
    };
    let found: Vec<PathBuf> = ["csv", "parquet", "pq", "sas7bdat", "dta"]
        .iter()
        .map(|ext| folder.join(format!("{}.{ext}", table.as_str())))
        .filter(|p| p.is_file())
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.into_iter().next()),
        _ => Err(format!(
            "{} has more than one file for table {table} ({}); name one with --{table}",
            folder.display(),
            found
                .iter()
                .filter_map(|p| p.file_name().and_then(|n| n.to_str()))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Reads one extract file. Returns `None` when the file cannot be read as a table at all
/// (the reasons are in `problems`); otherwise the typed table, whose cell-level problems
/// are also in `problems`.
pub fn read_table(
    path: &Path,
    table: TableName,
    def: &Table,
    problems: &mut Problems,
) -> Option<TypedTable> {
    let file = path.display().to_string();
    if super::formats::PackageFormat::from_path(path).is_some() {
        return package::read_package_table(path, table, def, problems);
    }
    let Some(format) = FileFormat::from_path(path) else {
        problems.push(
            ProblemKind::FileUnreadable,
            Problem::new(
                &file,
                "unknown file type: expected .csv, .parquet, .sas7bdat or .dta",
            ),
        );
        return None;
    };
    match std::fs::read(path) {
        Ok(bytes) => read_bytes(&file, bytes, format, table, def, problems),
        Err(e) => {
            problems.push(
                ProblemKind::FileUnreadable,
                Problem::new(&file, e.to_string()),
            );
            None
        }
    }
}

/// Reads one extract from memory; `file` is the name used in messages.
pub fn read_bytes(
    file: &str,
    bytes: Vec<u8>,
    format: FileFormat,
    table: TableName,
    def: &Table,
    problems: &mut Problems,
) -> Option<TypedTable> {
    let sha256 = hex(&Sha256::digest(&bytes));
    let (frame, delimiter, rows) = match format {
        FileFormat::Csv => {
            let (frame, delimiter, rows) = read_csv(file, &bytes, def, problems)?;
            (frame, Some(delimiter as char), rows)
        }
        FileFormat::Parquet => (
            read_parquet(file, bytes, def, problems)?,
            None,
            RowNumbers::after_header(),
        ),
        FileFormat::Sas7bdat | FileFormat::Stata => {
            problems.push(
                ProblemKind::FileUnreadable,
                Problem::new(
                    file,
                    "SAS and Stata files are read from a path, not from memory",
                ),
            );
            return None;
        }
    };
    Some(TypedTable {
        info: FileInfo {
            table,
            path: file.to_string(),
            format,
            delimiter,
            rows: frame.height(),
            sha256,
        },
        frame,
        rows,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The delimiter of a CSV file: semicolon when the header line has more semicolons than
/// commas outside quotes, comma otherwise.
pub fn detect_delimiter(bytes: &[u8]) -> u8 {
    let header = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let (mut commas, mut semicolons, mut quoted) = (0usize, 0usize, false);
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas {
        b';'
    } else {
        b','
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn read_csv(
    file: &str,
    bytes: &[u8],
    def: &Table,
    problems: &mut Problems,
) -> Option<(DataFrame, u8, RowNumbers)> {
    let first_column = def.columns.first().map_or("", |c| c.name.as_str());
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        problems.push(
            ProblemKind::EmptyFile,
            Problem::new(
                file,
                "the file is empty: expected a header row naming the columns",
            )
            .row(1)
            .column(first_column),
        );
        return None;
    }
    let delimiter = detect_delimiter(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    // The spreadsheet rows of the header and the records, found beside the reader.
    let mut rows = CsvRows::new(bytes, delimiter);
    let mut numbers = RowNumbers::after_header();

    // The header.
    match reader.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            problems.push(
                ProblemKind::EmptyFile,
                Problem::new(file, "the file has no header row")
                    .row(1)
                    .column(first_column),
            );
            return None;
        }
        Err(e) => {
            problems.push(
                ProblemKind::MalformedCsv,
                Problem::new(file, e.to_string()).row(1),
            );
            return None;
        }
    }
    let header_row = rows.next_record_row().unwrap_or(1);
    let mut header = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        match std::str::from_utf8(field) {
            Ok(name) => header.push(name.trim().to_string()),
            Err(_) => {
                problems.push(
                    ProblemKind::NotUtf8,
                    Problem::new(
                        file,
                        "the header is not valid UTF-8 text (save the file as UTF-8)",
                    )
                    .row(header_row)
                    .column(&format!("#{}", i + 1)),
                );
                return None;
            }
        }
    }
    let mut layout = Layout::new(file, &header, header_row, def, problems)?;

    let mut row = header_row;
    let mut records = 0usize;
    let mut structural_error = false;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                row = rows.next_record_row().unwrap_or(row + 1);
                problems.push(
                    ProblemKind::MalformedCsv,
                    Problem::new(file, e.to_string()).row(row),
                );
                structural_error = true;
                break;
            }
        }
        // The row the record is on: blank lines count, as a spreadsheet shows them, but
        // are not records (csv skips them).
        row = rows.next_record_row().unwrap_or(row + 1);
        numbers.note(records, row);
        records += 1;
        if record.len() != header.len() {
            problems.push(
                ProblemKind::RaggedRow,
                Problem::new(
                    file,
                    format!(
                        "{} fields, but the header has {}",
                        record.len(),
                        header.len()
                    ),
                )
                .row(row)
                .column(
                    header
                        .get(record.len().min(header.len().saturating_sub(1)))
                        .map_or("", |s| s),
                ),
            );
            structural_error = true;
            continue;
        }
        if structural_error {
            continue;
        }
        if let Err(e) = std::str::from_utf8(record.as_slice()) {
            let column = utf8_error_column(&record, &header, e.valid_up_to());
            problems.push(
                ProblemKind::NotUtf8,
                Problem::new(
                    file,
                    "bytes that are not valid UTF-8 (save the file as UTF-8)",
                )
                .row(row)
                .column(&column),
            );
            structural_error = true;
            continue;
        }
        for (slot, field) in layout.slots.iter_mut().zip(record.iter()) {
            if let Some(builder) = slot {
                // Checked as valid UTF-8 for the whole record above.
                let text = std::str::from_utf8(field).unwrap_or_default();
                builder.push_raw(text, row, problems);
            }
        }
    }
    if structural_error {
        return None;
    }
    if records == 0 {
        problems.push(
            ProblemKind::NoDataRows,
            Problem::new(file, "the file has a header but no data rows")
                .row(header_row + 1)
                .column(first_column),
        );
        return None;
    }
    Some((layout.finish(records)?, delimiter, numbers))
}

fn utf8_error_column(record: &csv::ByteRecord, header: &[String], valid_up_to: usize) -> String {
    let mut consumed = 0usize;
    for (i, field) in record.iter().enumerate() {
        consumed += field.len();
        if consumed > valid_up_to || std::str::from_utf8(field).is_err() {
            return header.get(i).cloned().unwrap_or_default();
        }
    }
    String::new()
}

/// Which file column feeds which dictionary column.
struct Layout<'a> {
    /// One slot per file column: the builder of its dictionary column, or `None` when
    /// the column is not in the dictionary.
    slots: Vec<Option<ColumnBuilder<'a>>>,
    def: &'a Table,
    file: &'a str,
}

impl<'a> Layout<'a> {
    /// Matches the header to the dictionary; `None` when a column appears twice, which
    /// makes the file ambiguous.
    fn new(
        file: &'a str,
        header: &[String],
        header_row: usize,
        def: &'a Table,
        problems: &mut Problems,
    ) -> Option<Layout<'a>> {
        let mut slots = Vec::with_capacity(header.len());
        let mut ok = true;
        for (i, name) in header.iter().enumerate() {
            if header[..i].iter().any(|h| h.eq_ignore_ascii_case(name)) {
                problems.push(
                    ProblemKind::DuplicateColumn,
                    Problem::new(file, "the column appears more than once in the header")
                        .row(header_row)
                        .column(name),
                );
                ok = false;
            }
            // Registers name their variables in upper case (PNR, KOEN): names match
            // whatever their case.
            let matched = def.column(name).or_else(|| {
                def.columns
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(name))
            });
            match matched {
                Some(col) => slots.push(Some(ColumnBuilder::new(file, col))),
                None => {
                    problems.push(
                        ProblemKind::UnknownColumn,
                        Problem::new(file, format!("not a column of table {}", def.name))
                            .row(header_row)
                            .column(name),
                    );
                    slots.push(None);
                }
            }
        }
        for col in &def.columns {
            if col.required && !header.iter().any(|h| h.eq_ignore_ascii_case(&col.name)) {
                problems.push(
                    ProblemKind::MissingColumn,
                    Problem::new(
                        file,
                        format!("required column {} is not in the header", col.name),
                    )
                    .row(header_row)
                    .column(&col.name),
                );
            }
        }
        ok.then_some(Layout { slots, def, file })
    }

    /// The frame in dictionary order.
    fn finish(self, height: usize) -> Option<DataFrame> {
        let mut built: Vec<(usize, Column)> = self
            .slots
            .into_iter()
            .flatten()
            .filter_map(|b| {
                let order = self.def.columns.iter().position(|c| c.name == b.def.name)?;
                Some((order, b.finish()))
            })
            .collect();
        built.sort_by_key(|(order, _)| *order);
        let _ = self.file;
        DataFrame::new(height, built.into_iter().map(|(_, c)| c).collect()).ok()
    }
}

/// Converts the values of one column to its dictionary type, recording problems.
struct ColumnBuilder<'a> {
    file: &'a str,
    def: &'a ColumnDef,
    values: Values,
    bounds: Bounds,
}

/// A column's limits, resolved once rather than per value.
struct Bounds {
    lo: Option<f64>,
    hi: Option<f64>,
    lo_day: Option<i32>,
    hi_day: Option<i32>,
    /// Missing-value codes that are numbers (e.g. -9), for typed Parquet columns.
    missing_numbers: Vec<f64>,
}

impl Bounds {
    fn of(def: &ColumnDef) -> Bounds {
        Bounds {
            lo: def.min.as_ref().and_then(|b| b.as_f64()),
            hi: def.max.as_ref().and_then(|b| b.as_f64()),
            lo_day: def
                .min
                .as_ref()
                .and_then(|b| b.as_date())
                .map(days_from_date),
            hi_day: def
                .max
                .as_ref()
                .and_then(|b| b.as_date())
                .map(days_from_date),
            missing_numbers: def
                .missing_codes
                .iter()
                .filter_map(|c| c.parse::<f64>().ok())
                .collect(),
        }
    }

    fn contains(&self, v: f64) -> bool {
        !(self.lo.is_some_and(|lo| v < lo) || self.hi.is_some_and(|hi| v > hi))
    }

    fn contains_day(&self, d: i32) -> bool {
        !(self.lo_day.is_some_and(|lo| d < lo) || self.hi_day.is_some_and(|hi| d > hi))
    }

    fn is_missing_number(&self, v: f64) -> bool {
        self.missing_numbers.contains(&v)
    }
}

/// A value as it was found, shown in a problem report only when one is needed.
#[derive(Clone, Copy)]
enum Raw<'r> {
    Text(&'r str),
    Integer(i64),
    Float(f64),
    Day(i32),
}

impl Raw<'_> {
    fn show(self) -> String {
        match self {
            Raw::Text(s) => s.to_string(),
            Raw::Integer(v) => v.to_string(),
            Raw::Float(v) => v.to_string(),
            Raw::Day(d) => format_date(d),
        }
    }
}

enum Values {
    Text(StringChunkedBuilder),
    Integer(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Date(Vec<Option<i32>>),
    Boolean(Vec<Option<bool>>),
    /// Enumeration codes by their position in the dictionary.
    Code(Vec<Option<u16>>),
    /// A Parquet column whose every value already satisfies the dictionary, kept as is.
    Ready(Series),
}

impl<'a> ColumnBuilder<'a> {
    fn new(file: &'a str, def: &'a ColumnDef) -> ColumnBuilder<'a> {
        let values = match def.kind {
            ColumnType::String => {
                Values::Text(StringChunkedBuilder::new(def.name.as_str().into(), 0))
            }
            ColumnType::Integer => Values::Integer(Vec::new()),
            ColumnType::Float => Values::Float(Vec::new()),
            ColumnType::Date => Values::Date(Vec::new()),
            ColumnType::Boolean => Values::Boolean(Vec::new()),
            ColumnType::Enumeration => Values::Code(Vec::new()),
        };
        ColumnBuilder {
            file,
            def,
            values,
            bounds: Bounds::of(def),
        }
    }

    fn problem(
        &self,
        kind: ProblemKind,
        row: usize,
        value: &str,
        message: String,
        problems: &mut Problems,
    ) {
        if problems.examples_full(kind) {
            problems.count_more(kind, 1);
        } else {
            problems.push(
                kind,
                Problem::new(self.file, message)
                    .row(row)
                    .column(&self.def.name)
                    .value(value),
            );
        }
    }

    fn push_null(&mut self) {
        match &mut self.values {
            Values::Text(b) => b.append_null(),
            Values::Integer(v) => v.push(None),
            Values::Float(v) => v.push(None),
            Values::Date(v) => v.push(None),
            Values::Boolean(v) => v.push(None),
            Values::Code(v) => v.push(None),
            Values::Ready(_) => {}
        }
    }

    fn push_missing(&mut self, row: usize, raw: &str, problems: &mut Problems) {
        if self.def.required {
            self.problem(
                ProblemKind::MissingValue,
                row,
                raw,
                format!("{} is required", self.def.name),
                problems,
            );
        }
        self.push_null();
    }

    /// Parses one text field (a CSV field or a Parquet string).
    fn push_raw(&mut self, raw: &str, row: usize, problems: &mut Problems) {
        let text = raw.trim();
        if self.def.is_missing_code(text) {
            self.push_missing(row, raw, problems);
            return;
        }
        match self.def.kind {
            ColumnType::String => {
                if let Values::Text(b) = &mut self.values {
                    b.append_value(text);
                }
            }
            ColumnType::Integer => match text.parse::<i64>() {
                Ok(v) => self.push_integer(v, row, Raw::Text(raw), problems),
                Err(_) => {
                    self.problem(
                        ProblemKind::WrongType,
                        row,
                        raw,
                        "expected a whole number".into(),
                        problems,
                    );
                    self.push_null();
                }
            },
            ColumnType::Float => match parse_decimal(text) {
                Some(v) => self.push_float(v, row, Raw::Text(raw), problems),
                None => {
                    self.problem(
                        ProblemKind::WrongType,
                        row,
                        raw,
                        "expected a number (decimal mark . or ,)".into(),
                        problems,
                    );
                    self.push_null();
                }
            },
            ColumnType::Date => match parse_iso_date(text) {
                Some(days) => self.push_date(days, row, Raw::Text(raw), problems),
                None => {
                    self.problem(
                        ProblemKind::BadDate,
                        row,
                        raw,
                        "expected an ISO date YYYY-MM-DD".into(),
                        problems,
                    );
                    self.push_null();
                }
            },
            ColumnType::Boolean => match parse_bool(text) {
                Some(v) => {
                    if let Values::Boolean(b) = &mut self.values {
                        b.push(Some(v));
                    }
                }
                None => {
                    self.problem(
                        ProblemKind::WrongType,
                        row,
                        raw,
                        "expected true/false or 1/0".into(),
                        problems,
                    );
                    self.push_null();
                }
            },
            ColumnType::Enumeration => match self.def.code_index(text) {
                Some(i) => {
                    if let Values::Code(v) = &mut self.values {
                        v.push(Some(i as u16));
                    }
                }
                None => {
                    self.problem(
                        ProblemKind::UnknownCode,
                        row,
                        raw,
                        expected_values(self.def),
                        problems,
                    );
                    self.push_null();
                }
            },
        }
    }

    fn push_integer(&mut self, v: i64, row: usize, raw: Raw<'_>, problems: &mut Problems) {
        let in_range = match &self.def.allowed {
            Some(allowed) => allowed.contains(&v),
            None => self.bounds.contains(v as f64),
        };
        if !in_range {
            self.out_of_range(row, raw, problems);
            return;
        }
        if let Values::Integer(values) = &mut self.values {
            values.push(Some(v));
        }
    }

    fn push_float(&mut self, v: f64, row: usize, raw: Raw<'_>, problems: &mut Problems) {
        if !v.is_finite() || !self.bounds.contains(v) {
            self.out_of_range(row, raw, problems);
            return;
        }
        if let Values::Float(values) = &mut self.values {
            values.push(Some(v));
        }
    }

    fn push_date(&mut self, days: i32, row: usize, raw: Raw<'_>, problems: &mut Problems) {
        if !self.bounds.contains_day(days) {
            self.out_of_range(row, raw, problems);
            return;
        }
        if let Values::Date(values) = &mut self.values {
            values.push(Some(days));
        }
    }

    fn out_of_range(&mut self, row: usize, raw: Raw<'_>, problems: &mut Problems) {
        self.problem(
            ProblemKind::OutOfRange,
            row,
            &raw.show(),
            expected_values(self.def),
            problems,
        );
        self.push_null();
    }

    fn finish(self) -> Column {
        let name: PlSmallStr = self.def.name.as_str().into();
        match self.values {
            Values::Ready(series) => series.with_name(name).into_column(),
            Values::Text(b) => b.finish().into_series().into_column(),
            Values::Integer(v) => Series::new(name, v).into_column(),
            Values::Float(v) => Series::new(name, v).into_column(),
            Values::Date(v) => {
                let days: Int32Chunked = v.into_iter().collect();
                days.with_name(name).into_date().into_series().into_column()
            }
            Values::Boolean(v) => Series::new(name, v).into_column(),
            Values::Code(v) => {
                let mut b = StringChunkedBuilder::new(name, v.len());
                for code in v {
                    match code.and_then(|i| self.def.values.get(i as usize)) {
                        Some(value) => b.append_value(value.code.as_str()),
                        None => b.append_null(),
                    }
                }
                b.finish().into_series().into_column()
            }
        }
    }
}

fn read_parquet(
    file: &str,
    bytes: Vec<u8>,
    def: &Table,
    problems: &mut Problems,
) -> Option<DataFrame> {
    if bytes.is_empty() {
        problems.push(
            ProblemKind::EmptyFile,
            Problem::new(file, "the file is empty"),
        );
        return None;
    }
    let frame = match parquet::read_parquet(bytes) {
        Ok(f) => f,
        Err(e) => {
            problems.push(
                ProblemKind::FileUnreadable,
                Problem::new(file, e.to_string()),
            );
            return None;
        }
    };
    check_typed_frame(file, &frame, def, problems)
}

/// Converts a frame read from a typed format (Parquet, SAS, Stata) to the dictionary's
/// types, recording problems.
fn check_typed_frame(
    file: &str,
    frame: &DataFrame,
    def: &Table,
    problems: &mut Problems,
) -> Option<DataFrame> {
    let header: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut layout = Layout::new(file, &header, 1, def, problems)?;
    if frame.height() == 0 {
        problems.push(
            ProblemKind::NoDataRows,
            Problem::new(file, "the file has columns but no rows")
                .row(2)
                .column(def.columns.first().map_or("", |c| c.name.as_str())),
        );
        return None;
    }
    for (slot, column) in layout.slots.iter_mut().zip(frame.columns()) {
        let Some(builder) = slot else { continue };
        let series = package::storage_for(column.as_materialized_series(), builder.def.kind);
        if !builder.push_parquet_column(&series, problems) {
            return None;
        }
    }
    layout.finish(frame.height())
}

impl ColumnBuilder<'_> {
    /// Converts a Parquet column; `false` when its storage type cannot hold the
    /// dictionary's type (a problem is recorded).
    fn push_parquet_column(&mut self, series: &Series, problems: &mut Problems) -> bool {
        if let Some(ready) = self.already_valid(series) {
            self.values = Values::Ready(ready);
            return true;
        }
        let dtype = series.dtype();
        if let Ok(text) = series.str() {
            for (i, v) in text.iter().enumerate() {
                match v {
                    Some(s) => self.push_raw(s, typed_record_row(i), problems),
                    None => self.push_missing(typed_record_row(i), "", problems),
                }
            }
            return true;
        }
        let fits = match self.def.kind {
            ColumnType::Integer => dtype.is_integer(),
            ColumnType::Float => dtype.is_primitive_numeric(),
            ColumnType::Date => matches!(dtype, DataType::Date),
            ColumnType::Boolean => matches!(dtype, DataType::Boolean) || dtype.is_integer(),
            ColumnType::String | ColumnType::Enumeration => false,
        };
        let cast = |to: &DataType| series.cast(to).ok();
        let converted = match (fits, self.def.kind) {
            (false, _) => None,
            (true, ColumnType::Integer) => cast(&DataType::Int64).and_then(|s| {
                let ca = s.i64().ok()?.clone();
                for (i, v) in ca.iter().enumerate() {
                    let row = typed_record_row(i);
                    match v {
                        Some(v) if self.bounds.is_missing_number(v as f64) => {
                            self.push_missing(row, "", problems)
                        }
                        Some(v) => self.push_integer(v, row, Raw::Integer(v), problems),
                        None => self.push_missing(row, "", problems),
                    }
                }
                Some(())
            }),
            (true, ColumnType::Float) => cast(&DataType::Float64).and_then(|s| {
                let ca = s.f64().ok()?.clone();
                for (i, v) in ca.iter().enumerate() {
                    let row = typed_record_row(i);
                    match v {
                        Some(v) if self.def.is_missing_code(&format!("{v}")) => {
                            self.push_missing(row, "", problems)
                        }
                        Some(v) => self.push_float(v, row, Raw::Float(v), problems),
                        None => self.push_missing(row, "", problems),
                    }
                }
                Some(())
            }),
            (true, ColumnType::Date) => cast(&DataType::Int32).and_then(|s| {
                let ca = s.i32().ok()?.clone();
                for (i, v) in ca.iter().enumerate() {
                    let row = typed_record_row(i);
                    match v {
                        Some(d) => self.push_date(d, row, Raw::Day(d), problems),
                        None => self.push_missing(row, "", problems),
                    }
                }
                Some(())
            }),
            (true, ColumnType::Boolean) => cast(&DataType::Int64).and_then(|s| {
                let ca = s.i64().ok()?.clone();
                for (i, v) in ca.iter().enumerate() {
                    let row = typed_record_row(i);
                    match v {
                        Some(0) => self.push_bool(false),
                        Some(1) => self.push_bool(true),
                        Some(other) => {
                            self.problem(
                                ProblemKind::WrongType,
                                row,
                                &other.to_string(),
                                "expected true/false or 1/0".into(),
                                problems,
                            );
                            self.push_null();
                        }
                        None => self.push_missing(row, "", problems),
                    }
                }
                Some(())
            }),
            (true, _) => None,
        };
        if converted.is_none() {
            problems.push(
                ProblemKind::WrongColumnType,
                Problem::new(
                    self.file,
                    format!(
                        "stored as {dtype}; a {} column must be stored as {} or as text",
                        self.def.kind.as_str(),
                        parquet_type_hint(self.def.kind)
                    ),
                )
                .column(&self.def.name),
            );
            return false;
        }
        true
    }

    /// The column itself (in the dictionary's dtype) when every value is already valid,
    /// so that large Parquet columns are checked without being copied.
    fn already_valid(&self, series: &Series) -> Option<Series> {
        let required = self.def.required;
        match (self.def.kind, series.dtype()) {
            (ColumnType::String | ColumnType::Enumeration, DataType::String) => {
                let text = series.str().ok()?;
                let enumeration = self.def.kind == ColumnType::Enumeration;
                // A value equal to the row before's was checked there (ids of tables
                // sorted by person, codes of a few values).
                let mut previous: Option<&str> = None;
                let ok = text.iter().all(|v| match v {
                    Some(s) if previous == Some(s) => true,
                    Some(s) => {
                        previous = Some(s);
                        s.len() == s.trim().len()
                            && !self.def.is_missing_code(s)
                            && (!enumeration || self.def.code_index(s).is_some())
                    }
                    None => !required,
                });
                ok.then(|| series.clone())
            }
            (ColumnType::Integer, dtype) if dtype.is_integer() && self.def.allowed.is_none() => {
                let cast = series.cast(&DataType::Int64).ok()?;
                let ok = cast.i64().ok()?.iter().all(|v| match v {
                    Some(v) => {
                        self.bounds.contains(v as f64) && !self.bounds.is_missing_number(v as f64)
                    }
                    None => !required,
                });
                ok.then_some(cast)
            }
            (ColumnType::Date, DataType::Date) => {
                let days = series.cast(&DataType::Int32).ok()?;
                let ok = days.i32().ok()?.iter().all(|v| match v {
                    Some(d) => self.bounds.contains_day(d),
                    None => !required,
                });
                ok.then(|| series.clone())
            }
            (ColumnType::Boolean, DataType::Boolean) => {
                let ok = !required || series.null_count() == 0;
                ok.then(|| series.clone())
            }
            _ => None,
        }
    }

    fn push_bool(&mut self, v: bool) {
        if let Values::Boolean(b) = &mut self.values {
            b.push(Some(v));
        }
    }
}

/// What a column accepts, as the second half of a message: "expected one of F, M",
/// "expected from 0 to 100".
fn expected_values(def: &ColumnDef) -> String {
    let allowed = def.allowed_description();
    if def.allowed.is_some() || !def.values.is_empty() {
        format!("expected one of {allowed}")
    } else if def.min.is_some() && def.max.is_some() {
        format!("expected from {allowed}")
    } else {
        format!("expected {allowed}")
    }
}

/// The row of a record of a typed file (Parquet, SAS, Stata), which has no lines: as if
/// its column names were row 1.
fn typed_record_row(index: usize) -> usize {
    RowNumbers::after_header().row(index)
}

fn parquet_type_hint(kind: ColumnType) -> &'static str {
    match kind {
        ColumnType::String | ColumnType::Enumeration => "a string",
        ColumnType::Integer => "an integer",
        ColumnType::Float => "a number",
        ColumnType::Date => "a date",
        ColumnType::Boolean => "a boolean",
    }
}

/// A number with `.` or `,` as decimal mark; no thousands separators.
pub fn parse_decimal(text: &str) -> Option<f64> {
    let v = if text.contains(',') {
        if text.contains('.') {
            return None;
        }
        text.replacen(',', ".", 1).parse::<f64>().ok()?
    } else {
        text.parse::<f64>().ok()?
    };
    v.is_finite().then_some(v)
}

pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" => Some(true),
        "0" => Some(false),
        t if t.eq_ignore_ascii_case("true") => Some(true),
        t if t.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

mod package;
pub mod parquet;

#[cfg(test)]
mod tests;
