//! Properties of the matcher: it does not depend on the row order, and it agrees with a
//! brute-force scan of the rules.

use std::collections::{BTreeMap, HashMap};

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::sets;
use crate::stats::balance::reference::load;
use crate::stats::matching::order::visiting_order;
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

/// A direct transcription of the notes' §4 scan over all units sorted by
/// (distance, tie key), with real-valued gaps and a correct "already matched"
/// check (verify_notes.py's `nn_match(int_abs=False, off_by_one=False)`), plus
/// exact strata. O(n) per match; used to check the fast version.
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
    for _ in 0..ratio {
        for &t in visit {
            let mine = out.get(&t).cloned().unwrap_or_default();
            let search = |step: isize| -> Option<usize> {
                let mut k = pos[t] as isize + step;
                while k >= 0 && (k as usize) < n {
                    let u = ord[k as usize];
                    if treated[u] || mine.contains(&u) || !can[u] || strata[u] != strata[t] {
                        k += step;
                        continue;
                    }
                    if width.is_some_and(|w| (d[t] - d[u]).abs() > w) {
                        return None;
                    }
                    return Some(u);
                }
                None
            };
            let pick = match (search(-1), search(1)) {
                (Some(l), Some(r)) => Some(if (d[t] - d[l]).abs() <= (d[t] - d[r]).abs() {
                    l
                } else {
                    r
                }),
                (l, r) => l.or(r),
            };
            if let Some(u) = pick {
                out.entry(t).or_default().push(u);
                if !replace {
                    can[u] = false;
                }
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
