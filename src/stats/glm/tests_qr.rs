//! The weighted least-squares step and the tall-skinny QR under it: pivoting, zero
//! weights, results independent of the thread count, the four-column kernel, and the
//! design read in blocks of rows.

use nalgebra::{DMatrix, DVector};

use super::qr::{
    axpy, dot, reduce_block, reduce_block_portable, tall_skinny_r, tall_skinny_r_range,
    QR_BLOCK_ROWS,
};
use super::*;
use crate::test_support::{on_threads, EXACT};

#[test]
fn weighted_least_squares_pivots_collinear_columns_to_the_end() {
    // Columns: 1, a, 2a (collinear with a), b. dqrdc2 moves 2a to the end.
    let a = [1.0, 2.0, 4.0, 3.0, 5.0];
    let b = [0.5, -1.0, 2.0, 0.0, 1.5];
    let x = DMatrix::from_fn(5, 4, |i, j| match j {
        0 => 1.0,
        1 => a[i],
        2 => 2.0 * a[i],
        _ => b[i],
    });
    let z = DVector::from_fn(5, |i, _| 1.0 + 0.5 * a[i] - 2.0 * b[i]);
    let sol =
        weighted_least_squares(&x, &z, &DVector::from_element(5, 1.0), 1e-11).expect("solution");
    assert_eq!(sol.rank, 3);
    assert_eq!(sol.pivot, [0, 1, 3, 2]);
    assert_eq!(sol.aliased, [false, false, true, false]);
    let expected = [1.0, 0.5, 0.0, -2.0];
    for (c, e) in sol.coefficients.iter().zip(expected) {
        assert!((c - e).abs() < EXACT, "{c} vs {e}");
    }
    // R'R = X'X over the non-aliased columns.
    let keep = DMatrix::from_fn(5, 3, |i, j| x[(i, [0, 1, 3][j])]);
    let gram = keep.transpose() * &keep;
    assert!((sol.r.transpose() * &sol.r - gram).amax() < 1e-10);
}

#[test]
fn weighted_least_squares_ignores_zero_weight_rows() {
    let x = DMatrix::from_fn(4, 2, |i, j| if j == 0 { 1.0 } else { i as f64 });
    let z = DVector::from_row_slice(&[1.0, 3.0, 5.0, 100.0]);
    let w = DVector::from_row_slice(&[1.0, 1.0, 1.0, 0.0]);
    let sol = weighted_least_squares(&x, &z, &w, 1e-11).expect("solution");
    assert!(matches!(
        weighted_least_squares(&x, &z.rows(0, 3).into_owned(), &w, 1e-11),
        Err(GlmError::DimensionMismatch { what: "z", .. })
    ));
    assert!((sol.coefficients[0] - 1.0).abs() < EXACT && (sol.coefficients[1] - 2.0).abs() < EXACT);
}

#[test]
fn parallel_qr_does_not_depend_on_the_thread_count() {
    let n = 200_003;
    let x = DMatrix::from_fn(n, 4, |i, j| {
        ((i * (j + 3)) % 97) as f64 / 7.0 + if j == 0 { 1.0 } else { 0.0 }
    });
    let z = DVector::from_fn(n, |i, _| ((i * 31) % 101) as f64 / 10.0);
    let w: Vec<f64> = (0..n)
        .map(|i| {
            if i % 17 == 0 {
                0.0
            } else {
                1.0 + (i % 5) as f64 / 10.0
            }
        })
        .collect();
    // The factor computed on a pool of the given number of threads.
    let factor = |threads: usize| on_threads(threads, || tall_skinny_r(&x, z.as_slice(), &w));
    let one = factor(1);
    for threads in [2, 3, 8] {
        assert_eq!(one, factor(threads), "{threads} threads");
    }
    // The fold of chunk factors gives the same R'R as one sequential pass.
    let seq = tall_skinny_r_range(&x, z.as_slice(), &w, 0, n);
    let m = 5;
    for a in 0..m {
        for b in 0..m {
            let rr = |r: &[f64]| (0..m).map(|k| r[k + a * m] * r[k + b * m]).sum::<f64>();
            let (p, q) = (rr(&one), rr(&seq));
            assert!(
                (p - q).abs() <= 1e-9 * q.abs().max(1.0),
                "R'R[{a},{b}]: {p} vs {q}"
            );
        }
    }
}

/// [`reduce_block`] one column at a time, as it was first written: the reference for
/// the version that updates four columns at once.
fn reduce_block_by_column(r: &mut [f64], block: &mut [f64], m: usize, bl: usize) {
    for j in 0..m {
        let (head, tail) = block.split_at_mut((j + 1) * QR_BLOCK_ROWS);
        let aj = &head[j * QR_BLOCK_ROWS..j * QR_BLOCK_ROWS + bl];
        let s = dot(aj, aj);
        if s == 0.0 {
            continue;
        }
        let rjj = r[j + j * m];
        let norm = (rjj * rjj + s).sqrt();
        let alpha = if rjj >= 0.0 { -norm } else { norm };
        let v0 = rjj - alpha;
        let beta = 2.0 / (v0 * v0 + s);
        for k in (j + 1)..m {
            let off = (k - j - 1) * QR_BLOCK_ROWS;
            let ak = &mut tail[off..off + bl];
            let f = beta * (v0 * r[j + k * m] + dot(aj, ak));
            r[j + k * m] -= f * v0;
            axpy(-f, aj, ak);
        }
        r[j + j * m] = alpha;
    }
}

/// Pseudo-random values in [-1, 1) with some exact zeros, from a fixed seed.
fn noise(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if i % 11 == 0 {
                0.0
            } else {
                (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            }
        })
        .collect()
}

#[test]
fn four_column_reduction_gives_the_same_bits_as_one_column_at_a_time() {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for m in [1, 2, 3, 4, 5, 7, 8, 9, 13, 47] {
        for bl in [1, 2, 3, 5, 64, 255, 256] {
            let r0 = noise(m * m, 7 + m as u64);
            let b0 = noise(QR_BLOCK_ROWS * m, 1000 + bl as u64);
            let (mut r_ref, mut b_ref) = (r0.clone(), b0.clone());
            reduce_block_by_column(&mut r_ref, &mut b_ref, m, bl);
            let (mut r, mut b) = (r0.clone(), b0.clone());
            reduce_block_portable(&mut r, &mut b, m, bl);
            assert_eq!(bits(&r), bits(&r_ref), "R, m = {m}, bl = {bl}");
            assert_eq!(bits(&b), bits(&b_ref), "block, m = {m}, bl = {bl}");
            let (mut r, mut b) = (r0, b0);
            reduce_block(&mut r, &mut b, m, bl);
            assert_eq!(bits(&r), bits(&r_ref), "R (dispatched), m = {m}, bl = {bl}");
            assert_eq!(
                bits(&b),
                bits(&b_ref),
                "block (dispatched), m = {m}, bl = {bl}"
            );
        }
    }
}

/// The fit reads the design in blocks of rows: a model matrix computed block by
/// block ([`ModelRows`](crate::stats::design::ModelRows)) gives the same fit, to the
/// bit, as the stored matrix, also when the QR runs in several parallel chunks.
#[test]
fn model_rows_give_the_same_fit_as_the_stored_matrix() {
    use crate::stats::design::{model_matrix, model_rows, ColumnData, DataSet};
    use crate::stats::formula::parse;
    let n = 70_001;
    let u = noise(n, 5);
    let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 25.0).collect();
    let levels = ["a", "b", "c"];
    let g: Vec<Option<&str>> = (0..n).map(|i| Some(levels[(i * 7) % 3])).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let eta = -1.5 + 0.4 * x[i] - if i % 3 == 1 { 0.3 } else { 0.0 };
            let p = 1.0 / (1.0 + (-eta).exp());
            if (u[i] + 1.0) / 2.0 < p {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let mut data = DataSet::new();
    for (name, column) in [
        ("y", ColumnData::Numeric(y.clone())),
        ("x", ColumnData::Numeric(x)),
        ("g", ColumnData::from_strings(&g)),
    ] {
        data.push(name, column).expect("column");
    }
    let formula = parse("y ~ x * g").expect("formula");
    let rows = model_rows(&formula, &data).expect("model rows");
    let matrix = model_matrix(&formula, &data).expect("model matrix");
    let y = DVector::from_vec(y);
    let options = GlmOptions::new(Family::Binomial);
    let lazy = fit_glm(&rows.x, &y, None, None, &rows.column_names, &options).expect("fit");
    let stored = fit_glm(&matrix.x, &y, None, None, &matrix.column_names, &options).expect("fit");
    assert!(lazy.converged);
    assert_eq!(lazy, stored);
}
