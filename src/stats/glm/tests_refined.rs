//! Provisional IRLS steps on the normal equations with the last step on the QR, against
//! R's route (every step on the QR): the same iterations and estimates to the last digits
//! on a dense propensity design like `shine match`'s benchmark, R's route itself when a
//! column is aliased, and a result that does not depend on the thread count.

use nalgebra::{DMatrix, DVector};

use super::gram::dense_gram_r;
use super::irls::{expected_last, irls_by, irls_route, IrlsResult, PROVISIONAL_MIN_ROWS};
use super::*;
use crate::test_support::{assert_close, on_threads, EXACT};

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

/// Intercept, age, income (in 1000s), bmi, a count, sex and two of three education
/// levels; about 3% treated from a logistic model of them.
fn dense_design(n: usize) -> (DMatrix<f64>, DVector<f64>) {
    let mut u = Uniform(11);
    let p = 8;
    let mut x = DMatrix::zeros(n, p);
    let mut y = DVector::zeros(n);
    for i in 0..n {
        let age = 18.0 + 70.0 * u.next();
        let income = 150.0 + 600.0 * u.next() * u.next();
        let bmi = 18.0 + 15.0 * u.next();
        let visits = (-2.0 * u.next().max(1e-12).ln()).floor();
        let female = f64::from(u.next() < 0.5);
        let education = (u.next() * 3.0) as usize;
        let row = [
            1.0,
            age,
            income,
            bmi,
            visits,
            female,
            f64::from(education == 1),
            f64::from(education == 2),
        ];
        for (j, v) in row.iter().enumerate() {
            x[(i, j)] = *v;
        }
        let eta = -6.0 + 0.03 * age - 0.002 * income + 0.05 * bmi + 0.2 * visits - 0.3 * female
            + 0.4 * row[6]
            + 0.8 * row[7];
        y[i] = f64::from(u.next() < 1.0 / (1.0 + (-eta).exp()));
    }
    (x, y)
}

fn fit(x: &DMatrix<f64>, y: &DVector<f64>, provisional: bool) -> IrlsResult {
    let n = y.len();
    let options = GlmOptions::new(Family::Binomial);
    let prior = DVector::from_element(n, 1.0);
    let offset = DVector::zeros(n);
    irls_by(x, y, &prior, &offset, &options, None, provisional).expect("fit")
}

#[test]
fn provisional_steps_end_on_the_estimates_of_rs_route() {
    let (x, y) = dense_design(PROVISIONAL_MIN_ROWS * 3 + 17);
    let n = y.len();
    // The provisional route is taken to the end (no fall-back to R's route).
    let options = GlmOptions::new(Family::Binomial);
    let prior = DVector::from_element(n, 1.0);
    let offset = DVector::zeros(n);
    let route = irls_route(&x, &y, &prior, &offset, &options, None, true).expect("fit");
    assert!(route.is_some(), "the provisional route fell back to R's");

    let r = fit(&x, &y, false);
    let ours = fit(&x, &y, true);
    assert!(r.converged && ours.converged);
    assert_eq!(ours.iterations, r.iterations);
    assert_eq!(ours.history.len(), r.history.len());
    assert_close("deviance", ours.deviance, r.deviance, EXACT);
    for j in 0..x.ncols() {
        assert_close(
            &format!("coefficient {j}"),
            ours.coefficients[j],
            r.coefficients[j],
            EXACT,
        );
    }
    let (cov_ours, cov_r) = (ours.wls.unscaled_covariance(), r.wls.unscaled_covariance());
    for j in 0..x.ncols() {
        assert_close(
            &format!("variance {j}"),
            cov_ours[(j, j)],
            cov_r[(j, j)],
            EXACT,
        );
    }
    for i in (0..n).step_by(997) {
        assert_close(&format!("eta[{i}]"), ours.eta[i], r.eta[i], EXACT);
    }
}

#[test]
fn an_aliased_column_takes_rs_route_from_the_start() {
    let (x, y) = dense_design(PROVISIONAL_MIN_ROWS + 5);
    // A ninth column: twice the age.
    let mut x = x.insert_column(8, 0.0);
    for i in 0..x.nrows() {
        x[(i, 8)] = 2.0 * x[(i, 1)];
    }
    let n = y.len();
    let options = GlmOptions::new(Family::Binomial);
    let prior = DVector::from_element(n, 1.0);
    let offset = DVector::zeros(n);
    let route = irls_route(&x, &y, &prior, &offset, &options, None, true).expect("fit");
    assert!(
        route.is_none(),
        "an aliased column must leave the provisional route"
    );
    let r = fit(&x, &y, false);
    let ours = fit(&x, &y, true);
    assert_eq!(r.wls.aliased, ours.wls.aliased);
    assert!(ours.wls.aliased[8]);
    assert_eq!(ours.coefficients, r.coefficients);
    assert_eq!(ours.deviance.to_bits(), r.deviance.to_bits());
}

#[test]
fn provisional_steps_do_not_depend_on_the_thread_count() {
    let (x, y) = dense_design(PROVISIONAL_MIN_ROWS * 2 + 3);
    let one = on_threads(1, || fit(&x, &y, true));
    for threads in [2, 3] {
        let other = on_threads(threads, || fit(&x, &y, true));
        assert_eq!(one.coefficients, other.coefficients, "{threads} threads");
        assert_eq!(one.deviance.to_bits(), other.deviance.to_bits());
        assert_eq!(one.iterations, other.iterations);
    }
}

#[test]
fn dense_gram_factor_is_the_cross_products() {
    let (x, y) = dense_design(150_001);
    let w: Vec<f64> = (0..x.nrows())
        .map(|i| match i % 13 {
            0 => 0.0,
            5 => f64::NAN,
            _ => 0.2 + (i % 4) as f64 / 8.0,
        })
        .collect();
    // A row with weight 0 or NaN takes no part, whatever its values.
    let mut z = y.clone();
    z[0] = f64::INFINITY;
    z[5] = f64::NAN;
    let factor = |threads: usize| on_threads(threads, || dense_gram_r(&x, z.as_slice(), &w));
    let one = factor(1);
    for threads in [2, 3, 8] {
        assert_eq!(one, factor(threads), "{threads} threads");
    }
    let m = x.ncols() + 1;
    let column = |j: usize, i: usize| if j < m - 1 { x[(i, j)] } else { z[i] };
    for a in 0..m {
        for b in a..m {
            let direct: f64 = (0..x.nrows())
                .filter(|&i| w[i] > 0.0)
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

/// The next step is expected to be the last only when the last two changes in deviance
/// fall as Newton's method makes them fall and the next one is expected below a
/// hundredth of epsilon: the changes of the 1,000,000-row bench table's fit (iterations
/// 5 to 8: 5.68e-3, 1.32e-4, 1.24e-7, 1.70e-13; epsilon 1e-8).
#[test]
fn the_last_step_is_expected_from_the_two_changes_before_it() {
    let options = GlmOptions::new(Family::Binomial);
    // Before iteration 7: 1.32e-4³ / 5.68e-3² ≈ 7e-8, above epsilon (7 was not the last).
    assert!(!expected_last([Some(5.681e-3), Some(1.319e-4)], &options));
    // Before iteration 8: 1.24e-7³ / 1.32e-4² ≈ 1e-13 (8 was the last).
    assert!(expected_last([Some(1.319e-4), Some(1.236e-7)], &options));
    // Fewer than two changes, or a change that did not fall.
    assert!(!expected_last([None, Some(1e-12)], &options));
    assert!(!expected_last([Some(1e-9), Some(2e-9)], &options));
    assert!(!expected_last([Some(0.0), Some(0.0)], &options));
}
