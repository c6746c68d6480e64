//! The synthetic population as Statistics Denmark would deliver it (`shine simulate
//! --raw`): raw registers, one file per register and year, upper-case names, with the
//! registers' quirks, written from the extract tables of the same simulation so that
//! `shine import` can be checked against them.
//!
//! | file | what it holds, and its quirks |
//! |---|---|
//! | `BEF{year}` (2022–2025) | `PNR, KOEN` 1/2, `FOED_DAG` (a bare SAS date number in 2022, a date later), `IE_TYPE, KOM, FAMILIE_ID, ANTPERSF` (missing where living alone is) |
//! | `DOD` | `PNR, DODDATO` |
//! | `VNDS` | `PNR, INDUD_KODE` I/U, `HAEND_DATO`: emigrations, immigrations of immigrants before 2022, and some earlier stays abroad (out and back) |
//! | `UDDA{year}` | `PNR, HFAUDD` (a 90 "not stated" code or no row where education is missing); `UDDA2023` has lower-case names |
//! | `IND{year}` | `PNR, FAMAEKVIVADISP_13` |
//! | `DREAM` | `PNR, y_2201 … y_2552`: the year's status in every week, a few weeks of other benefits, 999 in a year of unknown status |
//! | `PRAKSIS{year}` | `PNR, YDERNR` |
//! | `SSSY{year}` | `PNR, YDERNR, SPECIALE, YDELSESNUMMER, HONUGE, YDLANT, BARNMAK`: one row per service code and fee week with its count, mistaken services with their negative corrections, child services on the parent's number, other specialties and services that are not contacts |
//! | `LPR_ADM{year}`, `LPR_DIAG{year}` (2016–2019) | LPR2 records with the diagnoses behind the Charlson index, and records in 2019 that LPR3 also reports |
//! | `LPR3_KONTAKTER{year}`, `LPR3_DIAGNOSER{year}` (2019–2026) | hospital contacts with start and end date and time, contact type, priority and unit type; diagnosis-only (virtual) contacts; identical duplicate rows; rows reported by LPR2 |
//! | `OPKALD1813_{year}` | `PNR, OPKALDSTIDSPUNKT` (date-time) |
//! | `SHINE_HENVISNING`, `SHINE_SURVEY` | the referral list and the survey |
//!
//! What does not survive the trip, by design of the registers: the health insurance
//! register dates a general-practice service by its fee week, so `shine import` dates it
//! on the Monday of that week; and the income quintile is recomputed from incomes within
//! the year among persons with an income, while the simulator ranked everyone (also
//! those whose income it then hid), so about 1 % of quintiles move by one.

use std::collections::BTreeMap;

use polars::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::SimulatedExtracts;
use crate::data::calendar::{civil_from_days, days_from_civil};
use crate::data::registers::weeks::{iso_week, weeks_in};
use crate::data::registers::Recipe;

/// One raw register file: its name (without extension) and its rows.
pub struct RawFile {
    pub name: String,
    pub frame: DataFrame,
}

fn strings(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .as_materialized_series()
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

fn days(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i32>>> {
    let s = df
        .column(name)?
        .as_materialized_series()
        .cast(&DataType::Int32)?;
    Ok(s.i32()?.iter().collect())
}

fn ints(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    let s = df
        .column(name)?
        .as_materialized_series()
        .cast(&DataType::Int64)?;
    Ok(s.i64()?.iter().collect())
}

fn bools(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<bool>>> {
    Ok(df
        .column(name)?
        .as_materialized_series()
        .bool()?
        .iter()
        .collect())
}

fn floats(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    let s = df
        .column(name)?
        .as_materialized_series()
        .cast(&DataType::Float64)?;
    Ok(s.f64()?.iter().collect())
}

fn s_col(name: &str, v: Vec<Option<String>>) -> Column {
    StringChunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn i_col(name: &str, v: Vec<Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn f_col(name: &str, v: Vec<Option<f64>>) -> Column {
    Float64Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn d_col(name: &str, v: Vec<Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), v.into_iter())
        .into_date()
        .into_series()
        .into_column()
}

fn dt_col(name: &str, v: Vec<Option<i64>>) -> PolarsResult<Column> {
    Ok(Int64Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
        .into_column())
}

fn frame(columns: Vec<Column>) -> PolarsResult<DataFrame> {
    let n = columns.first().map_or(0, Column::len);
    DataFrame::new(n, columns)
}

fn hhmm(seconds: i64) -> String {
    format!("{:02}:{:02}", seconds / 3600, (seconds % 3600) / 60)
}

/// A covariate row of the simulation.
struct Cov {
    person: usize,
    year: i32,
    municipality: i64,
    practice: Option<String>,
    living_alone: Option<bool>,
    education: Option<String>,
    quintile: Option<i64>,
    employment: Option<String>,
    charlson: i64,
    psychiatric: bool,
}

/// Rows of a raw LPR3 contact with its diagnosis.
#[derive(Default)]
struct Lpr3Rows {
    id: Vec<Option<String>>,
    pnr: Vec<Option<String>>,
    start: Vec<Option<i32>>,
    start_time: Vec<Option<String>>,
    end: Vec<Option<i32>>,
    end_time: Vec<Option<String>>,
    kind: Vec<Option<String>>,
    priority: Vec<Option<String>>,
    unit: Vec<Option<String>>,
    system: Vec<Option<String>>,
    diag_id: Vec<Option<String>>,
    diag: Vec<Option<String>>,
}

#[derive(Default)]
struct Lpr2Rows {
    id: Vec<Option<String>>,
    pnr: Vec<Option<String>>,
    start: Vec<Option<i32>>,
    end: Vec<Option<i32>>,
    pattype: Vec<Option<String>>,
    indm: Vec<Option<String>>,
    diag_id: Vec<Option<String>>,
    diag: Vec<Option<String>>,
}

/// The 1813 calls of a year: PNR and the time of the call (ms since 1970).
type Calls = (Vec<Option<String>>, Vec<Option<i64>>);
/// A health insurance row: person, practice, service, fee week, count, child flag
/// (-2 marks a row of another specialty).
type ServiceRow = (usize, String, String, i64, i64, i64);

/// The conditions (indices into the recipe's Charlson list) that give `score` points,
/// lightest first, so that a rising score adds conditions.
fn conditions_for(score: i64, order: &[(usize, u8)]) -> Vec<usize> {
    let mut left = score;
    let mut chosen = Vec::new();
    for &(j, w) in order {
        if i64::from(w) <= left {
            chosen.push(j);
            left -= i64::from(w);
        }
        if left == 0 {
            break;
        }
    }
    chosen
}

/// Writes the raw registers of a simulation (see the module documentation). The quirks
/// are drawn from their own stream of `seed`.
///
/// # Errors
/// Only a polars error in building a frame.
pub fn raw_registers(sim: &SimulatedExtracts, seed: u64) -> PolarsResult<Vec<RawFile>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5241_575f_5245_4753);
    let recipe = Recipe::embedded();
    let mut files: BTreeMap<String, DataFrame> = BTreeMap::new();

    // Persons.
    let p = &sim.persons;
    let ids: Vec<String> = strings(p, "person_id")?
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect();
    let index: std::collections::HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(k, s)| (s.as_str(), k))
        .collect();
    let female: Vec<bool> = strings(p, "sex")?
        .iter()
        .map(|s| s.as_deref() == Some("F"))
        .collect();
    let birth: Vec<i32> = days(p, "birth_date")?
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect();
    let origin: Vec<i64> = strings(p, "origin")?
        .iter()
        .map(|s| match s.as_deref() {
            Some("immigrant") => 2,
            Some("descendant") => 3,
            _ => 1,
        })
        .collect();
    let death = days(p, "death_date")?;
    let emigration = days(p, "emigration_date")?;
    let n = ids.len();

    // Covariates.
    let c = &sim.covariates;
    let c_id = strings(c, "person_id")?;
    let c_year = ints(c, "year")?;
    let c_mun = ints(c, "municipality_code")?;
    let c_prac = strings(c, "practice_id")?;
    let c_alone = bools(c, "living_alone")?;
    let c_edu = strings(c, "education")?;
    let c_q = ints(c, "income_quintile")?;
    let c_emp = strings(c, "employment")?;
    let c_ch = ints(c, "charlson_index")?;
    let c_psy = bools(c, "psychiatric_diagnosis_5y")?;
    let covs: Vec<Cov> = (0..c.height())
        .map(|r| Cov {
            person: index[c_id[r].as_deref().unwrap_or_default()],
            year: c_year[r].unwrap_or_default() as i32,
            municipality: c_mun[r].unwrap_or_default(),
            practice: c_prac[r].clone(),
            living_alone: c_alone[r],
            education: c_edu[r].clone(),
            quintile: c_q[r],
            employment: c_emp[r].clone(),
            charlson: c_ch[r].unwrap_or_default(),
            psychiatric: c_psy[r].unwrap_or_default(),
        })
        .collect();
    let mut years: Vec<i32> = covs.iter().map(|r| r.year).collect();
    years.sort_unstable();
    years.dedup();
    let mut practice_of: std::collections::HashMap<(usize, i32), String> =
        std::collections::HashMap::new();
    for r in &covs {
        if let Some(pr) = &r.practice {
            practice_of.insert((r.person, r.year), pr.clone());
        }
    }

    // BEF, UDDA, IND, PRAKSIS per year.
    let education_codes: [(&str, [&str; 2]); 4] = [
        ("basic", ["1005", "1510"]),
        ("upper_secondary", ["2010", "3015"]),
        ("tertiary_short_medium", ["4015", "5080"]),
        ("tertiary_long", ["7025", "8010"]),
    ];
    let person_code: Vec<usize> = (0..n).map(|_| rng.random_range(0..2)).collect();
    let family_size: Vec<i64> = (0..n).map(|_| rng.random_range(2..=5)).collect();
    let udda_hidden: Vec<bool> = (0..n).map(|_| rng.random_bool(0.5)).collect();
    for &year in &years {
        let rows: Vec<&Cov> = covs.iter().filter(|r| r.year == year).collect();
        let pnr: Vec<Option<String>> = rows.iter().map(|r| Some(ids[r.person].clone())).collect();
        let birth_column = if year == years[0] {
            // A bare SAS date: days since 1960-01-01.
            f_col(
                "FOED_DAG",
                rows.iter()
                    .map(|r| Some(f64::from(birth[r.person] + 3653)))
                    .collect(),
            )
        } else {
            d_col(
                "FOED_DAG",
                rows.iter().map(|r| Some(birth[r.person])).collect(),
            )
        };
        files.insert(
            format!("BEF{year}"),
            frame(vec![
                s_col("PNR", pnr.clone()),
                i_col(
                    "KOEN",
                    rows.iter()
                        .map(|r| Some(if female[r.person] { 2 } else { 1 }))
                        .collect(),
                ),
                birth_column,
                i_col(
                    "IE_TYPE",
                    rows.iter().map(|r| Some(origin[r.person])).collect(),
                ),
                i_col("KOM", rows.iter().map(|r| Some(r.municipality)).collect()),
                s_col(
                    "FAMILIE_ID",
                    rows.iter()
                        .map(|r| Some(format!("F{:09}", r.person + 1)))
                        .collect(),
                ),
                i_col(
                    "ANTPERSF",
                    rows.iter()
                        .map(|r| {
                            r.living_alone
                                .map(|a| if a { 1 } else { family_size[r.person] })
                        })
                        .collect(),
                ),
            ])?,
        );
        // UDDA: "not stated" code or no row for a missing education.
        let mut u_pnr = Vec::new();
        let mut u_code: Vec<Option<i64>> = Vec::new();
        for r in &rows {
            let code = match &r.education {
                Some(e) => education_codes
                    .iter()
                    .find(|(g, _)| g == e)
                    .map(|(_, codes)| codes[person_code[r.person]].to_string()),
                None if udda_hidden[r.person] => continue,
                None => Some("9090".to_string()),
            };
            u_pnr.push(Some(ids[r.person].clone()));
            u_code.push(code.and_then(|c| c.parse().ok()));
        }
        let (pnr_name, hfaudd_name) = if year == 2023 {
            ("pnr", "hfaudd")
        } else {
            ("PNR", "HFAUDD")
        };
        files.insert(
            format!("UDDA{year}"),
            frame(vec![s_col(pnr_name, u_pnr), i_col(hfaudd_name, u_code)])?,
        );
        files.insert(
            format!("IND{year}"),
            frame(vec![
                s_col("PNR", pnr.clone()),
                f_col(
                    "FAMAEKVIVADISP_13",
                    rows.iter()
                        .map(|r| {
                            r.quintile
                                .map(|q| (100_000 * q + rng.random_range(0..100_000)) as f64)
                        })
                        .collect(),
                ),
            ])?,
        );
        let listed: Vec<&&Cov> = rows.iter().filter(|r| r.practice.is_some()).collect();
        files.insert(
            format!("PRAKSIS{year}"),
            frame(vec![
                s_col(
                    "PNR",
                    listed.iter().map(|r| Some(ids[r.person].clone())).collect(),
                ),
                s_col(
                    "YDERNR",
                    listed.iter().map(|r| r.practice.clone()).collect(),
                ),
            ])?,
        );
    }

    // DOD.
    let dead: Vec<usize> = (0..n).filter(|&k| death[k].is_some()).collect();
    files.insert(
        "DOD".into(),
        frame(vec![
            s_col("PNR", dead.iter().map(|&k| Some(ids[k].clone())).collect()),
            d_col("DODDATO", dead.iter().map(|&k| death[k]).collect()),
        ])?,
    );

    // VNDS.
    let (mut v_pnr, mut v_code, mut v_date) = (Vec::new(), Vec::new(), Vec::new());
    let early = days_from_civil(1990, 1, 1);
    for k in 0..n {
        let mut moves: Vec<(i32, &str)> = Vec::new();
        if origin[k] == 2 {
            moves.push((
                rng.random_range(early.max(birth[k])..days_from_civil(2021, 1, 1)),
                "I",
            ));
        }
        if rng.random_bool(0.02) {
            let out = rng
                .random_range(days_from_civil(2010, 1, 1)..days_from_civil(2016, 1, 1))
                .max(birth[k] + 1);
            moves.push((out, "U"));
            moves.push((out + rng.random_range(200..1500), "I"));
        }
        if let Some(d) = emigration[k] {
            moves.push((d, "U"));
        }
        moves.sort_by_key(|m| m.0);
        for (d, code) in moves {
            v_pnr.push(Some(ids[k].clone()));
            v_code.push(Some(code.to_string()));
            v_date.push(Some(d));
        }
    }
    files.insert(
        "VNDS".into(),
        frame(vec![
            s_col("PNR", v_pnr),
            s_col("INDUD_KODE", v_code),
            d_col("HAEND_DATO", v_date),
        ])?,
    );

    // DREAM: one wide file, y_YYWW columns of the snapshot years.
    let dream = &recipe.dream;
    let code_of = |e: Option<&str>| -> Option<String> {
        match e {
            None => dream.unknown.first().cloned(),
            Some(g) => dream
                .groups()
                .iter()
                .find(|x| x.0 == g)
                .and_then(|x| x.1.first().cloned()),
        }
    };
    let mut week_names: Vec<(i32, i32)> = Vec::new();
    for &year in &years {
        for w in 1..=weeks_in(year) {
            week_names.push((year, w));
        }
    }
    let mut by_person: BTreeMap<usize, Vec<&Cov>> = BTreeMap::new();
    for r in &covs {
        if r.employment.as_deref() != Some(dream.empty_weeks.as_str()) {
            by_person.entry(r.person).or_default();
        }
    }
    for r in &covs {
        if let Some(v) = by_person.get_mut(&r.person) {
            v.push(r);
        }
    }
    let mut grid: Vec<Vec<Option<String>>> =
        vec![Vec::with_capacity(by_person.len()); week_names.len()];
    let mut d_pnr = Vec::with_capacity(by_person.len());
    for (&k, rows) in &by_person {
        d_pnr.push(Some(ids[k].clone()));
        let mut column = 0;
        for &year in &years {
            let weeks = weeks_in(year) as usize;
            let row = rows.iter().find(|r| r.year == year);
            let main = row.and_then(|r| code_of(r.employment.as_deref()));
            let noise = row.is_some_and(|r| r.employment.is_some()) && rng.random_bool(0.3);
            let noise_weeks = if noise { rng.random_range(1..=8) } else { 0 };
            let noise_start = rng.random_range(0..weeks - 8);
            for w in 0..weeks {
                let value = if row.is_none() {
                    None
                } else if (noise_start..noise_start + noise_weeks).contains(&w) {
                    dream.sick_leave.first().cloned()
                } else {
                    main.clone()
                };
                grid[column + w].push(value);
            }
            column += weeks;
        }
    }
    let mut dream_columns = vec![s_col("PNR", d_pnr)];
    for ((year, w), values) in week_names.iter().zip(grid) {
        dream_columns.push(s_col(&format!("y_{:02}{w:02}", year % 100), values));
    }
    files.insert("DREAM".into(), frame(dream_columns)?);

    // Contacts.
    let ct = &sim.contacts;
    let ct_id = strings(ct, "person_id")?;
    let ct_day = days(ct, "date")?;
    let ct_type = strings(ct, "contact_type")?;
    let sssy = &recipe.sssy;
    let service_of = |t: &str| -> Option<String> {
        sssy.groups()
            .iter()
            .find(|g| g.0 == t)
            .and_then(|g| g.1.first().cloned())
    };
    // SSSY: (fee year, person, week, service) → count
    let mut gp: BTreeMap<(i32, usize, i32, String), i64> = BTreeMap::new();
    let mut lpr3 = BTreeMap::<i32, Lpr3Rows>::new();
    let mut lpr2 = BTreeMap::<i32, Lpr2Rows>::new();
    let mut calls: BTreeMap<i32, Calls> = BTreeMap::new();
    let mut contact_number: u64 = 0;
    let mut next_id = |prefix: &str| {
        contact_number += 1;
        format!("{prefix}{contact_number:012}")
    };
    let year_of = |d: i32| civil_from_days(d).0;
    let lpr = &recipe.lpr;
    let add_lpr3 = |lpr3: &mut BTreeMap<i32, Lpr3Rows>,
                    id: String,
                    pnr: &str,
                    start: i64,
                    end: i64,
                    kind: &str,
                    priority: &str,
                    unit: &str,
                    system: &str,
                    diagnosis: &str| {
        let day = start.div_euclid(86_400) as i32;
        let rows = lpr3.entry(year_of(day)).or_default();
        rows.id.push(Some(id.clone()));
        rows.pnr.push(Some(pnr.to_string()));
        rows.start.push(Some(day));
        rows.start_time.push(Some(hhmm(start.rem_euclid(86_400))));
        rows.end.push(Some(end.div_euclid(86_400) as i32));
        rows.end_time.push(Some(hhmm(end.rem_euclid(86_400))));
        rows.kind.push(Some(kind.to_string()));
        rows.priority.push(Some(priority.to_string()));
        rows.unit.push(Some(unit.to_string()));
        rows.system.push(Some(system.to_string()));
        rows.diag_id.push(Some(id));
        rows.diag.push(Some(diagnosis.to_string()));
    };
    let physical = lpr.lpr3.physical_types[0].clone();
    let acute = lpr.acute[0].clone();
    let planned = lpr.planned[0].clone();
    let emergency_unit = lpr.lpr3.emergency_units[0].clone();
    for r in 0..ct.height() {
        let (Some(id), Some(day), Some(t)) = (&ct_id[r], ct_day[r], &ct_type[r]) else {
            continue;
        };
        let k = index[id.as_str()];
        let minute = |rng: &mut ChaCha8Rng, lo: i64, hi: i64| rng.random_range(lo..hi) * 60;
        let start_of_day = i64::from(day) * 86_400;
        match t.as_str() {
            "helpline_1813" => {
                let entry = calls.entry(year_of(day)).or_default();
                entry.0.push(Some(id.clone()));
                entry
                    .1
                    .push(Some((start_of_day + minute(&mut rng, 0, 1440)) * 1000));
            }
            "emergency_department" | "acute_admission" | "planned_admission" | "outpatient" => {
                let (begin, length, priority, unit) = match t.as_str() {
                    "emergency_department" => (
                        minute(&mut rng, 0, 1440),
                        minute(&mut rng, 60, 600),
                        &acute,
                        emergency_unit.as_str(),
                    ),
                    "acute_admission" => (
                        minute(&mut rng, 0, 1440),
                        minute(&mut rng, 13 * 60, 7 * 1440),
                        &acute,
                        "sengeafsnit",
                    ),
                    "planned_admission" => (
                        minute(&mut rng, 420, 720),
                        minute(&mut rng, 13 * 60, 5 * 1440),
                        &planned,
                        "sengeafsnit",
                    ),
                    _ => (
                        minute(&mut rng, 480, 900),
                        minute(&mut rng, 20, 120),
                        &planned,
                        "ambulatorie",
                    ),
                };
                let start = start_of_day + begin;
                let cid = next_id("K");
                add_lpr3(
                    &mut lpr3,
                    cid.clone(),
                    id,
                    start,
                    start + length,
                    &physical,
                    priority,
                    unit,
                    "LPR3",
                    "DR69",
                );
                if rng.random_bool(0.005) {
                    add_lpr3(
                        &mut lpr3,
                        cid,
                        id,
                        start,
                        start + length,
                        &physical,
                        priority,
                        unit,
                        "LPR3",
                        "DR69",
                    );
                }
            }
            gp_type => {
                let Some(service) = service_of(gp_type) else {
                    continue;
                };
                let (wy, w) = iso_week(day);
                *gp.entry((wy, k, w, service)).or_default() += 1;
            }
        }
    }

    // Diagnoses behind the Charlson index and the psychiatric flag.
    let charlson = &recipe.diagnoses.charlson;
    let psychiatric_prefix = recipe.diagnoses.psychiatric.clone();
    let code_for = |j: usize| -> String {
        let code = charlson[j]
            .codes
            .iter()
            .find(|c| !psychiatric_prefix.iter().any(|p| c.starts_with(p.as_str())))
            .cloned()
            .unwrap_or_default();
        format!("D{code}")
    };
    let mut order: Vec<(usize, u8)> = charlson
        .iter()
        .enumerate()
        .map(|(j, c)| (j, c.weight))
        .collect();
    order.sort_by_key(|&(j, w)| (w, j));
    let switch = recipe.switch_day();
    let mut person_covs: BTreeMap<usize, Vec<&Cov>> = BTreeMap::new();
    for r in &covs {
        person_covs.entry(r.person).or_default().push(r);
    }
    for (&k, rows) in &person_covs {
        let mut have: Vec<usize> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let want = conditions_for(r.charlson, &order);
            let new: Vec<usize> = want.into_iter().filter(|j| !have.contains(j)).collect();
            for j in new {
                let day = if i == 0 {
                    if j % 2 == 0 {
                        days_from_civil(2016, 1, 1) + rng.random_range(0..1000)
                    } else {
                        switch + rng.random_range(0..1000)
                    }
                } else {
                    days_from_civil(r.year, 1, 10) + rng.random_range(0..300)
                };
                if day < switch {
                    let rows2 = lpr2.entry(year_of(day)).or_default();
                    let rec = next_id("R");
                    rows2.id.push(Some(rec.clone()));
                    rows2.pnr.push(Some(ids[k].clone()));
                    rows2.start.push(Some(day));
                    rows2.end.push(Some(day));
                    rows2.pattype.push(Some("2".into()));
                    rows2.indm.push(Some("2".into()));
                    rows2.diag_id.push(Some(rec));
                    rows2.diag.push(Some(code_for(j)));
                } else {
                    let start = i64::from(day) * 86_400 + 36_000;
                    add_lpr3(
                        &mut lpr3,
                        next_id("K"),
                        &ids[k],
                        start,
                        start + 1800,
                        "ALCA20",
                        &planned,
                        "ambulatorie",
                        "LPR3",
                        &code_for(j),
                    );
                }
                have.push(j);
            }
        }
        if rows.first().is_some_and(|r| r.psychiatric) {
            let day = days_from_civil(2021, 1, 5) + rng.random_range(0..700);
            let start = i64::from(day) * 86_400 + 36_000;
            add_lpr3(
                &mut lpr3,
                next_id("K"),
                &ids[k],
                start,
                start + 3600,
                &physical,
                &planned,
                "ambulatorie",
                "LPR3",
                "DF329",
            );
        }
        // Both systems report early 2019; LPR3 tables also hold older LPR2 contacts.
        if rng.random_bool(0.01) {
            let day = days_from_civil(2019, 1, 15) + rng.random_range(0..60);
            let rows2 = lpr2.entry(2019).or_default();
            let rec = next_id("R");
            rows2.id.push(Some(rec.clone()));
            rows2.pnr.push(Some(ids[k].clone()));
            rows2.start.push(Some(day));
            rows2.end.push(Some(day));
            rows2.pattype.push(Some("2".into()));
            rows2.indm.push(Some("2".into()));
            rows2.diag_id.push(Some(rec));
            rows2.diag.push(Some("DR69".into()));
            let start = i64::from(day) * 86_400 + 36_000;
            add_lpr3(
                &mut lpr3,
                next_id("K"),
                &ids[k],
                start,
                start + 1800,
                &physical,
                &planned,
                "ambulatorie",
                "LPR2",
                "DR69",
            );
        }
    }
    for (year, rows) in lpr2 {
        files.insert(
            format!("LPR_ADM{year}"),
            frame(vec![
                s_col("RECNUM", rows.id),
                s_col("PNR", rows.pnr),
                d_col("D_INDDTO", rows.start),
                d_col("D_UDDTO", rows.end),
                s_col("C_PATTYPE", rows.pattype),
                s_col("C_INDM", rows.indm),
            ])?,
        );
        let m = rows.diag.len();
        files.insert(
            format!("LPR_DIAG{year}"),
            frame(vec![
                s_col("RECNUM", rows.diag_id),
                s_col("C_DIAG", rows.diag),
                s_col("C_DIAGTYPE", vec![Some("A".to_string()); m]),
            ])?,
        );
    }
    for (year, rows) in lpr3 {
        files.insert(
            format!("LPR3_KONTAKTER{year}"),
            frame(vec![
                s_col("DW_EK_KONTAKT", rows.id),
                s_col("PNR", rows.pnr),
                d_col("DATO_START", rows.start),
                s_col("TIDSPUNKT_START", rows.start_time),
                d_col("DATO_SLUT", rows.end),
                s_col("TIDSPUNKT_SLUT", rows.end_time),
                s_col("KONTAKTTYPE", rows.kind),
                s_col("PRIORITET", rows.priority),
                s_col("ENHEDSTYPE_ANS", rows.unit),
                s_col("LPRINDBERETNINGSSYSTEM", rows.system),
            ])?,
        );
        let m = rows.diag.len();
        files.insert(
            format!("LPR3_DIAGNOSER{year}"),
            frame(vec![
                s_col("DW_EK_KONTAKT", rows.diag_id),
                s_col("DIAGNOSEKODE", rows.diag),
                s_col("DIAGNOSETYPE", vec![Some("A".to_string()); m]),
            ])?,
        );
    }

    // SSSY, with corrections, child services, other specialties and other services.
    let mut sssy_rows: BTreeMap<i32, Vec<ServiceRow>> = BTreeMap::new();
    let gp_specialty = "800010".to_string();
    for ((wy, k, w, service), count) in gp {
        let practice = practice_of
            .get(&(k, wy))
            .or_else(|| practice_of.get(&(k, wy.clamp(years[0], years[years.len() - 1]))))
            .cloned()
            .unwrap_or_else(|| "GP0001".to_string());
        let week = i64::from(wy % 100) * 100 + i64::from(w);
        let rows = sssy_rows.entry(wy).or_default();
        rows.push((k, practice.clone(), service.clone(), week, count, 0));
        if rng.random_bool(0.03) {
            // A service entered by mistake and corrected.
            rows.push((k, practice.clone(), service.clone(), week, 1, 0));
            rows.push((k, practice.clone(), service.clone(), week, -1, 0));
        }
        if rng.random_bool(0.03) {
            rows.push((k, practice.clone(), service.clone(), week, 1, 1));
        }
        if rng.random_bool(0.1) {
            rows.push((k, practice.clone(), "2101".to_string(), week, 1, 0));
        }
        if rng.random_bool(0.05) {
            rows.push((k, "SP0001".to_string(), "0101".to_string(), week, 1, -2));
        }
    }
    for (year, rows) in sssy_rows {
        files.insert(
            format!("SSSY{year}"),
            frame(vec![
                s_col("PNR", rows.iter().map(|r| Some(ids[r.0].clone())).collect()),
                s_col("YDERNR", rows.iter().map(|r| Some(r.1.clone())).collect()),
                s_col(
                    "SPECIALE",
                    rows.iter()
                        .map(|r| {
                            Some(if r.5 == -2 {
                                "540000".to_string()
                            } else {
                                gp_specialty.clone()
                            })
                        })
                        .collect(),
                ),
                s_col(
                    "YDELSESNUMMER",
                    rows.iter().map(|r| Some(r.2.clone())).collect(),
                ),
                i_col("HONUGE", rows.iter().map(|r| Some(r.3)).collect()),
                i_col("YDLANT", rows.iter().map(|r| Some(r.4)).collect()),
                i_col("BARNMAK", rows.iter().map(|r| Some(r.5.max(0))).collect()),
            ])?,
        );
    }
    for (year, (pnr, when)) in calls {
        files.insert(
            format!("OPKALD1813_{year}"),
            frame(vec![s_col("PNR", pnr), dt_col("OPKALDSTIDSPUNKT", when)?])?,
        );
    }

    // The project's referral list and survey.
    let rf = &sim.referrals;
    files.insert(
        "SHINE_HENVISNING".into(),
        frame(vec![
            s_col("PNR", strings(rf, "person_id")?),
            d_col("HENVISNINGSDATO", days(rf, "referral_date")?),
            s_col("YDERNR", strings(rf, "practice_id")?),
            s_col("HENVISER", strings(rf, "referral_source")?),
        ])?,
    );
    let pr = &sim.proms;
    let mut survey = vec![
        s_col("PNR", strings(pr, "person_id")?),
        i_col("BOELGE", ints(pr, "wave")?),
        d_col("SVARDATO", days(pr, "response_date")?),
    ];
    for name in [
        "ucla_1", "ucla_2", "ucla_3", "eq5d_mo", "eq5d_sc", "eq5d_ua", "eq5d_pd", "eq5d_ad",
    ] {
        survey.push(i_col(&name.to_ascii_uppercase(), ints(pr, name)?));
    }
    survey.push(f_col("EQ5D_VAS", floats(pr, "eq5d_vas")?));
    files.insert("SHINE_SURVEY".into(), frame(survey)?);

    Ok(files
        .into_iter()
        .map(|(name, frame)| RawFile { name, frame })
        .collect())
}
