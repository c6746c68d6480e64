//! Mixed models on synthetic data with known truth, and the timing test of issue 5.

use super::tests::{dataset, fit_formula, text_column};
use super::*;
use crate::stats::design::ColumnData;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// `y = 5 + 0.5 t + b0 + b1 t + ε`, `t = 0..obs`, `(b0, b1)` with SDs (1, 0.3) and
/// correlation 0.2, `ε` with SD 0.7.
fn simulate_slopes(subjects: usize, obs: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let std = Normal::new(0.0, 1.0).expect("normal");
    let mut y = Vec::with_capacity(subjects * obs);
    let mut t = Vec::with_capacity(subjects * obs);
    let mut id = Vec::with_capacity(subjects * obs);
    for s in 0..subjects {
        let z0: f64 = std.sample(&mut rng);
        let z1: f64 = std.sample(&mut rng);
        let b0 = 1.0 * z0;
        let b1 = 0.3 * (0.2 * z0 + (1.0f64 - 0.04).sqrt() * z1);
        for j in 0..obs {
            let tj = j as f64;
            let e: f64 = std.sample(&mut rng);
            y.push(5.0 + 0.5 * tj + b0 + b1 * tj + 0.7 * e);
            t.push(tj);
            id.push(s as u32);
        }
    }
    (y, t, id)
}

fn slope_model_inputs(
    y: &[f64],
    t: &[f64],
    id: &[u32],
    subjects: usize,
) -> (Design, Vec<RandomEffectBlock>) {
    let n = y.len();
    let x = DMatrix::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { t[i] });
    let design = Design {
        x: x.clone(),
        column_names: vec!["(Intercept)".into(), "t".into()],
        response: Some(nalgebra::DVector::from_column_slice(y)),
        rows: (0..n).collect(),
        dropped_rows: 0,
        assign: vec![0, 1],
        term_labels: vec!["t".into()],
    };
    let block = RandomEffectBlock {
        term: "1 + t | id".into(),
        group_name: "id".into(),
        group_codes: id.to_vec(),
        group_levels: (0..subjects).map(|s| s.to_string()).collect(),
        z: x,
        column_names: vec!["(Intercept)".into(), "t".into()],
        correlated: true,
    };
    (design, vec![block])
}

#[test]
fn synthetic_random_slopes_recover_the_truth() {
    let subjects = 2000;
    let (y, t, id) = simulate_slopes(subjects, 4, 7);
    let (design, random) = slope_model_inputs(&y, &t, &id, subjects);
    let fit = fit_lmm(&design, &random, &LmmOptions::default()).expect("fit");
    assert!(fit.converged && !fit.singular, "{:?}", fit.messages);
    for (f, truth) in fit.fixed_effects.iter().zip([5.0, 0.5]) {
        assert!(f.conf_low < truth && truth < f.conf_high, "{f:?}");
    }
    let sd: Vec<f64> = fit.random_effects.iter().map(|c| c.std_dev).collect();
    assert!(
        (sd[0] - 1.0).abs() < 0.06 && (sd[1] - 0.3).abs() < 0.03,
        "{sd:?}"
    );
    assert!((fit.sigma - 0.7).abs() < 0.02, "{}", fit.sigma);
    assert!((fit.correlations[0].correlation - 0.2).abs() < 0.15);
}

#[test]
fn synthetic_nested_practices_recover_the_truth() {
    // y = 2 + u_practice + v_person + ε with SDs 0.5, 1, 0.8: 40 practices × 25 persons × 3.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let std = Normal::new(0.0, 1.0).expect("normal");
    let (mut y, mut person, mut practice) = (Vec::new(), Vec::new(), Vec::new());
    for g in 0..40u32 {
        let u: f64 = 0.5 * std.sample(&mut rng);
        for k in 0..25u32 {
            let v: f64 = std.sample(&mut rng);
            let visits = 1 + rng.random_range(0..3usize);
            for _ in 0..visits {
                let e: f64 = std.sample(&mut rng);
                y.push(2.0 + u + v + 0.8 * e);
                person.push(format!("p{g:02}_{k:02}"));
                practice.push(format!("gp{g:02}"));
            }
        }
    }
    let d = dataset(vec![
        ("y", ColumnData::Numeric(y)),
        (
            "person",
            text_column(&person.iter().map(String::as_str).collect::<Vec<_>>()),
        ),
        (
            "practice",
            text_column(&practice.iter().map(String::as_str).collect::<Vec<_>>()),
        ),
    ]);
    let fit =
        fit_formula("y ~ 1 + (1 | practice/person)", &d, &LmmOptions::default()).expect("fit");
    assert!(fit.converged, "{:?}", fit.messages);
    let f = &fit.fixed_effects[0];
    assert!(f.conf_low < 2.0 && 2.0 < f.conf_high, "{f:?}");
    assert_eq!(fit.random_effects[0].group, "person:practice");
    assert!(
        (fit.random_effects[0].std_dev - 1.0).abs() < 0.15,
        "{:?}",
        fit.random_effects
    );
    assert!(
        (fit.random_effects[1].std_dev - 0.5).abs() < 0.25,
        "{:?}",
        fit.random_effects
    );
    assert!((fit.sigma - 0.8).abs() < 0.08);
}

/// Issue 5's target: `y ~ t + (1 + t | id)` on 100 000 subjects × 4 observations.
/// Run with `cargo test --release -- --ignored lmm_large_random_slopes --nocapture`.
/// With `SHINE_LMM_BENCH_CSV=/tmp/lmm_bench.csv` the data are also written there for
/// tests/reference/lmm/bench_lmer.R; `SHINE_LMM_BENCH_SUBJECTS` changes the number of
/// subjects (to check that memory grows linearly).
#[test]
#[ignore]
fn lmm_large_random_slopes_timing() {
    let subjects = std::env::var("SHINE_LMM_BENCH_SUBJECTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let (y, t, id) = simulate_slopes(subjects, 4, 20240605);
    if let Ok(path) = std::env::var("SHINE_LMM_BENCH_CSV") {
        let mut s = String::from("y,t,id\n");
        for i in 0..y.len() {
            s.push_str(&format!("{:?},{},{}\n", y[i], t[i], id[i]));
        }
        std::fs::write(&path, s).expect("write CSV");
    }
    let (design, random) = slope_model_inputs(&y, &t, &id, subjects);
    for (label, df) in [
        ("residual df (as lme4::lmer)", DfMethod::Residual),
        (
            "Satterthwaite (as lmerTest::lmer + summary)",
            DfMethod::Satterthwaite,
        ),
    ] {
        let options = LmmOptions {
            df,
            ..LmmOptions::default()
        };
        let start = std::time::Instant::now();
        let fit = fit_lmm(&design, &random, &options).expect("fit");
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "{label}: {secs:.3} s, {} evaluations, REML {:.6}, theta {:?}, beta {:?}, df {:?}",
            fit.evaluations,
            fit.reml_criterion.unwrap_or(f64::NAN),
            fit.theta,
            fit.coefficients(),
            fit.fixed_effects.iter().map(|f| f.df).collect::<Vec<_>>()
        );
        assert!(fit.converged);
    }
}
