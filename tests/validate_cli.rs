//! `shine validate` on simulated extracts, clean and corrupted in many ways: each
//! corruption must give exit code 2 and a message naming the file, the row and the
//! column — never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{run, run_ok, shine, Run, Scratch};

/// Simulated extracts shared by all tests (written once per test run; a static is never
/// dropped, so this one folder stays in the temporary folder after the run).
fn simulated() -> &'static Path {
    static DIR: OnceLock<(Scratch, PathBuf)> = OnceLock::new();
    let (_, extracts) = DIR.get_or_init(|| {
        let scratch = Scratch::new("validate");
        let dir = scratch.join("extracts");
        let out = run(shine()
            .args([
                "simulate",
                "--referred",
                "60",
                "--pool",
                "2000",
                "--seed",
                "11",
                "--quiet",
                "--out",
            ])
            .arg(&dir));
        assert!(out.success(), "simulate failed: {}", out.stderr);
        (scratch, dir)
    });
    extracts
}

/// A private copy of the simulated extracts, removed when dropped.
fn copy_extracts(name: &str) -> Scratch {
    let dir = Scratch::new(&format!("validate-{name}"));
    for entry in std::fs::read_dir(simulated()).expect("read dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
    }
    dir
}

struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn read(path: &Path) -> Csv {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(path)
            .expect("open csv");
        let header = r
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        let rows = r
            .records()
            .map(|rec| rec.expect("record").iter().map(str::to_string).collect())
            .collect();
        Csv { header, rows }
    }

    fn write(&self, path: &Path) {
        let mut w = csv::WriterBuilder::new()
            .from_path(path)
            .expect("create csv");
        w.write_record(&self.header).expect("write");
        for row in &self.rows {
            w.write_record(row).expect("write");
        }
        w.flush().expect("flush");
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
}

fn validate(dir: &Path, extra: &[&str]) -> Run {
    run(shine().arg("validate").arg(dir).args(extra))
}

/// Asserts exit 2, no panic, and a report line naming the file, row and column.
fn assert_rejected(dir: &Path, kind: &str, location: &str) {
    let run = validate(dir, &[]);
    assert!(!run.stderr.contains("panicked"), "panic: {}", run.stderr);
    assert_eq!(
        run.code,
        Some(2),
        "expected exit 2 for {kind}; stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains(&format!("error[{kind}]")),
        "no {kind} in report:\n{}",
        run.stdout
    );
    let wanted = format!("{}{location}", dir.display().to_string() + "/");
    assert!(
        run.stdout.contains(&wanted),
        "report does not name {wanted:?}:\n{}",
        run.stdout
    );
}

#[test]
fn simulated_extracts_are_valid() {
    let run = validate(simulated(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("valid: 0 errors"), "{}", run.stdout);
    let json = validate(simulated(), &["--json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("json report");
    assert_eq!(report["valid"], true);
    // The five extract tables and the participation table.
    assert_eq!(report["files"].as_array().map(Vec::len), Some(6));
}

#[test]
fn missing_column() {
    let dir = copy_extracts("missing-column");
    let mut t = Csv::read(&dir.join("persons.csv"));
    let c = t.col("sex");
    t.header.remove(c);
    t.rows.iter_mut().for_each(|r| {
        r.remove(c);
    });
    t.write(&dir.join("persons.csv"));
    assert_rejected(&dir, "missing-column", "persons.csv, row 1, column sex");
}

#[test]
fn wrong_type() {
    let dir = copy_extracts("wrong-type");
    let mut t = Csv::read(&dir.join("covariates.csv"));
    let c = t.col("income_quintile");
    t.rows[4][c] = "high".into();
    t.write(&dir.join("covariates.csv"));
    assert_rejected(
        &dir,
        "wrong-type",
        "covariates.csv, row 6, column income_quintile",
    );
}

#[test]
fn out_of_range_likert_item() {
    let dir = copy_extracts("likert");
    let mut t = Csv::read(&dir.join("proms.csv"));
    let c = t.col("ucla_2");
    t.rows[2][c] = "7".into();
    t.write(&dir.join("proms.csv"));
    assert_rejected(&dir, "out-of-range", "proms.csv, row 4, column ucla_2");
}

#[test]
fn unknown_enumeration_value() {
    let dir = copy_extracts("enum");
    let mut t = Csv::read(&dir.join("contacts.csv"));
    let c = t.col("contact_type");
    t.rows[9][c] = "gp_video".into();
    t.write(&dir.join("contacts.csv"));
    assert_rejected(
        &dir,
        "unknown-code",
        "contacts.csv, row 11, column contact_type",
    );
}

#[test]
fn duplicate_key() {
    let dir = copy_extracts("duplicate-key");
    let mut t = Csv::read(&dir.join("covariates.csv"));
    let copy = t.rows[0].clone();
    t.rows.insert(1, copy);
    t.write(&dir.join("covariates.csv"));
    assert_rejected(
        &dir,
        "duplicate-key",
        "covariates.csv, row 3, column person_id, year",
    );
}

#[test]
fn orphan_person_id() {
    let dir = copy_extracts("orphan");
    let mut t = Csv::read(&dir.join("contacts.csv"));
    let c = t.col("person_id");
    t.rows[0][c] = "NOBODY".into();
    t.write(&dir.join("contacts.csv"));
    assert_rejected(
        &dir,
        "unknown-person",
        "contacts.csv, row 2, column person_id",
    );
}

/// The first referral's person and date, and that person's row in persons.csv.
fn first_referral(dir: &Path) -> (String, String, Csv, usize) {
    let referrals = Csv::read(&dir.join("referrals.csv"));
    let id = referrals.rows[0][referrals.col("person_id")].clone();
    let date = referrals.rows[0][referrals.col("referral_date")].clone();
    let persons = Csv::read(&dir.join("persons.csv"));
    let row = persons
        .rows
        .iter()
        .position(|r| r[persons.col("person_id")] == id)
        .expect("referred person");
    (id, date, persons, row)
}

fn shift_date(date: &str, days: i64) -> String {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date");
    (d + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[test]
fn referral_after_death() {
    let dir = copy_extracts("after-death");
    let (_, date, mut persons, row) = first_referral(&dir);
    let c = persons.col("death_date");
    persons.rows[row][c] = shift_date(&date, -30);
    persons.write(&dir.join("persons.csv"));
    assert_rejected(
        &dir,
        "referral-after-death",
        "referrals.csv, row 2, column referral_date",
    );
}

/// A contact dated after the person's death among millions of clean rows is found by
/// the row-by-row pass that the quick check of the contacts hands over to.
#[test]
fn contact_after_death() {
    let dir = copy_extracts("contact-after-death");
    let contacts = Csv::read(&dir.join("contacts.csv"));
    let row = 40;
    let id = contacts.rows[row][contacts.col("person_id")].clone();
    let date = contacts.rows[row][contacts.col("date")].clone();
    let mut persons = Csv::read(&dir.join("persons.csv"));
    let p = persons
        .rows
        .iter()
        .position(|r| r[persons.col("person_id")] == id)
        .expect("person of the contact");
    let c = persons.col("death_date");
    persons.rows[p][c] = shift_date(&date, -1);
    persons.write(&dir.join("persons.csv"));
    // The first contact of that person after the new death date is the one reported.
    let first = contacts
        .rows
        .iter()
        .position(|r| {
            r[contacts.col("person_id")] == id
                && r[contacts.col("date")].as_str() > shift_date(&date, -1).as_str()
        })
        .expect("a contact after death");
    assert_rejected(
        &dir,
        "event-after-death",
        &format!("contacts.csv, row {}, column date", first + 2),
    );
}

#[test]
fn referral_before_adulthood() {
    let dir = copy_extracts("minor");
    let (_, date, mut persons, row) = first_referral(&dir);
    let c = persons.col("birth_date");
    persons.rows[row][c] = shift_date(&date, -17 * 365);
    persons.write(&dir.join("persons.csv"));
    assert_rejected(
        &dir,
        "referral-before-adulthood",
        "referrals.csv, row 2, column referral_date",
    );
}

#[test]
fn person_referred_twice() {
    let dir = copy_extracts("twice");
    let mut t = Csv::read(&dir.join("referrals.csv"));
    let mut again = t.rows[0].clone();
    let c = t.col("referral_date");
    again[c] = shift_date(&again[c], 1);
    t.rows.push(again);
    let n = t.rows.len() + 1;
    t.write(&dir.join("referrals.csv"));
    assert_rejected(
        &dir,
        "duplicate-referral",
        &format!("referrals.csv, row {n}, column person_id"),
    );
}

#[test]
fn unparsable_date() {
    let dir = copy_extracts("bad-date");
    let mut t = Csv::read(&dir.join("contacts.csv"));
    let c = t.col("date");
    t.rows[3][c] = "2024-13-45".into();
    t.write(&dir.join("contacts.csv"));
    assert_rejected(&dir, "bad-date", "contacts.csv, row 5, column date");
}

#[test]
fn date_outside_extract_period() {
    let dir = copy_extracts("period");
    let mut t = Csv::read(&dir.join("contacts.csv"));
    let c = t.col("date");
    t.rows[5][c] = "2030-01-01".into();
    t.write(&dir.join("contacts.csv"));
    assert_rejected(
        &dir,
        "outside-extract-period",
        "contacts.csv, row 7, column date",
    );
}

#[test]
fn missing_required_value() {
    let dir = copy_extracts("required");
    let mut t = Csv::read(&dir.join("persons.csv"));
    let c = t.col("birth_date");
    t.rows[7][c] = String::new();
    t.write(&dir.join("persons.csv"));
    assert_rejected(
        &dir,
        "missing-value",
        "persons.csv, row 9, column birth_date",
    );
}

#[test]
fn empty_file() {
    let dir = copy_extracts("empty");
    std::fs::write(dir.join("covariates.csv"), "").expect("write");
    assert_rejected(
        &dir,
        "empty-file",
        "covariates.csv, row 1, column person_id",
    );
}

#[test]
fn header_only_file() {
    let dir = copy_extracts("header-only");
    let t = Csv::read(&dir.join("referrals.csv"));
    std::fs::write(dir.join("referrals.csv"), t.header.join(",") + "\n").expect("write");
    assert_rejected(
        &dir,
        "no-data-rows",
        "referrals.csv, row 2, column person_id",
    );
}

#[test]
fn ragged_row() {
    let dir = copy_extracts("ragged");
    let path = dir.join("contacts.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[12].push_str(",extra");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    assert_rejected(
        &dir,
        "ragged-row",
        "contacts.csv, row 13, column contact_type",
    );
}

#[test]
fn non_utf8_bytes() {
    let dir = copy_extracts("latin1");
    let path = dir.join("persons.csv");
    let mut bytes = std::fs::read(&path).expect("read");
    // Replace the first byte of the third data row's person_id with a Latin-1 'ø'.
    let mut line = 0;
    let pos = bytes
        .iter()
        .position(|&b| {
            if b == b'\n' {
                line += 1;
            }
            line == 3
        })
        .expect("row");
    bytes[pos + 1] = 0xF8;
    std::fs::write(&path, bytes).expect("write");
    assert_rejected(&dir, "not-utf8", "persons.csv, row 4, column person_id");
}

#[test]
fn duplicate_survey_wave() {
    let dir = copy_extracts("wave");
    let mut t = Csv::read(&dir.join("proms.csv"));
    let copy = t.rows[0].clone();
    t.rows.push(copy);
    let n = t.rows.len() + 1;
    t.write(&dir.join("proms.csv"));
    assert_rejected(
        &dir,
        "duplicate-key",
        &format!("proms.csv, row {n}, column person_id, wave"),
    );
}

#[test]
fn missing_table_and_unreadable_parquet() {
    let dir = copy_extracts("no-contacts");
    std::fs::remove_file(dir.join("contacts.csv")).expect("remove");
    let run = validate(&dir, &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stdout.contains("error[file-missing]"), "{}", run.stdout);

    let dir = copy_extracts("bad-parquet");
    std::fs::remove_file(dir.join("contacts.csv")).expect("remove");
    std::fs::write(dir.join("contacts.parquet"), b"PAR1 this is not parquet").expect("write");
    let run = validate(&dir, &[]);
    assert_eq!(run.code, Some(2));
    assert!(!run.stderr.contains("panicked"));
    assert!(
        run.stdout.contains("error[file-unreadable]"),
        "{}",
        run.stdout
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let dir = copy_extracts("many");
    let mut t = Csv::read(&dir.join("contacts.csv"));
    let c = t.col("contact_type");
    for r in 0..30 {
        t.rows[r][c] = "bogus".into();
    }
    t.write(&dir.join("contacts.csv"));
    let run = validate(&dir, &["--json"]);
    assert_eq!(run.code, Some(2));
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let group = report["problems"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["kind"] == "unknown-code"))
        .expect("unknown-code group");
    assert_eq!(group["total"], 30);
    assert_eq!(group["examples"].as_array().map(Vec::len), Some(20));
    assert_eq!(group["examples"][0]["row"], 2);
    assert_eq!(group["examples"][0]["column"], "contact_type");
    assert_eq!(group["examples"][0]["value"], "bogus");
}

#[test]
fn semicolons_decimal_commas_and_bom_are_accepted() {
    let dir = copy_extracts("danish-csv");
    for table in [
        "persons",
        "covariates",
        "referrals",
        "contacts",
        "proms",
        "participation",
    ] {
        let path = dir.join(format!("{table}.csv"));
        let t = Csv::read(&path);
        let vas = t.header.iter().position(|h| h == "eq5d_vas");
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(b"\xEF\xBB\xBF".to_vec());
        w.write_record(&t.header).expect("write");
        for row in &t.rows {
            let mut row = row.clone();
            if let Some(v) = vas {
                row[v] = row[v].replace('.', ",");
            }
            w.write_record(&row).expect("write");
        }
        std::fs::write(&path, w.into_inner().expect("bytes")).expect("write");
    }
    let text = std::fs::read_to_string(dir.join("proms.csv")).expect("read");
    assert!(text.starts_with('\u{feff}'));
    assert!(
        text.lines().skip(1).any(|l| l.ends_with(",0")),
        "no decimal comma in eq5d_vas"
    );
    let run = validate(&dir, &["--json"]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let files = report["files"].as_array().expect("files");
    assert!(files.iter().all(|f| f["delimiter"] == ";"));
}

#[test]
fn parquet_extracts_validate_like_csv() {
    let scratch = Scratch::new("validate-parquet");
    let dir = scratch.join("extracts");
    run_ok(
        shine()
            .args([
                "simulate",
                "--referred",
                "40",
                "--pool",
                "1500",
                "--seed",
                "5",
                "--format",
                "parquet",
                "--quiet",
                "--out",
            ])
            .arg(&dir),
    );
    let run = validate(&dir, &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("persons.parquet"));
}

#[test]
fn participation_of_a_person_who_was_not_referred() {
    let dir = copy_extracts("participation-not-referred");
    let referrals = Csv::read(&dir.join("referrals.csv"));
    let referred: std::collections::HashSet<&str> =
        referrals.rows.iter().map(|r| r[0].as_str()).collect();
    let persons = Csv::read(&dir.join("persons.csv"));
    let outsider = persons
        .rows
        .iter()
        .map(|r| r[0].clone())
        .find(|id| !referred.contains(id.as_str()))
        .expect("a person who was not referred");
    let mut t = Csv::read(&dir.join("participation.csv"));
    t.rows[1][0] = outsider;
    t.write(&dir.join("participation.csv"));
    assert_rejected(
        &dir,
        "participation-not-referred",
        "participation.csv, row 3, column person_id",
    );
}

#[test]
fn dropout_reason_on_a_three_month_row() {
    let dir = copy_extracts("participation-wave");
    let mut t = Csv::read(&dir.join("participation.csv"));
    let (wave, reason) = (t.col("wave"), t.col("dropout_reason"));
    let row = t
        .rows
        .iter()
        .position(|r| r[wave] == "3")
        .expect("a 3-month row");
    t.rows[row][reason] = "other".into();
    t.write(&dir.join("participation.csv"));
    assert_rejected(
        &dir,
        "participation-wrong-wave",
        &format!("participation.csv, row {}, column dropout_reason", row + 2),
    );
}

#[test]
fn unknown_participation_frequency_code() {
    let dir = copy_extracts("participation-code");
    let mut t = Csv::read(&dir.join("participation.csv"));
    let c = t.col("participation_frequency");
    t.rows[0][c] = "always".into();
    t.write(&dir.join("participation.csv"));
    assert_rejected(
        &dir,
        "unknown-code",
        "participation.csv, row 2, column participation_frequency",
    );
}
