//! The balance rows of a factor's levels from its codes: one pass over the rows for
//! every level at once, instead of one 0/1 column and several passes per level. On the
//! stacked risk sets (millions of rows, a few dozen levels) this is most of a balance
//! table's work.
//!
//! Every statistic of a 0/1 column reduces to sums of weights over the rows with the
//! value 1, taken in row order: the sums here add the same weights in the same order
//! (the rows with the value 0 add only zeros there), so each row equals, to the bit, the
//! row [`balance_table`](super::balance_table) gives for the level's indicator column.

use super::smd::SQRT_EPS;
use super::table::{check_inputs, BalanceRow, BinaryUnits, GroupUnits};
use super::BalanceError;
use crate::stats::design::Code;

/// MatchIt's threshold below which a mean pair distance is not standardised.
const PAIR_DIST_FLOOR: f64 = 1e-8;

/// Per level: the rows with the level in each group, before and after matching, and
/// their weight after matching.
#[derive(Clone, Copy, Default)]
struct LevelSums {
    /// Rows with the level, `[control, treated]`.
    ones: [u64; 2],
    /// Of those, the rows with a matching weight other than 0.
    ones_matched: [u64; 2],
    /// Their matching weights, summed in row order.
    weight: [f64; 2],
    /// Matched pairs in which exactly one member has the level.
    pairs_differing: u64,
}

/// The balance rows of the 0/1 indicator columns of a factor's levels: column `k`,
/// named `names[k]`, is 1 in the rows whose code is `levels[k]` (codes of no column are
/// 0 in every column; codes of any width, none missing). Inputs as
/// [`balance_table`](super::balance_table) takes them.
///
/// # Errors
/// As [`balance_table`](super::balance_table).
pub fn factor_balance_rows<C: Code>(
    names: &[String],
    codes: &[C],
    levels: &[u32],
    treated: &[bool],
    weights: &[f64],
    pairs: &[(usize, usize)],
) -> Result<Vec<BalanceRow>, BalanceError> {
    check_inputs(treated, weights, pairs)?;
    if codes.len() != treated.len() {
        return Err(BalanceError::LengthMismatch {
            what: format!("covariate `{}`", names.first().map_or("", String::as_str)),
            expected: treated.len(),
            found: codes.len(),
        });
    }
    let n_codes = levels.iter().max().map_or(0, |&l| l as usize + 1);
    let mut column_of = vec![usize::MAX; n_codes];
    for (k, &level) in levels.iter().enumerate() {
        column_of[level as usize] = k;
    }
    let column = |code: C| {
        column_of
            .get(code.index())
            .copied()
            .filter(|&k| k != usize::MAX)
    };

    let mut sums = vec![LevelSums::default(); levels.len()];
    let (mut rows, mut matched) = ([0u64; 2], [0u64; 2]);
    // The total matching weight of each group, summed in row order as the table sums it.
    let mut weight_after = [0.0f64; 2];
    for ((&code, &t), &w) in codes.iter().zip(treated).zip(weights) {
        let g = usize::from(t);
        rows[g] += 1;
        if w != 0.0 {
            matched[g] += 1;
            weight_after[g] += w;
        }
        if let Some(k) = column(code) {
            let s = &mut sums[k];
            s.ones[g] += 1;
            if w != 0.0 {
                s.ones_matched[g] += 1;
                s.weight[g] += w;
            }
        }
    }
    for &(t, c) in pairs {
        let (kt, kc) = (column(codes[t]), column(codes[c]));
        if kt != kc {
            for k in [kt, kc].into_iter().flatten() {
                sums[k].pairs_differing += 1;
            }
        }
    }
    let n = treated.len() as f64;

    Ok(names
        .iter()
        .zip(&sums)
        .map(|(name, s)| {
            let sd = binary_smd_denominator(s.ones, rows, n);
            let before = Statistics::of(
                [s.ones[0] as f64, s.ones[1] as f64],
                [rows[0] as f64, rows[1] as f64],
                rows,
                sd,
                None,
            );
            let after = Statistics::of(
                s.weight,
                weight_after,
                matched,
                sd,
                (!pairs.is_empty()).then(|| s.pairs_differing as f64 / pairs.len() as f64),
            );
            let units = |ones: [u64; 2], all: [u64; 2]| GroupUnits {
                treated: [all[1] - ones[1], ones[1]],
                control: [all[0] - ones[0], ones[0]],
            };
            BalanceRow {
                term: name.clone(),
                binary: true,
                mean_treated_before: before.mean[1],
                mean_control_before: before.mean[0],
                smd_before: before.smd,
                variance_ratio_before: None,
                ecdf_mean_before: Some(before.mdiff.abs()),
                ecdf_max_before: Some(before.mdiff.abs()),
                mean_treated_after: after.mean[1],
                mean_control_after: after.mean[0],
                smd_after: after.smd,
                variance_ratio_after: None,
                ecdf_mean_after: Some(after.mdiff.abs()),
                ecdf_max_after: Some(after.mdiff.abs()),
                std_pair_dist_after: after.std_pair_dist,
                binary_units: Some(BinaryUnits {
                    before: units(s.ones, rows),
                    after: units(s.ones_matched, matched),
                }),
            }
        })
        .collect())
}

/// The statistics of a 0/1 column in one sample, `[control, treated]`.
struct Statistics {
    mean: [f64; 2],
    mdiff: f64,
    smd: Option<f64>,
    std_pair_dist: Option<f64>,
}

impl Statistics {
    /// From the weight of the rows with the value 1 and of all rows per group, the
    /// number of rows of non-zero weight per group, the SMD denominator and the mean
    /// within-pair difference.
    fn of(
        ones: [f64; 2],
        total: [f64; 2],
        nonzero: [u64; 2],
        sd: f64,
        pair_mean: Option<f64>,
    ) -> Statistics {
        let mean = [ones[0] / total[0], ones[1] / total[1]];
        let mdiff = mean[1] - mean[0];
        let too_small = nonzero[1] < 2 && nonzero[0] < 2;
        let standardised = mdiff.abs() > SQRT_EPS;
        let smd = match (standardised, too_small) {
            (false, _) => Some(mdiff),
            (true, false) => Some(mdiff / sd),
            (true, true) => None,
        };
        let std_pair_dist = pair_mean.and_then(|mean| match (standardised, too_small) {
            (false, _) => Some(mean),
            (true, false) if mean.abs() > PAIR_DIST_FLOOR => Some(mean / sd),
            (true, false) => Some(mean),
            (true, true) => None,
        });
        Statistics {
            mean,
            mdiff,
            smd,
            std_pair_dist,
        }
    }
}

/// [`smd_denominator`](super::smd_denominator) of a 0/1 column from its number of ones
/// and of rows per group, `[control, treated]`, and the number of rows `n`.
fn binary_smd_denominator(ones: [u64; 2], rows: [u64; 2], n: f64) -> f64 {
    let p = ones[1] as f64 / rows[1] as f64;
    let s = (p * (1.0 - p)).sqrt();
    if s.is_finite() && s >= SQRT_EPS {
        return s;
    }
    [1, 0]
        .iter()
        .map(|&g| {
            let (sum, ng) = (ones[g] as f64, rows[g] as f64);
            sum * (1.0 - sum / ng) / n
        })
        .sum::<f64>()
        .sqrt()
}
