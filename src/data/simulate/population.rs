//! The population: each person's birth, sex, origin, frailty, yearly snapshots
//! (municipality, practice, living alone, employment, Charlson index, income), death or
//! emigration, and candidate referral date, all drawn from the person's own stream.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};

use super::parameters::*;
use super::streams::{
    bernoulli, exponential, logistic, normal, poisson, stream_rng, uniform, Phase,
};
use crate::data::calendar::{age_on, days_from_civil};

/// Status on 31 December of a snapshot year (true values; `*_missing` masks the extract).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct YearState {
    pub(super) municipality: u16,
    pub(super) practice: u16,
    pub(super) practice_missing: bool,
    pub(super) living_alone: bool,
    pub(super) living_alone_missing: bool,
    pub(super) employment: u8,
    pub(super) employment_missing: bool,
    pub(super) charlson: u8,
    pub(super) income_latent: f64,
    pub(super) income_missing: bool,
    pub(super) income_quintile: u8,
}

#[derive(Debug, Clone)]
pub(super) struct Person {
    pub(super) birth: i32,
    pub(super) female: bool,
    pub(super) origin: u8,
    pub(super) death: Option<i32>,
    pub(super) emigration: Option<i32>,
    /// Day of death or emigration (`i32::MAX` if neither happens in the extract period).
    pub(super) exit: i32,
    pub(super) frailty: f64,
    pub(super) psychiatric: bool,
    pub(super) education: u8,
    pub(super) education_missing: bool,
    pub(super) years: [YearState; 4],
    pub(super) candidate_referral: i32,
    /// Exp(1) draw of the Efraimidis–Spirakis key.
    pub(super) selection_exp: f64,
    /// Contacts of each outcome group ([`GROUPS`] order) in the [`SEL_PRIOR_DAYS`]
    /// before the first day of the candidate referral's month; set with the contacts.
    pub(super) prior_use: [u16; 3],
}

impl Person {
    pub(super) fn age_years(&self, day: i32) -> f64 {
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

pub(super) fn draw_person(index: usize, key: &[u8; 32], frailty: &Gamma<f64>) -> Person {
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
pub(super) fn assign_income_quintiles(persons: &mut [Person]) {
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
