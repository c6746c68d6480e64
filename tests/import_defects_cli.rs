//! Planted defects in raw registers: each gives exit code 2 naming the file, the row and
//! the variable, or a counted warning naming them, never a panic.

mod common;
mod raw_registers;

use std::fs::File;
use std::path::Path;

use common::{read_json, run, shine, Run, Scratch};
use polars::prelude::*;
use raw_registers::{days, read_parquet, small_raw, texts, write_parquet};

/// Rewrites one file of the raw folder.
fn edit(dir: &Path, file: &str, change: impl FnOnce(&mut DataFrame)) {
    let path = dir.join(file);
    let mut df = read_parquet(&path);
    change(&mut df);
    write_parquet(&path, df);
}

fn set_text(df: &mut DataFrame, name: &str, row: usize, value: Option<&str>) {
    let mut v = texts(df, name);
    v[row] = value.map(str::to_string);
    df.with_column(
        StringChunked::from_iter_options(name.into(), v.into_iter())
            .into_series()
            .into_column(),
    )
    .unwrap();
}

fn ints(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
    df.column(name)
        .unwrap()
        .as_materialized_series()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect()
}

fn set_int(df: &mut DataFrame, name: &str, row: usize, value: Option<i64>) {
    let mut v = ints(df, name);
    v[row] = value;
    df.with_column(
        Int64Chunked::from_iter_options(name.into(), v.into_iter())
            .into_series()
            .into_column(),
    )
    .unwrap();
}

fn set_day(df: &mut DataFrame, name: &str, row: usize, value: i32) {
    let mut v = days(df, name);
    v[row] = Some(value);
    df.with_column(
        Int32Chunked::from_iter_options(name.into(), v.into_iter())
            .into_date()
            .into_series()
            .into_column(),
    )
    .unwrap();
}

fn import(scratch: &Scratch, dir: &Path) -> Run {
    run(shine()
        .args(["import", "--registers"])
        .arg(dir)
        .arg("--out")
        .arg(scratch.join("extracts")))
}

/// Exit code 2 and a message naming the file, the row and the variable.
#[track_caller]
fn assert_rejected(out: &Run, file: &str, row: Option<usize>, variable: &str) {
    assert_eq!(out.code, Some(2), "expected exit code 2:\n{}", out.stderr);
    assert!(
        out.stderr.contains(file),
        "file {file} not named:\n{}",
        out.stderr
    );
    if let Some(row) = row {
        assert!(
            out.stderr.contains(&format!("row {row},")),
            "row {row} not named:\n{}",
            out.stderr
        );
    }
    assert!(
        out.stderr.contains(variable),
        "variable {variable} not named:\n{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

/// Success, with a counted warning of this kind naming the file, row and variable.
#[track_caller]
fn assert_warned(scratch: &Scratch, out: &Run, kind: &str, file: &str, row: usize, variable: &str) {
    assert!(out.success(), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("warning: {kind}")),
        "no warning {kind}:\n{}",
        out.stderr
    );
    let report = read_json(scratch.join("extracts/import_report.json"));
    let warning = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == kind)
        .unwrap_or_else(|| panic!("{kind} not in the report: {}", report["warnings"]));
    assert!(warning["count"].as_u64().unwrap() >= 1);
    assert!(
        warning["first"]["file"].as_str().unwrap().ends_with(file),
        "{warning}"
    );
    assert_eq!(warning["first"]["row"], row, "{warning}");
    assert_eq!(warning["first"]["variable"], variable, "{warning}");
}

/// The first row of a health insurance file that is a general-practice service of an
/// adult.
fn first_gp_row(df: &DataFrame) -> usize {
    let spec = texts(df, "SPECIALE");
    let child = ints(df, "BARNMAK");
    (0..df.height())
        .find(|&i| {
            spec[i].as_deref().is_some_and(|s| s.starts_with("80"))
                && child[i] == Some(0)
                && texts(df, "YDELSESNUMMER")[i].as_deref() != Some("2101")
        })
        .unwrap()
}

#[test]
fn unknown_sex_code_is_rejected() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "BEF2024.parquet", |df| {
        set_int(df, "KOEN", 0, Some(3))
    });
    assert_rejected(&import(&s, &dir), "BEF2024.parquet", Some(2), "KOEN");
}

#[test]
fn unknown_education_code_is_a_warning() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "UDDA2024.parquet", |df| {
        set_int(df, "HFAUDD", 0, Some(1111))
    });
    let out = import(&s, &dir);
    assert_warned(
        &s,
        &out,
        "UDDA: unknown HFAUDD code",
        "UDDA2024.parquet",
        2,
        "HFAUDD",
    );
}

#[test]
fn fee_week_53_in_a_year_without_one_is_rejected() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    let mut row = 0;
    edit(&dir, "SSSY2024.parquet", |df| {
        row = first_gp_row(df);
        set_int(df, "HONUGE", row, Some(2453));
    });
    let out = import(&s, &dir);
    assert_rejected(&out, "SSSY2024.parquet", Some(row + 2), "HONUGE");
    assert!(out.stderr.contains("52 ISO weeks"), "{}", out.stderr);
}

#[test]
fn missing_fee_week_is_rejected() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    let mut row = 0;
    edit(&dir, "SSSY2024.parquet", |df| {
        row = first_gp_row(df);
        set_int(df, "HONUGE", row, None);
    });
    assert_rejected(
        &import(&s, &dir),
        "SSSY2024.parquet",
        Some(row + 2),
        "HONUGE",
    );
}

#[test]
fn pnr_missing_from_bef_is_a_warning() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    let mut row = 0;
    edit(&dir, "SSSY2024.parquet", |df| {
        row = first_gp_row(df);
        set_text(df, "PNR", row, Some("P99999999"));
    });
    let out = import(&s, &dir);
    assert_warned(
        &s,
        &out,
        "SSSY: PNR not in BEF",
        "SSSY2024.parquet",
        row + 2,
        "PNR",
    );
}

#[test]
fn contact_ending_before_it_starts_is_a_warning() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "LPR3_KONTAKTER2024.parquet", |df| {
        let start = days(df, "DATO_START")[0].unwrap();
        set_day(df, "DATO_SLUT", 0, start - 2);
    });
    let out = import(&s, &dir);
    assert_warned(
        &s,
        &out,
        "LPR: contact ends before it starts",
        "LPR3_KONTAKTER2024.parquet",
        2,
        "DATO_SLUT",
    );
}

#[test]
fn negative_count_with_no_earlier_service_is_a_warning() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    let mut row = 0;
    edit(&dir, "SSSY2024.parquet", |df| {
        row = first_gp_row(df);
        set_int(df, "YDLANT", row, Some(-5));
    });
    let out = import(&s, &dir);
    assert_warned(
        &s,
        &out,
        "SSSY: negative count with no earlier service",
        "SSSY2024.parquet",
        row + 2,
        "YDLANT",
    );
}

#[test]
fn duplicate_lpr3_contact_id_with_other_content_is_a_warning() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "LPR3_KONTAKTER2024.parquet", |df| {
        let first = texts(df, "DW_EK_KONTAKT")[0].clone();
        set_text(df, "DW_EK_KONTAKT", 1, first.as_deref());
    });
    let out = import(&s, &dir);
    assert_warned(
        &s,
        &out,
        "LPR3: contact id twice with different content",
        "LPR3_KONTAKTER2024.parquet",
        3,
        "DW_EK_KONTAKT",
    );
}

#[test]
fn text_date_in_a_date_column_is_rejected() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "DOD.parquet", |df| {
        let v: Vec<Option<String>> = days(df, "DODDATO")
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if i == 1 {
                    Some("31.12.2024".to_string())
                } else {
                    d.map(shine::data::calendar::format_date)
                }
            })
            .collect();
        df.with_column(
            StringChunked::from_iter_options("DODDATO".into(), v.into_iter())
                .into_series()
                .into_column(),
        )
        .unwrap();
    });
    let out = import(&s, &dir);
    assert_rejected(&out, "DOD.parquet", Some(3), "DODDATO");
    assert!(out.stderr.contains("31.12.2024"), "{}", out.stderr);
}

#[test]
fn sas_date_numbers_and_text_dates_are_both_read() {
    // BEF2022 holds FOED_DAG as bare SAS date numbers; as ISO text it reads the same.
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    let before = import(&s, &dir);
    assert!(before.success(), "{}", before.stderr);
    let persons = read_parquet(&s.join("extracts/persons.parquet"));
    edit(&dir, "BEF2022.parquet", |df| {
        let v: Vec<Option<String>> = df
            .column("FOED_DAG")
            .unwrap()
            .as_materialized_series()
            .f64()
            .unwrap()
            .iter()
            .map(|d| d.map(|d| shine::data::calendar::format_date(d as i32 - 3653)))
            .collect();
        df.with_column(
            StringChunked::from_iter_options("FOED_DAG".into(), v.into_iter())
                .into_series()
                .into_column(),
        )
        .unwrap();
    });
    let out = run(shine()
        .args(["import", "--force", "--registers"])
        .arg(&dir)
        .arg("--out")
        .arg(s.join("extracts")));
    assert!(out.success(), "{}", out.stderr);
    assert!(read_parquet(&s.join("extracts/persons.parquet")).equals_missing(&persons));
}

#[test]
fn missing_variable_is_rejected() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "BEF2023.parquet", |df| {
        let _ = df.drop_in_place("KOM").unwrap();
    });
    let out = import(&s, &dir);
    assert_rejected(&out, "BEF2023.parquet", None, "KOM");
}

#[test]
fn unknown_migration_direction_is_rejected() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "VNDS.parquet", |df| {
        set_text(df, "INDUD_KODE", 0, Some("X"))
    });
    assert_rejected(&import(&s, &dir), "VNDS.parquet", Some(2), "INDUD_KODE");
}

#[test]
fn unknown_survey_wave_is_rejected() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "SHINE_SURVEY.parquet", |df| {
        set_int(df, "BOELGE", 0, Some(6))
    });
    assert_rejected(&import(&s, &dir), "SHINE_SURVEY.parquet", Some(2), "BOELGE");
}

#[test]
fn pnr_twice_in_one_bef_year_is_rejected() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "BEF2025.parquet", |df| {
        let first = texts(df, "PNR")[0].clone();
        set_text(df, "PNR", 1, first.as_deref());
    });
    assert_rejected(&import(&s, &dir), "BEF2025.parquet", Some(3), "PNR");
}

#[test]
fn death_before_birth_is_rejected() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "DOD.parquet", |df| set_day(df, "DODDATO", 0, -20_000));
    assert_rejected(&import(&s, &dir), "DOD.parquet", Some(2), "DODDATO");
}

#[test]
fn unknown_benefit_code_is_a_warning() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "DREAM.parquet", |df| {
        set_text(df, "y_2410", 0, Some("555"))
    });
    let out = import(&s, &dir);
    assert_warned(
        &s,
        &out,
        "DREAM: unknown benefit code",
        "DREAM.parquet",
        2,
        "Y_2410",
    );
}

#[test]
fn unknown_priority_is_a_warning() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    let mut row = 0;
    edit(&dir, "LPR3_KONTAKTER2024.parquet", |df| {
        let kind = texts(df, "KONTAKTTYPE");
        row = (0..df.height())
            .find(|&i| kind[i].as_deref() == Some("ALCA00"))
            .unwrap();
        set_text(df, "PRIORITET", row, Some("ATA9"));
    });
    let out = import(&s, &dir);
    assert_warned(
        &s,
        &out,
        "LPR3: unknown priority",
        "LPR3_KONTAKTER2024.parquet",
        row + 2,
        "PRIORITET",
    );
}

#[test]
fn birth_date_changing_between_years_is_a_warning() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "BEF2024.parquet", |df| {
        let b = days(df, "FOED_DAG")[0].unwrap();
        set_day(df, "FOED_DAG", 0, b + 1);
    });
    let out = import(&s, &dir);
    assert_warned(
        &s,
        &out,
        "BEF: sex, birth date or origin differs between years",
        "BEF2024.parquet",
        2,
        "PNR",
    );
}

#[test]
fn referral_of_a_person_not_in_bef_is_a_warning() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    edit(&dir, "SHINE_HENVISNING.parquet", |df| {
        set_text(df, "PNR", 0, Some("P99999998"))
    });
    let out = import(&s, &dir);
    assert_warned(
        &s,
        &out,
        "referrals: PNR not in BEF",
        "SHINE_HENVISNING.parquet",
        2,
        "PNR",
    );
}

#[test]
fn unreadable_file_is_rejected() {
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    std::fs::write(dir.join("IND2023.parquet"), b"not parquet at all").unwrap();
    let out = import(&s, &dir);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("IND2023.parquet"), "{}", out.stderr);
}

#[test]
fn lower_case_names_and_csv_files_are_read() {
    // UDDA2023 has lower-case variable names; a register as CSV reads like Parquet.
    let s = Scratch::new("defect");
    let dir = small_raw(&s);
    let before = import(&s, &dir);
    assert!(before.success(), "{}", before.stderr);
    let covariates = read_parquet(&s.join("extracts/covariates.parquet"));
    let mut df = read_parquet(&dir.join("IND2024.parquet"));
    std::fs::remove_file(dir.join("IND2024.parquet")).unwrap();
    let mut f = File::create(dir.join("ind2024.csv")).unwrap();
    CsvWriter::new(&mut f).finish(&mut df).unwrap();
    let out = run(shine()
        .args(["import", "--force", "--registers"])
        .arg(&dir)
        .arg("--out")
        .arg(s.join("extracts")));
    assert!(out.success(), "{}", out.stderr);
    assert!(read_parquet(&s.join("extracts/covariates.parquet")).equals_missing(&covariates));
}
