use super::temporal::*;
use super::*;

#[test]
fn sas_formats_are_classified_as_haven_does() {
    assert_eq!(sas_numeric_kind(Some("DATE")), ValueKind::Date);
    assert_eq!(sas_numeric_kind(Some("ddmmyy")), ValueKind::Date);
    assert_eq!(sas_numeric_kind(Some("YYMMDDD10.")), ValueKind::Date);
    assert_eq!(sas_numeric_kind(Some("WEEKDATX")), ValueKind::Number);
    assert_eq!(sas_numeric_kind(Some("E8601DA")), ValueKind::Date);
    assert_eq!(sas_numeric_kind(Some("DATETIME")), ValueKind::DateTime);
    assert_eq!(sas_numeric_kind(Some("E8601DT")), ValueKind::DateTime);
    assert_eq!(sas_numeric_kind(Some("TIME")), ValueKind::Time);
    // Formats haven leaves numeric stay numbers: a month name is not a date.
    assert_eq!(sas_numeric_kind(Some("MONNAME")), ValueKind::Number);
    assert_eq!(sas_numeric_kind(Some("BEST")), ValueKind::Number);
    assert_eq!(sas_numeric_kind(None), ValueKind::Number);
}

#[test]
fn stata_formats_are_classified_as_haven_does() {
    assert_eq!(stata_numeric_kind("%td"), ValueKind::Date);
    assert_eq!(stata_numeric_kind("%tdDD/NN/CCYY"), ValueKind::Date);
    assert_eq!(stata_numeric_kind("%-td"), ValueKind::Date);
    assert_eq!(stata_numeric_kind("%d"), ValueKind::Date);
    assert_eq!(stata_numeric_kind("%tc"), ValueKind::DateTime);
    assert_eq!(stata_numeric_kind("%tC"), ValueKind::DateTime);
    assert_eq!(stata_numeric_kind("%9.0g"), ValueKind::Number);
    assert_eq!(stata_numeric_kind("%10.2f"), ValueKind::Number);
    assert_eq!(stata_numeric_kind("%tm"), ValueKind::Number);
}

#[test]
fn epochs_convert_from_1960_to_1970() {
    assert_eq!(days_1960_to_unix(0.0), Some(-3653));
    assert_eq!(days_1960_to_unix(3653.0), Some(0));
    // A fractional day belongs to the day it falls in, also before 1960.
    assert_eq!(days_1960_to_unix(-0.5), Some(-3654));
    assert_eq!(days_1960_to_unix(f64::NAN), None);
    assert_eq!(seconds_1960_to_unix_micros(315_619_200.0), Some(0));
    assert_eq!(seconds_1960_to_unix_micros(315_619_201.5), Some(1_500_000));
    assert_eq!(millis_1960_to_unix_micros(315_619_200_000.0), Some(0));
}

#[test]
fn package_formats_come_from_the_extension() {
    use std::path::Path;
    assert_eq!(
        PackageFormat::from_path(Path::new("bef2019.SAS7BDAT")),
        Some(PackageFormat::Sas7bdat)
    );
    assert_eq!(
        PackageFormat::from_path(Path::new("x.dta")),
        Some(PackageFormat::Stata)
    );
    assert_eq!(PackageFormat::from_path(Path::new("x.csv")), None);
}

/// Every SAS fixture, in folders below `dir`.
fn sas_fixtures(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("fixture folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sas_fixtures(&path, found);
        } else if PackageFormat::from_path(&path) == Some(PackageFormat::Sas7bdat) {
            found.push(path);
        }
    }
}

/// The chunks of one read: their heights and the rows stacked.
fn read_sas_in_chunks(
    path: &std::path::Path,
    threads: usize,
    chunk_rows: usize,
) -> (Vec<usize>, DataFrame) {
    let file = open(path, ReadOptions { threads }).unwrap_or_else(|e| panic!("{e}"));
    let mut heights = Vec::new();
    let mut frame = file.empty_frame();
    file.read_chunks(chunk_rows, &mut |chunk| {
        heights.push(chunk.height());
        frame.vstack_mut_owned(chunk).expect("same columns");
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    (heights, frame)
}

#[test]
fn sas_chunks_do_not_depend_on_the_thread_count() {
    let mut fixtures = Vec::new();
    sas_fixtures(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sas7bdat"),
        &mut fixtures,
    );
    assert!(fixtures.len() >= 10, "{} SAS fixtures", fixtures.len());
    let mut multi_page = 0;
    for path in &fixtures {
        let shown = path.display();
        let rows = open(path, ReadOptions::default()).map(|f| f.rows());
        let Ok(rows) = rows else { continue };
        let rows = rows as usize;
        let (_, whole) = read_sas_in_chunks(path, 1, DEFAULT_CHUNK_ROWS);
        assert_eq!(whole.height(), rows, "{shown}");
        for (threads, chunk_rows) in [(1, 7), (4, 7), (4, 1), (3, DEFAULT_CHUNK_ROWS)] {
            let (heights, frame) = read_sas_in_chunks(path, threads, chunk_rows);
            // Every chunk full but the last, whatever batches the reader cut.
            let expected: Vec<usize> = (0..rows.div_ceil(chunk_rows))
                .map(|k| chunk_rows.min(rows - k * chunk_rows))
                .collect();
            assert_eq!(
                heights, expected,
                "{shown}: {threads} threads, chunks of {chunk_rows}"
            );
            assert!(
                frame.equals_missing(&whole),
                "{shown}: {threads} threads, chunks of {chunk_rows}"
            );
        }
        multi_page += usize::from(std::fs::metadata(path).map_or(0, |m| m.len()) > 65_536);
    }
    assert!(multi_page >= 3, "{multi_page} fixtures of several pages");
}
