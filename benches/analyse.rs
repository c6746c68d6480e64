//! Benchmarks of the whole `analyse` pipeline (issue: the pre-registered pipeline).
//! Targets: the demo in under 10 s; 350 referred against a 1,000,000-person pool
//! (Parquet) end to end, with the default plan and its four sensitivity analyses, in
//! under 2 minutes and 8 GB.
//!
//! Run: `cargo bench --bench analyse`. The demo is a criterion benchmark. The pool run
//! (`SHINE_BENCH_POOL`, default 1,000,000; 0 skips it) takes minutes, so it is timed
//! once on the binary, with its peak memory where `/usr/bin/time` exists.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

const SHINE: &str = env!("CARGO_BIN_EXE_shine");

fn run(args: &[&str], paths: &[&Path]) -> std::process::Output {
    let out = Command::new(SHINE)
        .args(args)
        .args(paths)
        .output()
        .expect("run shine");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn demo(c: &mut Criterion) {
    let out = std::env::temp_dir().join(format!("shine-bench-demo-{}", std::process::id()));
    let mut group = c.benchmark_group("analyse");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("demo", |b| {
        b.iter(|| {
            run(
                &["analyse", "--demo", "--quiet", "--force", "--out"],
                &[&out],
            )
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&out);
}

fn pool(_: &mut Criterion) {
    let pool: usize = std::env::var("SHINE_BENCH_POOL")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    if pool == 0 {
        return;
    }
    let root = std::env::temp_dir().join(format!("shine-bench-analyse-{pool}"));
    let extracts = root.join("extracts");
    if !extracts.join("persons.parquet").exists() {
        run(
            &[
                "simulate",
                "--quiet",
                "--format",
                "parquet",
                "--seed",
                "11",
                "--pool",
                &pool.to_string(),
                "--out",
            ],
            &[&extracts],
        );
    }
    let out = root.join("results");
    let timer = Path::new("/usr/bin/time");
    let started = Instant::now();
    let output = if timer.exists() {
        Command::new(timer)
            .arg("-v")
            .arg(SHINE)
            .args(["analyse", "--force", "--out"])
            .arg(&out)
            .arg(&extracts)
            .output()
            .expect("run shine")
    } else {
        Command::new(SHINE)
            .args(["analyse", "--force", "--out"])
            .arg(&out)
            .arg(&extracts)
            .output()
            .expect("run shine")
    };
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    println!("analyse, 350 referred vs a {pool}-person pool (Parquet): {seconds:.1} s");
    for line in stderr.lines() {
        let line = line.trim();
        if line.starts_with("Maximum resident set size") || line.ends_with(" s") {
            println!("  {line}");
        }
    }
}

criterion_group!(benches, demo, pool);
criterion_main!(benches);
