//! The balance table: one row per covariate, before matching and after, with the
//! checks of its inputs.

use std::cell::OnceCell;

use serde::Serialize;

use rayon::prelude::*;

use super::ecdf::EcdfPoints;
use super::sample::{Groups, SampleBalance, Weights};
use super::smd::smd_denominator;
use super::BalanceError;

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
    /// For a binary term, how many units have the value 1 and how many 0, for the
    /// disclosure control of its means (a proportion times n is a count). Not part of
    /// MatchIt's table, and not written out.
    #[serde(skip)]
    pub binary_units: Option<BinaryUnits>,
}

/// The units of a binary term with the value 0 and with 1, per group: before
/// matching (all units) and after (the units the matching weights keep).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BinaryUnits {
    pub before: GroupUnits,
    pub after: GroupUnits,
}

/// `[with 0, with 1]` among the treated and among the controls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupUnits {
    pub treated: [u64; 2],
    pub control: [u64; 2],
}

impl BinaryUnits {
    fn of(values: &[f64], treated: &[bool], weights: &[f64]) -> BinaryUnits {
        let mut units = BinaryUnits::default();
        for (i, (&v, &t)) in values.iter().zip(treated).enumerate() {
            let level = usize::from(v == 1.0);
            let kept = weights.get(i).is_some_and(|&w| w > 0.0);
            let (before, after) = if t {
                (&mut units.before.treated, &mut units.after.treated)
            } else {
                (&mut units.before.control, &mut units.after.control)
            };
            before[level] += 1;
            if kept {
                after[level] += 1;
            }
        }
        units
    }
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
    /// The rows with a matching weight other than 0.
    matched: Groups,
}

impl<'a> Samples<'a> {
    fn new(
        treated: &'a [bool],
        weights: &'a [f64],
        pairs: &'a [(usize, usize)],
    ) -> Result<Self, BalanceError> {
        check_inputs(treated, weights, pairs)?;
        Ok(Samples {
            treated,
            weights,
            pairs,
            groups: Groups::new(treated),
            matched: Groups::weighted(treated, weights),
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
        Ok(self.row_after(name, values, (binary, s), before, &order))
    }

    /// The balance row of a prepared covariate.
    fn finish(&self, column: PreparedColumn) -> BalanceRow {
        let order = OnceCell::new();
        if let Some(walk) = column.order {
            let _ = order.set(walk);
        }
        let shape = (column.binary, column.sd);
        self.row_after(&column.name, &column.values, shape, column.before, &order)
    }

    /// The balance row of a covariate given its statistics `before` matching, with the
    /// binary flag and SMD denominator `s` of `(binary, s)`.
    fn row_after(
        &self,
        name: &str,
        values: &[f64],
        (binary, s): (bool, f64),
        before: SampleBalance,
        order: &OnceCell<EcdfPoints>,
    ) -> BalanceRow {
        let treated = self.treated;
        let after = self.matched.balance(
            values,
            binary,
            treated,
            Weights::Given(self.weights),
            s,
            Some(self.pairs),
            order,
        );
        BalanceRow {
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
            binary_units: binary.then(|| BinaryUnits::of(values, treated, self.weights)),
        }
    }
}

/// The half of a covariate's balance row that does not depend on the matching: its
/// values and binary flag, the SMD denominator and the statistics before matching, and
/// the order of its values that the eCDFs after matching walk again (see
/// [`prepare_columns`]).
pub struct PreparedColumn {
    name: String,
    values: Vec<f64>,
    binary: bool,
    sd: f64,
    before: SampleBalance,
    order: Option<EcdfPoints>,
}

/// The halves of the balance rows of the covariates `names` (`column(j)` gives the
/// values of `names[j]`, flagged binary as [`Covariate::new`] flags it) that do not
/// depend on the matching, so that they can be made while the matching runs;
/// [`finish_columns`] completes them. Every column is held until then.
///
/// # Errors
/// As [`balance_table`], for the covariates.
pub fn prepare_columns<F>(
    names: &[String],
    column: F,
    treated: &[bool],
) -> Result<Vec<PreparedColumn>, BalanceError>
where
    F: Fn(usize) -> Vec<f64> + Sync,
{
    let groups = Groups::new(treated);
    let prepared = crate::stats::map_indices(names.len(), |j| {
        let values = column(j);
        let binary = Covariate::new(&names[j], &values).binary;
        let cov = Covariate {
            name: &names[j],
            values: &values,
            binary,
        };
        check_covariate(&cov, treated.len())?;
        let sd = smd_denominator(&values, binary, treated);
        let order = OnceCell::new();
        let before = groups.balance(&values, binary, treated, Weights::Unit, sd, None, &order);
        Ok(PreparedColumn {
            name: names[j].clone(),
            values,
            binary,
            sd,
            before,
            order: order.into_inner(),
        })
    });
    prepared.into_iter().collect()
}

/// The balance rows of the `prepared` covariates under the matching `weights` and
/// `pairs`: the rows [`balance_table_by_column`] makes, to the bit.
///
/// # Errors
/// As [`balance_table`], for the weights and pairs.
pub fn finish_columns(
    prepared: Vec<PreparedColumn>,
    treated: &[bool],
    weights: &[f64],
    pairs: &[(usize, usize)],
) -> Result<Vec<BalanceRow>, BalanceError> {
    let samples = Samples::new(treated, weights, pairs)?;
    Ok(prepared
        .into_par_iter()
        .map(|column| samples.finish(column))
        .collect())
}

fn check_covariate(cov: &Covariate<'_>, n: usize) -> Result<(), BalanceError> {
    if cov.values.len() != n {
        return Err(BalanceError::LengthMismatch {
            what: format!("covariate `{}`", cov.name),
            expected: n,
            found: cov.values.len(),
        });
    }
    // A pass without early exits over blocks of values (which the compiler makes
    // wide), and the row found only when some value is wrong.
    let fine = |v: f64| v.is_finite() & (!cov.binary | (v == 0.0) | (v == 1.0));
    let all_fine = cov
        .values
        .chunks(4096)
        .all(|block| block.iter().fold(true, |ok, &v| ok & fine(v)));
    if all_fine {
        return Ok(());
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

/// Checks the weights ([`check_weights`]) and that every pair links a treated row to a
/// control row.
pub(super) fn check_inputs(
    treated: &[bool],
    weights: &[f64],
    pairs: &[(usize, usize)],
) -> Result<(), BalanceError> {
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
