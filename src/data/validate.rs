//! `shine validate`: checks extracts against the data dictionary and across tables.
//!
//! Per table: the file can be read, required columns exist, every value has its
//! column's type, range and allowed codes, required values are present, keys are unique
//! (person; person × year; person × wave). Across tables: every person_id is in
//! `persons`; a referral falls on or after the 18th birthday and before death or
//! emigration; one referral per person; contact, referral and response dates lie inside
//! the extract period and within the person's life.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::dictionary::{Dictionary, TableName};
use super::problems::{Problem, ProblemGroup, ProblemKind, Problems, Severity};
use super::read::{self, days_from_civil, format_date, parse_iso_date, FileInfo, TypedTable};

/// Where the extracts are: a folder, and/or one file per table.
#[derive(Debug, Clone, Default)]
pub struct ExtractPaths {
    pub folder: Option<PathBuf>,
    pub files: BTreeMap<TableName, PathBuf>,
    /// Tables held in memory (the bundled demo): the name used in messages and the bytes.
    pub embedded: BTreeMap<TableName, (String, &'static [u8])>,
}

/// Tables that may be absent: without survey data the survey outcomes are not analysed.
pub const OPTIONAL_TABLES: [TableName; 1] = [TableName::Proms];

/// The period the extracts cover (inclusive), as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractPeriod {
    pub start: i32,
    pub end: i32,
}

impl ExtractPeriod {
    pub fn contains(&self, day: i32) -> bool {
        (self.start..=self.end).contains(&day)
    }

    pub fn describe(&self) -> String {
        format!("{} to {}", format_date(self.start), format_date(self.end))
    }
}

/// The optional `extract.toml` beside the tables, describing the delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractMetadata {
    /// First day covered by the extract (ISO date).
    pub start: String,
    /// Last day covered by the extract (ISO date).
    pub end: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

pub const EXTRACT_METADATA_FILE: &str = "extract.toml";

impl ExtractMetadata {
    pub fn period(&self) -> Result<ExtractPeriod, String> {
        let day = |s: &str, key: &str| {
            parse_iso_date(s)
                .ok_or_else(|| format!("{key} = {s:?} is not an ISO date (YYYY-MM-DD)"))
        };
        let period = ExtractPeriod {
            start: day(&self.start, "start")?,
            end: day(&self.end, "end")?,
        };
        if period.end < period.start {
            return Err(format!(
                "end ({}) is before start ({})",
                self.end, self.start
            ));
        }
        Ok(period)
    }

    /// Reads `extract.toml` from a folder, if there is one.
    pub fn read_from(folder: &Path) -> Result<Option<ExtractPeriod>, String> {
        let path = folder.join(EXTRACT_METADATA_FILE);
        if !path.exists() {
            return Ok(None);
        }
        if !path.is_file() {
            return Err(
                "a folder, not a file — expected a TOML file with start and end dates".into(),
            );
        }
        // The caller names the file.
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let meta: ExtractMetadata = toml::from_str(&text).map_err(|e| e.to_string())?;
        meta.period().map(Some).map_err(|e| e.to_string())
    }
}

/// The typed tables that could be read.
#[derive(Debug, Clone, Default)]
pub struct Extracts {
    pub tables: BTreeMap<TableName, TypedTable>,
}

impl Extracts {
    pub fn get(&self, table: TableName) -> Option<&TypedTable> {
        self.tables.get(&table)
    }

    pub fn frame(&self, table: TableName) -> Option<&DataFrame> {
        self.tables.get(&table).map(|t| &t.frame)
    }
}

/// What `shine validate` reports.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extract_period: Option<String>,
    /// The last day of the extract period (days since 1970-01-01), when known.
    #[serde(skip)]
    pub extract_period_end: Option<i32>,
    /// The first day of the extract period, when known.
    #[serde(skip)]
    pub extract_period_start: Option<i32>,
    pub files: Vec<FileInfo>,
    pub problems: Vec<ProblemGroup>,
}

impl ValidationReport {
    /// The first error as one line of the error style: `FILE, row R, column C: "value" —
    /// what was expected`, followed by how many errors there are in all.
    pub fn error_summary(&self) -> String {
        let first = self
            .problems
            .iter()
            .filter(|g| g.severity == Severity::Error)
            .find_map(|g| g.examples.first());
        let all = format!(
            "{} error{} in all",
            self.errors,
            if self.errors == 1 { "" } else { "s" }
        );
        match first {
            Some(p) => match &p.value {
                Some(v) => format!("{}: {v:?} — {} ({all})", p.location(), p.message),
                None => format!("{}: {} ({all})", p.location(), p.message),
            },
            None => format!("the extracts are not valid ({all})"),
        }
    }

    /// The report as text: a line per file, then each kind of problem with its examples.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for f in &self.files {
            let _ = writeln!(out, "{:<11} {} ({} rows)", f.table.as_str(), f.path, f.rows);
        }
        if let Some(p) = &self.extract_period {
            let _ = writeln!(out, "extract period: {p}");
        }
        for g in &self.problems {
            let severity = match g.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let _ = writeln!(
                out,
                "\n{severity}[{}]: {} — {} found",
                g.kind.code(),
                g.title,
                g.total
            );
            for p in &g.examples {
                let value = p
                    .value
                    .as_ref()
                    .map(|v| format!(": {v:?}"))
                    .unwrap_or_default();
                let _ = writeln!(out, "  {}{value} — {}", p.location(), p.message);
            }
            if g.total > g.examples.len() {
                let _ = writeln!(out, "  … and {} more", g.total - g.examples.len());
            }
        }
        let _ = writeln!(
            out,
            "\n{}: {} error{}, {} warning{}",
            if self.valid { "valid" } else { "not valid" },
            self.errors,
            if self.errors == 1 { "" } else { "s" },
            self.warnings,
            if self.warnings == 1 { "" } else { "s" },
        );
        out
    }
}

/// The outcome of validation: the report and whatever tables could be read.
#[derive(Debug, Clone)]
pub struct Validation {
    pub report: ValidationReport,
    pub extracts: Extracts,
}

/// Reads every table and checks it, collecting all problems.
///
/// `period`: the extract period; when `None`, `extract.toml` in the folder is used if
/// present, and otherwise the period checks are skipped with a warning.
pub fn validate(paths: &ExtractPaths, period: Option<ExtractPeriod>) -> Validation {
    let dictionary = Dictionary::embedded();
    let mut problems = Problems::default();
    let mut extracts = Extracts::default();

    let period = match (period, &paths.folder) {
        (Some(p), _) => Some(p),
        (None, Some(folder)) => match ExtractMetadata::read_from(folder) {
            Ok(p) => p,
            Err(message) => {
                problems.push(
                    ProblemKind::FileUnreadable,
                    Problem::new(
                        &folder.join(EXTRACT_METADATA_FILE).display().to_string(),
                        message,
                    ),
                );
                None
            }
        },
        (None, None) => None,
    };

    for table in TableName::ALL {
        if let Some((name, bytes)) = paths.embedded.get(&table) {
            let format =
                read::FileFormat::from_path(Path::new(name)).unwrap_or(read::FileFormat::Csv);
            if let Some(t) = read::read_bytes(
                name,
                bytes.to_vec(),
                format,
                table,
                dictionary.table(table),
                &mut problems,
            ) {
                extracts.tables.insert(table, t);
            }
            continue;
        }
        let explicit = paths.files.get(&table).map(PathBuf::as_path);
        let path = match read::locate(paths.folder.as_deref(), explicit, table) {
            Ok(Some(path)) => path,
            // Without the participation table its results are left out, silently: most
            // register extracts have no such table.
            Ok(None) if table == TableName::Participation => continue,
            Ok(None) => {
                let (kind, message) = if OPTIONAL_TABLES.contains(&table) {
                    (
                        ProblemKind::OptionalTableMissing,
                        "not found: the survey outcomes cannot be analysed",
                    )
                } else {
                    (
                        ProblemKind::FileMissing,
                        "not found: give a folder holding it or name it with a flag",
                    )
                };
                let place = paths
                    .folder
                    .as_ref()
                    .map(|f| {
                        f.join(format!("{table}.csv|.parquet"))
                            .display()
                            .to_string()
                    })
                    .unwrap_or_else(|| format!("--{table}"));
                problems.push(kind, Problem::new(&place, message));
                continue;
            }
            Err(message) => {
                let place = paths
                    .folder
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default();
                problems.push(ProblemKind::FileUnreadable, Problem::new(&place, message));
                continue;
            }
        };
        if !path.is_file() {
            problems.push(
                ProblemKind::FileMissing,
                Problem::new(&path.display().to_string(), "no such file"),
            );
            continue;
        }
        if let Some(t) = read::read_table(&path, table, dictionary.table(table), &mut problems) {
            extracts.tables.insert(table, t);
        }
    }

    check_keys(&extracts, &mut problems);
    check_across_tables(&extracts, period, &mut problems);
    if period.is_none() {
        problems.push(
            ProblemKind::ExtractPeriodUnknown,
            Problem::new(
                "",
                format!(
                    "give --extract-start and --extract-end, or put {EXTRACT_METADATA_FILE} beside the tables"
                ),
            ),
        );
    }

    let report = ValidationReport {
        valid: !problems.has_errors(),
        errors: problems.count(Severity::Error),
        warnings: problems.count(Severity::Warning),
        extract_period: period.map(|p| p.describe()),
        extract_period_end: period.map(|p| p.end),
        extract_period_start: period.map(|p| p.start),
        files: extracts.tables.values().map(|t| t.info.clone()).collect(),
        problems: problems.groups(),
    };
    Validation { report, extracts }
}

pub(super) fn push_capped(
    problems: &mut Problems,
    kind: ProblemKind,
    problem: impl FnOnce() -> Problem,
) {
    if problems.examples_full(kind) {
        problems.count_more(kind, 1);
    } else {
        problems.push(kind, problem());
    }
}

pub(super) fn str_col<'a>(frame: &'a DataFrame, name: &str) -> Option<&'a StringChunked> {
    frame.column(name).ok()?.as_materialized_series().str().ok()
}

pub(super) fn i64_col<'a>(frame: &'a DataFrame, name: &str) -> Option<&'a Int64Chunked> {
    frame.column(name).ok()?.as_materialized_series().i64().ok()
}

/// Dates as days since 1970-01-01.
fn date_col(frame: &DataFrame, name: &str) -> Option<Int32Chunked> {
    let s = frame.column(name).ok()?.as_materialized_series();
    s.cast(&DataType::Int32).ok()?.i32().ok().cloned()
}

/// Unique keys: person in `persons` and `referrals`, person × year in `covariates`,
/// person × wave in `proms`.
fn check_keys(extracts: &Extracts, problems: &mut Problems) {
    let dictionary = Dictionary::embedded();
    for (table, t) in &extracts.tables {
        let key = &dictionary.table(*table).key;
        let Some(ids) = key.first().and_then(|k| str_col(&t.frame, k)) else {
            continue;
        };
        let kind = if *table == TableName::Referrals {
            ProblemKind::DuplicateReferral
        } else {
            ProblemKind::DuplicateKey
        };
        let second = key
            .get(1)
            .and_then(|k| i64_col(&t.frame, k).map(|c| (k.as_str(), c)));
        if keys_increase(ids, second.as_ref().map(|(_, c)| *c)) {
            // Keys in strictly increasing order (a table sorted by its key, as registers
            // and the simulator write them) cannot repeat.
            continue;
        }
        let mut seen: PlHashSet<(&str, i64)> = PlHashSet::with_capacity(t.frame.height());
        for (i, id) in ids.iter().enumerate() {
            let Some(id) = id else { continue };
            let part = match &second {
                Some((_, c)) => match c.get(i) {
                    Some(v) => v,
                    None => continue,
                },
                None => 0,
            };
            if !seen.insert((id, part)) {
                push_capped(problems, kind, || {
                    let (column, value) = match &second {
                        Some((name, _)) => (format!("{}, {name}", key[0]), format!("{id}, {part}")),
                        None => (key[0].clone(), id.to_string()),
                    };
                    Problem::new(
                        &t.info.path,
                        format!("({column}) appears in an earlier row too"),
                    )
                    .row(t.row_of(i))
                    .column(&column)
                    .value(&value)
                });
            }
        }
    }
}

/// Whether the keys `(id, part)` of the rows that have them are in strictly increasing
/// order (`part` 0 without a second key column).
fn keys_increase(ids: &StringChunked, parts: Option<&Int64Chunked>) -> bool {
    let mut previous: Option<(&str, i64)> = None;
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id else { continue };
        let part = match parts {
            // Row by row only when the key has a second part (`get` finds the chunk).
            Some(parts) => match parts.get(i) {
                Some(part) => part,
                None => continue,
            },
            None => 0,
        };
        if previous.is_some_and(|p| p >= (id, part)) {
            return false;
        }
        previous = Some((id, part));
    }
    true
}

#[derive(Debug, Clone, Copy, Default)]
struct Life {
    birth: Option<i32>,
    death: Option<i32>,
    emigration: Option<i32>,
}

fn check_across_tables(
    extracts: &Extracts,
    period: Option<ExtractPeriod>,
    problems: &mut Problems,
) {
    let Some(persons) = extracts.get(TableName::Persons) else {
        return;
    };
    let Some(ids) = str_col(&persons.frame, "person_id") else {
        return;
    };
    let births = date_col(&persons.frame, "birth_date");
    let deaths = date_col(&persons.frame, "death_date");
    let emigrations = date_col(&persons.frame, "emigration_date");
    let get = |c: &Option<Int32Chunked>, i: usize| c.as_ref().and_then(|c| c.get(i));
    let mut lives: PlHashMap<&str, Life> = PlHashMap::with_capacity(persons.frame.height());
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id else { continue };
        let life = Life {
            birth: get(&births, i),
            death: get(&deaths, i),
            emigration: get(&emigrations, i),
        };
        if let Some(birth) = life.birth {
            for (date, column) in [
                (life.death, "death_date"),
                (life.emigration, "emigration_date"),
            ] {
                if date.is_some_and(|d| d < birth) {
                    push_capped(problems, ProblemKind::DeathBeforeBirth, || {
                        Problem::new(&persons.info.path, format!("{column} is before birth_date"))
                            .row(persons.row_of(i))
                            .column(column)
                            .value(&date.map(format_date).unwrap_or_default())
                    });
                }
            }
        }
        lives.entry(id).or_insert(life);
    }

    let mut referral_dates: PlHashMap<&str, i32> = PlHashMap::new();
    if let Some(referrals) = extracts.get(TableName::Referrals) {
        check_events(
            referrals,
            "referral_date",
            &lives,
            period,
            problems,
            |id, date, row, problems| {
                let life = &lives[id];
                let file = &referrals.info.path;
                if let Some(birth) = life.birth {
                    if date < eighteenth_birthday(birth) {
                        push_capped(problems, ProblemKind::ReferralBeforeAdulthood, || {
                            Problem::new(
                                file,
                                format!(
                                    "referred before the 18th birthday (born {})",
                                    format_date(birth)
                                ),
                            )
                            .row(row)
                            .column("referral_date")
                            .value(&format_date(date))
                        });
                    }
                }
                if let Some(death) = life.death.filter(|&d| date > d) {
                    push_capped(problems, ProblemKind::ReferralAfterDeath, || {
                        Problem::new(
                            file,
                            format!("referred after death on {}", format_date(death)),
                        )
                        .row(row)
                        .column("referral_date")
                        .value(&format_date(date))
                    });
                }
                if let Some(emigrated) = life.emigration.filter(|&d| date >= d) {
                    push_capped(problems, ProblemKind::ReferralAfterEmigration, || {
                        Problem::new(
                            file,
                            format!(
                                "referred on or after emigration on {}",
                                format_date(emigrated)
                            ),
                        )
                        .row(row)
                        .column("referral_date")
                        .value(&format_date(date))
                    });
                }
            },
        );
        if let (Some(rids), Some(rdates)) = (
            str_col(&referrals.frame, "person_id"),
            date_col(&referrals.frame, "referral_date"),
        ) {
            for (id, date) in rids.iter().zip(rdates.iter()) {
                if let (Some(id), Some(date)) = (id, date) {
                    referral_dates.entry(id).or_insert(date);
                }
            }
        }
    }
    if let Some(contacts) = extracts.get(TableName::Contacts) {
        // Tens of millions of rows, nearly always without a problem: checked on every
        // core first, and row by row (for the messages, in row order) only if needed.
        if !events_clean(contacts, "date", &lives, period) {
            check_events(contacts, "date", &lives, period, problems, |_, _, _, _| {});
        }
    }
    if let Some(proms) = extracts.get(TableName::Proms) {
        let referrals_read = extracts.get(TableName::Referrals).is_some();
        check_events(
            proms,
            "response_date",
            &lives,
            period,
            problems,
            |id, date, row, problems| {
                let referred = referral_dates.get(id);
                if referred.is_none() && referrals_read {
                    push_capped(problems, ProblemKind::ResponseWithoutReferral, || {
                        Problem::new(
                            &proms.info.path,
                            "this person is not in referrals — expected a referred person, or a comparison person answering the survey",
                        )
                        .row(row)
                        .column("person_id")
                        .value(id)
                    });
                }
                if let Some(&referred) = referred {
                    if date < referred {
                        push_capped(problems, ProblemKind::ResponseBeforeReferral, || {
                            Problem::new(
                                &proms.info.path,
                                format!(
                                    "answered before the referral on {}",
                                    format_date(referred)
                                ),
                            )
                            .row(row)
                            .column("response_date")
                            .value(&format_date(date))
                        });
                    }
                }
            },
        );
    }
    if let Some(covariates) = extracts.get(TableName::Covariates) {
        check_persons_known(covariates, &lives, problems);
        check_referred_have_covariates(covariates, &referral_dates, extracts, problems);
    }
    if let Some(participation) = extracts.get(TableName::Participation) {
        check_persons_known(participation, &lives, problems);
        super::participation::check_participation(participation, &referral_dates, problems);
    }
}

/// The day a person born on `birth` turns 18 (a 29 February birthday counts from 1 March).
fn eighteenth_birthday(birth: i32) -> i32 {
    let (y, m, d) = read::civil_from_days(birth);
    if m == 2 && d == 29 {
        days_from_civil(y + 18, 3, 1)
    } else {
        days_from_civil(y + 18, m, d)
    }
}

/// The life of a row's person: event tables are usually sorted by person, so a person
/// is looked up once per run of their rows (`last` holds the run's person).
fn life_of<'i>(
    lives: &PlHashMap<&str, Life>,
    last: &mut Option<(&'i str, Option<Life>)>,
    id: &'i str,
) -> Option<Life> {
    match *last {
        Some((prev, life)) if prev == id => life,
        _ => {
            let life = lives.get(id).copied();
            *last = Some((id, life));
            life
        }
    }
}

/// Rows of an event table checked per task by [`events_clean`].
const CLEAN_CHECK_ROWS: usize = 1 << 20;

/// Whether [`check_events`] would find no problem in the rows of an event table (it is
/// the same test): every person known, every date inside the extract period and the
/// person's life.
fn events_clean(
    t: &TypedTable,
    date_column: &str,
    lives: &PlHashMap<&str, Life>,
    period: Option<ExtractPeriod>,
) -> bool {
    let (Some(ids), Some(dates)) = (
        str_col(&t.frame, "person_id"),
        date_col(&t.frame, date_column),
    ) else {
        return true;
    };
    let n = ids.len();
    let tasks = n.div_ceil(CLEAN_CHECK_ROWS);
    crate::stats::map_indices(tasks, |task| {
        let start = task * CLEAN_CHECK_ROWS;
        let len = CLEAN_CHECK_ROWS.min(n - start);
        let (ids, dates) = (ids.slice(start as i64, len), dates.slice(start as i64, len));
        let mut last: Option<(&str, Option<Life>)> = None;
        let clean = ids.iter().zip(dates.iter()).all(|(id, date)| {
            let Some(id) = id else { return true };
            let Some(life) = life_of(lives, &mut last, id) else {
                return false;
            };
            let Some(date) = date else { return true };
            period.is_none_or(|p| p.contains(date))
                && life.birth.is_none_or(|b| date >= b)
                && life.death.is_none_or(|d| date <= d)
                && life.emigration.is_none_or(|d| date <= d)
        });
        clean
    })
    .into_iter()
    .all(|clean| clean)
}

/// Checks the person and the date of each row of an event table, then calls `extra`
/// for rows whose person is known and whose date is present.
fn check_events<'a>(
    t: &'a TypedTable,
    date_column: &str,
    lives: &PlHashMap<&str, Life>,
    period: Option<ExtractPeriod>,
    problems: &mut Problems,
    mut extra: impl FnMut(&'a str, i32, usize, &mut Problems),
) {
    let file = &t.info.path;
    let (Some(ids), Some(dates)) = (
        str_col(&t.frame, "person_id"),
        date_col(&t.frame, date_column),
    ) else {
        return;
    };
    let mut last: Option<(&str, Option<Life>)> = None;
    for (i, (id, date)) in ids.iter().zip(dates.iter()).enumerate() {
        let Some(id) = id else { continue };
        let row = t.row_of(i);
        let life = life_of(lives, &mut last, id);
        let Some(life) = life else {
            push_capped(problems, ProblemKind::UnknownPerson, || {
                Problem::new(file, "no such person in persons")
                    .row(row)
                    .column("person_id")
                    .value(id)
            });
            continue;
        };
        let Some(date) = date else { continue };
        if let Some(p) = period.filter(|p| !p.contains(date)) {
            push_capped(problems, ProblemKind::OutsideExtractPeriod, || {
                Problem::new(file, format!("outside the extract period {}", p.describe()))
                    .row(row)
                    .column(date_column)
                    .value(&format_date(date))
            });
        }
        if life.birth.is_some_and(|b| date < b) {
            push_capped(problems, ProblemKind::EventBeforeBirth, || {
                Problem::new(file, "before the person was born")
                    .row(row)
                    .column(date_column)
                    .value(&format_date(date))
            });
        }
        if let Some(death) = life.death.filter(|&d| date > d) {
            push_capped(problems, ProblemKind::EventAfterDeath, || {
                Problem::new(
                    file,
                    format!("after the person's death on {}", format_date(death)),
                )
                .row(row)
                .column(date_column)
                .value(&format_date(date))
            });
        }
        if let Some(emigrated) = life.emigration.filter(|&d| date > d) {
            push_capped(problems, ProblemKind::EventAfterEmigration, || {
                Problem::new(
                    file,
                    format!(
                        "after the person's emigration on {}",
                        format_date(emigrated)
                    ),
                )
                .row(row)
                .column(date_column)
                .value(&format_date(date))
            });
        }
        extra(id, date, row, problems);
    }
}

fn check_persons_known(t: &TypedTable, lives: &PlHashMap<&str, Life>, problems: &mut Problems) {
    let Some(ids) = str_col(&t.frame, "person_id") else {
        return;
    };
    let mut last: Option<(&str, bool)> = None;
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id else { continue };
        let known = match last {
            Some((prev, known)) if prev == id => known,
            _ => lives.contains_key(id),
        };
        last = Some((id, known));
        if !known {
            push_capped(problems, ProblemKind::UnknownPerson, || {
                Problem::new(&t.info.path, "no such person in persons")
                    .row(t.row_of(i))
                    .column("person_id")
                    .value(id)
            });
        }
    }
}

fn check_referred_have_covariates(
    covariates: &TypedTable,
    referral_dates: &PlHashMap<&str, i32>,
    extracts: &Extracts,
    problems: &mut Problems,
) {
    let (Some(ids), Some(years)) = (
        str_col(&covariates.frame, "person_id"),
        i64_col(&covariates.frame, "year"),
    ) else {
        return;
    };
    let mut snapshots: HashSet<(&str, i64)> = HashSet::new();
    for (id, year) in ids.iter().zip(years.iter()) {
        if let (Some(id), Some(year)) = (id, year) {
            if referral_dates.contains_key(id) {
                snapshots.insert((id, year));
            }
        }
    }
    let Some(referrals) = extracts.get(TableName::Referrals) else {
        return;
    };
    let (Some(rids), Some(rdates)) = (
        str_col(&referrals.frame, "person_id"),
        date_col(&referrals.frame, "referral_date"),
    ) else {
        return;
    };
    for (i, (id, date)) in rids.iter().zip(rdates.iter()).enumerate() {
        let (Some(id), Some(date)) = (id, date) else {
            continue;
        };
        let year = i64::from(read::civil_from_days(date).0) - 1;
        if !snapshots.contains(&(id, year)) {
            push_capped(problems, ProblemKind::ReferredWithoutCovariates, || {
                Problem::new(
                    &referrals.info.path,
                    format!("no covariates row for {year}: this person cannot be matched"),
                )
                .row(referrals.row_of(i))
                .column("person_id")
                .value(id)
            });
        }
    }
}
