//! Synthetic SHINE extracts with known true effects (`shine simulate`).
//!
//! [`simulate`] draws a population of adults around Copenhagen, selects a referred cohort
//! in a confounded way, and writes the five extract tables of the data dictionary
//! (`persons`, `covariates`, `referrals`, `contacts`, `proms`) together with a [`Truth`]
//! that records every parameter, so that an analysis can be checked against the effects
//! that generated the data.
//!
//! # Model
//!
//! *Calendar.* Referrals fall in the study period 2024-01-01 – 2025-06-30; contacts and
//! survey answers in the extract period 2023-01-01 – 2026-06-30. Everyone is alive and
//! resident on 2023-01-01; covariate snapshots exist for 2022–2025 when the person is
//! alive and resident on 31 December of the year.
//!
//! *Population.* Age 16–100 on 2024-01-01 (Danish adult age profile, 2.5 % aged 16–17),
//! sex 50/50, origin danish/immigrant/descendant ≈ 0.80/0.15/0.05, 60 % in Copenhagen
//! (101) and the rest in 16 neighbouring municipalities, 3 % moving each year. Copenhagen
//! has 40 practices (`GP0001`–`GP0040`, eight of them in the programme), every other
//! municipality five. Covariates depend on age, sex and each other; education is missing
//! for 1.5 % of people of Danish origin and 12 % of immigrants.
//!
//! *Contacts.* Person *i* has contacts of type *t* as a Poisson process with intensity
//! `λ_it(d) = base_t · exp(x_i'β_t) · u_i · s(d) · RR_t^{1[i referred, d ≥ referral]}`
//! per year, where `x_i` holds centred age on 2024-01-01 (per decade), sex, and the
//! Charlson index, psychiatric diagnosis and living alone of the 2023 snapshot;
//! `u_i ~ Gamma(shape 2, scale 1/2)` is a frailty with mean 1, and
//! `s(d) = 1 + 0.15 cos(2π (month(d) − 1) / 12)` is the seasonality (winter peak). The
//! count over each piece of at-risk time with constant intensity is drawn from a
//! Poisson distribution and the days are placed by rejection sampling on `s`, so no
//! per-day loop is needed. At-risk time ends on the day of death or emigration. The
//! effect of referral thins a referred person's contacts from the referral date on:
//! each is kept with probability `RR_t` (every rate ratio is at most 1), which gives the
//! intensity above.
//!
//! *Selection.* Each person gets a candidate referral date, uniform in the study period.
//! Persons aged ≥ 18, alive and resident on it, living in Copenhagen and listed with a
//! participating practice in the snapshots of the year before and the year of the date
//! are eligible; exactly `referred` of them are drawn without replacement with weights
//! `exp(w_i)` (Efraimidis–Spirakis keys), where `w_i` raises the odds with age, living
//! alone, disability pension (snapshot of the year before), psychiatric diagnosis,
//! female sex, and prior use: the contacts of each outcome group in the 365 days before
//! the first day of the referral month (GPs refer the patients they see often). The
//! candidate date becomes the referral date. Referred persons therefore use more
//! healthcare before referral than the pool, and a naive comparison is biased.
//!
//! Referral depends on the frailty `u_i` only through the observed prior use, which the
//! analysis measures over the same days: given the covariates and prior use, referred
//! and comparison persons have the same distribution of `u_i`, so difference-in-
//! differences after matching is unbiased. With `frailty_selection` = `a` > 0, `w_i`
//! gains `a · ln u_i`: referral then also depends on the unobserved frailty, comparison
//! persons matched on prior use have a lower frailty than the referred with the same
//! counts, their prior counts are high by chance, and their use falls afterwards
//! (regression to the mean), which biases the rate ratios towards 1 (Daw & Hatfield
//! 2018, Health Serv Res 53:4138).
//!
//! *Survey.* Referred persons answer at 0, 3 and 9 months. UCLA-3 items come from an
//! ordered-threshold model on a latent loneliness `η_i + b_i + e_ijw + δ_w`, EQ-5D-5L
//! dimensions from thresholds on a latent severity, EQ VAS from a rounded and clamped
//! normal latent. The shifts `δ_w` are found by a bracketing root search (regula falsi,
//! Illinois variant) so that the average over the referred sample of
//! `E(score | person, wave w) − E(score | person, wave 0)` equals the target change to
//! 1e-13 (expectations are analytic normal-CDF sums that integrate over the person and
//! item noise). Follow-up attrition is missing at random given the observed baseline
//! UCLA-3 total; a wave with no answer has no row.
//!
//! | parameter | value |
//! |---|---|
//! | rate ratio after referral: GP consultation, phone, e-mail, home visit | 0.85 |
//! | rate ratio: emergency department, acute admission | 0.90 |
//! | rate ratio: helpline 1813 | 0.80 |
//! | rate ratio: planned admission, outpatient | 1 |
//! | base rates per year (consultation, phone, e-mail, home visit, ED, acute, planned, outpatient, 1813) | 4, 3, 1.5, 0.025, 0.25, 0.12, 0.08, 1.0, 0.35 |
//! | frailty `u_i` | Gamma, shape 2, mean 1 |
//! | seasonality amplitude | 0.15 (peak in January) |
//! | selection log-weight | 0.03/year of age, +0.8 living alone, +1.0 disability pension, +0.6 psychiatric, +0.3 female, per prior contact +0.05 general practice, +0.25 unplanned hospital, +0.25 helpline; + `frailty_selection` · log `u_i` (default 0) |
//! | death hazard per year | `exp(−10.5 + 0.095·age + 0.25·charlson)` |
//! | emigration per year | 1 % under 40, 0.4 % 40–64, 0.15 % 65+ (× 2 for immigrants) |
//! | UCLA-3 total change at 3 / 9 months | −0.6 / −0.9 |
//! | EQ-5D-5L index (Danish value set) change at 3 / 9 months | +0.03 / +0.05 |
//! | EQ VAS change at 3 / 9 months | +3 / +5 |
//! | survey response: baseline; follow-up | 0.88; `logistic(a_w − 0.35 (UCLA-3₀ − 6))`, `a_3 = 1.27`, `a_9 = 0.79` |
//! | item non-response | 2 % per item, completely at random |
//!
//! # Reproducibility
//!
//! All randomness comes from ChaCha8 streams keyed by the seed: one stream per person and
//! phase, plus one for the id permutation. Work is split across threads by person, and
//! every table is built in a fixed order, so the output is identical for the same seed
//! whatever the number of threads.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use polars::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson, StandardNormal};
use serde::Serialize;

use super::instruments::DK5L_DECREMENTS_MILLI;

// ---------------------------------------------------------------------------------------
// Public interface
// ---------------------------------------------------------------------------------------

/// Size and seed of a simulated data set.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationConfig {
    /// Number of referred persons (the SHINE cohort had about 350).
    pub referred: usize,
    /// Number of persons who are not referred (the comparison pool).
    pub pool: usize,
    /// Seed of all random draws.
    pub seed: u64,
    /// Log-weight of referral per unit of log frailty: selection on the unobserved
    /// frailty as well as on observed prior use (0 = selection on observables only).
    pub frailty_selection: f64,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            referred: 350,
            pool: 20_000,
            seed: 1,
            frailty_selection: 0.0,
        }
    }
}

/// The five extract tables and the parameters that generated them.
#[derive(Debug, Clone)]
pub struct SimulatedExtracts {
    pub persons: DataFrame,
    pub covariates: DataFrame,
    pub referrals: DataFrame,
    pub contacts: DataFrame,
    pub proms: DataFrame,
    /// True effects and data-generating parameters (written as `truth.json`).
    pub truth: Truth,
}

/// Why a simulation could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulateError {
    /// The requested sizes cannot be simulated.
    #[error("invalid simulation settings: {0}")]
    InvalidConfig(String),
    /// Fewer persons met the referral criteria than the number to be referred.
    #[error(
        "only {eligible} of {population} simulated persons were eligible for referral \
         (adult, living in Copenhagen and listed with a participating practice), \
         but {requested} referred persons were requested; increase --pool or lower --referred"
    )]
    TooFewEligible {
        eligible: usize,
        requested: usize,
        population: usize,
    },
    /// A latent shift could not be calibrated to its target.
    #[error("could not calibrate the true survey effect for {0}")]
    Calibration(String),
    /// A distribution was given invalid parameters.
    #[error("invalid distribution parameters: {0}")]
    Distribution(String),
    /// A worker thread failed.
    #[error("a simulation worker thread panicked")]
    Worker,
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

/// The true effects and all data-generating parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Truth {
    pub seed: u64,
    pub n_referred: usize,
    pub n_pool: usize,
    /// Referral dates lie in this period.
    pub study_period: Period,
    /// Contacts and survey answers lie in this period.
    pub extract_period: Period,
    /// Calendar years with a covariate snapshot (status on 31 December).
    pub covariate_years: Vec<i32>,
    /// True rate ratio after referral, per outcome group.
    pub rate_ratios: BTreeMap<String, f64>,
    /// Contact types of each outcome group.
    pub outcome_groups: BTreeMap<String, Vec<String>>,
    /// True change from baseline in the referred sample's mean, per score and wave
    /// (months after referral).
    pub survey_changes: BTreeMap<String, BTreeMap<String, f64>>,
    pub parameters: Parameters,
}

/// A closed calendar period (ISO dates).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    pub start: String,
    pub end: String,
}

/// The data-generating parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameters {
    pub population: PopulationParameters,
    pub selection: SelectionParameters,
    pub frailty: FrailtyParameters,
    pub contact_rates: ContactRateParameters,
    pub seasonality: SeasonalityParameters,
    pub death: DeathParameters,
    pub emigration: EmigrationParameters,
    pub survey: SurveyParameters,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgeBand {
    pub min_age: i32,
    pub max_age: i32,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationParameters {
    /// Age on this date is drawn from `age_bands` (uniform within a band).
    pub age_reference_date: String,
    pub age_bands: Vec<AgeBand>,
    pub female_share: f64,
    pub immigrant_share: f64,
    pub descendant_share_under_40: f64,
    pub descendant_share_40_plus: f64,
    pub copenhagen_share: f64,
    pub neighbour_municipalities: Vec<i64>,
    pub yearly_move_probability: f64,
    pub yearly_practice_switch_probability: f64,
    pub practices_in_copenhagen: usize,
    pub practices_per_neighbour_municipality: usize,
    pub participating_practices: Vec<String>,
    pub practice_missing_rate: f64,
    pub psychiatric_diagnosis_prevalence_by_age: Vec<AgeBand>,
    pub education_missing_rate: BTreeMap<String, f64>,
    pub income_missing_rate: f64,
    pub employment_missing_rate: f64,
    pub living_alone_missing_rate: f64,
    pub referral_source_shares: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelectionParameters {
    pub eligibility: String,
    pub sampling: String,
    pub age_centre: f64,
    pub log_weight_age_per_year: f64,
    pub log_weight_living_alone: f64,
    pub log_weight_disability_pension: f64,
    pub log_weight_psychiatric_diagnosis: f64,
    pub log_weight_female: f64,
    /// Per contact of each outcome group in the 365 days before the first day of the
    /// referral month.
    pub log_weight_prior_use: BTreeMap<String, f64>,
    pub log_weight_log_frailty: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrailtyParameters {
    pub distribution: String,
    pub shape: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactRateParameters {
    pub formula: String,
    pub covariate_centres: CovariateCentres,
    pub by_type: Vec<ContactTypeRate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CovariateCentres {
    pub age: f64,
    pub female: f64,
    pub charlson_index: f64,
    pub psychiatric_diagnosis: f64,
    pub living_alone: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactTypeRate {
    pub contact_type: String,
    pub base_rate_per_year: f64,
    pub log_rate_age_per_decade: f64,
    pub log_rate_female: f64,
    pub log_rate_charlson: f64,
    pub log_rate_psychiatric: f64,
    pub log_rate_living_alone: f64,
    pub rate_ratio_after_referral: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeasonalityParameters {
    pub formula: String,
    pub amplitude: f64,
    pub peak_month: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeathParameters {
    pub formula: String,
    pub gompertz_intercept: f64,
    pub gompertz_age_slope: f64,
    pub log_hazard_charlson: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmigrationParameters {
    pub annual_rate_under_40: f64,
    pub annual_rate_40_to_64: f64,
    pub annual_rate_65_plus: f64,
    pub immigrant_multiplier: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyParameters {
    pub waves: Vec<WaveWindow>,
    pub baseline_response_probability: f64,
    pub attrition: AttritionParameters,
    pub item_missing_rate: f64,
    pub ucla3: Ucla3Parameters,
    pub eq5d5l: Eq5dParameters,
    pub eq_vas: EqVasParameters,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveWindow {
    pub wave: i64,
    pub min_days_after_referral: i32,
    pub max_days_after_referral: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttritionParameters {
    pub formula: String,
    pub intercept: BTreeMap<String, f64>,
    pub slope: f64,
    pub centre: f64,
    pub intercept_shift_without_baseline: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ucla3Parameters {
    pub formula: String,
    pub intercept: f64,
    pub living_alone: f64,
    pub psychiatric_diagnosis: f64,
    pub sd_person: f64,
    pub sd_item: f64,
    pub thresholds: Vec<f64>,
    pub latent_shift: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Eq5dParameters {
    pub formula: String,
    pub intercept: f64,
    pub age_per_year: f64,
    pub age_centre: f64,
    pub charlson: f64,
    pub psychiatric_diagnosis: f64,
    pub dimension_offsets: BTreeMap<String, f64>,
    pub anxiety_depression_psychiatric: f64,
    pub sd_person: f64,
    pub sd_item: f64,
    pub thresholds: Vec<f64>,
    pub value_set: String,
    pub latent_shift: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EqVasParameters {
    pub formula: String,
    pub intercept: f64,
    pub age_per_year: f64,
    pub age_centre: f64,
    pub charlson: f64,
    pub psychiatric_diagnosis: f64,
    pub sd_person: f64,
    pub sd_item: f64,
    pub latent_shift: BTreeMap<String, f64>,
}

/// Simulates a complete, internally consistent set of extracts.
///
/// # Errors
/// [`SimulateError::InvalidConfig`] when `referred` or `pool` is zero or the population
/// exceeds 99,999,999 persons; [`SimulateError::TooFewEligible`] when the population has
/// fewer eligible persons than `referred` (raise `pool`).
pub fn simulate(config: &SimulationConfig) -> Result<SimulatedExtracts, SimulateError> {
    simulate_with_state(config).map(|(extracts, _)| extracts)
}

// ---------------------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
const fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Completed years of age on `date` for someone born on `birth`.
fn age_on(birth: i32, date: i32) -> i32 {
    let (by, bm, bd) = civil_from_days(birth);
    let (y, m, d) = civil_from_days(date);
    y - by - i32::from((m, d) < (bm, bd))
}

fn iso_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

const STUDY_START: i32 = days_from_civil(2024, 1, 1);
const STUDY_END: i32 = days_from_civil(2025, 6, 30);
const EXTRACT_START: i32 = days_from_civil(2023, 1, 1);
const EXTRACT_END: i32 = days_from_civil(2026, 6, 30);
const AGE_REFERENCE: i32 = STUDY_START;
const SNAPSHOT_YEARS: [i32; 4] = [2022, 2023, 2024, 2025];
const DAYS_PER_YEAR: f64 = 365.25;
const MAX_PERSONS: usize = 99_999_999;

const fn year_end(year: i32) -> i32 {
    days_from_civil(year, 12, 31)
}

/// Index into [`SNAPSHOT_YEARS`] of the calendar year containing `day`.
fn snapshot_index(day: i32) -> usize {
    let (y, _, _) = civil_from_days(day);
    (y - SNAPSHOT_YEARS[0]).clamp(0, SNAPSHOT_YEARS.len() as i32 - 1) as usize
}

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

/// (min age, max age, share) on 2024-01-01.
const AGE_BANDS: [(i32, i32, f64); 10] = [
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
const FEMALE_SHARE: f64 = 0.5;
const IMMIGRANT_SHARE: f64 = 0.15;
const DESCENDANT_SHARE_UNDER_40: f64 = 0.08;
const DESCENDANT_SHARE_40_PLUS: f64 = 0.025;

const COPENHAGEN: u16 = 101;
const COPENHAGEN_SHARE: f64 = 0.6;
const NEIGHBOURS: [u16; 16] = [
    147, 151, 153, 155, 157, 159, 161, 163, 165, 167, 169, 173, 175, 183, 185, 187,
];
const MOVE_PROBABILITY: f64 = 0.03;
const PRACTICE_SWITCH_PROBABILITY: f64 = 0.02;
const PRACTICES_IN_COPENHAGEN: u16 = 40;
const PRACTICES_PER_NEIGHBOUR: u16 = 5;
const N_PRACTICES: u16 = PRACTICES_IN_COPENHAGEN + PRACTICES_PER_NEIGHBOUR * 16;
/// Zero-based practice numbers (practice id = number + 1) taking part in the programme.
const PARTICIPATING: [u16; 8] = [2, 7, 11, 16, 20, 25, 32, 37];
const PRACTICE_MISSING_RATE: f64 = 0.004;

/// (min age, max age, prevalence) of a psychiatric diagnosis in the last five years.
const PSYCHIATRIC_PREVALENCE: [(i32, i32, f64); 4] = [
    (16, 17, 0.06),
    (18, 44, 0.10),
    (45, 69, 0.07),
    (70, 100, 0.05),
];
const EDUCATION_MISSING_DANISH: f64 = 0.015;
const EDUCATION_MISSING_IMMIGRANT: f64 = 0.12;
const EDUCATION_MISSING_DESCENDANT: f64 = 0.03;
const INCOME_MISSING_RATE: f64 = 0.01;
const EMPLOYMENT_MISSING_RATE: f64 = 0.005;
const LIVING_ALONE_MISSING_RATE: f64 = 0.003;
const LIVING_ALONE_FLIP_PROBABILITY: f64 = 0.03;

const SEX_CODES: [&str; 2] = ["F", "M"];
const ORIGIN_CODES: [&str; 3] = ["danish", "immigrant", "descendant"];
const EDUCATION_CODES: [&str; 4] = [
    "basic",
    "upper_secondary",
    "tertiary_short_medium",
    "tertiary_long",
];
const EMPLOYED: u8 = 0;
const UNEMPLOYED: u8 = 1;
const SICK_LEAVE: u8 = 2;
const DISABILITY_PENSION: u8 = 3;
const RETIRED: u8 = 4;
const STUDENT: u8 = 5;
const OTHER: u8 = 6;
const EMPLOYMENT_CODES: [&str; 7] = [
    "employed",
    "unemployed",
    "sick_leave",
    "disability_pension",
    "retired",
    "student",
    "other",
];
const REFERRAL_SOURCES: [(&str, f64); 3] =
    [("gp", 0.75), ("practice_nurse", 0.18), ("other", 0.04)];

// Selection into referral (log-weight of the Efraimidis–Spirakis sample).
const SEL_AGE_CENTRE: f64 = 50.0;
const SEL_AGE: f64 = 0.03;
const SEL_ALONE: f64 = 0.8;
const SEL_DISABILITY: f64 = 1.0;
const SEL_PSYCHIATRIC: f64 = 0.6;
const SEL_FEMALE: f64 = 0.3;
/// Per contact of each outcome group in the 365 days before the referral month
/// (general practice, unplanned hospital, helpline), in [`GROUPS`] order.
const SEL_PRIOR: [f64; 3] = [0.05, 0.25, 0.25];
/// Days over which prior use drives referral (those the analysis measures it over).
const SEL_PRIOR_DAYS: i32 = 365;

const FRAILTY_SHAPE: f64 = 2.0;

// Death and emigration.
const GOMPERTZ_INTERCEPT: f64 = -10.5;
const GOMPERTZ_AGE: f64 = 0.095;
const DEATH_CHARLSON: f64 = 0.25;
const EMIGRATION_UNDER_40: f64 = 0.010;
const EMIGRATION_40_64: f64 = 0.004;
const EMIGRATION_65_PLUS: f64 = 0.0015;
const EMIGRATION_IMMIGRANT_MULTIPLIER: f64 = 2.0;

// Contacts.
const N_TYPES: usize = 9;
const CONTACT_TYPES: [&str; N_TYPES] = [
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
const CONTACT_TYPE_RANK: [u8; N_TYPES] = {
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

const fn str_less(a: &str, b: &str) -> bool {
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
enum OutcomeGroup {
    GeneralPractice,
    UnplannedHospital,
    Helpline,
    Other,
}

const GROUPS: [(OutcomeGroup, &str, f64); 3] = [
    (OutcomeGroup::GeneralPractice, "general_practice", 0.85),
    (OutcomeGroup::UnplannedHospital, "unplanned_hospital", 0.90),
    (OutcomeGroup::Helpline, "helpline", 0.80),
];

struct TypeRate {
    group: OutcomeGroup,
    base: f64,
    age_per_decade: f64,
    female: f64,
    charlson: f64,
    psychiatric: f64,
    living_alone: f64,
}

const fn rate(
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
const TYPE_RATES: [TypeRate; N_TYPES] = {
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
const CENTRE_AGE: f64 = 50.0;
const CENTRE_FEMALE: f64 = 0.5;
const CENTRE_CHARLSON: f64 = 0.5;
const CENTRE_PSYCHIATRIC: f64 = 0.08;
const CENTRE_ALONE: f64 = 0.3;

const SEASON_AMPLITUDE: f64 = 0.15;
const SEASON_MAX: f64 = 1.0 + SEASON_AMPLITUDE;

fn rate_ratio(group: OutcomeGroup) -> f64 {
    GROUPS
        .iter()
        .find(|(g, _, _)| *g == group)
        .map_or(1.0, |(_, _, rr)| *rr)
}

// Survey.
const WAVES: [i64; 3] = [0, 3, 9];
/// Days after referral: (min, max) of the response date per wave.
const WAVE_WINDOWS: [(i32, i32); 3] = [(0, 14), (91 - 14, 91 + 14), (274 - 21, 274 + 21)];
const BASELINE_RESPONSE: f64 = 0.88;
const ATTRITION_INTERCEPT: [f64; 3] = [0.0, 1.27, 0.79];
const ATTRITION_SLOPE: f64 = 0.35;
const ATTRITION_CENTRE: f64 = 6.0;
const ATTRITION_NO_BASELINE: f64 = -1.0;
const ITEM_MISSING_RATE: f64 = 0.02;

const UCLA_TARGET: [f64; 2] = [-0.6, -0.9];
const EQ5D_TARGET: [f64; 2] = [0.03, 0.05];
const VAS_TARGET: [f64; 2] = [3.0, 5.0];

const UCLA_INTERCEPT: f64 = 0.2;
const UCLA_ALONE: f64 = 0.9;
const UCLA_PSYCHIATRIC: f64 = 0.7;
const UCLA_SD_PERSON: f64 = 0.8;
const UCLA_SD_ITEM: f64 = 0.6;
const UCLA_THRESHOLDS: [f64; 2] = [0.0, 1.3];

const EQ_INTERCEPT: f64 = -0.3;
const EQ_AGE: f64 = 0.03;
const EQ_AGE_CENTRE: f64 = 50.0;
const EQ_CHARLSON: f64 = 0.3;
const EQ_PSYCHIATRIC: f64 = 0.3;
const EQ_DIMENSIONS: [&str; 5] = ["mo", "sc", "ua", "pd", "ad"];
const EQ_OFFSETS: [f64; 5] = [0.0, -0.9, 0.0, 0.4, 0.0];
const EQ_AD_PSYCHIATRIC: f64 = 0.8;
const EQ_SD_PERSON: f64 = 0.7;
const EQ_SD_ITEM: f64 = 0.6;
const EQ_THRESHOLDS: [f64; 4] = [0.0, 0.9, 1.8, 2.7];
/// Danish EQ-5D-5L value set (Jensen et al. 2021): decrements for levels 2–5 of
/// MO, SC, UA, PD, AD, taken from the scorer's table so that the true effect is defined
/// on the same scale as the scored data.
const EQ5D5L_DK_DECREMENTS: [[f64; 4]; 5] = {
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

const VAS_INTERCEPT: f64 = 70.0;
const VAS_AGE: f64 = -0.2;
const VAS_AGE_CENTRE: f64 = 50.0;
const VAS_CHARLSON: f64 = -3.0;
const VAS_PSYCHIATRIC: f64 = -6.0;
const VAS_SD_PERSON: f64 = 12.0;
const VAS_SD_ITEM: f64 = 8.0;

// ---------------------------------------------------------------------------------------
// Random streams
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Phase {
    Permutation = 0,
    Population = 1,
    Contacts = 2,
    Survey = 3,
    Effect = 4,
}

/// An independent ChaCha8 stream for one person (or the global permutation) and phase.
fn stream_rng(key: &[u8; 32], phase: Phase, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(*key);
    rng.set_stream(((phase as u64) << 40) | index as u64);
    rng
}

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    rng.random::<f64>()
}

fn bernoulli(rng: &mut ChaCha8Rng, p: f64) -> bool {
    uniform(rng) < p
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// Exp(1) draw.
fn exponential(rng: &mut ChaCha8Rng) -> f64 {
    -(1.0 - uniform(rng)).ln()
}

fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> usize {
    match Poisson::new(lambda) {
        Ok(dist) => dist.sample(rng) as usize,
        Err(_) => 0,
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Standard normal CDF.
fn phi(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

fn thread_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16)
}

/// Runs `work` on contiguous pieces of `0..n` on several threads and returns the
/// pieces' results in order; the result does not depend on the number of threads.
fn parallel_chunks<T, F>(n: usize, work: F) -> Result<Vec<T>, SimulateError>
where
    T: Send,
    F: Fn(std::ops::Range<usize>) -> T + Sync,
{
    let threads = thread_count().min(n.max(1));
    let size = n.div_ceil(threads).max(1);
    let ranges: Vec<_> = (0..threads)
        .map(|t| (t * size).min(n)..((t + 1) * size).min(n))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|range| {
                let work = &work;
                scope.spawn(move || work(range))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| SimulateError::Worker))
            .collect()
    })
}

// ---------------------------------------------------------------------------------------
// Population
// ---------------------------------------------------------------------------------------

/// Status on 31 December of a snapshot year (true values; `*_missing` masks the extract).
#[derive(Debug, Clone, Copy, Default)]
struct YearState {
    municipality: u16,
    practice: u16,
    practice_missing: bool,
    living_alone: bool,
    living_alone_missing: bool,
    employment: u8,
    employment_missing: bool,
    charlson: u8,
    income_latent: f64,
    income_missing: bool,
    income_quintile: u8,
}

#[derive(Debug, Clone)]
struct Person {
    birth: i32,
    female: bool,
    origin: u8,
    death: Option<i32>,
    emigration: Option<i32>,
    /// Day of death or emigration (`i32::MAX` if neither happens in the extract period).
    exit: i32,
    frailty: f64,
    psychiatric: bool,
    education: u8,
    education_missing: bool,
    years: [YearState; 4],
    candidate_referral: i32,
    /// Exp(1) draw of the Efraimidis–Spirakis key.
    selection_exp: f64,
    /// Contacts of each outcome group ([`GROUPS`] order) in the [`SEL_PRIOR_DAYS`]
    /// before the first day of the candidate referral's month; set with the contacts.
    prior_use: [u16; 3],
}

impl Person {
    fn age_years(&self, day: i32) -> f64 {
        f64::from(day - self.birth) / 365.2425
    }
}

fn draw_municipality(rng: &mut ChaCha8Rng, current: Option<u16>) -> u16 {
    loop {
        let m = if bernoulli(rng, COPENHAGEN_SHARE) {
            COPENHAGEN
        } else {
            NEIGHBOURS[rng.random_range(0..NEIGHBOURS.len())]
        };
        if Some(m) != current {
            return m;
        }
    }
}

fn draw_practice(rng: &mut ChaCha8Rng, municipality: u16) -> u16 {
    if municipality == COPENHAGEN {
        rng.random_range(0..PRACTICES_IN_COPENHAGEN)
    } else {
        let j = NEIGHBOURS
            .iter()
            .position(|&m| m == municipality)
            .unwrap_or(0) as u16;
        PRACTICES_IN_COPENHAGEN
            + PRACTICES_PER_NEIGHBOUR * j
            + rng.random_range(0..PRACTICES_PER_NEIGHBOUR)
    }
}

fn employment_status(age: i32, v: f64, disability: bool, charlson: u8, psychiatric: bool) -> u8 {
    if age < 18 {
        return if v < 0.9 { STUDENT } else { OTHER };
    }
    if disability && age < 67 {
        return DISABILITY_PENSION;
    }
    if age >= 67 {
        return if age < 72 && v < 0.08 {
            EMPLOYED
        } else {
            RETIRED
        };
    }
    if age >= 62 && v < 0.25 {
        return RETIRED;
    }
    let p_student = match age {
        ..=21 => 0.55,
        22..=25 => 0.40,
        26..=29 => 0.15,
        _ => 0.02,
    };
    if v < p_student {
        return STUDENT;
    }
    let w = (v - p_student) / (1.0 - p_student);
    let c = f64::from(charlson);
    let p_employed = (0.82 - 0.05 * c - if psychiatric { 0.12 } else { 0.0 }).max(0.4);
    let p_unemployed = 0.07 + if psychiatric { 0.05 } else { 0.0 };
    let p_sick = 0.04 + 0.02 * c;
    if w < p_employed {
        EMPLOYED
    } else if w < p_employed + p_unemployed {
        UNEMPLOYED
    } else if w < p_employed + p_unemployed + p_sick {
        SICK_LEAVE
    } else {
        OTHER
    }
}

fn draw_person(index: usize, key: &[u8; 32], frailty: &Gamma<f64>) -> Person {
    let mut rng = stream_rng(key, Phase::Population, index);
    let rng = &mut rng;

    let u = uniform(rng);
    let mut cumulative = 0.0;
    let mut band = AGE_BANDS[AGE_BANDS.len() - 1];
    for b in AGE_BANDS {
        cumulative += b.2;
        if u < cumulative {
            band = b;
            break;
        }
    }
    let age = rng.random_range(band.0..=band.1);
    // Exactly `age` completed years on 2024-01-01.
    let birth =
        rng.random_range(days_from_civil(2024 - age - 1, 1, 2)..=days_from_civil(2024 - age, 1, 1));
    let female = bernoulli(rng, FEMALE_SHARE);
    let u = uniform(rng);
    let descendant = if age < 40 {
        DESCENDANT_SHARE_UNDER_40
    } else {
        DESCENDANT_SHARE_40_PLUS
    };
    let origin = if u < IMMIGRANT_SHARE {
        1
    } else if u < IMMIGRANT_SHARE + descendant {
        2
    } else {
        0
    };
    let immigrant = f64::from(u8::from(origin == 1));

    let p_psych = PSYCHIATRIC_PREVALENCE
        .iter()
        .find(|(lo, hi, _)| (*lo..=*hi).contains(&age))
        .map_or(0.05, |b| b.2);
    let psychiatric = bernoulli(rng, p_psych);

    let frailty_value: f64 = frailty.sample(rng);

    // Education: ordered latent, rising in Copenhagen and falling with age.
    let start_municipality = draw_municipality(rng, None);
    let cph = f64::from(u8::from(start_municipality == COPENHAGEN));
    let z = normal(rng) + 0.4 * cph - 0.012 * f64::from(age - 45) - 0.3 * immigrant;
    let mut education = if z < -0.55 {
        0
    } else if z < 0.45 {
        1
    } else if z < 1.25 {
        2
    } else {
        3
    };
    if age < 20 {
        education = education.min(1);
    } else if age < 23 {
        education = education.min(2);
    }
    let education_missing = bernoulli(
        rng,
        match origin {
            1 => EDUCATION_MISSING_IMMIGRANT,
            2 => EDUCATION_MISSING_DESCENDANT,
            _ => EDUCATION_MISSING_DANISH,
        },
    );

    let age_2022 = f64::from(age) - 1.5;
    let charlson_mean = (-2.6 + 0.045 * (age_2022 - 20.0)).exp();
    let charlson0 = poisson(rng, charlson_mean).min(37) as u8;
    let disability = (18..=66).contains(&(age - 2))
        && bernoulli(
            rng,
            logistic(
                -3.6 + 0.35 * f64::from(charlson0)
                    + if psychiatric { 1.8 } else { 0.0 }
                    + 0.035 * f64::from(age - 45)
                    + 0.3 * immigrant,
            ),
        );
    let alone_lp = -1.5
        + 0.6 * cph
        + 0.035 * (f64::from(age) - 60.0).max(0.0)
        + if (20..35).contains(&age) { 0.5 } else { 0.0 }
        + if female && age >= 65 { 0.3 } else { 0.0 }
        + if psychiatric { 0.3 } else { 0.0 }
        - if age < 18 { 2.0 } else { 0.0 };
    let mut living_alone = bernoulli(rng, logistic(alone_lp));
    let income_person = 0.5 * (f64::from(education) - 1.2) + 0.6 * normal(rng);

    let mut years = [YearState::default(); 4];
    let mut municipality = start_municipality;
    let mut practice = draw_practice(rng, municipality);
    let mut charlson = charlson0;
    let mut v = uniform(rng);
    for (y, state) in years.iter_mut().enumerate() {
        if y > 0 {
            if bernoulli(rng, MOVE_PROBABILITY) {
                municipality = draw_municipality(rng, Some(municipality));
                practice = draw_practice(rng, municipality);
            } else if bernoulli(rng, PRACTICE_SWITCH_PROBABILITY) {
                practice = draw_practice(rng, municipality);
            }
            if bernoulli(rng, LIVING_ALONE_FLIP_PROBABILITY) {
                living_alone = !living_alone;
            }
            if bernoulli(rng, (0.15 * charlson_mean).min(0.3)) {
                charlson = charlson.saturating_add(1).min(37);
            }
            if bernoulli(rng, 0.15) {
                v = uniform(rng);
            }
        }
        let age_end = age_on(birth, year_end(SNAPSHOT_YEARS[y]));
        let employment = employment_status(age_end, v, disability, charlson, psychiatric);
        let employment_effect = match employment {
            EMPLOYED => 0.5,
            UNEMPLOYED | DISABILITY_PENSION | SICK_LEAVE => -0.8,
            RETIRED => -0.3,
            STUDENT => -1.0,
            _ => -0.5,
        };
        *state = YearState {
            municipality,
            practice,
            practice_missing: bernoulli(rng, PRACTICE_MISSING_RATE),
            living_alone,
            living_alone_missing: bernoulli(rng, LIVING_ALONE_MISSING_RATE),
            employment,
            employment_missing: bernoulli(rng, EMPLOYMENT_MISSING_RATE),
            charlson,
            income_latent: income_person + employment_effect - if living_alone { 0.5 } else { 0.0 }
                + 0.3 * normal(rng),
            income_missing: bernoulli(rng, INCOME_MISSING_RATE),
            income_quintile: 0,
        };
    }

    // Death (Gompertz from 2023-01-01) and emigration (constant hazard).
    let age0 = f64::from(EXTRACT_START - birth) / 365.2425;
    let h0 =
        (GOMPERTZ_INTERCEPT + GOMPERTZ_AGE * age0 + DEATH_CHARLSON * f64::from(charlson0)).exp();
    let t_death = (1.0 + GOMPERTZ_AGE * exponential(rng) / h0).ln() / GOMPERTZ_AGE;
    let emigration_rate = match age {
        ..=39 => EMIGRATION_UNDER_40,
        40..=64 => EMIGRATION_40_64,
        _ => EMIGRATION_65_PLUS,
    } * if origin == 1 {
        EMIGRATION_IMMIGRANT_MULTIPLIER
    } else {
        1.0
    };
    let t_emigration = exponential(rng) / emigration_rate;
    let to_day = |t: f64| -> Option<i32> {
        let d = f64::from(EXTRACT_START) + (t * 365.2425).floor();
        (d <= f64::from(EXTRACT_END)).then_some(d as i32)
    };
    let (death, emigration) = if t_death <= t_emigration {
        (to_day(t_death), None)
    } else {
        (None, to_day(t_emigration))
    };
    let exit = death.or(emigration).unwrap_or(i32::MAX);

    let candidate_referral = rng.random_range(STUDY_START..=STUDY_END);
    let selection_exp = exponential(rng);

    Person {
        birth,
        female,
        origin,
        death,
        emigration,
        exit,
        frailty: frailty_value,
        psychiatric,
        education,
        education_missing,
        years,
        candidate_referral,
        selection_exp,
        prior_use: [0; 3],
    }
}

/// Income quintile within each snapshot year, among persons present with a known income.
fn assign_income_quintiles(persons: &mut [Person]) {
    for (y, &year) in SNAPSHOT_YEARS.iter().enumerate() {
        let end = year_end(year);
        let mut present: Vec<(f64, u32)> = persons
            .iter()
            .enumerate()
            .filter(|(_, p)| p.exit > end)
            .map(|(i, p)| (p.years[y].income_latent, i as u32))
            .collect();
        present.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let n = present.len();
        for (rank, &(_, i)) in present.iter().enumerate() {
            persons[i as usize].years[y].income_quintile = (1 + 5 * rank / n.max(1)) as u8;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Selection
// ---------------------------------------------------------------------------------------

/// Whether `p` can be referred on `day` (see the module documentation).
fn eligible_on(p: &Person, day: i32) -> bool {
    let y = snapshot_index(day);
    if y == 0 || age_on(p.birth, day) < 18 || p.exit <= day {
        return false;
    }
    let (before, now) = (&p.years[y - 1], &p.years[y]);
    before.municipality == COPENHAGEN
        && now.municipality == COPENHAGEN
        && before.practice == now.practice
        && !before.practice_missing
        && !now.practice_missing
        && PARTICIPATING.contains(&now.practice)
}

/// First day of the calendar month of `day`.
fn month_start(day: i32) -> i32 {
    let (y, m, _) = civil_from_days(day);
    days_from_civil(y, m, 1)
}

/// Log-weight of referral on `day`: observed covariates, prior use of each outcome
/// group and, with `frailty_selection` > 0, the unobserved frailty.
fn selection_log_weight(p: &Person, day: i32, frailty_selection: f64) -> f64 {
    let before = &p.years[snapshot_index(day).saturating_sub(1)];
    let prior: f64 = SEL_PRIOR
        .iter()
        .zip(p.prior_use)
        .map(|(w, n)| w * f64::from(n))
        .sum();
    SEL_AGE * (p.age_years(day) - SEL_AGE_CENTRE)
        + if before.living_alone { SEL_ALONE } else { 0.0 }
        + if before.employment == DISABILITY_PENSION {
            SEL_DISABILITY
        } else {
            0.0
        }
        + if p.psychiatric { SEL_PSYCHIATRIC } else { 0.0 }
        + if p.female { SEL_FEMALE } else { 0.0 }
        + prior
        + frailty_selection * p.frailty.ln()
}

/// Indices of the referred persons: the `referred` eligible persons with the largest
/// Efraimidis–Spirakis keys `U^(1/w)`, i.e. the smallest `ln E − ln w` with `E ~ Exp(1)`.
fn select_referred(
    persons: &[Person],
    referred: usize,
    frailty_selection: f64,
) -> Result<Vec<usize>, SimulateError> {
    let mut keys: Vec<(f64, usize)> = persons
        .iter()
        .enumerate()
        .filter(|(_, p)| eligible_on(p, p.candidate_referral))
        .map(|(i, p)| {
            (
                p.selection_exp.ln()
                    - selection_log_weight(p, p.candidate_referral, frailty_selection),
                i,
            )
        })
        .collect();
    if keys.len() < referred {
        return Err(SimulateError::TooFewEligible {
            eligible: keys.len(),
            requested: referred,
            population: persons.len(),
        });
    }
    let cmp = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    if referred < keys.len() {
        keys.select_nth_unstable_by(referred, cmp);
        keys.truncate(referred);
    }
    let mut chosen: Vec<usize> = keys.into_iter().map(|(_, i)| i).collect();
    chosen.sort_unstable();
    Ok(chosen)
}

// ---------------------------------------------------------------------------------------
// Contacts
// ---------------------------------------------------------------------------------------

/// Seasonality factor per day of the extract period and its running sum.
struct Season {
    factor: Vec<f64>,
    cumulative: Vec<f64>,
}

impl Season {
    fn new() -> Self {
        let factor: Vec<f64> = (EXTRACT_START..=EXTRACT_END)
            .map(|d| {
                let (_, month, _) = civil_from_days(d);
                1.0 + SEASON_AMPLITUDE
                    * (2.0 * std::f64::consts::PI * f64::from(month - 1) / 12.0).cos()
            })
            .collect();
        let mut cumulative = Vec::with_capacity(factor.len() + 1);
        let mut sum = 0.0;
        cumulative.push(sum);
        for f in &factor {
            sum += f;
            cumulative.push(sum);
        }
        Season { factor, cumulative }
    }

    /// Sum of the seasonality factor over the days `a..=b` of the extract period.
    fn integral(&self, a: i32, b: i32) -> f64 {
        if b < a {
            return 0.0;
        }
        let (a, b) = ((a - EXTRACT_START) as usize, (b - EXTRACT_START) as usize);
        self.cumulative[b + 1] - self.cumulative[a]
    }
}

/// Annual contact rates of a person (frailty included, seasonality and effect excluded).
fn annual_rates(p: &Person) -> [f64; N_TYPES] {
    let state = &p.years[1];
    let age = (p.age_years(AGE_REFERENCE) - CENTRE_AGE) / 10.0;
    let female = f64::from(u8::from(p.female)) - CENTRE_FEMALE;
    let charlson = f64::from(state.charlson) - CENTRE_CHARLSON;
    let psychiatric = f64::from(u8::from(p.psychiatric)) - CENTRE_PSYCHIATRIC;
    let alone = f64::from(u8::from(state.living_alone)) - CENTRE_ALONE;
    let mut rates = [0.0; N_TYPES];
    for (r, t) in rates.iter_mut().zip(TYPE_RATES.iter()) {
        *r = t.base
            * (t.age_per_decade * age
                + t.female * female
                + t.charlson * charlson
                + t.psychiatric * psychiatric
                + t.living_alone * alone)
                .exp()
            * p.frailty;
    }
    rates
}

/// Contacts of one person without the effect of referral, as (day, type) in table order
/// (day, then type code). The effect is applied afterwards by [`apply_effects`].
fn person_contacts(p: &Person, season: &Season, rng: &mut ChaCha8Rng, out: &mut Vec<(i32, u8)>) {
    out.clear();
    let (start, end) = (EXTRACT_START, p.exit.min(EXTRACT_END));
    if end < start {
        return;
    }
    let rates = annual_rates(p);
    for (t, annual) in rates.iter().enumerate() {
        let intensity = annual / DAYS_PER_YEAR;
        if intensity <= 0.0 {
            continue;
        }
        let n = poisson(rng, intensity * season.integral(start, end));
        for _ in 0..n {
            loop {
                let d = rng.random_range(start..=end);
                if uniform(rng) * SEASON_MAX < season.factor[(d - EXTRACT_START) as usize] {
                    out.push((d, t as u8));
                    break;
                }
            }
        }
    }
    out.sort_unstable_by_key(|&(d, t)| (d, CONTACT_TYPE_RANK[t as usize]));
}

// The effect is applied by thinning, which needs every rate ratio to be at most 1.
const _: () = {
    let mut g = 0;
    while g < GROUPS.len() {
        assert!(GROUPS[g].2 > 0.0 && GROUPS[g].2 <= 1.0);
        g += 1;
    }
};

/// Index in [`GROUPS`] of each contact type's outcome group (`None`: not an outcome).
const TYPE_GROUP: [Option<usize>; N_TYPES] = {
    let mut out = [None; N_TYPES];
    let mut t = 0;
    while t < N_TYPES {
        let mut g = 0;
        while g < GROUPS.len() {
            if GROUPS[g].0 as u8 == TYPE_RATES[t].group as u8 {
                out[t] = Some(g);
            }
            g += 1;
        }
        t += 1;
    }
    out
};

/// Contacts of each outcome group among `contacts` in the [`SEL_PRIOR_DAYS`] before the
/// first day of the month of `candidate`.
fn prior_use(contacts: &[(i32, u8)], candidate: i32) -> [u16; 3] {
    let end = month_start(candidate);
    let mut counts = [0u16; 3];
    for &(d, t) in contacts {
        if (end - SEL_PRIOR_DAYS..end).contains(&d) {
            if let Some(g) = TYPE_GROUP[t as usize] {
                counts[g] = counts[g].saturating_add(1);
            }
        }
    }
    counts
}

/// Applies the effect of referral: each contact of a referred person on or after the
/// referral date is kept with probability equal to its type's rate ratio, which thins
/// the Poisson process to intensity `λ · RR` from the referral date on (every rate
/// ratio is at most 1). `referral_by_row[k]` is the (person, referral date) of the
/// person with row number `k`, for referred persons.
fn apply_effects(
    cols: &mut ContactColumns,
    referral_by_row: &[Option<(usize, i32)>],
    key: &[u8; 32],
) {
    let mut write = 0;
    let mut current: Option<(IdxSize, i32, ChaCha8Rng)> = None;
    for read in 0..cols.row.len() {
        let k = cols.row[read];
        if current.as_ref().is_none_or(|c| c.0 != k) {
            current =
                referral_by_row[k as usize].map(|(i, r)| (k, r, stream_rng(key, Phase::Effect, i)));
        }
        let keep = match current.as_mut() {
            Some((_, r, rng)) if cols.day[read] >= *r => {
                let effect = rate_ratio(TYPE_RATES[cols.kind[read] as usize].group);
                effect >= 1.0 || uniform(rng) < effect
            }
            _ => true,
        };
        if keep {
            cols.row[write] = cols.row[read];
            cols.day[write] = cols.day[read];
            cols.kind[write] = cols.kind[read];
            write += 1;
        }
    }
    cols.row.truncate(write);
    cols.day.truncate(write);
    cols.kind.truncate(write);
}

struct ContactColumns {
    row: Vec<IdxSize>,
    day: Vec<i32>,
    kind: Vec<IdxSize>,
}

/// Contacts of everyone without the effect of referral, with row `k` for the person
/// `order[k]`, and each person's prior use (by row) at their candidate referral date.
fn simulate_contacts(
    persons: &[Person],
    order: &[u32],
    key: &[u8; 32],
) -> Result<(ContactColumns, Vec<[u16; 3]>), SimulateError> {
    let season = Season::new();
    let pieces = parallel_chunks(order.len(), |range| {
        let mut cols = ContactColumns {
            row: Vec::with_capacity(range.len() * 40),
            day: Vec::with_capacity(range.len() * 40),
            kind: Vec::with_capacity(range.len() * 40),
        };
        let mut prior = Vec::with_capacity(range.len());
        let mut buffer = Vec::new();
        for k in range {
            let i = order[k] as usize;
            let mut rng = stream_rng(key, Phase::Contacts, i);
            person_contacts(&persons[i], &season, &mut rng, &mut buffer);
            prior.push(prior_use(&buffer, persons[i].candidate_referral));
            for &(d, t) in &buffer {
                cols.row.push(k as IdxSize);
                cols.day.push(d);
                cols.kind.push(IdxSize::from(t));
            }
        }
        (cols, prior)
    })?;
    let (pieces, priors): (Vec<ContactColumns>, Vec<Vec<[u16; 3]>>) = pieces.into_iter().unzip();
    // Grow the first piece in place (a large reallocation is remapped, not copied) and
    // free every other piece once appended, to keep the peak memory low.
    let mut pieces = pieces.into_iter();
    let mut all = pieces.next().unwrap_or(ContactColumns {
        row: Vec::new(),
        day: Vec::new(),
        kind: Vec::new(),
    });
    for piece in pieces {
        all.row.extend_from_slice(&piece.row);
        all.day.extend_from_slice(&piece.day);
        all.kind.extend_from_slice(&piece.kind);
    }
    all.row.shrink_to_fit();
    all.day.shrink_to_fit();
    all.kind.shrink_to_fit();
    Ok((all, priors.concat()))
}

// ---------------------------------------------------------------------------------------
// Survey
// ---------------------------------------------------------------------------------------

/// Person-level means of the survey latents (before random effects and wave shifts).
#[derive(Debug, Clone, Copy)]
struct SurveyMeans {
    ucla: f64,
    eq: [f64; 5],
    vas: f64,
}

fn survey_means(p: &Person, referral: i32) -> SurveyMeans {
    let before = &p.years[snapshot_index(referral).saturating_sub(1)];
    let psych = f64::from(u8::from(p.psychiatric));
    let alone = f64::from(u8::from(before.living_alone));
    let charlson = f64::from(before.charlson);
    let age = p.age_years(referral);
    let theta = EQ_INTERCEPT
        + EQ_AGE * (age - EQ_AGE_CENTRE)
        + EQ_CHARLSON * charlson
        + EQ_PSYCHIATRIC * psych;
    let mut eq = [0.0; 5];
    for (j, m) in eq.iter_mut().enumerate() {
        *m = theta
            + EQ_OFFSETS[j]
            + if j == 4 {
                EQ_AD_PSYCHIATRIC * psych
            } else {
                0.0
            };
    }
    SurveyMeans {
        ucla: UCLA_INTERCEPT + UCLA_ALONE * alone + UCLA_PSYCHIATRIC * psych,
        eq,
        vas: VAS_INTERCEPT
            + VAS_AGE * (age - VAS_AGE_CENTRE)
            + VAS_CHARLSON * charlson
            + VAS_PSYCHIATRIC * psych,
    }
}

fn ucla_sd() -> f64 {
    UCLA_SD_PERSON.hypot(UCLA_SD_ITEM)
}
fn eq_sd() -> f64 {
    EQ_SD_PERSON.hypot(EQ_SD_ITEM)
}
fn vas_sd() -> f64 {
    VAS_SD_PERSON.hypot(VAS_SD_ITEM)
}

/// E(UCLA-3 total | latent mean `m`), integrating over person and item noise.
fn expected_ucla_total(m: f64) -> f64 {
    let s = ucla_sd();
    3.0 * (1.0
        + UCLA_THRESHOLDS
            .iter()
            .map(|t| phi((m - t) / s))
            .sum::<f64>())
}

/// E(EQ-5D-5L index | latent means of the five dimensions), Danish value set.
fn expected_eq5d_index(means: &[f64; 5]) -> f64 {
    let s = eq_sd();
    let mut decrement = 0.0;
    for (m, dec) in means.iter().zip(EQ5D5L_DK_DECREMENTS.iter()) {
        // P(level ≥ l) for l = 2..5, then P(level = l).
        let at_least: [f64; 4] = std::array::from_fn(|k| phi((m - EQ_THRESHOLDS[k]) / s));
        for l in 0..4 {
            let next = if l < 3 { at_least[l + 1] } else { 0.0 };
            decrement += dec[l] * (at_least[l] - next);
        }
    }
    1.0 - decrement
}

/// E(round(clamp(X, 0, 100))) for X ~ N(m, s²): Σ_{k=1}^{100} P(X ≥ k − ½).
fn expected_vas(m: f64) -> f64 {
    let s = vas_sd();
    (1..=100)
        .map(|k| 1.0 - phi((f64::from(k) - 0.5 - m) / s))
        .sum()
}

/// Latent shift δ with `f(δ) = target` for a monotone `f` on `[−bound, bound]`: the
/// Illinois variant of regula falsi (keeps a sign-changing bracket like bisection, but
/// converges superlinearly, so a large referred sample stays cheap).
fn calibrate_shift<F>(what: &str, target: f64, bound: f64, f: F) -> Result<f64, SimulateError>
where
    F: Fn(f64) -> f64,
{
    let failed = || SimulateError::Calibration(what.to_string());
    let g = |delta: f64| f(delta) - target;
    let (mut a, mut b) = (-bound, bound);
    let (mut ga, mut gb) = (g(a), g(b));
    if !(ga.is_finite() && gb.is_finite()) || ga.signum() == gb.signum() {
        return Err(failed());
    }
    let mut side = 0i8;
    for _ in 0..200 {
        let c = (a * gb - b * ga) / (gb - ga);
        let gc = g(c);
        if !gc.is_finite() {
            return Err(failed());
        }
        if gc.abs() <= 1e-13 || (b - a).abs() <= 4.0 * f64::EPSILON * c.abs().max(1.0) {
            return if gc.abs() <= 1e-10 {
                Ok(c)
            } else {
                Err(failed())
            };
        }
        if gc.signum() == gb.signum() {
            b = c;
            gb = gc;
            if side == -1 {
                ga *= 0.5;
            }
            side = -1;
        } else {
            a = c;
            ga = gc;
            if side == 1 {
                gb *= 0.5;
            }
            side = 1;
        }
    }
    Err(failed())
}

/// Expected score of one person given the latent shift.
fn expected_score(m: &SurveyMeans, delta: f64, score: Score) -> f64 {
    match score {
        Score::Ucla => expected_ucla_total(m.ucla + delta),
        Score::Eq5d => expected_eq5d_index(&m.eq.map(|x| x + delta)),
        Score::Vas => expected_vas(m.vas + delta),
    }
}

/// Average over the referred sample of E(score | person, shift δ) − E(score | person,
/// wave 0); `baseline` holds the wave-0 expectations.
fn average_change(means: &[SurveyMeans], baseline: &[f64], delta: f64, score: Score) -> f64 {
    if means.is_empty() {
        return 0.0;
    }
    let sum: f64 = means
        .iter()
        .zip(baseline)
        .map(|(m, base)| expected_score(m, delta, score) - base)
        .sum();
    sum / means.len() as f64
}

#[derive(Clone, Copy)]
enum Score {
    Ucla,
    Eq5d,
    Vas,
}

/// Latent shifts at waves 3 and 9 (wave 0 has no shift).
#[derive(Debug, Clone, Copy)]
struct Shifts {
    ucla: [f64; 2],
    eq: [f64; 2],
    vas: [f64; 2],
}

fn calibrate_shifts(means: &[SurveyMeans]) -> Result<Shifts, SimulateError> {
    let mut shifts = Shifts {
        ucla: [0.0; 2],
        eq: [0.0; 2],
        vas: [0.0; 2],
    };
    let baseline = |score: Score| -> Vec<f64> {
        means
            .iter()
            .map(|m| expected_score(m, 0.0, score))
            .collect()
    };
    let (ucla0, eq0, vas0) = (
        baseline(Score::Ucla),
        baseline(Score::Eq5d),
        baseline(Score::Vas),
    );
    for w in 0..2 {
        shifts.ucla[w] = calibrate_shift("ucla3", UCLA_TARGET[w], 10.0, |d| {
            average_change(means, &ucla0, d, Score::Ucla)
        })?;
        shifts.eq[w] = calibrate_shift("eq5d5l_index", EQ5D_TARGET[w], 10.0, |d| {
            average_change(means, &eq0, d, Score::Eq5d)
        })?;
        shifts.vas[w] = calibrate_shift("eq_vas", VAS_TARGET[w], 100.0, |d| {
            average_change(means, &vas0, d, Score::Vas)
        })?;
    }
    Ok(shifts)
}

/// One answered questionnaire.
struct PromsRow {
    row: IdxSize,
    wave: i64,
    date: i32,
    ucla: [Option<i64>; 3],
    eq: [Option<i64>; 5],
    vas: Option<f64>,
}

fn ordinal(latent: f64, thresholds: &[f64]) -> i64 {
    1 + thresholds.iter().filter(|&&t| latent > t).count() as i64
}

/// Referral source and questionnaires of one referred person.
fn person_survey(
    k: usize,
    referral: i32,
    exit: i32,
    means: &SurveyMeans,
    shifts: &Shifts,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<PromsRow>,
) -> Option<&'static str> {
    let u = uniform(rng);
    let mut cumulative = 0.0;
    let mut source = None;
    for (code, share) in REFERRAL_SOURCES {
        cumulative += share;
        if u < cumulative {
            source = Some(code);
            break;
        }
    }

    let b = UCLA_SD_PERSON * normal(rng);
    let c = EQ_SD_PERSON * normal(rng);
    let d = VAS_SD_PERSON * normal(rng);
    let mut baseline_total: Option<f64> = None;
    for (w, &wave) in WAVES.iter().enumerate() {
        let (ucla_shift, eq_shift, vas_shift) = if w == 0 {
            (0.0, 0.0, 0.0)
        } else {
            (shifts.ucla[w - 1], shifts.eq[w - 1], shifts.vas[w - 1])
        };
        let ucla: [i64; 3] = std::array::from_fn(|_| {
            ordinal(
                means.ucla + b + UCLA_SD_ITEM * normal(rng) + ucla_shift,
                &UCLA_THRESHOLDS,
            )
        });
        let eq: [i64; 5] = std::array::from_fn(|j| {
            ordinal(
                means.eq[j] + c + EQ_SD_ITEM * normal(rng) + eq_shift,
                &EQ_THRESHOLDS,
            )
        });
        let vas = (means.vas + d + VAS_SD_ITEM * normal(rng) + vas_shift)
            .round()
            .clamp(0.0, 100.0);
        let missing: [bool; 9] = std::array::from_fn(|_| bernoulli(rng, ITEM_MISSING_RATE));
        let (lo, hi) = WAVE_WINDOWS[w];
        let date = referral + rng.random_range(lo..=hi);
        let p_respond = if w == 0 {
            BASELINE_RESPONSE
        } else {
            match baseline_total {
                Some(total) => {
                    logistic(ATTRITION_INTERCEPT[w] - ATTRITION_SLOPE * (total - ATTRITION_CENTRE))
                }
                None => logistic(ATTRITION_INTERCEPT[w] + ATTRITION_NO_BASELINE),
            }
        };
        let responds = bernoulli(rng, p_respond) && date < exit && date <= EXTRACT_END;
        if !responds {
            continue;
        }
        let ucla: [Option<i64>; 3] = std::array::from_fn(|j| (!missing[j]).then_some(ucla[j]));
        let eq: [Option<i64>; 5] = std::array::from_fn(|j| (!missing[3 + j]).then_some(eq[j]));
        if w == 0 {
            // Observed baseline total, prorated when one item is missing.
            let answered: Vec<i64> = ucla.iter().flatten().copied().collect();
            if answered.len() >= 2 {
                baseline_total =
                    Some(answered.iter().sum::<i64>() as f64 * 3.0 / answered.len() as f64);
            }
        }
        out.push(PromsRow {
            row: k as IdxSize,
            wave,
            date,
            ucla,
            eq,
            vas: (!missing[8]).then_some(vas),
        });
    }
    source
}

// ---------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------

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
fn take_column(source: &Series, name: &str, rows: Vec<IdxSize>) -> Result<Column, SimulateError> {
    let idx = IdxCa::from_vec(name.into(), rows);
    let mut taken = source.take(&idx)?;
    taken.rename(name.into());
    Ok(taken.into_column())
}

#[cfg_attr(not(test), allow(dead_code))]
struct Internals {
    persons: Vec<Person>,
    /// `order[k]` is the person with person id number `k + 1`.
    order: Vec<u32>,
    /// (person index, referral date) in id order.
    referred: Vec<(usize, i32)>,
    means: Vec<SurveyMeans>,
    shifts: Shifts,
}

fn simulate_with_state(
    config: &SimulationConfig,
) -> Result<(SimulatedExtracts, Internals), SimulateError> {
    if config.referred == 0 {
        return Err(SimulateError::InvalidConfig(
            "the number of referred persons must be at least 1".into(),
        ));
    }
    if config.pool == 0 {
        return Err(SimulateError::InvalidConfig(
            "the comparison pool must hold at least 1 person".into(),
        ));
    }
    if !config.frailty_selection.is_finite() || config.frailty_selection.abs() > 10.0 {
        return Err(SimulateError::InvalidConfig(format!(
            "the frailty selection weight must be between -10 and 10, got {}",
            config.frailty_selection
        )));
    }
    let n = config
        .referred
        .checked_add(config.pool)
        .filter(|&n| n <= MAX_PERSONS)
        .ok_or_else(|| {
            SimulateError::InvalidConfig(format!(
                "referred + pool must be at most {MAX_PERSONS} (person ids have 8 digits)"
            ))
        })?;

    let key = ChaCha8Rng::seed_from_u64(config.seed).get_seed();
    let frailty = Gamma::new(FRAILTY_SHAPE, 1.0 / FRAILTY_SHAPE)
        .map_err(|e| SimulateError::Distribution(e.to_string()))?;

    // Population.
    let mut persons: Vec<Person> = parallel_chunks(n, |range| {
        range
            .map(|i| draw_person(i, &key, &frailty))
            .collect::<Vec<_>>()
    })?
    .into_iter()
    .flatten()
    .collect();
    assign_income_quintiles(&mut persons);

    // Person ids in random order.
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut rng = stream_rng(&key, Phase::Permutation, 0);
    for j in (1..n).rev() {
        order.swap(j, rng.random_range(0..=j));
    }
    let mut rank = vec![0u32; n];
    for (k, &i) in order.iter().enumerate() {
        rank[i as usize] = k as u32;
    }

    // Contacts without the effect of referral, and prior use at the candidate dates.
    let (mut contacts, prior) = simulate_contacts(&persons, &order, &key)?;
    for (k, counts) in prior.into_iter().enumerate() {
        persons[order[k] as usize].prior_use = counts;
    }

    // Referral.
    let mut chosen = select_referred(&persons, config.referred, config.frailty_selection)?;
    chosen.sort_unstable_by_key(|&i| rank[i]);
    let referred: Vec<(usize, i32)> = chosen
        .iter()
        .map(|&i| (i, persons[i].candidate_referral))
        .collect();

    // Survey: calibrate the true effects on this referred sample, then draw answers.
    let means: Vec<SurveyMeans> = referred
        .iter()
        .map(|&(i, r)| survey_means(&persons[i], r))
        .collect();
    let shifts = calibrate_shifts(&means)?;
    let mut proms_rows = Vec::with_capacity(referred.len() * 3);
    let mut sources = Vec::with_capacity(referred.len());
    for (&(i, r), m) in referred.iter().zip(&means) {
        let mut rng = stream_rng(&key, Phase::Survey, i);
        sources.push(person_survey(
            rank[i] as usize,
            r,
            persons[i].exit,
            m,
            &shifts,
            &mut rng,
            &mut proms_rows,
        ));
    }

    let mut referral_by_row = vec![None; n];
    for &(i, r) in &referred {
        referral_by_row[rank[i] as usize] = Some((i, r));
    }
    apply_effects(&mut contacts, &referral_by_row, &key);
    drop(referral_by_row);

    // persons
    let mut id_text = String::with_capacity(9 * n);
    for k in 1..=n {
        // Writing to a String cannot fail.
        let _ = write!(id_text, "P{k:08}");
    }
    let ids = StringChunked::from_iter_values(
        "person_id".into(),
        (0..n).map(|k| &id_text[9 * k..9 * k + 9]),
    )
    .into_series();
    drop(id_text);
    let in_order = || order.iter().map(|&i| &persons[i as usize]);
    let persons_df = DataFrame::new(
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
    )?;

    // covariates
    let mut cov_rows: Vec<(IdxSize, usize)> = Vec::with_capacity(4 * n);
    for (k, &i) in order.iter().enumerate() {
        let p = &persons[i as usize];
        for (y, &year) in SNAPSHOT_YEARS.iter().enumerate() {
            if p.exit > year_end(year) {
                cov_rows.push((k as IdxSize, y));
            }
        }
    }
    let practice_ids: Vec<String> = (1..=N_PRACTICES).map(|j| format!("GP{j:04}")).collect();
    let state = |&(k, y): &(IdxSize, usize)| -> (&Person, &YearState) {
        let p = &persons[order[k as usize] as usize];
        (p, &p.years[y])
    };
    let covariates_df = DataFrame::new(
        cov_rows.len(),
        vec![
            take_column(&ids, "person_id", cov_rows.iter().map(|r| r.0).collect())?,
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
    )?;
    drop(cov_rows);

    // referrals
    let referrals_df = DataFrame::new(
        referred.len(),
        vec![
            take_column(
                &ids,
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
    )?;

    // proms
    let m = proms_rows.len();
    let mut proms_columns = vec![
        take_column(
            &ids,
            "person_id",
            proms_rows.iter().map(|r| r.row).collect(),
        )?,
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
    let proms_df = DataFrame::new(m, proms_columns)?;

    // contacts
    let types =
        StringChunked::from_iter_values("contact_type".into(), CONTACT_TYPES.iter()).into_series();
    let ContactColumns { row, day, kind } = contacts;
    let n_contacts = row.len();
    let contacts_df = DataFrame::new(
        n_contacts,
        vec![
            take_column(&ids, "person_id", row)?,
            date_column("date", day),
            take_column(&types, "contact_type", kind)?,
        ],
    )?;

    let truth = build_truth(config, &shifts);
    let extracts = SimulatedExtracts {
        persons: persons_df,
        covariates: covariates_df,
        referrals: referrals_df,
        contacts: contacts_df,
        proms: proms_df,
        truth,
    };
    Ok((
        extracts,
        Internals {
            persons,
            order,
            referred,
            means,
            shifts,
        },
    ))
}

// ---------------------------------------------------------------------------------------
// Truth
// ---------------------------------------------------------------------------------------

fn by_wave(values: [f64; 2]) -> BTreeMap<String, f64> {
    BTreeMap::from([("3".to_string(), values[0]), ("9".to_string(), values[1])])
}

fn build_truth(config: &SimulationConfig, shifts: &Shifts) -> Truth {
    let period = |a: i32, b: i32| Period {
        start: iso_date(a),
        end: iso_date(b),
    };
    let group_name = |g: OutcomeGroup| GROUPS.iter().find(|x| x.0 == g).map(|x| x.1);
    let mut outcome_groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (t, r) in CONTACT_TYPES.iter().zip(TYPE_RATES.iter()) {
        if let Some(name) = group_name(r.group) {
            outcome_groups
                .entry(name.to_string())
                .or_default()
                .push((*t).to_string());
        }
    }
    let bands = |b: &[(i32, i32, f64)]| -> Vec<AgeBand> {
        b.iter()
            .map(|&(min_age, max_age, share)| AgeBand {
                min_age,
                max_age,
                share,
            })
            .collect()
    };
    Truth {
        seed: config.seed,
        n_referred: config.referred,
        n_pool: config.pool,
        study_period: period(STUDY_START, STUDY_END),
        extract_period: period(EXTRACT_START, EXTRACT_END),
        covariate_years: SNAPSHOT_YEARS.to_vec(),
        rate_ratios: GROUPS
            .iter()
            .map(|&(_, name, rr)| (name.to_string(), rr))
            .collect(),
        outcome_groups,
        survey_changes: BTreeMap::from([
            ("ucla3".to_string(), by_wave(UCLA_TARGET)),
            ("eq5d5l_index".to_string(), by_wave(EQ5D_TARGET)),
            ("eq_vas".to_string(), by_wave(VAS_TARGET)),
        ]),
        parameters: Parameters {
            population: PopulationParameters {
                age_reference_date: iso_date(AGE_REFERENCE),
                age_bands: bands(&AGE_BANDS),
                female_share: FEMALE_SHARE,
                immigrant_share: IMMIGRANT_SHARE,
                descendant_share_under_40: DESCENDANT_SHARE_UNDER_40,
                descendant_share_40_plus: DESCENDANT_SHARE_40_PLUS,
                copenhagen_share: COPENHAGEN_SHARE,
                neighbour_municipalities: NEIGHBOURS.iter().map(|&m| i64::from(m)).collect(),
                yearly_move_probability: MOVE_PROBABILITY,
                yearly_practice_switch_probability: PRACTICE_SWITCH_PROBABILITY,
                practices_in_copenhagen: usize::from(PRACTICES_IN_COPENHAGEN),
                practices_per_neighbour_municipality: usize::from(PRACTICES_PER_NEIGHBOUR),
                participating_practices: PARTICIPATING
                    .iter()
                    .map(|j| format!("GP{:04}", j + 1))
                    .collect(),
                practice_missing_rate: PRACTICE_MISSING_RATE,
                psychiatric_diagnosis_prevalence_by_age: bands(&PSYCHIATRIC_PREVALENCE),
                education_missing_rate: BTreeMap::from([
                    ("danish".to_string(), EDUCATION_MISSING_DANISH),
                    ("immigrant".to_string(), EDUCATION_MISSING_IMMIGRANT),
                    ("descendant".to_string(), EDUCATION_MISSING_DESCENDANT),
                ]),
                income_missing_rate: INCOME_MISSING_RATE,
                employment_missing_rate: EMPLOYMENT_MISSING_RATE,
                living_alone_missing_rate: LIVING_ALONE_MISSING_RATE,
                referral_source_shares: REFERRAL_SOURCES
                    .iter()
                    .map(|&(c, s)| (c.to_string(), s))
                    .collect(),
            },
            selection: SelectionParameters {
                eligibility: "aged >= 18, alive and resident on a candidate referral date drawn \
                              uniformly in the study period; living in municipality 101 and \
                              listed with the same participating practice in the snapshots of \
                              the year before and the year of that date"
                    .into(),
                sampling: "weighted sampling without replacement of exactly n_referred eligible \
                           persons (Efraimidis-Spirakis keys U^(1/w), w = exp(log-weight)); \
                           covariates from the snapshot of the year before the referral"
                    .into(),
                age_centre: SEL_AGE_CENTRE,
                log_weight_age_per_year: SEL_AGE,
                log_weight_living_alone: SEL_ALONE,
                log_weight_disability_pension: SEL_DISABILITY,
                log_weight_psychiatric_diagnosis: SEL_PSYCHIATRIC,
                log_weight_female: SEL_FEMALE,
                log_weight_prior_use: GROUPS
                    .iter()
                    .zip(SEL_PRIOR)
                    .map(|((_, name, _), w)| ((*name).to_string(), w))
                    .collect(),
                log_weight_log_frailty: config.frailty_selection,
            },
            frailty: FrailtyParameters {
                distribution: "gamma".into(),
                shape: FRAILTY_SHAPE,
                mean: 1.0,
            },
            contact_rates: ContactRateParameters {
                formula: "rate per year = base * exp(age_per_decade*(age-centre)/10 + \
                          female*(female-centre) + charlson*(charlson-centre) + \
                          psychiatric*(psychiatric-centre) + living_alone*(living_alone-centre)) \
                          * frailty * seasonality * rate_ratio^(referred and date >= referral); \
                          age on 2024-01-01, covariates of the 2023 snapshot"
                    .into(),
                covariate_centres: CovariateCentres {
                    age: CENTRE_AGE,
                    female: CENTRE_FEMALE,
                    charlson_index: CENTRE_CHARLSON,
                    psychiatric_diagnosis: CENTRE_PSYCHIATRIC,
                    living_alone: CENTRE_ALONE,
                },
                by_type: CONTACT_TYPES
                    .iter()
                    .zip(TYPE_RATES.iter())
                    .map(|(t, r)| ContactTypeRate {
                        contact_type: (*t).to_string(),
                        base_rate_per_year: r.base,
                        log_rate_age_per_decade: r.age_per_decade,
                        log_rate_female: r.female,
                        log_rate_charlson: r.charlson,
                        log_rate_psychiatric: r.psychiatric,
                        log_rate_living_alone: r.living_alone,
                        rate_ratio_after_referral: rate_ratio(r.group),
                    })
                    .collect(),
            },
            seasonality: SeasonalityParameters {
                formula: "1 + amplitude * cos(2*pi*(month - 1)/12)".into(),
                amplitude: SEASON_AMPLITUDE,
                peak_month: 1,
            },
            death: DeathParameters {
                formula: "hazard per year = exp(intercept + age_slope*age + \
                          charlson*charlson_2022), from 2023-01-01"
                    .into(),
                gompertz_intercept: GOMPERTZ_INTERCEPT,
                gompertz_age_slope: GOMPERTZ_AGE,
                log_hazard_charlson: DEATH_CHARLSON,
            },
            emigration: EmigrationParameters {
                annual_rate_under_40: EMIGRATION_UNDER_40,
                annual_rate_40_to_64: EMIGRATION_40_64,
                annual_rate_65_plus: EMIGRATION_65_PLUS,
                immigrant_multiplier: EMIGRATION_IMMIGRANT_MULTIPLIER,
            },
            survey: SurveyParameters {
                waves: WAVES
                    .iter()
                    .zip(WAVE_WINDOWS.iter())
                    .map(|(&wave, &(lo, hi))| WaveWindow {
                        wave,
                        min_days_after_referral: lo,
                        max_days_after_referral: hi,
                    })
                    .collect(),
                baseline_response_probability: BASELINE_RESPONSE,
                attrition: AttritionParameters {
                    formula: "P(respond at wave w) = logistic(intercept_w - slope*(T0 - centre)), \
                              T0 = observed baseline UCLA-3 total (prorated with one missing \
                              item); without it logistic(intercept_w + \
                              intercept_shift_without_baseline)"
                        .into(),
                    intercept: by_wave([ATTRITION_INTERCEPT[1], ATTRITION_INTERCEPT[2]]),
                    slope: ATTRITION_SLOPE,
                    centre: ATTRITION_CENTRE,
                    intercept_shift_without_baseline: ATTRITION_NO_BASELINE,
                },
                item_missing_rate: ITEM_MISSING_RATE,
                ucla3: Ucla3Parameters {
                    formula: "item = 1 + #(thresholds below L), L = intercept + \
                              living_alone*alone + psychiatric*psych + b_i + e_ijw + shift_w, \
                              b_i ~ N(0, sd_person^2), e_ijw ~ N(0, sd_item^2)"
                        .into(),
                    intercept: UCLA_INTERCEPT,
                    living_alone: UCLA_ALONE,
                    psychiatric_diagnosis: UCLA_PSYCHIATRIC,
                    sd_person: UCLA_SD_PERSON,
                    sd_item: UCLA_SD_ITEM,
                    thresholds: UCLA_THRESHOLDS.to_vec(),
                    latent_shift: by_wave(shifts.ucla),
                },
                eq5d5l: Eq5dParameters {
                    formula: "level = 1 + #(thresholds below S), S = intercept + \
                              age_per_year*(age - centre) + charlson*charlson + \
                              psychiatric*psych + offset_dim (+ ad_psychiatric*psych for AD) + \
                              c_i + e_ijw + shift_w"
                        .into(),
                    intercept: EQ_INTERCEPT,
                    age_per_year: EQ_AGE,
                    age_centre: EQ_AGE_CENTRE,
                    charlson: EQ_CHARLSON,
                    psychiatric_diagnosis: EQ_PSYCHIATRIC,
                    dimension_offsets: EQ_DIMENSIONS
                        .iter()
                        .zip(EQ_OFFSETS.iter())
                        .map(|(d, &o)| ((*d).to_string(), o))
                        .collect(),
                    anxiety_depression_psychiatric: EQ_AD_PSYCHIATRIC,
                    sd_person: EQ_SD_PERSON,
                    sd_item: EQ_SD_ITEM,
                    thresholds: EQ_THRESHOLDS.to_vec(),
                    value_set: "EQ-5D-5L Denmark (Jensen et al. 2021)".into(),
                    latent_shift: by_wave(shifts.eq),
                },
                eq_vas: EqVasParameters {
                    formula: "VAS = clamp(round(intercept + age_per_year*(age - centre) + \
                              charlson*charlson + psychiatric*psych + d_i + e_iw + shift_w), 0, 100)"
                        .into(),
                    intercept: VAS_INTERCEPT,
                    age_per_year: VAS_AGE,
                    age_centre: VAS_AGE_CENTRE,
                    charlson: VAS_CHARLSON,
                    psychiatric_diagnosis: VAS_PSYCHIATRIC,
                    sd_person: VAS_SD_PERSON,
                    sd_item: VAS_SD_ITEM,
                    latent_shift: by_wave(shifts.vas),
                },
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SimulationConfig {
        SimulationConfig {
            referred: 120,
            pool: 4_000,
            seed: 7,
            ..Default::default()
        }
    }

    fn strings(df: &DataFrame, name: &str) -> Vec<Option<String>> {
        df.column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect()
    }

    fn ints(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
        df.column(name).unwrap().i64().unwrap().iter().collect()
    }

    fn days(df: &DataFrame, name: &str) -> Vec<Option<i32>> {
        df.column(name)
            .unwrap()
            .date()
            .unwrap()
            .physical()
            .iter()
            .collect()
    }

    fn bools(df: &DataFrame, name: &str) -> Vec<Option<bool>> {
        df.column(name).unwrap().bool().unwrap().iter().collect()
    }

    fn id_number(id: &str) -> usize {
        id[1..].parse().unwrap()
    }

    fn tables(x: &SimulatedExtracts) -> [(&'static str, &DataFrame); 5] {
        [
            ("persons", &x.persons),
            ("covariates", &x.covariates),
            ("referrals", &x.referrals),
            ("contacts", &x.contacts),
            ("proms", &x.proms),
        ]
    }

    #[test]
    fn calendar_helpers_agree_with_chrono() {
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let mut d = chrono::NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        let end = chrono::NaiveDate::from_ymd_opt(2101, 3, 1).unwrap();
        while d < end {
            use chrono::Datelike;
            let z = (d - epoch).num_days() as i32;
            assert_eq!(days_from_civil(d.year(), d.month(), d.day()), z);
            assert_eq!(civil_from_days(z), (d.year(), d.month(), d.day()));
            d += chrono::Duration::days(1);
        }
        let birth = days_from_civil(2006, 3, 1);
        assert_eq!(age_on(birth, days_from_civil(2024, 2, 29)), 17);
        assert_eq!(age_on(birth, days_from_civil(2024, 3, 1)), 18);
        assert_eq!(iso_date(STUDY_END), "2025-06-30");
    }

    #[test]
    fn contact_type_rank_is_lexicographic() {
        let mut sorted = CONTACT_TYPES.to_vec();
        sorted.sort_unstable();
        for (t, code) in CONTACT_TYPES.iter().enumerate() {
            assert_eq!(sorted[usize::from(CONTACT_TYPE_RANK[t])], *code);
        }
    }

    #[test]
    fn additive_index_matches_the_scorer_for_every_profile() {
        use super::super::instruments::{eq5d_index_complete, ValueSet};
        // Checks published with the value set (Jensen et al. 2021), as listed in design.md.
        let published = [
            ([1, 1, 1, 1, 1], 1.0),
            ([1, 1, 1, 1, 2], 0.928),
            ([1, 1, 1, 2, 3], 0.761),
            ([1, 3, 2, 2, 4], 0.439),
            ([5, 5, 5, 5, 5], -0.758),
        ];
        let additive = |levels: [u8; 5]| {
            1.0 - levels
                .iter()
                .zip(EQ5D5L_DK_DECREMENTS.iter())
                .map(|(&l, d)| if l == 1 { 0.0 } else { d[usize::from(l) - 2] })
                .sum::<f64>()
        };
        for (levels, value) in published {
            assert!((additive(levels) - value).abs() < 1e-12, "{levels:?}");
        }
        for code in 0..5usize.pow(5) {
            let levels: [u8; 5] =
                std::array::from_fn(|j| (code / 5usize.pow(j as u32) % 5 + 1) as u8);
            let scored = eq5d_index_complete(levels, ValueSet::Dk5L).unwrap();
            assert!((additive(levels) - scored).abs() < 1e-12, "{levels:?}");
        }
    }

    #[test]
    fn same_seed_gives_identical_tables_and_other_seed_differs() {
        let a = simulate(&small()).unwrap();
        let b = simulate(&small()).unwrap();
        for ((name, x), (_, y)) in tables(&a).iter().zip(tables(&b).iter()) {
            assert!(x.equals_missing(y), "{name} differs between identical runs");
        }
        assert_eq!(a.truth, b.truth);
        assert_eq!(
            serde_json::to_string(&a.truth).unwrap(),
            serde_json::to_string(&b.truth).unwrap()
        );
        let c = simulate(&SimulationConfig { seed: 8, ..small() }).unwrap();
        for ((name, x), (_, y)) in tables(&a).iter().zip(tables(&c).iter()) {
            assert!(!x.equals_missing(y), "{name} does not depend on the seed");
        }
    }

    #[test]
    fn output_does_not_depend_on_work_split() {
        // The same persons drawn one by one must give the same population as the threaded run.
        let config = small();
        let (_, state) = simulate_with_state(&config).unwrap();
        let key = ChaCha8Rng::seed_from_u64(config.seed).get_seed();
        let frailty = Gamma::new(FRAILTY_SHAPE, 1.0 / FRAILTY_SHAPE).unwrap();
        for i in [0, 1, 2_000, config.referred + config.pool - 1] {
            let p = draw_person(i, &key, &frailty);
            assert_eq!(p.birth, state.persons[i].birth);
            assert_eq!(p.frailty, state.persons[i].frailty);
            assert_eq!(p.exit, state.persons[i].exit);
        }
    }

    /// Column names and polars dtypes, read from the data dictionary itself.
    fn dictionary(table: &str) -> Vec<(String, DataType, bool, toml::Value)> {
        let path = format!(
            "{}/data-dictionary/{table}.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let value: toml::Value = toml::from_str(&text).unwrap();
        value["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let dtype = match c["type"].as_str().unwrap() {
                    "string" | "enumeration" => DataType::String,
                    "integer" => DataType::Int64,
                    "float" => DataType::Float64,
                    "date" => DataType::Date,
                    "boolean" => DataType::Boolean,
                    other => panic!("unknown type {other}"),
                };
                (
                    c["name"].as_str().unwrap().to_string(),
                    dtype,
                    c["required"].as_bool().unwrap_or(false),
                    c.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn columns_dtypes_and_values_follow_the_dictionary() {
        let x = simulate(&small()).unwrap();
        for (name, df) in tables(&x) {
            let columns = dictionary(name);
            let got: Vec<(String, DataType)> = df
                .columns()
                .iter()
                .map(|c| (c.name().to_string(), c.dtype().clone()))
                .collect();
            let want: Vec<(String, DataType)> =
                columns.iter().map(|c| (c.0.clone(), c.1.clone())).collect();
            assert_eq!(got, want, "columns of {name}");
            assert!(df.height() > 0, "{name} is empty");
            for (col, dtype, required, spec) in &columns {
                let column = df.column(col).unwrap();
                if *required {
                    assert_eq!(column.null_count(), 0, "{name}.{col} is required");
                }
                if let Some(values) = spec.get("values").and_then(|v| v.as_array()) {
                    let codes: Vec<&str> =
                        values.iter().map(|v| v["code"].as_str().unwrap()).collect();
                    for v in column.str().unwrap().iter().flatten() {
                        assert!(codes.contains(&v), "{name}.{col}: {v} is not a code");
                    }
                }
                if *dtype == DataType::Int64 {
                    let values: Vec<i64> = column.i64().unwrap().iter().flatten().collect();
                    if let Some(min) = spec.get("min").and_then(|v| v.as_integer()) {
                        assert!(values.iter().all(|&v| v >= min), "{name}.{col} below min");
                    }
                    if let Some(max) = spec.get("max").and_then(|v| v.as_integer()) {
                        assert!(values.iter().all(|&v| v <= max), "{name}.{col} above max");
                    }
                    if let Some(allowed) = spec.get("allowed").and_then(|v| v.as_array()) {
                        let allowed: Vec<i64> =
                            allowed.iter().map(|v| v.as_integer().unwrap()).collect();
                        assert!(values.iter().all(|v| allowed.contains(v)), "{name}.{col}");
                    }
                }
            }
        }
        // Every UCLA-20 item is empty; other optional columns have some nulls.
        for j in 1..=20 {
            let c = x.proms.column(&format!("ucla20_{j}")).unwrap();
            assert_eq!(c.null_count(), x.proms.height());
        }
        assert!(x.covariates.column("education").unwrap().null_count() > 0);
        assert!(x.persons.column("death_date").unwrap().null_count() < x.persons.height());
        let vas: Vec<f64> = x
            .proms
            .column("eq5d_vas")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert!(vas
            .iter()
            .all(|v| (0.0..=100.0).contains(v) && v.fract() == 0.0));
    }

    #[test]
    fn keys_are_unique_and_rows_sorted() {
        let x = simulate(&small()).unwrap();
        let n = small().referred + small().pool;
        let ids = strings(&x.persons, "person_id");
        assert_eq!(ids.len(), n);
        for (k, id) in ids.iter().enumerate() {
            assert_eq!(id.as_deref(), Some(format!("P{:08}", k + 1).as_str()));
        }

        let cov: Vec<(String, i64)> = strings(&x.covariates, "person_id")
            .into_iter()
            .zip(ints(&x.covariates, "year"))
            .map(|(a, b)| (a.unwrap(), b.unwrap()))
            .collect();
        assert!(
            cov.windows(2).all(|w| w[0] < w[1]),
            "covariates not sorted/unique"
        );

        let referrals: Vec<String> = strings(&x.referrals, "person_id")
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(referrals.len(), small().referred);
        assert!(referrals.windows(2).all(|w| w[0] < w[1]));
        // Referred persons are spread over the id range, not the first ids.
        let last = id_number(referrals.last().unwrap());
        assert!(
            last > small().referred * 2,
            "referred persons got the first ids"
        );

        let proms: Vec<(String, i64)> = strings(&x.proms, "person_id")
            .into_iter()
            .zip(ints(&x.proms, "wave"))
            .map(|(a, b)| (a.unwrap(), b.unwrap()))
            .collect();
        assert!(
            proms.windows(2).all(|w| w[0] < w[1]),
            "proms not sorted/unique"
        );
        assert!(proms
            .iter()
            .all(|(id, _)| referrals.binary_search(id).is_ok()));

        let contacts: Vec<(String, i32, String)> = strings(&x.contacts, "person_id")
            .into_iter()
            .zip(days(&x.contacts, "date"))
            .zip(strings(&x.contacts, "contact_type"))
            .map(|((a, b), c)| (a.unwrap(), b.unwrap(), c.unwrap()))
            .collect();
        assert!(
            contacts.windows(2).all(|w| w[0] <= w[1]),
            "contacts not sorted"
        );
        // Same-day repeats of one type exist in a population this size.
        assert!(contacts.windows(2).any(|w| w[0] == w[1]));
    }

    #[test]
    fn events_respect_the_calendar_and_eligibility() {
        let x = simulate(&small()).unwrap();
        let n = x.persons.height();
        let birth: Vec<i32> = days(&x.persons, "birth_date")
            .into_iter()
            .flatten()
            .collect();
        let death = days(&x.persons, "death_date");
        let emig = days(&x.persons, "emigration_date");
        let exit: Vec<i32> = (0..n)
            .map(|k| death[k].or(emig[k]).unwrap_or(i32::MAX))
            .collect();
        assert!((0..n).all(|k| death[k].is_none() || emig[k].is_none()));
        for k in 0..n {
            let age = age_on(birth[k], AGE_REFERENCE);
            assert!((16..=100).contains(&age));
            if let Some(d) = death[k].or(emig[k]) {
                assert!((EXTRACT_START..=EXTRACT_END).contains(&d));
            }
        }
        assert!(birth.iter().any(|&b| age_on(b, AGE_REFERENCE) < 18));

        // Contacts inside the extract period and not after death or emigration.
        let ids = strings(&x.contacts, "person_id");
        for (id, d) in ids.iter().zip(days(&x.contacts, "date")) {
            let k = id_number(id.as_deref().unwrap()) - 1;
            let d = d.unwrap();
            assert!((EXTRACT_START..=EXTRACT_END).contains(&d));
            assert!(d <= exit[k]);
        }

        // Snapshot rows only while alive and resident on 31 December.
        for (id, year) in strings(&x.covariates, "person_id")
            .iter()
            .zip(ints(&x.covariates, "year"))
        {
            let k = id_number(id.as_deref().unwrap()) - 1;
            assert!(exit[k] > year_end(year.unwrap() as i32));
        }

        // Referred: adult, alive, resident, listed with a participating practice.
        let participating: Vec<String> = x
            .truth
            .parameters
            .population
            .participating_practices
            .clone();
        let referral_dates = days(&x.referrals, "referral_date");
        let practices = strings(&x.referrals, "practice_id");
        let cov_ids = strings(&x.covariates, "person_id");
        let cov_years = ints(&x.covariates, "year");
        let cov_practice = strings(&x.covariates, "practice_id");
        let cov_muni = ints(&x.covariates, "municipality_code");
        for ((id, r), practice) in strings(&x.referrals, "person_id")
            .iter()
            .zip(referral_dates)
            .zip(practices)
        {
            let id = id.as_deref().unwrap();
            let k = id_number(id) - 1;
            let r = r.unwrap();
            assert!((STUDY_START..=STUDY_END).contains(&r));
            assert!(age_on(birth[k], r) >= 18);
            assert!(exit[k] > r);
            let practice = practice.unwrap();
            assert!(participating.contains(&practice));
            // The snapshot of the year before the referral agrees.
            let year_before = i64::from(civil_from_days(r).0 - 1);
            let row = (0..cov_ids.len())
                .find(|&j| cov_ids[j].as_deref() == Some(id) && cov_years[j] == Some(year_before))
                .unwrap();
            assert_eq!(cov_muni[row], Some(101));
            assert_eq!(cov_practice[row].as_deref(), Some(practice.as_str()));
        }

        // Survey answers inside their windows, before exit, inside the extract.
        let referral_of: BTreeMap<String, i32> = strings(&x.referrals, "person_id")
            .into_iter()
            .flatten()
            .zip(days(&x.referrals, "referral_date").into_iter().flatten())
            .collect();
        for ((id, wave), date) in strings(&x.proms, "person_id")
            .iter()
            .zip(ints(&x.proms, "wave"))
            .zip(days(&x.proms, "response_date"))
        {
            let id = id.as_deref().unwrap();
            let (r, date) = (referral_of[id], date.unwrap());
            let w = WAVES.iter().position(|&w| Some(w) == wave).unwrap();
            let (lo, hi) = WAVE_WINDOWS[w];
            assert!((r + lo..=r + hi).contains(&(date)));
            assert!(date < exit[id_number(id) - 1] && date <= EXTRACT_END);
        }
    }

    fn mean(values: impl Iterator<Item = f64>) -> f64 {
        let (s, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
        s / n as f64
    }

    #[test]
    fn selection_into_referral_is_confounded() {
        let x = simulate(&SimulationConfig::default()).unwrap();
        let n = x.persons.height();
        let referred_ids: Vec<String> = strings(&x.referrals, "person_id")
            .into_iter()
            .flatten()
            .collect();
        let mut referral = vec![None; n];
        for (id, r) in referred_ids.iter().zip(days(&x.referrals, "referral_date")) {
            referral[id_number(id) - 1] = r;
        }
        let birth: Vec<i32> = days(&x.persons, "birth_date")
            .into_iter()
            .flatten()
            .collect();
        let age = |k: usize| f64::from(age_on(birth[k], AGE_REFERENCE));
        let referred_age = mean((0..n).filter(|&k| referral[k].is_some()).map(age));
        let pool_age = mean((0..n).filter(|&k| referral[k].is_none()).map(age));
        assert!(
            referred_age > pool_age + 5.0,
            "{referred_age} vs {pool_age}"
        );

        // Snapshot 2023.
        let ids = strings(&x.covariates, "person_id");
        let years = ints(&x.covariates, "year");
        let alone = bools(&x.covariates, "living_alone");
        let employment = strings(&x.covariates, "employment");
        let (mut alone_ref, mut alone_pool, mut dp_ref, mut dp_pool) =
            (vec![], vec![], vec![], vec![]);
        for j in 0..ids.len() {
            if years[j] != Some(2023) {
                continue;
            }
            let k = id_number(ids[j].as_deref().unwrap()) - 1;
            let is_ref = referral[k].is_some();
            if let Some(a) = alone[j] {
                if is_ref {
                    &mut alone_ref
                } else {
                    &mut alone_pool
                }
                .push(f64::from(u8::from(a)));
            }
            if let Some(e) = employment[j].as_deref() {
                let dp = f64::from(u8::from(e == "disability_pension"));
                if is_ref { &mut dp_ref } else { &mut dp_pool }.push(dp);
            }
        }
        let (alone_ref, alone_pool) = (mean(alone_ref.into_iter()), mean(alone_pool.into_iter()));
        let (dp_ref, dp_pool) = (mean(dp_ref.into_iter()), mean(dp_pool.into_iter()));
        assert!(
            alone_ref > alone_pool + 0.1,
            "living alone {alone_ref} vs {alone_pool}"
        );
        assert!(
            dp_ref > 1.5 * dp_pool,
            "disability pension {dp_ref} vs {dp_pool}"
        );

        // GP consultations in the year before referral (pool: calendar year 2023, persons
        // resident all year).
        let death = days(&x.persons, "death_date");
        let emig = days(&x.persons, "emigration_date");
        let mut gp = vec![0usize; n];
        for ((id, d), t) in strings(&x.contacts, "person_id")
            .iter()
            .zip(days(&x.contacts, "date"))
            .zip(strings(&x.contacts, "contact_type"))
        {
            if t.as_deref() != Some("gp_consultation") {
                continue;
            }
            let k = id_number(id.as_deref().unwrap()) - 1;
            let d = d.unwrap();
            let (lo, hi) = match referral[k] {
                Some(r) => (r - 365, r - 1),
                None => (EXTRACT_START, year_end(2023)),
            };
            if (lo..=hi).contains(&d) {
                gp[k] += 1;
            }
        }
        let gp_ref = mean(
            (0..n)
                .filter(|&k| referral[k].is_some())
                .map(|k| gp[k] as f64),
        );
        let gp_pool = mean(
            (0..n)
                .filter(|&k| {
                    referral[k].is_none() && death[k].or(emig[k]).is_none_or(|d| d > year_end(2023))
                })
                .map(|k| gp[k] as f64),
        );
        assert!(gp_ref > 1.3 * gp_pool, "GP contacts {gp_ref} vs {gp_pool}");
    }

    /// P(a < Z < b) for a standard normal Z by Simpson's rule on the density
    /// (independent of the erfc-based `phi`).
    fn normal_mass(a: f64, b: f64) -> f64 {
        let (a, b) = (a.max(-14.0), b.min(14.0));
        if b <= a {
            return 0.0;
        }
        let intervals = (((b - a) / 0.002).ceil() as usize)
            .max(8)
            .next_multiple_of(2);
        let h = (b - a) / intervals as f64;
        let density = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let mut sum = density(a) + density(b);
        for j in 1..intervals {
            let w = if j % 2 == 1 { 4.0 } else { 2.0 };
            sum += w * density(a + j as f64 * h);
        }
        sum * h / 3.0
    }

    /// E(score) of an ordinal item with `thresholds` for latent N(m, s²), by quadrature.
    fn ordinal_mean(m: f64, s: f64, thresholds: &[f64], scores: &[f64]) -> f64 {
        let mut cuts = vec![f64::NEG_INFINITY];
        cuts.extend(thresholds.iter().map(|t| (t - m) / s));
        cuts.push(f64::INFINITY);
        cuts.windows(2)
            .zip(scores)
            .map(|(w, score)| score * normal_mass(w[0], w[1]))
            .sum()
    }

    #[test]
    fn calibrated_shifts_reproduce_the_true_changes() {
        use super::super::instruments::{eq5d_index_complete, ValueSet};
        let config = SimulationConfig::default();
        let (x, state) = simulate_with_state(&config).unwrap();
        let t = &x.truth;
        let u = &t.parameters.survey.ucla3;
        let e = &t.parameters.survey.eq5d5l;
        let v = &t.parameters.survey.eq_vas;
        let (su, se, sv) = (
            u.sd_person.hypot(u.sd_item),
            e.sd_person.hypot(e.sd_item),
            v.sd_person.hypot(v.sd_item),
        );
        // Person latent means from the true covariates and the parameters in `truth`.
        let people: Vec<(f64, [f64; 5], f64)> = state
            .referred
            .iter()
            .map(|&(i, r)| {
                let p = &state.persons[i];
                let before = &p.years[snapshot_index(r) - 1];
                let psych = f64::from(u8::from(p.psychiatric));
                let age = f64::from(r - p.birth) / 365.2425;
                let charlson = f64::from(before.charlson);
                let ucla = u.intercept
                    + u.living_alone * f64::from(u8::from(before.living_alone))
                    + u.psychiatric_diagnosis * psych;
                let theta = e.intercept
                    + e.age_per_year * (age - e.age_centre)
                    + e.charlson * charlson
                    + e.psychiatric_diagnosis * psych;
                let eq = std::array::from_fn(|j| {
                    theta
                        + e.dimension_offsets[EQ_DIMENSIONS[j]]
                        + if j == 4 {
                            e.anxiety_depression_psychiatric * psych
                        } else {
                            0.0
                        }
                });
                let vas = v.intercept
                    + v.age_per_year * (age - v.age_centre)
                    + v.charlson * charlson
                    + v.psychiatric_diagnosis * psych;
                (ucla, eq, vas)
            })
            .collect();
        let ucla_total = |m: f64| 3.0 * ordinal_mean(m, su, &u.thresholds, &[1.0, 2.0, 3.0]);
        // E(index) from the project's scorer over all 5^5 profiles, weighting each by the
        // product of the dimensions' marginal level probabilities (the index is additive,
        // so the dependence between dimensions does not change its expectation).
        let profiles: Vec<([usize; 5], f64)> = (0..5usize.pow(5))
            .map(|code| {
                let levels: [usize; 5] = std::array::from_fn(|j| code / 5usize.pow(j as u32) % 5);
                let scored = eq5d_index_complete(levels.map(|l| l as u8 + 1), ValueSet::Dk5L);
                (levels, scored.unwrap())
            })
            .collect();
        let eq_index = |m: &[f64; 5]| {
            let marginals: Vec<Vec<f64>> = (0..5)
                .map(|j| {
                    (0..5)
                        .map(|l| {
                            let mut scores = [0.0; 5];
                            scores[l] = 1.0;
                            ordinal_mean(m[j], se, &e.thresholds, &scores)
                        })
                        .collect()
                })
                .collect();
            profiles
                .iter()
                .map(|(levels, index)| {
                    index * (0..5).map(|j| marginals[j][levels[j]]).product::<f64>()
                })
                .sum::<f64>()
        };
        let vas_mean = |m: f64| {
            // round(clamp(X, 0, 100)) = k on (k − ½, k + ½), 0 below ½, 100 above 99.5.
            let cuts: Vec<f64> = (0..100).map(|k| f64::from(k) + 0.5).collect();
            let scores: Vec<f64> = (0..=100).map(f64::from).collect();
            ordinal_mean(m, sv, &cuts, &scores)
        };
        for wave in ["3", "9"] {
            let (du, de, dv) = (
                u.latent_shift[wave],
                e.latent_shift[wave],
                v.latent_shift[wave],
            );
            let n = people.len() as f64;
            let ucla: f64 = people
                .iter()
                .map(|p| ucla_total(p.0 + du) - ucla_total(p.0))
                .sum::<f64>()
                / n;
            let eq: f64 = people
                .iter()
                .map(|p| eq_index(&p.1.map(|m| m + de)) - eq_index(&p.1))
                .sum::<f64>()
                / n;
            let vas: f64 = people
                .iter()
                .map(|p| vas_mean(p.2 + dv) - vas_mean(p.2))
                .sum::<f64>()
                / n;
            assert!(
                (ucla - t.survey_changes["ucla3"][wave]).abs() < 1e-9,
                "ucla {wave}: {ucla}"
            );
            assert!(
                (eq - t.survey_changes["eq5d5l_index"][wave]).abs() < 1e-9,
                "eq {wave}: {eq}"
            );
            assert!(
                (vas - t.survey_changes["eq_vas"][wave]).abs() < 1e-9,
                "vas {wave}: {vas}"
            );
        }
        assert_eq!(t.survey_changes["ucla3"]["3"], -0.6);
        assert_eq!(t.survey_changes["eq5d5l_index"]["9"], 0.05);
        assert_eq!(t.survey_changes["eq_vas"]["9"], 5.0);
        assert!(u.latent_shift["9"] < u.latent_shift["3"] && u.latent_shift["3"] < 0.0);
        assert!(v.latent_shift["9"] > v.latent_shift["3"] && v.latent_shift["3"] > 0.0);
        assert_eq!(state.shifts.ucla[0], u.latent_shift["3"]);
        assert_eq!(state.means.len(), config.referred);
    }

    #[test]
    fn survey_response_and_item_missingness_are_plausible() {
        let x = simulate(&SimulationConfig {
            referred: 3_000,
            pool: 30_000,
            seed: 3,
            ..Default::default()
        })
        .unwrap();
        let waves = ints(&x.proms, "wave");
        let count = |w: i64| waves.iter().filter(|&&v| v == Some(w)).count() as f64;
        let n = 3_000.0;
        let (r0, r3, r9) = (count(0) / n, count(3) / n, count(9) / n);
        assert!((0.85..0.91).contains(&r0), "baseline response {r0}");
        assert!((0.62..0.80).contains(&r3), "3-month response {r3}");
        assert!((0.52..0.70).contains(&r9), "9-month response {r9}");
        assert!(r9 < r3);
        let rows = x.proms.height() as f64;
        for item in ["ucla_1", "eq5d_pd", "eq5d_vas"] {
            let share = x.proms.column(item).unwrap().null_count() as f64 / rows;
            assert!((0.01..0.03).contains(&share), "{item} missing {share}");
        }
        // Lonelier people drop out more: baseline UCLA-3 of 9-month responders is lower.
        let ids = strings(&x.proms, "person_id");
        let total: Vec<Option<i64>> = {
            let a = ints(&x.proms, "ucla_1");
            let b = ints(&x.proms, "ucla_2");
            let c = ints(&x.proms, "ucla_3");
            (0..a.len()).map(|j| Some(a[j]? + b[j]? + c[j]?)).collect()
        };
        let mut at_9 = std::collections::BTreeSet::new();
        for j in 0..ids.len() {
            if waves[j] == Some(9) {
                at_9.insert(ids[j].clone());
            }
        }
        let (mut stay, mut leave) = (vec![], vec![]);
        for j in 0..ids.len() {
            if let (Some(0), Some(t)) = (waves[j], total[j]) {
                if at_9.contains(&ids[j]) {
                    &mut stay
                } else {
                    &mut leave
                }
                .push(t as f64);
            }
        }
        let (stay, leave) = (mean(stay.into_iter()), mean(leave.into_iter()));
        assert!(
            leave > stay + 0.2,
            "baseline UCLA-3 of dropouts {leave} vs stayers {stay}"
        );
    }

    /// Observed / expected-without-effect contacts of the referred after referral, per
    /// outcome group, estimates the true rate ratio with Poisson noise only. (Before
    /// referral the observed counts exceed the expected ones: referral selects on them.)
    #[test]
    fn contact_rate_ratios_are_recovered() {
        let config = SimulationConfig {
            referred: 2_000,
            pool: 60_000,
            seed: 11,
            ..Default::default()
        };
        let (x, state) = simulate_with_state(&config).unwrap();
        let season = Season::new();
        let type_index = |code: &str| CONTACT_TYPES.iter().position(|&t| t == code).unwrap();
        // Observed counts per referred person (by id number) and type, in the windows.
        let mut referral_by_k = BTreeMap::new();
        for &(i, r) in &state.referred {
            let k = state.order.iter().position(|&j| j as usize == i).unwrap();
            referral_by_k.insert(k, (i, r));
        }
        let mut observed = [[0.0f64; 2]; N_TYPES];
        for ((id, d), t) in strings(&x.contacts, "person_id")
            .iter()
            .zip(days(&x.contacts, "date"))
            .zip(strings(&x.contacts, "contact_type"))
        {
            let k = id_number(id.as_deref().unwrap()) - 1;
            if let Some(&(i, r)) = referral_by_k.get(&k) {
                let d = d.unwrap();
                let end = state.persons[i].exit.min(EXTRACT_END);
                let t = type_index(t.as_deref().unwrap());
                if (month_start(r) - 365..month_start(r)).contains(&d) {
                    observed[t][0] += 1.0;
                } else if (r..=(r + 272).min(end)).contains(&d) {
                    observed[t][1] += 1.0;
                }
            }
        }
        let mut expected = [[0.0f64; 2]; N_TYPES];
        for &(i, r) in &state.referred {
            let p = &state.persons[i];
            let end = p.exit.min(EXTRACT_END);
            let rates = annual_rates(p);
            for t in 0..N_TYPES {
                let per_day = rates[t] / DAYS_PER_YEAR;
                expected[t][0] +=
                    per_day * season.integral(month_start(r) - 365, month_start(r) - 1);
                expected[t][1] += per_day * season.integral(r, (r + 272).min(end));
            }
        }
        let groups: [(&str, &[usize]); 4] = [
            ("general_practice", &[0, 1, 2, 3]),
            ("unplanned_hospital", &[4, 5]),
            ("helpline", &[8]),
            ("planned_and_outpatient", &[6, 7]),
        ];
        for (name, types) in groups {
            let sum =
                |w: usize, m: &[[f64; 2]; N_TYPES]| types.iter().map(|&t| m[t][w]).sum::<f64>();
            let estimate = sum(1, &observed) / sum(1, &expected);
            let truth = x.truth.rate_ratios.get(name).copied().unwrap_or(1.0);
            // Poisson standard error of the log ratio, from the observed counts.
            let se_log = (1.0 / sum(1, &observed)).sqrt();
            let z = (estimate.ln() - truth.ln()) / se_log;
            assert!(
                z.abs() < 4.0,
                "{name}: estimated {estimate:.4}, true {truth}, z = {z:.2}"
            );
            if name == "general_practice" {
                // Enough events to tell 0.85 from 0.80 or 0.90.
                assert!(4.0 * se_log < 0.05, "too few events: se(log) = {se_log}");
            }
            // Referral selects on prior use of the three outcome groups, so their counts
            // in the window it looks at are above expectation; the others are not.
            let pre = sum(0, &observed) / sum(0, &expected);
            let se_pre = (1.0 / sum(0, &observed)).sqrt();
            if name == "planned_and_outpatient" {
                assert!(
                    pre.ln().abs() < 4.0 * se_pre,
                    "{name}: pre-referral ratio {pre}"
                );
            } else {
                assert!(pre.ln() > 3.0 * se_pre, "{name}: pre-referral ratio {pre}");
            }
        }
    }

    /// Without frailty selection, referral depends on the frailty only through the
    /// observed prior use: among persons with the same prior general-practice count,
    /// referred and pool persons have a similar mean frailty. With frailty selection the
    /// referred have a higher frailty at the same count.
    #[test]
    fn frailty_enters_selection_only_when_asked() {
        let gap = |frailty_selection: f64| {
            let config = SimulationConfig {
                referred: 2_000,
                pool: 60_000,
                seed: 5,
                frailty_selection,
            };
            let (_, state) = simulate_with_state(&config).unwrap();
            let referred: std::collections::BTreeSet<usize> =
                state.referred.iter().map(|&(i, _)| i).collect();
            // Mean log frailty by group within strata of prior GP count, weighted by
            // the referred per stratum.
            let mut strata: BTreeMap<u16, [(f64, f64); 2]> = BTreeMap::new();
            for (i, p) in state.persons.iter().enumerate() {
                if !eligible_on(p, p.candidate_referral) {
                    continue;
                }
                let e = strata.entry(p.prior_use[0]).or_default();
                let g = usize::from(referred.contains(&i));
                e[g].0 += p.frailty.ln();
                e[g].1 += 1.0;
            }
            let (mut sum, mut weight) = (0.0, 0.0);
            for [pool, refd] in strata.values() {
                if pool.1 >= 5.0 && refd.1 >= 5.0 {
                    sum += refd.1 * (refd.0 / refd.1 - pool.0 / pool.1);
                    weight += refd.1;
                }
            }
            sum / weight
        };
        let without = gap(0.0);
        let with = gap(0.7);
        // The other covariates (age, Charlson, ...) raise both counts and referral, so
        // some gap remains within count strata; frailty selection widens it clearly.
        assert!(
            with > without + 0.05,
            "gap {with} with vs {without} without"
        );
    }

    #[test]
    fn impossible_sizes_are_errors() {
        let zero_pool = simulate(&SimulationConfig {
            pool: 0,
            ..Default::default()
        });
        assert!(matches!(zero_pool, Err(SimulateError::InvalidConfig(_))));
        let zero_referred = simulate(&SimulationConfig {
            referred: 0,
            ..Default::default()
        });
        assert!(matches!(
            zero_referred,
            Err(SimulateError::InvalidConfig(_))
        ));
        let too_many = simulate(&SimulationConfig {
            referred: 1,
            pool: usize::MAX,
            seed: 1,
            ..Default::default()
        });
        assert!(matches!(too_many, Err(SimulateError::InvalidConfig(_))));
        let small_pool = simulate(&SimulationConfig {
            referred: 350,
            pool: 200,
            seed: 1,
            ..Default::default()
        });
        match small_pool {
            Err(SimulateError::TooFewEligible {
                eligible,
                requested: 350,
                population: 550,
            }) => assert!(eligible < 350),
            other => panic!("expected TooFewEligible, got {other:?}"),
        }
    }

    #[test]
    fn shift_solver_finds_roots_and_rejects_unbracketed_targets() {
        let d = calibrate_shift("cubic", 0.3, 10.0, |x| x.powi(3) + x).unwrap();
        assert!((d.powi(3) + d - 0.3).abs() < 1e-12);
        let f = |x: f64| -0.2 * (x / 3.0).tanh();
        let d = calibrate_shift("decreasing", 0.05, 10.0, f).unwrap();
        assert!((f(d) - 0.05).abs() < 1e-12 && d < 0.0);
        assert!(matches!(
            calibrate_shift("out of range", 5.0, 1.0, |x| x),
            Err(SimulateError::Calibration(_))
        ));
    }

    #[test]
    fn truth_serialises_with_the_documented_shape() {
        let x = simulate(&small()).unwrap();
        let json = serde_json::to_value(&x.truth).unwrap();
        assert_eq!(json["seed"], 7);
        assert_eq!(json["n_referred"], 120);
        assert_eq!(json["n_pool"], 4000);
        assert_eq!(json["study_period"]["start"], "2024-01-01");
        assert_eq!(json["extract_period"]["end"], "2026-06-30");
        assert_eq!(json["rate_ratios"]["general_practice"], 0.85);
        assert_eq!(json["rate_ratios"]["unplanned_hospital"], 0.90);
        assert_eq!(json["rate_ratios"]["helpline"], 0.80);
        assert_eq!(
            json["outcome_groups"]["unplanned_hospital"],
            serde_json::json!(["emergency_department", "acute_admission"])
        );
        assert_eq!(json["survey_changes"]["ucla3"]["9"], -0.9);
        assert_eq!(json["survey_changes"]["eq5d5l_index"]["3"], 0.03);
        assert_eq!(json["survey_changes"]["eq_vas"]["3"], 3.0);
        let p = &json["parameters"];
        assert_eq!(p["contact_rates"]["by_type"].as_array().unwrap().len(), 9);
        assert_eq!(p["frailty"]["shape"], 2.0);
        assert_eq!(p["seasonality"]["amplitude"], 0.15);
        assert_eq!(p["selection"]["log_weight_age_per_year"], 0.03);
        assert_eq!(p["survey"]["item_missing_rate"], 0.02);
        for score in ["ucla3", "eq5d5l", "eq_vas"] {
            assert!(p["survey"][score]["latent_shift"]["9"].is_f64(), "{score}");
        }
    }

    /// `cargo test --release --lib data::simulate -- --ignored --nocapture`
    #[test]
    #[ignore = "timing of a one-million pool; run on demand"]
    fn timing_one_million_pool() {
        let config = SimulationConfig {
            referred: 350,
            pool: 1_000_000,
            seed: 1,
            ..Default::default()
        };
        let start = std::time::Instant::now();
        let x = simulate(&config).unwrap();
        let elapsed = start.elapsed();
        eprintln!("simulate(pool = 1,000,000): {:.2} s", elapsed.as_secs_f64());
        for (name, df) in tables(&x) {
            eprintln!("  {name}: {} rows", df.height());
        }
    }
}
