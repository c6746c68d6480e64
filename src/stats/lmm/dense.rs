//! Small dense kernels on row-major slices, used for the per-group blocks (q × q, with q
//! the number of random-effect columns of one grouping factor), the fixed-effect block
//! (p × p) and the dense remainder of the crossed/nested factors.
//!
//! Row-major `a[i * n + j]`. Each Cholesky factor is lower triangular, `A = L Lᵀ`.

// Index loops mirror the matrix formulas they implement.
#![allow(clippy::needless_range_loop)]

/// Cholesky factorisation in place: the lower triangle of `a` (n × n) becomes `L`, the
/// strict upper triangle is zeroed. Returns `false` when a pivot is not positive or not
/// finite (the matrix is not numerically positive definite).
pub(super) fn cholesky_in_place(a: &mut [f64], n: usize) -> bool {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            let l = a[j * n + k];
            d -= l * l;
        }
        if d.is_nan() || d <= 0.0 || d.is_infinite() {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in (j + 1)..n {
            let (row_i, row_j) = (i * n, j * n);
            let mut s = a[row_i + j];
            for k in 0..j {
                s -= a[row_i + k] * a[row_j + k];
            }
            a[row_i + j] = s / d;
        }
        for k in (j + 1)..n {
            a[j * n + k] = 0.0;
        }
    }
    true
}

/// Solves `L X = B` in place for `B` (n × m, row-major); `L` lower triangular n × n.
pub(super) fn forward_solve(l: &[f64], n: usize, b: &mut [f64], m: usize) {
    for i in 0..n {
        let li = &l[i * n..i * n + n];
        for k in 0..i {
            let f = li[k];
            if f != 0.0 {
                for c in 0..m {
                    b[i * m + c] -= f * b[k * m + c];
                }
            }
        }
        let d = li[i];
        for c in 0..m {
            b[i * m + c] /= d;
        }
    }
}

/// Solves `Lᵀ X = B` in place for `B` (n × m, row-major); `L` lower triangular n × n.
pub(super) fn backward_solve(l: &[f64], n: usize, b: &mut [f64], m: usize) {
    for i in (0..n).rev() {
        let d = l[i * n + i];
        for c in 0..m {
            b[i * m + c] /= d;
        }
        for k in 0..i {
            let f = l[i * n + k];
            if f != 0.0 {
                for c in 0..m {
                    b[k * m + c] -= f * b[i * m + c];
                }
            }
        }
    }
}

/// `2 Σ log Lᵢᵢ`: the log-determinant of `L Lᵀ`.
pub(super) fn log_det_chol(l: &[f64], n: usize) -> f64 {
    (0..n).map(|i| l[i * n + i].ln()).sum::<f64>() * 2.0
}

/// The inverse of `L Lᵀ` (n × n, row-major), from its Cholesky factor.
pub(super) fn chol_inverse(l: &[f64], n: usize) -> Vec<f64> {
    let mut x = vec![0.0; n * n];
    for i in 0..n {
        x[i * n + i] = 1.0;
    }
    forward_solve(l, n, &mut x, n);
    backward_solve(l, n, &mut x, n);
    // Symmetrise: the two triangles agree up to rounding.
    for i in 0..n {
        for j in 0..i {
            let v = 0.5 * (x[i * n + j] + x[j * n + i]);
            x[i * n + j] = v;
            x[j * n + i] = v;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_small_system() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let mut l = a;
        assert!(cholesky_in_place(&mut l, 3));
        let mut b = [1.0, 2.0, 3.0];
        forward_solve(&l, 3, &mut b, 1);
        backward_solve(&l, 3, &mut b, 1);
        for i in 0..3 {
            let r: f64 = (0..3).map(|j| a[i * 3 + j] * b[j]).sum();
            assert!((r - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
        }
        let inv = chol_inverse(&l, 3);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((r - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn cholesky_rejects_an_indefinite_matrix() {
        let mut a = [1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky_in_place(&mut a, 2));
    }
}
