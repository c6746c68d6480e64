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
    let order = ValueOrder::by(pairs.len(), |i| pairs[i].0).rows;
    let n = Tally {
        persons: pairs.len(),
        weighted: pairs.iter().map(|(_, w)| w).sum(),
    };
    let [q1, median, q3] = quantiles_in_order(pairs, &order, [0.25, 0.5, 0.75]);
    Some(ContinuousStats {
        n,
        mean,
        sd: survey_variance(pairs, mean).map(f64::sqrt),
        median,
        q1,
        q3,
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
    let order: Vec<usize> = (0..sorted.len()).collect();
    quantiles_in_order(sorted, &order, [p])[0]
}

/// [`quantile_hf7`] at each of `ps`, of the pairs taken in `order` (sorted by value),
/// in two passes over the order without a sorted copy or the cumulative weights (a
/// column of the stacked risk sets has tens of millions of values). The sums are those
/// of the cumulative weights, in the same order, so the quantiles are the same to the
/// bit.
fn quantiles_in_order<const K: usize>(
    pairs: &[(f64, f64)],
    order: &[usize],
    ps: [f64; K],
) -> [f64; K] {
    let n = order.len();
    let value = |k: usize| pairs[order[k]].0;
    let weight = |k: usize| pairs[order[k]].1;
    if n == 1 {
        return [value(0); K];
    }
    // C_{n−1}: the weight of the largest value does not enter.
    let mut total = 0.0;
    for k in 0..n - 1 {
        total += weight(k);
    }
    let targets = ps.map(|p| p * total);
    // Per target, the last position k with C_k ≤ target and its C_k (C is
    // non-decreasing, so these positions are a prefix).
    let mut last = [(0usize, 0.0f64); K];
    let mut c = 0.0;
    for k in 0..n {
        for (last, &target) in last.iter_mut().zip(&targets) {
            if c <= target {
                *last = (k, c);
            }
        }
        c += weight(k);
    }
    std::array::from_fn(|t| {
        let (i, ci) = last[t];
        if i >= n - 1 {
            return value(n - 1);
        }
        let fraction = (targets[t] - ci) / weight(i);
        let (lo, hi) = (value(i), value(i + 1));
        lo + fraction * (hi - lo)
    })
}
