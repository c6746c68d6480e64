//! Weighted means and variances: MatchIt's `wvar` and the descriptive helpers built on
//! it. In the descriptive helpers missing values are NaN and are skipped,
//! `weights = None` means unit weights, and units with weight 0 are left out.

use super::BalanceError;

/// The values of one group, in row order.
pub(super) fn select<'a>(
    values: &'a [f64],
    treated: &'a [bool],
    flag: bool,
) -> impl Iterator<Item = f64> + 'a {
    values
        .iter()
        .zip(treated)
        .filter(move |(_, &t)| t == flag)
        .map(|(&v, _)| v)
}

/// `Σ w x / Σ w` over the (x, w) of a group, summed in row order.
pub(crate) fn weighted_mean_of<'w, I>(group: impl Fn() -> I) -> f64
where
    I: Iterator<Item = (f64, &'w f64)>,
{
    let sw: f64 = group().map(|(_, w)| w).sum();
    group().map(|(x, w)| x * w).sum::<f64>() / sw
}

/// `Σ w̃ (x − x̄_w)² / (1 − Σ w̃²)` with `w̃ = w / Σ w` (MatchIt's `wvar`, `cov.wt`), over
/// the (x, w) of a group.
pub(super) fn reliability_variance_of<'w, I>(group: impl Fn() -> I) -> f64
where
    I: Iterator<Item = (f64, &'w f64)>,
{
    let sw: f64 = group().map(|(_, w)| w).sum();
    let mean = group().map(|(a, b)| a * b / sw).sum::<f64>();
    let ss: f64 = group().map(|(a, b)| b / sw * (a - mean) * (a - mean)).sum();
    let sw2: f64 = group().map(|(_, b)| (b / sw) * (b / sw)).sum();
    ss / (1.0 - sw2)
}

/// The total weight, the weighted mean ([`weighted_mean_of`]) and, when `variance` is
/// set, the reliability variance ([`reliability_variance_of`]) of a group: each of their
/// sums taken in row order from −0 as those functions take it (the same numbers to the
/// bit), side by side in two or three passes over the group instead of six.
pub(super) fn moments_of<'w, I>(group: impl Fn() -> I, variance: bool) -> (f64, f64, Option<f64>)
where
    I: Iterator<Item = (f64, &'w f64)>,
{
    let sw: f64 = group().map(|(_, w)| w).sum();
    let (mut sxw, mut mean, mut sw2) = (-0.0_f64, -0.0_f64, -0.0_f64);
    if variance {
        for (a, b) in group() {
            sxw += a * b;
            mean += a * b / sw;
            sw2 += (b / sw) * (b / sw);
        }
    } else {
        for (a, b) in group() {
            sxw += a * b;
        }
    }
    let var = variance.then(|| {
        let mut ss = -0.0_f64;
        for (a, b) in group() {
            ss += b / sw * (a - mean) * (a - mean);
        }
        ss / (1.0 - sw2)
    });
    (sw, sxw / sw, var)
}

/// [`moments_of`] over the rows `rows` of `values` with every weight 1, to the bit. A
/// weight of exactly 1 leaves `x · w` as `x` and makes every `w / Σ w` the same number,
/// so that division is made once; the divisions `x / Σ w` of the mean are made for a
/// group of rows at a time, side by side, and added in row order.
pub(super) fn unit_moments_of(
    values: &[f64],
    rows: &[usize],
    variance: bool,
) -> (f64, f64, Option<f64>) {
    const GROUP: usize = 64;
    // Σ 1 from −0 over the rows: their number, or −0 when there are none.
    let sw = if rows.is_empty() {
        -0.0
    } else {
        rows.len() as f64
    };
    let (mut sxw, mut mean, mut sw2) = (-0.0_f64, -0.0_f64, -0.0_f64);
    let share = 1.0 / sw;
    let share2 = share * share;
    let mut x = [0.0; GROUP];
    let mut quotient = [0.0; GROUP];
    if variance {
        for group in rows.chunks(GROUP) {
            let (x, quotient) = (&mut x[..group.len()], &mut quotient[..group.len()]);
            for (x, &i) in x.iter_mut().zip(group) {
                *x = values[i];
            }
            for (q, &x) in quotient.iter_mut().zip(x.iter()) {
                *q = x / sw;
            }
            for (&x, &q) in x.iter().zip(quotient.iter()) {
                sxw += x;
                mean += q;
                sw2 += share2;
            }
        }
    } else {
        for &i in rows {
            sxw += values[i];
        }
    }
    let var = variance.then(|| {
        let mut ss = -0.0_f64;
        for &i in rows {
            let a = values[i];
            ss += share * (a - mean) * (a - mean);
        }
        ss / (1.0 - sw2)
    });
    (sw, sxw / sw, var)
}

/// [`weighted_mean_of`] over paired slices.
fn weighted_mean_unchecked(x: &[f64], w: &[f64]) -> f64 {
    weighted_mean_of(|| x.iter().copied().zip(w))
}

/// [`reliability_variance_of`] over paired slices.
fn reliability_variance(x: &[f64], w: &[f64]) -> f64 {
    reliability_variance_of(|| x.iter().copied().zip(w))
}

/// The non-missing values with positive weight, and the number of missing values.
fn present(
    x: &[f64],
    weights: Option<&[f64]>,
) -> Result<(Vec<f64>, Vec<f64>, usize), BalanceError> {
    if let Some(w) = weights {
        if w.len() != x.len() {
            return Err(BalanceError::LengthMismatch {
                what: "weights".to_string(),
                expected: x.len(),
                found: w.len(),
            });
        }
        if let Some((row, &value)) = w
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
        {
            return Err(BalanceError::InvalidWeight { row, value });
        }
    }
    let mut values = Vec::with_capacity(x.len());
    let mut kept = Vec::with_capacity(x.len());
    let mut missing = 0;
    for (i, &v) in x.iter().enumerate() {
        let w = weights.map_or(1.0, |w| w[i]);
        if v.is_nan() {
            missing += 1;
        } else if w > 0.0 {
            values.push(v);
            kept.push(w);
        }
    }
    Ok((values, kept, missing))
}

/// Weighted mean `Σ w x / Σ w` over non-missing values; `None` if no value has
/// positive weight.
///
/// # Errors
/// [`BalanceError::LengthMismatch`], [`BalanceError::InvalidWeight`].
pub fn weighted_mean(x: &[f64], weights: Option<&[f64]>) -> Result<Option<f64>, BalanceError> {
    let (v, w, _) = present(x, weights)?;
    Ok((!v.is_empty()).then(|| weighted_mean_unchecked(&v, &w)))
}

/// Weighted variance with reliability weights, MatchIt's `wvar` (R's `cov.wt`):
/// `Σ w̃ (x − x̄_w)² / (1 − Σ w̃²)`, `w̃ = w / Σ w` — R's `var()` with unit weights,
/// and invariant to rescaling the weights. This is the convention of matching
/// software (MatchIt, cobalt) for matching weights; with integer *frequency* weights
/// it is not the variance of the expanded data. `None` with fewer than 2 units.
///
/// # Errors
/// [`BalanceError::LengthMismatch`], [`BalanceError::InvalidWeight`].
pub fn weighted_variance(x: &[f64], weights: Option<&[f64]>) -> Result<Option<f64>, BalanceError> {
    let (v, w, _) = present(x, weights)?;
    if v.len() < 2 {
        return Ok(None);
    }
    let var = reliability_variance(&v, &w);
    Ok(var.is_finite().then_some(var))
}
