//! Balance statistics of one covariate under one set of weights (MatchIt's `bal1var`):
//! means, standardised mean difference, variance ratio, eCDF statistics and the
//! standardised pair distance.

use std::cell::OnceCell;

use serde::Serialize;

use super::ecdf::EcdfPoints;
use super::moments::{moments_of, unit_moments_of};
use super::smd::SQRT_EPS;

/// MatchIt's threshold below which a mean pair distance is not standardised.
const PAIR_DIST_FLOOR: f64 = 1e-8;

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

/// Balance statistics of one covariate under one set of weights (MatchIt's
/// `bal1var`), given the SMD denominator `sd` ([`smd_denominator`]). Inputs are
/// assumed checked (as [`balance_table`] does): same lengths, finite values, weights
/// ≥ 0 with positive total in each group.
///
/// [`smd_denominator`]: super::smd_denominator
/// [`balance_table`]: super::balance_table
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
pub(super) enum Weights<'a> {
    Unit,
    Given(&'a [f64]),
}

impl Weights<'_> {
    pub(super) fn get(&self, row: usize) -> &f64 {
        match self {
            Weights::Unit => &1.0,
            Weights::Given(w) => &w[row],
        }
    }

    /// With every weight 1, each row's share of its group's total, `(1 / sw1, -1 / sw0)`
    /// for the treated and the controls: the numbers `w / sw1` and `-w / sw0` give each
    /// row, divided once each. `None` for given weights.
    pub(super) fn unit_shares(&self, (sw1, sw0): (f64, f64)) -> Option<(f64, f64)> {
        matches!(self, Weights::Unit).then(|| (1.0 / sw1, -1.0 / sw0))
    }
}

/// The rows of each group, listed in row order.
pub(super) struct Groups {
    treated: Vec<usize>,
    control: Vec<usize>,
}

impl Groups {
    pub(super) fn new(treated: &[bool]) -> Groups {
        let (treated, control) = (0..treated.len()).partition(|&i| treated[i]);
        Groups { treated, control }
    }

    /// The rows of each group whose weight is not 0. Their sums are those over all rows
    /// to the bit (a row of weight 0 adds a zero), in a fraction of the time when few
    /// rows are matched.
    pub(super) fn weighted(treated: &[bool], weights: &[f64]) -> Groups {
        let (treated, control) = (0..treated.len())
            .filter(|&i| weights[i] != 0.0)
            .partition(|&i| treated[i]);
        Groups { treated, control }
    }

    /// The rows of a group, in row order, as a slice.
    fn row_list(&self, treated: bool) -> &[usize] {
        if treated {
            &self.treated
        } else {
            &self.control
        }
    }

    /// The rows of a group, in row order.
    pub(super) fn rows(&self, treated: bool) -> std::iter::Copied<std::slice::Iter<'_, usize>> {
        if treated {
            self.treated.iter().copied()
        } else {
            self.control.iter().copied()
        }
    }

    /// [`sample_balance`]; `order` holds the eCDF points of `values` once a statistic needs
    /// them.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn balance(
        &self,
        values: &[f64],
        binary: bool,
        treated: &[bool],
        weights: Weights<'_>,
        sd: f64,
        pairs: Option<&[(usize, usize)]>,
        order: &OnceCell<EcdfPoints>,
    ) -> SampleBalance {
        let group = |flag: bool| self.rows(flag).map(|i| (values[i], weights.get(i)));
        let nonzero = |flag: bool| self.rows(flag).filter(|&i| *weights.get(i) != 0.0).count();
        let too_small = nonzero(true) < 2 && nonzero(false) < 2;

        // The variances and eCDFs only for covariates that are not binary.
        let spread = !binary && !too_small;
        let moments = |flag: bool| match weights {
            Weights::Unit => unit_moments_of(values, self.row_list(flag), spread),
            Weights::Given(_) => moments_of(|| group(flag), spread),
        };
        let (sw_treated, mean_treated, var_treated) = moments(true);
        let (sw_control, mean_control, var_control) = moments(false);
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
        let (variance_ratio, ecdf_mean, ecdf_max) = match (binary, var_treated, var_control) {
            (true, _, _) => (None, Some(mdiff.abs()), Some(mdiff.abs())),
            (false, Some(vt), Some(vc)) => {
                let points = order.get_or_init(|| EcdfPoints::of(values));
                let (mean, max) = points.differences(treated, weights, (sw_treated, sw_control));
                (Some(vt / vc), Some(mean), Some(max))
            }
            _ => (None, None, None),
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
