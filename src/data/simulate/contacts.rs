//! Healthcare contacts: a Poisson process per person and contact type with seasonality,
//! prior use at the candidate referral date, and the effect of referral applied by
//! thinning.

use polars::prelude::IdxSize;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::parameters::*;
use super::population::Person;
use super::streams::{per_person_pieces, poisson, stream_rng, uniform, Phase};
use crate::data::calendar::{civil_from_days, first_of_month};

/// Seasonality factor per day of the extract period and its running sum.
pub(super) struct Season {
    pub(super) factor: Vec<f64>,
    pub(super) cumulative: Vec<f64>,
}

impl Season {
    pub(super) fn new() -> Self {
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
    pub(super) fn integral(&self, a: i32, b: i32) -> f64 {
        if b < a {
            return 0.0;
        }
        let (a, b) = ((a - EXTRACT_START) as usize, (b - EXTRACT_START) as usize);
        self.cumulative[b + 1] - self.cumulative[a]
    }
}

/// Annual contact rates of a person (frailty included, seasonality and effect excluded).
pub(super) fn annual_rates(p: &Person) -> [f64; N_TYPES] {
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
    let end = first_of_month(candidate);
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
pub(super) fn apply_effects(
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

/// The contacts table as columns: the person's row number, the day and the contact
/// type's code (an index into [`CONTACT_TYPES`]).
pub(super) struct ContactColumns {
    pub(super) row: Vec<IdxSize>,
    pub(super) day: Vec<i32>,
    pub(super) kind: Vec<IdxSize>,
}

/// Contacts of everyone without the effect of referral, with row `k` for the person
/// `order[k]`, and each person's prior use (by row) at their candidate referral date.
pub(super) fn simulate_contacts(
    persons: &[Person],
    order: &[u32],
    key: &[u8; 32],
) -> (ContactColumns, Vec<[u16; 3]>) {
    let season = Season::new();
    let pieces = per_person_pieces(order.len(), |range| {
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
    });
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
    (all, priors.concat())
}
