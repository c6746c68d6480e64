//! Properties of the matcher: it does not depend on the row order, and it agrees with a
//! brute-force scan of the rules.

use std::collections::{BTreeMap, HashMap};

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::sets;
use crate::stats::balance::reference::load;
use crate::stats::matching::order::visiting_order;
use crate::stats::matching::scan::heap_select;
use crate::stats::matching::*;

fn shuffled(n: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    p.shuffle(rng);
    p
}

/// Rank of each id in sorted order: a tie key that travels with the unit.
fn id_ranks(ids: &[String]) -> Vec<u64> {
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    let rank: HashMap<&String, u64> = sorted
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, i as u64))
        .collect();
    ids.iter().map(|id| rank[id]).collect()
}

/// (treated id, control id, round, subclass) of every pair, and weight per id.
type Keyed = (Vec<(String, String, usize, usize)>, BTreeMap<String, u64>);

fn keyed(m: &Matching, ids: &[String]) -> Keyed {
    let mut pairs: Vec<_> = m
        .pairs
        .iter()
        .map(|p| {
            (
                ids[p.treated].clone(),
                ids[p.control].clone(),
                p.round,
                p.subclass,
            )
        })
        .collect();
    pairs.sort();
    let weights = ids
        .iter()
        .zip(&m.weights)
        .map(|(id, w)| (id.clone(), w.to_bits()))
        .collect();
    (pairs, weights)
}

/// Permuting the rows (and carrying the tie key along) changes nothing: not the
/// pairs, not the subclass labels, not a bit of the weights. lalonde has controls
/// at exactly equal distance, so this also exercises tie-breaking.
#[test]
fn result_does_not_depend_on_row_order() {
    let mut rng = ChaCha8Rng::seed_from_u64(20240611);
    for run in ["lalonde_r1_nocal_norepl", "nhefs_r1_nocal_norepl"] {
        let case = load(run);
        let keys = id_ranks(&case.ids);
        for ratio in [1, 3] {
            for caliper in [None, Some(0.2)] {
                for replace in [false, true] {
                    for order in [
                        MatchOrder::Largest,
                        MatchOrder::Smallest,
                        MatchOrder::Random,
                        MatchOrder::Closest,
                        MatchOrder::Farthest,
                    ] {
                        let params = NearestNeighbour {
                            ratio,
                            caliper,
                            replace,
                            order,
                            seed: 7,
                        }
                        .validate()
                        .expect("valid");
                        let input =
                            MatchInput::new(&case.distance, &case.treated).with_tie_key(&keys);
                        let reference = keyed(&params.fit(&input).expect("fit"), &case.ids);
                        for _ in 0..3 {
                            let perm = shuffled(case.ids.len(), &mut rng);
                            let pick = |v: &[f64]| perm.iter().map(|&i| v[i]).collect::<Vec<_>>();
                            let d = pick(&case.distance);
                            let t: Vec<bool> = perm.iter().map(|&i| case.treated[i]).collect();
                            let k: Vec<u64> = perm.iter().map(|&i| keys[i]).collect();
                            let ids: Vec<String> =
                                perm.iter().map(|&i| case.ids[i].clone()).collect();
                            let m = params
                                .fit(&MatchInput::new(&d, &t).with_tie_key(&k))
                                .expect("fit");
                            assert!(
                                keyed(&m, &ids) == reference,
                                "{run} ratio {ratio} caliper {caliper:?} replace {replace} {order:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// A direct transcription of MatchIt 4.7.2's search (`find_control_vec` in its
/// `src/internal.cpp`, as described in MATCHIT_NOTES.md part A) over all units sorted
/// by (distance, tie key): one unit per step, alternating left and right starting on
/// the left, from the outermost of the unit and its earlier matches; up to `want`
/// candidates per side; the `want` nearest kept as `std::partial_sort` keeps them.
/// Other strata are skipped after the caliper check, as MatchIt does with `exact`.
#[allow(clippy::too_many_arguments)]
fn find_control(
    t: usize,
    want: usize,
    mine: &[usize],
    d: &[f64],
    treated: &[bool],
    strata: &[u32],
    ord: &[usize],
    pos: &[usize],
    can: &[bool],
    width: Option<f64>,
) -> Vec<usize> {
    let n = d.len();
    let gap = |u: usize| (d[t] - d[u]).abs();
    let (mut lo, mut hi) = (pos[t], pos[t]);
    for &m in mine {
        lo = lo.min(pos[m]);
        hi = hi.max(pos[m]);
    }
    let min_gap = if mine.is_empty() {
        0.0
    } else {
        gap(ord[lo]).max(gap(ord[hi]))
    };
    let (mut stop_left, mut stop_right, mut left) = (false, false, false);
    let (mut n_left, mut n_right) = (0, 0);
    let mut found: Vec<(usize, f64)> = Vec::new();
    while !stop_left || !stop_right {
        left = if stop_left {
            false
        } else if stop_right {
            true
        } else {
            !left
        };
        let u = if left {
            if lo == 0 || n_left == want {
                stop_left = true;
                continue;
            }
            lo -= 1;
            ord[lo]
        } else {
            if hi == n - 1 || n_right == want {
                stop_right = true;
                continue;
            }
            hi += 1;
            ord[hi]
        };
        if treated[u] || !can[u] || mine.contains(&u) {
            continue;
        }
        let g = gap(u);
        let mut stop = width.is_some_and(|w| g > w);
        if !stop && g < min_gap {
            continue;
        }
        stop = stop || (found.len() >= want && found.iter().filter(|f| f.1 < g).count() >= want);
        if stop {
            if left {
                stop_left = true;
            } else {
                stop_right = true;
            }
            continue;
        }
        if strata[u] != strata[t] {
            continue;
        }
        found.push((u, g));
        let side = if left { &mut n_left } else { &mut n_right };
        *side += 1;
        if *side == want {
            if left {
                stop_left = true;
            } else {
                stop_right = true;
            }
        }
    }
    if found.len() <= want {
        found.sort_by(|a, b| a.1.total_cmp(&b.1));
        return found.into_iter().map(|f| f.0).collect();
    }
    // std::partial_sort's choice among equal gaps, then by gap as shine lists them.
    let gaps: Vec<f64> = found.iter().map(|f| f.1).collect();
    let mut kept: Vec<(usize, f64)> = heap_select(&gaps, want)
        .into_iter()
        .map(|i| found[i])
        .collect();
    kept.sort_by(|a, b| a.1.total_cmp(&b.1));
    kept.into_iter().map(|f| f.0).collect()
}

#[allow(clippy::too_many_arguments)]
fn brute_force(
    d: &[f64],
    treated: &[bool],
    strata: &[u32],
    keys: &[u64],
    visit: &[usize],
    ratio: usize,
    width: Option<f64>,
    replace: bool,
) -> BTreeMap<usize, Vec<usize>> {
    let n = d.len();
    let mut ord: Vec<usize> = (0..n).collect();
    // partial_cmp, not total_cmp: -0.0 and 0.0 are the same distance (as in R).
    ord.sort_by(|&a, &b| {
        d[a].partial_cmp(&d[b])
            .expect("finite")
            .then(keys[a].cmp(&keys[b]))
    });
    let mut pos = vec![0; n];
    for (k, &u) in ord.iter().enumerate() {
        pos[u] = k;
    }
    let mut can: Vec<bool> = treated.iter().map(|t| !t).collect();
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    if replace {
        // One search per treated unit for all its controls (MatchIt's data order).
        for &t in visit {
            let got = find_control(t, ratio, &[], d, treated, strata, &ord, &pos, &can, width);
            if !got.is_empty() {
                out.insert(t, got);
            }
        }
        return out;
    }
    for _ in 0..ratio {
        for &t in visit {
            let mine = out.get(&t).cloned().unwrap_or_default();
            let got = find_control(t, 1, &mine, d, treated, strata, &ord, &pos, &can, width);
            if let Some(&u) = got.first() {
                out.entry(t).or_default().push(u);
                can[u] = false;
                if !can.iter().any(|&c| c) {
                    return out;
                }
            }
        }
    }
    out
}

/// The fast matcher equals the brute-force scan on random designs with many exact
/// ties (distances on a coarse grid), several strata, treated units outnumbering
/// controls, every ratio/caliper/replacement/order combination.
#[test]
fn agrees_with_brute_force_scan_on_designs_with_ties_and_strata() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    for trial in 0..300 {
        let n = rng.random_range(2..120);
        let grid = [0.25, 0.5, 1.0][trial % 3];
        let d: Vec<f64> = (0..n)
            .map(|_| (rng.random_range(-3.0..3.0_f64) / grid).round() * grid)
            .collect();
        let share = [0.2, 0.5, 0.8][trial % 3];
        let treated: Vec<bool> = (0..n).map(|_| rng.random_bool(share)).collect();
        if treated.iter().all(|&t| t) || treated.iter().all(|&t| !t) {
            continue;
        }
        let n_strata = [1, 2, 4][(trial / 3) % 3];
        let strata: Vec<u32> = (0..n).map(|_| rng.random_range(0..n_strata)).collect();
        let keys: Vec<u64> = shuffled(n, &mut rng)
            .into_iter()
            .map(|k| k as u64 * 3 + 1)
            .collect();
        for ratio in [1, 2, 4] {
            for caliper in [None, Some(0.1), Some(0.5)] {
                for replace in [false, true] {
                    for order in [
                        MatchOrder::Largest,
                        MatchOrder::Smallest,
                        MatchOrder::Data,
                        MatchOrder::Random,
                    ] {
                        let params = NearestNeighbour {
                            ratio,
                            caliper,
                            replace,
                            order,
                            seed: trial as u64,
                        }
                        .validate()
                        .expect("valid");
                        let input = MatchInput::new(&d, &treated)
                            .with_exact(&strata)
                            .with_tie_key(&keys);
                        let m = params.fit(&input).expect("fit");
                        let treated_rows: Vec<usize> = (0..n).filter(|&i| treated[i]).collect();
                        let visit: Vec<usize> =
                            visiting_order(params.params(), &treated_rows, &d, &|i| keys[i])
                                .into_iter()
                                .map(|t| treated_rows[t])
                                .collect();
                        let want = brute_force(
                            &d,
                            &treated,
                            &strata,
                            &keys,
                            &visit,
                            ratio,
                            m.caliper_width,
                            replace,
                        );
                        assert_eq!(
                            sets(&m),
                            want,
                            "trial {trial}: n {n} ratio {ratio} caliper {caliper:?} replace {replace} {order:?}"
                        );
                        for p in &m.pairs {
                            assert_eq!(strata[p.treated], strata[p.control]);
                        }
                    }
                }
            }
        }
    }
}

/// A matching started from the control order of an earlier matching on the same
/// distances, strata and keys (another ratio or caliper) gives the same result as one
/// that sorts; an order that is not that order (shuffled, short, or holding a treated
/// unit) is ignored.
#[test]
fn a_given_control_order_changes_nothing() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for trial in 0..100 {
        let n = rng.random_range(4..150);
        let d: Vec<f64> = (0..n)
            .map(|_| (rng.random_range(-3.0..3.0_f64) * 4.0).round() / 4.0)
            .collect();
        let treated: Vec<bool> = (0..n).map(|_| rng.random_bool(0.3)).collect();
        if treated.iter().all(|&t| t) || treated.iter().all(|&t| !t) {
            continue;
        }
        let strata: Vec<u32> = (0..n)
            .map(|_| rng.random_range(0..[1, 3][trial % 2]))
            .collect();
        let keys: Vec<u64> = shuffled(n, &mut rng)
            .into_iter()
            .map(|k| k as u64)
            .collect();
        let input = MatchInput::new(&d, &treated)
            .with_exact(&strata)
            .with_tie_key(&keys);
        let first = NearestNeighbour {
            ratio: 2,
            caliper: Some(0.5),
            ..NearestNeighbour::default()
        }
        .validate()
        .expect("valid");
        let (_, order) = first.fit_with_order(&input).expect("fit");
        let mut shuffled_order = order.clone();
        shuffled_order.shuffle(&mut rng);
        let treated_unit = (0..n).find(|&i| treated[i]).expect("a treated unit");
        let mut with_treated = order.clone();
        with_treated[0] = treated_unit;
        for ratio in [1, 3] {
            for caliper in [None, Some(0.1)] {
                let again = NearestNeighbour {
                    ratio,
                    caliper,
                    ..NearestNeighbour::default()
                }
                .validate()
                .expect("valid");
                let want = again.fit(&input).expect("fit");
                for given in [&order, &shuffled_order, &order[1..].to_vec(), &with_treated] {
                    let (got, used) = again
                        .fit_with_order(&input.with_control_order(given))
                        .expect("fit");
                    assert_eq!(
                        format!("{got:?}"),
                        format!("{want:?}"),
                        "trial {trial}, ratio {ratio}, caliper {caliper:?}"
                    );
                    assert_eq!(used, order);
                }
            }
        }
    }
}

/// The controls' order for the nearest-neighbour rounds, made by buckets of distance
/// and small sorts, is the order of one sort by (distance, tie key, unit): distances
/// with many ties, −0 beside +0, spans from denormal to 1e300, all equal, and tie keys
/// in a shuffled order or the units' own.
#[test]
fn bucketed_control_order_is_one_sort_by_distance_and_tie_key() {
    use crate::stats::matching::nearest::compact_order;
    use crate::stats::matching::order::pack_stratum_distance;
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let n = 5_000;
    type Draw = Box<dyn Fn(&mut ChaCha8Rng) -> f64>;
    let spans: [(&str, Draw); 5] = [
        (
            "logits with ties",
            Box::new(|r| (r.random::<f64>() * 40.0).floor() / 8.0 - 4.0),
        ),
        (
            "signed zeros",
            Box::new(|r| if r.random::<bool>() { 0.0 } else { -0.0 }),
        ),
        ("huge", Box::new(|r| (r.random::<f64>() - 0.5) * 1e300)),
        ("denormal", Box::new(|r| r.random::<f64>() * 1e-310)),
        (
            "skewed",
            Box::new(|r| (-r.random::<f64>().max(1e-300).ln()).powi(6)),
        ),
    ];
    for (name, draw) in &spans {
        let distance: Vec<f64> = (0..n).map(|_| draw(&mut rng)).collect();
        let units: Vec<usize> = (0..n).filter(|i| i % 7 != 3).collect();
        let shuffled_keys: Vec<u64> = shuffled(n, &mut rng).iter().map(|&k| k as u64).collect();
        for keys in [None, Some(shuffled_keys.as_slice())] {
            let key = |i: usize| keys.map_or(i as u64, |k| k[i]);
            let mut expected = units.clone();
            expected.sort_by_key(|&i| (pack_stratum_distance(0, distance[i]), key(i), i));
            let (order, sorted) = compact_order(&distance, keys, &units).expect("fits 32 bits");
            assert_eq!(order, expected, "{name}, tie keys {}", keys.is_some());
            let bits: Vec<u64> = sorted.iter().map(|d| d.to_bits()).collect();
            let want: Vec<u64> = expected
                .iter()
                .map(|&i| (distance[i] + 0.0).to_bits())
                .collect();
            assert_eq!(bits, want, "{name}");
        }
    }
    let all_equal = vec![0.25; 300];
    let units: Vec<usize> = (0..300).rev().step_by(2).rev().collect();
    let (order, _) = compact_order(&all_equal, None, &units).expect("fits");
    assert_eq!(order, units);
}
