//! Greedy nearest-neighbour matching: each treated unit takes the nearest available
//! control on either side of it among the controls sorted by (stratum, distance).

use super::input::check_inputs;
use super::matched::assemble;
use super::order::{pack_stratum_distance, packed_stratum, visiting_order};
use super::pool::Pool;
use super::{MatchError, MatchInput, Matching, ValidNearestNeighbour};

/// Per treated unit: its place among the sorted controls and its stratum's range.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Number of sorted controls that come before the treated unit.
    position: usize,
    /// First sorted control of the unit's stratum.
    lo: usize,
    /// One past the last sorted control of the unit's stratum.
    hi: usize,
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
        // millions of controls compares plain integers.
        let sort_key = |i: usize| (pack_stratum_distance(stratum(i), distance[i]), key(i));
        let mut sorted: Vec<((u128, u64), usize)> =
            control_units.iter().map(|&c| (sort_key(c), c)).collect();
        sorted.sort_unstable();
        let slots: Vec<Slot> = treated_units
            .iter()
            .map(|&t| {
                let k = sort_key(t);
                let s = stratum(t);
                Slot {
                    position: sorted.partition_point(|c| c.0 < k),
                    lo: sorted.partition_point(|c| packed_stratum(c.0 .0) < s),
                    hi: sorted.partition_point(|c| packed_stratum(c.0 .0) <= s),
                }
            })
            .collect();
        let control_distance: Vec<f64> = sorted.iter().map(|c| distance[c.1]).collect();
        let controls: Vec<usize> = sorted.into_iter().map(|c| c.1).collect();

        let visit = visiting_order(params, &treated_units, distance, &key);
        // Matched controls (positions in `controls`) per treated unit, in round order.
        let mut matched: Vec<Vec<usize>> = vec![Vec::new(); treated_units.len()];
        let gap = |t: usize, c: usize| (distance[treated_units[t]] - control_distance[c]).abs();
        let within = |g: f64| caliper_width.is_none_or(|w| g <= w);
        // MatchIt's rule: the left candidate wins ties.
        let choose = |left: Option<(usize, f64)>, right: Option<(usize, f64)>| match (left, right) {
            (Some((l, gl)), Some((r, gr))) => Some(if gl <= gr { l } else { r }),
            (Some((l, _)), None) => Some(l),
            (None, Some((r, _))) => Some(r),
            (None, None) => None,
        };

        if params.replace {
            // The treated unit's own matches are a contiguous run [lo, hi) of sorted
            // positions around its place: the next candidates are just outside it.
            for (t, slot) in slots.iter().enumerate() {
                let (mut lo, mut hi) = (slot.position, slot.position);
                for _ in 0..params.ratio {
                    let left = (lo > slot.lo)
                        .then(|| (lo - 1, gap(t, lo - 1)))
                        .filter(|&(_, g)| within(g));
                    let right = (hi < slot.hi)
                        .then(|| (hi, gap(t, hi)))
                        .filter(|&(_, g)| within(g));
                    match choose(left, right) {
                        Some(c) => {
                            if c < lo {
                                lo = c;
                            } else {
                                hi = c + 1;
                            }
                            matched[t].push(c);
                        }
                        None => break,
                    }
                }
            }
        } else {
            let mut pool = Pool::new(controls.len());
            let mut remaining = controls.len();
            'rounds: for _ in 0..params.ratio {
                for &t in &visit {
                    let slot = slots[t];
                    let left = pool
                        .nearest_left(slot.position)
                        .filter(|&c| c >= slot.lo)
                        .map(|c| (c, gap(t, c)))
                        .filter(|&(_, g)| within(g));
                    let right = pool
                        .nearest_right(slot.position)
                        .filter(|&c| c < slot.hi)
                        .map(|c| (c, gap(t, c)))
                        .filter(|&(_, g)| within(g));
                    if let Some(c) = choose(left, right) {
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

        Ok(assemble(
            params,
            n,
            &treated_units,
            &controls,
            &matched,
            &key,
            caliper_width,
        ))
    }
}
