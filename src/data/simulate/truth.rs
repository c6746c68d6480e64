//! The true effects and every data-generating parameter, as written to `truth.json`, so
//! that an analysis of the simulated extracts can be checked against what generated
//! them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::calibration::Shifts;
use super::config::SimulationConfig;
use super::parameters::*;
use crate::data::calendar::format_date;

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

fn by_wave(values: [f64; 2]) -> BTreeMap<String, f64> {
    BTreeMap::from([("3".to_string(), values[0]), ("9".to_string(), values[1])])
}

pub(super) fn build_truth(config: &SimulationConfig, shifts: &Shifts) -> Truth {
    let period = |a: i32, b: i32| Period {
        start: format_date(a),
        end: format_date(b),
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
                age_reference_date: format_date(AGE_REFERENCE),
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
