//! The import itself: registers → the five extract tables.

mod hospital;
mod population;
mod programme;
mod services;
mod sources;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::files::{parquet_shape, scan, Part, RegisterFile, Table, Texts};
use super::recipe::{group_by_prefix, Recipe};
use super::report::{FileReport, ImportReport, Warning, WarningCount};
use super::weeks::{fee_week, monday_of};
use super::RegisterError;
use crate::data::calendar::{days_from_civil, format_date};
use crate::data::rows::RowNumbers;
use crate::data::validate::{ExtractMetadata, ExtractPeriod};
use hospital::{diagnosis_covariates, read_hospital};
use population::{read_bef, read_dod, read_dream, read_ind, read_practice, read_udda, read_vnds};
use programme::{item_columns, read_referrals, read_survey, Answer, Referral};
use services::{read_helpline, read_sssy};

/// Hash maps with polars' fast hasher (keys are looked up, never iterated in an order
/// that reaches the output).
type HashMap<K, V> = PlHashMap<K, V>;

/// The five extract tables and the report of how they were made.
#[derive(Debug, Clone)]
pub struct Imported {
    pub persons: DataFrame,
    pub covariates: DataFrame,
    pub referrals: DataFrame,
    pub contacts: Contacts,
    pub proms: DataFrame,
    pub period: ExtractPeriod,
    pub report: ImportReport,
}

/// The contacts table, kept as numbers and made into frames a row group at a time when
/// it is written (the frame of the 70 million contacts of 2,000,000 persons takes
/// 2.5 GB).
#[derive(Debug, Clone)]
pub struct Contacts {
    /// The persons' ids in the order of the persons table.
    person_ids: Series,
    /// (person as its row in the persons table, date, type as its place in
    /// [`CONTACT_TYPES`]), in person, date and type order.
    rows: Vec<(u32, i32, u8)>,
}

impl Contacts {
    pub fn height(&self) -> usize {
        self.rows.len()
    }

    /// The contacts of `range` as a frame (`person_id`, `date`, `contact_type`).
    ///
    /// # Errors
    /// Only a polars error in building the frame.
    pub fn frame(&self, range: Range<usize>) -> PolarsResult<DataFrame> {
        let rows = self.rows.get(range).unwrap_or_default();
        let ids = self.person_ids.str()?;
        DataFrame::new(
            rows.len(),
            vec![
                str_col("person_id", rows.iter().map(|c| ids.get(c.0 as usize))),
                date_col("date", rows.iter().map(|c| Some(c.1)).collect()),
                str_col(
                    "contact_type",
                    rows.iter().map(|c| Some(CONTACT_TYPES[usize::from(c.2)])),
                ),
            ],
        )
    }
}

/// The covariate row of each person and BEF year: a persons × years table (the years
/// of the BEF files), cheaper than a hash map of 8 million (person, year) keys.
#[derive(Default)]
struct CovIndex {
    years: Vec<i32>,
    rows: Vec<usize>,
}

impl CovIndex {
    fn new(mut years: Vec<i32>) -> CovIndex {
        years.sort_unstable();
        years.dedup();
        CovIndex {
            years,
            rows: Vec::new(),
        }
    }

    fn place(&self, &(person, year): &(usize, i32)) -> Option<usize> {
        let slot = self.years.iter().position(|&y| y == year)?;
        Some(person * self.years.len() + slot)
    }

    fn get(&self, key: &(usize, i32)) -> Option<&usize> {
        self.rows
            .get(self.place(key)?)
            .filter(|&&c| c != usize::MAX)
    }

    fn contains_key(&self, key: &(usize, i32)) -> bool {
        self.get(key).is_some()
    }

    /// Notes the row of (person, year); the year must be one of the BEF years.
    fn insert(&mut self, key: (usize, i32), row: usize) {
        if let Some(at) = self.place(&key) {
            if self.rows.len() <= at {
                self.rows.resize((key.0 + 1) * self.years.len(), usize::MAX);
            }
            self.rows[at] = row;
        }
    }
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

/// Strips the registers' "D" prefix from an ICD-10 code.
fn icd(code: &str) -> String {
    let c = code.trim().to_ascii_uppercase();
    match c.strip_prefix('D') {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => c,
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
    /// Each person's place in PNR order (set once BEF is read).
    pnr_rank: Vec<u32>,
    /// Each person's PNR as a number ([`pnr_key`]; 0 for a PNR longer than 15 bytes).
    pnr_keys: Vec<u128>,
    index: HashMap<String, usize>,
    /// The person `person_of` found last.
    last_person: usize,
    covs: Vec<CovRow>,
    cov_index: CovIndex,
    /// (person, date, contact type as its place in [`CONTACT_TYPES`])
    contacts: Vec<(u32, i32, u8)>,
    /// Diagnoses per person: (date, code without the D prefix as its number in `codes`).
    diagnoses: Vec<Vec<(i32, u32)>>,
    codes: DiagnosisCodes,
    warnings: BTreeMap<String, WarningCount>,
    report: ImportReport,
}

impl State<'_> {
    /// A warning about `file`'s spreadsheet `row`.
    fn warn(&mut self, kind: &str, file: &str, row: usize, variable: &str, message: String) {
        self.warnings
            .entry(kind.to_string())
            .and_modify(|w| w.count += 1)
            .or_insert_with(|| WarningCount {
                kind: kind.to_string(),
                count: 1,
                first: Warning {
                    file: file.to_string(),
                    row,
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

    /// The person of `pnr` among `last` and the persons after it in BEF order: registers
    /// come sorted by PNR, as BEF often is, so a row's person is usually found there, in
    /// a few cache lines of [`State::pnr_keys`] rather than the hash map's random ones.
    fn nearby(&self, pnr: &str, last: usize) -> Option<usize> {
        const AHEAD: usize = 16;
        let key = pnr_key(pnr)?;
        let from = if last == usize::MAX { 0 } else { last };
        let to = from.saturating_add(AHEAD + 1).min(self.pnr_keys.len());
        self.pnr_keys
            .get(from..to)?
            .iter()
            .position(|&k| k == key)
            .map(|j| from + j)
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
                    t.rows.row(i),
                    var,
                    "the PNR is missing; the row is left out".into(),
                );
                None
            }
            Some(p) => match self
                .nearby(p, self.last_person)
                .or_else(|| self.index.get(p).copied())
            {
                Some(k) => {
                    self.last_person = k;
                    Some(k)
                }
                None => {
                    self.warn(
                        &format!("{register}: PNR not in BEF"),
                        &t.file,
                        t.rows.row(i),
                        var,
                        format!("{p} is in no BEF year; the row is left out"),
                    );
                    None
                }
            },
        }
    }
}

/// A PNR of at most 15 bytes as a number (its bytes and its length), so that PNRs are
/// compared without following a pointer; `None` for a longer one.
fn pnr_key(pnr: &str) -> Option<u128> {
    let bytes = pnr.as_bytes();
    if bytes.len() > 15 {
        return None;
    }
    let mut key = [0u8; 16];
    key[..bytes.len()].copy_from_slice(bytes);
    key[15] = bytes.len() as u8 + 1;
    Some(u128::from_le_bytes(key))
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
    let sources = sources::Sources::new(&files);
    let get = |names: &super::recipe::Names| sources.files(names);
    let mut st = State {
        recipe,
        period,
        persons: Vec::new(),
        pnr_rank: Vec::new(),
        pnr_keys: Vec::new(),
        index: HashMap::default(),
        last_person: usize::MAX,
        covs: Vec::new(),
        cov_index: CovIndex::default(),
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
    let bef = sources.bef(&recipe.bef)?;
    if bef.is_empty() {
        return Err(RegisterError::Usage(format!(
            "{}: no {} files (the population register, one per year): every person comes from it",
            dir.display(),
            recipe.bef.register
        )));
    }
    read_bef(&mut st, &bef)?;
    let mut order: Vec<u32> = (0..st.persons.len() as u32).collect();
    // PNRs are unique (BEF's index), so an unstable sort gives one order.
    order
        .par_sort_unstable_by(|&a, &b| st.persons[a as usize].pnr.cmp(&st.persons[b as usize].pnr));
    st.pnr_rank = vec![0; order.len()];
    for (r, &k) in order.iter().enumerate() {
        st.pnr_rank[k as usize] = r as u32;
    }
    st.diagnoses = vec![Vec::new(); st.persons.len()];
    read_dod(&mut st, &get(&recipe.dod.register)?)?;
    read_vnds(&mut st, &sources.vnds(&recipe.vnds)?)?;
    read_practice(&mut st, &get(&recipe.practice.register)?)?;
    read_udda(&mut st, &get(&recipe.udda.register)?)?;
    read_ind(&mut st, &get(&recipe.ind.register)?)?;
    read_dream(&mut st, &get(&recipe.dream.register)?)?;
    read_hospital(&mut st, &sources)?;
    diagnosis_covariates(&mut st);
    read_sssy(&mut st, &get(&recipe.sssy.register)?)?;
    read_helpline(&mut st, &get(&recipe.helpline.register)?)?;
    let referrals = read_referrals(&mut st, &get(&recipe.referrals.register)?)?;
    let proms = read_survey(&mut st, &get(&recipe.survey.register)?)?;
    sources.report(&mut st);
    let known = sources::known_registers(recipe);
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
    let rank: Vec<usize> = st.pnr_rank.iter().map(|&r| r as usize).collect();
    let mut order = vec![0usize; rank.len()];
    for (k, &r) in rank.iter().enumerate() {
        order[r] = k;
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
    // Stable: the contacts come in runs already in order (one per register file), which
    // a merge sort uses; equal contacts are alike, so the order is the same.
    contacts.par_sort();
    let mut by_type = [0u64; CONTACT_TYPES.len()];
    for c in &contacts {
        by_type[usize::from(c.2)] += 1;
    }
    for (name, &n) in CONTACT_TYPES.iter().zip(&by_type) {
        if n > 0 {
            st.report.contacts_by_type.insert(name.to_string(), n);
        }
    }
    let contacts = Contacts {
        person_ids: persons
            .column("person_id")
            .map_err(pl("contacts"))?
            .as_materialized_series()
            .clone(),
        rows: contacts,
    };

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
        ("proms", &proms_df),
    ] {
        st.report
            .tables
            .insert(name.to_string(), df.height() as u64);
    }
    st.report
        .tables
        .insert("contacts".to_string(), contacts.height() as u64);
    st.report.warnings = st.warnings.into_values().collect();
    Ok(Imported {
        persons,
        covariates,
        referrals: referrals_df,
        contacts,
        proms: proms_df,
        period: st.period,
        report: st.report,
    })
}
