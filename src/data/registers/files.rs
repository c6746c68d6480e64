//! Finding the register files in a folder and reading their variables with errors that
//! name the file, the row and the variable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::recipe::Names;
use super::RegisterError;
use crate::data::calendar::{days_from_civil, parse_iso_date};
use crate::data::convert::register_year;
use crate::data::rows::RowNumbers;
use crate::data::table::read_any_table;

/// One register file: its register (upper case), its year if the name has one, its month
/// if the name ends in YYYYMM (quarterly BEF: `BEF201912`), its path.
#[derive(Debug, Clone)]
pub struct RegisterFile {
    pub register: String,
    pub year: Option<u16>,
    pub month: Option<u8>,
    pub path: PathBuf,
}

const EXTENSIONS: [&str; 4] = ["parquet", "csv", "sas7bdat", "dta"];

/// Every readable file under `dir` (sub-folders included, as `shine convert` writes
/// them), by register, in year and then name order.
pub fn scan(dir: &Path) -> Result<BTreeMap<String, Vec<RegisterFile>>, RegisterError> {
    let mut found = Vec::new();
    walk(dir, &mut found)?;
    let mut by_register: BTreeMap<String, Vec<RegisterFile>> = BTreeMap::new();
    for path in found {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let (register, year) = match register_year(&stem) {
            Some((register, year)) => (register.to_ascii_uppercase(), Some(year)),
            None => (stem.to_ascii_uppercase(), None),
        };
        let month = year.and_then(|_| month_of(&stem));
        by_register
            .entry(register.clone())
            .or_default()
            .push(RegisterFile {
                register,
                year,
                month,
                path,
            });
    }
    for files in by_register.values_mut() {
        files.sort_by(|a, b| {
            (a.year, a.month)
                .cmp(&(b.year, b.month))
                .then(a.path.cmp(&b.path))
        });
    }
    Ok(by_register)
}

/// The month of a name that ends in YYYYMM (six digits, [`register_year`] has read the
/// year).
fn month_of(stem: &str) -> Option<u8> {
    let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits != 6 {
        return None;
    }
    let month: u8 = stem[stem.len() - 2..].parse().ok()?;
    (1..=12).contains(&month).then_some(month)
}

/// A variable as a recipe names it: one name, or [`Names`] of which the first a file has
/// is used.
pub trait Variable {
    /// The names to look for, in order.
    fn candidates(&self) -> Vec<&str>;
}

impl Variable for str {
    fn candidates(&self) -> Vec<&str> {
        vec![self]
    }
}

impl Variable for String {
    fn candidates(&self) -> Vec<&str> {
        vec![self.as_str()]
    }
}

impl Variable for Names {
    fn candidates(&self) -> Vec<&str> {
        self.all().iter().map(String::as_str).collect()
    }
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), RegisterError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        RegisterError::Usage(format!("{}: cannot read the folder: {e}", dir.display()))
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, found)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            found.push(path);
        }
    }
    Ok(())
}

/// The variable names of a file (upper case) without reading its rows where the format
/// allows (Parquet, SAS, Stata).
pub fn variable_names(path: &Path) -> Result<Vec<String>, RegisterError> {
    let file = path.display().to_string();
    let read_error = |message: String| RegisterError::Read {
        file: file.clone(),
        message,
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let names: Vec<String> = match extension.as_str() {
        "parquet" => {
            let f = std::fs::File::open(path).map_err(|e| read_error(e.to_string()))?;
            ParquetReader::new(f)
                .schema()
                .map_err(|e| read_error(format!("not a readable Parquet file: {e}")))?
                .iter()
                .map(|(n, _)| n.to_string())
                .collect()
        }
        "sas7bdat" | "dta" => crate::data::formats::open(path, Default::default())
            .map_err(|e| read_error(e.to_string()))?
            .variables()
            .iter()
            .map(|v| v.name.clone())
            .collect(),
        _ => Table::read(path)?
            .frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect(),
    };
    Ok(names.iter().map(|n| n.to_ascii_uppercase()).collect())
}

/// Which of the recipe's names the registers in `dir` have (`shine import --explain
/// --registers DIR`): per table, the name found and its files, and per variable the name
/// found in the table's first file. TOML comments, so that the output stays a recipe.
///
/// # Errors
/// A folder that cannot be read, or a first file whose variables cannot be read.
pub fn explain_names(dir: &Path, recipe: &super::Recipe) -> Result<String, RegisterError> {
    let files = scan(dir)?;
    let mut out = format!(
        "\n# Names found in {} (the first of the recipe's names that a folder or file has):\n",
        dir.display()
    );
    for super::recipe::RecipeTable {
        section,
        role,
        names,
        variables,
    } in recipe.tables()
    {
        let found: Vec<(&String, &Vec<RegisterFile>)> = names
            .all()
            .iter()
            .filter_map(|n| files.get(&n.to_ascii_uppercase()).map(|f| (n, f)))
            .collect();
        let Some((_, first_files)) = found.first() else {
            out.push_str(&format!("# [{section}] {role}: no files ({names})\n"));
            continue;
        };
        let used: Vec<String> = found
            .iter()
            .map(|(n, f)| format!("{} ({} files)", n.to_ascii_uppercase(), f.len()))
            .collect();
        let first = &first_files[0].path;
        out.push_str(&format!(
            "# [{section}] {role} = {}; variables as in {}:\n",
            used.join(" and "),
            first.display()
        ));
        let have = variable_names(first)?;
        for (variable, names) in variables {
            let hit = names
                .all()
                .iter()
                .map(|n| n.to_ascii_uppercase())
                .find(|n| have.contains(n));
            match hit {
                Some(n) => out.push_str(&format!("#   {variable} = {n}\n")),
                None => out.push_str(&format!("#   {variable}: not found ({names})\n")),
            }
        }
    }
    Ok(out)
}

/// A register file read into memory, its variable names in upper case.
pub struct Table {
    pub file: String,
    pub frame: DataFrame,
    /// The spreadsheet row of each record (blank CSV lines counted).
    pub rows: RowNumbers,
}

/// Which rows (`offset`, `length`) and variables (upper-case names that `keep` accepts)
/// of a Parquet file to read, so that a large register is read a part at a time.
#[derive(Clone, Copy, Default)]
pub struct Part<'a> {
    pub rows: Option<(usize, usize)>,
    pub keep: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
}

/// The number of rows and the variable names (upper case) of a Parquet file, from its
/// footer (`None` for other formats, which are read whole).
pub fn parquet_shape(path: &Path) -> Option<(usize, Vec<String>)> {
    let is_parquet = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let file = std::fs::File::open(path).ok().filter(|_| is_parquet)?;
    let mut reader = ParquetReader::new(file);
    let names = reader
        .schema()
        .ok()?
        .iter_names()
        .map(|n| n.to_ascii_uppercase())
        .collect();
    Some((reader.num_rows().ok()?, names))
}

impl Table {
    pub fn read(path: &Path) -> Result<Table, RegisterError> {
        Table::read_part(path, Part::default())
    }

    /// [`Table::read`] of a part of a Parquet file; other formats are read whole.
    pub fn read_part(path: &Path, part: Part<'_>) -> Result<Table, RegisterError> {
        let file = path.display().to_string();
        let is_parquet = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        // A register may be empty (no deaths in a year); `read_any` refuses empty
        // analysis tables, so Parquet is read here directly.
        let mut rows = RowNumbers::after_header();
        if let (true, Some((offset, _))) = (is_parquet, part.rows) {
            rows.note(0, offset + 2);
        }
        let mut frame = if is_parquet {
            std::fs::File::open(path)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    let mut reader = ParquetReader::new(f).with_slice(part.rows);
                    if let Some(keep) = part.keep {
                        let schema = reader.schema().map_err(|e| e.to_string())?;
                        let wanted = schema
                            .iter_names()
                            .enumerate()
                            .filter(|(_, n)| keep(&n.to_ascii_uppercase()))
                            .map(|(j, _)| j)
                            .collect();
                        reader = reader.with_projection(Some(wanted));
                    }
                    reader
                        .finish()
                        .map_err(|e| format!("not a readable Parquet file: {e}"))
                })
                .map_err(|message| RegisterError::Read {
                    file: file.clone(),
                    message,
                })?
        } else {
            let (frame, source) = read_any_table(path).map_err(|e| RegisterError::Read {
                file: file.clone(),
                message: e.to_string(),
            })?;
            rows = source.rows;
            frame
        };
        let names: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|n| n.to_ascii_uppercase())
            .collect();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(RegisterError::Read {
                    file,
                    message: format!(
                        "two variables are named {n} (names are compared without case)"
                    ),
                });
            }
        }
        // One chunk per column, so that a row's text is found without a search.
        frame.rechunk_mut();
        frame
            .set_column_names(names.as_slice())
            .map_err(|e| RegisterError::Read {
                file: file.clone(),
                message: e.to_string(),
            })?;
        Ok(Table { file, frame, rows })
    }

    pub fn height(&self) -> usize {
        self.frame.height()
    }

    /// The name (upper case) under which the file has `variable`: the first of the
    /// recipe's names it has.
    pub fn name<V: Variable + ?Sized>(&self, variable: &V) -> Option<String> {
        variable
            .candidates()
            .into_iter()
            .map(str::to_ascii_uppercase)
            .find(|n| self.frame.column(n).is_ok())
    }

    /// The name a message about `variable` uses: the file's, else the recipe's first.
    pub fn label<V: Variable + ?Sized>(&self, variable: &V) -> String {
        self.name(variable).unwrap_or_else(|| {
            variable
                .candidates()
                .first()
                .map_or_else(String::new, |n| n.to_ascii_uppercase())
        })
    }

    pub fn has<V: Variable + ?Sized>(&self, variable: &V) -> bool {
        self.name(variable).is_some()
    }

    fn column<V: Variable + ?Sized>(
        &self,
        variable: &V,
    ) -> Result<(&Column, String), RegisterError> {
        match self.name(variable) {
            Some(name) => self
                .frame
                .column(&name)
                .map(|c| (c, name.clone()))
                .map_err(|_| RegisterError::MissingVariable {
                    file: self.file.clone(),
                    variable: name,
                }),
            None => Err(RegisterError::MissingVariable {
                file: self.file.clone(),
                variable: variable
                    .candidates()
                    .iter()
                    .map(|n| n.to_ascii_uppercase())
                    .collect::<Vec<_>>()
                    .join(" or "),
            }),
        }
    }

    pub fn bad<V: Variable + ?Sized>(
        &self,
        index: usize,
        variable: &V,
        message: impl Into<String>,
    ) -> RegisterError {
        RegisterError::Malformed {
            file: self.file.clone(),
            row: self.rows.row(index),
            variable: self.label(variable),
            message: message.into(),
        }
    }

    /// A variable as text: numbers written without a decimal part when they are whole,
    /// text trimmed; empty text is missing. Text columns are borrowed, not copied.
    pub fn text<V: Variable + ?Sized>(&self, variable: &V) -> Result<Texts<'_>, RegisterError> {
        let (column, name) = self.column(variable)?;
        let variable = name.as_str();
        let series = column.as_materialized_series();
        let values: Vec<Option<String>> = match series.dtype() {
            DataType::String => {
                let strings = series
                    .str()
                    .map_err(|e| self.bad(0, variable, e.to_string()))?;
                return Ok(Texts::Column(strings));
            }
            DataType::Float32 | DataType::Float64 => {
                let f = series
                    .cast(&DataType::Float64)
                    .map_err(|e| self.bad(0, variable, e.to_string()))?;
                f.f64()
                    .map_err(|e| self.bad(0, variable, e.to_string()))?
                    .iter()
                    .map(|v| {
                        v.filter(|x| x.is_finite()).map(|x| {
                            if x.fract() == 0.0 && x.abs() < 1e15 {
                                format!("{}", x as i64)
                            } else {
                                format!("{x}")
                            }
                        })
                    })
                    .collect()
            }
            dt if dt.is_primitive_numeric() || dt.is_bool() => {
                let s = series
                    .cast(&DataType::String)
                    .map_err(|e| self.bad(0, variable, e.to_string()))?;
                s.str()
                    .map_err(|e| self.bad(0, variable, e.to_string()))?
                    .iter()
                    .map(|v| v.map(str::to_string))
                    .collect()
            }
            DataType::Categorical(_, _) | DataType::Enum(_, _) => {
                let s = series
                    .cast(&DataType::String)
                    .map_err(|e| self.bad(0, variable, e.to_string()))?;
                s.str()
                    .map_err(|e| self.bad(0, variable, e.to_string()))?
                    .iter()
                    .map(|v| {
                        v.map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                    })
                    .collect()
            }
            other => {
                return Err(self.bad(
                    0,
                    variable,
                    format!("expected codes or text, found {other}"),
                ))
            }
        };
        Ok(Texts::Owned(values))
    }

    /// Calls `f` with each row's text (as [`Table::text`] gives it) without copying
    /// text columns.
    pub fn for_each_text<V: Variable + ?Sized>(
        &self,
        variable: &V,
        mut f: impl FnMut(usize, Option<&str>),
    ) -> Result<(), RegisterError> {
        let (column, name) = self.column(variable)?;
        let variable = name.as_str();
        let series = column.as_materialized_series();
        if let Ok(strings) = series.str() {
            for (i, v) in strings.iter().enumerate() {
                f(i, v.map(str::trim).filter(|s| !s.is_empty()));
            }
        } else {
            let texts = self.text(variable)?;
            for i in 0..texts.len() {
                f(i, texts.get(i));
            }
        }
        Ok(())
    }

    /// A variable as whole numbers.
    pub fn integers<V: Variable + ?Sized>(
        &self,
        variable: &V,
    ) -> Result<Vec<Option<i64>>, RegisterError> {
        let (column, name) = self.column(variable)?;
        let variable = name.as_str();
        let series = column.as_materialized_series();
        if series.dtype().is_primitive_numeric() {
            let f = series
                .cast(&DataType::Float64)
                .map_err(|e| self.bad(0, variable, e.to_string()))?;
            let f = f.f64().map_err(|e| self.bad(0, variable, e.to_string()))?;
            return f
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Some(x) if x.is_finite() && x.fract() == 0.0 => Ok(Some(x as i64)),
                    Some(x) if x.is_nan() => Ok(None),
                    Some(x) => Err(self.bad(i, variable, format!("{x} is not a whole number"))),
                    None => Ok(None),
                })
                .collect();
        }
        self.text(variable)?
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                None => Ok(None),
                Some(t) => t
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| self.bad(i, variable, format!("{t:?} is not a whole number"))),
            })
            .collect()
    }

    /// A variable as numbers.
    pub fn numbers<V: Variable + ?Sized>(
        &self,
        variable: &V,
    ) -> Result<Vec<Option<f64>>, RegisterError> {
        let (column, name) = self.column(variable)?;
        let variable = name.as_str();
        let series = column.as_materialized_series();
        if series.dtype().is_primitive_numeric() {
            let f = series
                .cast(&DataType::Float64)
                .map_err(|e| self.bad(0, variable, e.to_string()))?;
            return Ok(f
                .f64()
                .map_err(|e| self.bad(0, variable, e.to_string()))?
                .iter()
                .map(|v| v.filter(|x| x.is_finite()))
                .collect());
        }
        self.text(variable)?
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                None => Ok(None),
                Some(t) => t
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| self.bad(i, variable, format!("{t:?} is not a number"))),
            })
            .collect()
    }

    /// A variable as dates (days since 1970-01-01): a date, the day of a date-time, a
    /// number of days since 1960-01-01 (a SAS date without its format), or text as
    /// YYYY-MM-DD, DDMONYYYY (SAS DATE9) or YYYYMMDD.
    pub fn dates<V: Variable + ?Sized>(
        &self,
        variable: &V,
    ) -> Result<Vec<Option<i32>>, RegisterError> {
        Ok(self
            .date_times(variable)?
            .into_iter()
            .map(|v| v.map(|(d, _)| d))
            .collect())
    }

    /// A variable as (day, seconds into the day).
    pub fn date_times<V: Variable + ?Sized>(
        &self,
        variable: &V,
    ) -> Result<Vec<Option<(i32, i64)>>, RegisterError> {
        let (column, name) = self.column(variable)?;
        let variable = name.as_str();
        let series = column.as_materialized_series();
        match series.dtype() {
            DataType::Date => {
                let days = series
                    .cast(&DataType::Int32)
                    .map_err(|e| self.bad(0, variable, e.to_string()))?;
                Ok(days
                    .i32()
                    .map_err(|e| self.bad(0, variable, e.to_string()))?
                    .iter()
                    .map(|v| v.map(|d| (d, 0)))
                    .collect())
            }
            DataType::Datetime(unit, _) => {
                let per_second: i64 = match unit {
                    TimeUnit::Nanoseconds => 1_000_000_000,
                    TimeUnit::Microseconds => 1_000_000,
                    TimeUnit::Milliseconds => 1_000,
                };
                let raw = series
                    .cast(&DataType::Int64)
                    .map_err(|e| self.bad(0, variable, e.to_string()))?;
                Ok(raw
                    .i64()
                    .map_err(|e| self.bad(0, variable, e.to_string()))?
                    .iter()
                    .map(|v| {
                        v.map(|t| {
                            let seconds = t.div_euclid(per_second);
                            (seconds.div_euclid(86_400) as i32, seconds.rem_euclid(86_400))
                        })
                    })
                    .collect())
            }
            dt if dt.is_primitive_numeric() => {
                let f = series
                    .cast(&DataType::Float64)
                    .map_err(|e| self.bad(0, variable, e.to_string()))?;
                f.f64()
                    .map_err(|e| self.bad(0, variable, e.to_string()))?
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        None => Ok(None),
                        Some(x) if x.is_nan() => Ok(None),
                        Some(x) => days_1960_to_unix(x)
                            .map(|d| Some((d, 0)))
                            .ok_or_else(|| self.bad(i, variable, format!("{x} is not a SAS date"))),
                    })
                    .collect()
            }
            DataType::String => self
                .text(variable)?
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    None => Ok(None),
                    Some(t) => parse_date_text(t).map(|d| Some((d, 0))).ok_or_else(|| {
                        self.bad(
                            i,
                            variable,
                            format!("{t:?} is not a date (expected a date, YYYY-MM-DD, DDMONYYYY or YYYYMMDD)"),
                        )
                    }),
                })
                .collect(),
            other => Err(self.bad(0, variable, format!("expected dates, found {other}"))),
        }
    }

    /// A time of day in seconds: a time, a number of seconds (a SAS time), or text HH:MM
    /// or HH:MM:SS.
    pub fn times<V: Variable + ?Sized>(
        &self,
        variable: &V,
    ) -> Result<Vec<Option<i64>>, RegisterError> {
        let (column, name) = self.column(variable)?;
        let variable = name.as_str();
        let series = column.as_materialized_series();
        match series.dtype() {
            DataType::Time => {
                let ns = series
                    .cast(&DataType::Int64)
                    .map_err(|e| self.bad(0, variable, e.to_string()))?;
                Ok(ns
                    .i64()
                    .map_err(|e| self.bad(0, variable, e.to_string()))?
                    .iter()
                    .map(|v| v.map(|t| t / 1_000_000_000))
                    .collect())
            }
            dt if dt.is_primitive_numeric() => Ok(self
                .numbers(variable)?
                .into_iter()
                .map(|v| v.map(|s| s.floor() as i64))
                .collect()),
            _ => self
                .text(variable)?
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    None => Ok(None),
                    Some(t) => parse_time_text(t).map(Some).ok_or_else(|| {
                        self.bad(i, variable, format!("{t:?} is not a time of day (HH:MM)"))
                    }),
                })
                .collect(),
        }
    }
}

/// A variable's text, row by row: read from a text column where it is (one chunk after
/// [`Table::read`], so a row is found directly), or made from numbers.
pub enum Texts<'a> {
    Column(&'a StringChunked),
    Owned(Vec<Option<String>>),
    Missing(usize),
}

impl Texts<'_> {
    /// A column of missing values.
    pub fn missing(n: usize) -> Texts<'static> {
        Texts::Missing(n)
    }

    pub fn len(&self) -> usize {
        match self {
            Texts::Column(c) => c.len(),
            Texts::Owned(v) => v.len(),
            Texts::Missing(n) => *n,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        match self {
            Texts::Column(c) => c.get(i).map(str::trim).filter(|s| !s.is_empty()),
            Texts::Owned(v) => v[i].as_deref(),
            Texts::Missing(_) => None,
        }
    }

    pub fn owned(&self, i: usize) -> Option<String> {
        self.get(i).map(str::to_string)
    }

    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// Days since 1960-01-01 (a SAS date) → days since 1970-01-01.
fn days_1960_to_unix(days: f64) -> Option<i32> {
    const DAYS_1960_TO_1970: i64 = 3653;
    let day = days.floor();
    if !day.is_finite() || day.abs() > 1e7 {
        return None;
    }
    i32::try_from(day as i64 - DAYS_1960_TO_1970).ok()
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

pub fn parse_date_text(text: &str) -> Option<i32> {
    let t = text.trim();
    if let Some(d) = parse_iso_date(t) {
        return Some(d);
    }
    let valid = |y: i32, m: i32, d: i32| {
        let day = days_from_civil(y, m, d);
        (crate::data::calendar::civil_from_days(day) == (y, m, d)).then_some(day)
    };
    if t.len() == 9 && t.is_ascii() {
        let day: i32 = t[..2].parse().ok()?;
        let month = MONTHS
            .iter()
            .position(|m| t[2..5].eq_ignore_ascii_case(m))? as i32
            + 1;
        let year: i32 = t[5..].parse().ok()?;
        return valid(year, month, day);
    }
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        let year: i32 = t[..4].parse().ok()?;
        let month: i32 = t[4..6].parse().ok()?;
        let day: i32 = t[6..].parse().ok()?;
        return valid(year, month, day);
    }
    None
}

fn parse_time_text(text: &str) -> Option<i64> {
    let mut parts = text.trim().split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let s: i64 = parts.next().map_or(Some(0), |s| s.parse().ok())?;
    (parts.next().is_none() && (0..24).contains(&h) && (0..60).contains(&m) && (0..61).contains(&s))
        .then_some(h * 3600 + m * 60 + s)
}
