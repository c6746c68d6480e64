//! The five extract tables as polars frames, in the dictionary's column order, with rows
//! in key order (person id, then year, wave or date).

use std::fmt::Write as _;

use polars::prelude::*;

use super::contacts::ContactColumns;
use super::parameters::*;
use super::population::{Person, YearState};
use super::survey::PromsRow;

fn date_column(name: &str, days: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), days)
        .into_date()
        .into_series()
        .into_column()
}

fn optional_date_column(name: &str, days: impl Iterator<Item = Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), days)
        .into_date()
        .into_series()
        .into_column()
}

fn string_column<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    StringChunked::from_iter_options(name.into(), values)
        .into_series()
        .into_column()
}

fn int_column(name: &str, values: impl Iterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values)
        .into_series()
        .into_column()
}

fn bool_column(name: &str, values: impl Iterator<Item = Option<bool>>) -> Column {
    BooleanChunked::from_iter_options(name.into(), values)
        .into_series()
        .into_column()
}

/// `source` rows picked by `rows`, renamed (cheap for strings: views are copied).
fn take_column(source: &Series, name: &str, rows: Vec<IdxSize>) -> PolarsResult<Column> {
    let idx = IdxCa::from_vec(name.into(), rows);
    let mut taken = source.take(&idx)?;
    taken.rename(name.into());
    Ok(taken.into_column())
}

/// Person ids `P00000001`, `P00000002`, … in row order: the column that every table
/// takes its `person_id` rows from.
pub(super) fn person_ids(n: usize) -> Series {
    let mut id_text = String::with_capacity(9 * n);
    for k in 1..=n {
        // Writing to a String cannot fail.
        let _ = write!(id_text, "P{k:08}");
    }
    StringChunked::from_iter_values(
        "person_id".into(),
        (0..n).map(|k| &id_text[9 * k..9 * k + 9]),
    )
    .into_series()
}

/// Practice ids `GP0001`, … indexed by practice number.
fn practice_ids() -> Vec<String> {
    (1..=N_PRACTICES).map(|j| format!("GP{j:04}")).collect()
}

/// `persons`: one row per person, in id order (`order[k]` has id number `k + 1`).
pub(super) fn persons_table(
    ids: &Series,
    persons: &[Person],
    order: &[u32],
) -> PolarsResult<DataFrame> {
    let n = order.len();
    let in_order = || order.iter().map(|&i| &persons[i as usize]);
    DataFrame::new(
        n,
        vec![
            ids.clone().into_column(),
            string_column(
                "sex",
                in_order().map(|p| Some(SEX_CODES[usize::from(!p.female)])),
            ),
            date_column("birth_date", in_order().map(|p| p.birth).collect()),
            string_column(
                "origin",
                in_order().map(|p| Some(ORIGIN_CODES[usize::from(p.origin)])),
            ),
            optional_date_column("death_date", in_order().map(|p| p.death)),
            optional_date_column("emigration_date", in_order().map(|p| p.emigration)),
        ],
    )
}

/// `covariates`: one row per person and snapshot year in which the person is alive and
/// resident on 31 December; values flagged missing are null.
pub(super) fn covariates_table(
    ids: &Series,
    persons: &[Person],
    order: &[u32],
) -> PolarsResult<DataFrame> {
    let n = order.len();
    let mut cov_rows: Vec<(IdxSize, usize)> = Vec::with_capacity(4 * n);
    for (k, &i) in order.iter().enumerate() {
        let p = &persons[i as usize];
        for (y, &year) in SNAPSHOT_YEARS.iter().enumerate() {
            if p.exit > year_end(year) {
                cov_rows.push((k as IdxSize, y));
            }
        }
    }
    let practice_ids = practice_ids();
    let state = |&(k, y): &(IdxSize, usize)| -> (&Person, &YearState) {
        let p = &persons[order[k as usize] as usize];
        (p, &p.years[y])
    };
    DataFrame::new(
        cov_rows.len(),
        vec![
            take_column(ids, "person_id", cov_rows.iter().map(|r| r.0).collect())?,
            int_column(
                "year",
                cov_rows
                    .iter()
                    .map(|r| Some(i64::from(SNAPSHOT_YEARS[r.1]))),
            ),
            int_column(
                "municipality_code",
                cov_rows
                    .iter()
                    .map(|r| Some(i64::from(state(r).1.municipality))),
            ),
            string_column(
                "practice_id",
                cov_rows.iter().map(|r| {
                    let s = state(r).1;
                    (!s.practice_missing).then(|| practice_ids[usize::from(s.practice)].as_str())
                }),
            ),
            bool_column(
                "living_alone",
                cov_rows.iter().map(|r| {
                    let s = state(r).1;
                    (!s.living_alone_missing).then_some(s.living_alone)
                }),
            ),
            string_column(
                "education",
                cov_rows.iter().map(|r| {
                    let p = state(r).0;
                    (!p.education_missing).then_some(EDUCATION_CODES[usize::from(p.education)])
                }),
            ),
            int_column(
                "income_quintile",
                cov_rows.iter().map(|r| {
                    let s = state(r).1;
                    (!s.income_missing).then_some(i64::from(s.income_quintile))
                }),
            ),
            string_column(
                "employment",
                cov_rows.iter().map(|r| {
                    let s = state(r).1;
                    (!s.employment_missing).then_some(EMPLOYMENT_CODES[usize::from(s.employment)])
                }),
            ),
            int_column(
                "charlson_index",
                cov_rows
                    .iter()
                    .map(|r| Some(i64::from(state(r).1.charlson))),
            ),
            bool_column(
                "psychiatric_diagnosis_5y",
                cov_rows.iter().map(|r| Some(state(r).0.psychiatric)),
            ),
        ],
    )
}

/// `referrals`: one row per referred person, with the practice of the referral year.
/// `referred` holds (person index, referral date) in id order; `rank[i]` is person
/// `i`'s row; `sources` the referral source of each.
pub(super) fn referrals_table(
    ids: &Series,
    persons: &[Person],
    rank: &[u32],
    referred: &[(usize, i32)],
    sources: &[Option<&'static str>],
) -> PolarsResult<DataFrame> {
    let practice_ids = practice_ids();
    DataFrame::new(
        referred.len(),
        vec![
            take_column(
                ids,
                "person_id",
                referred.iter().map(|&(i, _)| rank[i] as IdxSize).collect(),
            )?,
            date_column("referral_date", referred.iter().map(|&(_, r)| r).collect()),
            string_column(
                "practice_id",
                referred.iter().map(|&(i, r)| {
                    let s = &persons[i].years[snapshot_index(r)];
                    Some(practice_ids[usize::from(s.practice)].as_str())
                }),
            ),
            string_column("referral_source", sources.iter().copied()),
        ],
    )
}

/// `proms`: one row per answered questionnaire; the UCLA-20 items are never asked.
pub(super) fn proms_table(ids: &Series, proms_rows: &[PromsRow]) -> PolarsResult<DataFrame> {
    let m = proms_rows.len();
    let mut proms_columns = vec![
        take_column(ids, "person_id", proms_rows.iter().map(|r| r.row).collect())?,
        int_column("wave", proms_rows.iter().map(|r| Some(r.wave))),
        date_column("response_date", proms_rows.iter().map(|r| r.date).collect()),
    ];
    for j in 0..3 {
        proms_columns.push(int_column(
            &format!("ucla_{}", j + 1),
            proms_rows.iter().map(|r| r.ucla[j]),
        ));
    }
    for j in 1..=20 {
        proms_columns.push(
            Series::full_null(format!("ucla20_{j}").into(), m, &DataType::Int64).into_column(),
        );
    }
    for (j, dim) in EQ_DIMENSIONS.iter().enumerate() {
        proms_columns.push(int_column(
            &format!("eq5d_{dim}"),
            proms_rows.iter().map(|r| r.eq[j]),
        ));
    }
    proms_columns.push(
        Float64Chunked::from_iter_options("eq5d_vas".into(), proms_rows.iter().map(|r| r.vas))
            .into_series()
            .into_column(),
    );
    DataFrame::new(m, proms_columns)
}

/// `contacts`: one row per contact, in person, date and contact type order.
pub(super) fn contacts_table(ids: &Series, contacts: ContactColumns) -> PolarsResult<DataFrame> {
    let types =
        StringChunked::from_iter_values("contact_type".into(), CONTACT_TYPES.iter()).into_series();
    let ContactColumns { row, day, kind } = contacts;
    let n_contacts = row.len();
    DataFrame::new(
        n_contacts,
        vec![
            take_column(ids, "person_id", row)?,
            date_column("date", day),
            take_column(&types, "contact_type", kind)?,
        ],
    )
}
