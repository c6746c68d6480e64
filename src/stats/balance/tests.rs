//! Reference values: MatchIt 4.5.1 `summary(matchit(...))` on R 4.2.2, from
//! tests/reference/matching/matching.R; formulas in MATCHIT_NOTES.md §6. Hand
//! values of the descriptive helpers follow from the definitions (the n − 1
//! variance).

use std::cmp::Ordering;

use super::ecdf::ecdf_differences;
use super::moments::{moments_of, reliability_variance_of, unit_moments_of, weighted_mean_of};
use super::reference::{load, num, MATCHIT_REL_TOL, ROUNDING_FLOOR, RUNS};
use super::sample::Groups;
use super::*;
use crate::test_support::{close_within, EXACT};

fn check_stat(run: &str, which: &str, term: &str, stat: &str, got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (Some(g), Some(w)) => assert!(
            close_within(g, w, MATCHIT_REL_TOL, ROUNDING_FLOOR),
            "{run} {which} {term} {stat}: got {g:e}, MatchIt {w:e}"
        ),
        (None, None) => {}
        _ => panic!("{run} {which} {term} {stat}: got {got:?}, MatchIt {want:?}"),
    }
}

/// Every balance statistic of every stored run (MatchIt's own weights and match
/// matrix as input, so this isolates the balance formulas from the matching).
#[test]
fn balance_table_matches_matchit_summary_in_all_48_runs() {
    assert_eq!(RUNS.len(), 48);
    for (run, _) in RUNS {
        let case = load(run);
        let covariates: Vec<Covariate> = case
            .columns
            .iter()
            .map(|(n, x)| Covariate::new(n, x))
            .collect();
        let pairs: Vec<(usize, usize)> = case
            .match_matrix
            .iter()
            .flat_map(|(t, cs)| cs.iter().map(move |&c| (*t, c)))
            .collect();
        let table = balance_table(&covariates, &case.treated, &case.weights, &pairs)
            .unwrap_or_else(|e| panic!("{run}: {e}"));
        let all = case.json["balance"]["all"].as_array().expect("all");
        let matched = case.json["balance"]["matched"].as_array().expect("matched");
        assert_eq!(table.len(), all.len(), "{run}: number of rows");
        for ((row, before), after) in table.iter().zip(all).zip(matched) {
            assert_eq!(row.term, before["term"].as_str().expect("term"), "{run}");
            assert_eq!(row.term, after["term"].as_str().expect("term"), "{run}");
            let t = row.term.as_str();
            let r = |v: &serde_json::Value, k: &str| num(&v[k]);
            check_stat(
                run,
                "all",
                t,
                "means_treated",
                Some(row.mean_treated_before),
                r(before, "means_treated"),
            );
            check_stat(
                run,
                "all",
                t,
                "means_control",
                Some(row.mean_control_before),
                r(before, "means_control"),
            );
            check_stat(
                run,
                "all",
                t,
                "std_mean_diff",
                row.smd_before,
                r(before, "std_mean_diff"),
            );
            check_stat(
                run,
                "all",
                t,
                "var_ratio",
                row.variance_ratio_before,
                r(before, "var_ratio"),
            );
            check_stat(
                run,
                "all",
                t,
                "ecdf_mean",
                row.ecdf_mean_before,
                r(before, "ecdf_mean"),
            );
            check_stat(
                run,
                "all",
                t,
                "ecdf_max",
                row.ecdf_max_before,
                r(before, "ecdf_max"),
            );
            check_stat(
                run,
                "all",
                t,
                "std_pair_dist",
                None,
                r(before, "std_pair_dist"),
            );
            check_stat(
                run,
                "matched",
                t,
                "means_treated",
                Some(row.mean_treated_after),
                r(after, "means_treated"),
            );
            check_stat(
                run,
                "matched",
                t,
                "means_control",
                Some(row.mean_control_after),
                r(after, "means_control"),
            );
            check_stat(
                run,
                "matched",
                t,
                "std_mean_diff",
                row.smd_after,
                r(after, "std_mean_diff"),
            );
            check_stat(
                run,
                "matched",
                t,
                "var_ratio",
                row.variance_ratio_after,
                r(after, "var_ratio"),
            );
            check_stat(
                run,
                "matched",
                t,
                "ecdf_mean",
                row.ecdf_mean_after,
                r(after, "ecdf_mean"),
            );
            check_stat(
                run,
                "matched",
                t,
                "ecdf_max",
                row.ecdf_max_after,
                r(after, "ecdf_max"),
            );
            check_stat(
                run,
                "matched",
                t,
                "std_pair_dist",
                row.std_pair_dist_after,
                r(after, "std_pair_dist"),
            );
        }
    }
}

#[test]
fn sample_sizes_match_matchit_in_all_48_runs() {
    for (run, _) in RUNS {
        let case = load(run);
        let sizes = sample_sizes(&case.treated, &case.weights).expect("valid weights");
        for (got, key) in [(sizes.control, "control"), (sizes.treated, "treated")] {
            let want = &case.json["sample_sizes"][key];
            let count = |k: &str| want[k].as_u64().expect("count") as usize;
            assert_eq!(got.all, count("all"), "{run} {key}");
            assert_eq!(got.matched, count("matched"), "{run} {key}");
            assert_eq!(got.unmatched, count("unmatched"), "{run} {key}");
            assert_eq!(
                got.all_ess,
                want["all_ess"].as_f64().expect("ess"),
                "{run} {key}"
            );
            let ess = want["matched_ess"].as_f64().expect("ess");
            assert!(
                close_within(got.matched_ess, ess, EXACT, 0.0),
                "{run} {key}: {} vs {ess}",
                got.matched_ess
            );
        }
    }
}

/// MatchIt reports `raceblack`, `racehispan`, `racewhite`: every level of a
/// factor, each a binary row (no variance ratio, eCDF = |mean difference|).
#[test]
fn factor_levels_are_binary_rows_without_variance_ratio() {
    let case = load("lalonde_r1_nocal_norepl_intended");
    let names: Vec<&str> = case.columns.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "distance",
            "age",
            "educ",
            "raceblack",
            "racehispan",
            "racewhite",
            "married",
            "nodegree",
            "re74",
            "re75"
        ]
    );
    let covariates: Vec<Covariate> = case
        .columns
        .iter()
        .map(|(n, x)| Covariate::new(n, x))
        .collect();
    let table = balance_table(&covariates, &case.treated, &case.weights, &[]).expect("table");
    for row in &table {
        let binary =
            row.term.starts_with("race") || row.term == "married" || row.term == "nodegree";
        assert_eq!(row.binary, binary, "{}", row.term);
        if binary {
            assert_eq!(row.variance_ratio_before, None);
            let d = (row.mean_treated_before - row.mean_control_before).abs();
            assert_eq!(row.ecdf_max_before, Some(d));
            assert_eq!(row.ecdf_mean_before, Some(d));
        }
        assert_eq!(row.std_pair_dist_after, None, "no pairs given");
    }
}

/// Unmatched units keep their values as eCDF evaluation points (notes §6):
/// x = 1..4, treated {1, 3}, control {2, 4}; after matching only units 1 and 2
/// carry weight. Treated eCDF after: 1 from x = 1 on; control: 1 from x = 2 on.
/// |F_T − F_C| at 1, 2, 3, 4 = 1, 0, 0, 0 → mean 0.25, max 1.
#[test]
fn ecdf_is_evaluated_at_every_value_of_the_full_sample() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let treated = [true, false, true, false];
    let (mean, max) = ecdf_differences(&x, &treated, &[1.0, 1.0, 0.0, 0.0]);
    assert_eq!((mean, max), (0.25, 1.0));
    // Before: |F_T − F_C| at 1..4 = 0.5, 0, 0.5, 0.
    let (mean, max) = ecdf_differences(&x, &treated, &[1.0; 4]);
    assert_eq!((mean, max), (0.25, 0.5));
}

/// Binary SMD denominator is sqrt(p(1 − p)) of the treated, no n − 1 correction.
#[test]
fn binary_smd_uses_treated_proportion_without_bessel_correction() {
    let x = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    let treated = [true, true, true, true, false, false, false, false];
    let s = smd_denominator(&x, true, &treated);
    assert_eq!(s, 0.5);
    let b = sample_balance(&x, true, &treated, &[1.0; 8], s, None);
    assert_eq!(b.smd, Some((0.5 - 0.25) / 0.5));
}

/// A covariate constant among the treated (SD 0) falls back to MatchIt's pooled SD
/// ("proportional"): binary Σ_g s_g (1 − s_g/n_g) / n.
#[test]
fn constant_treated_covariate_uses_pooled_sd() {
    let x = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0];
    let treated = [true, true, false, false, false, false];
    // treated: s = 2, n = 2 → 0; control: s = 2, n = 4 → 2 (1 − 1/2) / 6 = 1/6.
    let s = smd_denominator(&x, true, &treated);
    assert!(close_within(s, (1.0f64 / 6.0).sqrt(), 1e-15, 0.0), "{s}");
    // Continuous: centred sum of squares within group over n − 1.
    let y = [5.0, 5.0, 1.0, 2.0, 3.0, 4.0];
    let s = smd_denominator(&y, false, &treated);
    assert!(close_within(s, (5.0f64 / 5.0).sqrt(), 1e-15, 0.0), "{s}");
}

/// Mean differences below sqrt(ε) are reported unstandardised (and so are exact
/// zeros after perfect balance).
#[test]
fn tiny_mean_difference_is_not_standardised() {
    let x = [0.1, 0.2, 0.1, 0.2];
    let treated = [true, true, false, false];
    let b = sample_balance(
        &x,
        false,
        &treated,
        &[1.0; 4],
        1e-12,
        Some(&[(0, 2), (1, 3)]),
    );
    assert_eq!(b.smd, Some(0.0));
    assert_eq!(b.std_pair_dist, Some(0.0));
}

/// Both groups with fewer than 2 weighted units: SMD, variance ratio and eCDF are
/// NA in MatchIt.
#[test]
fn too_small_groups_give_no_statistics() {
    let x = [1.0, 2.0, 5.0, 7.0];
    let treated = [true, true, false, false];
    let b = sample_balance(
        &x,
        false,
        &treated,
        &[1.0, 0.0, 1.0, 0.0],
        1.0,
        Some(&[(0, 2)]),
    );
    assert_eq!(b.mean_treated, 1.0);
    assert_eq!(b.mean_control, 5.0);
    assert_eq!(
        (
            b.smd,
            b.variance_ratio,
            b.ecdf_mean,
            b.ecdf_max,
            b.std_pair_dist
        ),
        (None, None, None, None, None)
    );
}

#[test]
fn balance_table_rejects_bad_input() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let treated = [true, true, false, false];
    let cov = [Covariate::new("x", &x)];
    let ok = [1.0; 4];
    assert!(matches!(
        balance_table(&cov, &treated, &[1.0; 3], &[]),
        Err(BalanceError::LengthMismatch { .. })
    ));
    assert!(matches!(
        balance_table(&cov, &treated, &[1.0, -1.0, 1.0, 1.0], &[]),
        Err(BalanceError::InvalidWeight { row: 1, .. })
    ));
    assert!(matches!(
        balance_table(&cov, &treated, &[0.0, 0.0, 1.0, 1.0], &[]),
        Err(BalanceError::EmptyGroup { group: "treated" })
    ));
    assert!(matches!(
        balance_table(&cov, &[true; 4], &ok, &[]),
        Err(BalanceError::EmptyGroup { group: "control" })
    ));
    assert!(matches!(
        balance_table(&cov, &treated, &ok, &[(2, 0)]),
        Err(BalanceError::InvalidPair { .. })
    ));
    let nan = [1.0, f64::NAN, 3.0, 4.0];
    assert!(matches!(
        balance_table(&[Covariate::new("y", &nan)], &treated, &ok, &[]),
        Err(BalanceError::NonFiniteValue { row: 1, .. })
    ));
    let flagged = Covariate {
        name: "z",
        values: &x,
        binary: true,
    };
    assert!(matches!(
        balance_table(&[flagged], &treated, &ok, &[]),
        Err(BalanceError::NotBinary { .. })
    ));
    let short = [1.0, 2.0];
    assert!(matches!(
        balance_table(&[Covariate::new("s", &short)], &treated, &ok, &[]),
        Err(BalanceError::LengthMismatch { .. })
    ));
}

/// Integer weights act as frequency weights in the mean: the same as repeating the
/// values. The variance uses reliability weights.
#[test]
fn weighted_helpers_with_frequency_weights_equal_expanded_data() {
    let x = [3.0, 1.0, 4.0, 1.5, 9.0];
    let w = [2.0, 1.0, 3.0, 1.0, 1.0];
    let expanded = [3.0, 3.0, 1.0, 4.0, 4.0, 4.0, 1.5, 9.0];
    let m = weighted_mean(&x, Some(&w)).expect("ok").expect("some");
    let me = weighted_mean(&expanded, None).expect("ok").expect("some");
    assert!(close_within(m, me, 1e-15, 0.0));
    // n − 1 sample variance of the expanded data (Python 3 statistics.variance).
    let v = weighted_variance(&expanded, None)
        .expect("ok")
        .expect("some");
    assert!(close_within(v, 5.924_107_142_857_143, 1e-14, 0.0), "{v}");
    let vw = weighted_variance(&x, Some(&w)).expect("ok").expect("some");
    // Reliability weights: not the frequency-weight variance (its n is Σw̃-based),
    // but invariant to rescaling the weights.
    assert!(!close_within(vw, v, 1e-6, 0.0));
    let b = weighted_variance(&x, Some(&[4.0, 2.0, 6.0, 2.0, 2.0]))
        .expect("ok")
        .expect("some");
    assert!(close_within(vw, b, 1e-14, 0.0));
}

/// Missing values (NaN) are skipped and units with weight 0 left out.
#[test]
fn weighted_helpers_skip_missing_values_and_zero_weights() {
    let x = [1.0, f64::NAN, 3.0, 100.0, 5.0];
    let w = [1.0, 1.0, 1.0, 0.0, 1.0];
    assert_eq!(weighted_mean(&x, Some(&w)).expect("ok"), Some(3.0));
    let var = weighted_variance(&x, Some(&w)).expect("ok").expect("some");
    assert!(close_within(var.sqrt(), 2.0, 1e-15, 0.0));
    assert_eq!(weighted_mean(&[f64::NAN], None).expect("ok"), None);
    assert_eq!(weighted_variance(&[1.0], None).expect("ok"), None);
}

/// The value order is a stable sort by value (−0 = +0), by counting for small whole
/// numbers and by key otherwise, and marks where each run of equal values ends.
#[test]
fn value_order_is_a_stable_sort_by_value() {
    let cases: [&[f64]; 5] = [
        &[3.0, 1.0, 2.0, 1.0, 0.0, 3.0, 0.0],
        &[2.5, -1.0, 0.0, -0.0, 2.5, -7.25, 1e300, -1.0],
        &[65_536.0, 1.0, 65_535.0, 1.0],
        &[4.0],
        &[],
    ];
    for values in cases {
        let (expected, ends) = stable_order(values);
        let order = ValueOrder::of(values);
        assert_eq!(order.rows, expected, "{values:?}");
        assert_eq!(order.last_of_run, ends, "{values:?}");
    }
}

/// The rows of `values` by a stable sort, and where each run of equal values ends.
fn stable_order(values: &[f64]) -> (Vec<usize>, Vec<bool>) {
    let mut rows: Vec<usize> = (0..values.len()).collect();
    rows.sort_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap_or(Ordering::Equal));
    let ends = (0..values.len())
        .map(|k| {
            rows.get(k + 1)
                .is_none_or(|&next| values[next] != values[rows[k]])
        })
        .collect();
    (rows, ends)
}

/// Columns large enough for the radix sort: the same stable order, negatives, −0 and +0,
/// ties, values of very different magnitudes.
#[test]
fn value_order_of_a_large_column_is_a_stable_sort_by_value() {
    let mut u = crate::test_support::uniform_stream(7);
    let values: Vec<f64> = (0..150_000)
        .map(|i| match i % 5 {
            0 => (u() * 400.0).round() / 4.0 - 50.0,
            1 => -0.0,
            2 => 0.0,
            3 => (u() - 0.5) * 1e-300,
            _ => (u() - 0.3) * 1e12,
        })
        .collect();
    let mut expected: Vec<usize> = (0..values.len()).collect();
    expected.sort_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap_or(Ordering::Equal));
    let order = ValueOrder::of(&values);
    assert_eq!(order.rows, expected);
    let runs = order.last_of_run.iter().filter(|&&last| last).count();
    let mut distinct: Vec<f64> = values.iter().map(|v| v + 0.0).collect();
    distinct.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    distinct.dedup();
    assert_eq!(runs, distinct.len());
}

/// Large columns of values read from decimal text (on a grid of 10^-d, sorted by their
/// steps on it): the same stable order and runs as a sort by value, for negatives, −0
/// and +0, ties, whole numbers beyond the counting sort's range, and a column with one
/// value off every grid (sorted by the values' bits instead).
#[test]
fn value_order_of_decimal_columns_is_a_stable_sort_by_value() {
    let mut u = crate::test_support::uniform_stream(11);
    let decimals = |places: i32, u: &mut dyn FnMut() -> f64| {
        let scale = 10f64.powi(places);
        ((u() - 0.4) * 2e3 * scale).round() / scale
    };
    let mut columns: Vec<Vec<f64>> = (0..=6)
        .map(|places| {
            (0..100_000)
                .map(|i| match i % 7 {
                    0 => -0.0,
                    1 => 0.0,
                    _ => decimals(places, &mut u),
                })
                .collect()
        })
        .collect();
    columns.push((0..100_000).map(|_| (u() * 1e9).round()).collect());
    let mut off_grid = columns[2].clone();
    off_grid[77_777] = 0.1 + 0.2;
    columns.push(off_grid);
    for (c, values) in columns.iter().enumerate() {
        let (expected, ends) = stable_order(values);
        let order = ValueOrder::of(values);
        assert!(order.rows == expected, "column {c}");
        assert!(order.last_of_run == ends, "column {c}");
    }
}

/// Large columns on a decimal grid take their eCDF statistics from the grid's steps:
/// the values of the walk over the sorted rows to rounding, with weights (some 0,
/// treated and controls), with unit weights, and with ties across the groups; a grid
/// too wide for its rows is walked in order.
#[test]
fn ecdf_statistics_on_a_grid_are_those_of_the_sorted_walk() {
    use super::ecdf::{ecdf_in_order, EcdfPoints};
    use super::sample::Weights;
    let mut u = crate::test_support::uniform_stream(23);
    let n = 120_000;
    let treated: Vec<bool> = (0..n).map(|_| u() < 0.2).collect();
    let weights: Vec<f64> = (0..n)
        .map(|_| {
            if u() < 0.3 {
                0.0
            } else {
                (u() * 4.0).ceil() / 2.0
            }
        })
        .collect();
    // Whole steps of 1/scale, the treated shifted up by `shift` steps.
    let mut column = |steps: f64, shift: f64, scale: f64| -> Vec<f64> {
        (0..n)
            .map(|i| ((u() * steps).floor() + if treated[i] { shift } else { 0.0 }) / scale)
            .collect()
    };
    let columns: [(Vec<f64>, bool); 4] = [
        (column(8_000.0, 500.0, 100.0), true),
        (column(3_000.0, 200.0, -1000.0), true),
        (column(12.0, 1.0, 1.0), true),
        (column(1e7, 2e6, 1000.0), false),
    ];
    let sums = |w: &dyn Fn(usize) -> f64| {
        let group = |flag: bool| (0..n).filter(|&i| treated[i] == flag).map(w).sum::<f64>();
        (group(true), group(false))
    };
    for (c, (values, on_grid)) in columns.iter().enumerate() {
        let points = EcdfPoints::with_grid(values, true);
        assert_eq!(
            matches!(points, EcdfPoints::Grid { .. }),
            *on_grid,
            "column {c}"
        );
        let off = EcdfPoints::with_grid(values, false);
        assert!(matches!(off, EcdfPoints::Sorted(_)), "column {c}");
        let order = ValueOrder::of(values);
        for given in [true, false] {
            let weights_of = || {
                if given {
                    Weights::Given(&weights)
                } else {
                    Weights::Unit
                }
            };
            let totals = if given {
                sums(&|i| weights[i])
            } else {
                sums(&|_| 1.0)
            };
            let (mean, max) = points.differences(&treated, weights_of(), totals);
            let (mean_sorted, max_sorted) = ecdf_in_order(&order, &treated, weights_of(), totals);
            assert!(
                (mean - mean_sorted).abs() <= 1e-11 * mean,
                "column {c}: {mean} {mean_sorted}"
            );
            assert!(
                (max - max_sorted).abs() <= 1e-11 * max,
                "column {c}: {max} {max_sorted}"
            );
            assert!(max > 0.02, "column {c}: a difference to find ({max})");
        }
    }
}

#[test]
fn group_rows_list_the_treated_and_the_others_in_row_order() {
    let treated = [false, true, true, false, false, true, false];
    let groups = Groups::new(&treated);
    assert_eq!(groups.rows(true).collect::<Vec<_>>(), [1, 2, 5]);
    assert_eq!(groups.rows(false).collect::<Vec<_>>(), [0, 3, 4, 6]);
    let none = Groups::new(&[false, false]);
    assert_eq!(none.rows(true).count(), 0);
    assert_eq!(none.rows(false).collect::<Vec<_>>(), [0, 1]);
}

/// Columns made one at a time give the table of the columns given at once.
#[test]
fn balance_by_column_equals_the_balance_of_the_columns() {
    let n = 40;
    let treated: Vec<bool> = (0..n).map(|i| i % 4 == 0).collect();
    let weights: Vec<f64> = (0..n)
        .map(|i| match i % 8 {
            0 | 4 => 1.0,
            1 | 2 => 0.5,
            _ => 0.0,
        })
        .collect();
    let pairs: Vec<(usize, usize)> = (0..n).step_by(4).map(|t| (t, t + 1)).collect();
    let columns: Vec<(String, Vec<f64>)> = vec![
        (
            "age".into(),
            (0..n).map(|i| 20.0 + (i * 7 % 13) as f64 / 3.0).collect(),
        ),
        ("count".into(), (0..n).map(|i| (i * 5 % 4) as f64).collect()),
        (
            "flag".into(),
            (0..n).map(|i| (i % 3 == 0) as u8 as f64).collect(),
        ),
    ];
    let covariates: Vec<Covariate<'_>> = columns
        .iter()
        .map(|(name, values)| Covariate::new(name, values))
        .collect();
    let at_once = balance_table(&covariates, &treated, &weights, &pairs).expect("table");
    let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
    let by_column =
        balance_table_by_column(&names, |j| columns[j].1.clone(), &treated, &weights, &pairs)
            .expect("table");
    assert_eq!(by_column, at_once);
    assert!(at_once[2].binary && !at_once[1].binary);
}

/// The matched sample's statistics, summed over the rows of non-zero weight only, are
/// those summed over every row, to the bit.
#[test]
fn matched_rows_only_give_the_sums_over_every_row() {
    let n = 3_001;
    let treated: Vec<bool> = (0..n).map(|i| i % 7 == 0).collect();
    // Most controls unmatched (weight 0), as after 1:k matching in a large pool.
    let weights: Vec<f64> = (0..n)
        .map(|i| match (treated[i], i % 11) {
            (true, _) => f64::from(u8::from(i % 3 != 0)),
            (false, 0) => 0.4,
            (false, 5) => 1.7,
            _ => 0.0,
        })
        .collect();
    let controls: Vec<usize> = (0..n)
        .filter(|&i| !treated[i] && weights[i] > 0.0)
        .collect();
    let pairs: Vec<(usize, usize)> = (0..n)
        .filter(|&t| treated[t] && weights[t] > 0.0)
        .zip(controls)
        .collect();
    let age: Vec<f64> = (0..n)
        .map(|i| -3.5 + (i * 7919 % 1013) as f64 / 17.0)
        .collect();
    let flag: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 5 < 2))).collect();
    for (values, binary) in [(&age, false), (&flag, true)] {
        let covariates = [Covariate {
            name: "x",
            values,
            binary,
        }];
        let row = &balance_table(&covariates, &treated, &weights, &pairs).expect("table")[0];
        let s = smd_denominator(values, binary, &treated);
        let all = sample_balance(values, binary, &treated, &weights, s, Some(&pairs));
        let bits = |v: Option<f64>| v.map(f64::to_bits);
        assert_eq!(row.mean_treated_after.to_bits(), all.mean_treated.to_bits());
        assert_eq!(row.mean_control_after.to_bits(), all.mean_control.to_bits());
        assert_eq!(bits(row.smd_after), bits(all.smd));
        assert_eq!(bits(row.variance_ratio_after), bits(all.variance_ratio));
        assert_eq!(bits(row.ecdf_mean_after), bits(all.ecdf_mean));
        assert_eq!(bits(row.ecdf_max_after), bits(all.ecdf_max));
        assert_eq!(bits(row.std_pair_dist_after), bits(all.std_pair_dist));
        assert!(row.variance_ratio_after.is_some() != binary);
    }
}

/// The fused moments are the separate functions' numbers to the bit (sums from −0 in
/// row order), with negative zeros, zero weights and a wide range of magnitudes.
#[test]
fn fused_moments_equal_the_separate_sums() {
    let cases: [(&[f64], &[f64]); 4] = [
        (
            &[1.5, -2.25, 1e10, 3.0, -0.0, 7.0],
            &[1.0, 0.0, 0.5, 2.0, 1.0, 0.25],
        ),
        (&[-0.0, -0.0], &[1.0, 3.0]),
        (&[0.1, 0.2, 0.30000000000000004], &[1.0, 1.0, 1.0]),
        (&[1e-300, -1e300, 5.0], &[0.125, 1e-3, 7.0]),
    ];
    for (x, w) in cases {
        let group = || x.iter().copied().zip(w);
        let (sw, mean, var) = moments_of(group, true);
        assert_eq!(sw.to_bits(), w.iter().sum::<f64>().to_bits(), "{x:?}");
        assert_eq!(mean.to_bits(), weighted_mean_of(group).to_bits(), "{x:?}");
        let var = var.expect("asked for");
        assert_eq!(
            var.to_bits(),
            reliability_variance_of(group).to_bits(),
            "{x:?}"
        );
        let (_, mean_only, none) = moments_of(group, false);
        assert_eq!(mean_only.to_bits(), mean.to_bits());
        assert!(none.is_none());
    }
}

/// With every weight 1, the moments of some rows of a column are [`moments_of`]'s to
/// the bit: groups of rows shorter and longer than the groups the divisions are made
/// in, negative zeros, magnitudes from 1e-300 to 1e300, and no rows at all.
#[test]
fn unit_moments_equal_the_weighted_sums() {
    let mut state = 17u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let values: Vec<f64> = (0..1000)
        .map(|i| match i % 97 {
            3 => -0.0,
            7 => 1e300 * (next() - 0.5),
            11 => 1e-300,
            _ => 100.0 * next() - 30.0,
        })
        .collect();
    let all: Vec<usize> = (0..values.len()).collect();
    let every_third: Vec<usize> = (0..values.len()).step_by(3).collect();
    let sets: [&[usize]; 6] = [&[], &[3], &[5, 6], &all[..64], &all[..130], &every_third];
    for rows in sets {
        for variance in [true, false] {
            let group = || rows.iter().map(|&i| (values[i], &1.0));
            let (sw, mean, var) = unit_moments_of(&values, rows, variance);
            let (sw_ref, mean_ref, var_ref) = moments_of(group, variance);
            let n = rows.len();
            assert_eq!(sw.to_bits(), sw_ref.to_bits(), "{n} rows");
            assert_eq!(mean.to_bits(), mean_ref.to_bits(), "{n} rows");
            assert_eq!(var.map(f64::to_bits), var_ref.map(f64::to_bits), "{n} rows");
            assert_eq!(var.is_some(), variance);
        }
    }
    // The large values dominate some groups' sums: the test covers both regimes.
    let small: Vec<usize> = (0..values.len()).filter(|i| i % 97 != 7).collect();
    let (_, mean, var) = unit_moments_of(&values, &small, true);
    let (_, mean_ref, var_ref) = moments_of(|| small.iter().map(|&i| (values[i], &1.0)), true);
    assert_eq!(
        (mean.to_bits(), var.map(f64::to_bits)),
        (mean_ref.to_bits(), var_ref.map(f64::to_bits))
    );
}

/// The balance table made in two halves (before the matching's weights are known, then
/// with them) is the table made at once, to the bit, in all 48 stored runs.
#[test]
fn prepared_halves_give_the_table_to_the_bit() {
    for (run, _) in RUNS {
        let case = load(run);
        let pairs: Vec<(usize, usize)> = case
            .match_matrix
            .iter()
            .flat_map(|(t, cs)| cs.iter().map(move |&c| (*t, c)))
            .collect();
        let names: Vec<String> = case.columns.iter().map(|(n, _)| n.to_string()).collect();
        let values = |j: usize| case.columns[j].1.to_vec();
        let whole = balance_table_by_column(&names, values, &case.treated, &case.weights, &pairs)
            .unwrap_or_else(|e| panic!("{run}: {e}"));
        let prepared =
            prepare_columns(&names, values, &case.treated).unwrap_or_else(|e| panic!("{run}: {e}"));
        let halves = finish_columns(prepared, &case.treated, &case.weights, &pairs)
            .unwrap_or_else(|e| panic!("{run}: {e}"));
        assert_eq!(format!("{halves:?}"), format!("{whole:?}"), "{run}");
    }
}

/// With every weight 1, the eCDF statistics divide once per group instead of once per
/// row: the numbers of the same weights given row by row, to the bit, on the grid and in
/// the walk over the sorted rows.
#[test]
fn unit_weights_give_the_ecdf_statistics_of_weights_of_one() {
    use super::ecdf::{ecdf_in_order, EcdfPoints};
    use super::sample::Weights;
    let mut u = crate::test_support::uniform_stream(31);
    let n = 100_000;
    let treated: Vec<bool> = (0..n).map(|_| u() < 0.03).collect();
    let values: Vec<f64> = (0..n).map(|_| (u() * 5_000.0).floor() / 100.0).collect();
    let ones = vec![1.0; n];
    let n1 = treated.iter().filter(|&&t| t).count() as f64;
    let totals = (n1, n as f64 - n1);
    let bits = |(a, b): (f64, f64)| (a.to_bits(), b.to_bits());
    let grid = EcdfPoints::with_grid(&values, true);
    assert!(matches!(grid, EcdfPoints::Grid { .. }));
    assert_eq!(
        bits(grid.differences(&treated, Weights::Unit, totals)),
        bits(grid.differences(&treated, Weights::Given(&ones), totals))
    );
    let order = ValueOrder::of(&values);
    let (mean, max) = ecdf_in_order(&order, &treated, Weights::Unit, totals);
    assert!(mean > 0.0 && max > mean);
    assert_eq!(
        bits((mean, max)),
        bits(ecdf_in_order(
            &order,
            &treated,
            Weights::Given(&ones),
            totals
        ))
    );
}
