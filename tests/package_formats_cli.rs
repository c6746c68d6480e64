//! Every command reads every table format the same way, and `shine convert` streams SAS
//! and Stata files to Parquet and CSV.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

fn typed(file: &str) -> PathBuf {
    repo_path("tests/fixtures/typed").join(file)
}

fn did(data: &PathBuf, formula: &str) -> Value {
    run_json(
        shine()
            .args(["did", "--json", "--quiet", "--data"])
            .arg(data)
            .args(["--formula", formula, "--vcov", "cluster:unit"]),
    )
}

/// `shine did` used to stop at "cannot create series from Int8" on a Parquet file with an
/// int8 column; the same panel in narrow Parquet types must give the same fit as the CSV.
#[test]
fn did_reads_int8_and_other_narrow_parquet_types() {
    let formula = "y ~ treated_post | unit + period";
    let csv = did(&typed("panel.csv"), formula);
    let parquet = did(&typed("panel_typed.parquet"), formula);
    assert!(
        csv["coefficients"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{csv}"
    );
    assert_eq!(parquet["coefficients"], csv["coefficients"]);
}

/// A Stata file with upper-case names (as the registers have them) is read, and the
/// formula's lower-case names find its variables.
#[test]
fn did_reads_stata_with_names_in_any_case() {
    let formula = "y ~ treated_post | unit + period";
    let csv = did(&typed("panel.csv"), formula);
    let stata = did(&typed("panel_upper.dta"), formula);
    assert_eq!(stata["coefficients"], csv["coefficients"]);
}

/// Booleans, categorical strings, dates and timestamps are usable model terms.
#[test]
fn mixed_reads_boolean_categorical_and_date_columns() {
    let fit = |data: PathBuf, formula: &str| {
        run_json(
            shine()
                .args(["mixed", "--json", "--quiet", "--data"])
                .arg(data)
                .args(["--formula", formula]),
        )
    };
    let formula = "y ~ treated_post + region + urban + (1 | unit)";
    let csv = fit(typed("panel.csv"), formula);
    let parquet = fit(typed("panel_typed.parquet"), formula);
    assert_eq!(parquet["fixed_effects"], csv["fixed_effects"]);
    // A date counts in days, and so does a timestamp: the two slopes agree.
    let dated = fit(
        typed("panel_typed.parquet"),
        "y ~ treated_post + visit + (1 | unit)",
    );
    let stamped = fit(
        typed("panel_typed.parquet"),
        "y ~ treated_post + visit_time + (1 | unit)",
    );
    let slope = |fit: &Value, term: &str| {
        fit["fixed_effects"]
            .as_array()
            .and_then(|t| t.iter().find(|c| c["term"] == term))
            .and_then(|c| c["estimate"].as_f64())
            .unwrap_or_else(|| panic!("no {term} in {fit}"))
    };
    assert_close(
        "visit_time slope",
        slope(&stamped, "visit_time"),
        slope(&dated, "visit"),
        CONVERGED,
    );
}

#[test]
fn convert_writes_parquet_and_csv_partitioned_by_year() {
    let scratch = Scratch::new("convert");
    let input = scratch.join("in");
    std::fs::create_dir_all(&input).expect("folder");
    // A yearly register file and a file with no year in its name.
    std::fs::copy(
        repo_path("tests/fixtures/sas7bdat/pyreadstat/sample_bincompressed.sas7bdat"),
        input.join("BEF2019.sas7bdat"),
    )
    .expect("copy");
    std::fs::copy(
        repo_path("tests/fixtures/dta/pandas_118.dta"),
        input.join("survey.dta"),
    )
    .expect("copy");
    let out = scratch.join("out");
    run_ok(
        shine()
            .args([
                "convert",
                "--quiet",
                "--lower-case",
                "--format",
                "csv",
                "--out",
            ])
            .arg(&out)
            .arg(&input),
    );
    let register =
        std::fs::read_to_string(out.join("bef/year=2019/bef2019.csv")).expect("register");
    let mut lines = register.lines();
    assert_eq!(
        lines.next(),
        Some("mychar,mynum,mydate,dtime,mylabl,myord,mytime")
    );
    // haven: a, 1.1000000000000001, 2018-05-06, 2018-05-06 10:10:10, 1, 1, 10:10:10.
    assert_eq!(
        lines.next(),
        Some("a,1.1,2018-05-06,2018-05-06T10:10:10,1.0,1.0,36610.0")
    );
    // The fifth row's date and date-time are missing: empty fields.
    assert_eq!(lines.nth(3), Some("e,1000.3,,,1.0,1.0,"));
    let survey = std::fs::read_to_string(out.join("survey.csv")).expect("survey");
    assert!(
        survey.starts_with("pnr,koen,antal,dage,vaegt,indkomst,by,foed_dag,kontakt_tid,note\n"),
        "{survey}"
    );
    assert!(survey.contains("København"), "{survey}");

    // Parquet (the default) of the same register reads back with its types.
    let single = scratch.join("bef2019.parquet");
    run_ok(
        shine()
            .args(["convert", "--quiet", "--out"])
            .arg(&single)
            .arg(input.join("BEF2019.sas7bdat")),
    );
    use polars::prelude::SerReader;
    let file = std::fs::File::open(&single).expect("parquet");
    let frame = polars::prelude::ParquetReader::new(file)
        .finish()
        .expect("readable");
    assert_eq!(frame.height(), 5);
    assert_eq!(
        frame.column("mydate").expect("mydate").dtype(),
        &polars::prelude::DataType::Date
    );
}

#[test]
fn convert_names_the_file_and_row_of_a_damaged_sas_file() {
    let scratch = Scratch::new("convert-bad");
    // A SAS file whose second half (its last data pages) is missing.
    let whole = std::fs::read(repo_path(
        "tests/fixtures/sas7bdat/parso/extend_no.sas7bdat",
    ))
    .expect("fixture");
    let cut = scratch.write("cut.sas7bdat", &whole[..whole.len() / 2]);
    let run = run_failing(
        shine()
            .args(["convert", "--quiet", "--out"])
            .arg(scratch.join("out"))
            .arg(&cut),
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("cut.sas7bdat"), "{}", run.stderr);
    assert!(
        !scratch.join("out/cut.parquet").exists(),
        "a half-written file was left"
    );

    // Not a SAS file at all.
    let text = scratch.write("notes.sas7bdat", "PNR;KOEN\n0101;1\n");
    let run = run_failing(
        shine()
            .args(["convert", "--quiet", "--out"])
            .arg(scratch.join("out"))
            .arg(&text),
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("notes.sas7bdat"), "{}", run.stderr);
}

/// Extracts delivered as Stata files with upper-case names validate as the CSV extracts
/// do: every row read, nothing flagged.
#[test]
fn validate_reads_stata_extracts_with_upper_case_names() {
    let report = run_json(
        shine()
            .args(["validate", "--json"])
            .arg(demo_extracts())
            .arg("--persons")
            .arg(typed("persons_upper.dta"))
            .arg("--referrals")
            .arg(typed("referrals_upper.dta")),
    );
    let csv = run_json(shine().args(["validate", "--json"]).arg(demo_extracts()));
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["errors"], 0);
    assert_eq!(report["warnings"], csv["warnings"]);
    let files = report["files"].as_array().expect("files");
    for (ours, theirs) in files.iter().zip(csv["files"].as_array().expect("files")) {
        assert_eq!(ours["rows"], theirs["rows"], "{}", ours["table"]);
    }
    assert!(files.iter().any(|f| f["format"] == "stata"), "{report}");
}
