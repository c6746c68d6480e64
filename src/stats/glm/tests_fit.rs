//! The fit on synthetic data (true coefficients recovered, boundary fitted values), the
//! IRLS building blocks, typed errors for invalid inputs, and the timing target.

use nalgebra::{DMatrix, DVector};

use super::*;

#[test]
fn extreme_but_finite_fitted_values_name_no_covariate() {
    // A strong, non-separating predictor: some fitted probabilities fall within 1e-10
    // of 0 or 1 (R would warn), but no estimate diverges.
    let mut rng = Rng(99);
    let n = 4000;
    let (mut x, names) = synthetic_design(&mut rng, n, 2);
    for i in 0..n {
        x[(i, 1)] *= 4.0;
    }
    let y = DVector::from_fn(n, |i, _| {
        let eta = 0.2 + 2.0 * x[(i, 1)];
        if rng.uniform() < 1.0 / (1.0 + (-eta).exp()) {
            1.0
        } else {
            0.0
        }
    });
    let fit = fit_glm(
        &x,
        &y,
        None,
        None,
        &names,
        &GlmOptions::new(Family::Binomial),
    )
    .expect("fit");
    assert!(fit.converged);
    assert_within_se(&fit, &[0.2, 2.0], 4.0);
    let separation = fit.separation.expect("boundary observations reported");
    assert!(separation.covariates.is_empty());
    assert!(separation.observations > 0);
}

/// SplitMix64 uniform and normal draws, so the synthetic tests need no RNG crate.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    fn poisson(&mut self, lambda: f64) -> f64 {
        // Knuth's multiplication method (lambda is small here).
        let limit = (-lambda).exp();
        let (mut k, mut prod) = (0.0, self.uniform());
        while prod > limit {
            k += 1.0;
            prod *= self.uniform();
        }
        k
    }
}

/// Design with an intercept and `p - 1` standard normal covariates.
fn synthetic_design(rng: &mut Rng, n: usize, p: usize) -> (DMatrix<f64>, Vec<String>) {
    let x = DMatrix::from_fn(n, p, |_, j| if j == 0 { 1.0 } else { 0.0 });
    let mut x = x;
    for j in 1..p {
        for i in 0..n {
            x[(i, j)] = rng.normal();
        }
    }
    let names = (0..p)
        .map(|j| {
            if j == 0 {
                "(Intercept)".to_string()
            } else {
                format!("x{j}")
            }
        })
        .collect();
    (x, names)
}

fn assert_within_se(fit: &GlmFit, truth: &[f64], max_z: f64) {
    for (c, &t) in fit.coefficients.iter().zip(truth) {
        let z = (c.estimate - t) / c.std_error;
        assert!(
            z.abs() < max_z,
            "{}: estimate {} vs truth {t} is {z:.2} SE away",
            c.term,
            c.estimate
        );
    }
}

#[test]
fn synthetic_logistic_recovers_the_true_coefficients() {
    let mut rng = Rng(2024);
    let truth = [-0.5, 1.0, -0.7, 0.25, 0.0];
    let (x, names) = synthetic_design(&mut rng, 20_000, truth.len());
    let eta = &x * DVector::from_row_slice(&truth);
    let y = eta.map(|e| {
        if rng.uniform() < 1.0 / (1.0 + (-e).exp()) {
            1.0
        } else {
            0.0
        }
    });
    let fit = fit_glm(
        &x,
        &y,
        None,
        None,
        &names,
        &GlmOptions::new(Family::Binomial),
    )
    .expect("fit");
    assert!(fit.converged);
    assert_within_se(&fit, &truth, 4.0);
    assert!(fit.separation.is_none());
}

#[test]
fn synthetic_poisson_with_offset_and_weights_recovers_the_true_coefficients() {
    let mut rng = Rng(7);
    let truth = [0.3, 0.5, -0.2, 0.1];
    let (x, names) = synthetic_design(&mut rng, 20_000, truth.len());
    let exposure = DVector::from_fn(20_000, |_, _| 0.5 + 2.0 * rng.uniform());
    let offset = exposure.map(f64::ln);
    let eta = &x * DVector::from_row_slice(&truth) + &offset;
    let y = eta.map(|e| rng.poisson(e.exp()));
    // Weights 1 or 2: a weight-2 row counts as two identical observations.
    let weights = DVector::from_fn(20_000, |i, _| if i % 3 == 0 { 2.0 } else { 1.0 });
    let fit = fit_glm(
        &x,
        &y,
        Some(&weights),
        Some(&offset),
        &names,
        &GlmOptions::new(Family::Poisson),
    )
    .expect("fit");
    assert!(fit.converged);
    // Doubled rows overstate the information by at most sqrt(2) in SE.
    assert_within_se(&fit, &truth, 4.0 * std::f64::consts::SQRT_2);
}

#[test]
fn working_values_follow_the_irls_definition() {
    // Poisson, log link: z = eta - offset + (y - mu) / mu, W = w * mu.
    let y = DVector::from_row_slice(&[0.0, 3.0]);
    let eta = DVector::from_row_slice(&[0.2, 1.0]);
    let offset = DVector::from_row_slice(&[0.1, -0.5]);
    let w = DVector::from_row_slice(&[2.0, 0.0]);
    let wv = working_values(Family::Poisson, &y, &eta, &offset, &w).expect("working values");
    let mu0 = 0.2f64.exp();
    assert!((wv.response[0] - (0.1 + (0.0 - mu0) / mu0)).abs() < 1e-15);
    assert!((wv.weights[0] - 2.0 * mu0).abs() < 1e-15);
    assert_eq!(wv.weights[1], 0.0);
}

#[test]
fn links_clamp_like_r() {
    assert_eq!(
        Family::Binomial.inverse_link(40.0),
        1.0 / (1.0 + f64::EPSILON)
    );
    assert_eq!(
        Family::Binomial.inverse_link(-40.0),
        f64::EPSILON / (1.0 + f64::EPSILON)
    );
    assert_eq!(Family::Binomial.mu_eta(31.0), f64::EPSILON);
    assert_eq!(Family::Poisson.inverse_link(-800.0), f64::EPSILON);
    assert!((Family::Binomial.link(Family::Binomial.inverse_link(1.3)) - 1.3).abs() < 1e-14);
}

fn tiny_problem() -> (DMatrix<f64>, DVector<f64>, Vec<String>) {
    let x = DMatrix::from_fn(4, 2, |i, j| if j == 0 { 1.0 } else { i as f64 });
    let y = DVector::from_row_slice(&[0.0, 1.0, 0.0, 1.0]);
    (x, y, vec!["(Intercept)".into(), "t".into()])
}

#[test]
fn invalid_inputs_are_typed_errors() {
    let (x, y, names) = tiny_problem();
    let binomial = GlmOptions::new(Family::Binomial);
    let fit = |x: &DMatrix<f64>,
               y: &DVector<f64>,
               w: Option<&DVector<f64>>,
               o: Option<&DVector<f64>>,
               n: &[String],
               opt: &GlmOptions| { fit_glm(x, y, w, o, n, opt).err() };
    let short = DVector::from_row_slice(&[0.0, 1.0]);
    assert!(matches!(
        fit(&x, &short, None, None, &names, &binomial),
        Some(GlmError::DimensionMismatch { what: "y", .. })
    ));
    assert!(matches!(
        fit(&x, &y, Some(&short), None, &names, &binomial),
        Some(GlmError::DimensionMismatch {
            what: "weights",
            ..
        })
    ));
    assert!(matches!(
        fit(&x, &y, None, Some(&short), &names, &binomial),
        Some(GlmError::DimensionMismatch { what: "offset", .. })
    ));
    assert!(matches!(
        fit(&x, &y, None, None, &names[..1], &binomial),
        Some(GlmError::DimensionMismatch {
            what: "column_names",
            ..
        })
    ));
    let mut bad_x = x.clone();
    bad_x[(2, 1)] = f64::NAN;
    assert!(matches!(
        fit(&bad_x, &y, None, None, &names, &binomial),
        Some(GlmError::NonFinite { what: "x", row: 2, column: Some(ref c), .. }) if c == "t"
    ));
    let mut bad_y = y.clone();
    bad_y[1] = 1.5;
    assert!(matches!(
        fit(&x, &bad_y, None, None, &names, &binomial),
        Some(GlmError::ResponseOutOfRange { row: 1, .. })
    ));
    bad_y[1] = -1.0;
    assert!(matches!(
        fit(
            &x,
            &bad_y,
            None,
            None,
            &names,
            &GlmOptions::new(Family::Poisson)
        ),
        Some(GlmError::ResponseOutOfRange { row: 1, .. })
    ));
    bad_y[1] = f64::INFINITY;
    assert!(matches!(
        fit(
            &x,
            &bad_y,
            None,
            None,
            &names,
            &GlmOptions::new(Family::Gaussian)
        ),
        Some(GlmError::NonFinite { what: "y", .. })
    ));
    let negative = DVector::from_row_slice(&[1.0, -1.0, 1.0, 1.0]);
    assert!(matches!(
        fit(&x, &y, Some(&negative), None, &names, &binomial),
        Some(GlmError::NegativeWeight { row: 1, .. })
    ));
    let zeros = DVector::zeros(4);
    assert!(matches!(
        fit(&x, &y, Some(&zeros), None, &names, &binomial),
        Some(GlmError::NoPositiveWeight)
    ));
    let empty = DMatrix::<f64>::zeros(0, 2);
    assert!(matches!(
        fit(&empty, &DVector::zeros(0), None, None, &names, &binomial),
        Some(GlmError::NoObservations)
    ));
    let no_cols = DMatrix::<f64>::zeros(4, 0);
    assert!(matches!(
        fit(&no_cols, &y, None, None, &[], &binomial),
        Some(GlmError::NoColumns)
    ));
    let all_zero = DMatrix::<f64>::zeros(4, 1);
    assert!(matches!(
        fit(&all_zero, &y, None, None, &names[..1], &binomial),
        Some(GlmError::NoEstimableColumn)
    ));
    let bad_iter = GlmOptions {
        max_iter: 0,
        ..binomial
    };
    assert!(matches!(
        fit(&x, &y, None, None, &names, &bad_iter),
        Some(GlmError::InvalidOption {
            name: "max_iter",
            ..
        })
    ));
    let bad_eps = GlmOptions {
        epsilon: 0.0,
        ..binomial
    };
    assert!(matches!(
        fit(&x, &y, None, None, &names, &bad_eps),
        Some(GlmError::InvalidOption {
            name: "epsilon",
            ..
        })
    ));
}

#[test]
fn binomial_response_out_of_range_is_allowed_where_the_weight_is_zero() {
    // R's binomial initialize sets y to 0 where the prior weight is 0.
    let (x, mut y, names) = tiny_problem();
    y[0] = 7.0;
    let w = DVector::from_row_slice(&[0.0, 1.0, 1.0, 1.0]);
    assert!(fit_glm(
        &x,
        &y,
        Some(&w),
        None,
        &names,
        &GlmOptions::new(Family::Binomial)
    )
    .is_ok());
}

#[test]
fn overflowing_linear_predictor_is_a_typed_error() {
    // One count of 1e300: the first least-squares step overflows the linear
    // predictor and there is no previous solution to halve towards.
    let n = 30;
    let x = DMatrix::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { i as f64 * 25.0 });
    let y = DVector::from_fn(n, |i, _| if i < n - 1 { 0.0 } else { 1e300 });
    let names = vec!["(Intercept)".to_string(), "x".to_string()];
    let result = fit_glm(
        &x,
        &y,
        None,
        None,
        &names,
        &GlmOptions::new(Family::Poisson),
    );
    // R 4.2.2 stops too ("NA/NaN/Inf in 'x'").
    assert!(matches!(
        result,
        Err(GlmError::NoValidCoefficients { .. } | GlmError::InvalidWorkingValues { .. })
    ));
}

/// The brief's performance target: 1,000,000 × 12 logistic in well under 2 s.
/// Timing is only meaningful in an optimised build:
/// `cargo test --release -- --ignored one_million`.
#[test]
#[ignore = "timing test; run in release mode with --ignored"]
fn one_million_rows_logistic_fits_in_under_two_seconds() {
    let mut rng = Rng(1);
    let p = 12;
    let truth: Vec<f64> = (0..p).map(|j| 0.3 - 0.05 * j as f64).collect();
    let (x, names) = synthetic_design(&mut rng, 1_000_000, p);
    let eta = &x * DVector::from_row_slice(&truth);
    let y = eta.map(|e| {
        if rng.uniform() < 1.0 / (1.0 + (-e).exp()) {
            1.0
        } else {
            0.0
        }
    });
    let started = std::time::Instant::now();
    let fit = fit_glm(
        &x,
        &y,
        None,
        None,
        &names,
        &GlmOptions::new(Family::Binomial),
    )
    .expect("fit");
    let elapsed = started.elapsed();
    eprintln!(
        "1e6 x 12 logistic: {elapsed:?}, {} iterations",
        fit.iterations
    );
    assert!(fit.converged);
    assert_within_se(&fit, &truth, 4.5);
    assert!(elapsed.as_secs_f64() < 2.0, "took {elapsed:?}");
}

/// A start near the estimates (R's `start =`): the same maximum as from R's start, in
/// fewer iterations; a start of the wrong length or with a non-finite value is refused.
#[test]
fn start_coefficients_reach_the_same_maximum_in_fewer_iterations() {
    let mut rng = Rng(17);
    let n = 60_000;
    let (x, names) = synthetic_design(&mut rng, n, 3);
    let y = DVector::from_fn(n, |i, _| {
        let eta = -6.8 + 0.6 * x[(i, 1)] - 0.4 * x[(i, 2)];
        f64::from(u8::from(rng.uniform() < 1.0 / (1.0 + (-eta).exp())))
    });
    assert!((20.0..300.0).contains(&y.sum()), "events: {}", y.sum());
    let options = GlmOptions {
        solver: LeastSquares::NormalEquations,
        ..GlmOptions::new(Family::Binomial)
    };
    let from_r = fit_glm(&x, &y, None, None, &names, &options).unwrap();
    // A start a few standard errors away, as a subsample's estimates are.
    let start = DVector::from_iterator(
        3,
        from_r
            .coefficients
            .iter()
            .zip([2.0, -3.0, 1.5])
            .map(|(c, z)| c.estimate + z * c.std_error),
    );
    let from_start = fit_glm_from(&x, &y, None, None, &names, &options, Some(&start)).unwrap();
    assert!(from_r.converged && from_start.converged);
    assert!(
        from_start.iterations + 3 <= from_r.iterations,
        "iterations: {} from the start, {} from R's",
        from_start.iterations,
        from_r.iterations
    );
    for (a, b) in from_r.coefficients.iter().zip(&from_start.coefficients) {
        assert!(
            (a.estimate - b.estimate).abs() <= 1e-5 * a.std_error,
            "{}: {} and {}",
            a.term,
            a.estimate,
            b.estimate
        );
        assert!((a.std_error - b.std_error).abs() <= 1e-3 * a.std_error);
    }
    assert!((from_r.deviance - from_start.deviance).abs() <= 1e-9 * from_r.deviance);

    let short = DVector::from_element(2, 0.0);
    assert!(matches!(
        fit_glm_from(&x, &y, None, None, &names, &options, Some(&short)),
        Err(GlmError::DimensionMismatch { what: "start", .. })
    ));
    let bad = DVector::from_vec(vec![0.0, f64::NAN, 0.0]);
    assert!(matches!(
        fit_glm_from(&x, &y, None, None, &names, &options, Some(&bad)),
        Err(GlmError::NonFinite {
            what: "start",
            row: 1,
            ..
        })
    ));
}
