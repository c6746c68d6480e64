//! The normal-equations solver against the Householder QR: the same logistic fit on a
//! propensity-like design (age and age², indicators, counts), the same rank decision on
//! a collinear column, and a factor that does not depend on the thread count.

use nalgebra::{DMatrix, DVector};

use super::gram::gram_r;
use super::*;
use crate::test_support::{assert_close, on_threads, ACCUMULATED, EXACT};

/// A fixed pseudo-random sequence in [0, 1) (a 64-bit linear congruential generator).
struct Uniform(u64);

impl Uniform {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Intercept, age, age², sex, four education indicators, a 12-level month factor (11
/// indicators) and a prior count; treatment from a logistic model of them.
fn propensity_design(n: usize) -> (DMatrix<f64>, DVector<f64>, Vec<String>) {
    let mut u = Uniform(7);
    let p = 1 + 2 + 1 + 4 + 11 + 1;
    let mut x = DMatrix::zeros(n, p);
    let mut y = DVector::zeros(n);
    for i in 0..n {
        let age = 18.0 + 80.0 * u.next();
        let female = f64::from(u.next() < 0.5);
        let education = (u.next() * 5.0) as usize;
        let month = (u.next() * 12.0) as usize;
        let prior = (-3.0 * u.next().max(1e-12).ln()).floor();
        x[(i, 0)] = 1.0;
        x[(i, 1)] = age;
        x[(i, 2)] = age * age;
        x[(i, 3)] = female;
        if education > 0 {
            x[(i, 3 + education)] = 1.0;
        }
        if month > 0 {
            x[(i, 7 + month)] = 1.0;
        }
        x[(i, p - 1)] = prior;
        let eta = -4.0 + 0.04 * age - 0.0003 * age * age + 0.3 * female - 0.2 * education as f64
            + 0.05 * month as f64
            + 0.15 * prior;
        y[i] = f64::from(u.next() < 1.0 / (1.0 + (-eta).exp()));
    }
    let names = (0..p).map(|j| format!("x{j}")).collect();
    (x, y, names)
}

#[test]
fn normal_equations_give_the_householder_fit() {
    let (x, y, names) = propensity_design(60_000);
    let qr = GlmOptions::new(Family::Binomial);
    let normal = GlmOptions {
        solver: LeastSquares::NormalEquations,
        ..qr
    };
    let a = fit_glm(&x, &y, None, None, &names, &qr).expect("QR fit");
    let b = fit_glm(&x, &y, None, None, &names, &normal).expect("normal-equations fit");
    assert_eq!(a.iterations, b.iterations);
    assert!(b.converged && b.aliased.is_empty());
    assert_close("deviance", b.deviance, a.deviance, EXACT);
    for (ca, cb) in a.coefficients.iter().zip(&b.coefficients) {
        assert_close(&ca.term, cb.estimate, ca.estimate, ACCUMULATED);
        assert_close(&ca.term, cb.std_error, ca.std_error, ACCUMULATED);
    }
}

#[test]
fn normal_equations_alias_a_collinear_column_as_the_qr_does() {
    // Columns: 1, a, 2a (collinear with a), b, over enough rows that the cross
    // products carry rounding errors.
    let n = 1_000;
    let x = DMatrix::from_fn(n, 4, |i, j| {
        let a = (i % 37) as f64 / 3.0 + 0.1;
        match j {
            0 => 1.0,
            1 => a,
            2 => 2.0 * a,
            _ => ((i * 7) % 11) as f64 - 5.0,
        }
    });
    let z = DVector::from_fn(n, |i, _| 1.0 + 0.5 * x[(i, 1)] - 2.0 * x[(i, 3)]);
    let w = DVector::from_fn(n, |i, _| 1.0 + (i % 3) as f64);
    let qr = weighted_least_squares(&x, &z, &w, 1e-11).expect("QR");
    let normal = weighted_least_squares_by(&x, &z, &w, 1e-11, LeastSquares::NormalEquations)
        .expect("normal equations");
    assert_eq!(normal.rank, 3);
    assert_eq!(normal.aliased, qr.aliased);
    assert_eq!(normal.pivot, qr.pivot);
    for (c, e) in normal.coefficients.iter().zip([1.0, 0.5, 0.0, -2.0]) {
        assert!((c - e).abs() < 1e-9, "{c} vs {e}");
    }
}

#[test]
fn normal_equations_do_not_depend_on_the_thread_count() {
    let (x, y, _) = propensity_design(150_001);
    let w: Vec<f64> = (0..x.nrows())
        .map(|i| {
            if i % 13 == 0 {
                0.0
            } else {
                0.2 + (i % 4) as f64 / 8.0
            }
        })
        .collect();
    let gram = |threads: usize| on_threads(threads, || gram_r(&x, y.as_slice(), &w));
    let one = gram(1);
    for threads in [2, 3, 8] {
        assert_eq!(one, gram(threads), "{threads} threads");
    }
    // R'R = [X y]'W[X y], summed directly.
    let m = x.ncols() + 1;
    let column = |j: usize, i: usize| if j < m - 1 { x[(i, j)] } else { y[i] };
    for a in 0..m {
        for b in a..m {
            let direct: f64 = (0..x.nrows())
                .map(|i| w[i] * column(a, i) * column(b, i))
                .sum();
            let rr: f64 = (0..m).map(|k| one[k + a * m] * one[k + b * m]).sum();
            assert!(
                (rr - direct).abs() <= 1e-9 * direct.abs().max(1.0),
                "R'R[{a},{b}]: {rr} vs {direct}"
            );
        }
    }
}

/// The dense kernel as this machine runs it (AVX2 with fused multiply-adds, where the
/// CPU has them) gives the portable code's sums to the bit: blocks of every length up
/// to a whole block, some not a multiple of four rows, weights zero, negative and NaN
/// on some rows, and 1 to 13 columns.
#[test]
fn dense_kernel_gives_the_portable_sums_to_the_bit() {
    use super::gram::{add_dense_rows, add_dense_rows_portable, dense_block_len, GRAM_BLOCK_ROWS};
    const B: usize = GRAM_BLOCK_ROWS;
    let mut u = Uniform(11);
    for m in 1..=13 {
        let padded = dense_block_len(m);
        for len in [1, 3, 4, 5, 17, 128, 201, B] {
            let w: Vec<f64> = (0..len)
                .map(|i| match i % 23 {
                    5 => 0.0,
                    9 => -1.5,
                    13 => f64::NAN,
                    _ => 0.05 + u.next(),
                })
                .collect();
            let mut block = vec![0.0; B * padded];
            for (k, column) in block.chunks_exact_mut(B).take(m).enumerate() {
                for (i, v) in column[..len].iter_mut().enumerate() {
                    let usable = w[i] > 0.0;
                    *v = if usable {
                        (k as f64 + 1.0) * (u.next() - 0.3) * 1e3
                    } else {
                        0.0
                    };
                }
            }
            let columns: Vec<&[f64]> = block.chunks_exact(B).collect();
            let (mut fast, mut portable) = (vec![0.0; m * m], vec![0.0; m * m]);
            let mut scratch = vec![0.0; B * padded];
            add_dense_rows(&mut fast, &columns, &mut scratch, &w, m);
            let mut scratch = vec![0.0; B * padded];
            add_dense_rows_portable(&mut portable, &columns, &mut scratch, &w, m);
            let bits = |g: &[f64]| g.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&portable), "m = {m}, {len} rows");
            assert!(portable.iter().any(|&v| v != 0.0));
        }
    }
}
