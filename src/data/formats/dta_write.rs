//! Writing Stata datasets (`.dta`, format 118: Stata 14 to 18, R haven, pandas and
//! [`super::dta`] read it) a chunk of rows at a time.
//!
//! Written from Stata's description of the format (`help dta`, format 118): a header with
//! the number of variables and rows, a map of the sections' offsets, the variables'
//! types, names and display formats, the rows as fixed-width records, then long strings.
//! The storage of every variable is fixed before the first row ([`DtaLayout`], built by
//! [`LayoutBuilder`] from every chunk's values), the rows follow a chunk at a time, and
//! the number of rows and the offsets of the later sections are written into the header
//! when the file is finished, so that a writer holds one chunk at a time.
//!
//! | polars | Stata | display format |
//! |---|---|---|
//! | integers, Boolean | the narrowest of `byte`, `int`, `long` that holds every value; `double` when none does (integers within ±2⁵³) | `%8.0g`, `%12.0g`, `%10.0g` |
//! | Float32 | `float` | `%9.0g` |
//! | Float64 | `double` | `%10.0g` |
//! | Date | `long` (days since 1960-01-01) | `%td` |
//! | Datetime | `double` (milliseconds since 1960-01-01T00:00; a sub-millisecond part is dropped) | `%tc` |
//! | String, Categorical | `str#` of the longest value's bytes (1 to 2045), `strL` when longer | `%#s` |
//!
//! Null and NaN are Stata's missing value `.`; missing text is the empty string, as Stata
//! has no missing text. A value that Stata cannot hold (an infinity, a number beyond
//! Stata's range, an integer beyond ±2⁵³, text with a NUL byte) is refused with its row
//! and variable, never written changed. The file carries no time stamp, so that the same
//! rows give the same bytes. Long strings (`strL`) are kept in memory until the rows are
//! written, as the format puts them after the rows.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use polars::prelude::*;

use super::FormatError;

/// The longest `str#` variable; longer text is stored as `strL`.
const MAX_FIXED_STRING: usize = 2045;
const DAYS_1960_TO_1970: i64 = 3653;
const MILLIS_PER_DAY: i64 = 86_400_000;
/// Integers up to this magnitude are exact in a double.
const EXACT_IN_DOUBLE: i64 = 1 << 53;
/// The largest non-missing `float` and `double` (larger values are missing codes).
const FLOAT_MAX: f32 = f32::from_bits(0x7eff_ffff);
const DOUBLE_MAX: f64 = f64::from_bits(0x7fdf_ffff_ffff_ffff);
/// The missing value `.` of each numeric type.
const BYTE_MISSING: i8 = 101;
const INT_MISSING: i16 = 32_741;
const LONG_MISSING: i32 = 2_147_483_621;
const FLOAT_MISSING: u32 = 0x7f00_0000;
const DOUBLE_MISSING: u64 = 0x7fe0_0000_0000_0000;
/// Sizes of the fixed fields of format 118.
const NAME_BYTES: usize = 129;
const FORMAT_BYTES: usize = 57;
const LABEL_BYTES: usize = 321;
/// The number of offsets in `<map>`.
const MAP_ENTRIES: usize = 14;

/// How Stata stores a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Byte,
    Int,
    Long,
    Float,
    Double,
    /// Fixed-width text of this many bytes (1 to 2045).
    Str(u16),
    /// Text of any length, stored after the rows.
    StrL,
}

impl Storage {
    fn code(self) -> u16 {
        match self {
            Storage::Str(width) => width,
            Storage::StrL => 32_768,
            Storage::Double => 65_526,
            Storage::Float => 65_527,
            Storage::Long => 65_528,
            Storage::Int => 65_529,
            Storage::Byte => 65_530,
        }
    }

    fn width(self) -> usize {
        match self {
            Storage::Byte => 1,
            Storage::Int => 2,
            Storage::Long | Storage::Float => 4,
            Storage::Double | Storage::StrL => 8,
            Storage::Str(width) => usize::from(width),
        }
    }

    /// The narrowest integer type for values in `min..=max` (`double` beyond `long`), and
    /// `None` when a double cannot hold them exactly.
    fn for_integers(min: i64, max: i64) -> Option<Storage> {
        if min >= -127 && max <= 100 {
            Some(Storage::Byte)
        } else if min >= -32_767 && max <= 32_740 {
            Some(Storage::Int)
        } else if min >= -2_147_483_647 && max <= 2_147_483_620 {
            Some(Storage::Long)
        } else if min >= -EXACT_IN_DOUBLE && max <= EXACT_IN_DOUBLE {
            Some(Storage::Double)
        } else {
            None
        }
    }

    fn default_format(self) -> String {
        match self {
            Storage::Byte | Storage::Int => "%8.0g".into(),
            Storage::Long => "%12.0g".into(),
            Storage::Float => "%9.0g".into(),
            Storage::Double => "%10.0g".into(),
            Storage::Str(width) => format!("%{width}s"),
            Storage::StrL => "%9s".into(),
        }
    }
}

/// What a column holds, as the writer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Integer,
    Float32,
    Float64,
    Date,
    DateTime(TimeUnit),
    Text,
}

impl Source {
    fn of(dtype: &DataType) -> Option<Source> {
        Some(match dtype {
            DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Null => Source::Integer,
            DataType::Float32 => Source::Float32,
            DataType::Float64 => Source::Float64,
            DataType::Date => Source::Date,
            DataType::Datetime(unit, _) => Source::DateTime(*unit),
            DataType::String | DataType::Categorical(..) | DataType::Enum(..) => Source::Text,
            _ => return None,
        })
    }
}

/// One variable of a dataset to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtaVariable {
    pub name: String,
    pub storage: Storage,
    pub format: String,
    source: Source,
}

/// The variables of a dataset to write, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtaLayout {
    variables: Vec<DtaVariable>,
}

impl DtaLayout {
    pub fn variables(&self) -> &[DtaVariable] {
        &self.variables
    }

    /// The layout for the rows of one frame.
    ///
    /// # Errors
    /// As [`LayoutBuilder::new`] and [`LayoutBuilder::observe`].
    pub fn of_frame(file: &str, frame: &DataFrame) -> Result<DtaLayout, FormatError> {
        let mut builder = LayoutBuilder::new(file, frame.schema())?;
        builder.observe(frame)?;
        Ok(builder.finish())
    }

    fn record_width(&self) -> usize {
        self.variables.iter().map(|v| v.storage.width()).sum()
    }
}

/// What the values seen so far need of their variable.
#[derive(Debug, Clone)]
struct Seen {
    name: String,
    source: Source,
    min: i64,
    max: i64,
    longest: usize,
}

/// Chooses each variable's storage from the values of every chunk, before the first row
/// is written.
#[derive(Debug, Clone)]
pub struct LayoutBuilder {
    file: String,
    seen: Vec<Seen>,
    rows: u64,
}

impl LayoutBuilder {
    /// A builder for frames with the columns of `schema`.
    ///
    /// # Errors
    /// A name that is not a Stata variable name, a repeated name, a column type Stata has
    /// no storage for, or more than 32,767 variables.
    pub fn new(file: &str, schema: &Schema) -> Result<LayoutBuilder, FormatError> {
        let refuse = |message: String| FormatError::Data {
            file: file.to_string(),
            row: 1,
            variable: String::new(),
            message,
        };
        if schema.len() > 32_767 {
            return Err(refuse(format!(
                "{} variables: a Stata dataset holds at most 32,767",
                schema.len()
            )));
        }
        let mut seen: Vec<Seen> = Vec::with_capacity(schema.len());
        for (name, dtype) in schema.iter() {
            if !is_stata_name(name) {
                return Err(refuse(format!(
                    "{name:?} is not a Stata variable name (1 to 32 letters, digits or \
                     underscores, not starting with a digit)"
                )));
            }
            if seen.iter().any(|s| s.name == name.as_str()) {
                return Err(refuse(format!("the variable {name} appears twice")));
            }
            let Some(source) = Source::of(dtype) else {
                return Err(refuse(format!(
                    "column {name}: Stata has no storage for {dtype} values"
                )));
            };
            seen.push(Seen {
                name: name.to_string(),
                source,
                min: 0,
                max: 0,
                longest: 0,
            });
        }
        Ok(LayoutBuilder {
            file: file.to_string(),
            seen,
            rows: 0,
        })
    }

    /// Takes the values of the next chunk into account.
    ///
    /// # Errors
    /// A frame with other columns, or a value that Stata cannot hold (naming its row and
    /// variable).
    pub fn observe(&mut self, frame: &DataFrame) -> Result<(), FormatError> {
        check_columns(
            &self.file,
            self.rows,
            frame,
            self.seen.iter().map(|s| (&s.name, s.source)),
        )?;
        for (column, seen) in frame.columns().iter().zip(&mut self.seen) {
            let at = At {
                file: &self.file,
                variable: &seen.name,
                first_row: self.rows,
            };
            match values(column, seen.source, &at)? {
                Values::Integers(values) => {
                    for (i, v) in values.iter().enumerate() {
                        if let Some(v) = *v {
                            if v.abs() > EXACT_IN_DOUBLE {
                                return Err(at.error(
                                    i,
                                    format!(
                                    "{v} is beyond ±2^53, the integers a Stata double holds exactly"
                                ),
                                ));
                            }
                            seen.min = seen.min.min(v);
                            seen.max = seen.max.max(v);
                        }
                    }
                }
                Values::Floats(values) => {
                    for (i, v) in values.iter().enumerate() {
                        if let Some(v) = *v {
                            check_float(v, seen.source, &at, i)?;
                        }
                    }
                }
                Values::Text(values) => {
                    for (i, v) in values.iter().enumerate() {
                        if let Some(v) = v {
                            check_text(v, &at, i)?;
                            seen.longest = seen.longest.max(v.len());
                        }
                    }
                }
            }
        }
        self.rows += frame.height() as u64;
        Ok(())
    }

    /// The layout that holds every value observed.
    pub fn finish(self) -> DtaLayout {
        let variables = self
            .seen
            .into_iter()
            .map(|s| {
                let (storage, format) = match s.source {
                    Source::Integer => {
                        let storage =
                            Storage::for_integers(s.min, s.max).unwrap_or(Storage::Double);
                        (storage, storage.default_format())
                    }
                    Source::Date => {
                        // At least `long`, as Stata and the other writers store dates.
                        let storage = match Storage::for_integers(s.min, s.max) {
                            Some(Storage::Double) | None => Storage::Double,
                            Some(_) => Storage::Long,
                        };
                        (storage, "%td".to_string())
                    }
                    Source::DateTime(_) => (Storage::Double, "%tc".to_string()),
                    Source::Float32 => (Storage::Float, Storage::Float.default_format()),
                    Source::Float64 => (Storage::Double, Storage::Double.default_format()),
                    Source::Text => {
                        let storage = if s.longest > MAX_FIXED_STRING {
                            Storage::StrL
                        } else {
                            // At most 2045, so the conversion holds.
                            Storage::Str(u16::try_from(s.longest.max(1)).unwrap_or(1))
                        };
                        (storage, storage.default_format())
                    }
                };
                DtaVariable {
                    name: s.name,
                    storage,
                    format,
                    source: s.source,
                }
            })
            .collect();
        DtaLayout { variables }
    }
}

/// Whether `name` is a Stata variable name: 1 to 32 characters, letters (any script),
/// digits and underscores, not starting with a digit.
fn is_stata_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=32).contains(&count)
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c == '_' || c.is_alphanumeric())
}

fn check_columns<'a>(
    file: &str,
    rows: u64,
    frame: &DataFrame,
    expected: impl ExactSizeIterator<Item = (&'a String, Source)>,
) -> Result<(), FormatError> {
    let same = frame.width() == expected.len()
        && frame
            .columns()
            .iter()
            .zip(expected)
            .all(|(c, (name, source))| {
                c.name().as_str() == name && Source::of(c.dtype()) == Some(source)
            });
    if same {
        Ok(())
    } else {
        Err(FormatError::Data {
            file: file.to_string(),
            row: rows + 2,
            variable: String::new(),
            message: "a chunk of rows with other columns than the first".into(),
        })
    }
}

/// Where a value is, for messages: rows are numbered as the readers number them (row 2
/// is the first observation).
struct At<'a> {
    file: &'a str,
    variable: &'a str,
    first_row: u64,
}

impl At<'_> {
    fn error(&self, index: usize, message: String) -> FormatError {
        FormatError::Data {
            file: self.file.to_string(),
            row: self.first_row + index as u64 + 2,
            variable: format!(", column {}", self.variable),
            message,
        }
    }
}

/// A chunk's values of one variable, in the units Stata stores.
enum Values {
    /// Integers; days since 1960 for dates, milliseconds since 1960 for date-times.
    Integers(Vec<Option<i64>>),
    /// Floats, NaN as missing.
    Floats(Vec<Option<f64>>),
    Text(StringChunked),
}

fn values(column: &Column, source: Source, at: &At<'_>) -> Result<Values, FormatError> {
    let series = column.as_materialized_series();
    let polars_error = |e: PolarsError| at.error(0, e.to_string());
    let integers = |series: &Series| -> Result<Int64Chunked, FormatError> {
        Ok(series
            .strict_cast(&DataType::Int64)
            .map_err(|e| at.error(0, format!("integers that do not fit in 64 bits ({e})")))?
            .i64()
            .map_err(polars_error)?
            .clone())
    };
    Ok(match source {
        Source::Integer => Values::Integers(integers(series)?.iter().collect()),
        Source::Date => {
            let days = series.cast(&DataType::Int32).map_err(polars_error)?;
            let days = days.i32().map_err(polars_error)?;
            Values::Integers(
                days.iter()
                    .map(|d| d.map(|d| i64::from(d) + DAYS_1960_TO_1970))
                    .collect(),
            )
        }
        Source::DateTime(unit) => {
            let per_milli = match unit {
                TimeUnit::Milliseconds => 1,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Nanoseconds => 1_000_000,
            };
            let physical = series.cast(&DataType::Int64).map_err(polars_error)?;
            let physical = physical.i64().map_err(polars_error)?;
            let mut out = Vec::with_capacity(physical.len());
            for (i, v) in physical.iter().enumerate() {
                out.push(match v {
                    None => None,
                    Some(v) => Some(
                        v.div_euclid(per_milli)
                            .checked_add(DAYS_1960_TO_1970 * MILLIS_PER_DAY)
                            .ok_or_else(|| {
                                at.error(i, "a date-time beyond Stata's range".into())
                            })?,
                    ),
                });
            }
            Values::Integers(out)
        }
        Source::Float32 | Source::Float64 => {
            let floats = series.cast(&DataType::Float64).map_err(polars_error)?;
            Values::Floats(
                floats
                    .f64()
                    .map_err(polars_error)?
                    .iter()
                    .map(|v| v.filter(|v| !v.is_nan()))
                    .collect(),
            )
        }
        Source::Text => Values::Text(
            series
                .cast(&DataType::String)
                .map_err(polars_error)?
                .str()
                .map_err(polars_error)?
                .clone(),
        ),
    })
}

fn check_float(v: f64, source: Source, at: &At<'_>, index: usize) -> Result<(), FormatError> {
    let max = if source == Source::Float32 {
        f64::from(FLOAT_MAX)
    } else {
        DOUBLE_MAX
    };
    if v.abs() > max {
        return Err(at.error(
            index,
            format!("{v:e} is beyond the largest number Stata stores ({max:e})"),
        ));
    }
    Ok(())
}

fn check_text(v: &str, at: &At<'_>, index: usize) -> Result<(), FormatError> {
    if v.contains('\0') {
        return Err(at.error(
            index,
            "text with a NUL byte, which Stata cannot hold".into(),
        ));
    }
    Ok(())
}

/// A Stata dataset being written: header and variables first, then rows a chunk at a
/// time, then [`DtaWriter::finish`].
pub struct DtaWriter {
    file: String,
    out: BufWriter<File>,
    layout: DtaLayout,
    rows: u64,
    /// Where the row count and the map are, to be filled in by `finish`.
    rows_at: u64,
    map_at: u64,
    map: [u64; MAP_ENTRIES],
    /// Bytes written so far.
    written: u64,
    /// The `strls` section so far.
    long_strings: Vec<u8>,
    record: Vec<u8>,
}

impl DtaWriter {
    /// Creates `path` and writes the header and the variables of `layout`; `label` is the
    /// dataset's label (at most 80 characters).
    ///
    /// # Errors
    /// A file that cannot be created or written, or a label that is too long.
    pub fn create(path: &Path, layout: DtaLayout, label: &str) -> Result<DtaWriter, FormatError> {
        let file = path.display().to_string();
        if label.chars().count() > 80 || label.len() > LABEL_BYTES - 1 {
            return Err(FormatError::Data {
                file,
                row: 1,
                variable: String::new(),
                message: "a dataset label longer than Stata's 80 characters".into(),
            });
        }
        let out = File::create(path).map_err(|source| FormatError::Io {
            file: file.clone(),
            source,
        })?;
        let mut writer = DtaWriter {
            file,
            out: BufWriter::with_capacity(1 << 20, out),
            layout,
            rows: 0,
            rows_at: 0,
            map_at: 0,
            map: [0; MAP_ENTRIES],
            written: 0,
            long_strings: Vec::new(),
            record: Vec::new(),
        };
        writer.header(label)?;
        Ok(writer)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), FormatError> {
        self.out
            .write_all(bytes)
            .map_err(|source| FormatError::Io {
                file: self.file.clone(),
                source,
            })?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// `text` in a field of `width` bytes, padded with NULs.
    fn put_field(&mut self, text: &str, width: usize) -> Result<(), FormatError> {
        let mut field = vec![0u8; width];
        let n = text.len().min(width - 1);
        field[..n].copy_from_slice(&text.as_bytes()[..n]);
        self.put(&field)
    }

    fn header(&mut self, label: &str) -> Result<(), FormatError> {
        let k = self.layout.variables.len();
        self.put(b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder><K>")?;
        self.put(&(k as u16).to_le_bytes())?;
        self.put(b"</K><N>")?;
        self.rows_at = self.written;
        self.put(&0u64.to_le_bytes())?;
        self.put(b"</N><label>")?;
        self.put(&(label.len() as u16).to_le_bytes())?;
        self.put(label.as_bytes())?;
        // No time stamp (its length byte 0), so that the same rows give the same bytes.
        self.put(b"</label><timestamp>\0</timestamp></header>")?;
        self.map[1] = self.written;
        self.put(b"<map>")?;
        self.map_at = self.written;
        self.put(&[0u8; MAP_ENTRIES * 8])?;
        self.put(b"</map>")?;

        let variables = self.layout.variables.clone();
        self.map[2] = self.written;
        self.put(b"<variable_types>")?;
        for v in &variables {
            self.put(&v.storage.code().to_le_bytes())?;
        }
        self.put(b"</variable_types>")?;
        self.map[3] = self.written;
        self.put(b"<varnames>")?;
        for v in &variables {
            self.put_field(&v.name, NAME_BYTES)?;
        }
        self.put(b"</varnames>")?;
        self.map[4] = self.written;
        self.put(b"<sortlist>")?;
        self.put(&vec![0u8; 2 * (k + 1)])?;
        self.put(b"</sortlist>")?;
        self.map[5] = self.written;
        self.put(b"<formats>")?;
        for v in &variables {
            self.put_field(&v.format, FORMAT_BYTES)?;
        }
        self.put(b"</formats>")?;
        self.map[6] = self.written;
        self.put(b"<value_label_names>")?;
        self.put(&vec![0u8; NAME_BYTES * k])?;
        self.put(b"</value_label_names>")?;
        self.map[7] = self.written;
        self.put(b"<variable_labels>")?;
        self.put(&vec![0u8; LABEL_BYTES * k])?;
        self.put(b"</variable_labels>")?;
        self.map[8] = self.written;
        self.put(b"<characteristics></characteristics>")?;
        self.map[9] = self.written;
        self.put(b"<data>")?;
        Ok(())
    }

    /// Appends the rows of `frame`, whose columns are those the layout was built for.
    ///
    /// # Errors
    /// Other columns, a value the layout cannot hold (naming its row and variable), or
    /// a failed write.
    pub fn write(&mut self, frame: &DataFrame) -> Result<(), FormatError> {
        check_columns(
            &self.file,
            self.rows,
            frame,
            self.layout.variables.iter().map(|v| (&v.name, v.source)),
        )?;
        let width = self.layout.record_width();
        let rows = frame.height();
        let mut records = std::mem::take(&mut self.record);
        records.clear();
        records.resize(width * rows, 0);
        let mut offset = 0;
        for (index, (column, variable)) in frame
            .columns()
            .iter()
            .zip(&self.layout.variables)
            .enumerate()
        {
            let at = At {
                file: &self.file,
                variable: &variable.name,
                first_row: self.rows,
            };
            let values = values(column, variable.source, &at)?;
            let fields = records
                .chunks_exact_mut(width)
                .map(|record| &mut record[offset..offset + variable.storage.width()]);
            encode(
                &values,
                variable,
                index,
                self.rows,
                fields,
                &mut self.long_strings,
                &at,
            )?;
            offset += variable.storage.width();
        }
        let result = self.put(&records);
        self.record = records;
        result?;
        self.rows += rows as u64;
        Ok(())
    }

    /// Writes the long strings and the end of the file, then the row count and the map
    /// into the header; returns the number of rows.
    ///
    /// # Errors
    /// A failed write.
    pub fn finish(mut self) -> Result<u64, FormatError> {
        self.put(b"</data>")?;
        self.map[10] = self.written;
        self.put(b"<strls>")?;
        let long_strings = std::mem::take(&mut self.long_strings);
        self.put(&long_strings)?;
        self.put(b"</strls>")?;
        self.map[11] = self.written;
        self.put(b"<value_labels></value_labels>")?;
        self.map[12] = self.written;
        self.put(b"</stata_dta>")?;
        self.map[13] = self.written;
        let io = |source| FormatError::Io {
            file: self.file.clone(),
            source,
        };
        let mut map = Vec::with_capacity(MAP_ENTRIES * 8);
        for offset in self.map {
            map.extend_from_slice(&offset.to_le_bytes());
        }
        let out = &mut self.out;
        out.seek(SeekFrom::Start(self.rows_at)).map_err(io)?;
        out.write_all(&self.rows.to_le_bytes()).map_err(io)?;
        out.seek(SeekFrom::Start(self.map_at)).map_err(io)?;
        out.write_all(&map).map_err(io)?;
        out.flush().map_err(io)?;
        Ok(self.rows)
    }
}

/// Writes one chunk's values of a variable into its field of each record.
fn encode<'r>(
    values: &Values,
    variable: &DtaVariable,
    index: usize,
    first_row: u64,
    fields: impl Iterator<Item = &'r mut [u8]>,
    long_strings: &mut Vec<u8>,
    at: &At<'_>,
) -> Result<(), FormatError> {
    let storage = variable.storage;
    match values {
        Values::Integers(values) => {
            let (min, max) = match storage {
                Storage::Byte => (-127, 100),
                Storage::Int => (-32_767, 32_740),
                Storage::Long => (-2_147_483_647, 2_147_483_620),
                _ => (-EXACT_IN_DOUBLE, EXACT_IN_DOUBLE),
            };
            for (i, (field, v)) in fields.zip(values).enumerate() {
                if let Some(v) = *v {
                    if !(min..=max).contains(&v) {
                        return Err(
                            at.error(i, format!("{v} does not fit the variable's Stata storage"))
                        );
                    }
                }
                match storage {
                    Storage::Byte => {
                        field.copy_from_slice(&v.map_or(BYTE_MISSING, |v| v as i8).to_le_bytes())
                    }
                    Storage::Int => {
                        field.copy_from_slice(&v.map_or(INT_MISSING, |v| v as i16).to_le_bytes())
                    }
                    Storage::Long => {
                        field.copy_from_slice(&v.map_or(LONG_MISSING, |v| v as i32).to_le_bytes())
                    }
                    _ => field.copy_from_slice(
                        &v.map_or(DOUBLE_MISSING, |v| (v as f64).to_bits())
                            .to_le_bytes(),
                    ),
                }
            }
        }
        Values::Floats(values) => {
            for (i, (field, v)) in fields.zip(values).enumerate() {
                if let Some(v) = *v {
                    check_float(v, variable.source, at, i)?;
                }
                if storage == Storage::Float {
                    let bits = v.map_or(FLOAT_MISSING, |v| (v as f32).to_bits());
                    field.copy_from_slice(&bits.to_le_bytes());
                } else {
                    let bits = v.map_or(DOUBLE_MISSING, f64::to_bits);
                    field.copy_from_slice(&bits.to_le_bytes());
                }
            }
        }
        Values::Text(values) => {
            for (i, (field, v)) in fields.zip(values.iter()).enumerate() {
                let text = v.unwrap_or("");
                check_text(text, at, i)?;
                match storage {
                    Storage::StrL => {
                        if text.is_empty() {
                            continue; // (v, o) = (0, 0): the empty string
                        }
                        let observation = first_row + i as u64 + 1;
                        if observation >= 1 << 48 {
                            return Err(at.error(i, "too many rows for a long string".into()));
                        }
                        let variable_number = (index + 1) as u64;
                        let key = variable_number | observation << 16;
                        field.copy_from_slice(&key.to_le_bytes());
                        long_strings.extend_from_slice(b"GSO");
                        long_strings.extend_from_slice(&(variable_number as u32).to_le_bytes());
                        long_strings.extend_from_slice(&observation.to_le_bytes());
                        // 130: text, stored with a terminating NUL that its length counts.
                        long_strings.push(130);
                        let length = u32::try_from(text.len() + 1)
                            .map_err(|_| at.error(i, "a text longer than 4 GB".into()))?;
                        long_strings.extend_from_slice(&length.to_le_bytes());
                        long_strings.extend_from_slice(text.as_bytes());
                        long_strings.push(0);
                    }
                    _ => {
                        if text.len() > field.len() {
                            return Err(at.error(
                                i,
                                format!(
                                    "a text of {} bytes in a variable of {}",
                                    text.len(),
                                    field.len()
                                ),
                            ));
                        }
                        field[..text.len()].copy_from_slice(text.as_bytes());
                    }
                }
            }
        }
    }
    Ok(())
}

/// Writes `frame` as the Stata dataset `path`.
///
/// # Errors
/// As [`LayoutBuilder`] and [`DtaWriter`].
pub fn write_dta(path: &Path, frame: &DataFrame) -> Result<u64, FormatError> {
    let file = path.display().to_string();
    let layout = DtaLayout::of_frame(&file, frame)?;
    let mut writer = DtaWriter::create(path, layout, "")?;
    writer.write(frame)?;
    writer.finish()
}
