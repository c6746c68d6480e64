//! The participation table of the simulation: participation frequency at the 3- and
//! 9-month questionnaires the person answered, the types of service used and the reason
//! for leaving the evaluation at 9 months.
//!
//! Its draws come from a stream of their own ([`Phase::Participation`](super::streams::Phase)),
//! so adding the table changes none of the other tables for a seed. Participation is
//! drawn independently of the survey answers: the simulated dose-response is null (a
//! change from baseline that does not depend on the participation level), which the
//! analysis's test for trend should find.

use polars::prelude::*;
use rand_chacha::ChaCha8Rng;

use super::parameters::{EXTRACT_END, WAVE_WINDOWS};
use super::streams::{bernoulli, uniform};
use crate::data::participation::{DROPOUT_REASONS, FREQUENCY_LEVELS, SERVICE_COLUMNS};

/// Shares of the participation levels (in [`FREQUENCY_LEVELS`] order) at 3 and 9 months.
const FREQUENCY_SHARES: [[f64; 5]; 2] = [
    [0.30, 0.25, 0.20, 0.10, 0.15],
    [0.25, 0.25, 0.20, 0.15, 0.15],
];
/// Share of answered questionnaires without the participation question.
const FREQUENCY_MISSING: f64 = 0.03;
/// Probability of using each type of service (in [`SERVICE_COLUMNS`] order) by 9 months.
const SERVICE_SHARES: [f64; 8] = [0.35, 0.20, 0.45, 0.15, 0.15, 0.10, 0.25, 0.05];
/// Shares of the reasons for leaving the evaluation, for persons still alive and
/// resident (in [`DROPOUT_REASONS`] order, `moved_or_died` aside).
const DROPOUT_SHARES: [f64; 5] = [0.30, 0.30, 0.30, 0.0, 0.10];

/// One participation row.
pub(super) struct ParticipationRow {
    pub(super) row: IdxSize,
    pub(super) wave: i64,
    pub(super) frequency: Option<&'static str>,
    pub(super) services: Option<[bool; 8]>,
    pub(super) dropout: Option<&'static str>,
}

fn pick(rng: &mut ChaCha8Rng, shares: &[f64]) -> usize {
    let u = uniform(rng) * shares.iter().sum::<f64>();
    let mut cumulative = 0.0;
    for (j, s) in shares.iter().enumerate() {
        cumulative += s;
        if u < cumulative {
            return j;
        }
    }
    shares.len() - 1
}

/// The rows of one referred person (row `k` of the id column): a 3-month row when they
/// answered the 3-month questionnaire; a 9-month row when their 9-month follow-up ended
/// within the extract, with participation when they answered, the services used, and
/// the reason they left when they did not answer.
pub(super) fn person_participation(
    k: usize,
    referral: i32,
    exit: i32,
    answered: [bool; 2],
    rng: &mut ChaCha8Rng,
    out: &mut Vec<ParticipationRow>,
) {
    let frequency = |rng: &mut ChaCha8Rng, w: usize| {
        let level = FREQUENCY_LEVELS[pick(rng, &FREQUENCY_SHARES[w])].0;
        (!bernoulli(rng, FREQUENCY_MISSING)).then_some(level)
    };
    if answered[0] {
        let f = frequency(rng, 0);
        out.push(ParticipationRow {
            row: k as IdxSize,
            wave: 3,
            frequency: f,
            services: None,
            dropout: None,
        });
    }
    let end_of_follow_up = referral + WAVE_WINDOWS[2].1;
    if end_of_follow_up > EXTRACT_END {
        return;
    }
    let f = if answered[1] { frequency(rng, 1) } else { None };
    let services: [bool; 8] =
        std::array::from_fn(|j| f != Some("not_yet") && bernoulli(rng, SERVICE_SHARES[j]));
    let dropout = if answered[1] {
        None
    } else if exit <= end_of_follow_up {
        Some("moved_or_died")
    } else {
        Some(DROPOUT_REASONS[pick(rng, &DROPOUT_SHARES)])
    };
    out.push(ParticipationRow {
        row: k as IdxSize,
        wave: 9,
        frequency: f,
        services: Some(services),
        dropout,
    });
}

/// The participation table in the dictionary's column order, rows in key order.
pub(super) fn participation_table(
    ids: &Series,
    rows: &[ParticipationRow],
) -> PolarsResult<DataFrame> {
    let idx = IdxCa::from_vec("person_id".into(), rows.iter().map(|r| r.row).collect());
    let mut person = ids.take(&idx)?;
    person.rename("person_id".into());
    let text = |name: &str, values: Vec<Option<&str>>| {
        StringChunked::from_iter_options(name.into(), values.into_iter())
            .into_series()
            .into_column()
    };
    let mut columns = vec![
        person.into_column(),
        Int64Chunked::from_iter_options("wave".into(), rows.iter().map(|r| Some(r.wave)))
            .into_series()
            .into_column(),
        text(
            "participation_frequency",
            rows.iter().map(|r| r.frequency).collect(),
        ),
    ];
    for (j, name) in SERVICE_COLUMNS.iter().enumerate() {
        columns.push(
            BooleanChunked::from_iter_options(
                (*name).into(),
                rows.iter().map(|r| r.services.map(|s| s[j])),
            )
            .into_series()
            .into_column(),
        );
    }
    columns.push(text(
        "dropout_reason",
        rows.iter().map(|r| r.dropout).collect(),
    ));
    DataFrame::new(rows.len(), columns)
}
