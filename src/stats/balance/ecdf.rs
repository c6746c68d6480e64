//! The weighted eCDF statistics (MatchIt's `qqsum`) and the order of a column's values
//! that they, and the quantiles of a descriptive table, walk.

use std::sync::atomic::{AtomicBool, Ordering};

use super::sample::Weights;
use rayon::slice::ParallelSliceMut;

/// Values below this that are whole numbers ≥ 0 (counts, codes) are put in order by
/// counting instead of sorting.
const COUNTING_SORT_LIMIT: f64 = 65_536.0;

/// The rows in the order of their values, ties in row order (a stable sort), and where
/// each run of equal values ends.
pub(crate) struct ValueOrder {
    pub(crate) rows: Vec<usize>,
    pub(super) last_of_run: Vec<bool>,
}

impl ValueOrder {
    /// The order of finite values (−0 and +0 are equal).
    pub(crate) fn of(values: &[f64]) -> ValueOrder {
        ValueOrder::by(values.len(), |i| values[i])
    }

    /// The order of the finite values `value(0..n)`.
    pub(crate) fn by(n: usize, value: impl Fn(usize) -> f64) -> ValueOrder {
        let whole = |v: f64| (0.0..COUNTING_SORT_LIMIT).contains(&v) && v.fract() == 0.0;
        let largest = (0..n).try_fold(0usize, |max, i| {
            let v = value(i);
            whole(v).then(|| max.max(v as usize))
        });
        if let Some(largest) = largest {
            // Counting sort: rows of each value in row order, values in increasing order.
            let mut start = vec![0usize; largest + 2];
            for i in 0..n {
                start[value(i) as usize + 1] += 1;
            }
            for k in 0..=largest {
                start[k + 1] += start[k];
            }
            let mut last_of_run = vec![false; n];
            for run in start.windows(2).filter(|run| run[1] > run[0]) {
                last_of_run[run[1] - 1] = true;
            }
            let mut rows = vec![0; n];
            for i in 0..n {
                let slot = &mut start[value(i) as usize];
                rows[*slot] = i;
                *slot += 1;
            }
            return ValueOrder { rows, last_of_run };
        }
        if n >= RADIX_SORT_MIN {
            if let Ok(n32) = u32::try_from(n) {
                let keys = grid_keys(n, &value)
                    .unwrap_or_else(|| (0..n).map(|i| order_key(value(i))).collect());
                let (keys, rows) = radix_sorted(keys, (0..n32).collect());
                let last_of_run = (0..n)
                    .map(|k| keys.get(k + 1).is_none_or(|&next| next != keys[k]))
                    .collect();
                return ValueOrder {
                    rows: rows.into_iter().map(|r| r as usize).collect(),
                    last_of_run,
                };
            }
        }
        let mut keyed: Vec<(u64, usize)> = (0..n).map(|i| (order_key(value(i)), i)).collect();
        keyed.par_sort_unstable();
        let last_of_run = keyed
            .iter()
            .enumerate()
            .map(|(k, &(key, _))| keyed.get(k + 1).is_none_or(|next| next.0 != key))
            .collect();
        ValueOrder {
            rows: keyed.into_iter().map(|(_, i)| i).collect(),
            last_of_run,
        }
    }
}

/// Columns of at least this many values are put in order by a radix sort.
const RADIX_SORT_MIN: usize = 1 << 16;

/// At most this many bits of the key are sorted on in one pass of [`radix_sorted`].
const RADIX_BITS: u32 = 11;

/// `keys` sorted, with `rows` moved along, ties in their order in `rows`: a
/// least-significant-digit radix sort over the bits the keys use, in as few passes of at
/// most [`RADIX_BITS`] bits as they need (digits of equal width), skipping the digits
/// every key shares. With the rows given in row order this is the order `sort_unstable`
/// gives the (key, row) pairs, in a few passes over the data instead of log₂ n, and in
/// 12 bytes a value instead of 16 (the stacked risk sets have tens of millions).
fn radix_sorted(mut keys: Vec<u64>, mut rows: Vec<u32>) -> (Vec<u64>, Vec<u32>) {
    let bits = 64 - keys.iter().fold(0, |all, &key| all | key).leading_zeros();
    let passes = bits.div_ceil(RADIX_BITS).max(1);
    let width = bits.div_ceil(passes).max(1);
    let radix = 1usize << width;
    let digit = |key: u64, pass: u32| ((key >> (pass * width)) as usize) & (radix - 1);
    let mut counts = vec![vec![0usize; radix]; passes as usize];
    for &key in &keys {
        for (pass, counts) in (0..passes).zip(counts.iter_mut()) {
            counts[digit(key, pass)] += 1;
        }
    }
    let (mut other_keys, mut other_rows) = (vec![0u64; keys.len()], vec![0u32; keys.len()]);
    for (pass, counts) in (0..passes).zip(counts.iter_mut()) {
        if counts.contains(&keys.len()) {
            continue;
        }
        let mut start = 0;
        for count in counts.iter_mut() {
            let c = *count;
            *count = start;
            start += c;
        }
        for (&key, &row) in keys.iter().zip(&rows) {
            let slot = &mut counts[digit(key, pass)];
            other_keys[*slot] = key;
            other_rows[*slot] = row;
            *slot += 1;
        }
        std::mem::swap(&mut keys, &mut other_keys);
        std::mem::swap(&mut rows, &mut other_rows);
    }
    (keys, rows)
}

/// Powers of ten tried by [`grid_keys`], each exact in a double.
const GRID_SCALES: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];

/// When every value is a multiple of one of 1, 0.1, ..., 1e-6 (values read from decimal
/// text with at most six decimals are, to the double nearest), the values' steps on that
/// grid counted from the smallest: keys in the values' order, equal exactly when the
/// values are, and using few bits, so that [`radix_sorted`] needs two passes where the
/// values' own bits need six. A value v is on the grid of `scale` when s = round(v·scale)
/// gives v back as s / scale; as rounding is monotone, v₁ < v₂ then gives s₁ ≤ s₂, and
/// s₁ = s₂ would give v₁ = v₂. `None` when some value is on none of the grids.
fn grid_keys(n: usize, value: impl Fn(usize) -> f64) -> Option<Vec<u64>> {
    const EXACT: f64 = (1u64 << 53) as f64;
    let mut steps: Vec<i64> = Vec::with_capacity(n);
    'scale: for scale in GRID_SCALES {
        steps.clear();
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for i in 0..n {
            let v = value(i);
            let scaled = v * scale;
            // Rounded half away from zero by a truncating conversion (`round` is a call
            // on x86-64's baseline); monotone in v, which is all the order needs, and
            // checked to give v back.
            let step = (scaled + 0.5_f64.copysign(scaled)) as i64;
            // Also false for a NaN or an infinite value.
            if !(scaled.abs() < EXACT && step as f64 / scale == v) {
                continue 'scale;
            }
            lo = lo.min(step);
            hi = hi.max(step);
            steps.push(step);
        }
        if lo > hi {
            return None;
        }
        // Steps below 2^53 in size: their differences fit.
        return Some(steps.into_iter().map(|s| (s - lo) as u64).collect());
    }
    None
}

/// A key whose order as an integer is the numeric order of finite values (−0 = +0).
fn order_key(v: f64) -> u64 {
    let bits = (v + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// Mean and maximum of `|F_T(x) − F_C(x)|` over the distinct values of `values`
/// (MatchIt's `qqsum(standardize = TRUE)`): weights normalised within group; units
/// with weight 0 still provide evaluation points.
#[cfg(test)]
pub(super) fn ecdf_differences(values: &[f64], treated: &[bool], weights: &[f64]) -> (f64, f64) {
    let total = |flag: bool| -> f64 {
        (0..treated.len())
            .filter(|&i| treated[i] == flag)
            .map(|i| weights[i])
            .sum()
    };
    EcdfPoints::of(values).differences(
        treated,
        Weights::Given(weights),
        (total(true), total(false)),
    )
}

/// The most steps a column's decimal grid may span for [`EcdfPoints::Grid`], and at most
/// [`GRID_STEPS_PER_VALUE`] a value: a vector of that many doubles is walked per statistic.
const GRID_STEPS_MAX: u64 = 1 << 22;
const GRID_STEPS_PER_VALUE: u64 = 8;

static ECDFS_ON_GRIDS: AtomicBool = AtomicBool::new(false);

/// Whether large columns on a decimal grid take their eCDF statistics from the grid's
/// steps ([`EcdfPoints::Grid`]; off unless a command turns it on: `shine match` does).
/// Their last digits then differ from the walk over the sorted rows (by up to about 1e-12
/// relative on a million rows), so the analysis pipeline, whose results are compared
/// byte for byte between versions, keeps the walk.
pub fn ecdfs_on_grids(on: bool) {
    ECDFS_ON_GRIDS.store(on, Ordering::Relaxed);
}

/// Where a column's eCDF statistics are evaluated (its distinct values, in order) and
/// how its rows reach them.
pub(crate) enum EcdfPoints {
    /// The rows in the order of their values.
    Sorted(ValueOrder),
    /// A large column of values on one decimal grid of few steps (as read from decimal
    /// text; see [`grid_keys`]): each row's step counted from the smallest value, and
    /// which steps hold a value. A statistic adds each row's weight to its step and
    /// walks the steps, without putting the rows in order.
    Grid {
        steps: Vec<u32>,
        occupied: Vec<bool>,
    },
}

impl EcdfPoints {
    /// The points of a column of finite values: on its grid where [`ecdfs_on_grids`]
    /// allows it.
    pub(crate) fn of(values: &[f64]) -> EcdfPoints {
        EcdfPoints::with_grid(values, ECDFS_ON_GRIDS.load(Ordering::Relaxed))
    }

    /// The points of a column of finite values, on its grid when `grid` allows it.
    pub(crate) fn with_grid(values: &[f64], grid: bool) -> EcdfPoints {
        let n = values.len();
        if grid && n >= RADIX_SORT_MIN {
            let limit = GRID_STEPS_MAX.min(GRID_STEPS_PER_VALUE.saturating_mul(n as u64));
            let keys = grid_keys(n, |i| values[i]).filter(|keys| keys.iter().all(|&k| k < limit));
            if let Some(keys) = keys {
                let span = keys.iter().max().map_or(0, |&k| k as usize + 1);
                let mut occupied = vec![false; span];
                let steps = keys
                    .into_iter()
                    .map(|k| {
                        occupied[k as usize] = true;
                        k as u32
                    })
                    .collect();
                return EcdfPoints::Grid { steps, occupied };
            }
        }
        EcdfPoints::Sorted(ValueOrder::of(values))
    }

    /// [`ecdf_differences`] at these points, given the total weights of the treated and
    /// the controls, `(sw1, sw0)`. On a grid each step's weights are added up before
    /// the running difference takes them: fewer roundings than the walk over the sorted
    /// rows, so the last digits may differ from it (by about 1e-12 relative on a
    /// million rows).
    pub(super) fn differences(
        &self,
        treated: &[bool],
        weights: Weights<'_>,
        sums: (f64, f64),
    ) -> (f64, f64) {
        match self {
            EcdfPoints::Sorted(order) => ecdf_in_order(order, treated, weights, sums),
            EcdfPoints::Grid { steps, occupied } => {
                let (sw1, sw0) = sums;
                let mut net = crate::memory::written_vec(occupied.len(), 0.0_f64);
                match weights.unit_shares(sums) {
                    Some((share1, share0)) => {
                        for (&step, &t) in steps.iter().zip(treated) {
                            net[step as usize] += if t { share1 } else { share0 };
                        }
                    }
                    None => {
                        for (i, &step) in steps.iter().enumerate() {
                            let w = *weights.get(i);
                            if w != 0.0 {
                                net[step as usize] += if treated[i] { w / sw1 } else { -w / sw0 };
                            }
                        }
                    }
                }
                let (mut cum, mut sum, mut max, mut count) = (0.0_f64, 0.0_f64, 0.0_f64, 0usize);
                for (&net, _) in net.iter().zip(occupied).filter(|(_, &o)| o) {
                    cum += net;
                    sum += cum.abs();
                    max = max.max(cum.abs());
                    count += 1;
                }
                (sum / count as f64, max)
            }
        }
    }
}

/// [`ecdf_differences`] given the order of the values and the total weights of the
/// treated and the controls, `(sw1, sw0)`.
pub(super) fn ecdf_in_order(
    order: &ValueOrder,
    treated: &[bool],
    weights: Weights<'_>,
    (sw1, sw0): (f64, f64),
) -> (f64, f64) {
    let (mut cum, mut sum, mut max, mut count) = (0.0_f64, 0.0_f64, 0.0_f64, 0usize);
    let unit = weights.unit_shares((sw1, sw0));
    for (&i, &last) in order.rows.iter().zip(&order.last_of_run) {
        cum += match (unit, treated[i]) {
            (Some((share1, _)), true) => share1,
            (Some((_, share0)), false) => share0,
            (None, true) => weights.get(i) / sw1,
            (None, false) => -weights.get(i) / sw0,
        };
        if last {
            sum += cum.abs();
            max = max.max(cum.abs());
            count += 1;
        }
    }
    (sum / count as f64, max)
}
