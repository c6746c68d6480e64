//! Selection into referral: who is eligible on their candidate date, and the weighted
//! draw of exactly the requested number of referred persons.

use super::config::SimulateError;
use super::parameters::*;
use super::population::Person;
use crate::data::calendar::age_on;

/// Whether `p` can be referred on `day` (see the module documentation).
pub(super) fn eligible_on(p: &Person, day: i32) -> bool {
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

/// Log-weight of referral on `day`: observed covariates, prior use of each outcome
/// group and, with `frailty_selection` > 0, the unobserved frailty.
fn selection_log_weight(
    p: &Person,
    day: i32,
    frailty_selection: f64,
    prior_use_selection: f64,
) -> f64 {
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
        + prior_use_selection * prior
        + frailty_selection * p.frailty.ln()
}

/// Indices of the referred persons: the `referred` eligible persons with the largest
/// Efraimidis–Spirakis keys `U^(1/w)`, i.e. the smallest `ln E − ln w` with `E ~ Exp(1)`.
pub(super) fn select_referred(
    persons: &[Person],
    referred: usize,
    frailty_selection: f64,
    prior_use_selection: f64,
) -> Result<Vec<usize>, SimulateError> {
    let mut keys: Vec<(f64, usize)> = persons
        .iter()
        .enumerate()
        .filter(|(_, p)| eligible_on(p, p.candidate_referral))
        .map(|(i, p)| {
            (
                p.selection_exp.ln()
                    - selection_log_weight(
                        p,
                        p.candidate_referral,
                        frailty_selection,
                        prior_use_selection,
                    ),
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
