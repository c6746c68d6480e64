//! The `participation` table: the registered secondary outcomes of NCT07029334 —
//! participation frequency (five levels, asked at 3 and 9 months), the types of service
//! used (at 9 months) and the reasons for leaving the evaluation (at 9 months). Its
//! checks beyond the dictionary's, and its rows as typed records for the analysis.

use polars::prelude::*;

use super::dictionary::{Dictionary, TableName};
use super::problems::{Problem, ProblemKind, Problems};
use super::read::TypedTable;
use super::validate::{i64_col, push_capped, str_col};

/// The participation levels, most participation first, with the score of the test for
/// trend (4 = every time … 0 = not yet): equally spaced, as the registered answers are.
pub const FREQUENCY_LEVELS: [(&str, f64); 5] = [
    ("every_time", 4.0),
    ("most_of_the_time", 3.0),
    ("sometimes", 2.0),
    ("almost_never", 1.0),
    ("not_yet", 0.0),
];

/// The service-type columns (recorded at 9 months).
pub const SERVICE_COLUMNS: [&str; 8] = [
    "service_physical_activity",
    "service_arts_culture",
    "service_social_community",
    "service_nature_outdoors",
    "service_learning",
    "service_volunteering",
    "service_advice",
    "service_other",
];

/// The reasons for leaving the evaluation (recorded at 9 months).
pub const DROPOUT_REASONS: [&str; 5] = [
    "own_health",
    "no_longer_wanted",
    "not_reached",
    "moved_or_died",
    "other",
];

/// The wave at which service types and dropout reasons are recorded.
pub const FINAL_WAVE: i64 = 9;

/// One row of the participation table, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipationRecord {
    pub person_id: String,
    pub wave: i64,
    /// Index into [`FREQUENCY_LEVELS`]; `None` when not answered.
    pub frequency: Option<usize>,
    /// One per [`SERVICE_COLUMNS`] entry.
    pub services: [Option<bool>; 8],
    /// Index into [`DROPOUT_REASONS`]; `None` for a person who stayed.
    pub dropout: Option<usize>,
}

/// The label of a code of an enumeration column of the table, from the dictionary.
pub fn code_label(column: &str, code: &str) -> String {
    Dictionary::embedded()
        .table(TableName::Participation)
        .column(column)
        .and_then(|c| c.values.iter().find(|v| v.code == code))
        .map_or_else(|| code.to_string(), |v| v.label.clone())
}

/// The label of a service column: its description after the colon, from the dictionary.
pub fn service_label(column: &str) -> String {
    Dictionary::embedded()
        .table(TableName::Participation)
        .column(column)
        .and_then(|c| c.description.split(": ").nth(1))
        .map_or_else(
            || column.to_string(),
            |d| d.trim_end_matches('.').to_string(),
        )
}

/// The rows as typed records (a table read and checked against the dictionary).
///
/// # Errors
/// A column missing or not of the dictionary's type.
pub fn participation_records(frame: &DataFrame) -> PolarsResult<Vec<ParticipationRecord>> {
    let ids = frame.column("person_id")?.str()?.clone();
    let waves = frame.column("wave")?.i64()?.clone();
    let text = |name: &str| -> PolarsResult<Option<StringChunked>> {
        match frame.column(name) {
            Ok(c) => Ok(Some(c.str()?.clone())),
            Err(_) => Ok(None),
        }
    };
    let frequency = text("participation_frequency")?;
    let dropout = text("dropout_reason")?;
    let services: Vec<Option<BooleanChunked>> = SERVICE_COLUMNS
        .iter()
        .map(|name| frame.column(name).ok().and_then(|c| c.bool().ok().cloned()))
        .collect();
    let index_of =
        |list: &[&str], code: Option<&str>| code.and_then(|c| list.iter().position(|x| *x == c));
    let levels: Vec<&str> = FREQUENCY_LEVELS.iter().map(|(c, _)| *c).collect();
    let mut out = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let (Some(id), Some(wave)) = (ids.get(i), waves.get(i)) else {
            continue;
        };
        out.push(ParticipationRecord {
            person_id: id.to_string(),
            wave,
            frequency: index_of(&levels, frequency.as_ref().and_then(|c| c.get(i))),
            services: std::array::from_fn(|j| services[j].as_ref().and_then(|c| c.get(i))),
            dropout: index_of(&DROPOUT_REASONS, dropout.as_ref().and_then(|c| c.get(i))),
        });
    }
    Ok(out)
}

/// Checks beyond the dictionary's: every person is a referred person, and service types
/// and dropout reasons are recorded at the 9-month wave only.
pub(super) fn check_participation(
    t: &TypedTable,
    referred: &PlHashMap<&str, i32>,
    problems: &mut Problems,
) {
    let (Some(ids), Some(waves)) = (str_col(&t.frame, "person_id"), i64_col(&t.frame, "wave"))
    else {
        return;
    };
    let file = &t.info.path;
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id else { continue };
        if !referred.contains_key(id) {
            push_capped(problems, ProblemKind::ParticipationNotReferred, || {
                Problem::new(file, "participation is recorded for referred persons only; this person is not in referrals")
                    .row(t.row_of(i))
                    .column("person_id")
                    .value(id)
            });
        }
        if waves.get(i).is_some_and(|w| w != FINAL_WAVE) {
            let filled = SERVICE_COLUMNS
                .iter()
                .chain(std::iter::once(&"dropout_reason"))
                .find(|name| {
                    t.frame
                        .column(name)
                        .ok()
                        .is_some_and(|c| !c.get(i).is_ok_and(|v| v.is_null()))
                });
            if let Some(name) = filled {
                push_capped(problems, ProblemKind::ParticipationWrongWave, || {
                    Problem::new(
                        file,
                        format!("{name} is recorded at the {FINAL_WAVE}-month wave only"),
                    )
                    .row(t.row_of(i))
                    .column(name)
                });
            }
        }
    }
}
