//! Stata datasets (`.dta`), releases 114–119 (Stata 10 to 18, and the >32,767-variable
//! release 119), either byte order, long strings (`strL`) included.
//!
//! The sections are parsed by the `dta` crate; records are read one at a time and
//! gathered into chunks here. A file with long strings has its strL section read first
//! (it follows the data) so that each record's references resolve as it is read.

use std::path::Path;

use dta::stata::dta::dta_reader::DtaReader;
use dta::stata::dta::long_string_table::LongStringTable;
use dta::stata::dta::value::Value;
use dta::stata::dta::variable_type::VariableType;
use polars::prelude::*;

use super::temporal::{days_1960_to_unix, millis_1960_to_unix_micros, stata_numeric_kind};
use super::views::TextViews;
use super::{
    date_column, datetime_column, float_column, FormatError, PackageFile, ValueKind, Variable,
};

/// An open Stata dataset.
#[derive(Debug)]
pub struct DtaFile {
    path: std::path::PathBuf,
    file: String,
    variables: Vec<Variable>,
    rows: u64,
    release: u8,
    long_strings: bool,
}

impl DtaFile {
    /// Opens a Stata dataset and reads its header and variable list.
    ///
    /// # Errors
    /// The file is missing or is not a readable Stata dataset.
    pub fn open(path: &Path) -> Result<DtaFile, FormatError> {
        let file = path.display().to_string();
        if let Err(source) = std::fs::metadata(path) {
            return Err(FormatError::Io { file, source });
        }
        let header_error = |message: String| FormatError::Header {
            file: file.clone(),
            format: "Stata",
            message,
        };
        let schema_reader = DtaReader::new()
            .from_path(path)
            .and_then(|r| r.read_header())
            .map_err(|e| header_error(e.to_string()))?;
        let header = schema_reader.header().clone();
        let characteristics = schema_reader
            .read_schema()
            .map_err(|e| header_error(e.to_string()))?;
        let variables = characteristics
            .schema()
            .variables()
            .iter()
            .map(|v| Variable {
                name: v.name().to_string(),
                kind: match v.variable_type() {
                    VariableType::FixedString(_) | VariableType::LongString => ValueKind::Text,
                    _ => stata_numeric_kind(v.format()),
                },
                format: Some(v.format().to_string()).filter(|f| !f.is_empty()),
                label: Some(v.label().to_string()).filter(|l| !l.is_empty()),
            })
            .collect();
        let release = header.release();
        Ok(DtaFile {
            path: path.to_path_buf(),
            file,
            variables,
            rows: header.observation_count(),
            release: release_number(&release.to_string()),
            long_strings: release.supports_long_strings(),
        })
    }

    /// The file's format release (114, 115, 117, 118, 119).
    pub fn release(&self) -> u8 {
        self.release
    }
}

/// `117` from a release shown as `117` (or `V117`).
fn release_number(shown: &str) -> u8 {
    shown
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}

/// The values of one variable in the chunk being gathered.
enum Gathered {
    Number(Vec<Option<f64>>),
    Date(Vec<Option<i32>>),
    DateTime(Vec<Option<i64>>),
    /// The chunk's text values, built as string views as they are read.
    Text(TextViews),
}

impl Gathered {
    fn new(kind: ValueKind, capacity: usize) -> Gathered {
        match kind {
            ValueKind::Date => Gathered::Date(Vec::with_capacity(capacity)),
            ValueKind::DateTime => Gathered::DateTime(Vec::with_capacity(capacity)),
            ValueKind::Text => Gathered::Text(TextViews::with_capacity(capacity)),
            ValueKind::Number | ValueKind::Time => Gathered::Number(Vec::with_capacity(capacity)),
        }
    }

    fn take(&mut self, name: &str) -> Column {
        match self {
            Gathered::Number(v) => float_column(name, std::mem::take(v).into_iter()),
            Gathered::Date(v) => date_column(name, std::mem::take(v).into_iter()),
            Gathered::DateTime(v) => datetime_column(name, std::mem::take(v).into_iter()),
            // Stata keeps trailing blanks as written.
            Gathered::Text(texts) => texts.finish(name),
        }
    }
}

/// The number a Stata numeric value holds, `None` for any missing value (`.`, `.a`–`.z`).
fn number(value: &Value<'_>) -> Option<f64> {
    match value {
        Value::Byte(v) => v.present().map(f64::from),
        Value::Int(v) => v.present().map(f64::from),
        Value::Long(v) => v.present().map(f64::from),
        Value::Float(v) => v.present().map(f64::from),
        Value::Double(v) => v.present(),
        Value::String(_) | Value::LongStringRef(_) => None,
    }
}

impl PackageFile for DtaFile {
    fn file(&self) -> &str {
        &self.file
    }

    fn variables(&self) -> &[Variable] {
        &self.variables
    }

    fn rows(&self) -> u64 {
        self.rows
    }

    fn read_chunks(
        &self,
        chunk_rows: usize,
        sink: &mut dyn FnMut(DataFrame) -> Result<(), FormatError>,
    ) -> Result<(), FormatError> {
        let chunk_rows = chunk_rows.max(1);
        let header_error = |message: String| FormatError::Header {
            file: self.file.clone(),
            format: "Stata",
            message,
        };
        let characteristics = DtaReader::new()
            .from_path(&self.path)
            .and_then(|r| r.read_header())
            .and_then(|r| r.read_schema())
            .map_err(|e| header_error(e.to_string()))?;
        let mut long_strings = LongStringTable::for_reading();
        let mut records = if self.long_strings {
            let mut strls = characteristics
                .seek_long_strings()
                .map_err(|e| header_error(e.to_string()))?;
            strls
                .read_remaining_into(&mut long_strings)
                .map_err(|e| header_error(format!("long strings: {e}")))?;
            strls.seek_records()
        } else {
            let mut characteristics = characteristics;
            characteristics
                .skip_to_end()
                .map_err(|e| header_error(e.to_string()))?;
            characteristics.into_record_reader()
        }
        .map_err(|e| header_error(e.to_string()))?;
        let encoding = records.encoding();

        let mut gathered: Vec<Gathered> = self
            .variables
            .iter()
            .map(|v| Gathered::new(v.kind, chunk_rows.min(self.rows as usize)))
            .collect();
        let mut in_chunk = 0usize;
        let mut row: u64 = 0;
        loop {
            let record = records.read_record().map_err(|e| FormatError::Data {
                file: self.file.clone(),
                row: row + 2,
                variable: String::new(),
                message: e.to_string(),
            })?;
            let Some(record) = record else { break };
            row += 1;
            for ((value, slot), variable) in record
                .values()
                .iter()
                .zip(&mut gathered)
                .zip(&self.variables)
            {
                match slot {
                    Gathered::Number(v) => v.push(number(value)),
                    Gathered::Date(v) => v.push(number(value).and_then(days_1960_to_unix)),
                    Gathered::DateTime(v) => {
                        v.push(number(value).and_then(millis_1960_to_unix_micros));
                    }
                    Gathered::Text(texts) => match value {
                        Value::String(s) => texts.push(s, false),
                        Value::LongStringRef(r) if r.observation() == 0 => texts.push_null(),
                        Value::LongStringRef(r) => {
                            let stored = long_strings.get(r);
                            let Some(long) = stored.as_ref().and_then(|s| s.data_str(encoding))
                            else {
                                return Err(FormatError::Data {
                                    file: self.file.clone(),
                                    row: row + 1,
                                    variable: format!(", column {}", variable.name),
                                    message: "a long string (strL) that the file does not hold"
                                        .into(),
                                });
                            };
                            texts.push(&long, false);
                        }
                        _ => texts.push_null(),
                    },
                }
            }
            in_chunk += 1;
            if in_chunk == chunk_rows {
                sink(self.frame(&mut gathered, in_chunk)?)?;
                in_chunk = 0;
            }
        }
        if in_chunk > 0 {
            sink(self.frame(&mut gathered, in_chunk)?)?;
        }
        if row < self.rows {
            return Err(FormatError::Data {
                file: self.file.clone(),
                row: row + 2,
                variable: String::new(),
                message: format!(
                    "the file ends here, but its header declares {} rows (a truncated copy?)",
                    self.rows
                ),
            });
        }
        Ok(())
    }
}

impl DtaFile {
    fn frame(&self, gathered: &mut [Gathered], rows: usize) -> Result<DataFrame, FormatError> {
        let columns = gathered
            .iter_mut()
            .zip(&self.variables)
            .map(|(g, v)| g.take(&v.name))
            .collect();
        DataFrame::new(rows, columns).map_err(|e| FormatError::Sink {
            file: self.file.clone(),
            source: Box::new(e),
        })
    }
}
