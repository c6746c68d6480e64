//! Benchmark of `shine match` at the size of the target: 1:5 nearest-neighbour
//! matching with a caliper of 0.2 SD on a table of `SHINE_BENCH_ROWS` rows (default
//! 1,000,000) with 10 covariates (6 continuous, 2 binary, 2 categorical with 3 and 5
//! levels) and 1% treated (10,000), selected through a logistic model. Target (issue 3):
//! at least 20× faster than MatchIt 4.5 with the same options, within 4 GB.
//!
//! The data are generated (seeded) and written to a temporary CSV once, outside the
//! timed closures. Besides the whole library path (`propensity_match`), each stage is
//! timed on its own so that the breakdown is visible:
//!
//! - `read_csv`: reading the CSV and converting the formula's columns (what `shine match`
//!   does before the library call);
//! - `model_matrix`, `fit_glm` (the propensity model), `nearest_neighbour` (the matching),
//!   `balance` (the balance table before and after, as MatchIt's `summary()`);
//! - `propensity_match`: all of the above but the CSV read.
//!
//! Run: `cargo bench --bench matching`. The side-by-side comparison with R's MatchIt, and
//! peak memory, are in `benches/match_vs_matchit/`.

use std::io::Write;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use nalgebra::DVector;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Gamma, Poisson, StandardNormal};
use shine::data::table::{read_any, to_dataset};
use shine::pipeline::propensity::propensity_match;
use shine::results::matching::MatchSpec;
use shine::stats::balance::{balance_table, Covariate};
use shine::stats::design::{model_matrix, ColumnData, DataSet, LevelCodes};
use shine::stats::formula;
use shine::stats::glm::{fit_glm, Family, GlmOptions};
use shine::stats::matching::{MatchInput, MatchOrder, NearestNeighbour};

const FORMULA: &str = "treat ~ age + income + prior_visits + bmi + chronic_score + \
                       distance_km + female + smoker + education + region";
const EDUCATION: [&str; 3] = ["basic", "secondary", "tertiary"];
const REGION: [&str; 5] = ["capital", "central", "north", "south", "zealand"];

fn rows() -> usize {
    std::env::var("SHINE_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

/// The benchmark table, column by column.
struct Table {
    numeric: Vec<(&'static str, Vec<f64>)>,
    education: Vec<usize>,
    region: Vec<usize>,
}

fn pick(rng: &mut ChaCha8Rng, p: &[f64]) -> usize {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    for (i, &pi) in p.iter().enumerate() {
        acc += pi;
        if u < acc {
            return i;
        }
    }
    p.len() - 1
}

/// `n` rows, `n / 100` treated: the rows with the largest `lp(x) + logistic noise`, a
/// logistic selection model with the intercept set by the number treated.
fn generate(n: usize, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = |rng: &mut ChaCha8Rng| -> f64 { rng.sample(StandardNormal) };
    let gamma = Gamma::new(1.5, 1.0).expect("gamma");
    let exp = Exp::new(1.0 / 12.0).expect("exp");
    let (mut age, mut income, mut visits, mut bmi, mut chronic, mut km) = (
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
    );
    let (mut female, mut smoker) = (vec![0.0; n], vec![0.0; n]);
    let (mut education, mut region) = (vec![0; n], vec![0; n]);
    let mut latent = vec![0.0; n];
    for i in 0..n {
        let a = (52.0 + 16.0 * normal(&mut rng)).clamp(18.0, 95.0);
        let f = f64::from(u8::from(rng.random::<f64>() < 0.52));
        let e = pick(&mut rng, &[0.30, 0.45, 0.25]);
        let r = pick(&mut rng, &[0.31, 0.22, 0.10, 0.21, 0.16]);
        let inc = (5.4 + 0.25 * e as f64 + 0.004 * (a - 50.0) + 0.45 * normal(&mut rng)).exp();
        let c = gamma.sample(&mut rng) * (0.6 + 0.012 * a);
        let v = Poisson::new(1.0 + 0.8 * c + 0.3 * f)
            .expect("poisson")
            .sample(&mut rng);
        let b = 26.5 + 0.4 * c + 4.2 * normal(&mut rng);
        let s = f64::from(u8::from(
            rng.random::<f64>() < 1.0 / (1.0 + (1.2 + 0.35 * e as f64).exp()),
        ));
        let d = exp.sample(&mut rng) * if r == 2 { 2.0 } else { 1.0 };
        let lp = 0.015 * (a - 52.0) - 0.35 * (inc / 250.0).ln()
            + 0.12 * v
            + 0.03 * (b - 27.0)
            + 0.25 * c
            - 0.02 * d
            + 0.30 * f
            + 0.25 * s
            + [0.0, -0.15, -0.35][e]
            + [0.0, 0.20, -0.10, 0.10, 0.30][r];
        let u: f64 = rng.random::<f64>().clamp(1e-12, 1.0 - 1e-12);
        latent[i] = lp + (u / (1.0 - u)).ln();
        // rounded as make_data.py writes them, so the CSV holds the same values
        age[i] = (a * 100.0).round() / 100.0;
        income[i] = (inc * 1000.0).round() / 1000.0;
        visits[i] = v;
        bmi[i] = (b * 100.0).round() / 100.0;
        chronic[i] = (c * 1e4).round() / 1e4;
        km[i] = (d * 1000.0).round() / 1000.0;
        female[i] = f;
        smoker[i] = s;
        education[i] = e;
        region[i] = r;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| latent[b].total_cmp(&latent[a]).then(a.cmp(&b)));
    let mut treat = vec![0.0; n];
    for &i in &order[..(n / 100).max(1)] {
        treat[i] = 1.0;
    }
    Table {
        numeric: vec![
            ("id", (1..=n).map(|i| i as f64).collect()),
            ("treat", treat),
            ("age", age),
            ("income", income),
            ("prior_visits", visits),
            ("bmi", bmi),
            ("chronic_score", chronic),
            ("distance_km", km),
            ("female", female),
            ("smoker", smoker),
        ],
        education,
        region,
    }
}

fn to_data_set(t: &Table) -> DataSet {
    let mut data = DataSet::new();
    for (name, v) in &t.numeric {
        data.push(*name, ColumnData::Numeric(v.clone()))
            .expect("column");
    }
    for (name, codes, levels) in [
        ("education", &t.education, &EDUCATION[..]),
        ("region", &t.region, &REGION[..]),
    ] {
        data.push(
            name,
            ColumnData::Categorical {
                codes: LevelCodes::new(levels.len(), codes.iter().map(|&c| Some(c as u32))),
                levels: levels.iter().map(|s| s.to_string()).collect(),
            },
        )
        .expect("column");
    }
    data
}

fn write_csv(t: &Table, path: &std::path::Path) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create csv"));
    let names: Vec<&str> = t.numeric.iter().map(|(n, _)| *n).collect();
    writeln!(out, "{},education,region", names.join(",")).expect("write");
    for i in 0..t.education.len() {
        for (_, v) in &t.numeric {
            write!(out, "{},", v[i]).expect("write");
        }
        writeln!(out, "{},{}", EDUCATION[t.education[i]], REGION[t.region[i]]).expect("write");
    }
    out.flush().expect("flush");
}

fn matching(c: &mut Criterion) {
    let n = rows();
    // ---- setup, not timed ----
    let table = generate(n, 20_240_601);
    let data = to_data_set(&table);
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("match_bench.csv");
    write_csv(&table, &csv);
    let formula = formula::parse(FORMULA).expect("formula");
    let columns: Vec<String> = formula
        .columns()
        .into_iter()
        .chain(std::iter::once("id".to_string()))
        .collect();
    let tie_key: Vec<u64> = (0..n as u64).collect();
    let spec = MatchSpec {
        ratio: 5,
        caliper: Some(0.2),
        replace: false,
        exact: Vec::new(),
        order: MatchOrder::Largest,
        seed: 1,
    };
    let treated: Vec<bool> = match data.get("treat") {
        Some(ColumnData::Numeric(v)) => v.iter().map(|&x| x == 1.0).collect(),
        _ => unreachable!(),
    };
    let design = model_matrix(&formula, &data).expect("model matrix");
    let y = DVector::from_iterator(n, treated.iter().map(|&t| f64::from(u8::from(t))));
    let options = GlmOptions::new(Family::Binomial);
    let fit = fit_glm(&design.x, &y, None, None, &design.column_names, &options).expect("glm");
    assert!(fit.converged, "propensity model did not converge");
    let distance: Vec<f64> = fit.linear_predictor.iter().copied().collect();
    let nn = NearestNeighbour {
        ratio: 5,
        caliper: Some(0.2),
        replace: false,
        order: MatchOrder::Largest,
        seed: 1,
    }
    .validate()
    .expect("options");
    let input = MatchInput::new(&distance, &treated).with_tie_key(&tie_key);
    let matched = nn.fit(&input).expect("matching");
    let pairs = matched.pair_rows();
    // Balance rows as MatchIt's summary() lists them: the distance, each numeric
    // covariate, and every level of each factor.
    let mut balance_columns: Vec<(String, Vec<f64>)> = vec![("distance".into(), distance.clone())];
    for (name, v) in &table.numeric[2..] {
        balance_columns.push((name.to_string(), v.clone()));
    }
    for (name, codes, levels) in [
        ("education", &table.education, &EDUCATION[..]),
        ("region", &table.region, &REGION[..]),
    ] {
        for (l, level) in levels.iter().enumerate() {
            let v = codes.iter().map(|&c| f64::from(u8::from(c == l))).collect();
            balance_columns.push((format!("{name}{level}"), v));
        }
    }
    eprintln!(
        "match bench: {n} rows, {} treated, {} treated and {} controls matched, GLM in {} iterations",
        matched.n_treated, matched.n_treated_matched, matched.n_controls_matched, fit.iterations
    );

    // ---- timed ----
    let mut group = c.benchmark_group(format!("match_{n}_rows"));
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("read_csv", |b| {
        b.iter(|| {
            let frame = read_any(&csv).expect("read");
            to_dataset(
                &frame,
                &columns,
                &shine::data::table::TableSource::new("match_bench.csv"),
                &Default::default(),
            )
            .expect("columns")
        })
    });
    group.bench_function("model_matrix", |b| {
        b.iter(|| model_matrix(&formula, &data).expect("model matrix"))
    });
    group.bench_function("fit_glm", |b| {
        b.iter(|| fit_glm(&design.x, &y, None, None, &design.column_names, &options).expect("glm"))
    });
    group.bench_function("nearest_neighbour", |b| {
        b.iter(|| nn.fit(&input).expect("matching"))
    });
    group.bench_function("balance", |b| {
        b.iter(|| {
            let covs: Vec<Covariate<'_>> = balance_columns
                .iter()
                .map(|(name, v)| Covariate::new(name, v))
                .collect();
            balance_table(&covs, &treated, &matched.weights, &pairs).expect("balance")
        })
    });
    group.bench_function("propensity_match", |b| {
        b.iter(|| propensity_match(&formula, &data, &tie_key, &spec).expect("match"))
    });
    group.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
