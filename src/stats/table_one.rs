//! "Table 1": baseline characteristics by group, before matching (unweighted) and after
//! (weighted by the matching weights), with the standardised mean differences that R's
//! tableone prints with `print(..., smd = TRUE)`.
//!
//! Definitions follow tableone 0.13 — `CreateTableOne` for unweighted data and
//! `svyCreateTableOne` on `svydesign(ids = ~1, weights = ~weights, data = matched)` for
//! the matched sample (its `modules-smd.R`, `modules-svy.R`), with the survey package's
//! `svymean`, `svyvar` and `svytable`. Unit weights reproduce the unweighted table
//! exactly, so both columns go through the same code.
//!
//! - **n**: persons with a positive weight, and the sum of their weights
//!   (`svytotal(~one(x))`). Units with weight 0 are not in the matched sample and are
//!   left out entirely (tableone is run on `match.data()`, which drops them).
//! - **Continuous**: weighted mean `x̄ = Σ w x / Σ w`; SD from `survey::svyvar`,
//!   `s² = n / (n − 1) · Σ w (x − x̄)² / Σ w`, where n is the number of persons with a
//!   value (R's `var()` with unit weights). This is *not* the reliability-weight variance
//!   that MatchIt and [`balance::weighted_variance`] use (`… / (1 − Σ w̃²)`); the two
//!   agree only when all weights are equal. survey's `svyvar` counts persons whose value
//!   is missing in its n as well; here n counts persons with a value, so that unit
//!   weights give R's `sd(x, na.rm = TRUE)` — the two differ only when values are missing.
//! - **Median [Q1, Q3]**: R's `quantile(type = 7)` for unit weights (tableone's
//!   unweighted choice) and its weighted generalisation, survey's
//!   `svyquantile(qrule = "hf7")`: sorted values `x₍ᵢ₎` are placed at
//!   `pᵢ = Σ_{j<i} w₍ⱼ₎ / Σ_{j<n} w₍ⱼ₎` and the quantile is linearly interpolated. tableone's
//!   weighted table calls `svyquantile` with survey's default rule (`"math"`, the
//!   inverse of the weighted eCDF — type 1 with unit weights); `hf7` is used instead so
//!   that the matched columns (all weights 1 under 1:1 matching without replacement) and
//!   the unmatched columns use one definition.
//! - **Categorical**: weighted count and percentage of each level among persons with a
//!   value (`svytable`, `prop.table`); missing values are counted separately.
//! - **SMD** (tableone's `StdDiff`, `svyStdDiff`, `StdDiffMulti`; absolute values):
//!   continuous `|x̄_T − x̄_C| / sqrt((s²_T + s²_C) / 2)` — the pooled SD, not the treated
//!   SD that MatchIt's balance table uses; categorical with levels 1..k (a two-level
//!   variable included): Yang & Dalton's `sqrt((p_T − p_C)ᵀ S⁻ (p_T − p_C))` over the
//!   proportions of levels 2..k, `S = (S_T + S_C) / 2`, `S_g[k,k] = p_k (1 − p_k)`,
//!   `S_g[k,l] = −p_k p_l`, `S⁻` the Moore–Penrose inverse (MASS `ginv`, tolerance
//!   `sqrt(ε)` relative to the largest singular value). For two levels this is
//!   `|p_T − p_C| / sqrt((p_T (1 − p_T) + p_C (1 − p_C)) / 2)`.
//!
//! R's tableone is not installable in this environment (no Debian package, no CRAN
//! access), so the tests check hand-computed values of these formulas rather than
//! stored tableone output.
//!
//! ## References
//! - Yoshida, K. and Bartel, A. tableone: Create 'Table 1' to describe baseline
//!   characteristics with or without propensity score weights. R package 0.13.
//! - Yang, D. and Dalton, J. E. (2012). A unified approach to measuring the effect size
//!   between two groups using SAS. SAS Global Forum 2012, paper 335.
//! - Lumley, T. survey: analysis of complex survey samples. R package (`svyvar`,
//!   `svyquantile`, vignette "Estimating quantiles").
//! - Hyndman, R. J. and Fan, Y. (1996). Sample quantiles in statistical packages.
//!   *The American Statistician* 50(4), 361–365.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;
use thiserror::Error;

use super::balance::{self, BalanceError, ValueOrder};

/// MASS::ginv's default tolerance, `sqrt(.Machine$double.eps)`, relative to the largest
/// singular value.
const GINV_TOLERANCE: f64 = 1.490_116_119_384_765_6e-8;

/// One row variable of the table, a value per person.
#[derive(Debug, Clone, Copy)]
pub enum Variable<'a> {
    /// A numeric variable; `NaN` marks a missing value.
    Continuous {
        name: &'a str,
        values: &'a [f64],
        /// Shown as median [Q1, Q3] instead of mean (SD) (tableone's `nonnormal`).
        /// The SMD is the same either way.
        nonnormal: bool,
    },
    /// A categorical variable: a level index per person (`None` = missing) into
    /// `levels`, which are in display order; the first level is the reference that
    /// tableone drops in the SMD and hides for two-level variables.
    Categorical {
        name: &'a str,
        codes: &'a [Option<u32>],
        levels: &'a [String],
    },
}

impl Variable<'_> {
    /// The variable's name.
    pub fn name(&self) -> &str {
        match self {
            Variable::Continuous { name, .. } | Variable::Categorical { name, .. } => name,
        }
    }

    fn len(&self) -> usize {
        match self {
            Variable::Continuous { values, .. } => values.len(),
            Variable::Categorical { codes, .. } => codes.len(),
        }
    }
}

/// A statistic for each of the two groups.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ByGroup<T> {
    /// The treated (referred) group.
    pub treated: T,
    /// The control (comparison) group.
    pub control: T,
}

/// A count of persons and the sum of their weights (equal without weights). The
/// person count is what disclosure control is decided on.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Tally {
    /// Persons with a positive weight.
    pub persons: usize,
    /// Sum of their weights.
    pub weighted: f64,
}

impl Tally {
    fn add(&mut self, weight: f64) {
        self.persons += 1;
        self.weighted += weight;
    }
}

/// Summary of a continuous variable in one group; every statistic is computed, the
/// report shows mean (SD) or median [Q1, Q3] according to `nonnormal`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ContinuousStats {
    /// Persons with a value.
    pub n: Tally,
    /// Weighted mean.
    pub mean: f64,
    /// SD (`svyvar`); `None` with fewer than 2 persons.
    pub sd: Option<f64>,
    /// Median (type 7 / `hf7`).
    pub median: f64,
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
}

/// One level of a categorical variable in one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelCount {
    /// Persons at this level and their sum of weights.
    pub n: Tally,
    /// Percentage of the (weighted) persons with a value; `None` if nobody in the
    /// group has a value.
    pub percent: Option<f64>,
}

/// One level of a categorical variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelStats {
    /// Level label.
    pub level: String,
    /// Count and percentage per group.
    pub count: ByGroup<LevelCount>,
}

/// The statistics of one variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Summary {
    /// `None` in a group where nobody has a value.
    Continuous {
        nonnormal: bool,
        stats: ByGroup<Option<ContinuousStats>>,
    },
    /// One entry per level, in the order given.
    Categorical { levels: Vec<LevelStats> },
}

/// One variable of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableSummary {
    /// Variable name.
    pub name: String,
    /// Its statistics per group.
    pub summary: Summary,
    /// Persons (and their weights) with a missing value, per group.
    pub missing: ByGroup<Tally>,
    /// Absolute standardised mean difference (tableone's SMD). `None` where tableone
    /// gives `NA`/`NaN`: a group without values, a continuous variable with fewer than
    /// 2 values in a group, or a categorical variable whose pooled covariance is zero
    /// while the proportions differ. Infinite (tableone's `Inf`) for a continuous
    /// variable constant within each group at different values.
    pub smd: Option<f64>,
}

/// A "Table 1" for one sample: group sizes and one entry per variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableOne {
    /// Whether weights were given (the matched sample); counts are then sums of weights.
    pub weighted: bool,
    /// Group sizes: persons with a positive weight and the sum of their weights.
    pub n: ByGroup<Tally>,
    /// One entry per variable, in the order given.
    pub variables: Vec<VariableSummary>,
}

/// Errors of [`table_one`]. Rows are 0-based.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum TableOneError {
    /// An input does not have one entry per person.
    #[error("{what} has length {found}, expected {expected} (one per person)")]
    LengthMismatch {
        what: String,
        expected: usize,
        found: usize,
    },
    /// A weight is negative or not finite.
    #[error("weight {value} at row {row} is invalid: weights must be finite and >= 0")]
    InvalidWeight { row: usize, value: f64 },
    /// A group has nobody with a positive weight.
    #[error("the {group} group has no person with a positive weight")]
    EmptyGroup { group: &'static str },
    /// A continuous value is infinite (missing values are NaN).
    #[error(
        "variable `{variable}` is infinite ({value}) at row {row}; a missing value must be NaN"
    )]
    InfiniteValue {
        variable: String,
        row: usize,
        value: f64,
    },
    /// A categorical code does not index a level.
    #[error("variable `{variable}` has level code {code} at row {row}, but only {levels} levels")]
    UnknownLevel {
        variable: String,
        row: usize,
        code: u32,
        levels: usize,
    },
    /// A categorical variable without levels.
    #[error("categorical variable `{variable}` has no levels")]
    NoLevels { variable: String },
    /// An error of the shared weighted statistics.
    #[error(transparent)]
    Balance(#[from] BalanceError),
}

/// Table 1 of `variables` by group, as tableone computes it: unweighted with
/// `weights = None` (`CreateTableOne`), weighted otherwise (`svyCreateTableOne`).
///
/// Model: for each group g and variable x, the weighted mean
/// `x̄_g = Σ_{i∈g} wᵢ xᵢ / Σ_{i∈g} wᵢ` (proportions for levels) and
/// `SMD = |x̄_T − x̄_C| / sqrt((s²_T + s²_C) / 2)` (Yang–Dalton for categorical
/// variables); see the module documentation for every formula.
///
/// | parameter | default | range |
/// |---|---|---|
/// | `variables` | — | continuous (`NaN` = missing) or categorical (`None` = missing) columns, one entry per person |
/// | `treated` | — | `true` = treated (referred), `false` = control (comparison) |
/// | `weights` | `None` (all 1) | finite, ≥ 0; persons with weight 0 are left out |
///
/// # Errors
/// - [`TableOneError::LengthMismatch`] if a variable or `weights` does not have one
///   entry per element of `treated`.
/// - [`TableOneError::InvalidWeight`] for a negative or non-finite weight.
/// - [`TableOneError::EmptyGroup`] if a group has nobody with a positive weight.
/// - [`TableOneError::InfiniteValue`], [`TableOneError::UnknownLevel`],
///   [`TableOneError::NoLevels`] for bad variable values.
///
/// ## References
/// Yang & Dalton (2012); tableone 0.13; survey (`svyvar`, `svyquantile`): see the
/// module documentation.
pub fn table_one(
    variables: &[Variable<'_>],
    treated: &[bool],
    weights: Option<&[f64]>,
) -> Result<TableOne, TableOneError> {
    let n = treated.len();
    if let Some(w) = weights {
        check_weights(w, n)?;
    }
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
    let mut sizes = ByGroup {
        treated: Tally::default(),
        control: Tally::default(),
    };
    for (i, &t) in treated.iter().enumerate() {
        if weight(i) > 0.0 {
            pick_mut(&mut sizes, t).add(weight(i));
        }
    }
    for (tally, group) in [(&sizes.treated, "treated"), (&sizes.control, "control")] {
        if tally.persons == 0 {
            return Err(TableOneError::EmptyGroup { group });
        }
    }
    // Variables are independent: summarise them on several threads, in order.
    let variables = crate::stats::map_indices(variables.len(), |j| {
        check_variable(&variables[j], n)?;
        summarise_variable(&variables[j], treated, &weight)
    })
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    Ok(TableOne {
        weighted: weights.is_some(),
        n: sizes,
        variables,
    })
}

fn pick_mut<T>(pair: &mut ByGroup<T>, treated: bool) -> &mut T {
    if treated {
        &mut pair.treated
    } else {
        &mut pair.control
    }
}

fn check_weights(weights: &[f64], n: usize) -> Result<(), TableOneError> {
    if weights.len() != n {
        return Err(TableOneError::LengthMismatch {
            what: "weights".to_string(),
            expected: n,
            found: weights.len(),
        });
    }
    match weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        Some((row, &value)) => Err(TableOneError::InvalidWeight { row, value }),
        None => Ok(()),
    }
}

fn check_variable(variable: &Variable<'_>, n: usize) -> Result<(), TableOneError> {
    if variable.len() != n {
        return Err(TableOneError::LengthMismatch {
            what: format!("variable `{}`", variable.name()),
            expected: n,
            found: variable.len(),
        });
    }
    match *variable {
        Variable::Continuous { name, values, .. } => {
            if let Some((row, &value)) = values.iter().enumerate().find(|(_, v)| v.is_infinite()) {
                return Err(TableOneError::InfiniteValue {
                    variable: name.to_string(),
                    row,
                    value,
                });
            }
        }
        Variable::Categorical {
            name,
            codes,
            levels,
        } => {
            if levels.is_empty() {
                return Err(TableOneError::NoLevels {
                    variable: name.to_string(),
                });
            }
            let bad = codes
                .iter()
                .enumerate()
                .find_map(|(row, c)| c.filter(|&c| c as usize >= levels.len()).map(|c| (row, c)));
            if let Some((row, code)) = bad {
                return Err(TableOneError::UnknownLevel {
                    variable: name.to_string(),
                    row,
                    code,
                    levels: levels.len(),
                });
            }
        }
    }
    Ok(())
}

fn summarise_variable(
    variable: &Variable<'_>,
    treated: &[bool],
    weight: &(dyn Fn(usize) -> f64 + Sync),
) -> Result<VariableSummary, TableOneError> {
    let mut missing = ByGroup {
        treated: Tally::default(),
        control: Tally::default(),
    };
    let in_sample = |i: usize| weight(i) > 0.0;
    match *variable {
        Variable::Continuous {
            name,
            values,
            nonnormal,
        } => {
            // (value, weight) pairs of persons with a value, per group.
            let in_group = |flag: bool| {
                (0..values.len())
                    .filter(|&i| treated[i] == flag && in_sample(i))
                    .count()
            };
            let mut present: ByGroup<Vec<(f64, f64)>> = ByGroup {
                treated: Vec::with_capacity(in_group(true)),
                control: Vec::with_capacity(in_group(false)),
            };
            for (i, (&x, &t)) in values
                .iter()
                .zip(treated)
                .enumerate()
                .filter(|(i, _)| in_sample(*i))
            {
                if x.is_nan() {
                    pick_mut(&mut missing, t).add(weight(i));
                } else {
                    pick_mut(&mut present, t).push((x, weight(i)));
                }
            }
            let stats = ByGroup {
                treated: continuous_stats(&present.treated),
                control: continuous_stats(&present.control),
            };
            Ok(VariableSummary {
                name: name.to_string(),
                smd: continuous_smd(&stats),
                summary: Summary::Continuous { nonnormal, stats },
                missing,
            })
        }
        Variable::Categorical {
            name,
            codes,
            levels,
        } => {
            let zero = vec![Tally::default(); levels.len()];
            let mut counts = ByGroup {
                treated: zero.clone(),
                control: zero,
            };
            for (i, (&code, &t)) in codes
                .iter()
                .zip(treated)
                .enumerate()
                .filter(|(i, _)| in_sample(*i))
            {
                match code {
                    None => pick_mut(&mut missing, t).add(weight(i)),
                    Some(c) => pick_mut(&mut counts, t)[c as usize].add(weight(i)),
                }
            }
            let proportions = ByGroup {
                treated: proportions(&counts.treated),
                control: proportions(&counts.control),
            };
            let levels = levels
                .iter()
                .enumerate()
                .map(|(k, level)| {
                    let count = |tallies: &[Tally], p: &Option<Vec<f64>>| LevelCount {
                        n: tallies[k],
                        percent: p.as_ref().map(|p| 100.0 * p[k]),
                    };
                    LevelStats {
                        level: level.clone(),
                        count: ByGroup {
                            treated: count(&counts.treated, &proportions.treated),
                            control: count(&counts.control, &proportions.control),
                        },
                    }
                })
                .collect();
            let smd = match (&proportions.treated, &proportions.control) {
                (Some(pt), Some(pc)) => categorical_smd(pt, pc),
                _ => None,
            };
            Ok(VariableSummary {
                name: name.to_string(),
                summary: Summary::Categorical { levels },
                missing,
                smd,
            })
        }
    }
}

/// Mean, `svyvar` SD and `hf7` quartiles of (value, weight) pairs with a value and a
/// positive weight (as [`summarise_variable`] collects them); `None` if empty.
fn continuous_stats(pairs: &[(f64, f64)]) -> Option<ContinuousStats> {
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
    Some(ContinuousStats {
        n,
        mean,
        sd: survey_variance(pairs, mean).map(f64::sqrt),
        median: quantile_hf7(&sorted, 0.5),
        q1: quantile_hf7(&sorted, 0.25),
        q3: quantile_hf7(&sorted, 0.75),
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
fn quantile_hf7(sorted: &[(f64, f64)], p: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0].0;
    }
    // cumulative[i] = C_i; the weight of the largest value does not enter.
    let mut cumulative = Vec::with_capacity(n);
    let mut c = 0.0;
    for &(_, w) in sorted {
        cumulative.push(c);
        c += w;
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

/// tableone's `StdDiff` / `svyStdDiff` (continuous): `|x̄_T − x̄_C| / sqrt((s²_T +
/// s²_C) / 2)`; 0 when both the difference and the pooled variance are 0.
fn continuous_smd(stats: &ByGroup<Option<ContinuousStats>>) -> Option<f64> {
    let (t, c) = (stats.treated?, stats.control?);
    let (st, sc) = (t.sd?, c.sd?);
    let difference = t.mean - c.mean;
    let pooled = (st * st + sc * sc) / 2.0;
    if difference == 0.0 && pooled == 0.0 {
        return Some(0.0);
    }
    Some(difference.abs() / pooled.sqrt())
}

/// Proportions of each level among persons with a value; `None` if nobody has one.
fn proportions(counts: &[Tally]) -> Option<Vec<f64>> {
    let total: f64 = counts.iter().map(|t| t.weighted).sum();
    (total > 0.0).then(|| counts.iter().map(|t| t.weighted / total).collect())
}

/// Yang & Dalton's SMD as tableone's `StdDiffFromLstMeans`: levels 2..k (all levels
/// if there is only one), `S = (S_T + S_C) / 2` with multinomial covariances,
/// `sqrt(dᵀ ginv(S) d)`. A zero `S` gives 0 if `d = 0`, else `None` (tableone's NaN).
fn categorical_smd(pt: &[f64], pc: &[f64]) -> Option<f64> {
    let skip = usize::from(pt.len() > 1);
    let (pt, pc) = (&pt[skip..], &pc[skip..]);
    let k = pt.len();
    let d = DVector::from_iterator(k, pt.iter().zip(pc).map(|(a, b)| a - b));
    let covariance = |p: &[f64]| {
        DMatrix::from_fn(k, k, |r, c| {
            if r == c {
                p[r] * (1.0 - p[r])
            } else {
                -p[r] * p[c]
            }
        })
    };
    let s = (covariance(pt) + covariance(pc)) / 2.0;
    if s.iter().all(|&v| v == 0.0) {
        return d.iter().all(|&v| v == 0.0).then_some(0.0);
    }
    let svd = s.svd(true, true);
    let largest = svd.singular_values.max();
    let inverse = svd.pseudo_inverse(GINV_TOLERANCE * largest).ok()?;
    let distance = d.dot(&(inverse * &d));
    Some(distance.max(0.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative agreement for values computed by different but exact formulas.
    const REL: f64 = 1e-12;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= REL * a.abs().max(b.abs()).max(1.0)
    }

    macro_rules! assert_close {
        ($a:expr, $b:expr) => {{
            let (a, b): (f64, f64) = ($a, $b);
            assert!(
                close(a, b),
                "{} = {a} vs {} = {b}",
                stringify!($a),
                stringify!($b)
            );
        }};
    }

    fn levels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn codes(c: &[i64]) -> Vec<Option<u32>> {
        c.iter().map(|&v| (v >= 0).then_some(v as u32)).collect()
    }

    fn continuous(t: &TableOne, k: usize) -> ByGroup<Option<ContinuousStats>> {
        match &t.variables[k].summary {
            Summary::Continuous { stats, .. } => *stats,
            other => panic!("not continuous: {other:?}"),
        }
    }

    fn level_counts(t: &TableOne, k: usize) -> Vec<LevelStats> {
        match &t.variables[k].summary {
            Summary::Categorical { levels } => levels.clone(),
            other => panic!("not categorical: {other:?}"),
        }
    }

    /// Treated x = 1, 2, 3, 4, 10: mean 4, var (9 + 4 + 1 + 0 + 36) / 4 = 12.5.
    /// Control x = 2, 4, 6, 8: mean 5, var (9 + 1 + 1 + 9) / 3 = 20/3.
    /// Type 7 quartiles: treated positions 1, 2, 3 → 2, 3, 4; control positions 0.75,
    /// 1.5, 2.25 → 3.5, 5, 6.5 (type 2 would give 3, 5, 7).
    #[test]
    fn continuous_mean_sd_quartiles_and_pooled_smd_by_hand() {
        let x = [1.0, 2.0, 3.0, 4.0, 10.0, 2.0, 4.0, 6.0, 8.0];
        let treated = [true, true, true, true, true, false, false, false, false];
        let vars = [Variable::Continuous {
            name: "x",
            values: &x,
            nonnormal: false,
        }];
        let t = table_one(&vars, &treated, None).expect("table");
        assert!(!t.weighted);
        assert_eq!(
            t.n.treated,
            Tally {
                persons: 5,
                weighted: 5.0
            }
        );
        assert_eq!(
            t.n.control,
            Tally {
                persons: 4,
                weighted: 4.0
            }
        );
        let s = continuous(&t, 0);
        let (st, sc) = (s.treated.expect("t"), s.control.expect("c"));
        assert_close!(st.mean, 4.0);
        assert_close!(st.sd.expect("sd"), 12.5f64.sqrt());
        assert_eq!((st.q1, st.median, st.q3), (2.0, 3.0, 4.0));
        assert_close!(sc.mean, 5.0);
        assert_close!(sc.sd.expect("sd"), (20.0f64 / 3.0).sqrt());
        assert_close!(sc.q1, 3.5);
        assert_close!(sc.median, 5.0);
        assert_close!(sc.q3, 6.5);
        // Pooled, not the treated SD (MatchIt would divide by sqrt(12.5)).
        let want = 1.0 / ((12.5 + 20.0 / 3.0) / 2.0f64).sqrt();
        assert_close!(t.variables[0].smd.expect("smd"), want);
        assert_eq!(t.variables[0].missing.treated, Tally::default());
    }

    /// One group x = 1, 2, 4 with weights 1, 2, 1:
    /// mean = (1 + 4 + 4) / 4 = 2.25; Σ w (x − x̄)² = 1.5625 + 0.125 + 3.0625 = 4.75;
    /// svyvar = 3/2 · 4.75 / 4 = 1.78125 (cov.wt's reliability variance would be
    /// 1.1875 / (1 − 6/16) = 1.9).
    /// hf7: C = 0, 1, 3, positions 0, 1/3, 1 → median 2 + (0.5 − 1/3)/(2/3) · 2 = 2.5,
    /// Q1 = 1 + 0.75 · 1 = 1.75, Q3 = 2 + 0.625 · 2 = 3.25.
    /// Other group x = 0, 2 with weights 1, 3: mean 1.5, Σ w (x − x̄)² = 2.25 + 0.75 = 3,
    /// svyvar = 2 · 3 / 4 = 1.5.
    #[test]
    fn weighted_continuous_uses_svyvar_and_hf7_quantiles() {
        let x = [1.0, 2.0, 4.0, 0.0, 2.0];
        let w = [1.0, 2.0, 1.0, 1.0, 3.0];
        let treated = [true, true, true, false, false];
        let vars = [Variable::Continuous {
            name: "x",
            values: &x,
            nonnormal: true,
        }];
        let t = table_one(&vars, &treated, Some(&w)).expect("table");
        assert!(t.weighted);
        assert_eq!(
            t.n.treated,
            Tally {
                persons: 3,
                weighted: 4.0
            }
        );
        let s = continuous(&t, 0);
        let st = s.treated.expect("t");
        assert_close!(st.mean, 2.25);
        assert_close!(st.sd.expect("sd"), 1.78125f64.sqrt());
        assert_close!(st.median, 2.5);
        assert_close!(st.q1, 1.75);
        assert_close!(st.q3, 3.25);
        let sc = s.control.expect("c");
        assert_close!(sc.mean, 1.5);
        assert_close!(sc.sd.expect("sd"), 1.5f64.sqrt());
        let want = 0.75 / ((1.78125 + 1.5) / 2.0f64).sqrt();
        assert_close!(t.variables[0].smd.expect("smd"), want);
        // Not MatchIt's reliability-weight variance.
        let matchit = balance::weighted_variance(&x[..3], Some(&w[..3]))
            .expect("ok")
            .expect("some");
        assert_close!(matchit, 1.9);
    }

    /// Type 7 with unit weights at the boundaries and between order statistics:
    /// 1..10 → positions 2.25, 4.5, 6.75 → 3.25, 5.5, 7.75 (R: quantile(1:10, c(.25,
    /// .5, .75)) prints 3.25 5.50 7.75).
    #[test]
    fn unit_weight_quantiles_are_r_type_7() {
        let sorted: Vec<(f64, f64)> = (1..=10).map(|v| (f64::from(v), 1.0)).collect();
        assert_close!(quantile_hf7(&sorted, 0.25), 3.25);
        assert_close!(quantile_hf7(&sorted, 0.5), 5.5);
        assert_close!(quantile_hf7(&sorted, 0.75), 7.75);
        assert_eq!(quantile_hf7(&sorted, 0.0), 1.0);
        assert_eq!(quantile_hf7(&sorted, 1.0), 10.0);
        assert_eq!(quantile_hf7(&[(7.0, 2.0)], 0.25), 7.0);
        // Ties: 1, 2, 2, 2, 9 → position 1 and 3 fall on the tied value.
        let tied = [(1.0, 1.0), (2.0, 1.0), (2.0, 1.0), (2.0, 1.0), (9.0, 1.0)];
        assert_eq!(quantile_hf7(&tied, 0.25), 2.0);
        assert_eq!(quantile_hf7(&tied, 0.75), 2.0);
    }

    /// Treated 3 of 4 "yes" (p = 0.75), control 1 of 4 (p = 0.25):
    /// SMD = 0.5 / sqrt((0.1875 + 0.1875) / 2) = 0.5 / sqrt(0.1875).
    #[test]
    fn binary_smd_and_percentages_by_hand() {
        let lv = levels(&["no", "yes"]);
        let c = codes(&[1, 1, 1, 0, 1, 0, 0, 0]);
        let treated = [true, true, true, true, false, false, false, false];
        let vars = [Variable::Categorical {
            name: "flag",
            codes: &c,
            levels: &lv,
        }];
        let t = table_one(&vars, &treated, None).expect("table");
        let l = level_counts(&t, 0);
        assert_eq!(l[1].level, "yes");
        assert_eq!(
            l[1].count.treated.n,
            Tally {
                persons: 3,
                weighted: 3.0
            }
        );
        assert_close!(l[1].count.treated.percent.expect("p"), 75.0);
        assert_close!(l[1].count.control.percent.expect("p"), 25.0);
        assert_close!(l[0].count.control.percent.expect("p"), 75.0);
        assert_close!(t.variables[0].smd.expect("smd"), 0.5 / 0.1875f64.sqrt());
    }

    /// Three levels a, b, c. Treated counts 1, 2, 2 (n 5): p = (0.4, 0.4) for b, c.
    /// Control counts 2, 1, 1 (n 4): p = (0.25, 0.25). d = (0.15, 0.15).
    /// S_T = [[0.24, −0.16], [−0.16, 0.24]], S_C = [[0.1875, −0.0625], [−0.0625, 0.1875]].
    /// The inverse of the mean S is written out with the 2 × 2 formula.
    #[test]
    fn yang_dalton_smd_for_three_levels_by_hand() {
        let lv = levels(&["a", "b", "c"]);
        let c = codes(&[0, 1, 1, 2, 2, 0, 0, 1, 2]);
        let treated = [true, true, true, true, true, false, false, false, false];
        let vars = [Variable::Categorical {
            name: "g",
            codes: &c,
            levels: &lv,
        }];
        let t = table_one(&vars, &treated, None).expect("table");
        let (a, b): (f64, f64) = ((0.24 + 0.1875) / 2.0, (-0.16 - 0.0625) / 2.0);
        // S = [[a, b], [b, a]]; S⁻¹ = [[a, −b], [−b, a]] / (a² − b²).
        let det = a * a - b * b;
        let (i11, i12) = (a / det, -b / det);
        let d = 0.15;
        let quad = d * d * i11 + 2.0 * d * d * i12 + d * d * i11;
        assert_close!(t.variables[0].smd.expect("smd"), quad.sqrt());
        // Independent check: S has eigenvector (1, 1)/√2 with eigenvalue a + b, and d
        // lies along it, so dᵀS⁻¹d = 2 d² / (a + b).
        assert_close!(quad, 2.0 * d * d / (a + b));
    }

    /// An asymmetric three-level case, S⁻¹ by the explicit 2 × 2 cofactor formula.
    /// Treated levels 2, 1, 1 of 4: p = (0.25, 0.25); control 1, 2, 1: p = (0.5, 0.25).
    /// S = [[0.21875, −0.09375], [−0.09375, 0.1875]], d = (−0.25, 0):
    /// dᵀS⁻¹d = 0.0625 · 0.1875 / (0.21875 · 0.1875 − 0.09375²) = 4/11.
    #[test]
    fn yang_dalton_smd_asymmetric_case() {
        let lv = levels(&["a", "b", "c"]);
        let c = codes(&[0, 0, 1, 2, 0, 1, 1, 2]);
        let treated = [true, true, true, true, false, false, false, false];
        let vars = [Variable::Categorical {
            name: "g",
            codes: &c,
            levels: &lv,
        }];
        let t = table_one(&vars, &treated, None).expect("table");
        let det = 0.21875 * 0.1875 - 0.09375 * 0.09375;
        let quad = 0.0625 * 0.1875 / det;
        assert_close!(quad, 4.0 / 11.0);
        assert_close!(t.variables[0].smd.expect("smd"), (4.0f64 / 11.0).sqrt());
    }

    /// With the first level absent from both groups, p_b + p_c = 1 and S is singular:
    /// the generalised inverse reduces the SMD to the binary SMD of level b.
    #[test]
    fn singular_covariance_uses_generalised_inverse() {
        let lv = levels(&["a", "b", "c"]);
        let c = codes(&[1, 1, 1, 2, 1, 2, 2, 2]);
        let treated = [true, true, true, true, false, false, false, false];
        let vars = [Variable::Categorical {
            name: "g",
            codes: &c,
            levels: &lv,
        }];
        let t = table_one(&vars, &treated, None).expect("table");
        let want = 0.5 / ((0.1875 + 0.1875) / 2.0f64).sqrt();
        assert_close!(t.variables[0].smd.expect("smd"), want);
    }

    /// tableone's edge cases: constant equal → 0; continuous constant within groups at
    /// different values → Inf; categorical with zero pooled covariance and different
    /// proportions → NaN (None); a single level → 0; a group of one → no SD, no SMD.
    #[test]
    fn degenerate_smds_follow_tableone() {
        let treated = [true, true, false, false];
        let same = [3.0; 4];
        let split = [1.0, 1.0, 2.0, 2.0];
        let lv2 = levels(&["no", "yes"]);
        let lv1 = levels(&["only"]);
        let separated = codes(&[1, 1, 0, 0]);
        let single = codes(&[0, 0, 0, -1]);
        let vars = [
            Variable::Continuous {
                name: "same",
                values: &same,
                nonnormal: false,
            },
            Variable::Continuous {
                name: "split",
                values: &split,
                nonnormal: false,
            },
            Variable::Categorical {
                name: "sep",
                codes: &separated,
                levels: &lv2,
            },
            Variable::Categorical {
                name: "one",
                codes: &single,
                levels: &lv1,
            },
        ];
        let t = table_one(&vars, &treated, None).expect("table");
        assert_eq!(t.variables[0].smd, Some(0.0));
        assert_eq!(t.variables[1].smd, Some(f64::INFINITY));
        assert_eq!(t.variables[2].smd, None);
        assert_eq!(t.variables[3].smd, Some(0.0));

        let x = [1.0, 2.0, 5.0, f64::NAN];
        let vars = [Variable::Continuous {
            name: "x",
            values: &x,
            nonnormal: false,
        }];
        let t = table_one(&vars, &treated, None).expect("table");
        let s = continuous(&t, 0);
        assert_eq!(s.control.expect("c").sd, None);
        assert_eq!(t.variables[0].smd, None);

        let all_missing = [1.0, 2.0, f64::NAN, f64::NAN];
        let vars = [Variable::Continuous {
            name: "x",
            values: &all_missing,
            nonnormal: false,
        }];
        let t = table_one(&vars, &treated, None).expect("table");
        assert_eq!(continuous(&t, 0).control, None);
        assert_eq!(t.variables[0].smd, None);
    }

    /// Missing values are counted per group (persons and weights) and left out of every
    /// statistic: the result equals the table of the non-missing rows.
    #[test]
    fn missing_values_are_counted_and_excluded() {
        let x = [1.0, f64::NAN, 2.0, 3.0, 5.0, f64::NAN, f64::NAN, 9.0];
        let c = codes(&[0, 1, -1, 1, 0, 1, 0, -1]);
        let w = [1.0, 2.0, 0.5, 1.5, 1.0, 3.0, 1.0, 2.0];
        let treated = [true, true, true, true, false, false, false, false];
        let lv = levels(&["a", "b"]);
        let vars = [
            Variable::Continuous {
                name: "x",
                values: &x,
                nonnormal: false,
            },
            Variable::Categorical {
                name: "c",
                codes: &c,
                levels: &lv,
            },
        ];
        let t = table_one(&vars, &treated, Some(&w)).expect("table");
        assert_eq!(
            t.variables[0].missing.treated,
            Tally {
                persons: 1,
                weighted: 2.0
            }
        );
        assert_eq!(
            t.variables[0].missing.control,
            Tally {
                persons: 2,
                weighted: 4.0
            }
        );
        assert_eq!(
            t.variables[1].missing.treated,
            Tally {
                persons: 1,
                weighted: 0.5
            }
        );
        assert_eq!(
            t.variables[1].missing.control,
            Tally {
                persons: 1,
                weighted: 2.0
            }
        );
        // Group sizes count everybody.
        assert_eq!(
            t.n.treated,
            Tally {
                persons: 4,
                weighted: 5.0
            }
        );

        // Treated x without the missing row: 1, 2, 3 with weights 1, 0.5, 1.5.
        let st = continuous(&t, 0).treated.expect("t");
        assert_eq!(
            st.n,
            Tally {
                persons: 3,
                weighted: 3.0
            }
        );
        assert_close!(st.mean, (1.0 + 1.0 + 4.5) / 3.0);
        // Treated c without the missing row: a (1), b (2 + 1.5) → 1/4.5, 3.5/4.5.
        let l = level_counts(&t, 1);
        assert_close!(l[0].count.treated.percent.expect("p"), 100.0 / 4.5);
        assert_close!(l[1].count.treated.percent.expect("p"), 350.0 / 4.5);

        // Same as computing on the complete rows of each variable.
        let keep: Vec<usize> = (0..8).filter(|&i| !x[i].is_nan()).collect();
        let xs: Vec<f64> = keep.iter().map(|&i| x[i]).collect();
        let ts: Vec<bool> = keep.iter().map(|&i| treated[i]).collect();
        let ws: Vec<f64> = keep.iter().map(|&i| w[i]).collect();
        let sub = table_one(
            &[Variable::Continuous {
                name: "x",
                values: &xs,
                nonnormal: false,
            }],
            &ts,
            Some(&ws),
        )
        .expect("table");
        assert_eq!(sub.variables[0].summary, t.variables[0].summary);
        assert_eq!(sub.variables[0].smd, t.variables[0].smd);
    }

    /// Persons with weight 0 are not in the matched sample: not counted, not missing.
    #[test]
    fn zero_weights_leave_persons_out() {
        let x = [1.0, 2.0, f64::NAN, 4.0, 6.0, 100.0];
        let w = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        let treated = [true, true, true, false, false, false];
        let vars = [Variable::Continuous {
            name: "x",
            values: &x,
            nonnormal: false,
        }];
        let t = table_one(&vars, &treated, Some(&w)).expect("table");
        assert_eq!(
            t.n.treated,
            Tally {
                persons: 2,
                weighted: 2.0
            }
        );
        assert_eq!(t.variables[0].missing.treated, Tally::default());
        assert_close!(continuous(&t, 0).control.expect("c").mean, 5.0);
    }

    /// A continuous, a three-level and a two-level variable with missing values.
    struct Mixed {
        x: Vec<f64>,
        three: Vec<Option<u32>>,
        two: Vec<Option<u32>>,
        treated: Vec<bool>,
    }

    impl Mixed {
        fn new() -> Mixed {
            let nan = f64::NAN;
            Mixed {
                x: vec![
                    23.0, 41.5, nan, 35.0, 52.0, 61.0, 18.5, 44.0, 39.0, nan, 70.0, 29.0,
                ],
                three: codes(&[0, 1, 2, 2, -1, 1, 0, 0, 1, 2, 2, 1]),
                two: codes(&[1, 0, 1, 1, 0, -1, 0, 0, 1, 0, 1, 0]),
                treated: (0..12).map(|i| i < 6).collect(),
            }
        }

        /// Every row twice.
        fn doubled(&self) -> Mixed {
            fn twice<T: Copy>(v: &[T]) -> Vec<T> {
                v.iter().chain(v).copied().collect()
            }
            Mixed {
                x: twice(&self.x),
                three: twice(&self.three),
                two: twice(&self.two),
                treated: twice(&self.treated),
            }
        }

        fn table(&self, weights: Option<&[f64]>) -> TableOne {
            let (lv3, lv2) = (levels(&["a", "b", "c"]), levels(&["no", "yes"]));
            let vars = [
                Variable::Continuous {
                    name: "x",
                    values: &self.x,
                    nonnormal: false,
                },
                Variable::Categorical {
                    name: "three",
                    codes: &self.three,
                    levels: &lv3,
                },
                Variable::Categorical {
                    name: "two",
                    codes: &self.two,
                    levels: &lv2,
                },
            ];
            table_one(&vars, &self.treated, weights).expect("table")
        }
    }

    #[test]
    fn unit_weights_reproduce_the_unweighted_table() {
        let data = Mixed::new();
        let plain = data.table(None);
        let weighted = data.table(Some(&vec![1.0; data.treated.len()]));
        assert!(!plain.weighted && weighted.weighted);
        assert_eq!(plain.n, weighted.n);
        assert_eq!(plain.variables, weighted.variables);
    }

    /// Weights of 2 on every row against every row twice with unit weights: the same
    /// means, proportions, counts and categorical SMDs. svyvar's Kish factor n/(n − 1)
    /// counts rows, so the continuous variance differs by exactly
    /// [n/(n − 1)] / [2n/(2n − 1)] (tableone behaves the same way).
    #[test]
    fn duplicated_rows_match_weights_of_two() {
        let data = Mixed::new();
        let weighted = data.table(Some(&vec![2.0; data.treated.len()]));
        let doubled = data.doubled().table(None);
        assert_eq!(weighted.n.treated.weighted, doubled.n.treated.weighted);
        let (cw, cd) = (continuous(&weighted, 0), continuous(&doubled, 0));
        for (w, d) in [(cw.treated, cd.treated), (cw.control, cd.control)] {
            let (w, d) = (w.expect("w"), d.expect("d"));
            assert_close!(w.mean, d.mean);
            assert_eq!(w.n.weighted, d.n.weighted);
            let n = w.n.persons as f64;
            let kish = (n / (n - 1.0)) / (2.0 * n / (2.0 * n - 1.0));
            assert_close!(w.sd.expect("sd").powi(2), kish * d.sd.expect("sd").powi(2));
        }
        for k in [1, 2] {
            let (lw, ld) = (level_counts(&weighted, k), level_counts(&doubled, k));
            for (a, b) in lw.iter().zip(&ld) {
                assert_eq!(a.count.treated.n.weighted, b.count.treated.n.weighted);
                assert_close!(
                    a.count.control.percent.expect("p"),
                    b.count.control.percent.expect("p")
                );
            }
            assert_close!(
                weighted.variables[k].smd.expect("smd"),
                doubled.variables[k].smd.expect("smd")
            );
            assert_eq!(
                weighted.variables[k].missing.treated.weighted,
                doubled.variables[k].missing.treated.weighted
            );
        }
    }

    /// Multiplying every weight by a constant changes only the sums of weights.
    #[test]
    fn rescaled_weights_give_the_same_statistics() {
        let data = Mixed::new();
        let w: Vec<f64> = (0..data.treated.len())
            .map(|i| 0.5 + (i % 3) as f64)
            .collect();
        let w3: Vec<f64> = w.iter().map(|v| 3.0 * v).collect();
        let (a, b) = (data.table(Some(&w)), data.table(Some(&w3)));
        for k in 0..3 {
            assert_close!(
                a.variables[k].smd.expect("smd"),
                b.variables[k].smd.expect("smd")
            );
        }
        let ca = continuous(&a, 0).treated.expect("a");
        let cb = continuous(&b, 0).treated.expect("b");
        assert_close!(ca.mean, cb.mean);
        assert_close!(ca.sd.expect("sd"), cb.sd.expect("sd"));
        assert_close!(ca.median, cb.median);
        assert_close!(ca.q1, cb.q1);
        assert_close!(3.0 * ca.n.weighted, cb.n.weighted);
    }

    #[test]
    fn bad_input_is_rejected() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let treated = [true, true, false, false];
        let ok = [Variable::Continuous {
            name: "x",
            values: &x,
            nonnormal: false,
        }];
        assert!(matches!(
            table_one(&ok, &treated, Some(&[1.0; 3])),
            Err(TableOneError::LengthMismatch { .. })
        ));
        assert!(matches!(
            table_one(&ok, &treated, Some(&[1.0, f64::NAN, 1.0, 1.0])),
            Err(TableOneError::InvalidWeight { row: 1, .. })
        ));
        assert!(matches!(
            table_one(&ok, &treated, Some(&[1.0, 1.0, 0.0, 0.0])),
            Err(TableOneError::EmptyGroup { group: "control" })
        ));
        assert!(matches!(
            table_one(&ok, &[true, false, true], None),
            Err(TableOneError::LengthMismatch { .. })
        ));
        let inf = [1.0, f64::INFINITY, 3.0, 4.0];
        assert!(matches!(
            table_one(
                &[Variable::Continuous {
                    name: "x",
                    values: &inf,
                    nonnormal: false
                }],
                &treated,
                None
            ),
            Err(TableOneError::InfiniteValue { row: 1, .. })
        ));
        let lv = levels(&["a", "b"]);
        let bad = codes(&[0, 1, 2, 0]);
        assert!(matches!(
            table_one(
                &[Variable::Categorical {
                    name: "c",
                    codes: &bad,
                    levels: &lv
                }],
                &treated,
                None
            ),
            Err(TableOneError::UnknownLevel {
                row: 2,
                code: 2,
                levels: 2,
                ..
            })
        ));
        let none: Vec<String> = Vec::new();
        let missing = codes(&[-1, -1, -1, -1]);
        assert!(matches!(
            table_one(
                &[Variable::Categorical {
                    name: "c",
                    codes: &missing,
                    levels: &none
                }],
                &treated,
                None
            ),
            Err(TableOneError::NoLevels { .. })
        ));
    }

    #[test]
    fn serialises_to_json() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let treated = [true, true, false, false];
        let t = table_one(
            &[Variable::Continuous {
                name: "x",
                values: &x,
                nonnormal: true,
            }],
            &treated,
            None,
        )
        .expect("table");
        let json = serde_json::to_value(&t).expect("json");
        assert_eq!(json["variables"][0]["summary"]["type"], "continuous");
        assert_eq!(json["n"]["treated"]["persons"], 2);
    }
}
