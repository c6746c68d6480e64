//! The data-generating parameters: the study's calendar, the population, selection into
//! referral, contact rates and effects, death and emigration, and the survey model.
//!
//! They sit in one place because [`super::truth`] records every one of them in
//! `truth.json`, and the table in the module documentation of [`super`] is read off
//! this file.

use crate::data::calendar::{civil_from_days, days_from_civil};
use crate::data::instruments::DK5L_DECREMENTS_MILLI;

// Calendar.
pub(super) const STUDY_START: i32 = days_from_civil(2024, 1, 1);
pub(super) const STUDY_END: i32 = days_from_civil(2025, 6, 30);
pub(super) const EXTRACT_START: i32 = days_from_civil(2023, 1, 1);
pub(super) const EXTRACT_END: i32 = days_from_civil(2026, 6, 30);
pub(super) const AGE_REFERENCE: i32 = STUDY_START;
pub(super) const SNAPSHOT_YEARS: [i32; 4] = [2022, 2023, 2024, 2025];
pub(super) const DAYS_PER_YEAR: f64 = 365.25;
pub(super) const MAX_PERSONS: usize = 99_999_999;

pub(super) const fn year_end(year: i32) -> i32 {
    days_from_civil(year, 12, 31)
}

/// Index into [`SNAPSHOT_YEARS`] of the calendar year containing `day`.
pub(super) fn snapshot_index(day: i32) -> usize {
    let (y, _, _) = civil_from_days(day);
    (y - SNAPSHOT_YEARS[0]).clamp(0, SNAPSHOT_YEARS.len() as i32 - 1) as usize
}

// Population.
/// (min age, max age, share) on 2024-01-01.
pub(super) const AGE_BANDS: [(i32, i32, f64); 10] = [
    (16, 17, 0.025),
    (18, 24, 0.11),
    (25, 34, 0.19),
    (35, 44, 0.15),
    (45, 54, 0.15),
    (55, 64, 0.14),
    (65, 74, 0.12),
    (75, 84, 0.08),
    (85, 94, 0.03),
    (95, 100, 0.005),
];
pub(super) const FEMALE_SHARE: f64 = 0.5;
pub(super) const IMMIGRANT_SHARE: f64 = 0.15;
pub(super) const DESCENDANT_SHARE_UNDER_40: f64 = 0.08;
pub(super) const DESCENDANT_SHARE_40_PLUS: f64 = 0.025;

pub(super) const COPENHAGEN: u16 = 101;
pub(super) const COPENHAGEN_SHARE: f64 = 0.6;
pub(super) const NEIGHBOURS: [u16; 16] = [
    147, 151, 153, 155, 157, 159, 161, 163, 165, 167, 169, 173, 175, 183, 185, 187,
];
pub(super) const MOVE_PROBABILITY: f64 = 0.03;
pub(super) const PRACTICE_SWITCH_PROBABILITY: f64 = 0.02;
pub(super) const PRACTICES_IN_COPENHAGEN: u16 = 40;
pub(super) const PRACTICES_PER_NEIGHBOUR: u16 = 5;
pub(super) const N_PRACTICES: u16 = PRACTICES_IN_COPENHAGEN + PRACTICES_PER_NEIGHBOUR * 16;
/// Zero-based practice numbers (practice id = number + 1) taking part in the programme.
pub(super) const PARTICIPATING: [u16; 8] = [2, 7, 11, 16, 20, 25, 32, 37];
pub(super) const PRACTICE_MISSING_RATE: f64 = 0.004;

/// (min age, max age, prevalence) of a psychiatric diagnosis in the last five years.
pub(super) const PSYCHIATRIC_PREVALENCE: [(i32, i32, f64); 4] = [
    (16, 17, 0.06),
    (18, 44, 0.10),
    (45, 69, 0.07),
    (70, 100, 0.05),
];
pub(super) const EDUCATION_MISSING_DANISH: f64 = 0.015;
pub(super) const EDUCATION_MISSING_IMMIGRANT: f64 = 0.12;
pub(super) const EDUCATION_MISSING_DESCENDANT: f64 = 0.03;
pub(super) const INCOME_MISSING_RATE: f64 = 0.01;
pub(super) const EMPLOYMENT_MISSING_RATE: f64 = 0.005;
pub(super) const LIVING_ALONE_MISSING_RATE: f64 = 0.003;
pub(super) const LIVING_ALONE_FLIP_PROBABILITY: f64 = 0.03;

pub(super) const SEX_CODES: [&str; 2] = ["F", "M"];
pub(super) const ORIGIN_CODES: [&str; 3] = ["danish", "immigrant", "descendant"];
pub(super) const EDUCATION_CODES: [&str; 4] = [
    "basic",
    "upper_secondary",
    "tertiary_short_medium",
    "tertiary_long",
];
pub(super) const EMPLOYED: u8 = 0;
pub(super) const UNEMPLOYED: u8 = 1;
pub(super) const SICK_LEAVE: u8 = 2;
pub(super) const DISABILITY_PENSION: u8 = 3;
pub(super) const RETIRED: u8 = 4;
pub(super) const STUDENT: u8 = 5;
pub(super) const OTHER: u8 = 6;
pub(super) const EMPLOYMENT_CODES: [&str; 7] = [
    "employed",
    "unemployed",
    "sick_leave",
    "disability_pension",
    "retired",
    "student",
    "other",
];
pub(super) const REFERRAL_SOURCES: [(&str, f64); 3] =
    [("gp", 0.75), ("practice_nurse", 0.18), ("other", 0.04)];

// Selection into referral (log-weight of the Efraimidis–Spirakis sample).
pub(super) const SEL_AGE_CENTRE: f64 = 50.0;
pub(super) const SEL_AGE: f64 = 0.03;
pub(super) const SEL_ALONE: f64 = 0.8;
pub(super) const SEL_DISABILITY: f64 = 1.0;
pub(super) const SEL_PSYCHIATRIC: f64 = 0.6;
pub(super) const SEL_FEMALE: f64 = 0.3;
/// Per contact of each outcome group in the 365 days before the referral month
/// (general practice, unplanned hospital, helpline), in [`GROUPS`] order.
pub(super) const SEL_PRIOR: [f64; 3] = [0.05, 0.25, 0.25];
/// Days over which prior use drives referral (those the analysis measures it over).
pub(super) const SEL_PRIOR_DAYS: i32 = 365;

pub(super) const FRAILTY_SHAPE: f64 = 2.0;

// Death and emigration.
pub(super) const GOMPERTZ_INTERCEPT: f64 = -10.5;
pub(super) const GOMPERTZ_AGE: f64 = 0.095;
pub(super) const DEATH_CHARLSON: f64 = 0.25;
pub(super) const EMIGRATION_UNDER_40: f64 = 0.010;
pub(super) const EMIGRATION_40_64: f64 = 0.004;
pub(super) const EMIGRATION_65_PLUS: f64 = 0.0015;
pub(super) const EMIGRATION_IMMIGRANT_MULTIPLIER: f64 = 2.0;

// Contacts.
pub(super) const N_TYPES: usize = 9;
pub(super) const CONTACT_TYPES: [&str; N_TYPES] = [
    "gp_consultation",
    "gp_phone",
    "gp_email",
    "gp_home_visit",
    "emergency_department",
    "acute_admission",
    "planned_admission",
    "outpatient",
    "helpline_1813",
];
/// Rank of each contact type's code in lexicographic order (the sort order of the table).
pub(super) const CONTACT_TYPE_RANK: [u8; N_TYPES] = {
    let mut rank = [0u8; N_TYPES];
    let mut i = 0;
    while i < N_TYPES {
        let mut j = 0;
        while j < N_TYPES {
            if str_less(CONTACT_TYPES[j], CONTACT_TYPES[i]) {
                rank[i] += 1;
            }
            j += 1;
        }
        i += 1;
    }
    rank
};

pub(super) const fn str_less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum OutcomeGroup {
    GeneralPractice,
    UnplannedHospital,
    Helpline,
    Other,
}

pub(super) const GROUPS: [(OutcomeGroup, &str, f64); 3] = [
    (OutcomeGroup::GeneralPractice, "general_practice", 0.85),
    (OutcomeGroup::UnplannedHospital, "unplanned_hospital", 0.90),
    (OutcomeGroup::Helpline, "helpline", 0.80),
];

pub(super) struct TypeRate {
    pub(super) group: OutcomeGroup,
    pub(super) base: f64,
    pub(super) age_per_decade: f64,
    pub(super) female: f64,
    pub(super) charlson: f64,
    pub(super) psychiatric: f64,
    pub(super) living_alone: f64,
}

pub(super) const fn rate(
    group: OutcomeGroup,
    base: f64,
    age_per_decade: f64,
    female: f64,
    charlson: f64,
    psychiatric: f64,
    living_alone: f64,
) -> TypeRate {
    TypeRate {
        group,
        base,
        age_per_decade,
        female,
        charlson,
        psychiatric,
        living_alone,
    }
}

/// Annual rate at the covariate centres and log rate ratios, in [`CONTACT_TYPES`] order.
pub(super) const TYPE_RATES: [TypeRate; N_TYPES] = {
    use OutcomeGroup::*;
    [
        rate(GeneralPractice, 4.0, 0.08, 0.25, 0.15, 0.40, 0.10),
        rate(GeneralPractice, 3.0, 0.06, 0.20, 0.12, 0.40, 0.10),
        rate(GeneralPractice, 1.5, -0.05, 0.30, 0.10, 0.30, 0.00),
        rate(GeneralPractice, 0.025, 0.70, 0.10, 0.25, 0.20, 0.30),
        rate(UnplannedHospital, 0.25, 0.08, -0.05, 0.20, 0.50, 0.20),
        rate(UnplannedHospital, 0.12, 0.20, 0.00, 0.30, 0.40, 0.20),
        rate(Other, 0.08, 0.15, 0.00, 0.25, 0.10, 0.00),
        rate(Other, 1.0, 0.10, 0.10, 0.20, 0.20, 0.00),
        rate(Helpline, 0.35, -0.10, 0.10, 0.10, 0.50, 0.30),
    ]
};
pub(super) const CENTRE_AGE: f64 = 50.0;
pub(super) const CENTRE_FEMALE: f64 = 0.5;
pub(super) const CENTRE_CHARLSON: f64 = 0.5;
pub(super) const CENTRE_PSYCHIATRIC: f64 = 0.08;
pub(super) const CENTRE_ALONE: f64 = 0.3;

pub(super) const SEASON_AMPLITUDE: f64 = 0.15;
pub(super) const SEASON_MAX: f64 = 1.0 + SEASON_AMPLITUDE;

pub(super) fn rate_ratio(group: OutcomeGroup) -> f64 {
    GROUPS
        .iter()
        .find(|(g, _, _)| *g == group)
        .map_or(1.0, |(_, _, rr)| *rr)
}

// Survey.
pub(super) const WAVES: [i64; 3] = [0, 3, 9];
/// Days after referral: (min, max) of the response date per wave.
pub(super) const WAVE_WINDOWS: [(i32, i32); 3] =
    [(0, 14), (91 - 14, 91 + 14), (274 - 21, 274 + 21)];
pub(super) const BASELINE_RESPONSE: f64 = 0.88;
pub(super) const ATTRITION_INTERCEPT: [f64; 3] = [0.0, 1.27, 0.79];
pub(super) const ATTRITION_SLOPE: f64 = 0.35;
pub(super) const ATTRITION_CENTRE: f64 = 6.0;
pub(super) const ATTRITION_NO_BASELINE: f64 = -1.0;
pub(super) const ITEM_MISSING_RATE: f64 = 0.02;

pub(super) const UCLA_TARGET: [f64; 2] = [-0.6, -0.9];
pub(super) const EQ5D_TARGET: [f64; 2] = [0.03, 0.05];
pub(super) const VAS_TARGET: [f64; 2] = [3.0, 5.0];

pub(super) const UCLA_INTERCEPT: f64 = 0.2;
pub(super) const UCLA_ALONE: f64 = 0.9;
pub(super) const UCLA_PSYCHIATRIC: f64 = 0.7;
pub(super) const UCLA_SD_PERSON: f64 = 0.8;
pub(super) const UCLA_SD_ITEM: f64 = 0.6;
pub(super) const UCLA_THRESHOLDS: [f64; 2] = [0.0, 1.3];

pub(super) const EQ_INTERCEPT: f64 = -0.3;
pub(super) const EQ_AGE: f64 = 0.03;
pub(super) const EQ_AGE_CENTRE: f64 = 50.0;
pub(super) const EQ_CHARLSON: f64 = 0.3;
pub(super) const EQ_PSYCHIATRIC: f64 = 0.3;
pub(super) const EQ_DIMENSIONS: [&str; 5] = ["mo", "sc", "ua", "pd", "ad"];
pub(super) const EQ_OFFSETS: [f64; 5] = [0.0, -0.9, 0.0, 0.4, 0.0];
pub(super) const EQ_AD_PSYCHIATRIC: f64 = 0.8;
pub(super) const EQ_SD_PERSON: f64 = 0.7;
pub(super) const EQ_SD_ITEM: f64 = 0.6;
pub(super) const EQ_THRESHOLDS: [f64; 4] = [0.0, 0.9, 1.8, 2.7];
/// Danish EQ-5D-5L value set (Jensen et al. 2021): decrements for levels 2–5 of
/// MO, SC, UA, PD, AD, taken from the scorer's table so that the true effect is defined
/// on the same scale as the scored data.
pub(super) const EQ5D5L_DK_DECREMENTS: [[f64; 4]; 5] = {
    let mut out = [[0.0; 4]; 5];
    let mut d = 0;
    while d < 5 {
        let mut l = 0;
        while l < 4 {
            out[d][l] = DK5L_DECREMENTS_MILLI[d][l + 1] as f64 / 1000.0;
            l += 1;
        }
        d += 1;
    }
    out
};

pub(super) const VAS_INTERCEPT: f64 = 70.0;
pub(super) const VAS_AGE: f64 = -0.2;
pub(super) const VAS_AGE_CENTRE: f64 = 50.0;
pub(super) const VAS_CHARLSON: f64 = -3.0;
pub(super) const VAS_PSYCHIATRIC: f64 = -6.0;
pub(super) const VAS_SD_PERSON: f64 = 12.0;
pub(super) const VAS_SD_ITEM: f64 = 8.0;
