//! The true survey effects: latent shifts per wave, found so that the referred sample's
//! expected change in each score equals its target exactly (analytic expectations, a
//! bracketing root search).

use super::config::SimulateError;
use super::parameters::*;
use super::streams::phi;
use super::survey::SurveyMeans;

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
pub(super) fn calibrate_shift<F>(
    what: &str,
    target: f64,
    bound: f64,
    f: F,
) -> Result<f64, SimulateError>
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
pub(super) struct Shifts {
    pub(super) ucla: [f64; 2],
    pub(super) eq: [f64; 2],
    pub(super) vas: [f64; 2],
}

pub(super) fn calibrate_shifts(means: &[SurveyMeans]) -> Result<Shifts, SimulateError> {
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
