//! The registered participation outcomes: participation frequency by follow-up wave,
//! the types of service used and the reasons for leaving the evaluation (n per
//! category), and the survey changes by participation level with the test for trend.
//! Every category is a named field, present even when 0, so that `results.json` states
//! how the counts add up for the disclosure control.

use serde::Serialize;

use crate::stats::coefficient::Coefficient;

/// Persons per participation level at one wave (a count per answer, and those who did
/// not answer the question); `rows` is their sum.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FrequencyCounts {
    pub wave: i64,
    pub rows: u64,
    pub every_time: u64,
    pub most_of_the_time: u64,
    pub sometimes: u64,
    pub almost_never: u64,
    pub not_yet: u64,
    pub not_answered: u64,
}

impl FrequencyCounts {
    /// The count of level `index` (the order of `data::participation::FREQUENCY_LEVELS`).
    pub fn level(&self, index: usize) -> u64 {
        [
            self.every_time,
            self.most_of_the_time,
            self.sometimes,
            self.almost_never,
            self.not_yet,
        ][index]
    }

    pub(crate) fn level_mut(&mut self, index: usize) -> &mut u64 {
        match index {
            0 => &mut self.every_time,
            1 => &mut self.most_of_the_time,
            2 => &mut self.sometimes,
            3 => &mut self.almost_never,
            _ => &mut self.not_yet,
        }
    }
}

/// Persons using each type of service at 9 months (several per person); `persons` is
/// everyone with a 9-month row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceCounts {
    pub persons: u64,
    pub physical_activity: u64,
    pub arts_culture: u64,
    pub social_community: u64,
    pub nature_outdoors: u64,
    pub learning: u64,
    pub volunteering: u64,
    pub advice: u64,
    pub other: u64,
}

impl ServiceCounts {
    /// The count of service `index` (the order of `data::participation::SERVICE_COLUMNS`).
    pub fn service(&self, index: usize) -> u64 {
        [
            self.physical_activity,
            self.arts_culture,
            self.social_community,
            self.nature_outdoors,
            self.learning,
            self.volunteering,
            self.advice,
            self.other,
        ][index]
    }

    pub(crate) fn service_mut(&mut self, index: usize) -> &mut u64 {
        match index {
            0 => &mut self.physical_activity,
            1 => &mut self.arts_culture,
            2 => &mut self.social_community,
            3 => &mut self.nature_outdoors,
            4 => &mut self.learning,
            5 => &mut self.volunteering,
            6 => &mut self.advice,
            _ => &mut self.other,
        }
    }
}

/// Persons who left the evaluation before 9 months, by reason; `total` is their sum.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DropoutCounts {
    pub total: u64,
    pub own_health: u64,
    pub no_longer_wanted: u64,
    pub not_reached: u64,
    pub moved_or_died: u64,
    pub other: u64,
}

impl DropoutCounts {
    /// The count of reason `index` (the order of `data::participation::DROPOUT_REASONS`).
    pub fn reason(&self, index: usize) -> u64 {
        [
            self.own_health,
            self.no_longer_wanted,
            self.not_reached,
            self.moved_or_died,
            self.other,
        ][index]
    }

    pub(crate) fn reason_mut(&mut self, index: usize) -> &mut u64 {
        match index {
            0 => &mut self.own_health,
            1 => &mut self.no_longer_wanted,
            2 => &mut self.not_reached,
            3 => &mut self.moved_or_died,
            _ => &mut self.other,
        }
    }
}

/// The mean change from baseline of the persons at one participation level.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LevelChange {
    pub n: u64,
    /// `None` without persons (and in `results.json` when `n` is under the disclosure
    /// threshold); the interval also without 2 persons.
    pub mean: Option<f64>,
    pub conf_low: Option<f64>,
    pub conf_high: Option<f64>,
}

/// The mean change per participation level, every level present; `n` of the
/// dose-response is their sum.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LevelChanges {
    pub every_time: LevelChange,
    pub most_of_the_time: LevelChange,
    pub sometimes: LevelChange,
    pub almost_never: LevelChange,
    pub not_yet: LevelChange,
}

impl LevelChanges {
    /// Level `index` (the order of `data::participation::FREQUENCY_LEVELS`).
    pub fn level(&self, index: usize) -> &LevelChange {
        match index {
            0 => &self.every_time,
            1 => &self.most_of_the_time,
            2 => &self.sometimes,
            3 => &self.almost_never,
            _ => &self.not_yet,
        }
    }

    pub fn level_mut(&mut self, index: usize) -> &mut LevelChange {
        match index {
            0 => &mut self.every_time,
            1 => &mut self.most_of_the_time,
            2 => &mut self.sometimes,
            3 => &mut self.almost_never,
            _ => &mut self.not_yet,
        }
    }
}

/// A survey outcome's change from baseline at one wave by the participation level the
/// person reported at that wave, with the test for linear trend across the levels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoseResponseResult {
    /// `ucla3`, `eq5d5l_index` or `eq_vas`.
    pub outcome: String,
    pub wave: i64,
    /// Persons with a baseline score, a score at `wave` and a level at `wave`.
    pub n: u64,
    pub levels: LevelChanges,
    /// Change per level step (level score 0 = not yet … 4 = every time), t test on
    /// n − 2 df; `None` with too few persons or levels (see `not_fitted`).
    pub trend: Option<Coefficient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_fitted: Option<String>,
}

/// Everything the participation table gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParticipationResults {
    pub frequency: Vec<FrequencyCounts>,
    pub services: ServiceCounts,
    pub dropout: DropoutCounts,
    pub dose_response: Vec<DoseResponseResult>,
}
