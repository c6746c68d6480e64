//! The passes over a design made from variables (a row's entries from its level codes
//! and values) against the same passes over its materialised columns: the same bits, on
//! 1, 2 and 3 threads.

use nalgebra::DVector;

use super::gram::gram_matrix;
use super::rows::linear_predictor;
use super::*;
use crate::stats::design::{model_rows, ColumnData, DataSet, Design, DesignRows, ModelRows};
use crate::stats::formula::parse;
use crate::test_support::on_threads;

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

    fn below(&mut self, k: usize) -> usize {
        ((self.next() * k as f64) as usize).min(k - 1)
    }
}

/// The design read only as blocks of materialised columns (the route without
/// segments).
struct Blocks<'a>(&'a ModelRows);

impl DesignRows for Blocks<'_> {
    fn nrows(&self) -> usize {
        self.0.nrows()
    }

    fn ncols(&self) -> usize {
        self.0.ncols()
    }

    fn column_rows(&self, k: usize, start: usize, out: &mut [f64]) {
        self.0.column_rows(k, start, out);
    }
}

const FORMULA: &str =
    "treat ~ age + I(age^2) + sex + education + month + prior + age:sex + education:prior";

fn factor(codes: Vec<u32>, levels: usize) -> ColumnData {
    ColumnData::Categorical {
        codes: codes.into_iter().map(Some).collect(),
        levels: (0..levels).map(|l| format!("L{l}")).collect(),
    }
}

/// A propensity-like data set: age (0 in every 10th row, so that rows at every
/// factor's reference level have all-zero entries), sex (2 levels), education (5),
/// month (12, of which level 7 never occurs: an unused level), a prior count (often 0).
fn data(n: usize) -> DataSet {
    let mut u = Uniform(11);
    let (mut treat, mut age, mut prior) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sex, mut education, mut month) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let a = if i % 10 == 0 {
            0.0
        } else {
            18.0 + 80.0 * u.next()
        };
        let s = u.below(2) as u32;
        let e = u.below(5) as u32;
        let mut m = u.below(12) as u32;
        if m == 7 {
            m = 0;
        }
        let c = (-2.0 * u.next().max(1e-12).ln()).floor();
        let eta = -3.0 + 0.02 * a + 0.3 * f64::from(s) - 0.1 * f64::from(e) + 0.1 * c;
        treat.push(f64::from(u.next() < 1.0 / (1.0 + (-eta).exp())));
        age.push(a);
        prior.push(c);
        sex.push(s);
        education.push(e);
        month.push(m);
    }
    let mut data = DataSet::new();
    for (name, column) in [
        ("treat", ColumnData::Numeric(treat)),
        ("age", ColumnData::Numeric(age)),
        ("prior", ColumnData::Numeric(prior)),
        ("sex", factor(sex, 2)),
        ("education", factor(education, 5)),
        ("month", factor(month, 12)),
    ] {
        if let Err(e) = data.push(name, column) {
            panic!("{name}: {e}");
        }
    }
    data
}

fn design(n: usize) -> Design<ModelRows> {
    let formula = parse(FORMULA).unwrap_or_else(|e| panic!("{FORMULA}: {e}"));
    model_rows(&formula, &data(n)).unwrap_or_else(|e| panic!("{FORMULA}: {e}"))
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn cross_products_from_level_codes_equal_the_block_route_to_the_bit() {
    // More rows than two chunks of the Gram sum, so that chunks are added in order.
    let x = design(150_001).x;
    assert!(x.segments().is_some());
    let n = x.nrows();
    let mut u = Uniform(3);
    let z: Vec<f64> = (0..n)
        .map(|i| if i % 17 == 0 { 0.0 } else { u.next() - 0.5 })
        .collect();
    // Zero and NaN weights take no part.
    let w: Vec<f64> = (0..n)
        .map(|i| match i % 29 {
            0 => 0.0,
            1 => f64::NAN,
            _ => 0.05 + u.next(),
        })
        .collect();
    let blocks = on_threads(1, || gram_matrix(&Blocks(&x), &z, &w));
    assert!(blocks.iter().any(|&g| g != 0.0));
    for threads in [1, 2, 3] {
        let segments = on_threads(threads, || gram_matrix(&x, &z, &w));
        assert_eq!(bits(&segments), bits(&blocks), "{threads} threads");
        let again = on_threads(threads, || gram_matrix(&Blocks(&x), &z, &w));
        assert_eq!(bits(&again), bits(&blocks), "{threads} threads, blocks");
    }
}

#[test]
fn linear_predictor_from_level_codes_equals_the_block_route_to_the_bit() {
    let Design {
        x, column_names, ..
    } = design(100_003);
    let (n, p) = (x.nrows(), x.ncols());
    let mut u = Uniform(5);
    // Intercept 0 (skipped), numeric and interaction coefficients negative, factor
    // coefficients positive: a row at every reference level with age and prior 0 and
    // offset -0 sums -0 products only, while the block route adds the +0 products of
    // the factor columns it is not in and ends at +0.
    let numeric = ["age", "I(age^2)", "prior"];
    let beta = DVector::from_fn(p, |j, _| {
        let name = column_names[j].as_str();
        if name == "(Intercept)" {
            0.0
        } else if numeric.contains(&name) || name.contains(':') {
            -0.01 - u.next()
        } else {
            0.01 + u.next()
        }
    });
    let offset = DVector::from_fn(n, |i, _| if i % 3 == 0 { -0.0 } else { 0.0 });
    let mut blocks = DVector::zeros(n);
    on_threads(1, || {
        linear_predictor(&Blocks(&x), &beta, &offset, &mut blocks)
    });
    // A row whose products are all zero, offset -0 and sum +0 on the block route.
    let only_zero_products = |i: usize| {
        (0..p).all(|k| {
            let mut v = [f64::NAN];
            x.column_rows(k, i, &mut v);
            v[0] == 0.0 || beta[k] == 0.0
        })
    };
    assert!((0..n).any(|i| offset[i].is_sign_negative()
        && blocks[i].to_bits() == 0
        && only_zero_products(i)));
    for threads in [1, 2, 3] {
        let mut eta = DVector::from_element(n, f64::NAN);
        on_threads(threads, || linear_predictor(&x, &beta, &offset, &mut eta));
        assert_eq!(
            bits(eta.as_slice()),
            bits(blocks.as_slice()),
            "{threads} threads"
        );
    }
}

#[test]
fn normal_equations_fit_from_level_codes_equals_the_block_route_to_the_bit() {
    let Design {
        x,
        column_names: names,
        response,
        ..
    } = design(70_001);
    let y = response.expect("a response");
    let options = GlmOptions {
        solver: LeastSquares::NormalEquations,
        ..GlmOptions::new(Family::Binomial)
    };
    let a = fit_glm(&x, &y, None, None, &names, &options).expect("segments");
    let b = fit_glm(&Blocks(&x), &y, None, None, &names, &options).expect("blocks");
    assert!(a.converged);
    assert_eq!(a.iterations, b.iterations);
    assert_eq!(a.deviance.to_bits(), b.deviance.to_bits());
    for (ca, cb) in a.coefficients.iter().zip(&b.coefficients) {
        assert_eq!(ca.estimate.to_bits(), cb.estimate.to_bits(), "{}", ca.term);
        assert_eq!(
            ca.std_error.to_bits(),
            cb.std_error.to_bits(),
            "{}",
            ca.term
        );
    }
    assert_eq!(
        bits(a.linear_predictor.as_slice()),
        bits(b.linear_predictor.as_slice())
    );
}

/// One fused pass of a provisional step gives what the separate passes give, to the
/// bit: the linear predictor, fitted values and deviance at new coefficients, the
/// working values there and the factor of their cross products; over the level codes
/// and over blocks of materialised columns, on 1, 2 and 3 threads, with prior weights 0.
#[test]
fn a_fused_pass_equals_the_separate_passes_to_the_bit() {
    use super::fused::{pass, At, Rows};
    use super::gram::{cholesky_upper, dense_gram_r};

    let design = design(150_001);
    let (x, names) = (&design.x, &design.column_names);
    let n = x.nrows();
    let y = DVector::from_fn(n, |i, _| f64::from(i % 7 == 0));
    let prior = DVector::from_fn(n, |i, _| if i % 31 == 0 { 0.0 } else { 1.0 });
    let mut u = Uniform(5);
    let offset = DVector::from_fn(n, |i, _| if i % 3 == 0 { 0.0 } else { u.next() - 0.5 });
    let beta = DVector::from_fn(names.len(), |j, _| {
        if j == 2 {
            0.0
        } else {
            0.1 - 0.01 * j as f64
        }
    });
    let family = Family::Binomial;

    // The separate passes.
    let mut eta = DVector::zeros(n);
    linear_predictor(x, &beta, &offset, &mut eta);
    let mu = eta.map(|e| family.inverse_link(e));
    let deviance = family.deviance(&y, &mu, &prior);
    let working = working_values(family, &y, &eta, &offset, &prior).expect("working values");
    let factor = dense_gram_r(x, working.response.as_slice(), working.weights.as_slice());

    // The deviance as a pass sums it: in row order within each chunk of rows, the
    // chunks' sums in order.
    let chunked_deviance: f64 = (0..n)
        .step_by(super::gram::GRAM_CHUNK_ROWS)
        .map(|start| {
            let end = (start + super::gram::GRAM_CHUNK_ROWS).min(n);
            (start..end).fold(0.0, |sum, i| {
                sum + family.deviance_residual(y[i], mu[i], prior[i])
            })
        })
        .fold(0.0, |sum, chunk| sum + chunk);
    assert!((chunked_deviance - deviance).abs() <= 1e-12 * deviance);
    let rows = Rows::new(family, &y, &offset, &prior);
    let fused = |blocks: bool, at: At<'_>| {
        let mut out = WorkingValues::zeros(n);
        let materialised = Blocks(x);
        let rows_of: &dyn DesignRows = if blocks { &materialised } else { x };
        let result = pass(rows_of, &rows, at, &mut out);
        (result, out)
    };
    for threads in [1, 2, 3] {
        for blocks in [false, true] {
            for at in [At::Coefficients(&beta), At::LinearPredictor(&eta)] {
                let (result, out) = on_threads(threads, || fused(blocks, at));
                let case = format!("{threads} threads, blocks {blocks}");
                assert_eq!(
                    result.deviance.to_bits(),
                    chunked_deviance.to_bits(),
                    "deviance, {case}"
                );
                assert!(result.valid && result.first_bad.is_none(), "{case}");
                assert_eq!(out, working, "working values, {case}");
                let positive = working.weights.iter().filter(|&&w| w > 0.0).count();
                assert_eq!(result.n_good, positive, "{case}");
                let m = names.len() + 1;
                assert_eq!(
                    bits(&cholesky_upper(&result.gram, m)),
                    bits(&factor),
                    "factor, {case}"
                );
            }
        }
    }
}
