//! Covariate balance before and after matching, as MatchIt's `summary()` reports it for
//! the ATT, plus weighted descriptive statistics for a "Table 1".
//!
//! The formulas follow `tests/reference/matching/MATCHIT_NOTES.md` §6 (MatchIt 4.5.1's
//! `summary.matchit` → `bal1var`, `wvar`, `qqsum`, `pair.dist`, `pooled_sd`, `nn`):
//!
//! - means: `Σ w x / Σ w` within each group;
//! - standardised mean difference: `(mean_T − mean_C) / s`, where `s` is the standard
//!   deviation of the **treated group in the full sample with unit weights** — the same
//!   `s` before and after matching. Continuous: the n − 1 sample SD; binary:
//!   `sqrt(p (1 − p))` without n − 1 correction. When `|mean_T − mean_C| ≤ sqrt(ε)`
//!   the unstandardised difference is reported; when `s` is not finite or below
//!   `sqrt(ε)`, MatchIt's pooled SD ("proportional") replaces it;
//! - variance ratio (continuous only): `wvar(x_T, w_T) / wvar(x_C, w_C)` with
//!   `wvar(x, w) = Σ w̃ (x − x̄_w)² / (1 − Σ w̃²)`, `w̃ = w / Σ w`;
//! - eCDF mean and max: the weighted eCDFs of the two groups (weights normalised to 1
//!   within each group) compared at every distinct value of the **full** sample,
//!   including units with weight 0; their mean and maximum absolute difference. For a
//!   binary variable both are `|mean_T − mean_C|`;
//! - standardised pair distance (after matching): the mean of `|x_t − x_c|` over the
//!   matched pairs, divided by `s` when the mean difference was standardised.
//!
//! ## References
//! - Ho, D. E., Imai, K., King, G. and Stuart, E. A. (2011). MatchIt: Nonparametric
//!   preprocessing for parametric causal inference. *Journal of Statistical Software*
//!   42(8). doi:10.18637/jss.v042.i08
//! - Austin, P. C. (2009). Balance diagnostics for comparing the distribution of
//!   baseline covariates between treatment groups in propensity-score matched samples.
//!   *Statistics in Medicine* 28(25), 3083–3107.
//! - Greifer, N. MatchIt documentation, `?summary.matchit`, version 4.5.1.

use std::cell::OnceCell;
use std::cmp::Ordering;

use serde::Serialize;
use thiserror::Error;

/// MatchIt's threshold below which a mean difference is not standardised and an SD is
/// treated as zero (`sqrt(.Machine$double.eps)`).
const SQRT_EPS: f64 = 1.490_116_119_384_765_6e-8;
/// MatchIt's threshold below which a mean pair distance is not standardised.
const PAIR_DIST_FLOOR: f64 = 1e-8;

/// One covariate column, a value per unit.
#[derive(Debug, Clone, Copy)]
pub struct Covariate<'a> {
    /// Term name as shown in the balance table, e.g. `age` or `raceblack`.
    pub name: &'a str,
    /// Values per unit; finite.
    pub values: &'a [f64],
    /// Whether the column is binary (every value 0 or 1), which changes the SMD
    /// denominator, the variance ratio and the eCDF statistics.
    pub binary: bool,
}

impl<'a> Covariate<'a> {
    /// A column whose binary flag is set as MatchIt sets it: binary when every value is
    /// 0 or 1 (a factor level's indicator, a 0/1 flag — also a constant 0 or 1 column).
    pub fn new(name: &'a str, values: &'a [f64]) -> Self {
        Covariate {
            name,
            values,
            binary: values.iter().all(|&v| v == 0.0 || v == 1.0),
        }
    }
}

/// Balance statistics of one covariate in one sample (one set of weights).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SampleBalance {
    /// Weighted mean among the treated.
    pub mean_treated: f64,
    /// Weighted mean among the controls.
    pub mean_control: f64,
    /// Standardised mean difference (or the raw difference when below `sqrt(ε)`);
    /// `None` when both groups have fewer than 2 units with non-zero weight.
    pub smd: Option<f64>,
    /// Ratio of weighted variances, treated over control; `None` for binary
    /// covariates and when both groups are too small.
    pub variance_ratio: Option<f64>,
    /// Mean absolute difference of the weighted eCDFs; `None` when too small.
    pub ecdf_mean: Option<f64>,
    /// Maximum absolute difference of the weighted eCDFs; `None` when too small.
    pub ecdf_max: Option<f64>,
    /// Mean within-pair `|x_t − x_c|`, standardised like the SMD; `None` without pairs.
    pub std_pair_dist: Option<f64>,
}

/// One row of the balance table: MatchIt's `summary(m)$sum.all` ("before") and
/// `summary(m)$sum.matched` ("after") for one term.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceRow {
    /// Term name.
    pub term: String,
    /// Whether the term is binary.
    pub binary: bool,
    /// Mean among the treated, all units.
    pub mean_treated_before: f64,
    /// Mean among the controls, all units.
    pub mean_control_before: f64,
    /// Standardised mean difference, all units.
    pub smd_before: Option<f64>,
    /// Variance ratio, all units (`None` for binary terms).
    pub variance_ratio_before: Option<f64>,
    /// eCDF mean difference, all units.
    pub ecdf_mean_before: Option<f64>,
    /// eCDF maximum difference, all units.
    pub ecdf_max_before: Option<f64>,
    /// Weighted mean among the matched treated.
    pub mean_treated_after: f64,
    /// Weighted mean among the matched controls.
    pub mean_control_after: f64,
    /// Standardised mean difference after matching (same denominator as before).
    pub smd_after: Option<f64>,
    /// Variance ratio after matching (`None` for binary terms).
    pub variance_ratio_after: Option<f64>,
    /// eCDF mean difference after matching.
    pub ecdf_mean_after: Option<f64>,
    /// eCDF maximum difference after matching.
    pub ecdf_max_after: Option<f64>,
    /// Standardised mean pair distance (MatchIt's "Std. Pair Dist."); `None` without
    /// pairs.
    pub std_pair_dist_after: Option<f64>,
}

/// Counts of one group (MatchIt's `summary(m)$nn` column).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GroupSizes {
    /// All units.
    pub all: usize,
    /// Units with a positive weight.
    pub matched: usize,
    /// Units with weight 0.
    pub unmatched: usize,
    /// Effective sample size of all units with unit weights (= `all`).
    pub all_ess: f64,
    /// Effective sample size `(Σ w)² / Σ w²` of the weights; 0 if no unit is matched.
    pub matched_ess: f64,
}

/// Sample sizes per group before and after matching.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SampleSizes {
    /// The control group.
    pub control: GroupSizes,
    /// The treated group.
    pub treated: GroupSizes,
}

/// Summary of a continuous variable for a descriptive table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ContinuousSummary {
    /// Units with a non-missing value and a positive weight.
    pub n: usize,
    /// Units with a missing (NaN) value.
    pub n_missing: usize,
    /// Sum of the weights of the `n` units.
    pub sum_weights: f64,
    /// Weighted mean.
    pub mean: f64,
    /// Weighted SD ([`weighted_variance`]); `None` with fewer than 2 effective units.
    pub sd: Option<f64>,
    /// Weighted median ([`weighted_quantile`] at 0.5).
    pub median: f64,
    /// Weighted first quartile.
    pub q1: f64,
    /// Weighted third quartile.
    pub q3: f64,
}

/// Summary of a binary (0/1) variable for a descriptive table: "n (%)".
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BinarySummary {
    /// Units with a non-missing value and a positive weight.
    pub n: usize,
    /// Units with a missing (NaN) value.
    pub n_missing: usize,
    /// Weighted count of ones, `Σ w x` (the plain count with unit weights).
    pub count: f64,
    /// Sum of the weights of the `n` units.
    pub sum_weights: f64,
    /// `100 × count / sum_weights`.
    pub percent: f64,
}

/// Errors of the balance and descriptive statistics. Rows are 0-based.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum BalanceError {
    /// An input does not have one entry per unit.
    #[error("{what} has length {found}, expected {expected} (one per unit)")]
    LengthMismatch {
        what: String,
        expected: usize,
        found: usize,
    },
    /// A covariate value is NaN or infinite.
    #[error("covariate `{term}` is not finite ({value}) at row {row}")]
    NonFiniteValue {
        term: String,
        row: usize,
        value: f64,
    },
    /// A covariate flagged binary has a value other than 0 or 1.
    #[error("covariate `{term}` is flagged binary but has value {value} at row {row}")]
    NotBinary {
        term: String,
        row: usize,
        value: f64,
    },
    /// A value of a 0/1 variable is neither 0, 1 nor missing (NaN).
    #[error("value {value} at row {row} is not 0, 1 or missing")]
    NotZeroOne { row: usize, value: f64 },
    /// A weight is negative or not finite.
    #[error("weight {value} at row {row} is invalid: weights must be finite and >= 0")]
    InvalidWeight { row: usize, value: f64 },
    /// A group is empty or has zero total weight.
    #[error("the {group} group has no unit with a positive weight")]
    EmptyGroup { group: &'static str },
    /// A pair refers to a row out of range or to a unit of the wrong group.
    #[error("matched pair ({treated}, {control}) does not link a treated row to a control row")]
    InvalidPair { treated: usize, control: usize },
}

/// The balance table for the ATT: one row per covariate, before matching (unit
/// weights) and after (`weights`, e.g. [`Matching::weights`]).
///
/// MatchIt's first row is the distance itself (the linear logit): pass it as the
/// first covariate, named `distance`. Factors enter as one 0/1 column per level, no
/// level dropped (e.g. `raceblack`, `racehispan`, `racewhite`).
///
/// `pairs` (treated row, control row) are the links of the matched sets, one entry
/// per match (a control matched twice appears twice), for the pair distance.
///
/// # Errors
/// - [`BalanceError::LengthMismatch`] if a column or `weights` does not match
///   `treated`.
/// - [`BalanceError::NonFiniteValue`], [`BalanceError::NotBinary`] for bad values.
/// - [`BalanceError::InvalidWeight`] for a negative or non-finite weight.
/// - [`BalanceError::EmptyGroup`] if a group has no units, or no matched units.
/// - [`BalanceError::InvalidPair`] if a pair is out of range or links wrong groups.
///
/// [`Matching::weights`]: crate::stats::matching::Matching::weights
pub fn balance_table(
    covariates: &[Covariate<'_>],
    treated: &[bool],
    weights: &[f64],
    pairs: &[(usize, usize)],
) -> Result<Vec<BalanceRow>, BalanceError> {
    let samples = Samples::new(treated, weights, pairs)?;
    let rows = crate::stats::map_indices(covariates.len(), |j| {
        let cov = &covariates[j];
        samples.row(cov.name, cov.values, cov.binary)
    });
    rows.into_iter().collect()
}

/// [`balance_table`] over covariates whose values are made one at a time, when needed:
/// `column(j)` gives the values of the covariate named `names[j]`, flagged binary as
/// [`Covariate::new`] flags it. For samples too large to hold every column at once.
///
/// # Errors
/// As [`balance_table`].
pub fn balance_table_by_column<F>(
    names: &[String],
    column: F,
    treated: &[bool],
    weights: &[f64],
    pairs: &[(usize, usize)],
) -> Result<Vec<BalanceRow>, BalanceError>
where
    F: Fn(usize) -> Vec<f64> + Sync,
{
    let samples = Samples::new(treated, weights, pairs)?;
    let rows = crate::stats::map_indices(names.len(), |j| {
        let values = column(j);
        let cov = Covariate::new(&names[j], &values);
        samples.row(cov.name, cov.values, cov.binary)
    });
    rows.into_iter().collect()
}

/// The sample before matching (unit weights) and after (the matching weights), checked.
struct Samples<'a> {
    treated: &'a [bool],
    weights: &'a [f64],
    pairs: &'a [(usize, usize)],
    groups: Groups,
}

impl<'a> Samples<'a> {
    fn new(
        treated: &'a [bool],
        weights: &'a [f64],
        pairs: &'a [(usize, usize)],
    ) -> Result<Self, BalanceError> {
        let n = treated.len();
        check_weights(treated, weights)?;
        for &(t, c) in pairs {
            if t >= n || c >= n || !treated[t] || treated[c] {
                return Err(BalanceError::InvalidPair {
                    treated: t,
                    control: c,
                });
            }
        }
        Ok(Samples {
            treated,
            weights,
            pairs,
            groups: Groups::new(treated),
        })
    }

    /// The balance row of one covariate.
    fn row(&self, name: &str, values: &[f64], binary: bool) -> Result<BalanceRow, BalanceError> {
        let treated = self.treated;
        check_covariate(
            &Covariate {
                name,
                values,
                binary,
            },
            treated.len(),
        )?;
        let s = smd_denominator(values, binary, treated);
        // Both samples walk the values in the same order.
        let order = OnceCell::new();
        let before = self
            .groups
            .balance(values, binary, treated, Weights::Unit, s, None, &order);
        let after = self.groups.balance(
            values,
            binary,
            treated,
            Weights::Given(self.weights),
            s,
            Some(self.pairs),
            &order,
        );
        Ok(BalanceRow {
            term: name.to_string(),
            binary,
            mean_treated_before: before.mean_treated,
            mean_control_before: before.mean_control,
            smd_before: before.smd,
            variance_ratio_before: before.variance_ratio,
            ecdf_mean_before: before.ecdf_mean,
            ecdf_max_before: before.ecdf_max,
            mean_treated_after: after.mean_treated,
            mean_control_after: after.mean_control,
            smd_after: after.smd,
            variance_ratio_after: after.variance_ratio,
            ecdf_mean_after: after.ecdf_mean,
            ecdf_max_after: after.ecdf_max,
            std_pair_dist_after: after.std_pair_dist,
        })
    }
}

fn check_covariate(cov: &Covariate<'_>, n: usize) -> Result<(), BalanceError> {
    if cov.values.len() != n {
        return Err(BalanceError::LengthMismatch {
            what: format!("covariate `{}`", cov.name),
            expected: n,
            found: cov.values.len(),
        });
    }
    for (row, &value) in cov.values.iter().enumerate() {
        if !value.is_finite() {
            return Err(BalanceError::NonFiniteValue {
                term: cov.name.to_string(),
                row,
                value,
            });
        }
        if cov.binary && value != 0.0 && value != 1.0 {
            return Err(BalanceError::NotBinary {
                term: cov.name.to_string(),
                row,
                value,
            });
        }
    }
    Ok(())
}

/// Checks weights (finite, ≥ 0) and that both groups carry positive weight.
fn check_weights(treated: &[bool], weights: &[f64]) -> Result<(), BalanceError> {
    if weights.len() != treated.len() {
        return Err(BalanceError::LengthMismatch {
            what: "weights".to_string(),
            expected: treated.len(),
            found: weights.len(),
        });
    }
    if let Some((row, &value)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(BalanceError::InvalidWeight { row, value });
    }
    for (flag, group) in [(true, "treated"), (false, "control")] {
        let has_units = treated.contains(&flag);
        let positive = treated
            .iter()
            .zip(weights)
            .any(|(&t, &w)| t == flag && w > 0.0);
        if !(has_units && positive) {
            return Err(BalanceError::EmptyGroup { group });
        }
    }
    Ok(())
}

/// The SMD denominator for the ATT: the SD of the treated group with unit weights
/// (binary: `sqrt(p (1 − p))`), falling back to MatchIt's pooled SD when it is not
/// finite or below `sqrt(ε)` (e.g. a covariate constant among the treated).
pub fn smd_denominator(values: &[f64], binary: bool, treated: &[bool]) -> f64 {
    let x1: Vec<f64> = select(values, treated, true).collect();
    let s = unit_variance(&x1, binary).sqrt();
    if s.is_finite() && s >= SQRT_EPS {
        s
    } else {
        pooled_sd(values, binary, treated)
    }
}

/// MatchIt's `pooled_sd(..., contribution = "proportional")` with unit weights:
/// binary `Σ_g s_g (1 − s_g / n_g) / n` (s_g = number of ones in group g); continuous
/// the within-group centred sum of squares over n − 1.
fn pooled_sd(values: &[f64], binary: bool, treated: &[bool]) -> f64 {
    let n = values.len() as f64;
    let var = [true, false]
        .iter()
        .map(|&flag| {
            let x: Vec<f64> = select(values, treated, flag).collect();
            let ng = x.len() as f64;
            let sum: f64 = x.iter().sum();
            if binary {
                sum * (1.0 - sum / ng) / n
            } else {
                let mean = sum / ng;
                x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
            }
        })
        .sum::<f64>();
    var.sqrt()
}

fn select<'a>(
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

/// MatchIt's `wvar` with unit weights: `p (1 − p)` for binary, else the n − 1 variance.
fn unit_variance(x: &[f64], binary: bool) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    if binary {
        mean * (1.0 - mean)
    } else {
        x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
    }
}

/// Balance statistics of one covariate under one set of weights (MatchIt's
/// `bal1var`), given the SMD denominator `sd` ([`smd_denominator`]). Inputs are
/// assumed checked (as [`balance_table`] does): same lengths, finite values, weights
/// ≥ 0 with positive total in each group.
pub fn sample_balance(
    values: &[f64],
    binary: bool,
    treated: &[bool],
    weights: &[f64],
    sd: f64,
    pairs: Option<&[(usize, usize)]>,
) -> SampleBalance {
    Groups::new(treated).balance(
        values,
        binary,
        treated,
        Weights::Given(weights),
        sd,
        pairs,
        &OnceCell::new(),
    )
}

/// The weights of a sample: all 1 (before matching) or one per row.
#[derive(Clone, Copy)]
enum Weights<'a> {
    Unit,
    Given(&'a [f64]),
}

impl Weights<'_> {
    fn get(&self, row: usize) -> &f64 {
        match self {
            Weights::Unit => &1.0,
            Weights::Given(w) => &w[row],
        }
    }
}

/// The treated rows, listed; the control rows are the others.
struct Groups {
    n: usize,
    treated: Vec<usize>,
}

impl Groups {
    fn new(treated: &[bool]) -> Groups {
        Groups {
            n: treated.len(),
            treated: (0..treated.len()).filter(|&i| treated[i]).collect(),
        }
    }

    /// The rows of a group, in row order.
    fn rows(&self, treated: bool) -> GroupRows<'_> {
        GroupRows {
            treated: &self.treated,
            complement: !treated,
            next: 0,
            row: 0,
            n: self.n,
        }
    }

    /// [`sample_balance`]; `order` holds the order of `values` once a statistic needs it.
    #[allow(clippy::too_many_arguments)]
    fn balance(
        &self,
        values: &[f64],
        binary: bool,
        treated: &[bool],
        weights: Weights<'_>,
        sd: f64,
        pairs: Option<&[(usize, usize)]>,
        order: &OnceCell<ValueOrder>,
    ) -> SampleBalance {
        let group = |flag: bool| self.rows(flag).map(|i| (values[i], weights.get(i)));
        let nonzero = |flag: bool| self.rows(flag).filter(|&i| *weights.get(i) != 0.0).count();
        let too_small = nonzero(true) < 2 && nonzero(false) < 2;

        let mean_treated = weighted_mean_of(|| group(true));
        let mean_control = weighted_mean_of(|| group(false));
        let mdiff = mean_treated - mean_control;
        let standardised = mdiff.abs() > SQRT_EPS;
        let smd = match (standardised, too_small) {
            (false, _) => Some(mdiff),
            (true, false) => Some(mdiff / sd),
            (true, true) => None,
        };
        let std_pair_dist = pairs.filter(|p| !p.is_empty()).and_then(|p| {
            let mean = p
                .iter()
                .map(|&(t, c)| (values[t] - values[c]).abs())
                .sum::<f64>()
                / p.len() as f64;
            match (standardised, too_small) {
                (false, _) => Some(mean),
                (true, false) if mean.abs() > PAIR_DIST_FLOOR => Some(mean / sd),
                (true, false) => Some(mean),
                (true, true) => None,
            }
        });
        let (variance_ratio, ecdf_mean, ecdf_max) = if binary {
            (None, Some(mdiff.abs()), Some(mdiff.abs()))
        } else if too_small {
            (None, None, None)
        } else {
            let vr =
                reliability_variance_of(|| group(true)) / reliability_variance_of(|| group(false));
            let order = order.get_or_init(|| ValueOrder::of(values));
            let (mean, max) = ecdf_in_order(order, treated, weights);
            (Some(vr), Some(mean), Some(max))
        };
        SampleBalance {
            mean_treated,
            mean_control,
            smd,
            variance_ratio,
            ecdf_mean,
            ecdf_max,
            std_pair_dist,
        }
    }
}

/// The rows of a group in row order: the listed treated rows, or (`complement`) every
/// row that is not listed.
#[derive(Clone)]
struct GroupRows<'a> {
    treated: &'a [usize],
    complement: bool,
    /// The next listed row to yield or to skip.
    next: usize,
    /// The next row (`complement` only).
    row: usize,
    n: usize,
}

impl Iterator for GroupRows<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if !self.complement {
            let row = self.treated.get(self.next).copied();
            self.next += 1;
            return row;
        }
        while self.row < self.n {
            let row = self.row;
            self.row += 1;
            if self.treated.get(self.next) == Some(&row) {
                self.next += 1;
            } else {
                return Some(row);
            }
        }
        None
    }
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
fn reliability_variance_of<'w, I>(group: impl Fn() -> I) -> f64
where
    I: Iterator<Item = (f64, &'w f64)>,
{
    let sw: f64 = group().map(|(_, w)| w).sum();
    let mean = group().map(|(a, b)| a * b / sw).sum::<f64>();
    let ss: f64 = group().map(|(a, b)| b / sw * (a - mean) * (a - mean)).sum();
    let sw2: f64 = group().map(|(_, b)| (b / sw) * (b / sw)).sum();
    ss / (1.0 - sw2)
}

/// [`weighted_mean_of`] over paired slices.
fn weighted_mean_unchecked(x: &[f64], w: &[f64]) -> f64 {
    weighted_mean_of(|| x.iter().copied().zip(w))
}

/// [`reliability_variance_of`] over paired slices.
fn reliability_variance(x: &[f64], w: &[f64]) -> f64 {
    reliability_variance_of(|| x.iter().copied().zip(w))
}

/// Values below this that are whole numbers ≥ 0 (counts, codes) are put in order by
/// counting instead of sorting.
const COUNTING_SORT_LIMIT: f64 = 65_536.0;

/// The rows in the order of their values, ties in row order (a stable sort), and where
/// each run of equal values ends.
pub(crate) struct ValueOrder {
    pub(crate) rows: Vec<usize>,
    last_of_run: Vec<bool>,
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
        let mut keyed: Vec<(u64, usize)> = (0..n).map(|i| (order_key(value(i)), i)).collect();
        keyed.sort_unstable();
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
fn ecdf_differences(values: &[f64], treated: &[bool], weights: &[f64]) -> (f64, f64) {
    ecdf_in_order(&ValueOrder::of(values), treated, Weights::Given(weights))
}

/// [`ecdf_differences`] given the order of the values.
fn ecdf_in_order(order: &ValueOrder, treated: &[bool], weights: Weights<'_>) -> (f64, f64) {
    let total = |flag: bool| -> f64 {
        (0..treated.len())
            .filter(|&i| treated[i] == flag)
            .map(|i| weights.get(i))
            .sum()
    };
    let (sw1, sw0) = (total(true), total(false));
    let (mut cum, mut sum, mut max, mut count) = (0.0_f64, 0.0_f64, 0.0_f64, 0usize);
    for (&i, &last) in order.rows.iter().zip(&order.last_of_run) {
        cum += if treated[i] {
            weights.get(i) / sw1
        } else {
            -weights.get(i) / sw0
        };
        if last {
            sum += cum.abs();
            max = max.max(cum.abs());
            count += 1;
        }
    }
    (sum / count as f64, max)
}

/// Per-group counts and effective sample sizes (MatchIt's `nn`; no discarded units).
///
/// # Errors
/// [`BalanceError::LengthMismatch`], [`BalanceError::InvalidWeight`] for bad weights.
pub fn sample_sizes(treated: &[bool], weights: &[f64]) -> Result<SampleSizes, BalanceError> {
    if weights.len() != treated.len() {
        return Err(BalanceError::LengthMismatch {
            what: "weights".to_string(),
            expected: treated.len(),
            found: weights.len(),
        });
    }
    if let Some((row, &value)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(BalanceError::InvalidWeight { row, value });
    }
    let group = |flag: bool| {
        let w: Vec<f64> = select(weights, treated, flag).collect();
        let matched = w.iter().filter(|&&v| v > 0.0).count();
        let sum: f64 = w.iter().sum();
        let sum_sq: f64 = w.iter().map(|v| v * v).sum();
        GroupSizes {
            all: w.len(),
            matched,
            unmatched: w.len() - matched,
            all_ess: w.len() as f64,
            matched_ess: if sum_sq > 0.0 {
                sum * sum / sum_sq
            } else {
                0.0
            },
        }
    };
    Ok(SampleSizes {
        control: group(false),
        treated: group(true),
    })
}

// ---------------------------------------------------------------------------
// Descriptive statistics ("Table 1"). Missing values are NaN and are skipped;
// `weights = None` means unit weights; units with weight 0 are left out.
// ---------------------------------------------------------------------------

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

/// Weighted quantile: the inverse of the weighted eCDF, averaging the two neighbouring
/// values where the cumulative weight equals `p` exactly. With unit weights this is
/// R's `quantile(x, p, type = 2)` (the SAS default; gtsummary's choice for medians and
/// IQRs); with integer frequency weights it is type 2 on the expanded data. `None`
/// if no value has positive weight or `p` is outside [0, 1].
///
/// # Errors
/// [`BalanceError::LengthMismatch`], [`BalanceError::InvalidWeight`].
pub fn weighted_quantile(
    x: &[f64],
    weights: Option<&[f64]>,
    p: f64,
) -> Result<Option<f64>, BalanceError> {
    let (v, w, _) = present(x, weights)?;
    Ok(quantile_sorted(&sort_weighted(v, w), p))
}

fn sort_weighted(v: Vec<f64>, w: Vec<f64>) -> Vec<(f64, f64)> {
    let mut pairs: Vec<(f64, f64)> = v.into_iter().zip(w).collect();
    pairs.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
    pairs
}

fn quantile_sorted(sorted: &[(f64, f64)], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let total: f64 = sorted.iter().map(|&(_, w)| w).sum();
    let target = p * total;
    // Cumulative weights carry rounding error when weights are fractional.
    let tol = 1e-12 * total;
    let mut cum = 0.0;
    for (k, &(x, w)) in sorted.iter().enumerate() {
        cum += w;
        if cum >= target - tol {
            let at_boundary = (cum - target).abs() <= tol && p > 0.0;
            return Some(match sorted.get(k + 1) {
                Some(&(next, _)) if at_boundary => 0.5 * (x + next),
                _ => x,
            });
        }
    }
    sorted.last().map(|&(x, _)| x)
}

/// Mean, SD, median and quartiles of a continuous variable, weighted
/// ([`weighted_mean`], [`weighted_variance`], [`weighted_quantile`]).
/// `None` if no value has positive weight.
///
/// # Errors
/// [`BalanceError::LengthMismatch`], [`BalanceError::InvalidWeight`].
pub fn summarise_continuous(
    x: &[f64],
    weights: Option<&[f64]>,
) -> Result<Option<ContinuousSummary>, BalanceError> {
    let (v, w, n_missing) = present(x, weights)?;
    if v.is_empty() {
        return Ok(None);
    }
    let mean = weighted_mean_unchecked(&v, &w);
    let sd = (v.len() >= 2)
        .then(|| reliability_variance(&v, &w).sqrt())
        .filter(|s| s.is_finite());
    let sum_weights = w.iter().sum();
    let n = v.len();
    let sorted = sort_weighted(v, w);
    let q = |p: f64| quantile_sorted(&sorted, p).unwrap_or(f64::NAN);
    Ok(Some(ContinuousSummary {
        n,
        n_missing,
        sum_weights,
        mean,
        sd,
        median: q(0.5),
        q1: q(0.25),
        q3: q(0.75),
    }))
}

/// Weighted count and percentage of ones of a 0/1 variable ("n (%)").
/// `None` if no value has positive weight.
///
/// # Errors
/// [`BalanceError::LengthMismatch`], [`BalanceError::InvalidWeight`];
/// [`BalanceError::NotZeroOne`] for a value other than 0, 1 or NaN.
pub fn summarise_binary(
    x: &[f64],
    weights: Option<&[f64]>,
) -> Result<Option<BinarySummary>, BalanceError> {
    if let Some((row, &value)) = x
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_nan() || **v == 0.0 || **v == 1.0))
    {
        return Err(BalanceError::NotZeroOne { row, value });
    }
    let (v, w, n_missing) = present(x, weights)?;
    if v.is_empty() {
        return Ok(None);
    }
    let count: f64 = v.iter().zip(&w).map(|(a, b)| a * b).sum();
    let sum_weights: f64 = w.iter().sum();
    Ok(Some(BinarySummary {
        n: v.len(),
        n_missing,
        count,
        sum_weights,
        percent: 100.0 * count / sum_weights,
    }))
}

/// Reference data shared by the balance and matching tests: MatchIt 4.5.1 runs on
/// lalonde and nhefs, exported by tests/reference/matching/matching.R (R 4.2.2,
/// MatchIt 4.5.1; see MATCHIT_NOTES.md there).
#[cfg(test)]
pub(crate) mod reference {
    use serde_json::Value;
    use std::collections::HashMap;

    macro_rules! runs {
        ($($name:literal),* $(,)?) => {
            &[$(($name, include_str!(concat!("../../tests/reference/matching/", $name, ".json")))),*]
        };
    }

    /// Every stored `matchit()` run: MatchIt 4.5.1 as is (`<run>`) and the
    /// defect-free algorithm (`<run>_intended`).
    pub(crate) const RUNS: &[(&str, &str)] = runs![
        "lalonde_r1_cal0.2_norepl",
        "lalonde_r1_cal0.2_norepl_intended",
        "lalonde_r1_cal0.2_repl",
        "lalonde_r1_cal0.2_repl_intended",
        "lalonde_r1_nocal_norepl",
        "lalonde_r1_nocal_norepl_intended",
        "lalonde_r1_nocal_norepl_data",
        "lalonde_r1_nocal_norepl_data_intended",
        "lalonde_r1_nocal_norepl_smallest",
        "lalonde_r1_nocal_norepl_smallest_intended",
        "lalonde_r1_nocal_repl",
        "lalonde_r1_nocal_repl_intended",
        "lalonde_r3_cal0.2_norepl",
        "lalonde_r3_cal0.2_norepl_intended",
        "lalonde_r3_cal0.2_norepl_data",
        "lalonde_r3_cal0.2_norepl_data_intended",
        "lalonde_r3_cal0.2_norepl_smallest",
        "lalonde_r3_cal0.2_norepl_smallest_intended",
        "lalonde_r3_cal0.2_repl",
        "lalonde_r3_cal0.2_repl_intended",
        "lalonde_r3_nocal_norepl",
        "lalonde_r3_nocal_norepl_intended",
        "lalonde_r3_nocal_repl",
        "lalonde_r3_nocal_repl_intended",
        "nhefs_r1_cal0.2_norepl",
        "nhefs_r1_cal0.2_norepl_intended",
        "nhefs_r1_cal0.2_repl",
        "nhefs_r1_cal0.2_repl_intended",
        "nhefs_r1_nocal_norepl",
        "nhefs_r1_nocal_norepl_intended",
        "nhefs_r1_nocal_norepl_data",
        "nhefs_r1_nocal_norepl_data_intended",
        "nhefs_r1_nocal_norepl_smallest",
        "nhefs_r1_nocal_norepl_smallest_intended",
        "nhefs_r1_nocal_repl",
        "nhefs_r1_nocal_repl_intended",
        "nhefs_r3_cal0.2_norepl",
        "nhefs_r3_cal0.2_norepl_intended",
        "nhefs_r3_cal0.2_norepl_data",
        "nhefs_r3_cal0.2_norepl_data_intended",
        "nhefs_r3_cal0.2_norepl_smallest",
        "nhefs_r3_cal0.2_norepl_smallest_intended",
        "nhefs_r3_cal0.2_repl",
        "nhefs_r3_cal0.2_repl_intended",
        "nhefs_r3_nocal_norepl",
        "nhefs_r3_nocal_norepl_intended",
        "nhefs_r3_nocal_repl",
        "nhefs_r3_nocal_repl_intended",
    ];

    const LALONDE_CSV: &str = include_str!("../../tests/reference/matching/lalonde.csv");
    const NHEFS_CSV: &str = include_str!("../../tests/reference/matching/nhefs.csv");

    /// One reference run with the data it was computed from.
    pub(crate) struct Case {
        pub json: Value,
        /// Unit ids in data order.
        pub ids: Vec<String>,
        pub treated: Vec<bool>,
        /// Linear-logit propensity score per unit (MatchIt's `distance`).
        pub distance: Vec<f64>,
        /// R's matching weights.
        pub weights: Vec<f64>,
        /// The rows of MatchIt's balance table: `distance`, then the covariates, factors
        /// as one 0/1 column per level.
        pub columns: Vec<(String, Vec<f64>)>,
        /// R's match matrix: (treated row, control rows in round order, NA dropped),
        /// one entry per treated unit in data order.
        pub match_matrix: Vec<(usize, Vec<usize>)>,
        /// Option values of the run.
        pub ratio: usize,
        pub caliper: Option<f64>,
        pub replace: bool,
        pub order: String,
    }

    pub(crate) fn text(name: &str) -> &'static str {
        RUNS.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .unwrap_or_else(|| panic!("no reference run {name}"))
    }

    pub(crate) fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Null => None,
            Value::Number(x) => x.as_f64(),
            other => panic!("not a number: {other}"),
        }
    }

    fn nums(v: &Value) -> Vec<f64> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| num(x).expect("non-null"))
            .collect()
    }

    pub(crate) fn load(name: &str) -> Case {
        let json: Value = serde_json::from_str(text(name)).expect("valid JSON");
        let csv = match json["data_file"].as_str().expect("data_file") {
            "lalonde.csv" => LALONDE_CSV,
            "nhefs.csv" => NHEFS_CSV,
            other => panic!("unknown data file {other}"),
        };
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let rows: Vec<Vec<&str>> = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').collect())
            .collect();
        let column = |name: &str| -> Vec<&str> {
            let j = header.iter().position(|h| *h == name).expect("column");
            rows.iter().map(|r| r[j]).collect()
        };
        let ids: Vec<String> = column("id").into_iter().map(String::from).collect();
        let units = &json["units"];
        let json_ids: Vec<String> = units["id"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|v| v.as_str().expect("id").to_string())
            .collect();
        assert_eq!(ids, json_ids, "{name}: CSV and JSON ids differ");
        let treated: Vec<bool> = nums(&units["treat"]).iter().map(|&t| t == 1.0).collect();
        let distance = nums(&units["distance"]);
        let weights = nums(&units["weights"]);

        let formula = json["formula"].as_str().expect("formula");
        let (lhs, rhs) = formula.split_once('~').expect("formula with ~");
        let treat_name = lhs.trim();
        let treat_csv: Vec<bool> = column(treat_name).iter().map(|t| *t == "1").collect();
        assert_eq!(treat_csv, treated, "{name}: treatment column");
        let mut columns = vec![("distance".to_string(), distance.clone())];
        for term in rhs.split('+').map(str::trim) {
            let values = column(term);
            match json["factor_levels"][term].as_array() {
                Some(levels) => {
                    for level in levels.iter().map(|l| l.as_str().expect("level")) {
                        let x = values
                            .iter()
                            .map(|v| f64::from(u8::from(*v == level)))
                            .collect();
                        columns.push((format!("{term}{level}"), x));
                    }
                }
                None => {
                    let x = values
                        .iter()
                        .map(|v| v.parse::<f64>().expect("number"))
                        .collect();
                    columns.push((term.to_string(), x));
                }
            }
        }

        let row_of: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mm = &json["match_matrix"];
        let match_matrix = mm["treated_id"]
            .as_array()
            .expect("treated_id")
            .iter()
            .zip(mm["control_ids"].as_array().expect("control_ids"))
            .map(|(t, cs)| {
                let t = row_of[t.as_str().expect("id")];
                let cs = cs
                    .as_array()
                    .expect("row")
                    .iter()
                    .filter_map(|c| c.as_str().map(|c| row_of[c]))
                    .collect();
                (t, cs)
            })
            .collect();
        let options = &json["options"];
        Case {
            ids,
            treated,
            distance,
            weights,
            columns,
            match_matrix,
            ratio: options["ratio"].as_u64().expect("ratio") as usize,
            caliper: num(&options["caliper"]),
            replace: options["replace"].as_bool().expect("replace"),
            order: options["m_order_effective"]
                .as_str()
                .expect("order")
                .to_string(),
            json,
        }
    }

    /// `|a − b| ≤ rel · max(|a|, |b|) + abs`.
    pub(crate) fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
    }
}

#[cfg(test)]
mod tests {
    //! Reference values: MatchIt 4.5.1 `summary(matchit(...))` on R 4.2.2, from
    //! tests/reference/matching/matching.R; formulas in MATCHIT_NOTES.md §6. Hand
    //! values of the descriptive helpers follow from the definitions (quantile type 2
    //! of Hyndman & Fan 1996, as R's `quantile(type = 2)`; the n − 1 variance).

    use super::reference::{close, load, num, RUNS};
    use super::*;

    /// Relative agreement with MatchIt's summary (the formulas are the same; only
    /// summation order and R's long-double accumulation differ).
    const MATCHIT_REL_TOL: f64 = 1e-9;
    /// Absolute floor for statistics that are zero up to rounding.
    const ABS_FLOOR: f64 = 1e-13;

    fn check_stat(
        run: &str,
        which: &str,
        term: &str,
        stat: &str,
        got: Option<f64>,
        want: Option<f64>,
    ) {
        match (got, want) {
            (Some(g), Some(w)) => assert!(
                close(g, w, MATCHIT_REL_TOL, ABS_FLOOR),
                "{run} {which} {term} {stat}: got {g:e}, MatchIt {w:e}"
            ),
            (None, None) => {}
            _ => panic!("{run} {which} {term} {stat}: got {got:?}, MatchIt {want:?}"),
        }
    }

    /// Every balance statistic of every stored run (MatchIt's own weights and match
    /// matrix as input, so this isolates the balance formulas from the matching).
    #[test]
    fn balance_table_matches_matchit_summary_in_all_48_runs() {
        assert_eq!(RUNS.len(), 48);
        for (run, _) in RUNS {
            let case = load(run);
            let covariates: Vec<Covariate> = case
                .columns
                .iter()
                .map(|(n, x)| Covariate::new(n, x))
                .collect();
            let pairs: Vec<(usize, usize)> = case
                .match_matrix
                .iter()
                .flat_map(|(t, cs)| cs.iter().map(move |&c| (*t, c)))
                .collect();
            let table = balance_table(&covariates, &case.treated, &case.weights, &pairs)
                .unwrap_or_else(|e| panic!("{run}: {e}"));
            let all = case.json["balance"]["all"].as_array().expect("all");
            let matched = case.json["balance"]["matched"].as_array().expect("matched");
            assert_eq!(table.len(), all.len(), "{run}: number of rows");
            for ((row, before), after) in table.iter().zip(all).zip(matched) {
                assert_eq!(row.term, before["term"].as_str().expect("term"), "{run}");
                assert_eq!(row.term, after["term"].as_str().expect("term"), "{run}");
                let t = row.term.as_str();
                let r = |v: &serde_json::Value, k: &str| num(&v[k]);
                check_stat(
                    run,
                    "all",
                    t,
                    "means_treated",
                    Some(row.mean_treated_before),
                    r(before, "means_treated"),
                );
                check_stat(
                    run,
                    "all",
                    t,
                    "means_control",
                    Some(row.mean_control_before),
                    r(before, "means_control"),
                );
                check_stat(
                    run,
                    "all",
                    t,
                    "std_mean_diff",
                    row.smd_before,
                    r(before, "std_mean_diff"),
                );
                check_stat(
                    run,
                    "all",
                    t,
                    "var_ratio",
                    row.variance_ratio_before,
                    r(before, "var_ratio"),
                );
                check_stat(
                    run,
                    "all",
                    t,
                    "ecdf_mean",
                    row.ecdf_mean_before,
                    r(before, "ecdf_mean"),
                );
                check_stat(
                    run,
                    "all",
                    t,
                    "ecdf_max",
                    row.ecdf_max_before,
                    r(before, "ecdf_max"),
                );
                check_stat(
                    run,
                    "all",
                    t,
                    "std_pair_dist",
                    None,
                    r(before, "std_pair_dist"),
                );
                check_stat(
                    run,
                    "matched",
                    t,
                    "means_treated",
                    Some(row.mean_treated_after),
                    r(after, "means_treated"),
                );
                check_stat(
                    run,
                    "matched",
                    t,
                    "means_control",
                    Some(row.mean_control_after),
                    r(after, "means_control"),
                );
                check_stat(
                    run,
                    "matched",
                    t,
                    "std_mean_diff",
                    row.smd_after,
                    r(after, "std_mean_diff"),
                );
                check_stat(
                    run,
                    "matched",
                    t,
                    "var_ratio",
                    row.variance_ratio_after,
                    r(after, "var_ratio"),
                );
                check_stat(
                    run,
                    "matched",
                    t,
                    "ecdf_mean",
                    row.ecdf_mean_after,
                    r(after, "ecdf_mean"),
                );
                check_stat(
                    run,
                    "matched",
                    t,
                    "ecdf_max",
                    row.ecdf_max_after,
                    r(after, "ecdf_max"),
                );
                check_stat(
                    run,
                    "matched",
                    t,
                    "std_pair_dist",
                    row.std_pair_dist_after,
                    r(after, "std_pair_dist"),
                );
            }
        }
    }

    #[test]
    fn sample_sizes_match_matchit_in_all_48_runs() {
        for (run, _) in RUNS {
            let case = load(run);
            let sizes = sample_sizes(&case.treated, &case.weights).expect("valid weights");
            for (got, key) in [(sizes.control, "control"), (sizes.treated, "treated")] {
                let want = &case.json["sample_sizes"][key];
                let count = |k: &str| want[k].as_u64().expect("count") as usize;
                assert_eq!(got.all, count("all"), "{run} {key}");
                assert_eq!(got.matched, count("matched"), "{run} {key}");
                assert_eq!(got.unmatched, count("unmatched"), "{run} {key}");
                assert_eq!(
                    got.all_ess,
                    want["all_ess"].as_f64().expect("ess"),
                    "{run} {key}"
                );
                let ess = want["matched_ess"].as_f64().expect("ess");
                assert!(
                    close(got.matched_ess, ess, 1e-12, 0.0),
                    "{run} {key}: {} vs {ess}",
                    got.matched_ess
                );
            }
        }
    }

    /// MatchIt reports `raceblack`, `racehispan`, `racewhite`: every level of a
    /// factor, each a binary row (no variance ratio, eCDF = |mean difference|).
    #[test]
    fn factor_levels_are_binary_rows_without_variance_ratio() {
        let case = load("lalonde_r1_nocal_norepl_intended");
        let names: Vec<&str> = case.columns.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "distance",
                "age",
                "educ",
                "raceblack",
                "racehispan",
                "racewhite",
                "married",
                "nodegree",
                "re74",
                "re75"
            ]
        );
        let covariates: Vec<Covariate> = case
            .columns
            .iter()
            .map(|(n, x)| Covariate::new(n, x))
            .collect();
        let table = balance_table(&covariates, &case.treated, &case.weights, &[]).expect("table");
        for row in &table {
            let binary =
                row.term.starts_with("race") || row.term == "married" || row.term == "nodegree";
            assert_eq!(row.binary, binary, "{}", row.term);
            if binary {
                assert_eq!(row.variance_ratio_before, None);
                let d = (row.mean_treated_before - row.mean_control_before).abs();
                assert_eq!(row.ecdf_max_before, Some(d));
                assert_eq!(row.ecdf_mean_before, Some(d));
            }
            assert_eq!(row.std_pair_dist_after, None, "no pairs given");
        }
    }

    /// Unmatched units keep their values as eCDF evaluation points (notes §6):
    /// x = 1..4, treated {1, 3}, control {2, 4}; after matching only units 1 and 2
    /// carry weight. Treated eCDF after: 1 from x = 1 on; control: 1 from x = 2 on.
    /// |F_T − F_C| at 1, 2, 3, 4 = 1, 0, 0, 0 → mean 0.25, max 1.
    #[test]
    fn ecdf_is_evaluated_at_every_value_of_the_full_sample() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let treated = [true, false, true, false];
        let (mean, max) = ecdf_differences(&x, &treated, &[1.0, 1.0, 0.0, 0.0]);
        assert_eq!((mean, max), (0.25, 1.0));
        // Before: |F_T − F_C| at 1..4 = 0.5, 0, 0.5, 0.
        let (mean, max) = ecdf_differences(&x, &treated, &[1.0; 4]);
        assert_eq!((mean, max), (0.25, 0.5));
    }

    /// Binary SMD denominator is sqrt(p(1 − p)) of the treated, no n − 1 correction.
    #[test]
    fn binary_smd_uses_treated_proportion_without_bessel_correction() {
        let x = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
        let treated = [true, true, true, true, false, false, false, false];
        let s = smd_denominator(&x, true, &treated);
        assert_eq!(s, 0.5);
        let b = sample_balance(&x, true, &treated, &[1.0; 8], s, None);
        assert_eq!(b.smd, Some((0.5 - 0.25) / 0.5));
    }

    /// A covariate constant among the treated (SD 0) falls back to MatchIt's pooled SD
    /// ("proportional"): binary Σ_g s_g (1 − s_g/n_g) / n.
    #[test]
    fn constant_treated_covariate_uses_pooled_sd() {
        let x = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0];
        let treated = [true, true, false, false, false, false];
        // treated: s = 2, n = 2 → 0; control: s = 2, n = 4 → 2 (1 − 1/2) / 6 = 1/6.
        let s = smd_denominator(&x, true, &treated);
        assert!(close(s, (1.0f64 / 6.0).sqrt(), 1e-15, 0.0), "{s}");
        // Continuous: centred sum of squares within group over n − 1.
        let y = [5.0, 5.0, 1.0, 2.0, 3.0, 4.0];
        let s = smd_denominator(&y, false, &treated);
        assert!(close(s, (5.0f64 / 5.0).sqrt(), 1e-15, 0.0), "{s}");
    }

    /// Mean differences below sqrt(ε) are reported unstandardised (and so are exact
    /// zeros after perfect balance).
    #[test]
    fn tiny_mean_difference_is_not_standardised() {
        let x = [0.1, 0.2, 0.1, 0.2];
        let treated = [true, true, false, false];
        let b = sample_balance(
            &x,
            false,
            &treated,
            &[1.0; 4],
            1e-12,
            Some(&[(0, 2), (1, 3)]),
        );
        assert_eq!(b.smd, Some(0.0));
        assert_eq!(b.std_pair_dist, Some(0.0));
    }

    /// Both groups with fewer than 2 weighted units: SMD, variance ratio and eCDF are
    /// NA in MatchIt.
    #[test]
    fn too_small_groups_give_no_statistics() {
        let x = [1.0, 2.0, 5.0, 7.0];
        let treated = [true, true, false, false];
        let b = sample_balance(
            &x,
            false,
            &treated,
            &[1.0, 0.0, 1.0, 0.0],
            1.0,
            Some(&[(0, 2)]),
        );
        assert_eq!(b.mean_treated, 1.0);
        assert_eq!(b.mean_control, 5.0);
        assert_eq!(
            (
                b.smd,
                b.variance_ratio,
                b.ecdf_mean,
                b.ecdf_max,
                b.std_pair_dist
            ),
            (None, None, None, None, None)
        );
    }

    #[test]
    fn balance_table_rejects_bad_input() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let treated = [true, true, false, false];
        let cov = [Covariate::new("x", &x)];
        let ok = [1.0; 4];
        assert!(matches!(
            balance_table(&cov, &treated, &[1.0; 3], &[]),
            Err(BalanceError::LengthMismatch { .. })
        ));
        assert!(matches!(
            balance_table(&cov, &treated, &[1.0, -1.0, 1.0, 1.0], &[]),
            Err(BalanceError::InvalidWeight { row: 1, .. })
        ));
        assert!(matches!(
            balance_table(&cov, &treated, &[0.0, 0.0, 1.0, 1.0], &[]),
            Err(BalanceError::EmptyGroup { group: "treated" })
        ));
        assert!(matches!(
            balance_table(&cov, &[true; 4], &ok, &[]),
            Err(BalanceError::EmptyGroup { group: "control" })
        ));
        assert!(matches!(
            balance_table(&cov, &treated, &ok, &[(2, 0)]),
            Err(BalanceError::InvalidPair { .. })
        ));
        let nan = [1.0, f64::NAN, 3.0, 4.0];
        assert!(matches!(
            balance_table(&[Covariate::new("y", &nan)], &treated, &ok, &[]),
            Err(BalanceError::NonFiniteValue { row: 1, .. })
        ));
        let flagged = Covariate {
            name: "z",
            values: &x,
            binary: true,
        };
        assert!(matches!(
            balance_table(&[flagged], &treated, &ok, &[]),
            Err(BalanceError::NotBinary { .. })
        ));
        let short = [1.0, 2.0];
        assert!(matches!(
            balance_table(&[Covariate::new("s", &short)], &treated, &ok, &[]),
            Err(BalanceError::LengthMismatch { .. })
        ));
    }

    /// Hyndman & Fan (1996) type 2 (R's `quantile(type = 2)`): with np = j + g, x_(j+1)
    /// if g > 0, else the average of x_(j) and x_(j+1).
    #[test]
    fn unweighted_quantiles_are_r_type_2() {
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        // 1..10: np = 2.5, 5, 7.5 → 3, (5 + 6)/2, 8
        let q = |p| weighted_quantile(&x, None, p).expect("ok").expect("some");
        assert_eq!((q(0.25), q(0.5), q(0.75)), (3.0, 5.5, 8.0));
        assert_eq!((q(0.0), q(1.0)), (1.0, 10.0));
        // 1..4: np = 1, 2, 3 → averages 1.5, 2.5, 3.5
        let y = [4.0, 1.0, 3.0, 2.0];
        let q = |p| weighted_quantile(&y, None, p).expect("ok").expect("some");
        assert_eq!((q(0.25), q(0.5), q(0.75)), (1.5, 2.5, 3.5));
        // 1, 2, 2, 7, 9: np = 2.5 → x_(3) = 2
        let z = [9.0, 2.0, 7.0, 2.0, 1.0];
        assert_eq!(weighted_quantile(&z, None, 0.5).expect("ok"), Some(2.0));
    }

    /// Integer weights act as frequency weights: same as repeating the values.
    #[test]
    fn weighted_helpers_with_frequency_weights_equal_expanded_data() {
        let x = [3.0, 1.0, 4.0, 1.5, 9.0];
        let w = [2.0, 1.0, 3.0, 1.0, 1.0];
        let expanded = [3.0, 3.0, 1.0, 4.0, 4.0, 4.0, 1.5, 9.0];
        for p in [0.1, 0.25, 0.5, 0.75, 0.9] {
            assert_eq!(
                weighted_quantile(&x, Some(&w), p).expect("ok"),
                weighted_quantile(&expanded, None, p).expect("ok"),
                "p = {p}"
            );
        }
        let m = weighted_mean(&x, Some(&w)).expect("ok").expect("some");
        let me = weighted_mean(&expanded, None).expect("ok").expect("some");
        assert!(close(m, me, 1e-15, 0.0));
        // n − 1 sample variance of the expanded data (Python 3 statistics.variance).
        let v = weighted_variance(&expanded, None)
            .expect("ok")
            .expect("some");
        assert!(close(v, 5.924_107_142_857_143, 1e-14, 0.0), "{v}");
        let vw = weighted_variance(&x, Some(&w)).expect("ok").expect("some");
        // Reliability weights: not the frequency-weight variance (its n is Σw̃-based),
        // but invariant to rescaling the weights.
        assert!(!close(vw, v, 1e-6, 0.0));
        let b = weighted_variance(&x, Some(&[4.0, 2.0, 6.0, 2.0, 2.0]))
            .expect("ok")
            .expect("some");
        assert!(close(vw, b, 1e-14, 0.0));
    }

    #[test]
    fn summaries_skip_missing_values_and_zero_weights() {
        let x = [1.0, f64::NAN, 3.0, 100.0, 5.0];
        let w = [1.0, 1.0, 1.0, 0.0, 1.0];
        let s = summarise_continuous(&x, Some(&w))
            .expect("ok")
            .expect("some");
        assert_eq!((s.n, s.n_missing, s.sum_weights, s.mean), (3, 1, 3.0, 3.0));
        assert!(close(s.sd.expect("sd"), 2.0, 1e-15, 0.0));
        assert_eq!((s.q1, s.median, s.q3), (1.0, 3.0, 5.0));
        let b = [1.0, 0.0, f64::NAN, 1.0];
        let s = summarise_binary(&b, Some(&[0.5, 1.0, 1.0, 1.5]))
            .expect("ok")
            .expect("some");
        assert_eq!(
            (s.n, s.n_missing, s.count, s.sum_weights, s.percent),
            (3, 1, 2.0, 3.0, 200.0 / 3.0)
        );
        assert!(matches!(
            summarise_binary(&[0.0, 2.0], None),
            Err(BalanceError::NotZeroOne { row: 1, .. })
        ));
        assert_eq!(summarise_continuous(&[f64::NAN], None).expect("ok"), None);
        assert_eq!(weighted_variance(&[1.0], None).expect("ok"), None);
    }

    /// The value order is a stable sort by value (−0 = +0), by counting for small whole
    /// numbers and by key otherwise, and marks where each run of equal values ends.
    #[test]
    fn value_order_is_a_stable_sort_by_value() {
        let cases: [&[f64]; 5] = [
            &[3.0, 1.0, 2.0, 1.0, 0.0, 3.0, 0.0],
            &[2.5, -1.0, 0.0, -0.0, 2.5, -7.25, 1e300, -1.0],
            &[65_536.0, 1.0, 65_535.0, 1.0],
            &[4.0],
            &[],
        ];
        for values in cases {
            let mut expected: Vec<usize> = (0..values.len()).collect();
            expected.sort_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap_or(Ordering::Equal));
            let order = ValueOrder::of(values);
            assert_eq!(order.rows, expected, "{values:?}");
            let ends: Vec<bool> = (0..values.len())
                .map(|k| {
                    expected
                        .get(k + 1)
                        .is_none_or(|&next| values[next] != values[expected[k]])
                })
                .collect();
            assert_eq!(order.last_of_run, ends, "{values:?}");
        }
    }

    #[test]
    fn group_rows_list_the_treated_and_the_others_in_row_order() {
        let treated = [false, true, true, false, false, true, false];
        let groups = Groups::new(&treated);
        assert_eq!(groups.rows(true).collect::<Vec<_>>(), [1, 2, 5]);
        assert_eq!(groups.rows(false).collect::<Vec<_>>(), [0, 3, 4, 6]);
        let none = Groups::new(&[false, false]);
        assert_eq!(none.rows(true).count(), 0);
        assert_eq!(none.rows(false).collect::<Vec<_>>(), [0, 1]);
    }

    /// Columns made one at a time give the table of the columns given at once.
    #[test]
    fn balance_by_column_equals_the_balance_of_the_columns() {
        let n = 40;
        let treated: Vec<bool> = (0..n).map(|i| i % 4 == 0).collect();
        let weights: Vec<f64> = (0..n)
            .map(|i| match i % 8 {
                0 | 4 => 1.0,
                1 | 2 => 0.5,
                _ => 0.0,
            })
            .collect();
        let pairs: Vec<(usize, usize)> = (0..n).step_by(4).map(|t| (t, t + 1)).collect();
        let columns: Vec<(String, Vec<f64>)> = vec![
            (
                "age".into(),
                (0..n).map(|i| 20.0 + (i * 7 % 13) as f64 / 3.0).collect(),
            ),
            ("count".into(), (0..n).map(|i| (i * 5 % 4) as f64).collect()),
            (
                "flag".into(),
                (0..n).map(|i| (i % 3 == 0) as u8 as f64).collect(),
            ),
        ];
        let covariates: Vec<Covariate<'_>> = columns
            .iter()
            .map(|(name, values)| Covariate::new(name, values))
            .collect();
        let at_once = balance_table(&covariates, &treated, &weights, &pairs).expect("table");
        let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
        let by_column =
            balance_table_by_column(&names, |j| columns[j].1.clone(), &treated, &weights, &pairs)
                .expect("table");
        assert_eq!(by_column, at_once);
        assert!(at_once[2].binary && !at_once[1].binary);
    }
}
