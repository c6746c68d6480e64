//! The weighted wild cluster bootstrap against wildboottest 0.3.2 on √w-transformed data
//! (tests/reference/wild_bootstrap/make_weighted_reference.py, which also wrote the
//! panels), its invariants, and a coverage study with 8 clusters beside CR1.

use nalgebra::DMatrix;
use serde_json::Value;

use super::{
    fit_fe, wild_cluster_bootstrap, wild_cluster_bootstrap_weighted, BootstrapWeights, FeFamily,
    FeFit, FeModel, Vcov, WildBootstrap, WildBootstrapError, WildBootstrapOptions,
};
use crate::test_support::{assert_close, CONVERGED};

/// A weighted panel of the reference script and the weighted fit of
/// `y ~ treated_post | unit + period`, CR1 by practice.
struct Case {
    y: Vec<f64>,
    x: DMatrix<f64>,
    names: Vec<String>,
    fixed_effects: Vec<(String, Vec<u32>)>,
    weights: Vec<f64>,
    cluster: Vec<u32>,
    fit: FeFit,
}

fn panel_csv(name: &str) -> &'static str {
    match name {
        "w6" => include_str!("../../../tests/reference/wild_bootstrap/weighted_panel_w6.csv"),
        "w8" => include_str!("../../../tests/reference/wild_bootstrap/weighted_panel_w8.csv"),
        "w12" => include_str!("../../../tests/reference/wild_bootstrap/weighted_panel_w12.csv"),
        other => panic!("panel {other}"),
    }
}

fn fit_weighted(
    y: &[f64],
    x: &DMatrix<f64>,
    names: &[String],
    fixed_effects: &[(String, Vec<u32>)],
    weights: &[f64],
    cluster: &[u32],
) -> FeFit {
    fit_fe(
        y,
        x,
        names,
        fixed_effects,
        Some(weights),
        None,
        &Vcov::Cluster(vec![("practice".into(), cluster.to_vec())]),
        &FeModel::new(FeFamily::Gaussian),
    )
    .expect("fit")
}

fn load(name: &str) -> Case {
    let mut reader = csv::Reader::from_reader(panel_csv(name).as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); header.len()];
    for rec in reader.records() {
        for (j, v) in rec.expect("record").iter().enumerate() {
            cols[j].push(v.parse().expect("number"));
        }
    }
    let col = |n: &str| cols[header.iter().position(|h| h == n).expect(n)].clone();
    let codes = |n: &str| col(n).iter().map(|&v| v as u32).collect::<Vec<u32>>();
    let y = col("y");
    let x = DMatrix::from_column_slice(y.len(), 1, &col("treated_post"));
    let names = vec!["treated_post".to_string()];
    let fixed_effects = vec![
        ("unit".to_string(), codes("unit")),
        ("period".to_string(), codes("period")),
    ];
    let weights = col("weight");
    let cluster = codes("practice");
    let fit = fit_weighted(&y, &x, &names, &fixed_effects, &weights, &cluster);
    Case {
        y,
        x,
        names,
        fixed_effects,
        weights,
        cluster,
        fit,
    }
}

fn options(weights: BootstrapWeights, reps: usize, seed: u64) -> WildBootstrapOptions {
    WildBootstrapOptions {
        weights,
        reps,
        seed,
        confidence_level: 0.95,
    }
}

fn bootstrap(case: &Case, weights: &[f64], opts: &WildBootstrapOptions) -> WildBootstrap {
    wild_cluster_bootstrap_weighted(
        &case.fit,
        &case.y,
        &case.x,
        &case.names,
        &case.fixed_effects,
        None,
        Some(weights),
        &case.cluster,
        "treated_post",
        opts,
    )
    .expect("bootstrap")
}

fn reference_runs() -> Vec<Value> {
    let json: Value = serde_json::from_str(include_str!(
        "../../../tests/reference/wild_bootstrap/wildboottest_weighted_reference.json"
    ))
    .expect("reference JSON");
    json["runs"].as_array().expect("runs").clone()
}

/// The weighted fit's estimate is the OLS estimate on the √w-transformed dummy design
/// that the reference bootstrapped; under full enumeration the p-value is a count over
/// the same 2^G sign vectors and must equal wildboottest's (round-off ties at |t*| = |t|
/// left out, as for the unweighted comparison).
#[test]
fn weighted_rademacher_enumeration_equals_wildboottest_on_root_w_data() {
    let mut checked = 0;
    for run in reference_runs() {
        if !run["full_enumeration"].as_bool().expect("flag") {
            continue;
        }
        let panel = run["panel"].as_str().expect("panel");
        let case = load(panel);
        assert_close(
            &format!("{panel}: weighted estimate"),
            case.fit.coefficients[0].estimate,
            run["estimate"].as_f64().expect("estimate"),
            CONVERGED,
        );
        let b = bootstrap(
            &case,
            &case.weights,
            &options(BootstrapWeights::Rademacher, 9999, 1),
        );
        assert!(b.full_enumeration);
        assert_eq!(b.draws as u64, run["draws"].as_u64().expect("draws"));
        let reference = run["p_value_without_ties"].as_f64().expect("p");
        assert_eq!(b.p_value, reference, "{panel}: p-value");
        checked += 1;
    }
    assert_eq!(checked, 3, "w6, w8 and w12 are enumerated");
}

/// Webb draws: independent Monte Carlo estimates from B = 9999 draws each, equal within
/// 4 standard errors of their difference.
#[test]
fn weighted_webb_draws_agree_with_wildboottest_within_monte_carlo_error() {
    let mut checked = 0;
    for run in reference_runs() {
        if run["weights"].as_str() != Some("webb") {
            continue;
        }
        let panel = run["panel"].as_str().expect("panel");
        let case = load(panel);
        let b = bootstrap(
            &case,
            &case.weights,
            &options(BootstrapWeights::Webb, 9999, 7),
        );
        let reference = run["p_value_without_ties"].as_f64().expect("p");
        let se = (2.0 * reference * (1.0 - reference) / 9999.0)
            .sqrt()
            .max(1e-4);
        assert!(
            (b.p_value - reference).abs() <= 4.0 * se,
            "{panel}: {} vs wildboottest {reference} (MC se {se:.4})",
            b.p_value
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
}

/// Weights of one are the unweighted bootstrap, and weights scaled by a constant change
/// nothing (the weighted fit and its t are scale-free in the weights).
#[test]
fn unit_weights_are_the_unweighted_bootstrap_and_scaling_the_weights_changes_nothing() {
    let case = load("w8");
    let ones = vec![1.0; case.y.len()];
    let unweighted_fit = fit_fe(
        &case.y,
        &case.x,
        &case.names,
        &case.fixed_effects,
        None,
        None,
        &Vcov::Cluster(vec![("practice".into(), case.cluster.clone())]),
        &FeModel::new(FeFamily::Gaussian),
    )
    .expect("fit");
    let opts = options(BootstrapWeights::Rademacher, 9999, 1);
    let plain = wild_cluster_bootstrap(
        &unweighted_fit,
        &case.y,
        &case.x,
        &case.names,
        &case.fixed_effects,
        None,
        &case.cluster,
        "treated_post",
        &opts,
    )
    .expect("bootstrap");
    let with_ones = bootstrap(&case, &ones, &opts);
    assert_eq!(plain.p_value, with_ones.p_value);
    assert_close("lower limit", with_ones.conf_low, plain.conf_low, 1e-7);
    assert_close("upper limit", with_ones.conf_high, plain.conf_high, 1e-7);

    let weighted = bootstrap(&case, &case.weights, &opts);
    let scaled: Vec<f64> = case.weights.iter().map(|w| 3.5 * w).collect();
    let scaled_fit = fit_weighted(
        &case.y,
        &case.x,
        &case.names,
        &case.fixed_effects,
        &scaled,
        &case.cluster,
    );
    let rescaled = wild_cluster_bootstrap_weighted(
        &scaled_fit,
        &case.y,
        &case.x,
        &case.names,
        &case.fixed_effects,
        None,
        Some(&scaled),
        &case.cluster,
        "treated_post",
        &opts,
    )
    .expect("bootstrap");
    assert_eq!(weighted.p_value, rescaled.p_value);
    assert_close("lower limit", rescaled.conf_low, weighted.conf_low, 1e-7);
    assert_close("upper limit", rescaled.conf_high, weighted.conf_high, 1e-7);
    // The weights matter: the weighted and unweighted p-values differ on this panel.
    assert_ne!(weighted.p_value, plain.p_value);
}

#[test]
fn weights_of_the_wrong_length_or_negative_are_refused() {
    let case = load("w6");
    let opts = options(BootstrapWeights::Rademacher, 999, 1);
    let run = |w: &[f64]| {
        wild_cluster_bootstrap_weighted(
            &case.fit,
            &case.y,
            &case.x,
            &case.names,
            &case.fixed_effects,
            None,
            Some(w),
            &case.cluster,
            "treated_post",
            &opts,
        )
    };
    assert!(matches!(
        run(&case.weights[1..]),
        Err(WildBootstrapError::InvalidOption {
            name: "weights",
            ..
        })
    ));
    let mut negative = case.weights.clone();
    negative[3] = -1.0;
    assert!(matches!(
        run(&negative),
        Err(WildBootstrapError::InvalidOption {
            name: "weights",
            ..
        })
    ));
}

/// Coverage of the 95% intervals of a weighted linear DiD with 8 clusters (3 treated),
/// the design of `shine analyse`'s linear DiD in miniature: the rate per period with unit
/// and period fixed effects, weighted by exposure times a matching weight, errors
/// correlated within clusters after the index date and heteroskedastic across clusters,
/// true effect 1. WCR (Rademacher, all 256 sign vectors; Webb, 999 draws) against CR1
/// with t(G − 1) quantiles (fixest's default). Seeds 1..=reps of ChaCha8.
///
/// `cargo test --release --lib -- --ignored --nocapture weighted_wild_bootstrap_coverage`
/// (`SHINE_WILD_COVERAGE_REPS`, default 2000: a few seconds).
#[test]
#[ignore = "long-running simulation; run with --release -- --ignored --nocapture"]
fn weighted_wild_bootstrap_coverage_with_eight_clusters() {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    let reps: usize = std::env::var("SHINE_WILD_COVERAGE_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let truth = 1.0;
    let (clusters, periods) = (8u32, 6u32);
    let sizes = [3usize, 4, 5, 6, 8, 10, 12, 15];
    let names = vec!["treated_post".to_string()];
    let (mut cover_rad, mut cover_webb, mut cover_cr1) = (0usize, 0usize, 0usize);
    let (mut width_rad, mut width_cr1) = (0.0, 0.0);
    for rep in 1..=reps {
        let mut rng = ChaCha8Rng::seed_from_u64(rep as u64);
        let shocks: Vec<f64> = (0..clusters)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let scales: Vec<f64> = (0..clusters).map(|g| 0.5 + 0.25 * g as f64).collect();
        let (mut y, mut d, mut w, mut unit, mut period, mut cluster) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut u = 0u32;
        for g in 0..clusters {
            let treated = (g + rep as u32) % clusters < 3;
            for _ in 0..sizes[g as usize] {
                let a: f64 = StandardNormal.sample(&mut rng);
                let match_weight = if treated {
                    1.0
                } else {
                    [0.2, 0.25, 0.5, 1.0][rng.random_range(0..4usize)]
                };
                for t in 0..periods {
                    let post = t >= periods / 2;
                    let exposure: f64 = rng.random_range(0.3..1.0);
                    let dt = f64::from(u8::from(treated && post));
                    let noise: f64 = StandardNormal.sample(&mut rng);
                    // A rate over a shorter exposure is noisier (variance 1 / exposure).
                    let e = scales[g as usize]
                        * (noise / exposure.sqrt() + if post { shocks[g as usize] } else { 0.0 });
                    y.push(a + 0.2 * f64::from(t) + truth * dt + e);
                    d.push(dt);
                    w.push(match_weight * exposure);
                    unit.push(u);
                    period.push(t);
                    cluster.push(g);
                }
                u += 1;
            }
        }
        let x = DMatrix::from_column_slice(y.len(), 1, &d);
        let fixed_effects = vec![("unit".to_string(), unit), ("period".to_string(), period)];
        let fit = fit_weighted(&y, &x, &names, &fixed_effects, &w, &cluster);
        let c = &fit.coefficients[0];
        if c.conf_low <= truth && truth <= c.conf_high {
            cover_cr1 += 1;
        }
        width_cr1 += c.conf_high - c.conf_low;
        let boot = |weights, reps| {
            wild_cluster_bootstrap_weighted(
                &fit,
                &y,
                &x,
                &names,
                &fixed_effects,
                None,
                Some(&w),
                &cluster,
                "treated_post",
                &options(weights, reps, rep as u64),
            )
            .expect("bootstrap")
        };
        let rad = boot(BootstrapWeights::Rademacher, 9999);
        assert!(rad.full_enumeration);
        if rad.conf_low <= truth && truth <= rad.conf_high {
            cover_rad += 1;
        }
        width_rad += (rad.conf_high - rad.conf_low).min(1e6);
        let webb = boot(BootstrapWeights::Webb, 999);
        if webb.conf_low <= truth && truth <= webb.conf_high {
            cover_webb += 1;
        }
    }
    let share = |k: usize| k as f64 / reps as f64;
    println!(
        "{reps} replications, 8 clusters, weighted: coverage of the 95% interval: WCR Rademacher (enumerated) {:.3}, WCR Webb (B = 999) {:.3}, CR1 t(G-1) {:.3}; mean width WCR Rademacher {:.3}, CR1 {:.3}",
        share(cover_rad),
        share(cover_webb),
        share(cover_cr1),
        width_rad / reps as f64,
        width_cr1 / reps as f64
    );
    for (what, k) in [("WCR Rademacher", cover_rad), ("WCR Webb", cover_webb)] {
        assert!(
            (0.92..=0.98).contains(&share(k)),
            "{what} coverage {}",
            share(k)
        );
    }
}
