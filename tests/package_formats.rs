//! SAS and Stata datasets read by shine compared, value by value, with R haven's reading
//! of the same files (`tests/reference/sas7bdat/read_with_haven.R`,
//! `tests/reference/dta/read_with_haven.R`, which store every value as text).
//!
//! A blank text value is missing (null) in shine and the empty string in haven; the two
//! are taken as equal. Everything else must agree: names, order, kind, every value
//! (doubles to the last bit, or within `ROUND_TRIP`).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use polars::prelude::*;
use serde_json::Value;
use shine::data::formats::{self, ReadOptions, ValueKind};
use shine::data::read::{civil_from_days, format_date};

fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Number => "double",
        ValueKind::Text => "string",
        ValueKind::Date => "date",
        ValueKind::DateTime => "datetime",
        ValueKind::Time => "time",
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of microseconds since 1970 (whole seconds, as R's `format`).
fn iso_seconds(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days as i32);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// Compares one fixture with its reference; returns the number of values compared.
fn compare(fixture: &Path, reference: &Value) -> usize {
    let shown = fixture.display().to_string();
    let file = formats::open(fixture, ReadOptions { threads: 2 }).unwrap_or_else(|e| panic!("{e}"));
    let frame =
        formats::read_frame(fixture, ReadOptions { threads: 2 }).unwrap_or_else(|e| panic!("{e}"));
    let rows = reference["rows"].as_u64().expect("rows") as usize;
    assert_eq!(frame.height(), rows, "{shown}: rows");
    assert_eq!(file.rows() as usize, rows, "{shown}: rows in the header");
    let columns = reference["columns"].as_array().expect("columns");
    assert_eq!(frame.width(), columns.len(), "{shown}: number of variables");
    let mut compared = 0;
    for (i, (column, variable)) in columns.iter().zip(file.variables()).enumerate() {
        let name = column["name"].as_str().expect("name");
        assert_eq!(variable.name, name, "{shown}: variable {}", i + 1);
        if variable.format.as_deref().is_some_and(|f| {
            f.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
                .eq_ignore_ascii_case("DATEAMPM")
        }) {
            // haven 2.5.1 reads DATEAMPM, a SAS date-time format (seconds since
            // 1960), as a date (days), giving the year 4,944,224 in Parso's
            // date_formats file; shine reads it as the date-time it is, which must
            // fall in a plausible era.
            assert_eq!(variable.kind, ValueKind::DateTime, "{shown}: {name}");
            let micros = frame.columns()[i]
                .as_materialized_series()
                .cast(&DataType::Int64)
                .expect("microseconds");
            for v in micros.i64().expect("microseconds").iter().flatten() {
                let year = 1970.0 + v as f64 / 1e6 / 86_400.0 / 365.25;
                assert!(
                    (1900.0..2100.0).contains(&year),
                    "{shown}: {name}: year {year}"
                );
            }
            continue;
        }
        let kind = column["type"].as_str().expect("type");
        assert_eq!(
            kind_name(variable.kind),
            kind,
            "{shown}: kind of {name} (format {:?})",
            variable.format
        );
        // jsonlite writes the one value of a one-row file as a scalar.
        let values = match &column["values"] {
            Value::Array(values) => values.clone(),
            one => vec![one.clone()],
        };
        let values = &values;
        let series = frame.columns()[i].as_materialized_series().clone();
        let at = |row: usize| format!("{shown}, row {}, {name}", row + 1);
        match variable.kind {
            ValueKind::Number | ValueKind::Time => {
                let ours = series.f64().expect("Float64");
                for (row, (v, r)) in ours.iter().zip(values).enumerate() {
                    match (v, r.as_str()) {
                        (None, None) => {}
                        (Some(v), Some(r)) => {
                            let r: f64 = r.parse().expect("a number");
                            assert!(
                                v == r || close(v, r, ROUND_TRIP),
                                "{}: {v:e} against {r:e}",
                                at(row)
                            );
                        }
                        (v, r) => panic!("{}: {v:?} against {r:?}", at(row)),
                    }
                }
            }
            ValueKind::Text => {
                let ours = series.str().expect("String");
                for (row, (v, r)) in ours.iter().zip(values).enumerate() {
                    let r = r.as_str().unwrap_or("");
                    assert_eq!(v.unwrap_or(""), r, "{}", at(row));
                }
            }
            ValueKind::Date => {
                let ours = series.cast(&DataType::Int32).expect("days");
                for (row, (v, r)) in ours.i32().expect("days").iter().zip(values).enumerate() {
                    assert_eq!(v.map(format_date).as_deref(), r.as_str(), "{}", at(row));
                }
            }
            ValueKind::DateTime => {
                let ours = series.cast(&DataType::Int64).expect("microseconds");
                for (row, (v, r)) in ours
                    .i64()
                    .expect("microseconds")
                    .iter()
                    .zip(values)
                    .enumerate()
                {
                    assert_eq!(v.map(iso_seconds).as_deref(), r.as_str(), "{}", at(row));
                }
            }
        }
        compared += values.len();
    }
    compared
}

/// Every fixture of `fixtures` against its stored reading in `values`.
fn compare_all(fixtures: &str, values: &str, minimum: usize) {
    let references = json_files(repo_path(values));
    assert!(!references.is_empty(), "no references in {values}");
    let mut total = 0;
    for path in &references {
        let reference = read_json(path);
        let fixture: PathBuf = repo_path(fixtures).join(reference["file"].as_str().expect("file"));
        total += compare(&fixture, &reference);
    }
    // Each file has to hold values for the comparison to mean anything.
    assert!(total >= minimum, "only {total} values compared");
}

#[test]
fn sas7bdat_fixtures_read_as_haven_reads_them() {
    compare_all(
        "tests/fixtures/sas7bdat",
        "tests/reference/sas7bdat/values",
        10_000,
    );
}

#[test]
fn stata_fixtures_read_as_haven_reads_them() {
    compare_all("tests/fixtures/dta", "tests/reference/dta/values", 300);
}
