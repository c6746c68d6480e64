//! MatchIt 4.6's orders over pairs, `m.order = "closest"` and `"farthest"`, without
//! replacement.
//!
//! Each round (one per control of k:1 matching) starts by finding every active
//! treated unit's nearest available control. The (treated, control) pairs are queued
//! by their distance gap, increasing for closest, decreasing for farthest, ties in
//! tie-key order of the treated units. The pair at the head of the queue is matched
//! if its control is still available. Otherwise the treated unit finds its nearest
//! available control again and goes back into the queue at its new gap: before the
//! pairs of equal gap for closest, after them for farthest (where MatchIt's
//! `std::lower_bound` over the rest of its ordered list puts it). A treated unit with
//! no control left within its stratum and caliper drops out for good; matching stops
//! when no treated unit or no control is left.

use std::collections::BTreeSet;

use super::nearest::{nearest_in_pool, Slot};
use super::pool::Pool;
use super::scan::Ranks;

/// Matched controls (positions among the sorted controls) per treated unit, in round
/// order.
///
/// `by_key`: the treated units (indices into `slots`) in tie-key order; `ranks`:
/// for MatchIt's choice between equal gaps (scan.rs);
/// `gap(t, c)`: the distance gap of treated unit `t` to sorted control `c`;
/// `within(g)`: whether a gap passes the caliper.
#[allow(clippy::too_many_arguments)]
pub(super) fn match_by_pair_distance(
    ratio: usize,
    farthest: bool,
    n_controls: usize,
    slots: &[Slot],
    by_key: &[usize],
    ranks: &Ranks,
    gap: &dyn Fn(usize, usize) -> f64,
    within: &dyn Fn(f64) -> bool,
) -> Vec<Vec<usize>> {
    let n_treated = slots.len();
    let mut matched: Vec<Vec<usize>> = vec![Vec::new(); n_treated];
    let mut pool = Pool::new(n_controls);
    let mut controls_left = n_controls;
    let mut active = vec![true; n_treated];
    let mut n_active = n_treated;
    // Queue order: the gap (non-negative, so its IEEE bits order it), reversed for
    // farthest, then a tie rank.
    let key = |g: f64, tie: i64| {
        let bits = g.to_bits();
        (if farthest { u64::MAX - bits } else { bits }, tie)
    };
    let mut candidate = vec![0usize; n_treated];

    for _ in 0..ratio {
        let mut queue: BTreeSet<((u64, i64), usize)> = BTreeSet::new();
        for (rank, &t) in by_key.iter().enumerate() {
            if !active[t] {
                continue;
            }
            let slot = slots[t];
            let found = nearest_in_pool(
                &mut pool,
                slot,
                |c| gap(t, c),
                within,
                |l, r| ranks.left_wins_tie(t, matched[t].iter().copied(), l, r),
            );
            match found {
                Some((c, g)) => {
                    candidate[t] = c;
                    queue.insert((key(g, rank as i64), t));
                }
                None => {
                    active[t] = false;
                    n_active -= 1;
                }
            }
        }
        // Re-queued pairs: closest puts them before equal gaps (ranks -1, -2, ...,
        // the latest first), farthest after them (ranks n, n + 1, ...).
        let mut requeued: i64 = 0;
        while controls_left > 0 && n_active > 0 {
            let Some((_, t)) = queue.pop_first() else {
                break;
            };
            let c = candidate[t];
            if pool.nearest_right(c) == Some(c) {
                matched[t].push(c);
                pool.remove(c);
                controls_left -= 1;
                if matched[t].len() == ratio {
                    active[t] = false;
                    n_active -= 1;
                }
                continue;
            }
            // The scan starts again from the control just lost, too.
            let slot = slots[t];
            let found = nearest_in_pool(
                &mut pool,
                slot,
                |c| gap(t, c),
                within,
                |l, r| {
                    let starts = matched[t].iter().copied().chain(std::iter::once(c));
                    ranks.left_wins_tie(t, starts, l, r)
                },
            );
            match found {
                Some((c, g)) => {
                    candidate[t] = c;
                    requeued += 1;
                    let tie = if farthest {
                        n_treated as i64 + requeued
                    } else {
                        -requeued
                    };
                    queue.insert((key(g, tie), t));
                }
                None => {
                    active[t] = false;
                    n_active -= 1;
                }
            }
        }
    }
    matched
}
