//! Orders and tie rules: the sort key of the controls by (stratum, distance) and the
//! order in which the treated units choose (MatchIt's `m.order`).

use std::cmp::Ordering;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{MatchOrder, NearestNeighbour};

/// Packs (stratum, distance) into one integer with the same order: the stratum in
/// the high 64 bits, the distance's IEEE bits mapped to an order-preserving unsigned
/// integer in the low 64 (−0.0 taken as 0.0, as R compares them equal).
pub(super) fn pack_stratum_distance(stratum: u32, distance: f64) -> u128 {
    let bits = (distance + 0.0).to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    (u128::from(stratum) << 64) | u128::from(ordered)
}

/// Orders finite distances (validated); -0.0 and 0.0 compare equal as in R.
fn cmp_distance(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// Indices into the treated units in the order they choose (MatchIt's `m.order`).
pub(super) fn visiting_order(
    params: &NearestNeighbour,
    treated_units: &[usize],
    distance: &[f64],
    key: &dyn Fn(usize) -> u64,
) -> Vec<usize> {
    let mut visit: Vec<usize> = (0..treated_units.len()).collect();
    let d = |t: usize| distance[treated_units[t]];
    let k = |t: usize| key(treated_units[t]);
    match params.order {
        // Closest and farthest order pairs, not treated units (closest.rs); with
        // replacement, where they are used as orders, MatchIt takes the data order.
        MatchOrder::Data | MatchOrder::Closest | MatchOrder::Farthest => {}
        MatchOrder::Largest => {
            visit.sort_unstable_by(|&a, &b| cmp_distance(d(b), d(a)).then_with(|| k(a).cmp(&k(b))))
        }
        MatchOrder::Smallest => {
            visit.sort_unstable_by(|&a, &b| cmp_distance(d(a), d(b)).then_with(|| k(a).cmp(&k(b))))
        }
        MatchOrder::Random => {
            visit.sort_unstable_by_key(|&t| k(t));
            visit.shuffle(&mut ChaCha8Rng::seed_from_u64(params.seed));
        }
    }
    visit
}
