//! Benchmarks of the extract layer at register scale: `simulate` (with writing Parquet)
//! and `validate` of a comparison pool of `SHINE_BENCH_POOL` persons (default 1,000,000)
//! and 350 referred. Targets (issue: foundation): each within 60 s and 4 GB.
//!
//! Run: `cargo bench --bench extracts`. Peak memory is measured on the binary:
//! `/usr/bin/time -v shine simulate --pool 1000000 --format parquet --out DIR` and
//! `/usr/bin/time -v shine validate DIR`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use shine::data::dictionary::TableName;
use shine::data::read::FileFormat;
use shine::data::simulate::{simulate, SimulationConfig};
use shine::data::validate::{validate, ExtractPaths};
use shine::data::write::write_table;

fn pool_size() -> usize {
    std::env::var("SHINE_BENCH_POOL")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn write_all(config: &SimulationConfig, dir: &std::path::Path) {
    let mut sim = simulate(config).expect("simulate");
    std::fs::create_dir_all(dir).expect("create dir");
    for (table, frame) in [
        (TableName::Persons, &mut sim.persons),
        (TableName::Covariates, &mut sim.covariates),
        (TableName::Referrals, &mut sim.referrals),
        (TableName::Contacts, &mut sim.contacts),
        (TableName::Proms, &mut sim.proms),
    ] {
        write_table(
            frame,
            &dir.join(format!("{table}.parquet")),
            FileFormat::Parquet,
        )
        .expect("write");
    }
}

fn extracts(c: &mut Criterion) {
    let pool = pool_size();
    let config = SimulationConfig {
        referred: 350,
        pool,
        seed: 1,
        ..SimulationConfig::default()
    };
    let dir = std::env::temp_dir().join(format!("shine-bench-{pool}"));

    let mut group = c.benchmark_group(format!("pool_{pool}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("simulate_and_write_parquet", |b| {
        b.iter(|| write_all(&config, &dir))
    });

    // The extracts to validate are written once, outside the timed closure.
    write_all(&config, &dir);
    let paths = ExtractPaths {
        folder: Some(dir.clone()),
        ..Default::default()
    };
    group.bench_function("validate_parquet", |b| {
        b.iter(|| {
            let v = validate(&paths, None);
            assert!(v.report.valid);
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, extracts);
criterion_main!(benches);
