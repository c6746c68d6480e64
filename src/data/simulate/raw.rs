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
//!
//! Memory: every file is handed to the caller as soon as it is complete, and the large
//! ones (DREAM, SSSY, LPR) are built part by part from compact rows, so that the peak
//! does not grow with the number of files and only one part of a large file is held as
//! a frame.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use polars::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::SimulatedExtracts;
use crate::data::calendar::{civil_from_days, days_from_civil};
use crate::data::registers::weeks::{iso_week, weeks_in};
use crate::data::registers::Recipe;

/// One raw register file: its name (without extension) and its rows.
pub struct RawFile<'a> {
    pub name: String,
    pub table: RawTable<'a>,
}

/// The rows of a raw register file.
pub enum RawTable<'a> {
    /// A frame built whole (files of at most one row per person and year).
    Whole(DataFrame),
    /// `rows` rows, built by `part` for consecutive ranges that cover `0..rows` and
    /// must be asked for in that order (some parts draw from the generator's stream).
    Parts {
        rows: usize,
        part: Box<dyn FnMut(Range<usize>) -> PolarsResult<DataFrame> + 'a>,
    },
}

/// Whether `stem` (a file name without extension) is one that [`raw_registers`] writes.
pub fn is_raw_register_name(stem: &str) -> bool {
    const SINGLE: [&str; 5] = ["DOD", "VNDS", "DREAM", "SHINE_HENVISNING", "SHINE_SURVEY"];
    const YEARLY: [&str; 10] = [
        "BEF",
        "UDDA",
        "IND",
        "PRAKSIS",
        "SSSY",
        "LPR_ADM",
        "LPR_DIAG",
        "LPR3_KONTAKTER",
        "LPR3_DIAGNOSER",
        "OPKALD1813_",
    ];
    SINGLE.contains(&stem)
        || YEARLY.iter().any(|p| {
            stem.strip_prefix(p)
                .is_some_and(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
        })
}

fn str_column<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<&'a StringChunked> {
    df.column(name)?.as_materialized_series().str()
}

fn cast_column(df: &DataFrame, name: &str, to: &DataType) -> PolarsResult<Series> {
    df.column(name)?.as_materialized_series().cast(to)
}

fn days(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i32>>> {
    Ok(cast_column(df, name, &DataType::Int32)?
        .i32()?
        .iter()
        .collect())
}

fn ints(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    Ok(cast_column(df, name, &DataType::Int64)?
        .i64()?
        .iter()
        .collect())
}

fn floats(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    Ok(cast_column(df, name, &DataType::Float64)?
        .f64()?
        .iter()
        .collect())
}

fn s_col<S: AsRef<str>>(name: &str, v: impl IntoIterator<Item = Option<S>>) -> Column {
    StringChunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn i_col(name: &str, v: impl IntoIterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn f_col(name: &str, v: impl IntoIterator<Item = Option<f64>>) -> Column {
    Float64Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn d_col(name: &str, v: impl IntoIterator<Item = Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), v.into_iter())
        .into_date()
        .into_series()
        .into_column()
}

fn dt_col(name: &str, v: impl IntoIterator<Item = Option<i64>>) -> PolarsResult<Column> {
    Ok(Int64Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
        .into_column())
}

fn frame(columns: Vec<Column>) -> PolarsResult<DataFrame> {
    let n = columns.first().map_or(0, Column::len);
    DataFrame::new(n, columns)
}

/// A file built part by part from the rows in `rows`.
fn parts<'a, T>(
    rows: &'a [T],
    build: impl Fn(&'a [T]) -> PolarsResult<DataFrame> + 'a,
) -> RawTable<'a> {
    RawTable::Parts {
        rows: rows.len(),
        part: Box::new(move |range| build(rows.get(range).unwrap_or_default())),
    }
}

fn hhmm(seconds: i64) -> String {
    format!("{:02}:{:02}", seconds / 3600, (seconds % 3600) / 60)
}

/// A covariate row of the simulation.
struct Cov<'a> {
    person: u32,
    year: i32,
    municipality: i32,
    charlson: i32,
    quintile: Option<i32>,
    living_alone: Option<bool>,
    psychiatric: bool,
    practice: Option<&'a str>,
    education: Option<&'a str>,
    employment: Option<&'a str>,
}

/// A short list of the codes that raw rows repeat, so that a row holds a number.
#[derive(Default)]
struct Words(Vec<String>);

impl Words {
    fn id(&mut self, word: &str) -> u16 {
        match self.0.iter().position(|w| w == word) {
            Some(i) => i as u16,
            None => {
                self.0.push(word.to_string());
                (self.0.len() - 1) as u16
            }
        }
    }

    fn get(&self, id: u16) -> &str {
        self.0.get(usize::from(id)).map_or("", String::as_str)
    }
}

/// A raw LPR3 contact with its diagnosis (times in seconds since 1970).
#[derive(Clone, Copy)]
struct Lpr3Row {
    id: u64,
    person: u32,
    start: i64,
    end: i64,
    kind: u16,
    priority: u16,
    unit: u16,
    system: u16,
    diagnosis: u16,
}

/// A raw LPR2 record (admission and discharge on `day`) with its diagnosis.
struct Lpr2Row {
    id: u64,
    person: u32,
    day: i32,
    diagnosis: u16,
}

/// A health insurance row: person, practice, service, fee week, count and child flag
/// (-2 marks a row of another specialty).
struct ServiceRow<'a> {
    person: u32,
    practice: &'a str,
    service: &'a str,
    week: i32,
    count: i32,
    flag: i8,
}

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

/// The health insurance key (fee year, person, fee week, service rank) packed so that
/// the numbers sort as the tuples do.
fn service_key(fee_year: i32, person: usize, week: i32, service: usize) -> u64 {
    ((fee_year + 32_768) as u64) << 48 | (person as u64) << 16 | (week as u64) << 8 | service as u64
}

fn service_key_parts(key: u64) -> (i32, usize, i32, usize) {
    (
        (key >> 48) as i32 - 32_768,
        ((key >> 16) & 0xffff_ffff) as usize,
        ((key >> 8) & 0xff) as i32,
        (key & 0xff) as usize,
    )
}

fn missing(what: &str) -> PolarsError {
    PolarsError::ComputeError(format!("the simulation has no person {what}").into())
}

/// Writes the raw registers of a simulation (see the module documentation): each file
/// goes to `sink` as soon as it is complete. The quirks are drawn from their own stream
/// of `seed`, in a fixed order, so the files are the same whatever the sink does.
///
/// # Errors
/// A polars error in building a frame, or the first error of `sink`.
pub fn raw_registers<E: From<PolarsError>>(
    sim: &SimulatedExtracts,
    seed: u64,
    sink: &mut dyn FnMut(RawFile<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5241_575f_5245_4753);
    let recipe = Recipe::embedded();

    // Persons.
    let p = &sim.persons;
    let ids: Vec<&str> = str_column(p, "person_id")?
        .iter()
        .map(Option::unwrap_or_default)
        .collect();
    let index: HashMap<&str, u32> = ids
        .iter()
        .enumerate()
        .map(|(k, s)| (*s, k as u32))
        .collect();
    let person_of = |id: Option<&str>| -> PolarsResult<u32> {
        let id = id.unwrap_or_default();
        index.get(id).copied().ok_or_else(|| missing(id))
    };
    let female: Vec<bool> = str_column(p, "sex")?
        .iter()
        .map(|s| s == Some("F"))
        .collect();
    let birth: Vec<i32> = days(p, "birth_date")?
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect();
    let origin: Vec<i64> = str_column(p, "origin")?
        .iter()
        .map(|s| match s {
            Some("immigrant") => 2,
            Some("descendant") => 3,
            _ => 1,
        })
        .collect();
    let death = days(p, "death_date")?;
    let emigration = days(p, "emigration_date")?;
    let n = ids.len();

    // Covariates, and each person's rows (in table order).
    let c = &sim.covariates;
    let covs: Vec<Cov> = {
        let year = cast_column(c, "year", &DataType::Int32)?;
        let municipality = cast_column(c, "municipality_code", &DataType::Int32)?;
        let quintile = cast_column(c, "income_quintile", &DataType::Int32)?;
        let charlson = cast_column(c, "charlson_index", &DataType::Int32)?;
        let mut id = str_column(c, "person_id")?.iter();
        let mut year = year.i32()?.iter();
        let mut municipality = municipality.i32()?.iter();
        let mut practice = str_column(c, "practice_id")?.iter();
        let mut alone = c
            .column("living_alone")?
            .as_materialized_series()
            .bool()?
            .iter();
        let mut education = str_column(c, "education")?.iter();
        let mut quintile = quintile.i32()?.iter();
        let mut employment = str_column(c, "employment")?.iter();
        let mut charlson = charlson.i32()?.iter();
        let mut psychiatric = c
            .column("psychiatric_diagnosis_5y")?
            .as_materialized_series()
            .bool()?
            .iter();
        let mut covs = Vec::with_capacity(c.height());
        for _ in 0..c.height() {
            covs.push(Cov {
                person: person_of(id.next().flatten())?,
                year: year.next().flatten().unwrap_or_default(),
                municipality: municipality.next().flatten().unwrap_or_default(),
                practice: practice.next().flatten(),
                living_alone: alone.next().flatten(),
                education: education.next().flatten(),
                quintile: quintile.next().flatten(),
                employment: employment.next().flatten(),
                charlson: charlson.next().flatten().unwrap_or_default(),
                psychiatric: psychiatric.next().flatten().unwrap_or_default(),
            });
        }
        covs
    };
    let mut first_row = vec![0u32; n + 1];
    for r in &covs {
        first_row[r.person as usize + 1] += 1;
    }
    for k in 0..n {
        first_row[k + 1] += first_row[k];
    }
    let mut person_rows = vec![0u32; covs.len()];
    {
        let mut next = first_row.clone();
        for (i, r) in covs.iter().enumerate() {
            person_rows[next[r.person as usize] as usize] = i as u32;
            next[r.person as usize] += 1;
        }
    }
    let covs_of = |k: usize| {
        person_rows[first_row[k] as usize..first_row[k + 1] as usize]
            .iter()
            .map(|&i| &covs[i as usize])
    };
    let mut years: Vec<i32> = covs.iter().map(|r| r.year).collect();
    years.sort_unstable();
    years.dedup();
    let (first_year, last_year) = match (years.first(), years.last()) {
        (Some(&a), Some(&b)) => (a, b),
        _ => return Err(missing("with a covariate row").into()),
    };

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
        let pnr = || rows.iter().map(|r| Some(ids[r.person as usize]));
        let birth_column = if year == first_year {
            // A bare SAS date: days since 1960-01-01.
            f_col(
                "FOED_DAG",
                rows.iter()
                    .map(|r| Some(f64::from(birth[r.person as usize] + 3653))),
            )
        } else {
            d_col(
                "FOED_DAG",
                rows.iter().map(|r| Some(birth[r.person as usize])),
            )
        };
        whole(
            sink,
            format!("BEF{year}"),
            frame(vec![
                s_col("PNR", pnr()),
                i_col(
                    "KOEN",
                    rows.iter()
                        .map(|r| Some(if female[r.person as usize] { 2 } else { 1 })),
                ),
                birth_column,
                i_col(
                    "IE_TYPE",
                    rows.iter().map(|r| Some(origin[r.person as usize])),
                ),
                i_col("KOM", rows.iter().map(|r| Some(i64::from(r.municipality)))),
                s_col(
                    "FAMILIE_ID",
                    rows.iter().map(|r| Some(format!("F{:09}", r.person + 1))),
                ),
                i_col(
                    "ANTPERSF",
                    rows.iter().map(|r| {
                        r.living_alone
                            .map(|a| if a { 1 } else { family_size[r.person as usize] })
                    }),
                ),
            ])?,
        )?;
        // UDDA: "not stated" code or no row for a missing education.
        let mut u_pnr = Vec::new();
        let mut u_code: Vec<Option<i64>> = Vec::new();
        for r in &rows {
            let k = r.person as usize;
            let code = match r.education {
                Some(e) => education_codes
                    .iter()
                    .find(|(g, _)| *g == e)
                    .map(|(_, codes)| codes[person_code[k]]),
                None if udda_hidden[k] => continue,
                None => Some("9090"),
            };
            u_pnr.push(Some(ids[k]));
            u_code.push(code.and_then(|c| c.parse().ok()));
        }
        let (pnr_name, hfaudd_name) = if year == 2023 {
            ("pnr", "hfaudd")
        } else {
            ("PNR", "HFAUDD")
        };
        whole(
            sink,
            format!("UDDA{year}"),
            frame(vec![s_col(pnr_name, u_pnr), i_col(hfaudd_name, u_code)])?,
        )?;
        let income = f_col(
            "FAMAEKVIVADISP_13",
            rows.iter().map(|r| {
                r.quintile
                    .map(|q| (100_000 * i64::from(q) + rng.random_range(0..100_000)) as f64)
            }),
        );
        whole(
            sink,
            format!("IND{year}"),
            frame(vec![s_col("PNR", pnr()), income])?,
        )?;
        let listed: Vec<&&Cov> = rows.iter().filter(|r| r.practice.is_some()).collect();
        whole(
            sink,
            format!("PRAKSIS{year}"),
            frame(vec![
                s_col("PNR", listed.iter().map(|r| Some(ids[r.person as usize]))),
                s_col("YDERNR", listed.iter().map(|r| r.practice)),
            ])?,
        )?;
    }

    // DOD.
    let dead: Vec<usize> = (0..n).filter(|&k| death[k].is_some()).collect();
    whole(
        sink,
        "DOD".into(),
        frame(vec![
            s_col("PNR", dead.iter().map(|&k| Some(ids[k]))),
            d_col("DODDATO", dead.iter().map(|&k| death[k])),
        ])?,
    )?;
    drop(dead);

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
            v_pnr.push(Some(ids[k]));
            v_code.push(Some(code));
            v_date.push(Some(d));
        }
    }
    whole(
        sink,
        "VNDS".into(),
        frame(vec![
            s_col("PNR", v_pnr),
            s_col("INDUD_KODE", v_code),
            d_col("HAEND_DATO", v_date),
        ])?,
    )?;

    // DREAM: one wide file, y_YYWW columns of the snapshot years, built by parts of
    // persons (the quirks are drawn person by person, in order).
    let dream = &recipe.dream;
    let code_of = |e: Option<&str>| -> Option<&str> {
        match e {
            None => dream.unknown.first().map(String::as_str),
            Some(g) => dream
                .groups()
                .iter()
                .find(|x| x.0 == g)
                .and_then(|x| x.1.first().map(String::as_str)),
        }
    };
    let mut week_names: Vec<String> = Vec::new();
    for &year in &years {
        for w in 1..=weeks_in(year) {
            week_names.push(format!("y_{:02}{w:02}", year % 100));
        }
    }
    let dream_persons: Vec<u32> = (0..n)
        .filter(|&k| covs_of(k).any(|r| r.employment != Some(dream.empty_weeks.as_str())))
        .map(|k| k as u32)
        .collect();
    {
        // Week values as indices into `values` (0: no value).
        let mut values: Vec<Option<&str>> = vec![None];
        let sick = value_index(&mut values, dream.sick_leave.first().map(String::as_str));
        let rng = &mut rng;
        let persons = &dream_persons;
        let week_names = &week_names;
        let years = &years;
        let ids = &ids;
        let covs_of = &covs_of;
        let part = move |range: Range<usize>| -> PolarsResult<DataFrame> {
            let chosen = persons.get(range).unwrap_or_default();
            let width = week_names.len();
            let mut grid = vec![0u8; chosen.len() * width];
            for (i, &k) in chosen.iter().enumerate() {
                let mut column = 0;
                for &year in years {
                    let weeks = weeks_in(year) as usize;
                    let row = covs_of(k as usize).find(|r| r.year == year);
                    let main = row.map(|r| value_index(&mut values, code_of(r.employment)));
                    let noise = row.is_some_and(|r| r.employment.is_some()) && rng.random_bool(0.3);
                    let noise_weeks = if noise { rng.random_range(1..=8) } else { 0 };
                    let noise_start = rng.random_range(0..weeks - 8);
                    for w in 0..weeks {
                        grid[i * width + column + w] = match main {
                            None => 0,
                            Some(_) if (noise_start..noise_start + noise_weeks).contains(&w) => {
                                sick
                            }
                            Some(m) => m,
                        };
                    }
                    column += weeks;
                }
            }
            let mut columns = Vec::with_capacity(width + 1);
            columns.push(s_col("PNR", chosen.iter().map(|&k| Some(ids[k as usize]))));
            for (c, name) in week_names.iter().enumerate() {
                columns.push(s_col(
                    name,
                    (0..chosen.len()).map(|i| values[usize::from(grid[i * width + c])]),
                ));
            }
            frame(columns)
        };
        sink(RawFile {
            name: "DREAM".into(),
            table: RawTable::Parts {
                rows: dream_persons.len(),
                part: Box::new(part),
            },
        })?;
    }
    drop(dream_persons);

    // Contacts.
    let ct = &sim.contacts;
    let sssy = &recipe.sssy;
    let mut services: Vec<&str> = sssy
        .groups()
        .iter()
        .filter_map(|g| g.1.first().map(String::as_str))
        .collect();
    services.sort_unstable();
    services.dedup();
    let service_of = |t: &str| -> Option<usize> {
        sssy.groups()
            .iter()
            .find(|g| g.0 == t)
            .and_then(|g| g.1.first())
            .and_then(|s| services.iter().position(|x| x == s))
    };
    let mut words = Words::default();
    // SSSY keys: (fee year, person, week, service), one per contact.
    let mut gp: Vec<u64> = Vec::new();
    let mut lpr3 = BTreeMap::<i32, Vec<Lpr3Row>>::new();
    let mut lpr2 = BTreeMap::<i32, Vec<Lpr2Row>>::new();
    // The 1813 calls of a year: person and the time of the call (ms since 1970).
    let mut calls: BTreeMap<i32, Vec<(u32, i64)>> = BTreeMap::new();
    let mut contact_number: u64 = 0;
    let mut next_id = || {
        contact_number += 1;
        contact_number
    };
    let year_of = |d: i32| civil_from_days(d).0;
    let lpr = &recipe.lpr;
    let add_lpr3 = |lpr3: &mut BTreeMap<i32, Vec<Lpr3Row>>, row: Lpr3Row| {
        let day = row.start.div_euclid(86_400) as i32;
        lpr3.entry(year_of(day)).or_default().push(row);
    };
    let physical = words.id(&lpr.lpr3.physical_types[0]);
    let acute = words.id(&lpr.acute[0]);
    let planned = words.id(&lpr.planned[0]);
    let emergency_unit = words.id(&lpr.lpr3.emergency_units[0]);
    let ward = words.id("sengeafsnit");
    let outpatient = words.id("ambulatorie");
    let (system3, system2) = (words.id("LPR3"), words.id("LPR2"));
    let (unspecific, procedure, depression) =
        (words.id("DR69"), words.id("ALCA20"), words.id("DF329"));
    {
        let day_column = cast_column(ct, "date", &DataType::Int32)?;
        let contact_rows = str_column(ct, "person_id")?
            .iter()
            .zip(day_column.i32()?.iter())
            .zip(str_column(ct, "contact_type")?.iter());
        for ((id, day), t) in contact_rows {
            let (Some(id), Some(day), Some(t)) = (id, day, t) else {
                continue;
            };
            let k = person_of(Some(id))?;
            let minute = |rng: &mut ChaCha8Rng, lo: i64, hi: i64| rng.random_range(lo..hi) * 60;
            let start_of_day = i64::from(day) * 86_400;
            match t {
                "helpline_1813" => {
                    calls
                        .entry(year_of(day))
                        .or_default()
                        .push((k, (start_of_day + minute(&mut rng, 0, 1440)) * 1000));
                }
                "emergency_department" | "acute_admission" | "planned_admission" | "outpatient" => {
                    let (begin, length, priority, unit) = match t {
                        "emergency_department" => (
                            minute(&mut rng, 0, 1440),
                            minute(&mut rng, 60, 600),
                            acute,
                            emergency_unit,
                        ),
                        "acute_admission" => (
                            minute(&mut rng, 0, 1440),
                            minute(&mut rng, 13 * 60, 7 * 1440),
                            acute,
                            ward,
                        ),
                        "planned_admission" => (
                            minute(&mut rng, 420, 720),
                            minute(&mut rng, 13 * 60, 5 * 1440),
                            planned,
                            ward,
                        ),
                        _ => (
                            minute(&mut rng, 480, 900),
                            minute(&mut rng, 20, 120),
                            planned,
                            outpatient,
                        ),
                    };
                    let start = start_of_day + begin;
                    let contact = Lpr3Row {
                        id: next_id(),
                        person: k,
                        start,
                        end: start + length,
                        kind: physical,
                        priority,
                        unit,
                        system: system3,
                        diagnosis: unspecific,
                    };
                    let duplicate = rng.random_bool(0.005).then_some(contact);
                    add_lpr3(&mut lpr3, contact);
                    if let Some(row) = duplicate {
                        add_lpr3(&mut lpr3, row);
                    }
                }
                gp_type => {
                    let Some(service) = service_of(gp_type) else {
                        continue;
                    };
                    let (wy, w) = iso_week(day);
                    gp.push(service_key(wy, k as usize, w, service));
                }
            }
        }
    }

    // Diagnoses behind the Charlson index and the psychiatric flag.
    let charlson = &recipe.diagnoses.charlson;
    let psychiatric_prefix = &recipe.diagnoses.psychiatric;
    let condition_code: Vec<u16> = charlson
        .iter()
        .map(|condition| {
            let code = condition
                .codes
                .iter()
                .find(|c| !psychiatric_prefix.iter().any(|p| c.starts_with(p.as_str())))
                .map_or("", String::as_str);
            words.id(&format!("D{code}"))
        })
        .collect();
    let mut order: Vec<(usize, u8)> = charlson
        .iter()
        .enumerate()
        .map(|(j, c)| (j, c.weight))
        .collect();
    order.sort_by_key(|&(j, w)| (w, j));
    let switch = recipe.switch_day();
    for k in 0..n {
        let mut rows = covs_of(k).peekable();
        let Some(first) = rows.peek() else {
            continue;
        };
        let psychiatric = first.psychiatric;
        let person = k as u32;
        let mut have: Vec<usize> = Vec::new();
        for (i, r) in rows.enumerate() {
            let want = conditions_for(i64::from(r.charlson), &order);
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
                    lpr2.entry(year_of(day)).or_default().push(Lpr2Row {
                        id: next_id(),
                        person,
                        day,
                        diagnosis: condition_code[j],
                    });
                } else {
                    let start = i64::from(day) * 86_400 + 36_000;
                    add_lpr3(
                        &mut lpr3,
                        Lpr3Row {
                            id: next_id(),
                            person,
                            start,
                            end: start + 1800,
                            kind: procedure,
                            priority: planned,
                            unit: outpatient,
                            system: system3,
                            diagnosis: condition_code[j],
                        },
                    );
                }
                have.push(j);
            }
        }
        if psychiatric {
            let day = days_from_civil(2021, 1, 5) + rng.random_range(0..700);
            let start = i64::from(day) * 86_400 + 36_000;
            add_lpr3(
                &mut lpr3,
                Lpr3Row {
                    id: next_id(),
                    person,
                    start,
                    end: start + 3600,
                    kind: physical,
                    priority: planned,
                    unit: outpatient,
                    system: system3,
                    diagnosis: depression,
                },
            );
        }
        // Both systems report early 2019; LPR3 tables also hold older LPR2 contacts.
        if rng.random_bool(0.01) {
            let day = days_from_civil(2019, 1, 15) + rng.random_range(0..60);
            lpr2.entry(2019).or_default().push(Lpr2Row {
                id: next_id(),
                person,
                day,
                diagnosis: unspecific,
            });
            let start = i64::from(day) * 86_400 + 36_000;
            add_lpr3(
                &mut lpr3,
                Lpr3Row {
                    id: next_id(),
                    person,
                    start,
                    end: start + 1800,
                    kind: physical,
                    priority: planned,
                    unit: outpatient,
                    system: system2,
                    diagnosis: unspecific,
                },
            );
        }
    }
    let words = &words;
    let ids = &ids;
    for (year, rows) in lpr2 {
        let record = |rows: &[Lpr2Row]| {
            s_col(
                "RECNUM",
                rows.iter().map(|r| Some(format!("R{:012}", r.id))),
            )
        };
        sink(RawFile {
            name: format!("LPR_ADM{year}"),
            table: parts(&rows, move |rows| {
                let day = || rows.iter().map(|r| Some(r.day));
                let two = || rows.iter().map(|_| Some("2"));
                frame(vec![
                    record(rows),
                    s_col("PNR", rows.iter().map(|r| Some(ids[r.person as usize]))),
                    d_col("D_INDDTO", day()),
                    d_col("D_UDDTO", day()),
                    s_col("C_PATTYPE", two()),
                    s_col("C_INDM", two()),
                ])
            }),
        })?;
        sink(RawFile {
            name: format!("LPR_DIAG{year}"),
            table: parts(&rows, move |rows| {
                frame(vec![
                    record(rows),
                    s_col("C_DIAG", rows.iter().map(|r| Some(words.get(r.diagnosis)))),
                    s_col("C_DIAGTYPE", rows.iter().map(|_| Some("A"))),
                ])
            }),
        })?;
    }
    for (year, rows) in lpr3 {
        let contact = |rows: &[Lpr3Row]| {
            s_col(
                "DW_EK_KONTAKT",
                rows.iter().map(|r| Some(format!("K{:012}", r.id))),
            )
        };
        sink(RawFile {
            name: format!("LPR3_KONTAKTER{year}"),
            table: parts(&rows, move |rows| {
                let word = |name: &str, of: fn(&Lpr3Row) -> u16| {
                    s_col(name, rows.iter().map(|r| Some(words.get(of(r)))))
                };
                frame(vec![
                    contact(rows),
                    s_col("PNR", rows.iter().map(|r| Some(ids[r.person as usize]))),
                    d_col(
                        "DATO_START",
                        rows.iter().map(|r| Some(r.start.div_euclid(86_400) as i32)),
                    ),
                    s_col(
                        "TIDSPUNKT_START",
                        rows.iter().map(|r| Some(hhmm(r.start.rem_euclid(86_400)))),
                    ),
                    d_col(
                        "DATO_SLUT",
                        rows.iter().map(|r| Some(r.end.div_euclid(86_400) as i32)),
                    ),
                    s_col(
                        "TIDSPUNKT_SLUT",
                        rows.iter().map(|r| Some(hhmm(r.end.rem_euclid(86_400)))),
                    ),
                    word("KONTAKTTYPE", |r| r.kind),
                    word("PRIORITET", |r| r.priority),
                    word("ENHEDSTYPE_ANS", |r| r.unit),
                    word("LPRINDBERETNINGSSYSTEM", |r| r.system),
                ])
            }),
        })?;
        sink(RawFile {
            name: format!("LPR3_DIAGNOSER{year}"),
            table: parts(&rows, move |rows| {
                frame(vec![
                    contact(rows),
                    s_col(
                        "DIAGNOSEKODE",
                        rows.iter().map(|r| Some(words.get(r.diagnosis))),
                    ),
                    s_col("DIAGNOSETYPE", rows.iter().map(|_| Some("A"))),
                ])
            }),
        })?;
    }

    // SSSY, with corrections, child services, other specialties and other services;
    // one fee year at a time.
    gp.sort_unstable();
    let practice_in = |k: usize, year: i32| {
        covs_of(k)
            .rfind(|r| r.year == year && r.practice.is_some())
            .and_then(|r| r.practice)
    };
    let mut year_rows: Vec<ServiceRow> = Vec::new();
    let mut current: Option<i32> = None;
    let mut emit = |year: i32, rows: &[ServiceRow]| {
        sink(RawFile {
            name: format!("SSSY{year}"),
            table: parts(rows, move |rows| {
                frame(vec![
                    s_col("PNR", rows.iter().map(|r| Some(ids[r.person as usize]))),
                    s_col("YDERNR", rows.iter().map(|r| Some(r.practice))),
                    s_col(
                        "SPECIALE",
                        rows.iter()
                            .map(|r| Some(if r.flag == -2 { "540000" } else { "800010" })),
                    ),
                    s_col("YDELSESNUMMER", rows.iter().map(|r| Some(r.service))),
                    i_col("HONUGE", rows.iter().map(|r| Some(i64::from(r.week)))),
                    i_col("YDLANT", rows.iter().map(|r| Some(i64::from(r.count)))),
                    i_col(
                        "BARNMAK",
                        rows.iter().map(|r| Some(i64::from(r.flag.max(0)))),
                    ),
                ])
            }),
        })
    };
    let mut i = 0;
    while i < gp.len() {
        let key = gp[i];
        let run = gp[i..].iter().take_while(|&&x| x == key).count();
        i += run;
        let (wy, k, w, s) = service_key_parts(key);
        if current != Some(wy) {
            if let Some(year) = current {
                emit(year, &year_rows)?;
                year_rows.clear();
            }
            current = Some(wy);
        }
        let practice = practice_in(k, wy)
            .or_else(|| practice_in(k, wy.clamp(first_year, last_year)))
            .unwrap_or("GP0001");
        let service = services[s];
        let week = (wy % 100) * 100 + w;
        let row = |service, count, flag| ServiceRow {
            person: k as u32,
            practice,
            service,
            week,
            count,
            flag,
        };
        year_rows.push(row(service, run as i32, 0));
        if rng.random_bool(0.03) {
            // A service entered by mistake and corrected.
            year_rows.push(row(service, 1, 0));
            year_rows.push(row(service, -1, 0));
        }
        if rng.random_bool(0.03) {
            year_rows.push(row(service, 1, 1));
        }
        if rng.random_bool(0.1) {
            year_rows.push(row("2101", 1, 0));
        }
        if rng.random_bool(0.05) {
            year_rows.push(ServiceRow {
                practice: "SP0001",
                ..row("0101", 1, -2)
            });
        }
    }
    if let Some(year) = current {
        emit(year, &year_rows)?;
    }
    drop(year_rows);
    drop(gp);

    for (year, rows) in calls {
        whole(
            sink,
            format!("OPKALD1813_{year}"),
            frame(vec![
                s_col("PNR", rows.iter().map(|r| Some(ids[r.0 as usize]))),
                dt_col("OPKALDSTIDSPUNKT", rows.iter().map(|r| Some(r.1)))?,
            ])?,
        )?;
    }

    // The project's referral list and survey.
    let rf = &sim.referrals;
    whole(
        sink,
        "SHINE_HENVISNING".into(),
        frame(vec![
            s_col("PNR", str_column(rf, "person_id")?.iter()),
            d_col("HENVISNINGSDATO", days(rf, "referral_date")?),
            s_col("YDERNR", str_column(rf, "practice_id")?.iter()),
            s_col("HENVISER", str_column(rf, "referral_source")?.iter()),
        ])?,
    )?;
    let pr = &sim.proms;
    let mut survey = vec![
        s_col("PNR", str_column(pr, "person_id")?.iter()),
        i_col("BOELGE", ints(pr, "wave")?),
        d_col("SVARDATO", days(pr, "response_date")?),
    ];
    for name in [
        "ucla_1", "ucla_2", "ucla_3", "eq5d_mo", "eq5d_sc", "eq5d_ua", "eq5d_pd", "eq5d_ad",
    ] {
        survey.push(i_col(&name.to_ascii_uppercase(), ints(pr, name)?));
    }
    survey.push(f_col("EQ5D_VAS", floats(pr, "eq5d_vas")?));
    whole(sink, "SHINE_SURVEY".into(), frame(survey)?)
}

/// Hands a frame built whole to `sink`.
fn whole<E>(
    sink: &mut dyn FnMut(RawFile<'_>) -> Result<(), E>,
    name: String,
    frame: DataFrame,
) -> Result<(), E> {
    sink(RawFile {
        name,
        table: RawTable::Whole(frame),
    })
}

/// The index of `value` in `values`, added if new.
fn value_index<'v>(values: &mut Vec<Option<&'v str>>, value: Option<&'v str>) -> u8 {
    match values.iter().position(|x| *x == value) {
        Some(i) => i as u8,
        None => {
            values.push(value);
            (values.len() - 1) as u8
        }
    }
}
