//! The import itself: registers → the five extract tables.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

use super::files::{row_of, scan, RegisterFile, Table, Texts};
use super::recipe::{group_by_prefix, Recipe};
use super::report::{FileReport, ImportReport, Warning, WarningCount};
use super::weeks::{fee_week, monday_of};
use super::RegisterError;
use crate::data::calendar::{days_from_civil, format_date};
use crate::data::validate::{ExtractMetadata, ExtractPeriod};

/// Hash maps with polars' fast hasher (keys are looked up, never iterated in an order
/// that reaches the output).
type HashMap<K, V> = PlHashMap<K, V>;

/// The five extract tables and the report of how they were made.
#[derive(Debug, Clone)]
pub struct Imported {
    pub persons: DataFrame,
    pub covariates: DataFrame,
    pub referrals: DataFrame,
    pub contacts: DataFrame,
    pub proms: DataFrame,
    pub period: ExtractPeriod,
    pub report: ImportReport,
}

const EDUCATION: [&str; 4] = [
    "basic",
    "upper_secondary",
    "tertiary_short_medium",
    "tertiary_long",
];

/// The contact types of the contacts table in the order of their names (the table's
/// order within a person and day); contacts hold their place in this list.
const CONTACT_TYPES: [&str; 9] = [
    "acute_admission",
    "emergency_department",
    "gp_consultation",
    "gp_email",
    "gp_home_visit",
    "gp_phone",
    "helpline_1813",
    "outpatient",
    "planned_admission",
];

/// The place of a contact type in [`CONTACT_TYPES`].
fn type_id(name: &str) -> u8 {
    CONTACT_TYPES
        .iter()
        .position(|t| *t == name)
        .map_or(u8::MAX, |p| p as u8)
}

/// Texts numbered in the order they are first seen (codes held as numbers, not copies);
/// number 0 is missing.
#[derive(Default)]
struct Interner {
    numbers: HashMap<String, u32>,
    texts: Vec<String>,
}

impl Interner {
    fn number(&mut self, text: Option<&str>) -> u32 {
        let Some(text) = text else { return 0 };
        if let Some(&n) = self.numbers.get(text) {
            return n;
        }
        self.texts.push(text.to_string());
        let n = self.texts.len() as u32;
        self.numbers.insert(text.to_string(), n);
        n
    }

    fn text(&self, number: u32) -> &str {
        match number {
            0 => "",
            n => &self.texts[n as usize - 1],
        }
    }
}

/// ICD-10 codes as numbers: the raw text's number, and per number the code without its
/// D prefix.
#[derive(Default)]
struct DiagnosisCodes {
    raw: HashMap<String, u32>,
    by_code: HashMap<String, u32>,
    codes: Vec<String>,
}

impl DiagnosisCodes {
    fn number(&mut self, raw: &str) -> u32 {
        if let Some(&n) = self.raw.get(raw) {
            return n;
        }
        let code = icd(raw);
        let n = match self.by_code.get(&code) {
            Some(&n) => n,
            None => {
                self.codes.push(code.clone());
                self.by_code.insert(code, self.codes.len() as u32 - 1);
                self.codes.len() as u32 - 1
            }
        };
        self.raw.insert(raw.to_string(), n);
        n
    }
}

#[derive(Debug, Clone)]
struct PersonRow {
    pnr: String,
    female: bool,
    birth: i32,
    origin: &'static str,
    death: Option<i32>,
    emigration: Option<i32>,
    /// (date, emigration?) events from VNDS.
    moves: Vec<(i32, bool)>,
}

#[derive(Debug, Clone, Default)]
struct CovRow {
    person: usize,
    year: i32,
    municipality: i64,
    practice: Option<String>,
    living_alone: Option<bool>,
    education: Option<&'static str>,
    income: Option<f64>,
    quintile: Option<i64>,
    employment: Option<&'static str>,
    charlson: i64,
    psychiatric: bool,
}

/// Everything the import collects, with the report.
struct State<'r> {
    recipe: &'r Recipe,
    period: ExtractPeriod,
    persons: Vec<PersonRow>,
    index: HashMap<String, usize>,
    /// The person `person_of` found last.
    last_person: usize,
    covs: Vec<CovRow>,
    cov_index: HashMap<(usize, i32), usize>,
    /// (person, date, contact type as its place in [`CONTACT_TYPES`])
    contacts: Vec<(u32, i32, u8)>,
    /// Diagnoses per person: (date, code without the D prefix as its number in `codes`).
    diagnoses: Vec<Vec<(i32, u32)>>,
    codes: DiagnosisCodes,
    warnings: BTreeMap<String, WarningCount>,
    report: ImportReport,
}

impl State<'_> {
    fn warn(&mut self, kind: &str, file: &str, index: usize, variable: &str, message: String) {
        self.warnings
            .entry(kind.to_string())
            .and_modify(|w| w.count += 1)
            .or_insert_with(|| WarningCount {
                kind: kind.to_string(),
                count: 1,
                first: Warning {
                    file: file.to_string(),
                    row: row_of(index),
                    variable: variable.to_ascii_uppercase(),
                    message,
                },
            });
    }

    fn drop_count(&mut self, reason: &str, n: u64) {
        if n > 0 {
            *self.report.dropped.entry(reason.to_string()).or_default() += n;
        }
    }

    fn file_read(&mut self, f: &RegisterFile, rows_read: usize, rows_used: u64) {
        self.report.files.push(FileReport {
            file: f.path.display().to_string(),
            register: f.register.clone(),
            year: f.year,
            rows_read: rows_read as u64,
            rows_used,
        });
    }

    /// The person of a PNR, warning (once per row) when BEF does not know it.
    fn person_of(
        &mut self,
        pnr: Option<&str>,
        register: &str,
        t: &Table,
        i: usize,
        var: &str,
    ) -> Option<usize> {
        match pnr {
            None => {
                self.warn(
                    &format!("{register}: row without a PNR"),
                    &t.file,
                    i,
                    var,
                    "the PNR is missing; the row is left out".into(),
                );
                None
            }
            // Registers come sorted by PNR: the last row's person is checked first.
            Some(p)
                if self
                    .persons
                    .get(self.last_person)
                    .is_some_and(|q| q.pnr == p) =>
            {
                Some(self.last_person)
            }
            Some(p) => match self.index.get(p) {
                Some(&k) => {
                    self.last_person = k;
                    Some(k)
                }
                None => {
                    self.warn(
                        &format!("{register}: PNR not in BEF"),
                        &t.file,
                        i,
                        var,
                        format!("{p} is in no BEF year; the row is left out"),
                    );
                    None
                }
            },
        }
    }
}

fn code_in(code: &str, list: &[String]) -> bool {
    list.iter().any(|c| c == code)
}

/// Reads the extract period: the argument, else `extract.toml` in the folder.
fn resolve_period(
    dir: &Path,
    period: Option<ExtractPeriod>,
) -> Result<ExtractPeriod, RegisterError> {
    if let Some(p) = period {
        return Ok(p);
    }
    ExtractMetadata::read_from(dir)
        .map_err(RegisterError::Usage)?
        .ok_or_else(|| {
            RegisterError::Usage(format!(
                "{}: no extract.toml with the extract period; give --extract-start and --extract-end",
                dir.display()
            ))
        })
}

/// Imports the registers in `dir` (see the module documentation).
///
/// # Errors
/// A folder without BEF, an unreadable or malformed file (naming the file, row and
/// variable), or a recipe variable a file does not have.
pub fn import(
    dir: &Path,
    recipe: &Recipe,
    period: Option<ExtractPeriod>,
) -> Result<Imported, RegisterError> {
    if !dir.is_dir() {
        return Err(RegisterError::Usage(format!(
            "{}: no such folder",
            dir.display()
        )));
    }
    let period = resolve_period(dir, period)?;
    let files = scan(dir)?;
    let get = |name: &str| -> Vec<RegisterFile> {
        files
            .get(&name.to_ascii_uppercase())
            .cloned()
            .unwrap_or_default()
    };
    let mut st = State {
        recipe,
        period,
        persons: Vec::new(),
        index: HashMap::default(),
        last_person: usize::MAX,
        covs: Vec::new(),
        cov_index: HashMap::default(),
        contacts: Vec::new(),
        diagnoses: Vec::new(),
        codes: DiagnosisCodes::default(),
        warnings: BTreeMap::new(),
        report: ImportReport {
            extract_start: format_date(period.start),
            extract_end: format_date(period.end),
            ..Default::default()
        },
    };
    let bef = get(&recipe.bef.register);
    if bef.is_empty() {
        return Err(RegisterError::Usage(format!(
            "{}: no {} files (the population register, one per year): every person comes from it",
            dir.display(),
            recipe.bef.register
        )));
    }
    read_bef(&mut st, &bef)?;
    st.diagnoses = vec![Vec::new(); st.persons.len()];
    read_dod(&mut st, &get(&recipe.dod.register))?;
    read_vnds(&mut st, &get(&recipe.vnds.register))?;
    read_practice(&mut st, &get(&recipe.practice.register))?;
    read_udda(&mut st, &get(&recipe.udda.register))?;
    read_ind(&mut st, &get(&recipe.ind.register))?;
    read_dream(&mut st, &get(&recipe.dream.register))?;
    read_lpr2(
        &mut st,
        &get(&recipe.lpr.lpr2.contacts),
        &get(&recipe.lpr.lpr2.diagnoses),
    )?;
    read_lpr3(
        &mut st,
        &get(&recipe.lpr.lpr3.contacts),
        &get(&recipe.lpr.lpr3.diagnoses),
    )?;
    diagnosis_covariates(&mut st);
    read_sssy(&mut st, &get(&recipe.sssy.register))?;
    read_helpline(&mut st, &get(&recipe.helpline.register))?;
    let referrals = read_referrals(&mut st, &get(&recipe.referrals.register))?;
    let proms = read_survey(&mut st, &get(&recipe.survey.register))?;
    let known: Vec<String> = [
        &recipe.bef.register,
        &recipe.dod.register,
        &recipe.vnds.register,
        &recipe.practice.register,
        &recipe.udda.register,
        &recipe.ind.register,
        &recipe.dream.register,
        &recipe.lpr.lpr2.contacts,
        &recipe.lpr.lpr2.diagnoses,
        &recipe.lpr.lpr3.contacts,
        &recipe.lpr.lpr3.diagnoses,
        &recipe.sssy.register,
        &recipe.helpline.register,
        &recipe.referrals.register,
        &recipe.survey.register,
    ]
    .iter()
    .map(|r| r.to_ascii_uppercase())
    .collect();
    for (register, fs) in &files {
        if !known.contains(register) {
            st.drop_count(
                &format!("files of register {register}, which no recipe uses"),
                fs.len() as u64,
            );
        }
    }
    finish(st, referrals, proms)
}

fn read_bef(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = &st.recipe.bef;
    for f in files {
        let Some(year) = f.year else {
            return Err(RegisterError::Usage(format!(
                "{}: a {} file needs its year in its name (e.g. {}2024)",
                f.path.display(),
                r.register,
                r.register
            )));
        };
        let year = i32::from(year);
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let sex = t.text(&r.sex)?;
        let birth = t.dates(&r.birth_date)?;
        let origin = t.text(&r.origin)?;
        let kom = t.integers(&r.municipality)?;
        let household = t.integers(&r.household_size)?;
        let mut used = 0u64;
        for i in 0..t.height() {
            let Some(p) = pnr.get(i) else {
                return Err(t.bad(i, &r.pnr, "the PNR is missing"));
            };
            let female = match sex.get(i) {
                Some(c) if code_in(c, &r.female) => true,
                Some(c) if code_in(c, &r.male) => false,
                other => {
                    return Err(t.bad(
                        i,
                        &r.sex,
                        format!(
                            "unknown code {:?} (the recipe lists male {:?}, female {:?})",
                            other.unwrap_or(""),
                            r.male,
                            r.female
                        ),
                    ))
                }
            };
            let origin_code: &'static str = match origin.get(i) {
                Some(c) if code_in(c, &r.danish) => "danish",
                Some(c) if code_in(c, &r.immigrant) => "immigrant",
                Some(c) if code_in(c, &r.descendant) => "descendant",
                other => {
                    return Err(t.bad(
                        i,
                        &r.origin,
                        format!("unknown code {:?}", other.unwrap_or("")),
                    ))
                }
            };
            let Some(b) = birth[i] else {
                return Err(t.bad(i, &r.birth_date, "the birth date is missing"));
            };
            let Some(m) = kom[i] else {
                return Err(t.bad(i, &r.municipality, "the municipality is missing"));
            };
            let k = match st.index.get(p) {
                Some(&k) => {
                    let q = &st.persons[k];
                    if q.female != female || q.birth != b || q.origin != origin_code {
                        st.warn(
                            "BEF: sex, birth date or origin differs between years",
                            &t.file,
                            i,
                            &r.pnr,
                            format!("{p}: the latest year's values are used"),
                        );
                        let q = &mut st.persons[k];
                        q.female = female;
                        q.birth = b;
                        q.origin = origin_code;
                    }
                    k
                }
                None => {
                    st.persons.push(PersonRow {
                        pnr: p.to_string(),
                        female,
                        birth: b,
                        origin: origin_code,
                        death: None,
                        emigration: None,
                        moves: Vec::new(),
                    });
                    st.index.insert(p.to_string(), st.persons.len() - 1);
                    st.persons.len() - 1
                }
            };
            if st.cov_index.contains_key(&(k, year)) {
                return Err(t.bad(i, &r.pnr, format!("{p} occurs twice in {year}")));
            }
            let living_alone = match household[i] {
                None => None,
                Some(n) if n >= 1 => Some(n == 1),
                Some(n) => {
                    st.warn(
                        "BEF: household size below 1",
                        &t.file,
                        i,
                        &r.household_size,
                        format!("{n}: living alone is left missing"),
                    );
                    None
                }
            };
            st.cov_index.insert((k, year), st.covs.len());
            st.covs.push(CovRow {
                person: k,
                year,
                municipality: m,
                living_alone,
                ..Default::default()
            });
            used += 1;
        }
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

fn read_dod(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.dod.clone();
    for f in files {
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let date = t.dates(&r.death_date)?;
        let mut used = 0;
        for (i, &date_i) in date.iter().enumerate() {
            let Some(k) = st.person_of(pnr.get(i), "DOD", &t, i, &r.pnr) else {
                continue;
            };
            let Some(d) = date_i else { continue };
            if d < st.persons[k].birth {
                return Err(t.bad(
                    i,
                    &r.death_date,
                    format!(
                        "{} is before the birth date in BEF ({})",
                        format_date(d),
                        format_date(st.persons[k].birth)
                    ),
                ));
            }
            match st.persons[k].death {
                Some(old) if old != d => {
                    st.warn(
                        "DOD: two different death dates",
                        &t.file,
                        i,
                        &r.death_date,
                        format!(
                            "{} and {}: the earlier is used",
                            format_date(old),
                            format_date(d)
                        ),
                    );
                    st.persons[k].death = Some(old.min(d));
                }
                _ => st.persons[k].death = Some(d),
            }
            used += 1;
        }
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

fn read_vnds(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.vnds.clone();
    for f in files {
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let dir = t.text(&r.direction)?;
        let date = t.dates(&r.date)?;
        let mut used = 0;
        for (i, &date_i) in date.iter().enumerate() {
            let out = match dir.get(i) {
                Some(c) if code_in(c, &r.emigration) => true,
                Some(c) if code_in(c, &r.immigration) => false,
                other => {
                    return Err(t.bad(
                        i,
                        &r.direction,
                        format!(
                            "unknown code {:?} (expected {:?} or {:?})",
                            other.unwrap_or(""),
                            r.immigration,
                            r.emigration
                        ),
                    ))
                }
            };
            let Some(d) = date_i else {
                return Err(t.bad(i, &r.date, "the date of the move is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "VNDS", &t, i, &r.pnr) else {
                continue;
            };
            st.persons[k].moves.push((d, out));
            used += 1;
        }
        st.file_read(f, t.height(), used);
    }
    for p in &mut st.persons {
        // Stable: moves on one day keep the order of the files.
        p.moves.sort_by_key(|m| m.0);
        p.emigration = match p.moves.last() {
            Some(&(d, true)) => Some(d),
            _ => None,
        };
    }
    Ok(())
}

fn read_practice(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.practice.clone();
    for f in files {
        let Some(year) = f.year else {
            return Err(RegisterError::Usage(format!(
                "{}: a {} file needs its year in its name",
                f.path.display(),
                r.register
            )));
        };
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let practice = t.text(&r.practice)?;
        let mut used = 0;
        let mut other_year = 0;
        for i in 0..t.height() {
            let Some(k) = st.person_of(pnr.get(i), "practice listing", &t, i, &r.pnr) else {
                continue;
            };
            match st.cov_index.get(&(k, i32::from(year))) {
                Some(&c) => {
                    st.covs[c].practice = practice.owned(i);
                    used += 1;
                }
                None => other_year += 1,
            }
        }
        st.drop_count("practice listing: person not in BEF that year", other_year);
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

fn read_udda(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.udda.clone();
    let groups: Vec<(&'static str, &[String])> = vec![
        (EDUCATION[0], r.basic.as_slice()),
        (EDUCATION[1], r.upper_secondary.as_slice()),
        (EDUCATION[2], r.tertiary_short_medium.as_slice()),
        (EDUCATION[3], r.tertiary_long.as_slice()),
        ("", r.not_stated.as_slice()),
    ];
    for f in files {
        let Some(year) = f.year else {
            return Err(RegisterError::Usage(format!(
                "{}: a {} file needs its year in its name",
                f.path.display(),
                r.register
            )));
        };
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let code = t.text(&r.education)?;
        let mut used = 0;
        let mut other_year = 0;
        for i in 0..t.height() {
            let Some(k) = st.person_of(pnr.get(i), "UDDA", &t, i, &r.pnr) else {
                continue;
            };
            let Some(&c) = st.cov_index.get(&(k, i32::from(year))) else {
                other_year += 1;
                continue;
            };
            let group = match code.get(i) {
                None => None,
                Some(c) => {
                    match group_by_prefix(c, &groups) {
                        Some("") => None,
                        Some(g) => Some(g),
                        None => {
                            st.warn("UDDA: unknown HFAUDD code", &t.file, i, &r.education, format!("{c:?} is in no group of the recipe; the education is left missing"));
                            None
                        }
                    }
                }
            };
            st.covs[c].education = group;
            used += 1;
        }
        st.drop_count("UDDA: person not in BEF that year", other_year);
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

fn read_ind(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.ind.clone();
    for f in files {
        let Some(year) = f.year else {
            return Err(RegisterError::Usage(format!(
                "{}: a {} file needs its year in its name",
                f.path.display(),
                r.register
            )));
        };
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let income = t.numbers(&r.income)?;
        let mut used = 0;
        let mut other_year = 0;
        for (i, &income_i) in income.iter().enumerate() {
            let Some(k) = st.person_of(pnr.get(i), "IND", &t, i, &r.pnr) else {
                continue;
            };
            let Some(&c) = st.cov_index.get(&(k, i32::from(year))) else {
                other_year += 1;
                continue;
            };
            st.covs[c].income = income_i;
            used += 1;
        }
        st.drop_count("IND: person not in BEF that year", other_year);
        st.file_read(f, t.height(), used);
    }
    // Quintiles within each year.
    let mut by_year: BTreeMap<i32, Vec<(f64, usize)>> = BTreeMap::new();
    for (c, row) in st.covs.iter().enumerate() {
        if let Some(x) = row.income {
            by_year.entry(row.year).or_default().push((x, c));
        }
    }
    for rows in by_year.values_mut() {
        let persons = &st.persons;
        let covs = &st.covs;
        rows.sort_by(|a, b| {
            a.0.total_cmp(&b.0).then_with(|| {
                persons[covs[a.1].person]
                    .pnr
                    .cmp(&persons[covs[b.1].person].pnr)
            })
        });
        let n = rows.len();
        for (rank, &(_, c)) in rows.iter().enumerate() {
            st.covs[c].quintile = Some((1 + 5 * rank / n) as i64);
        }
    }
    Ok(())
}

fn read_dream(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.dream.clone();
    let groups = r.groups();
    let empty = groups
        .iter()
        .position(|g| g.0 == r.empty_weeks)
        .unwrap_or(0);
    // The slot of each code: the 7 groups, then 7 = "unknown".
    let mut slot_of: HashMap<&str, usize> = HashMap::default();
    for (g, (_, codes)) in groups.iter().enumerate() {
        for c in codes.iter() {
            slot_of.entry(c.as_str()).or_insert(g);
        }
    }
    for c in &r.unknown {
        slot_of.insert(c.as_str(), 7);
    }
    // Weeks counted per covariate row: 7 groups and "unknown".
    let mut weeks: HashMap<usize, [u16; 8]> = HashMap::default();
    let mut years_seen: std::collections::BTreeSet<i32> = std::collections::BTreeSet::new();
    let prefix = r.week_prefix.to_ascii_uppercase();
    let cov_years: std::collections::BTreeSet<i32> = st.covs.iter().map(|c| c.year).collect();
    for f in files {
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let rows: Vec<Option<usize>> = (0..t.height())
            .map(|i| st.person_of(pnr.get(i), "DREAM", &t, i, &r.pnr))
            .collect();
        let mut week_columns: BTreeMap<i32, Vec<String>> = BTreeMap::new();
        for n in t.frame.get_column_names() {
            let Some(rest) = n.strip_prefix(prefix.as_str()) else {
                continue;
            };
            if rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit()) {
                let yy: i32 = rest[..2].parse().unwrap_or(0);
                let year = if yy > 90 { 1900 + yy } else { 2000 + yy };
                week_columns.entry(year).or_default().push(n.to_string());
            }
        }
        let mut unknown: Vec<(usize, String, String)> = Vec::new();
        for (year, names) in &week_columns {
            if !cov_years.contains(year) {
                continue;
            }
            years_seen.insert(*year);
            let cov_of: Vec<Option<usize>> = rows
                .iter()
                .map(|k| k.and_then(|k| st.cov_index.get(&(k, *year)).copied()))
                .collect();
            let mut counts: Vec<[u16; 8]> = vec![[0; 8]; rows.len()];
            for name in names {
                t.for_each_text(name, |i, code| {
                    if rows[i].is_none() {
                        return;
                    }
                    let slot = match code {
                        None => empty,
                        Some(code) => match slot_of.get(code) {
                            Some(&g) => g,
                            None => {
                                if unknown.len() < 1000 {
                                    unknown.push((i, name.clone(), code.to_string()));
                                }
                                return;
                            }
                        },
                    };
                    counts[i][slot] += 1;
                })?;
            }
            for (i, c) in cov_of.iter().enumerate() {
                if let Some(c) = c {
                    weeks.insert(*c, counts[i]);
                }
            }
        }
        for (i, name, code) in unknown {
            st.warn(
                "DREAM: unknown benefit code",
                &t.file,
                i,
                &name,
                format!("{code:?} is in no group of the recipe; the week is not counted"),
            );
        }
        let used = rows.iter().filter(|k| k.is_some()).count() as u64;
        st.file_read(f, t.height(), used);
    }
    for (c, row) in st.covs.iter_mut().enumerate() {
        if !years_seen.contains(&row.year) {
            continue;
        }
        row.employment = match weeks.get(&c) {
            // Not in DREAM: no benefit in any week.
            None => Some(groups[empty].0),
            Some(w) => {
                if w[7] > 0 {
                    None
                } else {
                    let best = (0..7).fold(0, |b, g| if w[g] > w[b] { g } else { b });
                    Some(groups[best].0)
                }
            }
        };
    }
    Ok(())
}

/// Strips the registers' "D" prefix from an ICD-10 code.
fn icd(code: &str) -> String {
    let c = code.trim().to_ascii_uppercase();
    match c.strip_prefix('D') {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => c,
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Emergency,
    Admission { acute: bool },
    Outpatient,
}

impl Kind {
    fn contact_type(self) -> u8 {
        type_id(match self {
            Kind::Emergency => "emergency_department",
            Kind::Admission { acute: true } => "acute_admission",
            Kind::Admission { acute: false } => "planned_admission",
            Kind::Outpatient => "outpatient",
        })
    }
}

fn read_lpr2(
    st: &mut State,
    contacts: &[RegisterFile],
    diagnoses: &[RegisterFile],
) -> Result<(), RegisterError> {
    let r = st.recipe.lpr.lpr2.clone();
    let switch = st.recipe.switch_day();
    let mut records: HashMap<String, (u32, i32)> = HashMap::default();
    for f in contacts {
        let t = Table::read(&f.path)?;
        let id = t.text(&r.contact_id)?;
        let pnr = t.text(&r.pnr)?;
        let start = t.dates(&r.start_date)?;
        let pattype = t.text(&r.patient_type)?;
        let indm = t.text(&r.admission_type)?;
        let end = if t.has(&r.end_date) {
            t.dates(&r.end_date)?
        } else {
            vec![None; t.height()]
        };
        let mut used = 0;
        let mut late = 0;
        for i in 0..t.height() {
            let Some(d) = start[i] else {
                return Err(t.bad(i, &r.start_date, "the start date is missing"));
            };
            if d >= switch {
                late += 1;
                continue;
            }
            let Some(k) = st.person_of(pnr.get(i), "LPR2", &t, i, &r.pnr) else {
                continue;
            };
            if let Some(e) = end[i] {
                if e < d {
                    st.warn(
                        "LPR: contact ends before it starts",
                        &t.file,
                        i,
                        &r.end_date,
                        format!(
                            "{} is before {}; the contact is left out",
                            format_date(e),
                            format_date(d)
                        ),
                    );
                    continue;
                }
            }
            let Some(rec) = id.get(i) else {
                return Err(t.bad(i, &r.contact_id, "the record number is missing"));
            };
            records.insert(rec.to_string(), (k as u32, d));
            used += 1;
            if !st.period.contains(d) {
                continue;
            }
            let p = pattype.get(i).unwrap_or("");
            let kind = if code_in(p, &r.emergency_room) {
                Kind::Emergency
            } else if code_in(p, &r.inpatient) {
                Kind::Admission {
                    acute: indm.get(i).is_some_and(|c| code_in(c, &r.acute)),
                }
            } else if code_in(p, &r.outpatient) {
                Kind::Outpatient
            } else {
                st.warn(
                    "LPR2: unknown patient type",
                    &t.file,
                    i,
                    &r.patient_type,
                    format!("{p:?}; the contact is not counted"),
                );
                continue;
            };
            st.contacts.push((k as u32, d, kind.contact_type()));
        }
        st.drop_count("LPR2: record on or after the LPR3 switch date", late);
        st.file_read(f, t.height(), used);
    }
    for f in diagnoses {
        let t = Table::read(&f.path)?;
        let id = t.text(&r.contact_id)?;
        let code = t.text(&r.diagnosis)?;
        let mut used = 0;
        let mut orphan = 0;
        for i in 0..t.height() {
            let (Some(rec), Some(c)) = (id.get(i), code.get(i)) else {
                continue;
            };
            match records.get(rec) {
                Some(&(k, d)) => {
                    let c = st.codes.number(c);
                    st.diagnoses[k as usize].push((d, c));
                    used += 1;
                }
                None => orphan += 1,
            }
        }
        st.drop_count("LPR2: diagnosis of no kept contact", orphan);
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

fn read_lpr3(
    st: &mut State,
    contacts: &[RegisterFile],
    diagnoses: &[RegisterFile],
) -> Result<(), RegisterError> {
    let lpr = st.recipe.lpr.clone();
    let r = &lpr.lpr3;
    let switch = st.recipe.switch_day();
    let admission_seconds = (lpr.admission_hours * 3600.0).round() as i64;
    // Contact id → (person, day, the row's content for duplicate checks)
    let mut seen: HashMap<String, (u32, i32, Lpr3Content)> = HashMap::default();
    let mut texts = Interner::default();
    for f in contacts {
        let t = Table::read(&f.path)?;
        let n = t.height();
        let id = t.text(&r.contact_id)?;
        let pnr = t.text(&r.pnr)?;
        let start = t.date_times(&r.start_date)?;
        let start_time = if t.has(&r.start_time) {
            t.times(&r.start_time)?
        } else {
            vec![None; n]
        };
        let end = t.date_times(&r.end_date)?;
        let end_time = if t.has(&r.end_time) {
            t.times(&r.end_time)?
        } else {
            vec![None; n]
        };
        let ctype = t.text(&r.contact_type)?;
        let priority = t.text(&r.priority)?;
        let unit = t.text(&r.unit_type)?;
        let system = if t.has(&r.reporting_system) {
            t.text(&r.reporting_system)?
        } else {
            Texts::missing(n)
        };
        let mut used = 0;
        let (mut early, mut other_system, mut same) = (0, 0, 0);
        for i in 0..n {
            if system
                .get(i)
                .is_some_and(|s| !s.eq_ignore_ascii_case("LPR3"))
            {
                other_system += 1;
                continue;
            }
            let Some((d, s0)) = start[i] else {
                return Err(t.bad(i, &r.start_date, "the start date is missing"));
            };
            if d < switch {
                early += 1;
                continue;
            }
            let Some(cid) = id.get(i) else {
                return Err(t.bad(i, &r.contact_id, "the contact id is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "LPR3", &t, i, &r.pnr) else {
                continue;
            };
            let begin = i64::from(d) * 86_400 + start_time[i].unwrap_or(s0);
            let finish = end[i].map(|(e, s)| i64::from(e) * 86_400 + end_time[i].unwrap_or(s));
            // The PNR is the person's: one person, one PNR.
            let content = Lpr3Content {
                begin,
                finish,
                contact_type: texts.number(ctype.get(i)),
                priority: texts.number(priority.get(i)),
                unit: texts.number(unit.get(i)),
            };
            if let Some((old_person, _, old)) = seen.get(cid) {
                if *old_person == k as u32 && *old == content {
                    same += 1;
                } else {
                    st.warn(
                        "LPR3: contact id twice with different content",
                        &t.file,
                        i,
                        &r.contact_id,
                        format!("{cid}: the first row is kept"),
                    );
                }
                continue;
            }
            if let Some(e) = finish {
                if e < begin {
                    st.warn(
                        "LPR: contact ends before it starts",
                        &t.file,
                        i,
                        &r.end_date,
                        format!("contact {cid} ends before it starts; it is left out"),
                    );
                    continue;
                }
            }
            seen.insert(cid.to_string(), (k as u32, d, content));
            used += 1;
            if !st.period.contains(d) {
                continue;
            }
            if !ctype.get(i).is_some_and(|c| code_in(c, &r.physical_types)) {
                *st.report
                    .code_groups
                    .entry("LPR3 contacts not counted (not physical attendance)".into())
                    .or_default()
                    .entry(ctype.get(i).unwrap_or_default().to_string())
                    .or_default() += 1;
                continue;
            }
            let acute = match priority.get(i) {
                Some(p) if code_in(p, &lpr.acute) => true,
                Some(p) if code_in(p, &lpr.planned) => false,
                other => {
                    st.warn(
                        "LPR3: unknown priority",
                        &t.file,
                        i,
                        &r.priority,
                        format!("{:?}: taken as planned", other.unwrap_or("")),
                    );
                    false
                }
            };
            let kind = if unit
                .get(i)
                .is_some_and(|u| r.emergency_units.iter().any(|e| e.eq_ignore_ascii_case(u)))
            {
                Kind::Emergency
            } else if finish.is_some_and(|e| e - begin >= admission_seconds) {
                Kind::Admission { acute }
            } else {
                Kind::Outpatient
            };
            st.contacts.push((k as u32, d, kind.contact_type()));
        }
        st.drop_count(
            "LPR3: contact before the LPR3 switch date (reported by LPR2)",
            early,
        );
        st.drop_count(
            "LPR3: reported by another system (LPRINDBERETNINGSSYSTEM)",
            other_system,
        );
        st.drop_count("LPR3: the same contact twice (identical rows)", same);
        st.file_read(f, n, used);
    }
    for f in diagnoses {
        let t = Table::read(&f.path)?;
        let id = t.text(&r.contact_id)?;
        let code = t.text(&r.diagnosis)?;
        let mut used = 0;
        let mut orphan = 0;
        for i in 0..t.height() {
            let (Some(cid), Some(c)) = (id.get(i), code.get(i)) else {
                continue;
            };
            match seen.get(cid) {
                Some(&(k, d, _)) => {
                    let c = st.codes.number(c);
                    st.diagnoses[k as usize].push((d, c));
                    used += 1;
                }
                None => orphan += 1,
            }
        }
        st.drop_count("LPR3: diagnosis of no kept contact", orphan);
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

/// What an LPR3 contact row says besides its id and person (texts as numbers), to tell
/// a repeated row from a different contact under the same id.
#[derive(PartialEq)]
struct Lpr3Content {
    begin: i64,
    finish: Option<i64>,
    contact_type: u32,
    priority: u32,
    unit: u32,
}

fn diagnosis_covariates(st: &mut State) {
    let d = &st.recipe.diagnoses;
    // Per code number: the Charlson conditions it belongs to, and whether it is an F code.
    let conditions: Vec<Vec<usize>> = st
        .codes
        .codes
        .iter()
        .map(|code| {
            d.charlson
                .iter()
                .enumerate()
                .filter(|(_, c)| c.codes.iter().any(|p| code.starts_with(p.as_str())))
                .map(|(j, _)| j)
                .collect()
        })
        .collect();
    let psychiatric_code: Vec<bool> = st
        .codes
        .codes
        .iter()
        .map(|code| d.psychiatric.iter().any(|p| code.starts_with(p.as_str())))
        .collect();
    for list in &mut st.diagnoses {
        list.sort_unstable();
        list.dedup();
    }
    let mut present = vec![false; d.charlson.len()];
    for row in &mut st.covs {
        let end = days_from_civil(row.year, 12, 31);
        let charlson_from = days_from_civil(row.year - d.charlson_years, 12, 31);
        let psych_from = days_from_civil(row.year - d.psychiatric_years, 12, 31);
        present.fill(false);
        let mut psychiatric = false;
        for &(day, code) in &st.diagnoses[row.person] {
            if day > end {
                break;
            }
            if day > charlson_from {
                for &j in &conditions[code as usize] {
                    present[j] = true;
                }
            }
            if day > psych_from && psychiatric_code[code as usize] {
                psychiatric = true;
            }
        }
        row.charlson = d
            .charlson
            .iter()
            .zip(&present)
            .filter(|(_, &p)| p)
            .map(|(c, _)| i64::from(c.weight))
            .sum();
        row.psychiatric = psychiatric;
    }
}

/// The services of a person, practice, service code and fee week (practice and service
/// as numbers of their text).
type ServiceKey = (u32, u32, u32, i32);
/// Their net count, and the file and row where they were first seen.
type ServiceSum = (i64, u32, u32);

fn read_sssy(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.sssy.clone();
    let groups = r.groups();
    // (person, practice, service, fee week) and (count, file, row) of every row, summed
    // per key below by sorting (less memory than a hash map of the keys); practices and
    // services as numbers of their text.
    let mut services: Vec<(ServiceKey, ServiceSum)> = Vec::new();
    let mut texts = Interner::default();
    let mut file_names = Vec::new();
    // Fee weeks YYWW already found valid.
    let mut valid_weeks = vec![false; 10_000];
    read_ahead(files, |f, t| {
        let pnr = t.text(&r.pnr)?;
        let spec = t.text(&r.specialty)?;
        let service = t.text(&r.service)?;
        let week = t.integers(&r.fee_week)?;
        let count = t.integers(&r.count)?;
        let child = t.integers(&r.child)?;
        let practice = t.text(&r.practice)?;
        let (mut used, mut other, mut children) = (0, 0, 0);
        for i in 0..t.height() {
            if !spec
                .get(i)
                .is_some_and(|s| r.general_practice.iter().any(|g| s.starts_with(g.as_str())))
            {
                other += 1;
                continue;
            }
            if child[i].unwrap_or(0) != 0 {
                children += 1;
                continue;
            }
            let Some(w) = week[i] else {
                return Err(t.bad(i, &r.fee_week, "the fee week is missing"));
            };
            let cached = usize::try_from(w).ok().filter(|&w| w < valid_weeks.len());
            if !cached.is_some_and(|w| valid_weeks[w]) {
                fee_week(w).map_err(|m| t.bad(i, &r.fee_week, m))?;
                if let Some(w) = cached {
                    valid_weeks[w] = true;
                }
            }
            let Some(n) = count[i] else {
                return Err(t.bad(i, &r.count, "the number of services is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "SSSY", &t, i, &r.pnr) else {
                continue;
            };
            // A fee week is YYWW (checked above), so it fits an i32.
            let key = (
                k as u32,
                texts.number(practice.get(i)),
                texts.number(service.get(i)),
                w as i32,
            );
            services.push((key, (n, file_names.len() as u32, i as u32)));
            used += 1;
        }
        st.drop_count("SSSY: not general practice (SPECIALE)", other);
        st.drop_count(
            "SSSY: child's service on a parent's number (BARNMAK)",
            children,
        );
        st.file_read(f, t.height(), used);
        file_names.push(t.file.clone());
        Ok(())
    })?;
    let mut outside = 0;
    let mut other_services = 0u64;
    // The net count per key, with the file and row where the key was first seen.
    services.sort_unstable_by_key(|&(key, (_, file, row))| (key, file, row));
    services.dedup_by(|later, first| {
        let same = later.0 == first.0;
        if same {
            first.1 .0 += later.1 .0;
        }
        same
    });
    services.sort_unstable_by_key(|&(key, (_, file, row))| (file, row, key));
    let kinds: Vec<(u8, &[String])> = groups.iter().map(|g| (type_id(g.0), g.1)).collect();
    for ((k, _, service, w), (n, file, row)) in services {
        let service = texts.text(service);
        if n < 0 {
            st.warn(
                "SSSY: negative count with no earlier service",
                &file_names[file as usize],
                row as usize,
                &r.count,
                format!("the services of fee week {w:04}, service {service} net to {n}; left out"),
            );
            continue;
        }
        let Some(kind) = kinds.iter().find(|g| code_in(service, g.1)).map(|g| g.0) else {
            other_services += n as u64;
            continue;
        };
        let (year, week) = fee_week(i64::from(w)).unwrap_or((0, 1));
        let day = monday_of(year, week);
        if !st.period.contains(day) {
            outside += n as u64;
            continue;
        }
        for _ in 0..n {
            st.contacts.push((k, day, kind));
        }
    }
    st.drop_count("SSSY: services outside the extract period", outside);
    st.drop_count(
        "SSSY: general-practice services that are not contacts (other service codes)",
        other_services,
    );
    Ok(())
}

/// Calls `f` with each file's table in order while the next file is read on another
/// thread of the pool (at most two tables in memory).
fn read_ahead(
    files: &[RegisterFile],
    mut f: impl FnMut(&RegisterFile, Table) -> Result<(), RegisterError> + Send,
) -> Result<(), RegisterError> {
    let Some(first) = files.first() else {
        return Ok(());
    };
    let mut next = Table::read(&first.path);
    for (j, file) in files.iter().enumerate() {
        let table = next?;
        let (ahead, done) = rayon::join(
            || files.get(j + 1).map(|g| Table::read(&g.path)),
            || f(file, table),
        );
        done?;
        match ahead {
            Some(t) => next = t,
            None => break,
        }
    }
    Ok(())
}

fn read_helpline(st: &mut State, files: &[RegisterFile]) -> Result<(), RegisterError> {
    let r = st.recipe.helpline.clone();
    for f in files {
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let date = t.dates(&r.date)?;
        let mut used = 0;
        let mut outside = 0;
        for (i, &date_i) in date.iter().enumerate() {
            let Some(d) = date_i else {
                return Err(t.bad(i, &r.date, "the time of the call is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "1813", &t, i, &r.pnr) else {
                continue;
            };
            if !st.period.contains(d) {
                outside += 1;
                continue;
            }
            st.contacts.push((k as u32, d, type_id("helpline_1813")));
            used += 1;
        }
        st.drop_count("1813: calls outside the extract period", outside);
        st.file_read(f, t.height(), used);
    }
    Ok(())
}

struct Referral {
    person: usize,
    date: i32,
    practice: Option<String>,
    source: Option<String>,
}

fn read_referrals(st: &mut State, files: &[RegisterFile]) -> Result<Vec<Referral>, RegisterError> {
    let r = st.recipe.referrals.clone();
    let mut out: Vec<Referral> = Vec::new();
    for f in files {
        let t = Table::read(&f.path)?;
        let pnr = t.text(&r.pnr)?;
        let date = t.dates(&r.referral_date)?;
        let practice = t.text(&r.practice)?;
        let source = if t.has(&r.source) {
            t.text(&r.source)?
        } else {
            Texts::missing(t.height())
        };
        let mut used = 0;
        for (i, &date_i) in date.iter().enumerate() {
            let Some(d) = date_i else {
                return Err(t.bad(i, &r.referral_date, "the referral date is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "referrals", &t, i, &r.pnr) else {
                continue;
            };
            if out.iter().any(|x| x.person == k) {
                return Err(t.bad(
                    i,
                    &r.pnr,
                    format!("{} is referred twice", st.persons[k].pnr),
                ));
            }
            out.push(Referral {
                person: k,
                date: d,
                practice: practice.owned(i),
                source: source.owned(i),
            });
            used += 1;
        }
        st.file_read(f, t.height(), used);
    }
    Ok(out)
}

/// Survey answers: (person, wave, date, items in the dictionary's order, VAS).
struct Answer {
    person: usize,
    wave: i64,
    date: i32,
    items: Vec<Option<i64>>,
    vas: Option<f64>,
}

/// The integer item columns of the proms table, in order.
fn item_columns() -> Vec<String> {
    let mut v: Vec<String> = (1..=3).map(|j| format!("ucla_{j}")).collect();
    v.extend((1..=20).map(|j| format!("ucla20_{j}")));
    v.extend(
        ["mo", "sc", "ua", "pd", "ad"]
            .iter()
            .map(|d| format!("eq5d_{d}")),
    );
    v
}

fn read_survey(st: &mut State, files: &[RegisterFile]) -> Result<Vec<Answer>, RegisterError> {
    let r = st.recipe.survey.clone();
    let items = item_columns();
    let mut out = Vec::new();
    let mut keys: std::collections::HashSet<(usize, i64)> = std::collections::HashSet::new();
    for f in files {
        let t = Table::read(&f.path)?;
        let n = t.height();
        let pnr = t.text(&r.pnr)?;
        let wave = t.integers(&r.wave)?;
        let date = t.dates(&r.response_date)?;
        let mut values = Vec::with_capacity(items.len());
        for name in &items {
            values.push(if t.has(name) {
                t.integers(name)?
            } else {
                vec![None; n]
            });
        }
        let vas = if t.has("EQ5D_VAS") {
            t.numbers("EQ5D_VAS")?
        } else {
            vec![None; n]
        };
        let mut used = 0;
        for i in 0..n {
            let w = match wave[i] {
                Some(w @ (0 | 3 | 9)) => w,
                other => {
                    return Err(t.bad(
                        i,
                        &r.wave,
                        format!("{other:?} is not a survey wave (0, 3 or 9)"),
                    ))
                }
            };
            let Some(d) = date[i] else {
                return Err(t.bad(i, &r.response_date, "the response date is missing"));
            };
            let Some(k) = st.person_of(pnr.get(i), "survey", &t, i, &r.pnr) else {
                continue;
            };
            if !keys.insert((k, w)) {
                return Err(t.bad(
                    i,
                    &r.wave,
                    format!("{} answered wave {w} twice", st.persons[k].pnr),
                ));
            }
            out.push(Answer {
                person: k,
                wave: w,
                date: d,
                items: values.iter().map(|v| v[i]).collect(),
                vas: vas[i],
            });
            used += 1;
        }
        st.file_read(f, n, used);
    }
    Ok(out)
}

fn date_col(name: &str, v: Vec<Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), v.into_iter())
        .into_date()
        .into_series()
        .into_column()
}

fn str_col<S: AsRef<str>>(name: &str, v: impl IntoIterator<Item = Option<S>>) -> Column {
    StringChunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn int_col(name: &str, v: Vec<Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn bool_col(name: &str, v: Vec<Option<bool>>) -> Column {
    BooleanChunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn finish(
    mut st: State,
    referrals: Vec<Referral>,
    proms: Vec<Answer>,
) -> Result<Imported, RegisterError> {
    let pl = |table: &'static str| move |source| RegisterError::Polars { table, source };
    // Persons in PNR order.
    let mut order: Vec<usize> = (0..st.persons.len()).collect();
    order.sort_by(|&a, &b| st.persons[a].pnr.cmp(&st.persons[b].pnr));
    let mut rank = vec![0usize; order.len()];
    for (r, &k) in order.iter().enumerate() {
        rank[k] = r;
    }
    let ps = &st.persons;
    let persons = DataFrame::new(
        order.len(),
        vec![
            str_col("person_id", order.iter().map(|&k| Some(ps[k].pnr.as_str()))),
            str_col(
                "sex",
                order
                    .iter()
                    .map(|&k| Some(if ps[k].female { "F" } else { "M" })),
            ),
            date_col(
                "birth_date",
                order.iter().map(|&k| Some(ps[k].birth)).collect(),
            ),
            str_col("origin", order.iter().map(|&k| Some(ps[k].origin))),
            date_col("death_date", order.iter().map(|&k| ps[k].death).collect()),
            date_col(
                "emigration_date",
                order.iter().map(|&k| ps[k].emigration).collect(),
            ),
        ],
    )
    .map_err(pl("persons"))?;

    let mut cov_order: Vec<usize> = (0..st.covs.len()).collect();
    cov_order.sort_unstable_by_key(|&c| (rank[st.covs[c].person], st.covs[c].year));
    let cs = &st.covs;
    let covariates = DataFrame::new(
        cov_order.len(),
        vec![
            str_col(
                "person_id",
                cov_order
                    .iter()
                    .map(|&c| Some(ps[cs[c].person].pnr.as_str())),
            ),
            int_col(
                "year",
                cov_order
                    .iter()
                    .map(|&c| Some(i64::from(cs[c].year)))
                    .collect(),
            ),
            int_col(
                "municipality_code",
                cov_order
                    .iter()
                    .map(|&c| Some(cs[c].municipality))
                    .collect(),
            ),
            str_col(
                "practice_id",
                cov_order.iter().map(|&c| cs[c].practice.as_deref()),
            ),
            bool_col(
                "living_alone",
                cov_order.iter().map(|&c| cs[c].living_alone).collect(),
            ),
            str_col("education", cov_order.iter().map(|&c| cs[c].education)),
            int_col(
                "income_quintile",
                cov_order.iter().map(|&c| cs[c].quintile).collect(),
            ),
            str_col("employment", cov_order.iter().map(|&c| cs[c].employment)),
            int_col(
                "charlson_index",
                cov_order.iter().map(|&c| Some(cs[c].charlson)).collect(),
            ),
            bool_col(
                "psychiatric_diagnosis_5y",
                cov_order.iter().map(|&c| Some(cs[c].psychiatric)).collect(),
            ),
        ],
    )
    .map_err(pl("covariates"))?;
    let mut education: BTreeMap<String, u64> = BTreeMap::new();
    let mut employment: BTreeMap<String, u64> = BTreeMap::new();
    for c in cs {
        *education
            .entry(c.education.unwrap_or("(missing)").to_string())
            .or_default() += 1;
        *employment
            .entry(c.employment.unwrap_or("(missing)").to_string())
            .or_default() += 1;
    }
    st.report
        .code_groups
        .insert("Person-years by education (UDDA)".into(), education);
    st.report
        .code_groups
        .insert("Person-years by employment (DREAM)".into(), employment);

    let mut refs: Vec<&Referral> = referrals.iter().collect();
    refs.sort_by_key(|x| rank[x.person]);
    let referrals_df = DataFrame::new(
        refs.len(),
        vec![
            str_col(
                "person_id",
                refs.iter().map(|x| Some(ps[x.person].pnr.as_str())),
            ),
            date_col("referral_date", refs.iter().map(|x| Some(x.date)).collect()),
            str_col("practice_id", refs.iter().map(|x| x.practice.as_deref())),
            str_col("referral_source", refs.iter().map(|x| x.source.as_deref())),
        ],
    )
    .map_err(pl("referrals"))?;

    // In person, date and contact type order; the type's number follows its name's
    // order, and equal contacts are alike, so an unstable sort gives one order.
    let mut contacts = std::mem::take(&mut st.contacts);
    for c in &mut contacts {
        c.0 = rank[c.0 as usize] as u32;
    }
    contacts.sort_unstable();
    let mut by_type = [0u64; CONTACT_TYPES.len()];
    for c in &contacts {
        by_type[usize::from(c.2)] += 1;
    }
    for (name, &n) in CONTACT_TYPES.iter().zip(&by_type) {
        if n > 0 {
            st.report.contacts_by_type.insert(name.to_string(), n);
        }
    }
    let contacts_df = DataFrame::new(
        contacts.len(),
        vec![
            str_col(
                "person_id",
                contacts
                    .iter()
                    .map(|c| Some(ps[order[c.0 as usize]].pnr.as_str())),
            ),
            date_col("date", contacts.iter().map(|c| Some(c.1)).collect()),
            str_col(
                "contact_type",
                contacts
                    .iter()
                    .map(|c| Some(CONTACT_TYPES[usize::from(c.2)])),
            ),
        ],
    )
    .map_err(pl("contacts"))?;
    drop(contacts);

    let mut answers: Vec<&Answer> = proms.iter().collect();
    answers.sort_by_key(|a| (rank[a.person], a.wave));
    let mut columns = vec![
        str_col(
            "person_id",
            answers.iter().map(|a| Some(ps[a.person].pnr.as_str())),
        ),
        int_col("wave", answers.iter().map(|a| Some(a.wave)).collect()),
        date_col(
            "response_date",
            answers.iter().map(|a| Some(a.date)).collect(),
        ),
    ];
    for (j, name) in item_columns().iter().enumerate() {
        columns.push(int_col(name, answers.iter().map(|a| a.items[j]).collect()));
    }
    columns.push(
        Float64Chunked::from_iter_options("eq5d_vas".into(), answers.iter().map(|a| a.vas))
            .into_series()
            .into_column(),
    );
    let proms_df = DataFrame::new(answers.len(), columns).map_err(pl("proms"))?;

    for (name, df) in [
        ("persons", &persons),
        ("covariates", &covariates),
        ("referrals", &referrals_df),
        ("contacts", &contacts_df),
        ("proms", &proms_df),
    ] {
        st.report
            .tables
            .insert(name.to_string(), df.height() as u64);
    }
    st.report.warnings = st.warnings.into_values().collect();
    Ok(Imported {
        persons,
        covariates,
        referrals: referrals_df,
        contacts: contacts_df,
        proms: proms_df,
        period: st.period,
        report: st.report,
    })
}
