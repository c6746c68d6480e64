//! Random well-formed models through the real binary: formulas and options for `did`,
//! `mixed` and `match` drawn from their grammars over one panel, and `analyse` on small
//! simulations. Each run must end within its time limit with 0, 1 or 2 and no panic.
//! Long: run with `cargo test --release --test fuzz_models -- --ignored --nocapture`
//! (`SHINE_FUZZ_MODELS` sets the number of formulas, default 2000;
//! `SHINE_FUZZ_SIMULATIONS` the number of simulations, default 200).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn count(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs the binary with a time limit; `Err` says what went wrong.
fn run_limited(args: &[String], dir: &std::path::Path, limit: Duration) -> Result<i32, String> {
    let out = dir.join(".stderr");
    let mut child = Command::new(SHINE)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&out).expect("stderr file"))
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {} s", limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = std::fs::read_to_string(&out).unwrap_or_default();
    match status.code() {
        _ if stderr.contains("panicked") => Err(format!("panicked: {stderr}")),
        Some(code @ 0..=2) => Ok(code),
        other => Err(format!("ended with {other:?}: {stderr}")),
    }
}

/// 60 units × 8 periods: y (continuous, positive), count (Poisson), x, z, region, treated.
fn panel() -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut text = String::from("unit,period,treated,treated_post,y,count,x,z,region\n");
    for unit in 0..60 {
        let treated = unit < 30;
        let level: f64 = rng.random_range(-1.0..1.0);
        for period in 0..8 {
            let post = period >= 4;
            let x: f64 = rng.random_range(0.0..10.0);
            let z = rng.random_range(0..4);
            let effect = if treated && post { 0.8 } else { 0.0 };
            let y =
                5.0 + level + 0.1 * period as f64 + 0.05 * x + effect + rng.random_range(-1.0..1.0);
            let count = (y + rng.random_range(-2.0..2.0)).max(0.0).round();
            let region = ["north", "south", "east", "west"][unit % 4];
            text.push_str(&format!(
                "{unit},{period},{},{},{y:.3},{count},{x:.2},{z},{region}\n",
                u8::from(treated),
                u8::from(treated && post)
            ));
        }
    }
    text
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// One to four distinct terms from `pool`, joined by `+`.
fn terms(rng: &mut ChaCha8Rng, pool: &[&str]) -> String {
    let n = rng.random_range(1..=4.min(pool.len()));
    let mut chosen: Vec<&str> = Vec::new();
    while chosen.len() < n {
        let t = pick(rng, pool);
        if !chosen.contains(&t) {
            chosen.push(t);
        }
    }
    chosen.join(" + ")
}

const FIXED: &[&str] = &[
    "x",
    "z",
    "factor(z)",
    "region",
    "x:z",
    "x * region",
    "I(x^2)",
    "log(x + 1)",
    "sqrt(x)",
    "period",
    "factor(period)",
    "treated",
    "x:treated",
];

fn did_args(rng: &mut ChaCha8Rng) -> Vec<String> {
    let main = pick(
        rng,
        &[
            "treated_post",
            "i(period, treated, ref = 3)",
            "treated_post + x",
        ],
    );
    let extra = if rng.random_bool(0.5) {
        format!(
            " + {}",
            terms(rng, &["x", "z", "factor(z)", "I(x^2)", "log(x + 1)", "x:z"])
        )
    } else {
        String::new()
    };
    let fe = pick(
        rng,
        &[
            "unit + period",
            "unit",
            "period",
            "unit + period + region",
            "unit^region + period",
        ],
    );
    let outcome = pick(rng, &["y", "count", "log(y)"]);
    let mut args = vec![
        "did".into(),
        "--data".into(),
        "panel.csv".into(),
        "--formula".into(),
        format!("{outcome} ~ {main}{extra} | {fe}"),
    ];
    if outcome == "count" && rng.random_bool(0.5) {
        args.extend(["--family".into(), "poisson".into()]);
    }
    let vcov = pick(
        rng,
        &[
            "iid",
            "hc1",
            "cluster:unit",
            "cluster:region",
            "cluster:unit,period",
        ],
    );
    args.extend(["--vcov".into(), vcov.into()]);
    args
}

fn mixed_args(rng: &mut ChaCha8Rng) -> Vec<String> {
    let fixed = terms(rng, FIXED);
    let random = pick(
        rng,
        &[
            "(1 | unit)",
            "(1 + period | unit)",
            "(period || unit)",
            "(1 | region)",
            "(1 | region/unit)",
            "(1 | unit) + (1 | region)",
            "(0 + x | unit)",
            "(1 + x | region)",
        ],
    );
    let mut args = vec![
        "mixed".into(),
        "--data".into(),
        "panel.csv".into(),
        "--formula".into(),
        format!("y ~ {fixed} + {random}"),
    ];
    if rng.random_bool(0.3) {
        args.extend(["--method".into(), "ml".into()]);
    }
    let df = pick(rng, &["satterthwaite", "residual", "kenward-roger"]);
    if df != "kenward-roger" || !args.contains(&"ml".to_string()) {
        args.extend(["--df".into(), df.into()]);
    }
    if rng.random_bool(0.2) {
        args.extend(["--vcov".into(), pick(rng, &["cr1", "cr2"]).into()]);
    }
    args
}

fn match_args(rng: &mut ChaCha8Rng) -> Vec<String> {
    let rhs = terms(
        rng,
        &[
            "x",
            "z",
            "factor(z)",
            "region",
            "x:z",
            "I(x^2)",
            "log(x + 1)",
            "period",
            "y",
        ],
    );
    let mut args = vec![
        "match".into(),
        "--data".into(),
        "panel.csv".into(),
        "--formula".into(),
        format!("treated ~ {rhs}"),
    ];
    args.extend(["--ratio".into(), rng.random_range(1..=3).to_string()]);
    if rng.random_bool(0.4) {
        args.extend([
            "--caliper".into(),
            format!("{:.2}", rng.random_range(0.01..1.0)),
        ]);
    }
    if rng.random_bool(0.3) {
        args.push("--replace".into());
    }
    args.extend([
        "--order".into(),
        pick(
            rng,
            &[
                "largest", "smallest", "data", "random", "closest", "farthest",
            ],
        )
        .into(),
    ]);
    if rng.random_bool(0.3) {
        args.extend(["--exact".into(), "region".into()]);
    }
    args
}

#[test]
#[ignore = "long: 2,000 runs of the binary"]
fn random_well_formed_models_end_without_panic_or_hang() {
    let dir = Scratch::new("fuzz-models");
    dir.write("panel.csv", panel());
    let n = count("SHINE_FUZZ_MODELS", 2000);
    let mut failures = Vec::new();
    let mut codes = [0u64; 3];
    for seed in 0..n {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let args = match seed % 3 {
            0 => did_args(&mut rng),
            1 => mixed_args(&mut rng),
            _ => match_args(&mut rng),
        };
        match run_limited(&args, dir.path(), Duration::from_secs(60)) {
            Ok(code) => codes[code as usize] += 1,
            Err(why) => failures.push(format!("{args:?}: {why}")),
        }
    }
    eprintln!(
        "{n} random models: {} fitted, {} could not be completed (exit 1), {} refused (exit 2)",
        codes[0], codes[1], codes[2]
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        codes[0] > n / 2,
        "most well-formed models should fit: {codes:?}"
    );
}

#[test]
#[ignore = "long: 200 simulations analysed"]
fn analyse_ends_without_panic_on_small_simulations() {
    let dir = Scratch::new("fuzz-analyse");
    let n = count("SHINE_FUZZ_SIMULATIONS", 200);
    let mut failures = Vec::new();
    let mut codes = [0u64; 3];
    for seed in 1..=n {
        let referred = 12 + seed % 29;
        let pool = 500 + (seed * 641) % 2501;
        let sim: Vec<String> = [
            "simulate",
            "--quiet",
            "--out",
            "s",
            "--referred",
            &referred.to_string(),
            "--pool",
            &pool.to_string(),
            "--seed",
            &seed.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let _ = std::fs::remove_dir_all(dir.join("s"));
        if let Err(why) = run_limited(&sim, dir.path(), Duration::from_secs(60)) {
            failures.push(format!("simulate seed {seed}: {why}"));
            continue;
        }
        let analyse: Vec<String> = ["analyse", "s", "--quiet", "--out", "o", "--force"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        match run_limited(&analyse, dir.path(), Duration::from_secs(180)) {
            Ok(2) => failures.push(format!(
                "--referred {referred} --pool {pool} --seed {seed}: exit 2 on simulated extracts"
            )),
            Ok(code) => codes[code as usize] += 1,
            Err(why) => failures.push(format!(
                "--referred {referred} --pool {pool} --seed {seed}: {why}"
            )),
        }
    }
    eprintln!(
        "{n} simulations: {} analysed, {} could not be completed (exit 1)",
        codes[0], codes[1]
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
