//! Greedy nearest-neighbour matching: each treated unit takes the nearest available
//! control on either side of it among the controls sorted by (stratum, distance).

use super::closest::match_by_pair_distance;
use super::input::check_inputs;
use super::matched::assemble;
use super::order::{pack_stratum_distance, visiting_order};
use super::pool::Pool;
use super::scan::{with_replacement, Ranks};
use super::{MatchError, MatchInput, Matching, ValidNearestNeighbour};
use rayon::slice::ParallelSliceMut;

/// Per treated unit: its place among the sorted controls and its stratum's range.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    /// Number of sorted controls that come before the treated unit.
    pub(super) position: usize,
    /// First sorted control of the unit's stratum.
    pub(super) lo: usize,
    /// One past the last sorted control of the unit's stratum.
    pub(super) hi: usize,
}

/// The nearest control still in `pool` for a treated unit at `slot`, within its
/// stratum and the caliper: the nearest available one on each side, the left one
/// or the right one at equal gaps as `left_wins_tie(left, right)` says (scan.rs).
/// `gap(c)` is the unit's distance gap to sorted control `c`; `within(g)` says
/// whether a gap passes the caliper.
pub(super) fn nearest_in_pool(
    pool: &mut Pool,
    slot: Slot,
    gap: impl Fn(usize) -> f64,
    within: impl Fn(f64) -> bool,
    left_wins_tie: impl Fn(usize, usize) -> bool,
) -> Option<(usize, f64)> {
    let left = pool
        .nearest_left(slot.position)
        .filter(|&c| c >= slot.lo)
        .map(|c| (c, gap(c)))
        .filter(|&(_, g)| within(g));
    let right = pool
        .nearest_right(slot.position)
        .filter(|&c| c < slot.hi)
        .map(|c| (c, gap(c)))
        .filter(|&(_, g)| within(g));
    match (left, right) {
        (Some(l), Some(r)) => Some(if l.1 < r.1 || (l.1 == r.1 && left_wins_tie(l.0, r.0)) {
            l
        } else {
            r
        }),
        (l, r) => l.or(r),
    }
}

/// `units` in the order of (distance, tie key) — the order of [`pack_stratum_distance`]
/// with one stratum, then the key — sorted as pairs of the distance's ordered bits and
/// the key and unit in one integer, with their distances in that order (−0 as +0);
/// `None` when a key or a unit does not fit 32 bits.
pub(super) fn compact_order(
    distance: &[f64],
    tie_key: Option<&[u64]>,
    units: &[usize],
) -> Option<(Vec<usize>, Vec<f64>)> {
    const LOW: u64 = u32::MAX as u64;
    u32::try_from(distance.len()).ok()?;
    let mut keyed: Vec<(u64, u64)> = Vec::with_capacity(units.len());
    for &i in units {
        let key = tie_key.map_or(i as u64, |k| k[i]);
        if key > LOW {
            return None;
        }
        // The low half of the packed key is the distance's ordered bits.
        let ordered = (pack_stratum_distance(0, distance[i]) & u128::from(u64::MAX)) as u64;
        keyed.push((ordered, key << 32 | i as u64));
    }
    keyed.par_sort_unstable();
    let sorted_distance = keyed
        .iter()
        .map(|&(ordered, _)| distance_of(ordered))
        .collect();
    let sorted_units = keyed
        .into_iter()
        .map(|(_, low)| (low & LOW) as usize)
        .collect();
    Some((sorted_units, sorted_distance))
}

/// The distance whose ordered bits (the low half of [`pack_stratum_distance`]) are
/// `ordered`.
fn distance_of(ordered: u64) -> f64 {
    f64::from_bits(if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    })
}

/// Sample standard deviation (n − 1), R's `sd()`.
pub(super) fn sample_sd(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let ss: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    (ss / (n - 1.0)).sqrt()
}

impl ValidNearestNeighbour {
    /// Matches every treated unit to its nearest controls.
    ///
    /// Cost: one O(n log n) sort of the controls, then amortised near-constant time
    /// per match found.
    ///
    /// A caliper so narrow that nobody is matched is not an error:
    /// `n_treated_matched` is then 0.
    ///
    /// # Errors
    /// - [`MatchError::LengthMismatch`] if `treated`, `exact` or `tie_key` do not have
    ///   one entry per distance.
    /// - [`MatchError::NonFiniteDistance`] for a NaN or infinite distance.
    /// - [`MatchError::NoTreated`], [`MatchError::NoControls`] if a group is empty.
    /// - [`MatchError::DuplicateTieKey`] if two units share a tie key.
    pub fn fit(&self, input: &MatchInput<'_>) -> Result<Matching, MatchError> {
        self.fit_with_order(input).map(|(matching, _)| matching)
    }

    /// [`fit`](Self::fit), also giving the control units in the order they were matched
    /// on (stratum, distance, tie key): another matching on the same distances, strata
    /// and keys can start from it ([`MatchInput::with_control_order`]) instead of
    /// sorting again.
    ///
    /// # Errors
    /// As [`fit`](Self::fit).
    pub fn fit_with_order(
        &self,
        input: &MatchInput<'_>,
    ) -> Result<(Matching, Vec<usize>), MatchError> {
        let params = self.params();
        let n = input.distance.len();
        check_inputs(input)?;
        let distance = input.distance;
        let key = |i: usize| input.tie_key.map_or(i as u64, |k| k[i]);
        let stratum = |i: usize| input.exact.map_or(0, |e| e[i]);

        let (treated_units, control_units): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| input.treated[i]);
        if treated_units.is_empty() {
            return Err(MatchError::NoTreated);
        }
        if control_units.is_empty() {
            return Err(MatchError::NoControls);
        }
        let caliper_width = params.caliper.map(|c| c * sample_sd(distance));

        // Controls by (stratum, distance, tie key): a total order, as tie keys are
        // unique. Stratum and distance are packed into one integer so that the sort of
        // millions of controls compares plain integers; without strata, in 16 bytes a
        // control (`compact_order`).
        let sort_key = |i: usize| (pack_stratum_distance(stratum(i), distance[i]), key(i));
        // A given order is used when it holds every control once in strictly increasing
        // sort keys, which is the order the sort below makes.
        let given = input.control_order.filter(|order| {
            order.len() == control_units.len()
                && order.iter().all(|&c| c < n && !input.treated[c])
                && order.windows(2).all(|w| sort_key(w[0]) < sort_key(w[1]))
        });
        let with_distance = |controls: Vec<usize>| {
            let control_distance = controls.iter().map(|&c| distance[c]).collect();
            (controls, control_distance)
        };
        let (controls, control_distance): (Vec<usize>, Vec<f64>) = match (given, input.exact) {
            (Some(order), _) => Some(with_distance(order.to_vec())),
            (None, None) => compact_order(distance, input.tie_key, &control_units),
            (None, Some(_)) => None,
        }
        .unwrap_or_else(|| {
            let mut sorted: Vec<((u128, u64), usize)> =
                control_units.iter().map(|&c| (sort_key(c), c)).collect();
            sorted.par_sort_unstable();
            with_distance(sorted.into_iter().map(|c| c.1).collect())
        });
        let slots: Vec<Slot> = treated_units
            .iter()
            .map(|&t| match input.exact {
                // One stratum: the place by distance in the sorted distances (finite, so
                // `<` orders them as the sort key does), by tie key among equal ones.
                None => {
                    let d = distance[t];
                    let below = control_distance.partition_point(|&c| c < d);
                    let equal = control_distance[below..].partition_point(|&c| c <= d);
                    let (k, tied) = (key(t), &controls[below..below + equal]);
                    Slot {
                        position: below + tied.partition_point(|&c| key(c) < k),
                        lo: 0,
                        hi: controls.len(),
                    }
                }
                Some(_) => {
                    let k = sort_key(t);
                    let s = stratum(t);
                    Slot {
                        position: controls.partition_point(|&c| sort_key(c) < k),
                        lo: controls.partition_point(|&c| stratum(c) < s),
                        hi: controls.partition_point(|&c| stratum(c) <= s),
                    }
                }
            })
            .collect();
        let ranks = Ranks::new(input.distance, input.tie_key, &controls, &treated_units);

        let visit = visiting_order(params, &treated_units, distance, &key);
        // Matched controls (positions in `controls`) per treated unit, in round order.
        let mut matched: Vec<Vec<usize>> = vec![Vec::new(); treated_units.len()];
        let gap = |t: usize, c: usize| (distance[treated_units[t]] - control_distance[c]).abs();
        let within = |g: f64| caliper_width.is_none_or(|w| g <= w);

        if params.replace {
            // Every control stays available: each treated unit takes its controls in
            // one scan, independently of the others (MatchIt then ignores m.order).
            for (t, slot) in slots.iter().enumerate() {
                matched[t] =
                    with_replacement(t, *slot, params.ratio, &ranks, |c| gap(t, c), within);
            }
        } else if let Some(farthest) = params.order.pair_distance_order() {
            let mut by_key: Vec<usize> = (0..treated_units.len()).collect();
            by_key.sort_unstable_by_key(|&t| key(treated_units[t]));
            matched = match_by_pair_distance(
                params.ratio,
                farthest,
                controls.len(),
                &slots,
                &by_key,
                &ranks,
                &gap,
                &within,
            );
        } else {
            let mut pool = Pool::new(controls.len());
            let mut remaining = controls.len();
            'rounds: for _ in 0..params.ratio {
                for &t in &visit {
                    let slot = slots[t];
                    let found = nearest_in_pool(
                        &mut pool,
                        slot,
                        |c| gap(t, c),
                        within,
                        |l, r| ranks.left_wins_tie(t, matched[t].iter().copied(), l, r),
                    );
                    if let Some((c, _)) = found {
                        matched[t].push(c);
                        pool.remove(c);
                        remaining -= 1;
                        if remaining == 0 {
                            break 'rounds;
                        }
                    }
                }
            }
        }

        let matching = assemble(
            params,
            n,
            &treated_units,
            &controls,
            &matched,
            &key,
            caliper_width,
        );
        Ok((matching, controls))
    }
}
