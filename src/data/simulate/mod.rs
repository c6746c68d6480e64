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
//! phase, plus one for the id permutation. Work is cut into fixed pieces of persons that
//! run on the command's thread pool (`--threads`), and every table is built in a fixed
//! order, so the output is identical for the same seed whatever the number of threads.
//!
//! # Layout
//!
//! `parameters` holds every constant of the model above; `population`, `selection`,
//! `contacts`, `survey` and `calibration` draw and calibrate it in that order;
//! `tables` writes the extract tables and `truth` the record of what generated them;
//! `streams` holds the random streams and the split of the work over threads.

mod calibration;
mod config;
mod contacts;
mod parameters;
mod participation;
mod population;
mod raw;
mod selection;
mod streams;
mod survey;
mod tables;
mod truth;

pub use config::{SimulateError, SimulatedExtracts, SimulationConfig};
pub use raw::{is_raw_register_name, raw_registers, RawFile, RawTable};
pub use truth::{
    AgeBand, AttritionParameters, ContactRateParameters, ContactTypeRate, CovariateCentres,
    DeathParameters, EmigrationParameters, Eq5dParameters, EqVasParameters, FrailtyParameters,
    Parameters, Period, PopulationParameters, SeasonalityParameters, SelectionParameters,
    SurveyParameters, Truth, Ucla3Parameters, WaveWindow,
};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Gamma;

use calibration::{calibrate_shifts, Shifts};
use contacts::{apply_effects, simulate_contacts};
use parameters::{FRAILTY_SHAPE, MAX_PERSONS};
use population::{assign_income_quintiles, draw_person, Person};
use selection::select_referred;
use streams::{per_person_pieces, stream_rng, Phase};
use survey::{person_survey, survey_means, SurveyMeans};
use truth::build_truth;

/// Simulates a complete, internally consistent set of extracts.
///
/// # Errors
/// [`SimulateError::InvalidConfig`] when `referred` or `pool` is zero or the population
/// exceeds 99,999,999 persons; [`SimulateError::TooFewEligible`] when the population has
/// fewer eligible persons than `referred` (raise `pool`).
pub fn simulate(config: &SimulationConfig) -> Result<SimulatedExtracts, SimulateError> {
    simulate_with_state(config).map(|(extracts, _)| extracts)
}

/// The simulation's true, unmasked state, which the tests check the tables against.
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

/// [`simulate`], also returning the state the tables were written from.
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
    if !config.prior_use_selection.is_finite() || config.prior_use_selection.abs() > 10.0 {
        return Err(SimulateError::InvalidConfig(format!(
            "the prior-use selection scale must be between -10 and 10, got {}",
            config.prior_use_selection
        )));
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
    let mut persons: Vec<Person> = per_person_pieces(n, |range| {
        range
            .map(|i| draw_person(i, &key, &frailty))
            .collect::<Vec<_>>()
    })
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
    let (mut contacts, prior) = simulate_contacts(&persons, &order, &key);
    for (k, counts) in prior.into_iter().enumerate() {
        persons[order[k] as usize].prior_use = counts;
    }

    // Referral.
    let mut chosen = select_referred(
        &persons,
        config.referred,
        config.frailty_selection,
        config.prior_use_selection,
    )?;
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

    let ids = tables::person_ids(n);
    let persons_df = tables::persons_table(&ids, &persons, &order)?;
    let covariates_df = tables::covariates_table(&ids, &persons, &order)?;
    let referrals_df = tables::referrals_table(&ids, &persons, &rank, &referred, &sources)?;
    let proms_df = tables::proms_table(&ids, &proms_rows)?;
    let answered_waves: std::collections::HashSet<(usize, i64)> = proms_rows
        .iter()
        .map(|p| (p.row as usize, p.wave))
        .collect();
    let mut participation_rows = Vec::with_capacity(referred.len() * 2);
    for &(i, r) in &referred {
        let k = rank[i] as usize;
        let answered = [3, 9].map(|wave| answered_waves.contains(&(k, wave)));
        let mut rng = stream_rng(&key, Phase::Participation, i);
        participation::person_participation(
            k,
            r,
            persons[i].exit,
            answered,
            &mut rng,
            &mut participation_rows,
        );
    }
    drop(proms_rows);
    let participation_df = participation::participation_table(&ids, &participation_rows)?;
    let contacts_df = tables::contacts_table(&ids, contacts)?;

    let truth = build_truth(config, &shifts);
    let extracts = SimulatedExtracts {
        persons: persons_df,
        covariates: covariates_df,
        referrals: referrals_df,
        contacts: contacts_df,
        proms: proms_df,
        participation: participation_df,
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

#[cfg(test)]
mod tests;
