//! One weighted least-squares step of IRLS (R's `Cdqrls`): the tall-skinny QR, then
//! `dqrdc2`'s rank decision and back substitution on its factor.

use nalgebra::{DMatrix, DVector};

use super::error::check_length;
use super::gram::gram_r;
use super::linpack::{dqrdc2, dqrsl_qty};
use super::qr::tall_skinny_r;
use super::{GlmError, LeastSquares};
use crate::stats::design::DesignRows;

/// Solution of one weighted least-squares step (R's `Cdqrls`).
#[derive(Debug, Clone, PartialEq)]
pub struct WlsSolution {
    /// Coefficients in the original column order, 0 for aliased columns.
    pub coefficients: DVector<f64>,
    /// Number of non-aliased columns.
    pub rank: usize,
    /// Column order after pivoting: the `rank` non-aliased columns in their original
    /// order, then the aliased ones (R's `qr$pivot`, 0-based).
    pub pivot: Vec<usize>,
    /// `aliased[j]` is true when column j was moved to the end by the pivoting.
    pub aliased: Vec<bool>,
    /// Upper-triangular R factor (rank × rank) of sqrt(W) X restricted to the
    /// non-aliased columns, in pivot order: R'R = X'WX.
    pub r: DMatrix<f64>,
}

impl WlsSolution {
    /// (X'WX)^-1 of the non-aliased columns (R's `chol2inv(qr$qr[1:p, 1:p])`).
    pub fn unscaled_covariance(&self) -> DMatrix<f64> {
        let k = self.rank;
        let r_inv = upper_triangular_inverse(&self.r);
        let mut cov = DMatrix::zeros(k, k);
        for i in 0..k {
            for j in i..k {
                // (R^-1 R^-T)_{ij} = sum_l Rinv_{il} Rinv_{jl}, Rinv upper triangular.
                let s: f64 = (j..k).map(|l| r_inv[(i, l)] * r_inv[(j, l)]).sum();
                cov[(i, j)] = s;
                cov[(j, i)] = s;
            }
        }
        cov
    }
}

/// Weighted least squares min ||sqrt(W) (z - X b)||, as R's `Cdqrls(x * w, z * w, tol)`.
///
/// Rows with weight 0 take no part. The rank decision is LINPACK `dqrdc2`'s limited
/// pivoting: a column whose norm, after projecting out the columns before it, falls
/// below `tol` times its original norm is moved to the end and aliased (coefficient 0
/// here, NA in R); the other columns keep their order.
///
/// Numerical approach: a tall-skinny Householder QR (blocks of rows folded into a
/// running (p+1)×(p+1) triangular factor of [sqrt(W)X, sqrt(W)z]) followed by
/// `dqrdc2` and `dqrsl` on that small factor. Orthogonal transformations preserve the
/// column norms and the partial (downdated) norms that `dqrdc2` compares, so the pivoting
/// decisions, R factor (up to signs) and coefficients are those of R's n×p QR, with the
/// same backward stability, at a fraction of its memory traffic.
///
/// # Errors
/// [`GlmError::DimensionMismatch`] if `z` or `weights` does not have one entry per row
/// of `x`.
pub fn weighted_least_squares<X: DesignRows + ?Sized>(
    x: &X,
    z: &DVector<f64>,
    weights: &DVector<f64>,
    tol: f64,
) -> Result<WlsSolution, GlmError> {
    weighted_least_squares_by(x, z, weights, tol, LeastSquares::Householder)
}

/// [`weighted_least_squares`] with the triangular factor of [sqrt(W)X, sqrt(W)z] found
/// by `solver`: the Householder QR, or the Cholesky factor of the normal equations
/// (the same matrix up to the signs of its rows). The rank decision and the back
/// substitution that follow are the same for both.
///
/// # Errors
/// As [`weighted_least_squares`].
pub fn weighted_least_squares_by<X: DesignRows + ?Sized>(
    x: &X,
    z: &DVector<f64>,
    weights: &DVector<f64>,
    tol: f64,
    solver: LeastSquares,
) -> Result<WlsSolution, GlmError> {
    let factor = match solver {
        LeastSquares::Householder => Factor::Householder,
        LeastSquares::NormalEquations => Factor::SparseGram,
    };
    weighted_least_squares_with(x, z, weights, tol, factor)
}

/// How the triangular factor of [sqrt(W)X, sqrt(W)z] is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Factor {
    /// The tall-skinny Householder QR (R's numbers).
    Householder,
    /// The Cholesky factor of the normal equations summed over each row's non-zero
    /// entries (tall designs of indicator columns).
    SparseGram,
}

/// [`weighted_least_squares_by`] with the factor found as `factor` says.
pub(super) fn weighted_least_squares_with<X: DesignRows + ?Sized>(
    x: &X,
    z: &DVector<f64>,
    weights: &DVector<f64>,
    tol: f64,
    factor: Factor,
) -> Result<WlsSolution, GlmError> {
    check_length("z", z.len(), x.nrows())?;
    check_length("weights", weights.len(), x.nrows())?;
    let p = x.ncols();
    let n_good = weights.iter().filter(|&&w| w > 0.0).count();
    let r_aug = match factor {
        Factor::Householder => tall_skinny_r(x, z.as_slice(), weights.as_slice()),
        Factor::SparseGram => gram_r(x, z.as_slice(), weights.as_slice()),
    };
    Ok(solve_from_factor(&r_aug, p, n_good, tol))
}

/// The weighted least-squares solution from the triangular factor `r_aug` ((p+1)×(p+1),
/// column-major) of [sqrt(W)X, sqrt(W)z] over `n_good` rows with positive weight:
/// `dqrdc2`'s rank decision and the back substitution.
pub(super) fn solve_from_factor(r_aug: &[f64], p: usize, n_good: usize, tol: f64) -> WlsSolution {
    let m = p + 1;
    // dqrdc2 on the leading min(n_good, p) rows of the p columns of X.
    let nr = n_good.min(p);
    let mut a = vec![0.0; nr * p];
    for j in 0..p {
        for i in 0..nr {
            a[i + j * nr] = r_aug[i + j * m];
        }
    }
    let mut qty: Vec<f64> = (0..nr).map(|i| r_aug[i + p * m]).collect();
    let dec = dqrdc2(&mut a, nr, p, tol);
    let k = dec.rank;
    dqrsl_qty(&a, nr, k, &dec.qraux, &mut qty);

    // Back substitution R[0..k, 0..k] b = qty[0..k] (dqrsl, job 100).
    let mut b = vec![0.0; k];
    for jj in (0..k).rev() {
        let mut s = qty[jj];
        for l in (jj + 1)..k {
            s -= a[jj + l * nr] * b[l];
        }
        b[jj] = s / a[jj + jj * nr];
    }
    let mut coefficients = DVector::zeros(p);
    let mut aliased = vec![true; p];
    for (i, &col) in dec.pivot.iter().enumerate().take(k) {
        coefficients[col] = b[i];
        aliased[col] = false;
    }
    let mut r = DMatrix::zeros(k, k);
    for j in 0..k {
        for i in 0..=j {
            r[(i, j)] = a[i + j * nr];
        }
    }
    WlsSolution {
        coefficients,
        rank: k,
        pivot: dec.pivot,
        aliased,
        r,
    }
}

/// Inverse of an upper-triangular matrix by back substitution.
fn upper_triangular_inverse(r: &DMatrix<f64>) -> DMatrix<f64> {
    let k = r.nrows();
    let mut inv = DMatrix::zeros(k, k);
    for j in 0..k {
        inv[(j, j)] = 1.0 / r[(j, j)];
        for i in (0..j).rev() {
            let s: f64 = ((i + 1)..=j).map(|l| r[(i, l)] * inv[(l, j)]).sum();
            inv[(i, j)] = -s / r[(i, i)];
        }
    }
    inv
}
