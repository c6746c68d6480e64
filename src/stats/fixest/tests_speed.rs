//! Speed and memory on five million rows (issue 4 targets). Run with
//!   cargo test --release --lib fixest::tests_speed -- --ignored --nocapture
//! with FIXEST_BENCH_THREADS=k to fit on a pool of k threads (default 1), and
//! FIXEST_BENCH_CSV=/tmp/panel.csv to also write the panel for pyfixest.

use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

use super::tests::ok;
use super::{fit_fe, FeFamily, FeModel, Vcov};
use crate::stats::design::{fixed_effect_codes, model_matrix, ColumnData, DataSet};
use crate::stats::formula::parse;

fn memory_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// CPU seconds (user + system) of this process so far, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name in parentheses; utime and stime are 14 and 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |k: usize| {
        fields
            .get(k)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

#[test]
#[ignore]
fn five_million_rows_two_fixed_effects() {
    use std::io::Write;
    use std::time::Instant;
    let (units, periods) = (250_000usize, 20usize);
    let n = units * periods;
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut unit = Vec::with_capacity(n);
    let mut period = Vec::with_capacity(n);
    let mut tp = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    let mut count = Vec::with_capacity(n);
    for u in 0..units {
        let a: f64 = rng.sample::<f64, _>(StandardNormal) * 0.5;
        let treated = u % 2 == 1;
        for t in 0..periods {
            let d = if treated && t >= periods / 2 {
                1.0
            } else {
                0.0
            };
            let eta = -0.5 + a + 0.02 * t as f64 + 0.2 * d;
            let noise: f64 = rng.sample(StandardNormal);
            unit.push(u as u32);
            period.push(t as u32);
            tp.push(d);
            y.push(1.0 + a + 0.05 * t as f64 + 0.3 * d + noise);
            count.push(Poisson::new(eta.exp()).map_or(0.0, |p| p.sample(&mut rng)));
        }
    }
    if let Ok(path) = std::env::var("FIXEST_BENCH_CSV") {
        let file = std::fs::File::create(&path).expect("create csv");
        let mut out = std::io::BufWriter::new(file);
        writeln!(out, "unit,period,treated_post,y,count").expect("write");
        for i in 0..n {
            writeln!(
                out,
                "{},{},{},{},{}",
                unit[i], period[i], tp[i], y[i], count[i]
            )
            .expect("write");
        }
    }
    // The formula layer's share: model matrix and fixed-effect codes from columns.
    {
        let mut data = DataSet::new();
        let as_f64 = |v: &[u32]| ColumnData::Numeric(v.iter().map(|&c| c as f64).collect());
        ok(data.push("unit", as_f64(&unit)));
        ok(data.push("period", as_f64(&period)));
        ok(data.push("treated_post", ColumnData::Numeric(tp.clone())));
        ok(data.push("count", ColumnData::Numeric(count.clone())));
        let start = Instant::now();
        let f = ok(parse("count ~ treated_post | unit + period"));
        let design = ok(model_matrix(&f, &data));
        let codes = ok(fixed_effect_codes(&f, &data, &design.rows));
        eprintln!(
            "model_matrix + fixed_effect_codes: {:.2} s ({} columns, {} fixed effects)",
            start.elapsed().as_secs_f64(),
            design.x.ncols(),
            codes.len()
        );
    }
    let x = DMatrix::from_vec(n, 1, tp);
    let names = vec!["treated_post".to_string()];
    let fe = vec![
        ("unit".to_string(), unit.clone()),
        ("period".to_string(), period),
    ];
    let vcov = Vcov::Cluster(vec![("unit".to_string(), unit)]);
    // The inputs of one fit: the outcome and treated_post (f64), the two fixed
    // effects' and the cluster variable's codes (u32).
    let input_bytes = n * (8 * 2 + 4 * 3);
    let threads: usize = std::env::var("FIXEST_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let pool = ok(rayon::ThreadPoolBuilder::new().num_threads(threads).build());
    for family in [FeFamily::Gaussian, FeFamily::Poisson] {
        let outcome = if family == FeFamily::Gaussian {
            &y
        } else {
            &count
        };
        // Reset the peak resident set size (Linux: write 5 to clear_refs).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let before = memory_kib("VmRSS:").unwrap_or(0);
        let model = FeModel::new(family);
        let start = Instant::now();
        let cpu_start = cpu_seconds();
        let fit = pool.install(|| ok(fit_fe(outcome, &x, &names, &fe, None, None, &vcov, &model)));
        let seconds = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_start;
        let peak = memory_kib("VmHWM:").unwrap_or(0);
        let c = &fit.coefficients[0];
        eprintln!(
            "{family:?}: {seconds:.2} s ({cpu:.2} s CPU), {} IRLS iterations, max {} sweeps; estimate {:.6} (se {:.6}); n_obs {}, dropped {}; \
             extra peak memory {:.0} MB = {:.2} × input columns ({:.0} MB)",
            fit.iterations,
            fit.demeaning_sweeps,
            c.estimate,
            c.std_error,
            fit.n_obs,
            fit.n_dropped,
            (peak.saturating_sub(before)) as f64 / 1024.0,
            (peak.saturating_sub(before)) as f64 * 1024.0 / input_bytes as f64,
            input_bytes as f64 / 1e6 / 1.048576,
        );
        assert!(fit.converged);
    }
}
