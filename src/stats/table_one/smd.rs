//! tableone's standardised mean differences: the pooled-SD SMD of a continuous
//! variable and Yang & Dalton's SMD of a categorical one.

use nalgebra::{DMatrix, DVector};

use super::summary::{ByGroup, ContinuousStats};

/// MASS::ginv's default tolerance, `sqrt(.Machine$double.eps)`, relative to the largest
/// singular value.
const GINV_TOLERANCE: f64 = 1.490_116_119_384_765_6e-8;

/// tableone's `StdDiff` / `svyStdDiff` (continuous): `|x̄_T − x̄_C| / sqrt((s²_T +
/// s²_C) / 2)`; 0 when both the difference and the pooled variance are 0.
pub(super) fn continuous_smd(stats: &ByGroup<Option<ContinuousStats>>) -> Option<f64> {
    let (t, c) = (stats.treated?, stats.control?);
    let (st, sc) = (t.sd?, c.sd?);
    let difference = t.mean - c.mean;
    let pooled = (st * st + sc * sc) / 2.0;
    if difference == 0.0 && pooled == 0.0 {
        return Some(0.0);
    }
    Some(difference.abs() / pooled.sqrt())
}

/// Yang & Dalton's SMD as tableone's `StdDiffFromLstMeans`: levels 2..k (all levels
/// if there is only one), `S = (S_T + S_C) / 2` with multinomial covariances,
/// `sqrt(dᵀ ginv(S) d)`. A zero `S` gives 0 if `d = 0`, else `None` (tableone's NaN).
pub(super) fn categorical_smd(pt: &[f64], pc: &[f64]) -> Option<f64> {
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
