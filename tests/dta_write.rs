//! The Stata writer (`shine::data::formats::dta_write`): every column type and its edge
//! values read back by shine's reader; a dataset written a chunk at a time is the same
//! bytes as one written whole; values that Stata cannot hold are refused with their row
//! and variable; and the files it wrote read the same in R haven and pandas as in shine
//! (`tests/reference/dta_write/read_with_haven.R` and `read_with_pandas.py`, which store
//! every value as text).

mod common;

use std::path::Path;

use common::*;
use polars::prelude::*;
use serde_json::Value;
use shine::data::formats::dta_write::{write_dta, DtaLayout, DtaWriter, LayoutBuilder, Storage};
use shine::data::formats::{self, FormatError, ReadOptions, ValueKind};
use shine::data::read::format_date;

const I53: i64 = 1 << 53;
const FLOAT_MAX: f32 = f32::from_bits(0x7eff_ffff);

fn days(y: i32, m: i32, d: i32) -> i32 {
    shine::data::calendar::days_from_civil(y, m, d)
}

/// Six rows with the edge values of every column type the writer takes.
fn edge_frame() -> DataFrame {
    let ms = |day: i32, millis: i64| i64::from(day) * 86_400_000 + millis;
    let long_text = "y".repeat(5000);
    let widest = "x".repeat(2045);
    let columns = vec![
        Column::new(
            "tiny".into(),
            [Some(-127i8), Some(100), None, Some(0), Some(5), Some(1)],
        ),
        Column::new(
            "small".into(),
            [
                Some(-32_767i16),
                Some(32_740),
                None,
                Some(101),
                Some(-128),
                Some(0),
            ],
        ),
        Column::new(
            "medium".into(),
            [
                Some(-2_147_483_647i32),
                Some(2_147_483_620),
                None,
                Some(32_741),
                Some(0),
                Some(-32_768),
            ],
        ),
        Column::new(
            "i32_extremes".into(),
            [
                Some(i32::MIN),
                Some(i32::MAX),
                None,
                Some(0),
                Some(-1),
                Some(2_147_483_621),
            ],
        ),
        Column::new(
            "i53".into(),
            [Some(I53), Some(-I53), None, Some(1), Some(I53 - 1), Some(0)],
        ),
        Column::new(
            "unsigned".into(),
            [Some(0u64), Some(255), None, Some(7), Some(100), Some(3)],
        ),
        Column::new(
            "flag".into(),
            [
                Some(true),
                Some(false),
                None,
                Some(true),
                Some(false),
                Some(true),
            ],
        ),
        Column::new(
            "real".into(),
            [
                Some(f64::NAN),
                None,
                Some(1e300),
                Some(-0.1),
                Some(5e-324),
                Some(8.988_465_674e307),
            ],
        ),
        Column::new(
            "single".into(),
            [
                Some(f32::NAN),
                None,
                Some(FLOAT_MAX),
                Some(-1.5),
                Some(1e-45),
                Some(0.1),
            ],
        ),
        Int32Chunked::from_iter_options(
            "day".into(),
            [
                Some(days(1900, 1, 1)),
                Some(days(1959, 12, 31)),
                Some(days(1960, 1, 1)),
                None,
                Some(days(1970, 1, 1)),
                Some(days(2026, 12, 4)),
            ]
            .into_iter(),
        )
        .into_date()
        .into_series()
        .into_column(),
        Int64Chunked::from_iter_options(
            "moment".into(),
            [
                Some(ms(days(1959, 12, 31), 86_399_999)),
                Some(ms(days(1960, 1, 1), 0)),
                None,
                Some(ms(days(2024, 2, 29), 45_296_789)),
                Some(ms(days(1900, 1, 1), 1)),
                Some(ms(days(2026, 12, 4), 0)),
            ]
            .into_iter(),
        )
        .into_datetime(TimeUnit::Milliseconds, None)
        .into_series()
        .into_column(),
        Column::new(
            "text".into(),
            [
                Some(""),
                None,
                Some("Ærø æøå"),
                Some("a"),
                Some(widest.as_str()),
                Some("tab\tand \"quotes\""),
            ],
        ),
        Column::new(
            "long_text".into(),
            [
                Some(""),
                None,
                Some(long_text.as_str()),
                Some("short"),
                Some("Æ"),
                Some("z"),
            ],
        ),
        Column::new(
            "no_text".into(),
            [None::<&str>, Some(""), None, None, Some(""), None],
        ),
    ];
    DataFrame::new(6, columns).expect("the edge frame")
}

/// What shine's reader must give back for a column of the edge frame.
fn expected(column: &Column) -> Series {
    let series = column.as_materialized_series();
    match series.dtype() {
        DataType::String => {
            let values: StringChunked = series
                .str()
                .expect("text")
                .iter()
                .map(|v| v.filter(|v| !v.is_empty()))
                .collect();
            values.with_name(series.name().clone()).into_series()
        }
        DataType::Date => series.clone(),
        DataType::Datetime(..) => series
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .expect("µs"),
        _ => {
            let values: Float64Chunked = series
                .cast(&DataType::Float64)
                .expect("numbers")
                .f64()
                .expect("f64")
                .iter()
                .map(|v| v.filter(|v| !v.is_nan()))
                .collect();
            values.with_name(series.name().clone()).into_series()
        }
    }
}

#[test]
fn every_column_type_and_edge_value_reads_back() {
    let scratch = Scratch::new("dta-write");
    let path = scratch.join("edge.dta");
    let frame = edge_frame();
    let layout = DtaLayout::of_frame("edge.dta", &frame).expect("a layout");
    let storages: Vec<(&str, Storage)> = layout
        .variables()
        .iter()
        .map(|v| (v.name.as_str(), v.storage))
        .collect();
    assert_eq!(
        storages,
        [
            ("tiny", Storage::Byte),
            ("small", Storage::Int),
            ("medium", Storage::Long),
            ("i32_extremes", Storage::Double),
            ("i53", Storage::Double),
            ("unsigned", Storage::Int),
            ("flag", Storage::Byte),
            ("real", Storage::Double),
            ("single", Storage::Float),
            ("day", Storage::Long),
            ("moment", Storage::Double),
            ("text", Storage::Str(2045)),
            ("long_text", Storage::StrL),
            ("no_text", Storage::Str(1)),
        ]
    );
    assert_eq!(write_dta(&path, &frame).expect("written"), 6);

    let file = formats::open(&path, ReadOptions::default()).expect("readable");
    assert_eq!(file.rows(), 6);
    let kinds: Vec<ValueKind> = file.variables().iter().map(|v| v.kind).collect();
    assert_eq!(kinds[9], ValueKind::Date);
    assert_eq!(kinds[10], ValueKind::DateTime);
    let back = formats::read_frame(&path, ReadOptions::default()).expect("read back");
    assert_eq!(back.height(), 6);
    for (ours, written) in back.columns().iter().zip(frame.columns()) {
        let want = expected(written);
        let got = ours.as_materialized_series();
        assert_eq!(got.name(), want.name());
        assert_eq!(got.dtype(), want.dtype(), "{}", want.name());
        assert!(
            got.equals_missing(&want),
            "{}: {got:?} against {want:?}",
            want.name()
        );
        if let Ok(values) = want.f64() {
            // -0.0 and 0.0 are equal; the bits must be too.
            let bits = |s: &Float64Chunked| -> Vec<Option<u64>> {
                s.iter().map(|v| v.map(f64::to_bits)).collect()
            };
            assert_eq!(
                bits(got.f64().expect("f64")),
                bits(values),
                "{}",
                want.name()
            );
        }
    }
}

#[test]
fn chunks_give_the_bytes_of_the_whole_frame() {
    let scratch = Scratch::new("dta-chunks");
    let frame = edge_frame();
    let whole = scratch.join("whole.dta");
    write_dta(&whole, &frame).expect("written");

    let chunked = scratch.join("chunked.dta");
    let parts = [frame.slice(0, 2), frame.slice(2, 3), frame.slice(5, 1)];
    let mut builder = LayoutBuilder::new("chunked.dta", frame.schema()).expect("names");
    for part in &parts {
        builder.observe(part).expect("holdable values");
    }
    let mut writer = DtaWriter::create(&chunked, builder.finish(), "").expect("created");
    for part in &parts {
        writer.write(part).expect("rows");
    }
    assert_eq!(writer.finish().expect("finished"), 6);
    assert_eq!(
        std::fs::read(&whole).expect("whole"),
        std::fs::read(&chunked).expect("chunked")
    );

    // The reference files are what the writer writes today (SHINE_WRITE_REFERENCE=1
    // stores it anew, before the scripts in tests/reference/dta_write are rerun).
    let stored = repo_path("tests/reference/dta_write/files/edge_values.dta");
    if std::env::var_os("SHINE_WRITE_REFERENCE").is_some() {
        std::fs::copy(&whole, &stored).expect("stored");
    }
    assert!(
        std::fs::read(&stored).expect("stored edge file") == std::fs::read(&whole).expect("whole"),
        "{} differs from the writer's output: copy it from {} and rerun the scripts in \
         tests/reference/dta_write",
        stored.display(),
        whole.display()
    );
}

fn refused(frame: DataFrame) -> String {
    let scratch = Scratch::new("dta-refused");
    match write_dta(&scratch.join("refused.dta"), &frame) {
        Ok(_) => panic!("written: {frame:?}"),
        Err(e @ FormatError::Data { .. }) => e.to_string(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn values_stata_cannot_hold_are_refused_with_row_and_variable() {
    let message = refused(df!("count" => [1i64, 2, I53 + 1]).expect("frame"));
    assert!(
        message.contains("row 4") && message.contains("column count"),
        "{message}"
    );
    let message = refused(df!("x" => [0.5f64, f64::INFINITY]).expect("frame"));
    assert!(
        message.contains("row 3") && message.contains("column x"),
        "{message}"
    );
    let message = refused(df!("x" => [f32::MAX]).expect("frame"));
    assert!(
        message.contains("row 2") && message.contains("column x"),
        "{message}"
    );
    let message = refused(df!("name" => ["ok", "nul\0inside"]).expect("frame"));
    assert!(
        message.contains("row 3") && message.contains("NUL"),
        "{message}"
    );
    let message = refused(df!("1st" => [1i64]).expect("frame"));
    assert!(message.contains("\"1st\""), "{message}");
    let message = refused(df!("a_name_of_thirty_three_characters" => [1i64]).expect("frame"));
    assert!(message.contains("not a Stata variable name"), "{message}");

    // A chunk that does not fit the layout chosen from the first is refused, not cut.
    let scratch = Scratch::new("dta-misfit");
    let first = df!("code" => ["ab"]).expect("frame");
    let layout = DtaLayout::of_frame("misfit.dta", &first).expect("layout");
    let mut writer = DtaWriter::create(&scratch.join("misfit.dta"), layout, "").expect("created");
    writer.write(&first).expect("fits");
    let error = writer
        .write(&df!("code" => ["abc"]).expect("frame"))
        .expect_err("too long")
        .to_string();
    assert!(
        error.contains("row 3") && error.contains("column code"),
        "{error}"
    );
}

/// `YYYY-MM-DD` of days since 1970, or milliseconds since 1970 as an integer, as the
/// reference scripts write them.
fn ours_as_text(series: &Series, kind: ValueKind) -> Vec<Option<String>> {
    match kind {
        ValueKind::Date => series
            .cast(&DataType::Int32)
            .expect("days")
            .i32()
            .expect("days")
            .iter()
            .map(|v| v.map(format_date))
            .collect(),
        ValueKind::DateTime => series
            .cast(&DataType::Int64)
            .expect("µs")
            .i64()
            .expect("µs")
            .iter()
            .map(|v| v.map(|v| (v.div_euclid(1000)).to_string()))
            .collect(),
        ValueKind::Text => series
            .str()
            .expect("text")
            .iter()
            .map(|v| v.map(str::to_string))
            .collect(),
        ValueKind::Number | ValueKind::Time => series
            .f64()
            .expect("numbers")
            .iter()
            .map(|v| v.map(|v| format!("{v:e}")))
            .collect(),
    }
}

/// Compares shine's reading of a written file with another reader's stored values;
/// returns the number of values compared.
fn compare(file: &Path, reference: &Value, reader: &str) -> usize {
    let shown = format!("{} ({reader})", file.display());
    let opened = formats::open(file, ReadOptions::default()).expect("readable");
    let frame = formats::read_frame(file, ReadOptions::default()).expect("read");
    assert_eq!(
        frame.height() as u64,
        reference["rows"].as_u64().expect("rows"),
        "{shown}: rows"
    );
    let columns = reference["columns"].as_array().expect("columns");
    assert_eq!(frame.width(), columns.len(), "{shown}: variables");
    let mut compared = 0;
    for ((column, variable), ours) in columns.iter().zip(opened.variables()).zip(frame.columns()) {
        let name = column["name"].as_str().expect("name");
        assert_eq!(variable.name, name, "{shown}");
        let kind = column["type"].as_str().expect("type");
        let want_kind = match variable.kind {
            ValueKind::Date => "date",
            ValueKind::DateTime => "datetime",
            ValueKind::Text => "string",
            ValueKind::Number | ValueKind::Time => "double",
        };
        assert_eq!(kind, want_kind, "{shown}: {name}");
        let values = column["values"].as_array().expect("values");
        let ours = ours_as_text(ours.as_materialized_series(), variable.kind);
        assert_eq!(ours.len(), values.len(), "{shown}: {name}");
        for (row, (v, r)) in ours.iter().zip(values).enumerate() {
            let at = format!("{shown}, {name}, observation {}", row + 1);
            let r = r.as_str();
            match variable.kind {
                // Stata has no missing text: both readers give "" where shine gives null.
                ValueKind::Text => assert_eq!(v.as_deref().unwrap_or(""), r.unwrap_or(""), "{at}"),
                ValueKind::Number | ValueKind::Time => match (v, r) {
                    (None, None) => {}
                    (Some(v), Some(r)) => {
                        let v: f64 = v.parse().expect("ours");
                        let r: f64 = r.parse().expect("a number");
                        assert_eq!(v.to_bits(), r.to_bits(), "{at}: {v:e} against {r:e}");
                    }
                    _ => panic!("{at}: {v:?} against {r:?}"),
                },
                _ => assert_eq!(v.as_deref(), r, "{at}"),
            }
            compared += 1;
        }
    }
    compared
}

#[test]
fn written_files_read_the_same_in_haven_and_pandas() {
    for (reader, folder) in [("haven", "values_haven"), ("pandas", "values_pandas")] {
        let references = json_files(repo_path(&format!("tests/reference/dta_write/{folder}")));
        assert!(
            references.len() >= 6,
            "{reader}: {} files",
            references.len()
        );
        let mut total = 0;
        for path in &references {
            let reference = read_json(path);
            let file = repo_path("tests/reference/dta_write/files")
                .join(reference["file"].as_str().expect("file"));
            total += compare(&file, &reference, reader);
        }
        assert!(total >= 1000, "{reader}: only {total} values compared");
    }
}
