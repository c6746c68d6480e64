//! Detection of complete or quasi-complete separation (binomial) and of rates driven to
//! zero (Poisson) from the IRLS path, where R only warns.

use nalgebra::DVector;
use serde::Serialize;

use super::irls::IrlsResult;
use super::rows::{for_each_block, PASS_BLOCK_ROWS};
use super::Family;
use crate::stats::coefficient::Coefficient;
use crate::stats::design::DesignRows;

/// Evidence of complete or quasi-complete separation (binomial) or of a rate
/// driven to zero (Poisson): the maximum-likelihood estimate does not exist and some
/// coefficients run off towards infinity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Separation {
    /// Columns whose estimates diverge (see [`fit_glm`](super::fit_glm) for the rule),
    /// in the original order. The intercept is listed only when no other column
    /// diverges. Empty when fitted values reached 0 or 1 without any coefficient
    /// diverging (R's warning "fitted probabilities numerically 0 or 1 occurred" on an
    /// otherwise regular fit, e.g. an extreme but finite linear predictor).
    pub covariates: Vec<String>,
    /// Number of separated observations: those whose linear predictor still moved by
    /// more than 0.5 in the last IRLS iteration along the diverging direction, or whose
    /// fitted probability is within 1e-10 of 0 or 1 (binomial) / fitted rate is below
    /// 1e-10 (Poisson).
    pub observations: usize,
}

/// Fitted values closer than this to 0 or 1 (binomial), or to 0 (Poisson), count as
/// numerically on the boundary.
const BOUNDARY_TOLERANCE: f64 = 1e-10;

/// Smallest change of the linear predictor per IRLS iteration (in units of eta) that
/// counts as drift. Under separation the separated observations' eta moves by about 1
/// per iteration (the Newton step of log(1 + exp(-t)) or exp(-t) at large t); a
/// converging fit's steps shrink quadratically to ~0.
const DRIFT_STEP: f64 = 0.5;

/// Number of final IRLS steps that must all show drift.
const DRIFT_STEPS: usize = 3;

/// See the separation paragraph of [`fit_glm`](super::fit_glm).
pub(super) fn detect_separation<X: DesignRows + ?Sized>(
    x: &X,
    fit: &IrlsResult,
    prior: &DVector<f64>,
    coefficients: &[Coefficient],
    intercept: Option<usize>,
    column_names: &[String],
    family: Family,
) -> Option<Separation> {
    let on_boundary = |mu: f64| match family {
        Family::Binomial => !(BOUNDARY_TOLERANCE..=1.0 - BOUNDARY_TOLERANCE).contains(&mu),
        Family::Poisson => mu < BOUNDARY_TOLERANCE,
        Family::Gaussian => false,
    };
    if family == Family::Gaussian {
        return None;
    }
    let n = x.nrows();
    let p = x.ncols();
    let used = |i: usize| prior[i] > 0.0;
    // Steps of the last DRIFT_STEPS iterations, newest first.
    let h = &fit.history;
    let steps: Vec<DVector<f64>> = (1..=DRIFT_STEPS)
        .filter(|&back| h.len() > back)
        .map(|back| &h[h.len() - back] - &h[h.len() - back - 1])
        .collect();
    let boundary_rows = || {
        (0..n)
            .filter(|&i| used(i) && on_boundary(fit.mu[i]))
            .count()
    };
    // A converged fit does not explode, and drifts only where its newest step moves some
    // row's linear predictor by more than DRIFT_STEP: when a bound on each column's
    // values rules that out, no column diverges, and their scales are not needed.
    let no_drift = fit.converged
        && (steps.len() < DRIFT_STEPS || {
            let bounds = crate::stats::map_indices(p, |j| x.abs_bound(j));
            let at_most = |size: f64| size <= DRIFT_STEP || size.is_nan();
            (0..p).all(|j| bounds[j].is_some_and(|b| at_most(steps[0][j].abs() * b)))
        });
    if no_drift {
        let observations = boundary_rows();
        return (observations > 0).then(|| Separation {
            covariates: Vec::new(),
            observations,
        });
    }
    // eta-scale of each column: the largest change of eta per unit of beta_j.
    let segments = x.segments();
    let scales = crate::stats::for_each_part(n, 0..n, |_, rows| {
        let mut scales = vec![0.0f64; p];
        match &segments {
            // A row's entries only: the zeros left out do not change a largest |x|.
            Some(segments) => {
                let width = segments.width();
                let mut columns = vec![0u32; PASS_BLOCK_ROWS * width];
                let mut values = vec![0.0; PASS_BLOCK_ROWS * width];
                let mut scratch = vec![0.0; PASS_BLOCK_ROWS];
                for start in rows.clone().step_by(PASS_BLOCK_ROWS) {
                    let len = (start + PASS_BLOCK_ROWS).min(rows.end) - start;
                    segments.fill(start, len, &mut columns, &mut values, &mut scratch);
                    for i in (0..len).filter(|&i| used(start + i)) {
                        for s in i * width..(i + 1) * width {
                            let scale = &mut scales[columns[s] as usize];
                            *scale = scale.max(values[s].abs());
                        }
                    }
                }
            }
            None => for_each_block(x, rows, |start, len, block| {
                for (j, scale) in scales.iter_mut().enumerate() {
                    let column = &block[j * PASS_BLOCK_ROWS..j * PASS_BLOCK_ROWS + len];
                    for (i, v) in column.iter().enumerate() {
                        if used(start + i) {
                            *scale = scale.max(v.abs());
                        }
                    }
                }
            }),
        }
        scales
    })
    .into_iter()
    .fold(vec![0.0f64; p], |all, part| {
        all.iter().zip(&part).map(|(a, b)| a.max(*b)).collect()
    });

    let mut diverging = Vec::new();
    for (j, c) in coefficients.iter().enumerate().take(p) {
        if !c.estimate.is_finite() {
            continue;
        }
        let scale = scales[j];
        let drifting = steps.len() == DRIFT_STEPS && {
            let sizes: Vec<f64> = steps.iter().map(|s| s[j] * scale).collect();
            let sign = sizes[0].signum();
            sizes
                .iter()
                .all(|&a| a.abs() > DRIFT_STEP && a.signum() == sign)
                && sizes.windows(2).all(|w| w[0].abs() >= 0.5 * w[1].abs())
        };
        let exploding =
            !fit.converged && c.std_error * scale > 1e3 && c.estimate.abs() * scale > 10.0;
        if drifting || exploding {
            diverging.push(j);
        }
    }
    if let Some(icpt) = intercept {
        if diverging.len() > 1 {
            diverging.retain(|&j| j != icpt);
        }
    }

    // Observations whose linear predictor still moves along the last step, or whose
    // fitted value is on the boundary.
    let last_step = if diverging.is_empty() {
        None
    } else {
        steps.first()
    };
    let observations: usize = match last_step {
        None => boundary_rows(),
        Some(s) => crate::stats::for_each_part(n, 0..n, |_, rows| {
            let mut count = 0;
            for_each_block(x, rows, |start, len, block| {
                for r in 0..len {
                    let i = start + r;
                    let moved =
                        || -> f64 { (0..p).map(|j| block[j * PASS_BLOCK_ROWS + r] * s[j]).sum() };
                    if used(i) && (on_boundary(fit.mu[i]) || moved().abs() > DRIFT_STEP) {
                        count += 1;
                    }
                }
            });
            count
        })
        .into_iter()
        .sum(),
    };
    if observations == 0 && diverging.is_empty() {
        return None;
    }
    Some(Separation {
        covariates: diverging.iter().map(|&j| column_names[j].clone()).collect(),
        observations,
    })
}
