//! Tests of the simulator: determinism, the extract tables against the data dictionary
//! ([`extracts`]), and the true effects and selection against what the data show
//! ([`effects`]).

use std::collections::BTreeMap;

use polars::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::Gamma;

use super::calibration::calibrate_shift;
use super::parameters::*;
use super::population::draw_person;
use super::*;
use crate::data::calendar::{
    age_on, civil_from_days, days_from_civil, first_of_month, format_date,
};
use crate::test_support::EXACT;

mod effects;
mod extracts;

fn small() -> SimulationConfig {
    SimulationConfig {
        referred: 120,
        pool: 4_000,
        seed: 7,
        ..Default::default()
    }
}

fn strings(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

fn ints(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
    df.column(name).unwrap().i64().unwrap().iter().collect()
}

fn days(df: &DataFrame, name: &str) -> Vec<Option<i32>> {
    df.column(name)
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .iter()
        .collect()
}

fn bools(df: &DataFrame, name: &str) -> Vec<Option<bool>> {
    df.column(name).unwrap().bool().unwrap().iter().collect()
}

fn id_number(id: &str) -> usize {
    id[1..].parse().unwrap()
}

fn tables(x: &SimulatedExtracts) -> [(&'static str, &DataFrame); 5] {
    [
        ("persons", &x.persons),
        ("covariates", &x.covariates),
        ("referrals", &x.referrals),
        ("contacts", &x.contacts),
        ("proms", &x.proms),
    ]
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    s / n as f64
}

#[test]
fn study_periods_are_iso_dates() {
    // The day arithmetic itself is checked against chrono in `data::calendar`.
    assert_eq!(format_date(STUDY_START), "2024-01-01");
    assert_eq!(format_date(STUDY_END), "2025-06-30");
    assert_eq!(year_end(2023), days_from_civil(2023, 12, 31));
    assert_eq!(snapshot_index(STUDY_END), 3);
}

#[test]
fn contact_type_rank_is_lexicographic() {
    let mut sorted = CONTACT_TYPES.to_vec();
    sorted.sort_unstable();
    for (t, code) in CONTACT_TYPES.iter().enumerate() {
        assert_eq!(sorted[usize::from(CONTACT_TYPE_RANK[t])], *code);
    }
}

#[test]
fn additive_index_matches_the_scorer_for_every_profile() {
    use crate::data::instruments::{eq5d_index_complete, ValueSet};
    // Checks published with the value set (Jensen et al. 2021), as listed in design.md.
    let published = [
        ([1, 1, 1, 1, 1], 1.0),
        ([1, 1, 1, 1, 2], 0.928),
        ([1, 1, 1, 2, 3], 0.761),
        ([1, 3, 2, 2, 4], 0.439),
        ([5, 5, 5, 5, 5], -0.758),
    ];
    let additive = |levels: [u8; 5]| {
        1.0 - levels
            .iter()
            .zip(EQ5D5L_DK_DECREMENTS.iter())
            .map(|(&l, d)| if l == 1 { 0.0 } else { d[usize::from(l) - 2] })
            .sum::<f64>()
    };
    for (levels, value) in published {
        assert!((additive(levels) - value).abs() < EXACT, "{levels:?}");
    }
    for code in 0..5usize.pow(5) {
        let levels: [u8; 5] = std::array::from_fn(|j| (code / 5usize.pow(j as u32) % 5 + 1) as u8);
        let scored = eq5d_index_complete(levels, ValueSet::Dk5L).unwrap();
        assert!((additive(levels) - scored).abs() < EXACT, "{levels:?}");
    }
}

#[test]
fn same_seed_gives_identical_tables_and_other_seed_differs() {
    let a = simulate(&small()).unwrap();
    let b = simulate(&small()).unwrap();
    for ((name, x), (_, y)) in tables(&a).iter().zip(tables(&b).iter()) {
        assert!(x.equals_missing(y), "{name} differs between identical runs");
    }
    assert_eq!(a.truth, b.truth);
    assert_eq!(
        serde_json::to_string(&a.truth).unwrap(),
        serde_json::to_string(&b.truth).unwrap()
    );
    let c = simulate(&SimulationConfig { seed: 8, ..small() }).unwrap();
    for ((name, x), (_, y)) in tables(&a).iter().zip(tables(&c).iter()) {
        assert!(!x.equals_missing(y), "{name} does not depend on the seed");
    }
}

#[test]
fn output_does_not_depend_on_work_split() {
    // The same persons drawn one by one must give the same population as the threaded run.
    let config = small();
    let (_, state) = simulate_with_state(&config).unwrap();
    let key = ChaCha8Rng::seed_from_u64(config.seed).get_seed();
    let frailty = Gamma::new(FRAILTY_SHAPE, 1.0 / FRAILTY_SHAPE).unwrap();
    for i in [0, 1, 2_000, config.referred + config.pool - 1] {
        let p = draw_person(i, &key, &frailty);
        assert_eq!(p.birth, state.persons[i].birth);
        assert_eq!(p.frailty, state.persons[i].frailty);
        assert_eq!(p.exit, state.persons[i].exit);
    }
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    // `small()` spans three pieces of work, so one thread and three split it differently.
    let on_threads = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| simulate(&small()).unwrap())
    };
    let (one, three) = (on_threads(1), on_threads(3));
    for ((name, x), (_, y)) in tables(&one).iter().zip(tables(&three).iter()) {
        assert!(
            x.equals_missing(y),
            "{name} differs between 1 and 3 threads"
        );
    }
    assert_eq!(one.truth, three.truth);
}

#[test]
fn impossible_sizes_are_errors() {
    let zero_pool = simulate(&SimulationConfig {
        pool: 0,
        ..Default::default()
    });
    assert!(matches!(zero_pool, Err(SimulateError::InvalidConfig(_))));
    let zero_referred = simulate(&SimulationConfig {
        referred: 0,
        ..Default::default()
    });
    assert!(matches!(
        zero_referred,
        Err(SimulateError::InvalidConfig(_))
    ));
    let too_many = simulate(&SimulationConfig {
        referred: 1,
        pool: usize::MAX,
        seed: 1,
        ..Default::default()
    });
    assert!(matches!(too_many, Err(SimulateError::InvalidConfig(_))));
    let small_pool = simulate(&SimulationConfig {
        referred: 350,
        pool: 200,
        seed: 1,
        ..Default::default()
    });
    match small_pool {
        Err(SimulateError::TooFewEligible {
            eligible,
            requested: 350,
            population: 550,
        }) => assert!(eligible < 350),
        other => panic!("expected TooFewEligible, got {other:?}"),
    }
}

#[test]
fn shift_solver_finds_roots_and_rejects_unbracketed_targets() {
    let d = calibrate_shift("cubic", 0.3, 10.0, |x| x.powi(3) + x).unwrap();
    assert!((d.powi(3) + d - 0.3).abs() < EXACT);
    let f = |x: f64| -0.2 * (x / 3.0).tanh();
    let d = calibrate_shift("decreasing", 0.05, 10.0, f).unwrap();
    assert!((f(d) - 0.05).abs() < EXACT && d < 0.0);
    assert!(matches!(
        calibrate_shift("out of range", 5.0, 1.0, |x| x),
        Err(SimulateError::Calibration(_))
    ));
}

#[test]
fn truth_serialises_with_the_documented_shape() {
    let x = simulate(&small()).unwrap();
    let json = serde_json::to_value(&x.truth).unwrap();
    assert_eq!(json["seed"], 7);
    assert_eq!(json["n_referred"], 120);
    assert_eq!(json["n_pool"], 4000);
    assert_eq!(json["study_period"]["start"], "2024-01-01");
    assert_eq!(json["extract_period"]["end"], "2026-06-30");
    assert_eq!(json["rate_ratios"]["general_practice"], 0.85);
    assert_eq!(json["rate_ratios"]["unplanned_hospital"], 0.90);
    assert_eq!(json["rate_ratios"]["helpline"], 0.80);
    assert_eq!(
        json["outcome_groups"]["unplanned_hospital"],
        serde_json::json!(["emergency_department", "acute_admission"])
    );
    assert_eq!(json["survey_changes"]["ucla3"]["9"], -0.9);
    assert_eq!(json["survey_changes"]["eq5d5l_index"]["3"], 0.03);
    assert_eq!(json["survey_changes"]["eq_vas"]["3"], 3.0);
    let p = &json["parameters"];
    assert_eq!(p["contact_rates"]["by_type"].as_array().unwrap().len(), 9);
    assert_eq!(p["frailty"]["shape"], 2.0);
    assert_eq!(p["seasonality"]["amplitude"], 0.15);
    assert_eq!(p["selection"]["log_weight_age_per_year"], 0.03);
    assert_eq!(p["survey"]["item_missing_rate"], 0.02);
    for score in ["ucla3", "eq5d5l", "eq_vas"] {
        assert!(p["survey"][score]["latent_shift"]["9"].is_f64(), "{score}");
    }
}

/// `cargo test --release --lib data::simulate -- --ignored --nocapture`
#[test]
#[ignore = "timing of a one-million pool; run on demand"]
fn timing_one_million_pool() {
    let config = SimulationConfig {
        referred: 350,
        pool: 1_000_000,
        seed: 1,
        ..Default::default()
    };
    let start = std::time::Instant::now();
    let x = simulate(&config).unwrap();
    let elapsed = start.elapsed();
    eprintln!("simulate(pool = 1,000,000): {:.2} s", elapsed.as_secs_f64());
    for (name, df) in tables(&x) {
        eprintln!("  {name}: {} rows", df.height());
    }
}
