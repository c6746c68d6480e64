//! Regressors collinear with the fixed effects or with earlier regressors: which columns
//! to keep, and the names of those kept and dropped.

use nalgebra::DMatrix;

use super::demean::Demeaned;

/// Columns to keep: sequential Cholesky on X̃'WX̃; column j is dropped when its squared
/// norm after projecting out the earlier kept columns is at most `tol` times
/// `reference[j]` (its weighted sum of squares before demeaning, centred when there
/// are fixed effects).
pub(super) fn independent_columns(
    x: &DMatrix<f64>,
    w: Option<&[f64]>,
    reference: &[f64],
    tol: f64,
) -> Vec<bool> {
    let n = x.nrows();
    let p = x.ncols();
    let mut gram = DMatrix::<f64>::zeros(p, p);
    // Blocked accumulation: one pass over the rows for all pairs.
    const BLOCK: usize = 512;
    let xs = x.as_slice();
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK).min(n);
        for a in 0..p {
            let xa = &xs[a * n + start..a * n + end];
            for b in 0..=a {
                let xb = &xs[b * n + start..b * n + end];
                let s: f64 = match w {
                    Some(w) => {
                        let wb = &w[start..end];
                        xa.iter().zip(xb).zip(wb).map(|((p, q), r)| p * q * r).sum()
                    }
                    None => xa.iter().zip(xb).map(|(p, q)| p * q).sum(),
                };
                gram[(a, b)] += s;
            }
        }
        start = end;
    }
    let mut r = DMatrix::<f64>::zeros(p, p);
    let mut keep = vec![false; p];
    for j in 0..p {
        let mut rjj = gram[(j, j)];
        for l in 0..j {
            if keep[l] {
                rjj -= r[(l, j)] * r[(l, j)];
            }
        }
        // NaN-safe: a column is kept only if both comparisons hold.
        let independent = reference[j] > 0.0 && rjj > tol * reference[j];
        if !independent {
            continue;
        }
        keep[j] = true;
        let d = rjj.sqrt();
        r[(j, j)] = d;
        for i in (j + 1)..p {
            let mut s = gram[(i, j)];
            for l in 0..j {
                if keep[l] {
                    s -= r[(l, i)] * r[(l, j)];
                }
            }
            r[(j, i)] = s / d;
        }
    }
    keep
}

pub(super) fn select_columns(x: &DMatrix<f64>, keep: &[bool]) -> DMatrix<f64> {
    let cols: Vec<usize> = (0..keep.len()).filter(|&j| keep[j]).collect();
    DMatrix::from_fn(x.nrows(), cols.len(), |i, j| x[(i, cols[j])])
}

/// The weighted sums of squares the collinearity check compares against: centred when
/// there are fixed effects (every fixed effect absorbs a constant).
pub(super) fn reference_scales(
    x_demeaned: &DMatrix<f64>,
    weights: Option<&[f64]>,
    outcomes: &[Demeaned],
    has_fe: bool,
    sum_w: f64,
) -> Vec<f64> {
    if has_fe {
        outcomes.iter().map(|d| d.scale * d.scale * sum_w).collect()
    } else {
        (0..x_demeaned.ncols())
            .map(|j| {
                let col = x_demeaned.column(j);
                match weights {
                    Some(w) => col.iter().zip(w).map(|(v, wi)| wi * v * v).sum(),
                    None => col.iter().map(|v| v * v).sum(),
                }
            })
            .collect()
    }
}

pub(super) fn kept_names(names: &[String], keep: &[bool]) -> Vec<String> {
    names
        .iter()
        .zip(keep)
        .filter(|(_, &k)| k)
        .map(|(s, _)| s.clone())
        .collect()
}

pub(super) fn dropped_names(names: &[String], keep: &[bool]) -> Vec<String> {
    names
        .iter()
        .zip(keep)
        .filter(|(_, &k)| !k)
        .map(|(s, _)| s.clone())
        .collect()
}
