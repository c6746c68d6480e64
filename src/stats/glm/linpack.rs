//! LINPACK's `dqrdc2` (Householder QR with R's limited column pivoting) and `dqrsl`,
//! run on the small triangular factor of the tall-skinny QR.

use super::qr::dot;

/// Euclidean norm with scaling against overflow (BLAS `dnrm2`).
fn nrm2(v: &[f64]) -> f64 {
    let scale = v.iter().fold(0.0f64, |acc, x| acc.max(x.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    let s: f64 = v.iter().map(|x| (x / scale) * (x / scale)).sum();
    scale * s.sqrt()
}

/// What [`dqrdc2`] returns besides the factored matrix.
pub(super) struct Dqrdc2 {
    /// Number of columns not moved to the end (LINPACK's `k`).
    pub(super) rank: usize,
    /// Auxiliary information on the Householder vectors.
    pub(super) qraux: Vec<f64>,
    /// Column order after pivoting (0-based).
    pub(super) pivot: Vec<usize>,
}

/// LINPACK `dqrdc2` (R's src/appl/dqrdc2.f) on the column-major n×p matrix `x`:
/// Householder QR with limited column pivoting. On return the upper triangle holds R
/// and the lower part with `qraux` the Householder vectors, as in LINPACK.
pub(super) fn dqrdc2(x: &mut [f64], n: usize, p: usize, tol: f64) -> Dqrdc2 {
    let idx = |i: usize, j: usize| i + j * n;
    let mut qraux = vec![0.0; p];
    let mut work1 = vec![0.0; p];
    let mut work2 = vec![0.0; p];
    let mut pivot: Vec<usize> = (0..p).collect();
    for j in 0..p {
        let norm = nrm2(&x[idx(0, j)..idx(0, j) + n]);
        qraux[j] = norm;
        work1[j] = norm;
        work2[j] = if norm == 0.0 { 1.0 } else { norm };
    }
    let lup = n.min(p);
    // `k` is one past the last column not yet moved to the end (LINPACK's k = p + 1).
    let mut k = p + 1;
    for l in 0..lup {
        // Cycle negligible columns to the end; `l + 1 < k` avoids infinite cycling.
        while l + 1 < k && qraux[l] < work2[l] * tol {
            for i in 0..n {
                let t = x[idx(i, l)];
                for j in (l + 1)..p {
                    x[idx(i, j - 1)] = x[idx(i, j)];
                }
                x[idx(i, p - 1)] = t;
            }
            let (piv, q, w1, w2) = (pivot[l], qraux[l], work1[l], work2[l]);
            for j in (l + 1)..p {
                pivot[j - 1] = pivot[j];
                qraux[j - 1] = qraux[j];
                work1[j - 1] = work1[j];
                work2[j - 1] = work2[j];
            }
            pivot[p - 1] = piv;
            qraux[p - 1] = q;
            work1[p - 1] = w1;
            work2[p - 1] = w2;
            k -= 1;
        }
        if l + 1 == n {
            continue;
        }
        let col_l = idx(l, l);
        let mut nrmxl = nrm2(&x[col_l..col_l + (n - l)]);
        if nrmxl == 0.0 {
            continue;
        }
        if x[col_l] != 0.0 {
            nrmxl = nrmxl.abs().copysign(x[col_l]);
        }
        for v in &mut x[col_l..col_l + (n - l)] {
            *v /= nrmxl;
        }
        x[col_l] += 1.0;
        for j in (l + 1)..p {
            let col_j = idx(l, j);
            let t = {
                let (u, w) = (&x[col_l..col_l + (n - l)], &x[col_j..col_j + (n - l)]);
                -dot(u, w) / x[col_l]
            };
            for i in 0..(n - l) {
                x[col_j + i] += t * x[col_l + i];
            }
            if qraux[j] != 0.0 {
                let ratio = x[idx(l, j)].abs() / qraux[j];
                let tt = (1.0 - ratio * ratio).max(0.0);
                // Modified 9/99 by Doug Bates to fix the pivoting problem.
                if tt.abs() < 1e-6 {
                    let start = idx(l + 1, j);
                    qraux[j] = nrm2(&x[start..start + (n - l - 1)]);
                    work1[j] = qraux[j];
                } else {
                    qraux[j] *= tt.sqrt();
                }
            }
        }
        qraux[l] = x[col_l];
        x[col_l] = -nrmxl;
    }
    let rank = (k - 1).min(n);
    Dqrdc2 { rank, qraux, pivot }
}

/// Q'y from a `dqrdc2` decomposition (LINPACK `dqrsl`, job 1000), in place.
pub(super) fn dqrsl_qty(x: &[f64], n: usize, k: usize, qraux: &[f64], qty: &mut [f64]) {
    if n == 0 {
        return;
    }
    let ju = k.min(n - 1);
    for j in 0..ju {
        if qraux[j] == 0.0 {
            continue;
        }
        let col = j + j * n;
        // The diagonal of the Householder vector lives in qraux (x holds R there).
        let diag = qraux[j];
        let mut s = diag * qty[j];
        for i in 1..(n - j) {
            s += x[col + i] * qty[j + i];
        }
        let t = -s / diag;
        qty[j] += t * diag;
        for i in 1..(n - j) {
            qty[j + i] += t * x[col + i];
        }
    }
}
