//! Analysis tables derived from the extracts: the person registry (life dates,
//! referrals, annual covariate snapshots, contacts by outcome group) and the stacked
//! monthly risk sets that referred persons are matched in.
//!
//! Persons are held in `person_id` order, so nothing derived here depends on the row
//! order of the input files.

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::calendar::{age_on, civil_from_days, days_from_civil};
use super::dictionary::TableName;
use super::validate::Extracts;
use crate::stats::design::{ColumnData, DataSet, LevelCodes};

/// A set of contact types counted together as one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeGroup {
    pub name: String,
    pub contact_types: Vec<String>,
}

/// SHINE's three register outcomes.
pub fn default_outcome_groups() -> Vec<OutcomeGroup> {
    let group = |name: &str, types: &[&str]| OutcomeGroup {
        name: name.to_string(),
        contact_types: types.iter().map(|t| t.to_string()).collect(),
    };
    vec![
        group(
            "general_practice",
            &["gp_consultation", "gp_phone", "gp_email", "gp_home_visit"],
        ),
        group(
            "unplanned_hospital",
            &["emergency_department", "acute_admission"],
        ),
        group("helpline", &["helpline_1813"]),
    ]
}

/// The negative-control outcomes: hospital contacts a social prescription cannot
/// plausibly change within months, planned admissions and outpatient visits.
pub fn default_negative_controls() -> Vec<OutcomeGroup> {
    let group = |name: &str, types: &[&str]| OutcomeGroup {
        name: name.to_string(),
        contact_types: types.iter().map(|t| t.to_string()).collect(),
    };
    vec![
        group("planned_admission", &["planned_admission"]),
        group("outpatient", &["outpatient"]),
    ]
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CohortError {
    #[error("the {0} table is needed but was not read")]
    MissingTable(TableName),
    #[error("{table}, column {column}: {message}")]
    Column {
        table: TableName,
        column: String,
        message: String,
    },
    #[error("{0}")]
    Design(String),
}

fn column<'a>(
    extracts: &'a Extracts,
    table: TableName,
    name: &str,
) -> Result<&'a Series, CohortError> {
    let frame = extracts
        .frame(table)
        .ok_or(CohortError::MissingTable(table))?;
    frame
        .column(name)
        .map(|c| c.as_materialized_series())
        .map_err(|_| CohortError::Column {
            table,
            column: name.to_string(),
            message: "missing".into(),
        })
}

fn column_error(table: TableName, name: &str) -> impl Fn(PolarsError) -> CohortError + '_ {
    move |e| CohortError::Column {
        table,
        column: name.into(),
        message: e.to_string(),
    }
}

/// A text column, borrowed from the extract.
fn text_column<'a>(
    extracts: &'a Extracts,
    table: TableName,
    name: &str,
) -> Result<&'a StringChunked, CohortError> {
    column(extracts, table, name)?
        .str()
        .map_err(column_error(table, name))
}

/// A date column as days since 1970-01-01.
fn day_column(
    extracts: &Extracts,
    table: TableName,
    name: &str,
) -> Result<Int32Chunked, CohortError> {
    let cast = column(extracts, table, name)?
        .cast(&DataType::Int32)
        .map_err(column_error(table, name))?;
    cast.i32().cloned().map_err(column_error(table, name))
}

fn texts<'a>(
    extracts: &'a Extracts,
    table: TableName,
    name: &str,
) -> Result<Vec<Option<&'a str>>, CohortError> {
    Ok(text_column(extracts, table, name)?.iter().collect())
}

fn days(
    extracts: &Extracts,
    table: TableName,
    name: &str,
) -> Result<Vec<Option<i32>>, CohortError> {
    Ok(day_column(extracts, table, name)?.iter().collect())
}

fn integers(
    extracts: &Extracts,
    table: TableName,
    name: &str,
) -> Result<Vec<Option<i64>>, CohortError> {
    let ca = column(extracts, table, name)?
        .i64()
        .map_err(column_error(table, name))?;
    Ok(ca.iter().collect())
}

fn booleans(
    extracts: &Extracts,
    table: TableName,
    name: &str,
) -> Result<Vec<Option<bool>>, CohortError> {
    let ca = column(extracts, table, name)?
        .bool()
        .map_err(column_error(table, name))?;
    Ok(ca.iter().collect())
}

/// Finds persons in the sorted `ids`. Extracts list a person's rows together and
/// persons mostly in id order, so the same person as last time, or the next one, is
/// tried before a binary search.
struct PersonFinder<'r> {
    ids: &'r [String],
    last: usize,
}

impl<'r> PersonFinder<'r> {
    fn new(ids: &'r [String]) -> Self {
        PersonFinder { ids, last: 0 }
    }

    fn find(&mut self, id: &str) -> Option<u32> {
        let at = |i: usize| self.ids.get(i).is_some_and(|x| x == id);
        let p = if at(self.last) {
            self.last
        } else if at(self.last + 1) {
            self.last + 1
        } else {
            self.ids.binary_search_by(|x| x.as_str().cmp(id)).ok()?
        };
        self.last = p;
        Some(p as u32)
    }
}

/// A text value of a snapshot, by its index in the registry's [`Registry::text`] pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TextId(u32);

/// One annual register snapshot of a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub year: i32,
    pub municipality: i64,
    pub practice: Option<TextId>,
    pub living_alone: Option<bool>,
    pub education: Option<TextId>,
    pub income_quintile: Option<i64>,
    pub employment: Option<TextId>,
    pub charlson: Option<i64>,
    pub psychiatric: Option<bool>,
}

/// Distinct text values, each held once.
#[derive(Debug, Clone, Default)]
struct TextPool<'a> {
    values: Vec<&'a str>,
    index: PlHashMap<&'a str, u32>,
}

impl<'a> TextPool<'a> {
    fn id(&mut self, value: Option<&'a str>) -> Option<TextId> {
        let value = value?;
        let next = self.values.len() as u32;
        let id = *self.index.entry(value).or_insert(next);
        if id == next {
            self.values.push(value);
        }
        Some(TextId(id))
    }
}

/// Everyone in the extracts, in `person_id` order.
#[derive(Debug, Clone)]
pub struct Registry {
    pub ids: Vec<String>,
    pub sex: Vec<String>,
    pub origin: Vec<String>,
    pub birth: Vec<i32>,
    pub death: Vec<Option<i32>>,
    pub emigration: Vec<Option<i32>>,
    pub referral: Vec<Option<i32>>,
    snapshots: Snapshots,
    /// The outcome groups, indexed `0..groups.len()`.
    pub groups: Vec<OutcomeGroup>,
    /// The negative-control outcomes, indexed after the outcome groups:
    /// `groups.len() + k`.
    pub negative_controls: Vec<OutcomeGroup>,
    /// Per outcome group, then per negative control: contact dates of person `p` are
    /// `dates[offsets[p]..offsets[p + 1]]`, sorted.
    contacts: Vec<ContactDates>,
}

impl Registry {
    /// Builds the registry from validated extracts, with the contacts of the outcome
    /// groups and of the negative controls (`person_id` unique in `persons`, one
    /// snapshot per person and year; where a key is repeated all the same, the last row
    /// counts).
    ///
    /// # Errors
    /// A table or column the registry needs is missing or has the wrong type.
    pub fn from_extracts(
        extracts: &Extracts,
        groups: &[OutcomeGroup],
        negative_controls: &[OutcomeGroup],
    ) -> Result<Registry, CohortError> {
        use TableName::*;
        let ids = texts(extracts, Persons, "person_id")?;
        let mut order: Vec<usize> = (0..ids.len()).filter(|&i| ids[i].is_some()).collect();
        order.sort_by(|&a, &b| ids[a].cmp(&ids[b]));
        let pick_s = |v: Vec<Option<&str>>| -> Vec<String> {
            order
                .iter()
                .map(|&i| v[i].unwrap_or_default().to_string())
                .collect()
        };
        let sex = pick_s(texts(extracts, Persons, "sex")?);
        let origin = pick_s(texts(extracts, Persons, "origin")?);
        let births = days(extracts, Persons, "birth_date")?;
        let deaths =
            days(extracts, Persons, "death_date").unwrap_or_else(|_| vec![None; ids.len()]);
        let emigrations =
            days(extracts, Persons, "emigration_date").unwrap_or_else(|_| vec![None; ids.len()]);
        let birth: Vec<i32> = order
            .iter()
            .map(|&i| births[i].unwrap_or(i32::MIN))
            .collect();
        let death: Vec<Option<i32>> = order.iter().map(|&i| deaths[i]).collect();
        let emigration: Vec<Option<i32>> = order.iter().map(|&i| emigrations[i]).collect();
        let ids = pick_s(ids);
        let mut finder = PersonFinder::new(&ids);

        let mut referral = vec![None; ids.len()];
        let rids = text_column(extracts, Referrals, "person_id")?;
        let rdates = day_column(extracts, Referrals, "referral_date")?;
        for (id, date) in rids.iter().zip(rdates.iter()) {
            if let (Some(p), Some(d)) = (id.and_then(|id| finder.find(id)), date) {
                referral[p as usize] = Some(d);
            }
        }

        let snapshots = snapshot_index(extracts, &mut finder)?;
        let all: Vec<OutcomeGroup> = groups.iter().chain(negative_controls).cloned().collect();
        let contacts = contact_index(extracts, &all, &mut finder)?;
        Ok(Registry {
            ids,
            sex,
            origin,
            birth,
            death,
            emigration,
            referral,
            snapshots,
            groups: groups.to_vec(),
            negative_controls: negative_controls.to_vec(),
            contacts,
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The person's snapshot of a calendar year.
    pub fn snapshot(&self, person: u32, year: i32) -> Option<&Snapshot> {
        let p = person as usize;
        let offsets = &self.snapshots.offsets;
        self.snapshots.list[offsets[p] as usize..offsets[p + 1] as usize]
            .iter()
            .find(|s| s.year == year)
    }

    /// The text behind a snapshot's [`TextId`].
    pub fn text(&self, id: TextId) -> &str {
        &self.snapshots.texts[id.0 as usize]
    }

    /// Contacts of an outcome group on days `from..to` (half-open).
    pub fn count_contacts(&self, group: usize, person: u32, from: i32, to: i32) -> u32 {
        let (offsets, dates) = &self.contacts[group];
        let p = person as usize;
        let slice = &dates[offsets[p] as usize..offsets[p + 1] as usize];
        let lo = slice.partition_point(|&d| d < from);
        let hi = slice.partition_point(|&d| d < to);
        (hi - lo) as u32
    }

    /// The contact dates of an outcome group for a person, sorted.
    pub fn contact_dates(&self, group: usize, person: u32) -> &[i32] {
        let (offsets, dates) = &self.contacts[group];
        let p = person as usize;
        &dates[offsets[p] as usize..offsets[p + 1] as usize]
    }

    /// The last day (exclusive) a person is under observation: death or emigration.
    pub fn exit(&self, person: u32) -> Option<i32> {
        let p = person as usize;
        match (self.death[p], self.emigration[p]) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The day (exclusive) a person's follow-up as a comparison person ends by design:
    /// their own referral. A person referred later who served as a comparison person
    /// before it (`eligibility.later_referred_as_comparison`) is followed up, and
    /// exposed, until the day before their referral, as risk-set matching requires
    /// (Lu 2005, Biometrics 61:721): from then on they are treated. `None` for a person
    /// never referred; without that option no comparison person is ever referred.
    pub fn comparison_censor(&self, person: u32) -> Option<i32> {
        self.referral[person as usize]
    }

    /// Age in whole years on `day`.
    pub fn age_years(&self, person: u32, day: i32) -> i32 {
        age_on(self.birth[person as usize], day)
    }
}

/// Everyone's covariate snapshots.
#[derive(Debug, Clone)]
struct Snapshots {
    /// Snapshots of person `p` are `list[offsets[p]..offsets[p + 1]]`, in year order.
    offsets: Vec<u32>,
    list: Vec<Snapshot>,
    /// The text values the snapshots refer to by [`TextId`].
    texts: Vec<String>,
}

/// The covariate snapshots per person, in year order, and the pool of their text values.
fn snapshot_index(
    extracts: &Extracts,
    finder: &mut PersonFinder<'_>,
) -> Result<Snapshots, CohortError> {
    use TableName::Covariates;
    let n = finder.ids.len();
    let cids = text_column(extracts, Covariates, "person_id")?;
    let years = integers(extracts, Covariates, "year")?;
    let municipality = integers(extracts, Covariates, "municipality_code")?;
    let rows = years.len();
    let practice = texts(extracts, Covariates, "practice_id").unwrap_or_else(|_| vec![None; rows]);
    let living_alone =
        booleans(extracts, Covariates, "living_alone").unwrap_or_else(|_| vec![None; rows]);
    let education = texts(extracts, Covariates, "education").unwrap_or_else(|_| vec![None; rows]);
    let income =
        integers(extracts, Covariates, "income_quintile").unwrap_or_else(|_| vec![None; rows]);
    let employment = texts(extracts, Covariates, "employment").unwrap_or_else(|_| vec![None; rows]);
    let charlson =
        integers(extracts, Covariates, "charlson_index").unwrap_or_else(|_| vec![None; rows]);
    let psychiatric = booleans(extracts, Covariates, "psychiatric_diagnosis_5y")
        .unwrap_or_else(|_| vec![None; rows]);

    // The person of every usable row, then the rows grouped by person in input order.
    let person: Vec<Option<u32>> = cids
        .iter()
        .enumerate()
        .map(|(r, id)| match (id, years[r], municipality[r]) {
            (Some(id), Some(_), Some(_)) => finder.find(id),
            _ => None,
        })
        .collect();
    let mut offsets = vec![0u32; n + 1];
    for p in person.iter().flatten() {
        offsets[*p as usize + 1] += 1;
    }
    for p in 0..n {
        offsets[p + 1] += offsets[p];
    }
    let mut fill = offsets.clone();
    let mut by_person = vec![0u32; offsets[n] as usize];
    for (r, p) in person.iter().enumerate() {
        if let Some(p) = p {
            let slot = &mut fill[*p as usize];
            by_person[*slot as usize] = r as u32;
            *slot += 1;
        }
    }
    drop(fill);

    let mut pool = TextPool::default();
    let mut snapshots = Vec::with_capacity(by_person.len());
    let mut kept = vec![0u32; n + 1];
    for p in 0..n {
        let rows = &mut by_person[offsets[p] as usize..offsets[p + 1] as usize];
        // By year; of repeated years the last row counts.
        rows.sort_by_key(|&r| years[r as usize]);
        for (k, &r) in rows.iter().enumerate() {
            let r = r as usize;
            if rows
                .get(k + 1)
                .is_some_and(|&next| years[next as usize] == years[r])
            {
                continue;
            }
            let (Some(year), Some(municipality)) = (years[r], municipality[r]) else {
                continue;
            };
            snapshots.push(Snapshot {
                year: year as i32,
                municipality,
                practice: pool.id(practice[r]),
                living_alone: living_alone[r],
                education: pool.id(education[r]),
                income_quintile: income[r],
                employment: pool.id(employment[r]),
                charlson: charlson[r],
                psychiatric: psychiatric[r],
            });
        }
        kept[p + 1] = snapshots.len() as u32;
    }
    Ok(Snapshots {
        offsets: kept,
        list: snapshots,
        texts: pool.values.iter().map(|s| s.to_string()).collect(),
    })
}

/// The contacts of one outcome group in compressed rows: `(offsets, dates)`, where the
/// dates of person `p` are `dates[offsets[p]..offsets[p + 1]]`, sorted.
type ContactDates = (Vec<u32>, Vec<i32>);

/// Contacts per outcome group in compressed rows: offsets per person, sorted dates.
fn contact_index(
    extracts: &Extracts,
    groups: &[OutcomeGroup],
    finder: &mut PersonFinder<'_>,
) -> Result<Vec<ContactDates>, CohortError> {
    use TableName::Contacts;
    let n = finder.ids.len();
    let ids = text_column(extracts, Contacts, "person_id")?;
    let types = text_column(extracts, Contacts, "contact_type")?;
    let dates = day_column(extracts, Contacts, "date")?;

    // The group of a contact type (the last group listing it), looked up among the few
    // types seen so far.
    let group_of = |t: &str| {
        groups
            .iter()
            .rposition(|g| g.contact_types.iter().any(|c| c == t))
    };
    let mut seen: Vec<(&str, Option<usize>)> = Vec::new();
    let mut contacts: Vec<Vec<(u32, i32)>> = vec![Vec::new(); groups.len()];
    for ((id, t), d) in ids.iter().zip(types.iter()).zip(dates.iter()) {
        let (Some(id), Some(t), Some(d)) = (id, t, d) else {
            continue;
        };
        let g = match seen.iter().find(|(s, _)| *s == t) {
            Some(&(_, g)) => g,
            None => {
                let g = group_of(t);
                seen.push((t, g));
                g
            }
        };
        if let (Some(g), Some(p)) = (g, finder.find(id)) {
            contacts[g].push((p, d));
        }
    }
    Ok(contacts
        .into_iter()
        .map(|list| {
            let mut offsets = vec![0u32; n + 1];
            for &(p, _) in &list {
                offsets[p as usize + 1] += 1;
            }
            for p in 0..n {
                offsets[p + 1] += offsets[p];
            }
            let mut fill = offsets.clone();
            let mut dates = vec![0i32; list.len()];
            for (p, d) in list {
                let slot = &mut fill[p as usize];
                dates[*slot as usize] = d;
                *slot += 1;
            }
            for p in 0..n {
                dates[offsets[p] as usize..offsets[p + 1] as usize].sort_unstable();
            }
            (offsets, dates)
        })
        .collect())
}

/// Who may enter a risk set as a comparison person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskSetOptions {
    /// Municipality codes of residence (previous year's snapshot) eligible as comparison.
    pub catchment: Vec<i64>,
    pub min_age: i32,
    /// Allow persons referred later as comparison persons before their own referral
    /// (their follow-up as comparison ends at their referral).
    pub allow_later_referred: bool,
    /// Days before the risk-set date over which prior contacts are counted.
    pub prior_days: i32,
    /// Referrals from this day on (days since 1970-01-01) are analysed.
    pub referral_start: Option<i32>,
    /// Referrals up to and including this day are analysed.
    pub referral_end: Option<i32>,
}

impl Default for RiskSetOptions {
    fn default() -> Self {
        RiskSetOptions {
            catchment: vec![101],
            min_age: 18,
            allow_later_referred: false,
            prior_days: 365,
            referral_start: None,
            referral_end: None,
        }
    }
}

/// One row of the stacked risk sets: a person in the risk set of a calendar month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskSetRow {
    pub person: u32,
    /// Risk set: months since January of year 0 (year × 12 + month − 1).
    pub month: i32,
    pub treated: bool,
    /// The referral date for referred persons; the first day of the month otherwise
    /// (replaced by the matched person's referral date after matching).
    pub index_date: i32,
}

/// Counts for the flow diagram.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RiskSetFlow {
    pub referred: usize,
    /// Referred before the plan's referral_start or after its referral_end.
    pub referred_outside_study_period: usize,
    pub referred_without_snapshot: usize,
    pub referred_in_risk_sets: usize,
    pub risk_sets: usize,
    pub comparison_rows: usize,
    pub comparison_persons: usize,
}

/// The stacked risk sets with every person's covariates as of the risk-set date.
#[derive(Debug, Clone)]
pub struct StackedRiskSets {
    pub rows: Vec<RiskSetRow>,
    /// Covariates per row, named as the propensity formula uses them.
    pub data: DataSet,
    pub flow: RiskSetFlow,
}

/// The first day of a risk-set month.
pub fn month_start(month: i32) -> i32 {
    days_from_civil(month.div_euclid(12), month.rem_euclid(12) + 1, 1)
}

pub fn month_label(month: i32) -> String {
    format!(
        "{:04}-{:02}",
        month.div_euclid(12),
        month.rem_euclid(12) + 1
    )
}

fn month_of(day: i32) -> i32 {
    let (y, m, _) = civil_from_days(day);
    y * 12 + m - 1
}

/// Builds the monthly risk sets: each referred person in the month of referral, and
/// every eligible comparison person in every month with a referral.
///
/// Everyone's covariates in a risk set are measured the same way, as of the first day
/// of its month: the snapshot of the previous calendar year, age on that day, contacts
/// of each outcome group in the `prior_days` before it. A comparison person must be
/// alive, resident and of age from that day to the end of the month, so that any index
/// date in the month falls inside their follow-up.
pub fn risk_sets(registry: &Registry, options: &RiskSetOptions) -> StackedRiskSets {
    let n = registry.len();
    let mut flow = RiskSetFlow::default();
    // Referred persons with a snapshot of the year before: (month, person, referral date).
    let mut referred: Vec<(i32, u32, i32)> = Vec::new();
    for p in 0..n as u32 {
        if let Some(d) = registry.referral[p as usize] {
            flow.referred += 1;
            if options.referral_start.is_some_and(|s| d < s)
                || options.referral_end.is_some_and(|e| d > e)
            {
                flow.referred_outside_study_period += 1;
                continue;
            }
            let m = month_of(d);
            if registry.snapshot(p, m.div_euclid(12) - 1).is_none() {
                flow.referred_without_snapshot += 1;
                continue;
            }
            referred.push((m, p, d));
        }
    }
    flow.referred_in_risk_sets = referred.len();
    referred.sort_unstable();
    let mut months: Vec<i32> = referred.iter().map(|&(m, _, _)| m).collect();
    months.dedup();
    flow.risk_sets = months.len();

    // Per person: the first day they are adult (a 29 February birthday counts from
    // 1 March), the day their follow-up as a comparison person ends (referral, death or
    // emigration), as far as they do not depend on the month.
    let adult_from: Vec<i32> = registry
        .birth
        .iter()
        .map(|&b| {
            if b == i32::MIN {
                return i32::MAX;
            }
            let (y, m, d) = civil_from_days(b);
            let (m, d) = if m == 2 && d == 29 { (3, 1) } else { (m, d) };
            days_from_civil(y + options.min_age, m, d).max(b)
        })
        .collect();
    let referred_from: Vec<i32> = registry
        .referral
        .iter()
        .map(|r| match r {
            Some(r) if options.allow_later_referred => *r,
            Some(_) => i32::MIN,
            None => i32::MAX,
        })
        .collect();
    let exit: Vec<i32> = (0..n as u32)
        .map(|p| registry.exit(p).unwrap_or(i32::MAX))
        .collect();
    // Whether the person lives in the catchment by the snapshot of the year before.
    let resident_in = |year: i32| -> Vec<bool> {
        (0..n as u32)
            .map(|p| {
                registry.snapshot(p, year - 1).is_some_and(|s| {
                    options.catchment.is_empty() || options.catchment.contains(&s.municipality)
                })
            })
            .collect()
    };

    let mut rows = Vec::new();
    let mut comparison_persons = vec![false; n];
    let mut resident: Option<(i32, Vec<bool>)> = None;
    let mut next_referred = referred.iter().peekable();
    for &m in &months {
        let start = month_start(m);
        let next = month_start(m + 1);
        let year = m.div_euclid(12);
        if resident.as_ref().is_none_or(|(y, _)| *y != year) {
            resident = Some((year, resident_in(year)));
        }
        let Some((_, resident)) = resident.as_ref() else {
            continue;
        };
        // Rows in (month, person) order: independent of the input row order.
        for p in 0..n {
            if let Some(&(_, _, d)) =
                next_referred.next_if(|&&(rm, rp, _)| (rm, rp as usize) == (m, p))
            {
                rows.push(RiskSetRow {
                    person: p as u32,
                    month: m,
                    treated: true,
                    index_date: d,
                });
                continue;
            }
            if referred_from[p] < next || adult_from[p] > start || exit[p] < next || !resident[p] {
                continue;
            }
            rows.push(RiskSetRow {
                person: p as u32,
                month: m,
                treated: false,
                index_date: start,
            });
            comparison_persons[p] = true;
            flow.comparison_rows += 1;
        }
    }
    flow.comparison_persons = comparison_persons.iter().filter(|&&c| c).count();
    let data = covariates(registry, &rows, options);
    StackedRiskSets { rows, data, flow }
}

/// A categorical column from an index per row into `names`: the levels are the names
/// that occur, sorted by bytes as [`ColumnData::from_strings`] sorts them (names that
/// repeat are one level).
fn categorical(indices: &[u32], names: &[&str]) -> ColumnData {
    let mut used = vec![false; names.len()];
    for &i in indices {
        used[i as usize] = true;
    }
    let mut levels: Vec<&str> = names
        .iter()
        .zip(&used)
        .filter(|(_, &u)| u)
        .map(|(name, _)| *name)
        .collect();
    levels.sort_unstable();
    levels.dedup();
    let code: Vec<Option<u32>> = names
        .iter()
        .map(|name| levels.binary_search(name).ok().map(|c| c as u32))
        .collect();
    ColumnData::Categorical {
        codes: LevelCodes::new(levels.len(), indices.iter().map(|&i| code[i as usize])),
        levels: levels.into_iter().map(str::to_string).collect(),
    }
}

/// The distinct values, and the index of each value among them.
fn distinct(values: &[String]) -> (Vec<&str>, Vec<u32>) {
    let mut names = Vec::new();
    let mut index: PlHashMap<&str, u32> = PlHashMap::new();
    let indices = values
        .iter()
        .map(|v| {
            *index.entry(v.as_str()).or_insert_with(|| {
                names.push(v.as_str());
                names.len() as u32 - 1
            })
        })
        .collect();
    (names, indices)
}

const QUINTILES: [&str; 6] = ["missing", "1", "2", "3", "4", "5"];
const YES_NO: [&str; 3] = ["yes", "no", "missing"];

fn yes_no(value: Option<bool>) -> u32 {
    match value {
        Some(true) => 0,
        Some(false) => 1,
        None => 2,
    }
}

/// The covariates of every stacked row, as of its risk-set date. Missing categorical
/// values get their own level `missing` (as is usual with register data); a missing
/// Charlson index counts as 0 (no hospital diagnosis recorded).
fn covariates(registry: &Registry, rows: &[RiskSetRow], options: &RiskSetOptions) -> DataSet {
    let n = rows.len();
    let (sex_names, sex_of) = distinct(&registry.sex);
    let (origin_names, origin_of) = distinct(&registry.origin);
    // Snapshot texts by their id, `missing` after them.
    let texts = &registry.snapshots.texts;
    let missing_text = texts.len() as u32;
    let mut text_names: Vec<&str> = texts.iter().map(String::as_str).collect();
    text_names.push("missing");
    let text = |id: Option<TextId>| id.map_or(missing_text, |t| t.0);
    let first_month = rows.iter().map(|r| r.month).min().unwrap_or(0);
    let last_month = rows.iter().map(|r| r.month).max().unwrap_or(0);
    let month_labels: Vec<String> = (first_month..=last_month).map(month_label).collect();
    let month_names: Vec<&str> = month_labels.iter().map(String::as_str).collect();

    let mut age = Vec::with_capacity(n);
    let mut sex = Vec::with_capacity(n);
    let mut origin = Vec::with_capacity(n);
    let mut living_alone = Vec::with_capacity(n);
    let mut education = Vec::with_capacity(n);
    let mut income = Vec::with_capacity(n);
    let mut employment = Vec::with_capacity(n);
    let mut charlson = Vec::with_capacity(n);
    let mut psychiatric = Vec::with_capacity(n);
    let mut months = Vec::with_capacity(n);
    let mut treated = Vec::with_capacity(n);
    for r in rows {
        let start = month_start(r.month);
        let i = r.person as usize;
        let s = registry.snapshot(r.person, r.month.div_euclid(12) - 1);
        age.push(f64::from(start - registry.birth[i]) / 365.25);
        sex.push(sex_of[i]);
        origin.push(origin_of[i]);
        living_alone.push(yes_no(s.and_then(|s| s.living_alone)));
        education.push(text(s.and_then(|s| s.education)));
        let q = s
            .and_then(|s| s.income_quintile)
            .and_then(|q| usize::try_from(q).ok())
            .filter(|q| (1..=5).contains(q));
        income.push(q.unwrap_or(0) as u32);
        employment.push(text(s.and_then(|s| s.employment)));
        charlson.push(s.and_then(|s| s.charlson).unwrap_or(0) as f64);
        psychiatric.push(yes_no(s.and_then(|s| s.psychiatric)));
        months.push((r.month - first_month) as u32);
        treated.push(if r.treated { 1.0 } else { 0.0 });
    }
    // The prior contacts, a binary search per row and group, in parallel over the rows
    // (each value depends on its row only, so the columns are the same at any thread
    // count).
    let prior: Vec<Vec<f64>> = (0..registry.groups.len())
        .map(|g| {
            rows.par_iter()
                .map(|r| {
                    let start = month_start(r.month);
                    f64::from(registry.count_contacts(
                        g,
                        r.person,
                        start - options.prior_days,
                        start,
                    ))
                })
                .collect()
        })
        .collect();
    let mut data = DataSet::new();
    let mut push = |name: &str, column: ColumnData| {
        // Every column has one value per stacked row, so push cannot fail.
        let _ = data.push(name, column);
    };
    push("treated", ColumnData::Numeric(treated));
    push("age", ColumnData::Numeric(age));
    push("sex", categorical(&sex, &sex_names));
    push("origin", categorical(&origin, &origin_names));
    push("living_alone", categorical(&living_alone, &YES_NO));
    push("education", categorical(&education, &text_names));
    push("income_quintile", categorical(&income, &QUINTILES));
    push("employment", categorical(&employment, &text_names));
    push("charlson_index", ColumnData::Numeric(charlson));
    push(
        "psychiatric_diagnosis_5y",
        categorical(&psychiatric, &YES_NO),
    );
    for (g, values) in prior.into_iter().enumerate() {
        push(
            &format!("prior_{}", registry.groups[g].name),
            ColumnData::Numeric(values),
        );
    }
    push("index_month", categorical(&months, &month_names));
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_finder_finds_ids_in_any_order() {
        let ids: Vec<String> = ["a1", "a2", "b", "c"].map(String::from).to_vec();
        let mut finder = PersonFinder::new(&ids);
        for (id, want) in [
            ("a1", Some(0)),
            ("a1", Some(0)),
            ("a2", Some(1)),
            ("c", Some(3)),
            ("b", Some(2)),
            ("zz", None),
            ("a1", Some(0)),
            ("", None),
        ] {
            assert_eq!(finder.find(id), want, "{id}");
        }
    }

    /// Codes by index give the column that the strings themselves give, also when two
    /// indices name the same level.
    #[test]
    fn categorical_from_indices_equals_categorical_from_strings() {
        let names = ["yes", "no", "missing", "no", "unused"];
        let indices = [1, 0, 3, 1, 2, 3];
        let strings: Vec<Option<&str>> = indices.iter().map(|&i| Some(names[i])).collect();
        let indices: Vec<u32> = indices.iter().map(|&i| i as u32).collect();
        assert_eq!(
            categorical(&indices, &names),
            ColumnData::from_strings(&strings)
        );
    }
}
