//! Small designs checked by hand: strata, weights, ties, subclasses, orders, warnings
//! and errors.

use std::collections::{BTreeMap, HashMap};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::sets;
use crate::stats::balance::reference::load;
use crate::stats::matching::nearest::sample_sd;
use crate::stats::matching::*;

/// Exact matching keeps every pair within its stratum, and the caliper's SD is
/// taken over all units (MatchIt computes it before splitting into strata).
#[test]
fn exact_strata_use_the_caliper_of_the_whole_sample() {
    let d = [0.0, 0.1, 5.0, 5.3, 10.0, 10.05, 0.05];
    let treated = [true, false, true, false, true, false, false];
    let strata = [1, 1, 2, 2, 3, 3, 2];
    let params = NearestNeighbour {
        caliper: Some(0.05),
        ..Default::default()
    }
    .validate()
    .expect("valid");
    let m = params
        .fit(&MatchInput::new(&d, &treated).with_exact(&strata))
        .expect("fit");
    let width = 0.05 * sample_sd(&d);
    assert_eq!(m.caliper_width, Some(width));
    assert!(width > 0.1 && width < 0.3, "{width}");
    // Stratum 2: the control at 0.05 is nearer to nothing in its stratum within the
    // caliper (5.0 vs 5.3 is 0.3 > width); unit 6 (stratum 2) is not eligible for
    // the treated unit at 0.0 (stratum 1).
    assert_eq!(sets(&m), BTreeMap::from([(0, vec![1]), (4, vec![5])]));
}

/// MatchIt's weights for k:1 matching: controls share 1/k of their treated unit,
/// rescaled to sum to the number of matched controls.
#[test]
fn weights_follow_matchit_rescaling() {
    // Treated 0 gets 2 controls (1, 2); treated 3 gets 1 (4): raw control weights
    // 1/2, 1/2, 1 → sum 2, 3 matched → × 3/2.
    let d = [0.0, -0.1, 0.1, 5.0, 5.1, 20.0];
    let treated = [true, false, false, true, false, false];
    let params = NearestNeighbour {
        ratio: 2,
        caliper: Some(0.1),
        ..Default::default()
    }
    .validate()
    .expect("valid");
    let m = params.fit(&MatchInput::new(&d, &treated)).expect("fit");
    assert_eq!(m.weights, vec![1.0, 0.75, 0.75, 1.0, 1.5, 0.0]);
    assert_eq!((m.n_treated_matched, m.n_controls_matched), (2, 3));
    assert_eq!(
        m.subclass,
        Some(vec![Some(1), Some(1), Some(1), Some(2), Some(2), None])
    );
}

/// Left wins an exact tie in gap; among controls at one distance the tie key
/// decides which side is nearer (smaller key on the left).
#[test]
fn ties_go_left_and_follow_the_tie_key() {
    let d = [0.0, -0.5, 0.5];
    let treated = [true, false, false];
    let m = NearestNeighbour::default()
        .validate()
        .expect("valid")
        .fit(&MatchInput::new(&d, &treated))
        .expect("fit");
    assert_eq!(sets(&m), BTreeMap::from([(0, vec![1])]));
    // Units at one distance are ordered by tie key; the treated unit's nearest
    // neighbours in that order are its candidates.
    let d = [1.0, 1.0, 1.0];
    let treated = [false, true, false];
    // Sorted by key: [1, 2, 0] → c2, c0, t (left c0); [1, 0, 2] → t, c0, c2 (right
    // c0); [5, 9, 7] → c0, c2, t (left c2); [2, 1, 0] → c2, t, c0 (both at gap 0:
    // left c2).
    for (keys, want) in [
        ([1, 2, 0], 0),
        ([1, 0, 2], 0),
        ([5, 9, 7], 2),
        ([2, 1, 0], 2),
    ] {
        let m = NearestNeighbour::default()
            .validate()
            .expect("valid")
            .fit(&MatchInput::new(&d, &treated).with_tie_key(&keys))
            .expect("fit");
        assert_eq!(sets(&m), BTreeMap::from([(1, vec![want])]), "keys {keys:?}");
    }
}

/// Subclasses are numbered by the treated units' tie keys (default: row order,
/// which is MatchIt's `get_matches()` numbering), whatever the matching order.
#[test]
fn subclasses_follow_tie_key_order() {
    let d = [3.0, 2.9, 1.0, 1.1, 2.0, 2.1];
    let treated = [true, false, true, false, true, false];
    let params = NearestNeighbour::default().validate().expect("valid");
    let m = params.fit(&MatchInput::new(&d, &treated)).expect("fit");
    assert_eq!(
        m.subclass,
        Some(vec![Some(1), Some(1), Some(2), Some(2), Some(3), Some(3)])
    );
    let keys = [30, 0, 10, 1, 20, 2];
    let m = params
        .fit(&MatchInput::new(&d, &treated).with_tie_key(&keys))
        .expect("fit");
    assert_eq!(
        m.subclass,
        Some(vec![Some(3), Some(3), Some(1), Some(1), Some(2), Some(2)])
    );
}

/// With replacement each treated unit takes its nearest controls independently,
/// so the order has no effect (MatchIt forces "data"); a control can serve two
/// treated units, and the per-unit subclass is undefined.
#[test]
fn with_replacement_order_is_irrelevant_and_controls_are_reused() {
    let case = load("lalonde_r3_cal0.2_repl_intended");
    let input = MatchInput::new(&case.distance, &case.treated);
    let fit = |order| {
        NearestNeighbour {
            ratio: 3,
            caliper: Some(0.2),
            replace: true,
            order,
            seed: 1,
        }
        .validate()
        .expect("valid")
        .fit(&input)
        .expect("fit")
    };
    let data = fit(MatchOrder::Data);
    for order in [
        MatchOrder::Largest,
        MatchOrder::Smallest,
        MatchOrder::Random,
    ] {
        assert_eq!(fit(order), data, "{order:?}");
    }
    assert_eq!(data.subclass, None);
    let mut uses: HashMap<usize, usize> = HashMap::new();
    for p in &data.pairs {
        *uses.entry(p.control).or_default() += 1;
    }
    assert!(uses.values().any(|&k| k > 1));
    assert!(data.warnings.is_empty());
}

/// Random order is a seeded permutation: the same seed gives the same result, and
/// other seeds give other matchings where the order matters.
#[test]
fn random_order_is_reproducible_from_its_seed() {
    let case = load("lalonde_r1_nocal_norepl");
    let input = MatchInput::new(&case.distance, &case.treated);
    let fit = |seed| {
        NearestNeighbour {
            order: MatchOrder::Random,
            seed,
            ..Default::default()
        }
        .validate()
        .expect("valid")
        .fit(&input)
        .expect("fit")
    };
    assert_eq!(fit(1), fit(1));
    assert_ne!(sets(&fit(1)), sets(&fit(2)));
}

/// Matching stops when the controls run out; MatchIt's warnings are reported.
#[test]
fn fewer_controls_than_treated_leaves_treated_unmatched() {
    let d = [0.0, 1.0, 2.0, 0.5];
    let treated = [true, true, true, false];
    let m = NearestNeighbour::default()
        .validate()
        .expect("valid")
        .fit(&MatchInput::new(&d, &treated))
        .expect("fit");
    assert_eq!((m.n_treated_matched, m.n_controls_matched), (1, 1));
    // Largest first: treated at 2.0 takes the only control.
    assert_eq!(sets(&m), BTreeMap::from([(2, vec![3])]));
    assert_eq!(
        m.warnings,
        vec![MatchWarning::FewerControlsThanTreated {
            n_control: 1,
            n_treated: 3
        }]
    );
    let d = [0.0, 0.5, 0.6];
    let treated = [true, false, false];
    let m = NearestNeighbour {
        ratio: 3,
        ..Default::default()
    }
    .validate()
    .expect("valid")
    .fit(&MatchInput::new(&d, &treated))
    .expect("fit");
    assert_eq!(
        m.warnings,
        vec![MatchWarning::FewerControlsThanRatio { ratio: 3 }]
    );
    assert_eq!(sets(&m), BTreeMap::from([(0, vec![1, 2])]));
}

/// A caliper nobody fits in is not an error.
#[test]
fn caliper_that_matches_nobody_is_not_an_error() {
    let d = [0.0, 10.0, 20.0, 30.0];
    let treated = [true, false, true, false];
    let m = NearestNeighbour {
        caliper: Some(0.01),
        ..Default::default()
    }
    .validate()
    .expect("valid")
    .fit(&MatchInput::new(&d, &treated))
    .expect("fit");
    assert_eq!((m.n_treated_matched, m.n_controls_matched), (0, 0));
    assert!(m.pairs.is_empty());
    assert_eq!(m.weights, vec![0.0; 4]);
}

#[test]
fn invalid_parameters_and_inputs_are_errors() {
    let nn = NearestNeighbour::default;
    assert_eq!(
        NearestNeighbour { ratio: 0, ..nn() }.validate(),
        Err(MatchError::ZeroRatio)
    );
    for c in [0.0, -0.2, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            NearestNeighbour {
                caliper: Some(c),
                ..nn()
            }
            .validate(),
            Err(MatchError::InvalidCaliper(_))
        ));
    }
    let p = nn().validate().expect("valid");
    let d = [0.0, 1.0, 2.0];
    let t = [true, false, false];
    assert!(matches!(
        p.fit(&MatchInput::new(&d, &[true, false])),
        Err(MatchError::LengthMismatch {
            what: "treated",
            ..
        })
    ));
    assert!(matches!(
        p.fit(&MatchInput::new(&d, &t).with_exact(&[1])),
        Err(MatchError::LengthMismatch { what: "exact", .. })
    ));
    assert!(matches!(
        p.fit(&MatchInput::new(&d, &t).with_tie_key(&[1, 2])),
        Err(MatchError::LengthMismatch {
            what: "tie_key",
            ..
        })
    ));
    assert!(matches!(
        p.fit(&MatchInput::new(&[0.0, f64::NAN, 1.0], &t)),
        Err(MatchError::NonFiniteDistance { row: 1, .. })
    ));
    assert!(matches!(
        p.fit(&MatchInput::new(&[0.0, f64::NEG_INFINITY, 1.0], &t)),
        Err(MatchError::NonFiniteDistance { row: 1, .. })
    ));
    assert_eq!(
        p.fit(&MatchInput::new(&d, &[false; 3])),
        Err(MatchError::NoTreated)
    );
    assert_eq!(
        p.fit(&MatchInput::new(&d, &[true; 3])),
        Err(MatchError::NoControls)
    );
    assert_eq!(
        p.fit(&MatchInput::new(&[], &[])),
        Err(MatchError::NoTreated)
    );
    assert_eq!(
        p.fit(&MatchInput::new(&d, &t).with_tie_key(&[4, 9, 4])),
        Err(MatchError::DuplicateTieKey {
            key: 4,
            first: 0,
            second: 2
        })
    );
}

/// 1,000,000 units (10,000 treated), 5:1 with a 0.2 SD caliper.
/// `cargo test --release -- --ignored --nocapture million`
#[test]
#[ignore = "timing; run with --release"]
fn million_units_match_in_well_under_a_second() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let n = 1_000_000;
    let normal = |rng: &mut ChaCha8Rng| {
        let (u, v): (f64, f64) = (rng.random(), rng.random());
        (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let treated: Vec<bool> = (0..n).map(|i| i % 100 == 0).collect();
    let d: Vec<f64> = treated
        .iter()
        .map(|&t| normal(&mut rng) + if t { 1.0 } else { -1.0 })
        .collect();
    let keys: Vec<u64> = (0..n as u64).rev().collect();
    let params = NearestNeighbour {
        ratio: 5,
        caliper: Some(0.2),
        ..Default::default()
    }
    .validate()
    .expect("valid");
    let input = MatchInput::new(&d, &treated).with_tie_key(&keys);
    let start = std::time::Instant::now();
    let m = params.fit(&input).expect("fit");
    let elapsed = start.elapsed();
    println!(
        "1e6 units, 10,000 treated, 5:1, caliper 0.2 SD: {elapsed:?} ({} treated, {} controls matched)",
        m.n_treated_matched, m.n_controls_matched
    );
    assert!(m.n_treated_matched > 9_000);
    assert_eq!(m.pairs.len(), m.n_controls_matched);
    assert!(elapsed.as_secs_f64() < 1.0);
}

/// MatchIt 4.7.2's rule for equal gaps on both sides: the control its scan meets
/// first, counting every unit on the way, treated ones included. Sorted by distance:
/// L 0.0 (control), T2 0.5 (treated), A 1.0 (treated), R 2.0 (control). A chooses
/// first (largest) and has L and R at gap 1; R is 1 step away, L 2 steps (past T2),
/// so A takes R, and T2 the remaining L (4.5.1 took the left one, L). MatchIt 4.7.2
/// gives these sets for `matchit(t ~ x, data, distance = d)`.
#[test]
fn equal_gaps_go_to_the_control_met_first() {
    let d = [1.0, 0.0, 0.5, 2.0];
    let treated = [true, false, true, false];
    let m = NearestNeighbour::default()
        .validate()
        .expect("valid")
        .fit(&MatchInput::new(&d, &treated))
        .expect("fit");
    assert_eq!(sets(&m), BTreeMap::from([(0, vec![3]), (2, vec![1])]));
}

/// `closest` matches the closest (treated, nearest control) pair first, `farthest` the
/// farthest. t1 = 0 and t2 = 1 both have c1 = 0.9 nearest (gaps 0.9 and 0.1); c2 = 3.
/// closest: t2 takes c1, t1 falls back on c2; farthest: t1 takes c1, t2 gets c2.
/// MatchIt 4.7.2 gives these sets for each of the four `m.order`s.
#[test]
fn closest_and_farthest_order_the_pairs_by_gap() {
    let d = [0.0, 1.0, 0.9, 3.0];
    let treated = [true, true, false, false];
    let fit = |order| {
        NearestNeighbour {
            order,
            ..Default::default()
        }
        .validate()
        .expect("valid")
        .fit(&MatchInput::new(&d, &treated))
        .expect("fit")
    };
    let closest = BTreeMap::from([(0, vec![3]), (1, vec![2])]);
    let farthest = BTreeMap::from([(0, vec![2]), (1, vec![3])]);
    assert_eq!(sets(&fit(MatchOrder::Closest)), closest);
    assert_eq!(sets(&fit(MatchOrder::Farthest)), farthest);
    // Here they agree with largest and smallest first.
    assert_eq!(sets(&fit(MatchOrder::Largest)), closest);
    assert_eq!(sets(&fit(MatchOrder::Smallest)), farthest);
}
