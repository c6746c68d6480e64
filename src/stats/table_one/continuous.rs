//! A continuous variable in one group: the weighted mean, survey's `svyvar` SD and the
//! `hf7` quantiles.

use super::summary::{ContinuousStats, Tally};
use crate::stats::balance::{self, ValueOrder};

/// Mean, `svyvar` SD and `hf7` quartiles of (value, weight) pairs with a value and a
/// positive weight (as [`summarise_variable`] collects them); `None` if empty.
///
/// [`summarise_variable`]: super::summary::summarise_variable
pub(super) fn continuous_stats(pairs: &[(f64, f64)]) -> Option<ContinuousStats> {
    if pairs.is_empty() {
        return None;
    }
    let mean = balance::weighted_mean_of(|| pairs.iter().map(|(x, w)| (*x, w)));
    // By value, ties in input order (a stable sort).
    let sorted: Vec<(f64, f64)> = ValueOrder::by(pairs.len(), |i| pairs[i].0)
        .rows
        .iter()
        .map(|&i| pairs[i])
        .collect();
    let n = Tally {
        persons: pairs.len(),
        weighted: pairs.iter().map(|(_, w)| w).sum(),
    };
    let cumulative = cumulative_weights(&sorted);
    Some(ContinuousStats {
        n,
        mean,
        sd: survey_variance(pairs, mean).map(f64::sqrt),
        median: quantile_in(&sorted, &cumulative, 0.5),
        q1: quantile_in(&sorted, &cumulative, 0.25),
        q3: quantile_in(&sorted, &cumulative, 0.75),
    })
}

/// `survey::svyvar`: `n / (n − 1) · Σ w (x − x̄)² / Σ w`, n = number of pairs; R's
/// `var()` with unit weights. `None` with fewer than 2 pairs.
fn survey_variance(pairs: &[(f64, f64)], mean: f64) -> Option<f64> {
    let n = pairs.len() as f64;
    if pairs.len() < 2 {
        return None;
    }
    let sum_w: f64 = pairs.iter().map(|&(_, w)| w).sum();
    let ss: f64 = pairs
        .iter()
        .map(|&(x, w)| w * (x - mean) * (x - mean))
        .sum();
    Some(n / (n - 1.0) * ss / sum_w)
}

/// survey's `qrule_hf7` on pairs sorted by value: value i (0-based) sits at
/// `C_i / C_{n−1}` with `C_i = Σ_{j<i} w_j`; linear interpolation in between. With unit
/// weights this is R's `quantile(type = 7)`: position `(n − 1) p`.
#[cfg(test)]
pub(super) fn quantile_hf7(sorted: &[(f64, f64)], p: f64) -> f64 {
    quantile_in(sorted, &cumulative_weights(sorted), p)
}

/// `C_i = Σ_{j<i} w_j` of pairs sorted by value (the weight of the largest value does not
/// enter).
fn cumulative_weights(sorted: &[(f64, f64)]) -> Vec<f64> {
    let mut cumulative = Vec::with_capacity(sorted.len());
    let mut c = 0.0;
    for &(_, w) in sorted {
        cumulative.push(c);
        c += w;
    }
    cumulative
}

/// [`quantile_hf7`] given the [`cumulative_weights`] of the sorted pairs.
fn quantile_in(sorted: &[(f64, f64)], cumulative: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0].0;
    }
    let target = p * cumulative[n - 1];
    let i = cumulative
        .partition_point(|&ci| ci <= target)
        .saturating_sub(1);
    if i >= n - 1 {
        return sorted[n - 1].0;
    }
    let fraction = (target - cumulative[i]) / sorted[i].1;
    let (lo, hi) = (sorted[i].0, sorted[i + 1].0);
    lo + fraction * (hi - lo)
}
