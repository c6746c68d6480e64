//! The survey: each referred person's latent means, referral source and questionnaires
//! (UCLA-3, EQ-5D-5L, EQ VAS) at the waves they answer.

use polars::prelude::IdxSize;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::calibration::Shifts;
use super::parameters::*;
use super::population::Person;
use super::streams::{bernoulli, logistic, normal, uniform};

/// Person-level means of the survey latents (before random effects and wave shifts).
#[derive(Debug, Clone, Copy)]
pub(super) struct SurveyMeans {
    pub(super) ucla: f64,
    pub(super) eq: [f64; 5],
    pub(super) vas: f64,
}

pub(super) fn survey_means(p: &Person, referral: i32) -> SurveyMeans {
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

/// One answered questionnaire.
pub(super) struct PromsRow {
    pub(super) row: IdxSize,
    pub(super) wave: i64,
    pub(super) date: i32,
    pub(super) ucla: [Option<i64>; 3],
    pub(super) eq: [Option<i64>; 5],
    pub(super) vas: Option<f64>,
}

fn ordinal(latent: f64, thresholds: &[f64]) -> i64 {
    1 + thresholds.iter().filter(|&&t| latent > t).count() as i64
}

/// Referral source and questionnaires of one referred person.
pub(super) fn person_survey(
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
