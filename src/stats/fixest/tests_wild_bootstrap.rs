//! The wild cluster bootstrap against wildboottest 0.3.2 (through pyfixest 0.60; made by
//! tests/reference/wild_bootstrap/make_reference.py, which also wrote the panels) and
//! against a brute-force bootstrap in this file that refits the full dummy-variable
//! regression in every draw.

use nalgebra::{DMatrix, DVector};
use serde_json::Value;

use super::wild_bootstrap::{draw_weights, Problem};
use super::{
    fit_fe, wild_cluster_bootstrap, BootstrapWeights, FeFamily, FeFit, FeModel, Vcov,
    WildBootstrapError, WildBootstrapOptions,
};
use crate::test_support::{assert_close, on_threads, CONVERGED};

/// A panel of the reference script and the model fitted to it.
struct Case {
    y: Vec<f64>,
    x: DMatrix<f64>,
    names: Vec<String>,
    fixed_effects: Vec<(String, Vec<u32>)>,
    cluster: Vec<u32>,
    fit: FeFit,
}

fn panel_csv(name: &str) -> &'static str {
    match name {
        "g6" => include_str!("../../../tests/reference/wild_bootstrap/panel_g6.csv"),
        "g8" => include_str!("../../../tests/reference/wild_bootstrap/panel_g8.csv"),
        "g12" => include_str!("../../../tests/reference/wild_bootstrap/panel_g12.csv"),
        "g20" => include_str!("../../../tests/reference/wild_bootstrap/panel_g20.csv"),
        "g10_nofe" => include_str!("../../../tests/reference/wild_bootstrap/panel_g10_nofe.csv"),
        other => panic!("panel {other}"),
    }
}

/// Loads a panel and fits its formula as the reference script does: `y ~ treated_post
/// [+ x] | unit + period`, or `y ~ treated + post + treated_post` without fixed effects.
fn load(name: &str, formula: &str) -> Case {
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
    let rhs: Vec<&str> = formula
        .split('~')
        .nth(1)
        .expect("rhs")
        .split('|')
        .next()
        .expect("terms")
        .split('+')
        .map(str::trim)
        .collect();
    let with_fe = formula.contains('|');
    let mut names: Vec<String> = Vec::new();
    let mut data: Vec<Vec<f64>> = Vec::new();
    if !with_fe {
        names.push("(Intercept)".into());
        data.push(vec![1.0; col("y").len()]);
    }
    for t in rhs {
        names.push(t.to_string());
        data.push(col(t));
    }
    let n = col("y").len();
    let x = DMatrix::from_fn(n, data.len(), |i, j| data[j][i]);
    let fixed_effects = if with_fe {
        vec![
            ("unit".to_string(), codes("unit")),
            ("period".to_string(), codes("period")),
        ]
    } else {
        Vec::new()
    };
    let cluster = codes("practice");
    let y = col("y");
    let fit = fit_fe(
        &y,
        &x,
        &names,
        &fixed_effects,
        None,
        None,
        &Vcov::Cluster(vec![("practice".into(), cluster.clone())]),
        &FeModel::new(FeFamily::Gaussian),
    )
    .expect("fit");
    Case {
        y,
        x,
        names,
        fixed_effects,
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

fn bootstrap(case: &Case, opts: &WildBootstrapOptions) -> super::WildBootstrap {
    wild_cluster_bootstrap(
        &case.fit,
        &case.y,
        &case.x,
        &case.names,
        &case.fixed_effects,
        None,
        &case.cluster,
        "treated_post",
        opts,
    )
    .expect("bootstrap")
}

fn reference_runs() -> Vec<Value> {
    let json: Value = serde_json::from_str(include_str!(
        "../../../tests/reference/wild_bootstrap/wildboottest_reference.json"
    ))
    .expect("json");
    json["runs"].as_array().expect("runs").clone()
}

fn weights_of(name: &str) -> BootstrapWeights {
    match name {
        "rademacher" => BootstrapWeights::Rademacher,
        "webb" => BootstrapWeights::Webb,
        "mammen" => BootstrapWeights::Mammen,
        other => panic!("weights {other}"),
    }
}

/// Under full enumeration the p-value is a count over the same 2^G sign vectors, so it
/// must equal wildboottest's exactly. The two sign vectors whose weights are all equal
/// reproduce the sample (|t*| = |t| exactly); they do not count as exceeding |t| here,
/// while wildboottest counts them when round-off happens to make |t*| larger (panel
/// g6: 24/64 against 22/64): the reference also stores its p-value with those two ties
/// left out, which is what is compared.
#[test]
fn rademacher_enumeration_equals_wildboottest_exactly() {
    let mut checked = 0;
    for run in reference_runs() {
        if !run["full_enumeration"].as_bool().expect("flag") {
            continue;
        }
        let case = load(
            run["panel"].as_str().expect("panel"),
            run["formula"].as_str().expect("formula"),
        );
        let b = bootstrap(&case, &options(BootstrapWeights::Rademacher, 9999, 1));
        assert!(b.full_enumeration);
        assert_eq!(b.draws as u64, run["draws"].as_u64().expect("draws"));
        let reference = run["p_value_without_ties"].as_f64().expect("p");
        assert_eq!(b.p_value, reference, "{}: p-value", run["panel"]);
        let ties = run["near_ties"].as_u64().expect("ties") as f64 / b.draws as f64;
        let p_wbt = run["p_value"].as_f64().expect("p");
        assert!(
            p_wbt == reference || (p_wbt - reference - ties).abs() < 1e-15,
            "{run}"
        );
        checked += 1;
    }
    assert_eq!(checked, 4, "g6, g8, g12 and g10_nofe are enumerated");
}

/// With random draws (Webb, Mammen, and Rademacher with 20 clusters) the two p-values
/// are independent Monte Carlo estimates from B = 9999 draws each: they must agree
/// within 4 standard errors of their difference, sqrt(2 p (1 − p) / B).
#[test]
fn random_draws_agree_with_wildboottest_within_monte_carlo_error() {
    let mut checked = 0;
    for run in reference_runs() {
        if run["full_enumeration"].as_bool().expect("flag") {
            continue;
        }
        let case = load(
            run["panel"].as_str().expect("panel"),
            run["formula"].as_str().expect("formula"),
        );
        let weights = weights_of(run["weights"].as_str().expect("weights"));
        let b = bootstrap(&case, &options(weights, 9999, 12_345));
        assert!(!b.full_enumeration);
        assert_eq!(b.draws, 9999);
        let reference = run["p_value_without_ties"].as_f64().expect("p");
        let se = (2.0 * reference * (1.0 - reference) / 9999.0)
            .sqrt()
            .max(1e-4);
        assert!(
            (b.p_value - reference).abs() <= 4.0 * se,
            "{} {}: {} vs wildboottest {reference} (MC se {se:.4})",
            run["panel"],
            run["weights"],
            b.p_value
        );
        checked += 1;
    }
    assert_eq!(checked, 11);
}

/// The brute-force WCR bootstrap: for each draw, y* = restricted fit + ũ v, the full
/// regression on the regressors and one dummy per fixed-effect level refitted, and
/// t*² = (β̂*_k − r)² / V*_kk with V* the CR1 sandwich without its small-sample factor.
/// Returns t(r)² and every t*_b(r)².
fn brute_force(case: &Case, v: &[f64], draws: usize, r: f64) -> (f64, Vec<f64>) {
    let n = case.y.len();
    let kept: Vec<usize> = case
        .fit
        .coefficients
        .iter()
        .map(|c| {
            case.names
                .iter()
                .position(|nm| *nm == c.term)
                .expect("name")
        })
        .collect();
    let k = case
        .fit
        .coefficients
        .iter()
        .position(|c| c.term == "treated_post")
        .expect("term");
    let mut cols: Vec<Vec<f64>> = kept
        .iter()
        .map(|&j| case.x.column(j).iter().copied().collect())
        .collect();
    for (q, (_, codes)) in case.fixed_effects.iter().enumerate() {
        let mut levels: Vec<u32> = codes.clone();
        levels.sort_unstable();
        levels.dedup();
        // All levels of the first fixed effect, all but one of the others.
        for &l in levels.iter().skip(usize::from(q > 0)) {
            cols.push(
                codes
                    .iter()
                    .map(|&c| if c == l { 1.0 } else { 0.0 })
                    .collect(),
            );
        }
    }
    let p = cols.len();
    let z = DMatrix::from_fn(n, p, |i, j| cols[j][i]);
    let zz_inv = (z.transpose() * &z).try_inverse().expect("full rank");
    let y = DVector::from_vec(case.y.clone());
    let clusters: Vec<u32> = {
        let mut c = case.cluster.clone();
        c.sort_unstable();
        c.dedup();
        c
    };
    let g_of: Vec<usize> = case
        .cluster
        .iter()
        .map(|c| clusters.binary_search(c).expect("cluster"))
        .collect();
    let g_n = clusters.len();
    let t2 = |yy: &DVector<f64>| -> f64 {
        let beta = &zz_inv * (z.transpose() * yy);
        let u = yy - &z * &beta;
        let mut scores = vec![DVector::<f64>::zeros(p); g_n];
        for i in 0..n {
            for j in 0..p {
                scores[g_of[i]][j] += z[(i, j)] * u[i];
            }
        }
        let row = zz_inv.row(k).transpose();
        let v_kk: f64 = scores.iter().map(|s| row.dot(s).powi(2)).sum();
        (beta[k] - r).powi(2) / v_kk
    };
    // Restricted fit: y − r x_k on the other columns.
    let others: Vec<usize> = (0..p).filter(|&j| j != k).collect();
    let z_r = z.select_columns(&others);
    let y_r = &y - z.column(k) * r;
    let gamma = (z_r.transpose() * &z_r).try_inverse().expect("rank") * (z_r.transpose() * &y_r);
    let fitted_r = &z_r * gamma + z.column(k) * r;
    let u_r = &y - &fitted_r;
    let stars = (0..draws)
        .map(|b| {
            let ys = DVector::from_fn(n, |i, _| fitted_r[i] + u_r[i] * v[b * g_n + g_of[i]]);
            t2(&ys)
        })
        .collect();
    (t2(&y), stars)
}

/// The fast algebra (demeaned once, O(G²) per draw, linear in r) gives the same t and t*
/// in every draw as refitting the dummy-variable regression, at several null values, with
/// fixed effects that are nested in the clusters (unit) and not nested (period), and
/// without fixed effects.
#[test]
fn fast_algebra_equals_refitting_every_draw() {
    let cases = [
        (
            "g6",
            "y ~ treated_post | unit + period",
            BootstrapWeights::Rademacher,
            9999,
        ),
        (
            "g8",
            "y ~ treated_post + x | unit + period",
            BootstrapWeights::Rademacher,
            9999,
        ),
        (
            "g20",
            "y ~ treated_post + x | unit + period",
            BootstrapWeights::Webb,
            300,
        ),
        (
            "g10_nofe",
            "y ~ treated + post + treated_post",
            BootstrapWeights::Mammen,
            300,
        ),
    ];
    for (name, formula, weights, reps) in cases {
        let case = load(name, formula);
        let k = case
            .fit
            .coefficients
            .iter()
            .position(|c| c.term == "treated_post")
            .expect("k");
        let problem = Problem::new(
            &case.fit,
            &case.y,
            &case.x,
            &case.names,
            &case.fixed_effects,
            None,
            &case.cluster,
            k,
        )
        .expect("problem");
        let g = problem.clusters;
        let opts = options(weights, reps, 7);
        let enumerate = weights == BootstrapWeights::Rademacher && (1usize << g) <= reps;
        let v = draw_weights(&opts, g, enumerate);
        let draws = v.len() / g;
        let stats = problem.draw_statistics(&v, draws);
        let beta = case.fit.coefficients[k].estimate;
        for r in [0.0, 0.5 * beta, beta - 1.3, beta + 2.0] {
            let (t2, stars) = brute_force(&case, &v, draws, r);
            let ours_t2 = (stats.beta_k - r).powi(2) / stats.variance_k;
            assert_close(&format!("{name} t² at r = {r}"), ours_t2, t2, CONVERGED);
            for (b, (row, star)) in stats.draws.iter().zip(&stars).enumerate() {
                let [n0, n1, d0, d1, d2] = *row;
                let num = n0 + r * n1;
                let ours = num * num / (d0 + r * (d1 + r * d2));
                assert_close(
                    &format!("{name} t*² of draw {b} at r = {r}"),
                    ours,
                    *star,
                    CONVERGED,
                );
            }
            // The p-value from the brute-force draws, ties left out as in p_value().
            let brute_p =
                stars.iter().filter(|&&s| s > t2 * (1.0 + 1e-6)).count() as f64 / draws as f64;
            let near = stars
                .iter()
                .filter(|&&s| (s / t2 - 1.0).abs() <= 1e-6)
                .count() as f64
                / draws as f64;
            let p = stats.p_value(r);
            assert!(
                p >= brute_p - 1e-12 && p <= brute_p + near + 1e-12,
                "{name} r = {r}: {p} vs {brute_p}"
            );
        }
    }
}

/// Each limit of the interval is where p(r) crosses 1 − level: p ≥ 0.05 just inside,
/// < 0.05 just outside; checked with the brute-force p-values.
#[test]
fn interval_limits_are_where_the_p_value_crosses_the_level() {
    let case = load("g12", "y ~ treated_post | unit + period");
    let b = bootstrap(&case, &options(BootstrapWeights::Rademacher, 9999, 1));
    let k = case
        .fit
        .coefficients
        .iter()
        .position(|c| c.term == "treated_post")
        .expect("k");
    let beta = case.fit.coefficients[k].estimate;
    assert!(b.conf_low < beta && beta < b.conf_high, "{b:?}");
    let v = draw_weights(&options(BootstrapWeights::Rademacher, 9999, 1), 12, true);
    let draws = v.len() / 12;
    let se = case.fit.coefficients[k].std_error;
    let p_at = |r: f64| {
        let (t2, stars) = brute_force(&case, &v, draws, r);
        stars.iter().filter(|&&s| s > t2 * (1.0 + 1e-10)).count() as f64 / draws as f64
    };
    // At a limit one draw's |t*| crosses |t|: 1e-5 SE away they differ by ~1e-5 relative,
    // far above the round-off of either computation.
    let delta = 1e-5 * se;
    assert!(p_at(b.conf_low + delta) >= 0.05, "inside the lower limit");
    assert!(p_at(b.conf_low - delta) < 0.05, "outside the lower limit");
    assert!(p_at(b.conf_high - delta) >= 0.05, "inside the upper limit");
    assert!(p_at(b.conf_high + delta) < 0.05, "outside the upper limit");
    // The WCR interval of a p-value of 0.026 at r = 0 excludes 0.
    assert!(b.p_value < 0.05 && b.conf_low > 0.0, "{b:?}");
}

#[test]
fn same_seed_gives_the_same_result_whatever_the_thread_count() {
    let case = load("g20", "y ~ treated_post + x | unit + period");
    let opts = options(BootstrapWeights::Webb, 2000, 99);
    let run = |threads: usize| on_threads(threads, || bootstrap(&case, &opts));
    let one = run(1);
    assert_eq!(one, run(4));
    let other = bootstrap(&case, &options(BootstrapWeights::Webb, 2000, 100));
    assert_ne!(one.p_value, other.p_value, "another seed gives other draws");
}

#[test]
fn poisson_fits_and_unknown_terms_are_refused() {
    let case = load("g8", "y ~ treated_post + x | unit + period");
    let err = wild_cluster_bootstrap(
        &case.fit,
        &case.y,
        &case.x,
        &case.names,
        &case.fixed_effects,
        None,
        &case.cluster,
        "nope",
        &WildBootstrapOptions::default(),
    )
    .expect_err("unknown");
    assert_eq!(
        err,
        WildBootstrapError::UnknownTerm {
            name: "nope".into()
        }
    );
    let mut poisson = case.fit.clone();
    poisson.family = FeFamily::Poisson;
    let err = wild_cluster_bootstrap(
        &poisson,
        &case.y,
        &case.x,
        &case.names,
        &case.fixed_effects,
        None,
        &case.cluster,
        "treated_post",
        &WildBootstrapOptions::default(),
    )
    .expect_err("poisson");
    assert_eq!(err, WildBootstrapError::NotLeastSquares);
}

/// Coverage of the 95% intervals of a linear DiD with 8 clusters (3 treated), a true
/// effect of 1, and errors correlated within clusters and heteroskedastic across them: the
/// wild cluster bootstrap (Rademacher, all 256 sign vectors; Webb, 999 draws) against CR1
/// with t(G − 1) quantiles (fixest's default). Seeds 1..=reps of ChaCha8.
///
/// `cargo test --release --lib -- --ignored --nocapture wild_bootstrap_coverage`
/// (`SHINE_WILD_COVERAGE_REPS`, default 1000).
#[test]
#[ignore = "long-running simulation; run with --release -- --ignored --nocapture"]
fn wild_bootstrap_coverage_with_eight_clusters() {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    let reps: usize = std::env::var("SHINE_WILD_COVERAGE_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let truth = 1.0;
    let (clusters, periods) = (8u32, 6u32);
    let sizes = [3usize, 4, 5, 6, 8, 10, 12, 15];
    let names = vec!["treated_post".to_string()];
    let (mut cover_rad, mut cover_webb, mut cover_cr1) = (0usize, 0usize, 0usize);
    let (mut width_rad, mut width_cr1) = (0.0, 0.0);
    for rep in 1..=reps {
        let mut rng = ChaCha8Rng::seed_from_u64(rep as u64);
        let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
        let shocks: Vec<f64> = (0..clusters).map(|_| normal()).collect();
        let scales: Vec<f64> = (0..clusters).map(|g| 0.5 + 0.25 * g as f64).collect();
        let (mut y, mut d, mut unit, mut period, mut cluster) =
            (vec![], vec![], vec![], vec![], vec![]);
        let mut u = 0u32;
        for g in 0..clusters {
            // Three treated clusters, which ones (and so their sizes) rotating with the seed.
            let treated = (g + rep as u32) % clusters < 3;
            for _ in 0..sizes[g as usize] {
                let a = normal();
                for t in 0..periods {
                    let post = t >= periods / 2;
                    let dt = f64::from(u8::from(treated && post));
                    let e = scales[g as usize]
                        * (normal() + if post { shocks[g as usize] } else { 0.0 });
                    y.push(a + 0.2 * f64::from(t) + truth * dt + e);
                    d.push(dt);
                    unit.push(u);
                    period.push(t);
                    cluster.push(g);
                }
                u += 1;
            }
        }
        let x = DMatrix::from_column_slice(y.len(), 1, &d);
        let fixed_effects = vec![("unit".to_string(), unit), ("period".to_string(), period)];
        let fit = fit_fe(
            &y,
            &x,
            &names,
            &fixed_effects,
            None,
            None,
            &Vcov::Cluster(vec![("cluster".into(), cluster.clone())]),
            &FeModel::new(FeFamily::Gaussian),
        )
        .expect("fit");
        let c = &fit.coefficients[0];
        if c.conf_low <= truth && truth <= c.conf_high {
            cover_cr1 += 1;
        }
        width_cr1 += c.conf_high - c.conf_low;
        let boot = |weights, reps| {
            wild_cluster_bootstrap(
                &fit,
                &y,
                &x,
                &names,
                &fixed_effects,
                None,
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
        width_rad += rad.conf_high - rad.conf_low;
        let webb = boot(BootstrapWeights::Webb, 999);
        if webb.conf_low <= truth && truth <= webb.conf_high {
            cover_webb += 1;
        }
    }
    let share = |k: usize| k as f64 / reps as f64;
    println!(
        "{reps} replications, 8 clusters: coverage of the 95% interval: WCR Rademacher (enumerated) {:.3}, WCR Webb (B = 999) {:.3}, CR1 t(G-1) {:.3}; mean width WCR Rademacher {:.3}, CR1 {:.3}",
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
