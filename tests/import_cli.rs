//! `shine simulate --raw` → `shine import`: the raw registers give back the extracts that
//! `shine simulate` writes for the same seed.

mod common;
mod raw_registers;

use std::collections::BTreeMap;
use std::path::Path;

use common::{read_json, run, shine, Scratch};
use polars::prelude::*;
use raw_registers::{days, file_names, read_parquet, simulate_raw, simulate_raw_as, texts};
use shine::data::calendar::civil_from_days;
use shine::data::registers::weeks::{iso_week, monday_of};

const SIZE: [&str; 6] = ["--referred", "40", "--pool", "1500", "--seed", "11"];

fn day_numbers(df: &DataFrame, name: &str) -> Vec<i32> {
    days(df, name)
        .into_iter()
        .map(|v| v.expect("a date"))
        .collect()
}

fn assert_same(table: &str, ours: &DataFrame, simulated: &DataFrame) {
    assert_eq!(
        ours.get_column_names(),
        simulated.get_column_names(),
        "{table}: columns"
    );
    assert_eq!(ours.height(), simulated.height(), "{table}: rows");
    for name in simulated.get_column_names() {
        let a = ours.column(name).unwrap().as_materialized_series();
        let b = simulated.column(name).unwrap().as_materialized_series();
        assert_eq!(a.dtype(), b.dtype(), "{table}.{name}: type");
        assert!(a.equals_missing(b), "{table}.{name}: values differ");
    }
}

/// Contacts per (person, year-month, contact type); general-practice contacts of the
/// simulation dated on the Monday of their ISO week, as the health insurance register
/// dates them, and left out when that Monday is before the extract period.
fn monthly_counts(
    df: &DataFrame,
    fee_weeks: bool,
    start: i32,
) -> BTreeMap<(String, i32, i32, String), u32> {
    let ids = texts(df, "person_id");
    let days = day_numbers(df, "date");
    let types = texts(df, "contact_type");
    let mut counts = BTreeMap::new();
    for ((id, day), t) in ids.into_iter().zip(days).zip(types) {
        let t = t.unwrap();
        let mut day = day;
        if fee_weeks && t.starts_with("gp_") {
            let (y, w) = iso_week(day);
            day = monday_of(y, w);
            if day < start {
                continue;
            }
        }
        let (y, m, _) = civil_from_days(day);
        *counts.entry((id.unwrap(), y, m, t)).or_insert(0) += 1;
    }
    counts
}

#[test]
fn raw_registers_import_to_the_simulated_extracts() {
    let scratch = Scratch::new("import");
    let (extracts, raw, raw_again, imported) = (
        scratch.join("extracts"),
        scratch.join("raw"),
        scratch.join("raw-again"),
        scratch.join("imported"),
    );
    let out = run(shine()
        .args(["simulate", "--quiet", "--format", "parquet"])
        .args(SIZE)
        .arg("--out")
        .arg(&extracts));
    assert!(out.success(), "{}", out.stderr);
    for dir in [&raw, &raw_again] {
        let out = run(shine()
            .args(["simulate", "--quiet", "--raw"])
            .args(SIZE)
            .arg("--out")
            .arg(dir));
        assert!(out.success(), "{}", out.stderr);
    }
    // The raw files are the same for the same seed, byte for byte.
    let mut names: Vec<String> = std::fs::read_dir(&raw)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for register in [
        "BEF2022.parquet",
        "DOD.parquet",
        "VNDS.parquet",
        "UDDA2024.parquet",
        "IND2024.parquet",
        "DREAM.parquet",
        "PRAKSIS2024.parquet",
        "SSSY2024.parquet",
        "LPR_ADM2016.parquet",
        "LPR_DIAG2016.parquet",
        "LPR3_KONTAKTER2024.parquet",
        "LPR3_DIAGNOSER2024.parquet",
        "OPKALD1813_2024.parquet",
        "SHINE_HENVISNING.parquet",
        "SHINE_SURVEY.parquet",
    ] {
        assert!(
            names.iter().any(|n| n == register),
            "no {register} among {names:?}"
        );
    }
    for name in &names {
        assert_eq!(
            std::fs::read(raw.join(name)).unwrap(),
            std::fs::read(raw_again.join(name)).unwrap(),
            "{name} differs between two runs with the same seed"
        );
    }

    let out = run(shine()
        .args(["import", "--registers"])
        .arg(&raw)
        .arg("--out")
        .arg(&imported));
    assert!(out.success(), "{}", out.stderr);
    // The simulated registers hold quirks (corrections, child services, duplicates,
    // rows reported by LPR2, other specialties), but nothing to warn about.
    let report = read_json(imported.join("import_report.json"));
    assert_eq!(report["warnings"], serde_json::json!([]), "{}", out.stderr);
    for reason in [
        "SSSY: child's service on a parent's number (BARNMAK)",
        "SSSY: not general practice (SPECIALE)",
        "LPR3: reported by another system (LPRINDBERETNINGSSYSTEM)",
        "LPR2: record on or after the LPR3 switch date",
    ] {
        assert!(
            report["dropped"][reason].as_u64().unwrap_or(0) > 0,
            "nothing dropped for {reason}"
        );
    }

    for table in ["persons", "referrals", "proms"] {
        let ours = read_parquet(&imported.join(format!("{table}.parquet")));
        let simulated = read_parquet(&extracts.join(format!("{table}.parquet")));
        assert_same(table, &ours, &simulated);
    }

    // Covariates: every column equal but the income quintile, which the registers can
    // only rank among persons with an income (see data::simulate::raw).
    let ours = read_parquet(&imported.join("covariates.parquet"));
    let simulated = read_parquet(&extracts.join("covariates.parquet"));
    let without = |df: &DataFrame| df.drop("income_quintile").unwrap();
    assert_same("covariates", &without(&ours), &without(&simulated));
    let q = |df: &DataFrame| texts(df, "income_quintile");
    let (qa, qb) = (q(&ours), q(&simulated));
    let mut moved = 0;
    for (a, b) in qa.iter().zip(&qb) {
        assert_eq!(
            a.is_some(),
            b.is_some(),
            "income quintile missing in one only"
        );
        if let (Some(a), Some(b)) = (a, b) {
            let (a, b): (i64, i64) = (a.parse().unwrap(), b.parse().unwrap());
            assert!((a - b).abs() <= 1, "quintile {a} against {b}");
            moved += usize::from(a != b);
        }
    }
    assert!(
        moved * 50 <= qa.len(),
        "{moved} of {} quintiles moved",
        qa.len()
    );

    // Contacts: the same counts per person, month and contact type.
    let start = shine::data::calendar::parse_iso_date("2023-01-01").unwrap();
    let ours = monthly_counts(
        &read_parquet(&imported.join("contacts.parquet")),
        false,
        start,
    );
    let simulated = monthly_counts(
        &read_parquet(&extracts.join("contacts.parquet")),
        true,
        start,
    );
    assert!(
        simulated.len() > 1000,
        "too few contacts to compare: {}",
        simulated.len()
    );
    for (key, n) in &simulated {
        assert_eq!(ours.get(key), Some(n), "{key:?}");
    }
    assert_eq!(
        ours.len(),
        simulated.len(),
        "imported contacts in cells the simulation has none"
    );

    // --explain prints the resolved recipe, which reads back as a recipe.
    let out = run(shine().args(["import", "--explain"]));
    assert!(out.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("[sssy]") && out.stdout.contains("gp_consultation = [\"0101\"]"),
        "{}",
        out.stdout
    );
    let recipe = scratch.write("recipe.toml", &out.stdout);
    let again = run(shine()
        .args(["import", "--explain", "--recipe"])
        .arg(&recipe));
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn raw_registers_as_stata_files_import_byte_identical_to_parquet() {
    let scratch = Scratch::new("import-dta");
    let size = ["--referred", "10", "--pool", "400", "--seed", "5"];
    let parquet = simulate_raw_as(&scratch, "raw-parquet", &size, "parquet");
    // A Stata simulation into a folder of Parquet registers: refused without --force,
    // and with it the Parquet registers make way (import would read both).
    let dta = simulate_raw_as(&scratch, "raw-dta", &size, "parquet");
    let refused = run(shine()
        .args(["simulate", "--quiet", "--raw", "--raw-format", "dta"])
        .args(size)
        .arg("--out")
        .arg(&dta));
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    let out = run(shine()
        .args([
            "simulate",
            "--quiet",
            "--raw",
            "--raw-format",
            "dta",
            "--force",
        ])
        .args(size)
        .arg("--out")
        .arg(&dta));
    assert!(out.success(), "{}", out.stderr);
    let as_parquet: Vec<String> = file_names(&dta)
        .iter()
        .map(|n| match n.strip_suffix(".dta") {
            Some(stem) => format!("{stem}.parquet"),
            None => n.clone(),
        })
        .collect();
    assert_eq!(as_parquet, file_names(&parquet));
    assert!(as_parquet.len() > 40, "{as_parquet:?}");

    let mut imported = Vec::new();
    for (raw, name) in [(&parquet, "from-parquet"), (&dta, "from-dta")] {
        let dir = scratch.join(name);
        let out = run(shine()
            .args(["import", "--quiet", "--registers"])
            .arg(raw)
            .arg("--out")
            .arg(&dir));
        assert!(out.success(), "{}", out.stderr);
        imported.push(dir);
    }
    let names = file_names(&imported[0]);
    assert_eq!(names, file_names(&imported[1]));
    for name in &names {
        let read = |dir: &Path| std::fs::read(dir.join(name)).expect("an imported file");
        let (from_parquet, from_dta) = (read(&imported[0]), read(&imported[1]));
        if name.starts_with("import_report") || name == "extract.toml" {
            // The report and the extract's description name the files and folder read.
            let text = String::from_utf8(from_dta)
                .expect("UTF-8")
                .replace("raw-dta", "raw-parquet")
                .replace(".dta", ".parquet");
            assert_eq!(
                text,
                String::from_utf8(from_parquet).expect("UTF-8"),
                "{name}"
            );
        } else {
            assert!(from_parquet == from_dta, "{name} differs");
        }
    }
}

#[test]
fn a_recipe_file_changes_a_code_list_and_unknown_keys_are_refused() {
    let scratch = Scratch::new("import-recipe");
    let raw = simulate_raw(&scratch, &["--referred", "10", "--pool", "300"]);
    // Phone consultations no longer count as contacts.
    let recipe = scratch.write("recipe.toml", "[sssy]\ngp_phone = []\n");
    let (with, without) = (scratch.join("with"), scratch.join("without"));
    let out = run(shine()
        .args(["import", "--quiet", "--registers"])
        .arg(&raw)
        .arg("--out")
        .arg(&with));
    assert!(out.success(), "{}", out.stderr);
    let out = run(shine()
        .args(["import", "--quiet", "--registers"])
        .arg(&raw)
        .arg("--out")
        .arg(&without)
        .arg("--recipe")
        .arg(&recipe));
    assert!(out.success(), "{}", out.stderr);
    let phones = |dir: &Path| {
        read_json(dir.join("import_report.json"))["contacts_by_type"]["gp_phone"].as_u64()
    };
    assert!(phones(&with).unwrap_or(0) > 0);
    assert_eq!(phones(&without), None);

    let bad = scratch.write("bad.toml", "[sssy]\ngp_phones = []\n");
    let out = run(shine()
        .args(["import", "--registers"])
        .arg(&raw)
        .arg("--out")
        .arg(scratch.join("x"))
        .arg("--recipe")
        .arg(&bad));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("bad.toml") && out.stderr.contains("gp_phones"),
        "{}",
        out.stderr
    );
}
