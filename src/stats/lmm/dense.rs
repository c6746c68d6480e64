//! Small dense kernels on row-major slices, used for the per-group blocks (q × q, with q
//! the number of random-effect columns of one grouping factor), the fixed-effect block
//! (p × p) and the dense remainder of the crossed/nested factors.
//!
//! Row-major `a[i * n + j]`. Each Cholesky factor is lower triangular, `A = L Lᵀ`.

// Index loops mirror the matrix formulas they implement.
#![allow(clippy::needless_range_loop)]

use nalgebra::{DMatrixView, DMatrixViewMut, Dyn};
use rayon::prelude::*;

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

/// Columns per panel of [`cholesky_blocked`].
const PANEL: usize = 64;
/// Rows per task of the trailing update of [`cholesky_blocked`]. Fixed, so the
/// arithmetic of each element does not depend on how many threads run the tasks.
const STRIPE: usize = 128;
/// Orders below this use [`cholesky_in_place`] (for them blocking does not pay).
pub(super) const BLOCKED_MIN_ORDER: usize = 256;
/// Smallest dimension for which the trailing update is handed to `gemm`.
const GEMM_MIN: usize = 6;

/// [`cholesky_in_place`] for large matrices: a right-looking blocked factorisation
/// (Golub & Van Loan, algorithm 4.2.x) whose trailing update `A₂₂ −= L₂₁ L₂₁ᵀ`, where
/// nearly all the work lies, is a matrix product (`nalgebra`'s `gemm`, which uses the
/// cache-blocked SIMD kernels of `matrixmultiply`), split into fixed stripes of rows run
/// on the rayon pool. Every element is computed by the same sequence of operations
/// whatever the number of threads. Orders below [`BLOCKED_MIN_ORDER`] are factorised
/// by [`cholesky_in_place`] unchanged.
pub(super) fn cholesky_blocked(a: &mut [f64], n: usize) -> bool {
    if n < BLOCKED_MIN_ORDER {
        return cholesky_in_place(a, n);
    }
    let mut diag = vec![0.0; PANEL * PANEL];
    let mut panel: Vec<f64> = Vec::with_capacity(n * PANEL);
    let mut k = 0;
    while k < n {
        let kb = PANEL.min(n - k);
        // The diagonal block, unblocked.
        for j in k..k + kb {
            let mut d = a[j * n + j];
            for m in k..j {
                let l = a[j * n + m];
                d -= l * l;
            }
            if d.is_nan() || d <= 0.0 || d.is_infinite() {
                return false;
            }
            let d = d.sqrt();
            a[j * n + j] = d;
            for i in (j + 1)..(k + kb) {
                let mut s = a[i * n + j];
                for m in k..j {
                    s -= a[i * n + m] * a[j * n + m];
                }
                a[i * n + j] = s / d;
            }
        }
        let start = k + kb;
        if start == n {
            break;
        }
        for i in 0..kb {
            for j in 0..kb {
                diag[i * kb + j] = a[(k + i) * n + k + j];
            }
        }
        // The panel below it: each row solves `L₁₁ xᵀ = aᵀ`, in stripes on the pool.
        panel.clear();
        panel.resize((n - start) * kb, 0.0);
        let diag_ref = &diag[..kb * kb];
        a[start * n..]
            .par_chunks_mut(STRIPE * n)
            .zip(panel.par_chunks_mut(STRIPE * kb))
            .for_each(|(rows, out)| solve_panel_rows(rows, n, k, kb, diag_ref, out));
        // The trailing update of the lower triangle, stripe by stripe.
        let panel = &panel;
        a[start * n..]
            .par_chunks_mut(STRIPE * n)
            .enumerate()
            .for_each(|(s, chunk)| {
                let r0 = s * STRIPE;
                let rows = chunk.len() / n;
                let cols = r0 + rows;
                if rows < GEMM_MIN || kb < GEMM_MIN {
                    // nalgebra's `gemm` goes through `matrixmultiply` only above 5 rows
                    // and columns; its loop for smaller strided views is not used.
                    for i in 0..rows {
                        let li = &panel[(r0 + i) * kb..(r0 + i + 1) * kb];
                        for j in 0..=(r0 + i) {
                            let lj = &panel[j * kb..(j + 1) * kb];
                            let mut v = 0.0;
                            for m in 0..kb {
                                v += li[m] * lj[m];
                            }
                            chunk[i * n + start + j] -= v;
                        }
                    }
                    return;
                }
                let mut c = DMatrixViewMut::<f64, Dyn, Dyn>::from_slice_with_strides_mut(
                    &mut chunk[start..],
                    rows,
                    cols,
                    n,
                    1,
                );
                let l_rows = DMatrixView::<f64, Dyn, Dyn>::from_slice_with_strides(
                    &panel[r0 * kb..],
                    rows,
                    kb,
                    kb,
                    1,
                );
                let l_cols_t =
                    DMatrixView::<f64, Dyn, Dyn>::from_slice_with_strides(panel, kb, cols, 1, kb);
                c.gemm(-1.0, &l_rows, &l_cols_t, 1.0);
            });
        k = start;
    }
    for j in 0..n {
        for v in &mut a[j * n + j + 1..(j + 1) * n] {
            *v = 0.0;
        }
    }
    true
}

/// Rows solved together by [`solve_panel_rows`].
const PANEL_ROWS: usize = 4;

/// The panel step of [`cholesky_blocked`] for a stripe of whole rows of `a` (row length
/// `n`): columns `k..k + kb` of each row become `x` with `L₁₁ xᵀ = aᵀ` (`diag` holds
/// `L₁₁`, kb × kb) and are copied to `out` (kb per row). Rows are taken
/// [`PANEL_ROWS`] at a time so that their independent recurrences overlap; each element
/// is computed by the same operations, in the same order, as one row at a time.
fn solve_panel_rows(
    rows: &mut [f64],
    n: usize,
    k: usize,
    kb: usize,
    diag: &[f64],
    out: &mut [f64],
) {
    let count = rows.len() / n;
    let mut r = [[0.0f64; PANEL]; PANEL_ROWS];
    let mut i = 0;
    while i < count {
        let group = PANEL_ROWS.min(count - i);
        for t in 0..group {
            r[t][..kb].copy_from_slice(&rows[(i + t) * n + k..(i + t) * n + k + kb]);
        }
        if group == PANEL_ROWS {
            let [r0, r1, r2, r3] = &mut r;
            for j in 0..kb {
                let dj = &diag[j * kb..j * kb + j + 1];
                let (mut s0, mut s1, mut s2, mut s3) = (r0[j], r1[j], r2[j], r3[j]);
                for m in 0..j {
                    let d = dj[m];
                    s0 -= r0[m] * d;
                    s1 -= r1[m] * d;
                    s2 -= r2[m] * d;
                    s3 -= r3[m] * d;
                }
                let d = dj[j];
                r0[j] = s0 / d;
                r1[j] = s1 / d;
                r2[j] = s2 / d;
                r3[j] = s3 / d;
            }
        } else {
            for row in &mut r[..group] {
                for j in 0..kb {
                    let dj = &diag[j * kb..j * kb + j + 1];
                    let mut s = row[j];
                    for m in 0..j {
                        s -= row[m] * dj[m];
                    }
                    row[j] = s / dj[j];
                }
            }
        }
        for t in 0..group {
            rows[(i + t) * n + k..(i + t) * n + k + kb].copy_from_slice(&r[t][..kb]);
            out[(i + t) * kb..(i + t + 1) * kb].copy_from_slice(&r[t][..kb]);
        }
        i += group;
    }
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

/// Rows (and columns) per block of [`chol_inverse_blocked`].
const INVERSE_BLOCK: usize = 64;

/// The inverse of `L Lᵀ` (n × n, row-major, both triangles) from its Cholesky factor,
/// by blocks: first `X = L⁻¹` block row by block row (`X_IJ = −X_II L_I,J..I X_J..I,J`),
/// then `Σ = XᵀX` (`Σ_IJ = X_I..,Iᵀ X_I..,J`, using that `X` is lower triangular). Both
/// steps are matrix products on `nalgebra`'s `gemm`; each block is computed by the
/// same operations whatever the number of threads. Small orders use [`chol_inverse`].
pub(super) fn chol_inverse_blocked(l: &[f64], n: usize) -> Vec<f64> {
    if n < BLOCKED_MIN_ORDER {
        return chol_inverse(l, n);
    }
    // The last block takes the remainder, so that no block is thinner than
    // `INVERSE_BLOCK` (nalgebra multiplies strided views thinner than 6 by a loop that
    // is not used here).
    let nb = INVERSE_BLOCK;
    let blocks = n / nb;
    let range = |b: usize| (b * nb, if b + 1 == blocks { n } else { (b + 1) * nb });
    // X = L⁻¹ (lower triangular).
    let mut x = vec![0.0; n * n];
    for bi in 0..blocks {
        let (si, ei) = range(bi);
        let m = ei - si;
        // The diagonal block: X_II = L_II⁻¹ by forward substitution on the identity.
        let mut xii = vec![0.0; m * m];
        for c in 0..m {
            for r in c..m {
                let mut v = if r == c { 1.0 } else { 0.0 };
                for k in c..r {
                    v -= l[(si + r) * n + si + k] * xii[k * m + c];
                }
                xii[r * m + c] = v / l[(si + r) * n + si + r];
            }
        }
        let xii_view = DMatrixView::<f64, Dyn, Dyn>::from_slice_with_strides(&xii, m, m, m, 1);
        let x_ref = &x;
        let off: Vec<(usize, Vec<f64>)> = (0..bi)
            .into_par_iter()
            .map(|bj| {
                let (sj, ej) = range(bj);
                let w = ej - sj;
                let depth = si - sj;
                // T = L[I, sj..si] · X[sj..si, J]
                let lv = DMatrixView::<f64, Dyn, Dyn>::from_slice_with_strides(
                    &l[si * n + sj..],
                    m,
                    depth,
                    n,
                    1,
                );
                let xv = DMatrixView::<f64, Dyn, Dyn>::from_slice_with_strides(
                    &x_ref[sj * n + sj..],
                    depth,
                    w,
                    n,
                    1,
                );
                let t = lv * xv;
                let block = -(xii_view * t);
                let mut out = vec![0.0; m * w];
                for r in 0..m {
                    for c in 0..w {
                        out[r * w + c] = block[(r, c)];
                    }
                }
                (sj, out)
            })
            .collect();
        for (sj, out) in off {
            let w = out.len() / m;
            for r in 0..m {
                x[(si + r) * n + sj..(si + r) * n + sj + w]
                    .copy_from_slice(&out[r * w..(r + 1) * w]);
            }
        }
        for r in 0..m {
            x[(si + r) * n + si..(si + r) * n + si + m].copy_from_slice(&xii[r * m..(r + 1) * m]);
        }
    }
    // Σ = XᵀX, lower triangle by block rows.
    let mut sigma = vec![0.0; n * n];
    let (head, last) = sigma.split_at_mut((blocks - 1) * nb * n);
    let mut chunks: Vec<&mut [f64]> = head.chunks_mut(nb * n).collect();
    chunks.push(last);
    chunks.into_par_iter().enumerate().for_each(|(bi, rows)| {
        let (si, ei) = range(bi);
        let m = ei - si;
        let depth = n - si;
        let xi = DMatrixView::<f64, Dyn, Dyn>::from_slice_with_strides(
            &x[si * n + si..],
            depth,
            m,
            n,
            1,
        );
        let xj =
            DMatrixView::<f64, Dyn, Dyn>::from_slice_with_strides(&x[si * n..], depth, ei, n, 1);
        let block = xi.transpose() * xj;
        for r in 0..m {
            for c in 0..=(si + r) {
                rows[r * n + c] = block[(r, c)];
            }
        }
    });
    for i in 0..n {
        for j in 0..i {
            sigma[j * n + i] = sigma[i * n + j];
        }
    }
    sigma
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

    /// A well-conditioned SPD matrix of order n: `B Bᵀ/n + I` with B from a fixed
    /// linear congruential sequence.
    fn spd(n: usize) -> Vec<f64> {
        let mut next = crate::test_support::uniform_stream(12345);
        let b: Vec<f64> = (0..n * n).map(|_| next() - 0.5).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                let s: f64 = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum();
                a[i * n + j] = s / n as f64 + if i == j { 1.0 } else { 0.0 };
            }
        }
        a
    }

    #[test]
    fn blocked_cholesky_agrees_with_the_unblocked_one() {
        // An order that is not a multiple of the panel or the stripe.
        let n = BLOCKED_MIN_ORDER + 77;
        let a = spd(n);
        let mut plain = a.clone();
        assert!(cholesky_in_place(&mut plain, n));
        let mut blocked = a.clone();
        assert!(cholesky_blocked(&mut blocked, n));
        for i in 0..n {
            for j in 0..n {
                let (x, y) = (blocked[i * n + j], plain[i * n + j]);
                assert!(
                    crate::test_support::close_within(
                        x,
                        y,
                        crate::test_support::ACCUMULATED,
                        crate::test_support::ACCUMULATED
                    ),
                    "L[{i},{j}]: blocked {x}, unblocked {y}"
                );
            }
        }
        assert!(
            (log_det_chol(&blocked, n) - log_det_chol(&plain, n)).abs()
                < crate::test_support::ACCUMULATED
        );
    }

    #[test]
    fn blocked_cholesky_does_not_depend_on_the_thread_count() {
        let n = 2 * BLOCKED_MIN_ORDER + 3;
        let a = spd(n);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut l = a.clone();
            assert!(pool.install(|| cholesky_blocked(&mut l, n)));
            l
        };
        let one = run(1);
        let three = run(3);
        assert!(one
            .iter()
            .zip(&three)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
    }

    #[test]
    fn blocked_cholesky_rejects_an_indefinite_matrix() {
        let n = BLOCKED_MIN_ORDER + 10;
        let mut a = spd(n);
        // Make the trailing part indefinite: a pivot past the first panel fails.
        a[(n - 1) * n + n - 1] = -5.0;
        assert!(!cholesky_blocked(&mut a, n));
    }

    #[test]
    fn blocked_inverse_agrees_with_the_unblocked_one() {
        for n in [BLOCKED_MIN_ORDER, 260, 300, 333] {
            let mut l = spd(n);
            assert!(cholesky_in_place(&mut l, n));
            let a = chol_inverse(&l, n);
            let b = chol_inverse_blocked(&l, n);
            let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (u, v) in a.iter().zip(&b) {
                assert!((u - v).abs() <= 1e-10 * scale, "{u} vs {v} at order {n}");
            }
        }
    }

    #[test]
    fn cholesky_rejects_an_indefinite_matrix() {
        let mut a = [1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky_in_place(&mut a, 2));
    }
}
