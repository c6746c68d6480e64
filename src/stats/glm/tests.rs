//! Reference values come from R 4.2.2 `glm()`/`summary.glm()`, produced by
//! tests/reference/glm/glm_reference.R (run from the repository root); every JSON
//! file there holds the model matrix, response, weights and offset R used, the R
//! call and the package versions.
//!
//! Synthetic-data, input-check and timing tests are in `tests_fit.rs`; the
//! least-squares step and the tall-skinny QR in `tests_qr.rs`.

use nalgebra::{DMatrix, DVector};
use serde_json::Value;

use super::*;
use crate::stats::coefficient::Coefficient;
use crate::test_support::{assert_close, EXACT};

/// Relative agreement required with R (estimates, SEs, statistics, p-values,
/// deviances, AIC, fitted values, vcov).
const R_REL_TOL: f64 = 1e-6;
/// Differences are divided by at least this. Values smaller than it (p-values of
/// 1e-124, fitted probabilities of 2.2e-16) must then agree with R to 1e-18 absolutely:
/// stricter than `test_support::rel_diff`, which compares absolutely below 1e-10, so
/// the comparison with R keeps its own [`rel_diff`].
const REL_FLOOR: f64 = 1e-12;

fn num(v: &Value) -> f64 {
    match v {
        Value::Null => f64::NAN,
        Value::Number(x) => x.as_f64().expect("number"),
        Value::String(s) if s == "Inf" => f64::INFINITY,
        Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|t| t.as_str().expect("string").to_string())
        .collect()
}

/// A model exported by glm_reference.R: R's inputs and results.
struct RCase {
    json: Value,
    x: DMatrix<f64>,
    y: DVector<f64>,
    weights: Option<DVector<f64>>,
    offset: Option<DVector<f64>>,
    names: Vec<String>,
    options: GlmOptions,
}

impl RCase {
    fn load(text: &str) -> RCase {
        let json: Value = serde_json::from_str(text).expect("valid JSON");
        let columns: Vec<Vec<f64>> = json["x"].as_array().expect("x").iter().map(nums).collect();
        let n = json["n"].as_u64().expect("n") as usize;
        let x = DMatrix::from_fn(n, columns.len(), |i, j| columns[j][i]);
        let y = DVector::from_vec(nums(&json["y"]));
        let optional = |key: &str| match &json[key] {
            Value::Null => None,
            v => Some(DVector::from_vec(nums(v))),
        };
        let weights = optional("weights");
        let offset = optional("offset");
        let names = strings(&json["terms"]);
        let family = match json["family"].as_str().expect("family") {
            "binomial" => Family::Binomial,
            "poisson" => Family::Poisson,
            "gaussian" => Family::Gaussian,
            other => panic!("family {other}"),
        };
        let options = GlmOptions {
            family,
            max_iter: json["max_iter"].as_u64().expect("max_iter") as usize,
            epsilon: num(&json["epsilon"]),
            solver: LeastSquares::Householder,
        };
        RCase {
            json,
            x,
            y,
            weights,
            offset,
            names,
            options,
        }
    }

    fn fit(&self) -> GlmFit {
        fit_glm(
            &self.x,
            &self.y,
            self.weights.as_ref(),
            self.offset.as_ref(),
            &self.names,
            &self.options,
        )
        .expect("fit")
    }

    fn column(&self, name: &str) -> DVector<f64> {
        let j = self.names.iter().position(|n| n == name).expect("column");
        self.x.column(j).into_owned()
    }
}

/// |actual − expected| / max(|expected|, [`REL_FLOOR`]); 0 when both are NaN.
fn rel_diff(actual: f64, expected: f64) -> f64 {
    if expected.is_nan() || actual.is_nan() {
        return if expected.is_nan() && actual.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if expected == actual {
        return 0.0;
    }
    (actual - expected).abs() / expected.abs().max(REL_FLOOR)
}

/// The largest [`rel_diff`] over two vectors of the same length.
fn max_rel_diff(actual: &[f64], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    actual
        .iter()
        .zip(expected)
        .map(|(&a, &e)| rel_diff(a, e))
        .fold(0.0, f64::max)
}

/// Compares a fit with R's numbers; `skip` names quantities not compared (with the
/// reason given at the call site). Returns the largest relative difference seen.
fn assert_matches_r(case: &RCase, fit: &GlmFit, skip: &[&str]) -> f64 {
    let r = &case.json;
    let coef = |f: fn(&Coefficient) -> f64| fit.coefficients.iter().map(f).collect::<Vec<_>>();
    let vcov_r: Vec<f64> = r["vcov"]
        .as_array()
        .expect("vcov")
        .iter()
        .flat_map(nums)
        .collect();
    let vcov: Vec<f64> = (0..fit.vcov.nrows())
        .flat_map(|i| (0..fit.vcov.ncols()).map(move |j| (i, j)))
        .map(|(i, j)| fit.vcov[(i, j)])
        .collect();
    let diffs = [
        (
            "estimate",
            max_rel_diff(&coef(|c| c.estimate), &nums(&r["estimate"])),
        ),
        (
            "std_error",
            max_rel_diff(&coef(|c| c.std_error), &nums(&r["std_error"])),
        ),
        (
            "statistic",
            max_rel_diff(&coef(|c| c.statistic), &nums(&r["statistic"])),
        ),
        (
            "p_value",
            max_rel_diff(&coef(|c| c.p_value), &nums(&r["p_value"])),
        ),
        ("vcov", max_rel_diff(&vcov, &vcov_r)),
        ("deviance", rel_diff(fit.deviance, num(&r["deviance"]))),
        (
            "null_deviance",
            rel_diff(fit.null_deviance, num(&r["null_deviance"])),
        ),
        ("aic", rel_diff(fit.aic, num(&r["aic"]))),
        (
            "dispersion",
            rel_diff(fit.dispersion, num(&r["dispersion"])),
        ),
        (
            "fitted",
            max_rel_diff(fit.fitted.as_slice(), &nums(&r["fitted"])),
        ),
        (
            "linear_predictor",
            max_rel_diff(
                fit.linear_predictor.as_slice(),
                &nums(&r["linear_predictor"]),
            ),
        ),
    ];
    let mut worst = 0.0f64;
    for (what, d) in diffs {
        if skip.contains(&what) {
            continue;
        }
        assert!(
            d <= R_REL_TOL,
            "{}: {what} differs from R by {d:e} (relative)",
            r["r_call"]
        );
        worst = worst.max(d);
    }
    let int = |key: &str| r[key].as_u64().expect(key) as usize;
    assert_eq!(fit.iterations, int("iter"), "iterations");
    assert_eq!(
        fit.converged,
        r["converged"].as_bool().expect("converged"),
        "converged"
    );
    assert_eq!(
        fit.boundary,
        r["boundary"].as_bool().expect("boundary"),
        "boundary"
    );
    assert_eq!(fit.df_residual, int("df_residual"), "df_residual");
    assert_eq!(fit.df_null, int("df_null"), "df_null");
    assert_eq!(fit.rank, int("rank"), "rank");
    assert_eq!(fit.aliased, strings(&r["aliased"]), "aliased columns");
    let names: Vec<&str> = fit.coefficients.iter().map(|c| c.term.as_str()).collect();
    assert_eq!(names, strings(&r["terms"]), "coefficient names and order");
    let statistic = match r["statistic_name"].as_str().expect("statistic_name") {
        "z value" => WaldStatistic::Z,
        _ => WaldStatistic::T,
    };
    assert_eq!(fit.statistic, statistic, "statistic");
    worst
}

fn check_regular_fit(text: &str) -> (RCase, GlmFit) {
    let case = RCase::load(text);
    let fit = case.fit();
    assert_matches_r(&case, &fit, &[]);
    assert_eq!(fit.separation, None, "no separation expected");
    (case, fit)
}

#[test]
fn lalonde_logit_matches_r() {
    let (_, fit) = check_regular_fit(include_str!(
        "../../../tests/reference/glm/lalonde_logit.json"
    ));
    assert!(fit.converged);
    assert!(fit.aliased.is_empty());
    // Wald intervals as R's `confint.default`: estimate ± qnorm(0.975) · SE, with the
    // estimates and SEs checked against R above.
    const QNORM_975: f64 = 1.959_963_984_540_053_6;
    for c in &fit.coefficients {
        assert_eq!(c.df, None);
        assert_close(
            &c.term,
            c.conf_low,
            c.estimate - QNORM_975 * c.std_error,
            EXACT,
        );
        assert_close(
            &c.term,
            c.conf_high,
            c.estimate + QNORM_975 * c.std_error,
            EXACT,
        );
    }
}

#[test]
fn lalonde_collinear_and_zero_columns_are_aliased_like_r() {
    let (case, fit) = check_regular_fit(include_str!(
        "../../../tests/reference/glm/lalonde_logit_collinear.json"
    ));
    assert_eq!(fit.aliased, ["age_plus_educ", "zero"]);
    for name in ["age_plus_educ", "zero"] {
        let c = fit
            .coefficients
            .iter()
            .find(|c| c.term == name)
            .expect("coefficient");
        assert!(c.estimate.is_nan() && c.std_error.is_nan());
    }
    assert_eq!(fit.vcov.nrows(), case.names.len() - 2);
}

#[test]
fn lalonde_zero_and_unequal_weights_match_r() {
    let (case, fit) = check_regular_fit(include_str!(
        "../../../tests/reference/glm/lalonde_logit_weights.json"
    ));
    let zero = case
        .weights
        .as_ref()
        .expect("weights")
        .iter()
        .filter(|&&w| w == 0.0)
        .count();
    assert_eq!(fit.df_null, case.y.len() - zero - 1);
}

#[test]
fn lalonde_stopped_at_max_iter_is_not_converged_like_r() {
    let (_, fit) = check_regular_fit(include_str!(
        "../../../tests/reference/glm/lalonde_logit_maxit3.json"
    ));
    assert!(!fit.converged);
    assert_eq!(fit.iterations, 3);
}

#[test]
fn lalonde_gaussian_matches_r() {
    let (_, fit) = check_regular_fit(include_str!(
        "../../../tests/reference/glm/lalonde_gaussian.json"
    ));
    assert_eq!(fit.statistic, WaldStatistic::T);
    assert!(
        (fit.dispersion - fit.deviance / fit.df_residual as f64).abs() <= 1e-9 * fit.dispersion
    );
}

#[test]
fn insurance_poisson_with_offset_matches_r() {
    // The null deviance is glm()'s refit of the intercept-only model with the offset.
    check_regular_fit(include_str!(
        "../../../tests/reference/glm/insurance_poisson_offset.json"
    ));
}

#[test]
fn insurance_poisson_with_offset_without_intercept_matches_r() {
    // No intercept: null deviance at mu = exp(offset), df_null = n.
    let (case, fit) = check_regular_fit(include_str!(
        "../../../tests/reference/glm/insurance_poisson_offset_nointercept.json"
    ));
    assert_eq!(fit.df_null, case.y.len());
}

#[test]
fn insurance_poisson_with_fractional_weights_matches_r() {
    check_regular_fit(include_str!(
        "../../../tests/reference/glm/insurance_poisson_weights.json"
    ));
}

#[test]
fn mtcars_weighted_gaussian_matches_r() {
    check_regular_fit(include_str!(
        "../../../tests/reference/glm/mtcars_gaussian_weights.json"
    ));
}

#[test]
fn budworm_proportions_with_trials_as_weights_match_r() {
    check_regular_fit(include_str!(
        "../../../tests/reference/glm/budworm_binomial_trials.json"
    ));
}

#[test]
fn wide_design_aliases_the_surplus_column_and_has_nan_standard_errors_like_r() {
    let case = RCase::load(include_str!(
        "../../../tests/reference/glm/wide_gaussian.json"
    ));
    let fit = case.fit();
    // The residual deviance is exactly 0 up to rounding (4 points, rank 4), so R's AIC
    // (log of that deviance) and the fitted-at-rounding deviance are not comparable.
    assert_matches_r(&case, &fit, &["aic", "deviance"]);
    assert!(fit.deviance < 1e-20);
    assert_eq!(fit.aliased, ["x4"]);
    assert_eq!(fit.df_residual, 0);
    assert!(fit.dispersion.is_nan());
    assert!(fit
        .coefficients
        .iter()
        .all(|c| c.std_error.is_nan() && c.p_value.is_nan()));
}

#[test]
fn complete_separation_is_reported_with_the_diverging_covariates() {
    let case = RCase::load(include_str!(
        "../../../tests/reference/glm/separation_complete.json"
    ));
    let fit = case.fit();
    // Same IRLS path as R, so even the diverged estimates agree.
    assert_matches_r(&case, &fit, &[]);
    let separation = fit.separation.expect("separation reported");
    assert_eq!(separation.covariates, ["x", "z"]);
    assert_eq!(separation.observations, 8);
}

#[test]
fn quasi_complete_separation_names_the_level_without_events() {
    let case = RCase::load(include_str!(
        "../../../tests/reference/glm/separation_quasi.json"
    ));
    let fit = case.fit();
    assert_matches_r(&case, &fit, &[]);
    let separation = fit.separation.expect("separation reported");
    assert_eq!(separation.covariates, ["gc"]);
    // The separated observations are exactly those of level c (all y = 0).
    assert_eq!(separation.observations, case.column("gc").sum() as usize);
}

#[test]
fn poisson_level_with_only_zero_counts_is_reported() {
    let case = RCase::load(include_str!(
        "../../../tests/reference/glm/separation_poisson.json"
    ));
    let fit = case.fit();
    assert_matches_r(&case, &fit, &[]);
    let separation = fit.separation.expect("separation reported");
    assert_eq!(separation.covariates, ["gc"]);
    assert_eq!(separation.observations, case.column("gc").sum() as usize);
}

#[test]
fn separation_is_reported_when_the_fit_stops_early() {
    let case = RCase::load(include_str!(
        "../../../tests/reference/glm/separation_complete.json"
    ));
    let options = GlmOptions {
        max_iter: 6,
        ..case.options
    };
    let fit = fit_glm(&case.x, &case.y, None, None, &case.names, &options).expect("fit");
    assert!(!fit.converged);
    let separation = fit.separation.expect("separation reported");
    assert!(separation.covariates.contains(&"x".to_string()));
}

/// Score of a canonical-link GLM: X' W_prior (y - mu).
fn score(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    weights: &DVector<f64>,
    mu: &DVector<f64>,
) -> DVector<f64> {
    let r = (y - mu).component_mul(weights);
    x.transpose() * r
}

#[test]
fn score_vanishes_at_the_solution() {
    for text in [
        include_str!("../../../tests/reference/glm/lalonde_logit_weights.json"),
        include_str!("../../../tests/reference/glm/insurance_poisson_offset.json"),
        include_str!("../../../tests/reference/glm/mtcars_gaussian_weights.json"),
        include_str!("../../../tests/reference/glm/budworm_binomial_trials.json"),
    ] {
        let case = RCase::load(text);
        let fit = case.fit();
        let w = case
            .weights
            .clone()
            .unwrap_or_else(|| DVector::from_element(case.y.len(), 1.0));
        let g = score(&case.x, &case.y, &w, &fit.fitted);
        for j in 0..case.x.ncols() {
            // Scale: the same sum with absolute values, so the check is unit-free.
            let scale: f64 = (0..case.y.len())
                .map(|i| (case.x[(i, j)] * w[i] * (case.y[i] - fit.fitted[i])).abs())
                .sum();
            assert!(
                g[j].abs() <= 1e-6 * scale,
                "{}: score[{j}] = {:e} (scale {scale:e})",
                case.json["r_call"],
                g[j]
            );
        }
    }
}

#[test]
fn permuting_rows_does_not_change_the_fit() {
    let case = RCase::load(include_str!(
        "../../../tests/reference/glm/insurance_poisson_offset.json"
    ));
    let n = case.y.len();
    let order: Vec<usize> = (0..n).map(|i| (i * 37 + 11) % n).collect(); // 37 is coprime to 64
    let x = DMatrix::from_fn(n, case.x.ncols(), |i, j| case.x[(order[i], j)]);
    let y = DVector::from_fn(n, |i, _| case.y[order[i]]);
    let offset = case
        .offset
        .as_ref()
        .map(|o| DVector::from_fn(n, |i, _| o[order[i]]));
    let permuted = fit_glm(&x, &y, None, offset.as_ref(), &case.names, &case.options).expect("fit");
    let original = case.fit();
    assert!(
        max_rel_diff(
            permuted.estimates().as_slice(),
            original.estimates().as_slice()
        ) < 1e-10
    );
    assert!(rel_diff(permuted.deviance, original.deviance) < EXACT);
    assert_eq!(permuted.iterations, original.iterations);
}

/// The fitted value and its derivative from one exponential are those of the inverse
/// link and `mu.eta` to the bit, at and beyond R's clamping thresholds too.
#[test]
fn mean_and_slope_are_the_inverse_link_and_its_derivative() {
    let mut etas = vec![
        -30.0, 30.0, -30.000001, 30.000001, 0.0, -0.0, 1e-300, -745.0, 710.0,
    ];
    etas.extend((-4000..=4000).map(|k| f64::from(k) * 0.0123));
    etas.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
    for family in [Family::Binomial, Family::Poisson, Family::Gaussian] {
        for &eta in &etas {
            let (mu, slope) = family.mean_and_slope(eta);
            let bits = |v: f64| if v.is_nan() { u64::MAX } else { v.to_bits() };
            assert_eq!(
                bits(mu),
                bits(family.inverse_link(eta)),
                "{family:?} mu at {eta}"
            );
            assert_eq!(
                bits(slope),
                bits(family.mu_eta(eta)),
                "{family:?} slope at {eta}"
            );
        }
    }
}
