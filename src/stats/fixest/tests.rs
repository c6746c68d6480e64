//! Properties and errors of [`fit_fe`] on simulated panels: invariances (a constant
//! added to the outcome, permuted rows, the number of threads, sparse codes), the
//! demeaning's orthogonality, the drops, and clear errors for bad input.

use std::borrow::Cow;

use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

use super::demean::Workspace;
use super::index::FixedEffectIndex;
use super::{fit_fe, FeError, FeFamily, FeFit, FeModel, Vcov};
use crate::test_support::{rel_diff, CONVERGED};

/// A person × period panel with treatment from period `t0` for half the units,
/// dropping some rows at random (unbalanced), with counts, an outcome, exposure.
struct Panel {
    unit: Vec<u32>,
    period: Vec<u32>,
    pair: Vec<u32>,
    treated_post: Vec<f64>,
    x2: Vec<f64>,
    y: Vec<f64>,
    count: Vec<f64>,
    log_exposure: Vec<f64>,
    weight: Vec<f64>,
}

fn panel(units: usize, periods: usize, seed: u64) -> Panel {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut p = Panel {
        unit: Vec::new(),
        period: Vec::new(),
        pair: Vec::new(),
        treated_post: Vec::new(),
        x2: Vec::new(),
        y: Vec::new(),
        count: Vec::new(),
        log_exposure: Vec::new(),
        weight: Vec::new(),
    };
    let t0 = periods / 2;
    for u in 0..units {
        let a: f64 = rng.sample::<f64, _>(StandardNormal) * 0.5;
        let treated = u % 2 == 1;
        for t in 0..periods {
            if rng.random_bool(0.1) {
                continue;
            }
            let tp = if treated && t >= t0 { 1.0 } else { 0.0 };
            let x2: f64 = rng.sample::<f64, _>(StandardNormal) + 0.1 * t as f64;
            let exposure: f64 = rng.random_range(0.3..1.0);
            let eta = -0.3 + a + 0.05 * t as f64 + 0.25 * tp + 0.1 * x2;
            let lambda = exposure * eta.exp();
            let count = Poisson::new(lambda).map_or(0.0, |d| d.sample(&mut rng));
            let noise: f64 = rng.sample(StandardNormal);
            p.unit.push(u as u32);
            p.period.push(t as u32);
            p.pair.push((u / 2) as u32);
            p.treated_post.push(tp);
            p.x2.push(x2);
            p.y.push(2.0 + a + 0.1 * t as f64 + 0.5 * tp + 0.3 * x2 + noise);
            p.count.push(count);
            p.log_exposure.push(exposure.ln());
            p.weight.push(rng.random_range(0.5..2.0));
        }
    }
    p
}

fn regressors(p: &Panel) -> (DMatrix<f64>, Vec<String>) {
    let n = p.y.len();
    let x = DMatrix::from_fn(
        n,
        2,
        |i, j| if j == 0 { p.treated_post[i] } else { p.x2[i] },
    );
    (x, vec!["treated_post".to_string(), "x2".to_string()])
}

fn fes(p: &Panel) -> Vec<(String, Vec<u32>)> {
    vec![
        ("unit".to_string(), p.unit.clone()),
        ("period".to_string(), p.period.clone()),
    ]
}

pub(super) fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

fn assert_same_fit(a: &FeFit, b: &FeFit, tol: f64) {
    assert_eq!(a.coefficients.len(), b.coefficients.len());
    for (x, y) in a.coefficients.iter().zip(&b.coefficients) {
        assert_eq!(x.term, y.term);
        assert!(
            rel_diff(x.estimate, y.estimate) < tol,
            "{}: {} vs {}",
            x.term,
            x.estimate,
            y.estimate
        );
        assert!(
            rel_diff(x.std_error, y.std_error) < tol,
            "{}: {} vs {}",
            x.term,
            x.std_error,
            y.std_error
        );
    }
    assert_eq!(a.n_obs, b.n_obs);
    assert_eq!(a.dropped, b.dropped);
}

#[test]
fn adding_a_constant_to_the_outcome_leaves_the_did_unchanged() {
    for seed in 0..10 {
        let p = panel(40, 8, seed);
        let (x, names) = regressors(&p);
        let cluster = Vcov::Cluster(vec![("unit".to_string(), p.unit.clone())]);
        let model = FeModel::default();
        let base = ok(fit_fe(
            &p.y,
            &x,
            &names,
            &fes(&p),
            Some(&p.weight),
            None,
            &cluster,
            &model,
        ));
        let shift = 1000.0 * (seed as f64 - 4.5);
        let shifted: Vec<f64> = p.y.iter().map(|v| v + shift).collect();
        let moved = ok(fit_fe(
            &shifted,
            &x,
            &names,
            &fes(&p),
            Some(&p.weight),
            None,
            &cluster,
            &model,
        ));
        assert_same_fit(&base, &moved, CONVERGED);
    }
}

#[test]
fn permuting_rows_leaves_the_results_unchanged() {
    for (seed, family) in [
        (1, FeFamily::Gaussian),
        (2, FeFamily::Poisson),
        (3, FeFamily::Poisson),
    ] {
        let p = panel(60, 10, seed);
        let n = p.y.len();
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            perm.swap(i, j);
        }
        let outcome = if family == FeFamily::Gaussian {
            &p.y
        } else {
            &p.count
        };
        let pf = |v: &[f64]| -> Vec<f64> { perm.iter().map(|&i| v[i]).collect() };
        let pu = |v: &[u32]| -> Vec<u32> { perm.iter().map(|&i| v[i]).collect() };
        let (x, names) = regressors(&p);
        let xp = DMatrix::from_fn(n, 2, |i, j| x[(perm[i], j)]);
        let model = FeModel::new(family);
        for vcov_of in [0, 1, 2] {
            let make = |unit: Vec<u32>, period: Vec<u32>| match vcov_of {
                0 => Vcov::Hc1,
                1 => Vcov::Cluster(vec![("unit".to_string(), unit)]),
                _ => Vcov::Cluster(vec![
                    ("unit".to_string(), unit),
                    ("period".to_string(), period),
                ]),
            };
            let a = ok(fit_fe(
                outcome,
                &x,
                &names,
                &fes(&p),
                Some(&p.weight),
                Some(&p.log_exposure),
                &make(p.unit.clone(), p.period.clone()),
                &model,
            ));
            let fe_perm = vec![
                ("unit".to_string(), pu(&p.unit)),
                ("period".to_string(), pu(&p.period)),
            ];
            let b = ok(fit_fe(
                &pf(outcome),
                &xp,
                &names,
                &fe_perm,
                Some(&pf(&p.weight)),
                Some(&pf(&p.log_exposure)),
                &make(pu(&p.unit), pu(&p.period)),
                &model,
            ));
            assert_same_fit(&a, &b, CONVERGED);
            let mut mapped: Vec<usize> = b.kept_rows.iter().map(|&i| perm[i]).collect();
            mapped.sort_unstable();
            assert_eq!(mapped, a.kept_rows);
        }
    }
}

#[test]
fn demeaned_columns_are_orthogonal_to_every_fixed_effect() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = 3000;
    for n_fe in 1..=3 {
        let sizes = [150usize, 12, 7];
        let codes: Vec<Vec<u32>> = (0..n_fe)
            .map(|q| {
                (0..n)
                    .map(|i| {
                        if i < sizes[q] {
                            i as u32
                        } else {
                            rng.random_range(0..sizes[q] as u32)
                        }
                    })
                    .collect()
            })
            .collect();
        let w: Vec<f64> = (0..n).map(|_| rng.random_range(0.1..3.0)).collect();
        let v0: Vec<f64> = (0..n)
            .map(|i| rng.sample::<f64, _>(StandardNormal) + (codes[0][i] % 5) as f64)
            .collect();
        let index = FixedEffectIndex::new(codes.iter().map(|c| Cow::Borrowed(&c[..])).collect(), n);
        for weights in [None, Some(&w[..])] {
            let lw = index.level_weights(weights);
            let mut v = v0.clone();
            let mut coef = vec![0.0; index.n_coef()];
            let d = index.demean(
                &lw,
                &mut v,
                &mut coef,
                &mut Workspace::default(),
                1e-12,
                10_000,
            );
            assert!(d.converged);
            for c in &codes {
                let levels = c.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
                let mut sums = vec![0.0; levels];
                for i in 0..n {
                    sums[c[i] as usize] += weights.map_or(1.0, |w| w[i]) * v[i];
                }
                let worst = sums.iter().fold(0.0_f64, |m, s| m.max(s.abs()));
                assert!(worst < 1e-8 * d.scale * n as f64, "n_fe {n_fe}: {worst}");
            }
            // The residual plus the fixed effects gives back the column.
            for i in 0..n {
                let fe: f64 = (0..index.n_fe())
                    .map(|q| coef[index.offsets[q] + index.codes[q][i] as usize])
                    .sum();
                assert!((v[i] + fe - v0[i]).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn threads_do_not_change_a_single_bit() {
    let p = panel(80, 12, 11);
    let (x, names) = regressors(&p);
    let vcov = Vcov::Cluster(vec![("pair".to_string(), p.pair.clone())]);
    for family in [FeFamily::Gaussian, FeFamily::Poisson] {
        let outcome = if family == FeFamily::Gaussian {
            &p.y
        } else {
            &p.count
        };
        let model = FeModel::new(family);
        let fit_on = |threads: usize| {
            ok(rayon::ThreadPoolBuilder::new().num_threads(threads).build()).install(|| {
                ok(fit_fe(
                    outcome,
                    &x,
                    &names,
                    &fes(&p),
                    None,
                    Some(&p.log_exposure),
                    &vcov,
                    &model,
                ))
            })
        };
        let a = fit_on(1);
        let b = fit_on(2);
        assert_eq!(a, b);
    }
}

#[test]
fn poisson_without_fixed_effects_is_glm() {
    use crate::stats::glm::{fit_glm, Family, GlmOptions};
    let p = panel(30, 6, 5);
    let n = p.y.len();
    let x = DMatrix::from_fn(n, 3, |i, j| match j {
        0 => 1.0,
        1 => p.treated_post[i],
        _ => p.x2[i],
    });
    let names = vec![
        "(Intercept)".to_string(),
        "treated_post".to_string(),
        "x2".to_string(),
    ];
    let fit = ok(fit_fe(
        &p.count,
        &x,
        &names,
        &[],
        None,
        Some(&p.log_exposure),
        &Vcov::Iid,
        &FeModel::new(FeFamily::Poisson),
    ));
    let glm = ok(fit_glm(
        &x,
        &DVector::from_vec(p.count.clone()),
        None,
        Some(&DVector::from_vec(p.log_exposure.clone())),
        &names,
        &GlmOptions::new(Family::Poisson),
    ));
    // pyfixest's iid variance for fepois carries the factor (N − 1)/(N − k); R's
    // glm takes the weights of its last iteration, one step behind the solution
    // used here, which moves the standard errors by ~1e-5.
    let factor = ((n as f64 - 1.0) / (n as f64 - 3.0)).sqrt();
    for (a, b) in fit.coefficients.iter().zip(&glm.coefficients) {
        assert!(
            rel_diff(a.estimate, b.estimate) < CONVERGED,
            "{} {}",
            a.estimate,
            b.estimate
        );
        assert!(
            rel_diff(a.std_error, b.std_error * factor) < 1e-4,
            "{} {}",
            a.std_error,
            b.std_error
        );
    }
}

#[test]
fn a_regressor_collinear_with_the_fixed_effects_is_dropped_and_named() {
    let p = panel(30, 6, 9);
    let n = p.y.len();
    let treated: Vec<f64> = p.unit.iter().map(|&u| (u % 2) as f64).collect();
    let x = DMatrix::from_fn(n, 3, |i, j| match j {
        0 => 1.0,
        1 => p.treated_post[i],
        _ => treated[i],
    });
    let names = vec![
        "(Intercept)".to_string(),
        "treated_post".to_string(),
        "treated".to_string(),
    ];
    for family in [FeFamily::Gaussian, FeFamily::Poisson] {
        let outcome = if family == FeFamily::Gaussian {
            &p.y
        } else {
            &p.count
        };
        let fit = ok(fit_fe(
            outcome,
            &x,
            &names,
            &fes(&p),
            None,
            None,
            &Vcov::Iid,
            &FeModel::new(family),
        ));
        assert_eq!(fit.collinear, ["treated"]);
        let terms: Vec<&str> = fit.coefficients.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, ["treated_post"]);
    }
}

#[test]
fn bad_input_gives_clear_errors() {
    let p = panel(20, 6, 3);
    let n = p.y.len();
    let (x, names) = regressors(&p);
    let pois = FeModel::new(FeFamily::Poisson);
    let ols = FeModel::default();

    let mut negative = p.count.clone();
    negative[5] = -1.0;
    let e = fit_fe(
        &negative,
        &x,
        &names,
        &fes(&p),
        None,
        None,
        &Vcov::Iid,
        &pois,
    );
    assert_eq!(
        e,
        Err(FeError::NegativeOutcome {
            row: 5,
            value: -1.0
        })
    );

    let mut missing = x.clone();
    missing[(3, 1)] = f64::NAN;
    match fit_fe(
        &p.y,
        &missing,
        &names,
        &fes(&p),
        None,
        None,
        &Vcov::Iid,
        &ols,
    ) {
        Err(FeError::NonFinite { variable, row, .. }) => {
            assert_eq!((variable.as_str(), row), ("x2", 3))
        }
        other => panic!("{other:?}"),
    }

    let single = vec![
        ("country".to_string(), vec![0u32; n]),
        ("unit".to_string(), p.unit.clone()),
    ];
    let e = fit_fe(&p.y, &x, &names, &single, None, None, &Vcov::Iid, &ols);
    assert_eq!(
        e,
        Err(FeError::SingleLevelFixedEffect {
            name: "country".to_string()
        })
    );
    let message = FeError::SingleLevelFixedEffect {
        name: "country".to_string(),
    }
    .to_string();
    assert!(message.contains("`country`") && message.contains("single level"));

    let zeros = vec![0.0; n];
    match fit_fe(&zeros, &x, &names, &fes(&p), None, None, &Vcov::Iid, &pois) {
        Err(FeError::NoObservations { n_input, dropped }) => {
            assert_eq!(n_input, n);
            assert_eq!(dropped.separated, n);
        }
        other => panic!("{other:?}"),
    }

    let three = Vcov::Cluster(vec![
        ("unit".to_string(), p.unit.clone()),
        ("period".to_string(), p.period.clone()),
        ("pair".to_string(), p.pair.clone()),
    ]);
    let e = fit_fe(&p.y, &x, &names, &fes(&p), None, None, &three, &ols);
    assert_eq!(e, Err(FeError::ClusterCount { found: 3 }));

    let short = &p.y[..n - 1];
    assert!(matches!(
        fit_fe(short, &x, &names, &fes(&p), None, None, &Vcov::Iid, &ols),
        Err(FeError::DimensionMismatch { .. })
    ));

    let only_fe = DMatrix::from_element(n, 1, 1.0);
    let e = fit_fe(
        &p.y,
        &only_fe,
        &["(Intercept)".to_string()],
        &fes(&p),
        None,
        None,
        &Vcov::Iid,
        &ols,
    );
    assert_eq!(e, Err(FeError::NoRegressors));

    let period_x = DMatrix::from_fn(n, 1, |i, _| p.period[i] as f64);
    let e = fit_fe(
        &p.y,
        &period_x,
        &["t".to_string()],
        &fes(&p),
        None,
        None,
        &Vcov::Iid,
        &ols,
    );
    assert_eq!(
        e,
        Err(FeError::AllCollinear {
            names: vec!["t".to_string()]
        })
    );

    let bad = FeModel {
        fixef_tolerance: 0.0,
        ..ols
    };
    assert!(matches!(
        fit_fe(&p.y, &x, &names, &fes(&p), None, None, &Vcov::Iid, &bad),
        Err(FeError::InvalidOption {
            name: "fixef_tolerance",
            ..
        })
    ));

    let fit = ok(fit_fe(
        &p.y,
        &x,
        &names,
        &fes(&p),
        None,
        None,
        &Vcov::Iid,
        &ols,
    ));
    assert_eq!(
        fit.wald_test(&["nope"]),
        Err(FeError::UnknownTerm {
            name: "nope".to_string()
        })
    );
}

#[test]
fn non_convergence_is_reported_not_an_error() {
    let p = panel(30, 8, 21);
    let (x, names) = regressors(&p);
    let model = FeModel {
        irls_max_iter: 2,
        ..FeModel::new(FeFamily::Poisson)
    };
    let fit = ok(fit_fe(
        &p.count,
        &x,
        &names,
        &fes(&p),
        None,
        Some(&p.log_exposure),
        &Vcov::Iid,
        &model,
    ));
    assert!(!fit.converged);
    assert_eq!(fit.iterations, 2);
    let full = ok(fit_fe(
        &p.count,
        &x,
        &names,
        &fes(&p),
        None,
        Some(&p.log_exposure),
        &Vcov::Iid,
        &FeModel::new(FeFamily::Poisson),
    ));
    assert!(full.converged);
    assert!(full.iterations > 2 && full.iterations <= 25);
}

#[test]
fn sparse_codes_give_the_same_fit() {
    let p = panel(40, 6, 13);
    let (x, names) = regressors(&p);
    let dense = fes(&p);
    let sparse: Vec<(String, Vec<u32>)> = dense
        .iter()
        .map(|(n, c)| {
            (
                n.clone(),
                c.iter().map(|&v| 4_000_000_000 - 7 * v).collect(),
            )
        })
        .collect();
    let vcov = |f: &[(String, Vec<u32>)]| Vcov::Cluster(vec![f[0].clone()]);
    let model = FeModel::new(FeFamily::Poisson);
    let a = ok(fit_fe(
        &p.count,
        &x,
        &names,
        &dense,
        None,
        None,
        &vcov(&dense),
        &model,
    ));
    let b = ok(fit_fe(
        &p.count,
        &x,
        &names,
        &sparse,
        None,
        None,
        &vcov(&sparse),
        &model,
    ));
    assert_same_fit(&a, &b, 1e-10);
}

#[test]
fn singletons_are_dropped_repeatedly() {
    // Unit 2 has one row; dropping it leaves period 3 with one row (unit 0's).
    let unit = vec![0, 0, 0, 1, 1, 1, 2, 3, 3, 4, 4];
    let period = vec![0, 1, 3, 0, 1, 2, 2, 0, 1, 1, 2];
    let n = unit.len();
    let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
    let x = DMatrix::from_fn(n, 1, |i, _| (i as f64 * 1.3).cos());
    let fe = vec![("unit".to_string(), unit), ("period".to_string(), period)];
    let fit = ok(fit_fe(
        &y,
        &x,
        &["x".to_string()],
        &fe,
        None,
        None,
        &Vcov::Iid,
        &FeModel::default(),
    ));
    assert_eq!(fit.dropped.singletons, 2);
    assert_eq!(fit.kept_rows, [0, 1, 3, 4, 5, 7, 8, 9, 10]);
    let keep_all = FeModel {
        drop_singletons: false,
        ..FeModel::default()
    };
    let fit = ok(fit_fe(
        &y,
        &x,
        &["x".to_string()],
        &fe,
        None,
        None,
        &Vcov::Iid,
        &keep_all,
    ));
    assert_eq!(fit.n_obs, n);
}
