//! The namings registers come under: the same raw registers renamed to Statistics
//! Denmark's LPR_A tables, split into LPR2's psychiatric tables, delivered as quarterly
//! BEF files or VNDS as yearly files or its 2026 successors import to the same five
//! tables; two deliveries of the same year stop the import with exit code 2 naming both
//! files.

mod common;
mod raw_registers;

use std::path::{Path, PathBuf};

use common::{read_json, run, run_ok, shine, Run, Scratch};
use polars::prelude::*;
use raw_registers::{days, read_parquet, small_raw, texts, write_parquet};

const TABLES: [&str; 5] = ["persons", "covariates", "referrals", "contacts", "proms"];

fn import(dir: &Path, out: &Path) -> Run {
    run(shine()
        .args(["import", "--force", "--registers"])
        .arg(dir)
        .arg("--out")
        .arg(out))
}

/// The five tables an import wrote.
fn tables(out: &Path) -> Vec<DataFrame> {
    TABLES
        .iter()
        .map(|t| read_parquet(&out.join(format!("{t}.parquet"))))
        .collect()
}

#[track_caller]
fn assert_same_tables(out: &Path, expected: &[DataFrame]) {
    for (name, (got, want)) in TABLES.iter().zip(tables(out).iter().zip(expected)) {
        assert!(
            got.equals_missing(want),
            "{name} differs:\n{got}\nexpected\n{want}"
        );
    }
}

/// Imports the untouched folder: the tables every naming must give.
fn baseline(s: &Scratch, dir: &Path) -> Vec<DataFrame> {
    let out = import(dir, &s.join("baseline"));
    assert!(out.success(), "{}", out.stderr);
    tables(&s.join("baseline"))
}

fn files_of(dir: &Path, prefix: &str) -> Vec<(u16, PathBuf)> {
    let mut found: Vec<(u16, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_string();
            let year = stem.strip_prefix(prefix)?.parse().ok()?;
            Some((year, p))
        })
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no {prefix} files");
    found
}

fn rename(df: &mut DataFrame, from: &str, to: &str) {
    df.rename(from, to.into()).unwrap();
}

/// A date and an "HH:MM" time as one date-time (milliseconds).
fn date_time(df: &DataFrame, date: &str, time: &str, name: &str) -> Column {
    let d = days(df, date);
    let t = texts(df, time);
    let ms = d.iter().zip(&t).map(|(d, t)| {
        let d = (*d)?;
        let seconds = t.as_deref().map_or(0, |t| {
            let (h, m) = t.split_once(':').unwrap();
            h.parse::<i64>().unwrap() * 3600 + m.parse::<i64>().unwrap() * 60
        });
        Some((i64::from(d) * 86_400 + seconds) * 1000)
    });
    Int64Chunked::from_iter_options(name.into(), ms)
        .into_datetime(TimeUnit::Milliseconds, None)
        .into_series()
        .into_column()
}

/// The import stopped with exit code 2, a message naming each of `needles`, and no panic.
fn assert_refused(run: &Run, needles: &[&str]) {
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    for needle in needles {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

fn report(out: &Path) -> serde_json::Value {
    read_json(out.join("import_report.json"))
}

#[test]
fn statistics_denmarks_lpr_a_naming_imports_to_the_same_tables() {
    let s = Scratch::new("naming");
    let dir = small_raw(&s);
    let expected = baseline(&s, &dir);
    for (year, path) in files_of(&dir, "LPR3_KONTAKTER") {
        let df = read_parquet(&path);
        let mut a = df
            .select([
                "PNR",
                "DW_EK_KONTAKT",
                "KONTAKTTYPE",
                "PRIORITET",
                "ENHEDSTYPE_ANS",
                "LPRINDBERETNINGSSYSTEM",
            ])
            .unwrap();
        a.with_column(date_time(
            &df,
            "DATO_START",
            "TIDSPUNKT_START",
            "kont_starttidspunkt",
        ))
        .unwrap();
        a.with_column(date_time(
            &df,
            "DATO_SLUT",
            "TIDSPUNKT_SLUT",
            "kont_sluttidspunkt",
        ))
        .unwrap();
        rename(&mut a, "KONTAKTTYPE", "kont_type");
        // Lower-case names, as the registers guide shows LPR_A.
        rename(&mut a, "PNR", "pnr");
        rename(&mut a, "DW_EK_KONTAKT", "dw_ek_kontakt");
        std::fs::remove_file(&path).unwrap();
        write_parquet(&dir.join(format!("lpr_a_kontakt{year}.parquet")), a);
    }
    let mut retracted_added = 0;
    for (year, path) in files_of(&dir, "LPR3_DIAGNOSER") {
        let mut df = read_parquet(&path);
        rename(&mut df, "DIAGNOSEKODE", "DIAG_KODE");
        let n = df.height();
        df.with_column(Column::new("SENERE_AFKRAEFTET".into(), vec!["Nej"; n]))
            .unwrap();
        // A retracted F diagnosis on a kept contact changes nothing.
        if n > 0 {
            let extra = DataFrame::new(
                1,
                vec![
                    Column::new(
                        "DW_EK_KONTAKT".into(),
                        [texts(&df, "DW_EK_KONTAKT")[0].clone()],
                    ),
                    Column::new("DIAG_KODE".into(), ["DF329"]),
                    Column::new("SENERE_AFKRAEFTET".into(), ["Ja"]),
                ],
            )
            .unwrap();
            let keep: Vec<&str> = extra
                .get_column_names()
                .iter()
                .map(|c| c.as_str())
                .collect();
            df = df.select(keep).unwrap().vstack(&extra).unwrap();
            retracted_added += 1;
        }
        std::fs::remove_file(&path).unwrap();
        write_parquet(&dir.join(format!("LPR_A_DIAGNOSE{year}.parquet")), df);
    }
    assert!(retracted_added > 0);
    let out = s.join("lpr_a");
    let run = import(&dir, &out);
    assert!(run.success(), "{}", run.stderr);
    assert_same_tables(&out, &expected);
    let r = report(&out);
    let used = &r["code_groups"]
        ["Names used where the recipe accepts several (recipe's first name: name found)"];
    for pair in [
        "LPR3_KONTAKTER: LPR_A_KONTAKT",
        "LPR3_DIAGNOSER: LPR_A_DIAGNOSE",
        "DATO_START: KONT_STARTTIDSPUNKT",
        "KONTAKTTYPE: KONT_TYPE",
        "DIAGNOSEKODE: DIAG_KODE",
    ] {
        assert!(used[pair].as_u64().unwrap_or(0) >= 1, "{pair}: {used}");
    }
    // --explain with the folder says which names it found.
    let explained = run_ok(
        shine()
            .args(["import", "--explain", "--registers"])
            .arg(&dir),
    );
    let years = files_of(&dir, "lpr_a_kontakt").len();
    for line in [
        format!("# [lpr.lpr3] contacts = LPR_A_KONTAKT ({years} files)"),
        "#   start_date = KONT_STARTTIDSPUNKT".into(),
        "#   contact_type = KONT_TYPE".into(),
        "#   start_time: not found (TIDSPUNKT_START)".into(),
        format!("# [lpr.lpr3] diagnoses = LPR_A_DIAGNOSE ({years} files)"),
        "#   retracted = SENERE_AFKRAEFTET".into(),
        "# [lpr.lpr2_psychiatry] contacts: no files (LPR_PSYK_ADM or T_PSYK_ADM)".into(),
        "#   pnr = PNR".into(),
    ] {
        assert!(
            explained.stdout.contains(line.as_str()),
            "{line}:\n{}",
            explained.stdout
        );
    }
    let recipe = s.join("explained.toml");
    std::fs::write(&recipe, &explained.stdout).unwrap();
    run_ok(
        shine()
            .args(["import", "--explain", "--recipe"])
            .arg(&recipe),
    );
    assert!(
        r["dropped"]["LPR3: diagnosis later retracted"]
            .as_u64()
            .unwrap()
            >= retracted_added
    );
}

#[test]
fn lpr2_psychiatric_tables_are_read_as_lpr2() {
    let s = Scratch::new("naming");
    let dir = small_raw(&s);
    let expected = baseline(&s, &dir);
    // Move every other LPR2 record (with its diagnoses) to the psychiatric tables under
    // Statistics Denmark's research naming (V_CPR, K_RECNUM, V_RECNUM).
    let mut moved = 0;
    // Moved records from 2018 until the LPR3 switch date (2019-03-01), within five years
    // of the covariate years (2022 on): (record number, year of its file).
    let mut recent: Vec<(String, u16)> = Vec::new();
    for ((year, adm), (_, diag)) in files_of(&dir, "LPR_ADM")
        .into_iter()
        .zip(files_of(&dir, "LPR_DIAG"))
    {
        let a = read_parquet(&adm);
        let d = read_parquet(&diag);
        let recs = texts(&a, "RECNUM");
        let start = days(&a, "D_INDDTO");
        let chosen: std::collections::BTreeSet<String> = recs
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .filter_map(|(i, r)| {
                let r = r.clone()?;
                let day = start[i]?;
                if (17_532..17_956).contains(&day) {
                    recent.push((r.clone(), year));
                }
                Some(r)
            })
            .collect();
        let pick = |df: &DataFrame| -> BooleanChunked {
            texts(df, "RECNUM")
                .iter()
                .map(|r| r.as_ref().is_some_and(|r| chosen.contains(r)))
                .collect()
        };
        let (a_moved, d_moved) = (pick(&a), pick(&d));
        let mut pa = a.filter(&a_moved).unwrap();
        let mut pd = d.filter(&d_moved).unwrap();
        moved += pa.height();
        rename(&mut pa, "PNR", "V_CPR");
        rename(&mut pa, "RECNUM", "K_RECNUM");
        rename(&mut pd, "RECNUM", "V_RECNUM");
        write_parquet(&dir.join(format!("T_PSYK_ADM{year}.parquet")), pa);
        write_parquet(&dir.join(format!("t_psyk_diag{year}.parquet")), pd);
        write_parquet(&adm, a.filter(&!&a_moved).unwrap());
        write_parquet(&diag, d.filter(&!&d_moved).unwrap());
    }
    assert!(moved > 0, "the simulation has no LPR2 records to move");
    let out = s.join("psych");
    let run = import(&dir, &out);
    assert!(run.success(), "{}", run.stderr);
    assert_same_tables(&out, &expected);
    let r = report(&out);
    let rows_read = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["register"] == "T_PSYK_ADM")
        .map(|f| f["rows_read"].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(rows_read, moved as u64);
    let used = &r["code_groups"]
        ["Names used where the recipe accepts several (recipe's first name: name found)"];
    for pair in [
        "LPR_PSYK_ADM: T_PSYK_ADM",
        "PNR: V_CPR",
        "RECNUM: K_RECNUM",
        "RECNUM: V_RECNUM",
    ] {
        assert!(used[pair].as_u64().unwrap_or(0) >= 1, "{pair}: {used}");
    }

    // An F diagnosis in the psychiatric diagnoses sets psychiatric_diagnosis_5y.
    let psychiatric = |df: &DataFrame| -> usize {
        df.column("psychiatric_diagnosis_5y")
            .unwrap()
            .as_materialized_series()
            .bool()
            .unwrap()
            .iter()
            .filter(|v| *v == Some(true))
            .count()
    };
    assert!(!recent.is_empty(), "no LPR2 record moved from 2018 on");
    for (rec, year) in &recent {
        let path = dir.join(format!("t_psyk_diag{year}.parquet"));
        let d = read_parquet(&path);
        let extra = DataFrame::new(
            1,
            d.get_column_names()
                .iter()
                .map(|name| {
                    let value = match name.as_str() {
                        "V_RECNUM" => rec.clone(),
                        "C_DIAG" => "DF200".to_string(),
                        _ => "A".to_string(),
                    };
                    Column::new((*name).clone(), [value])
                })
                .collect(),
        )
        .unwrap();
        write_parquet(&path, d.vstack(&extra).unwrap());
    }
    let run = import(&dir, &out);
    assert!(run.success(), "{}", run.stderr);
    let covariates = read_parquet(&out.join("covariates.parquet"));
    assert!(psychiatric(&covariates) > psychiatric(&expected[1]));

    // Without the psychiatric tables their contacts are missing.
    for (_, p) in files_of(&dir, "T_PSYK_ADM") {
        std::fs::remove_file(p).unwrap();
    }
    let run = import(&dir, &out);
    assert!(run.success(), "{}", run.stderr);
    let contacts = read_parquet(&out.join("contacts.parquet"));
    assert!(
        contacts.height() < expected[3].height()
            || !read_parquet(&out.join("covariates.parquet")).equals_missing(&expected[1])
    );
}

#[test]
fn quarterly_bef_takes_the_december_file_and_a_missing_quarter_is_reported() {
    let s = Scratch::new("naming");
    let dir = small_raw(&s);
    let expected = baseline(&s, &dir);
    let years = files_of(&dir, "BEF");
    for (year, path) in &years {
        let df = read_parquet(path);
        // The September file: everybody elsewhere (a move between quarters).
        let mut september = df.clone();
        let kom: Vec<Option<i64>> = september
            .column("KOM")
            .unwrap()
            .as_materialized_series()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .map(|k| k.map(|k| k + 1))
            .collect();
        september
            .with_column(Column::new("KOM".into(), kom))
            .unwrap();
        write_parquet(&dir.join(format!("BEF{year}09.parquet")), september);
        std::fs::remove_file(path).unwrap();
        write_parquet(&dir.join(format!("BEF{year}12.parquet")), df);
    }
    let out = s.join("quarterly");
    let run = import(&dir, &out);
    assert!(run.success(), "{}", run.stderr);
    assert_same_tables(&out, &expected);
    let r = report(&out);
    let dropped = r["dropped"].as_object().unwrap();
    let (_, n) = dropped
        .iter()
        .find(|(k, _)| k.starts_with("BEF: quarterly files of other quarters"))
        .unwrap_or_else(|| panic!("{dropped:?}"));
    assert_eq!(n.as_u64(), Some(years.len() as u64));

    // The last year without its December file: read from September, and reported.
    let (last, _) = years[years.len() - 1];
    std::fs::remove_file(dir.join(format!("BEF{last}12.parquet"))).unwrap();
    let run = import(&dir, &out);
    assert!(run.success(), "{}", run.stderr);
    let r = report(&out);
    let group = &r["code_groups"]
        ["BEF: years without the snapshot quarter (bef.snapshot_month); the latest quarter read"];
    let listed: Vec<&String> = group.as_object().unwrap().keys().collect();
    assert_eq!(listed.len(), 1, "{group}");
    assert!(
        listed[0].ends_with(&format!("BEF{last}09.parquet")),
        "{group}"
    );
    let covariates = read_parquet(&out.join("covariates.parquet"));
    assert!(!covariates.equals_missing(&expected[1]));

    // A year both as a yearly file and as quarters, and a quarter twice: exit 2.
    write_parquet(
        &dir.join(format!("BEF{last}.parquet")),
        read_parquet(&dir.join(format!("BEF{last}09.parquet"))),
    );
    let run = import(&dir, &out);
    assert_refused(
        &run,
        &[
            &format!("BEF{last}.parquet"),
            &format!("BEF{last}09.parquet"),
        ],
    );
}

#[test]
fn both_lpr3_namings_for_one_year_are_rejected() {
    let s = Scratch::new("naming");
    let dir = small_raw(&s);
    let expected = baseline(&s, &dir);
    let (year, path) = files_of(&dir, "LPR3_KONTAKTER").remove(1);
    let copy = dir.join(format!("LPR_A_KONTAKT{year}.parquet"));
    std::fs::copy(&path, &copy).unwrap();
    let run = import(&dir, &s.join("out"));
    assert_refused(
        &run,
        &[
            &format!("LPR3_KONTAKTER{year}.parquet"),
            &format!("LPR_A_KONTAKT{year}.parquet"),
        ],
    );
    // Different years under the two namings are read together.
    let other = files_of(&dir, "LPR3_KONTAKTER")[0].0;
    std::fs::remove_file(&copy).unwrap();
    std::fs::rename(&path, dir.join(format!("LPR_A_KONTAKT{year}.parquet"))).unwrap();
    assert_ne!(other, year);
    let out = s.join("mixed");
    let run = import(&dir, &out);
    assert!(run.success(), "{}", run.stderr);
    assert_same_tables(&out, &expected);
}

#[test]
fn vnds_as_yearly_files_or_as_its_2026_successors_imports_to_the_same_tables() {
    let s = Scratch::new("naming");
    let dir = small_raw(&s);
    let expected = baseline(&s, &dir);
    let whole = dir.join("VNDS.parquet");
    let vnds = read_parquet(&whole);
    let years: Vec<i32> = days(&vnds, "HAEND_DATO")
        .iter()
        .map(|d| 1970 + d.unwrap() / 366)
        .collect();
    let split = |by: &dyn Fn(usize) -> String| {
        let mut names: Vec<String> = (0..vnds.height()).map(by).collect();
        names.sort();
        names.dedup();
        for name in names {
            let mask: BooleanChunked = (0..vnds.height()).map(|i| by(i) == name).collect();
            write_parquet(
                &dir.join(format!("{name}.parquet")),
                vnds.filter(&mask).unwrap(),
            );
        }
    };
    // Yearly files (grouped by an approximate year: any split into years will do).
    split(&|i| format!("VNDS{}", years[i]));
    std::fs::remove_file(&whole).unwrap();
    let out = s.join("yearly");
    let run = import(&dir, &out);
    assert!(run.success(), "{}", run.stderr);
    assert_same_tables(&out, &expected);

    // One file of all years next to yearly ones: exit 2 naming both.
    write_parquet(&whole, vnds.clone());
    let run = import(&dir, &out);
    assert_refused(&run, &["VNDS.parquet", "keep one"]);
    for (_, p) in files_of(&dir, "VNDS") {
        std::fs::remove_file(p).unwrap();
    }
    std::fs::remove_file(&whole).unwrap();

    // Since 2026: immigrations and emigrations in two registers.
    let direction = texts(&vnds, "INDUD_KODE");
    split(&|i| {
        if direction[i].as_deref() == Some("U") {
            "VNDS_UD".to_string()
        } else {
            "VNDS_IND".to_string()
        }
    });
    let run = import(&dir, &out);
    assert!(run.success(), "{}", run.stderr);
    assert_same_tables(&out, &expected);

    // VNDS next to its successors: exit 2.
    write_parquet(&whole, vnds.clone());
    let run = import(&dir, &out);
    assert_refused(&run, &["VNDS.parquet", "VNDS_"]);
}

#[test]
fn a_variable_under_none_of_its_names_is_rejected_naming_them_all() {
    let s = Scratch::new("naming");
    let dir = small_raw(&s);
    let (year, path) = files_of(&dir, "LPR3_KONTAKTER").remove(0);
    let mut df = read_parquet(&path);
    df.drop_in_place("KONTAKTTYPE").unwrap();
    write_parquet(&path, df);
    let run = import(&dir, &s.join("out"));
    assert_refused(
        &run,
        &[
            &format!("LPR3_KONTAKTER{year}.parquet"),
            "KONTAKTTYPE or KONT_TYPE",
        ],
    );
}

#[test]
fn a_service_code_in_no_contact_group_is_counted_in_the_report() {
    let s = Scratch::new("naming");
    let dir = small_raw(&s);
    let expected = baseline(&s, &dir);
    let (_, path) = files_of(&dir, "SSSY").remove(1);
    let mut df = read_parquet(&path);
    let services = texts(&df, "YDELSESNUMMER");
    let spec = texts(&df, "SPECIALE");
    let counts: Vec<Option<i64>> = df
        .column("YDLANT")
        .unwrap()
        .as_materialized_series()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    let child = texts(&df, "BARNMAK");
    // A consultation of an adult with a positive count becomes code 9999.
    let row = (0..df.height())
        .find(|&i| {
            services[i].as_deref() == Some("0101")
                && spec[i].as_deref().is_some_and(|s| s.starts_with("80"))
                && child[i].as_deref() == Some("0")
                && counts[i].is_some_and(|n| n > 0)
        })
        .unwrap();
    let mut changed = services.clone();
    changed[row] = Some("9999".into());
    df.with_column(Column::new("YDELSESNUMMER".into(), changed))
        .unwrap();
    write_parquet(&path, df);
    let out = s.join("out");
    let run = import(&dir, &out);
    assert!(run.success(), "{}", run.stderr);
    let r = report(&out);
    let (_, group) = r["code_groups"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("SSSY: general-practice service codes not counted"))
        .unwrap();
    assert!(group["9999"].as_u64().unwrap() >= 1, "{group}");
    // Those services are no longer consultations.
    assert!(read_parquet(&out.join("contacts.parquet")).height() < expected[3].height());
}
