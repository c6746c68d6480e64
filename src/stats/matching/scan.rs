//! MatchIt 4.7.2's scan for candidates (`find_control_vec`), where it decides more
//! than "the nearest control": which of two controls at the same gap on either side
//! of a treated unit is taken, and, with replacement and k > 1, which k of the
//! candidates are kept.
//!
//! MatchIt sorts **all** units, treated and control, by distance (ties in row order)
//! and scans outward from the treated unit, one unit per step, alternating left and
//! right and starting on the left. With equal gaps the control found first wins; on
//! the left that takes `k` steps, on the right `j`, so the left one wins when
//! `k <= j`. In later rounds, and when a control taken by another unit is replaced
//! (`m.order = "closest"`/`"farthest"`), the scan starts from the outermost of the
//! unit's own matches (and the lost control) rather than from the unit itself.
//! Steps are counted over every unit, so treated units between a treated unit and its
//! candidates count.
//!
//! With exact matching MatchIt scans the same order and skips controls of other
//! strata (after its caliper check, which therefore stops nothing that matters);
//! their steps count, so ranks here are over all strata too.

use rayon::slice::ParallelSliceMut;
use std::cell::OnceCell;

use super::nearest::Slot;
use super::order::pack_stratum_distance;

/// The rank of every unit in MatchIt's order of all units, treated and control, by
/// (distance, tie key) across strata. Computed on first use: the common case, no two
/// gaps equal, never needs it.
pub(super) struct Ranks<'a> {
    /// Per unit: the distance.
    distance: &'a [f64],
    /// Per unit: the tie key (`None`: the row).
    tie_key: Option<&'a [u64]>,
    /// Unit of each sorted control position.
    controls: &'a [usize],
    /// Unit of each treated index.
    treated_units: &'a [usize],
    rank: OnceCell<Vec<usize>>,
}

impl<'a> Ranks<'a> {
    pub(super) fn new(
        distance: &'a [f64],
        tie_key: Option<&'a [u64]>,
        controls: &'a [usize],
        treated_units: &'a [usize],
    ) -> Self {
        Ranks {
            distance,
            tie_key,
            controls,
            treated_units,
            rank: OnceCell::new(),
        }
    }

    fn of_unit(&self, unit: usize) -> usize {
        let rank = self.rank.get_or_init(|| {
            let keys: Vec<(u128, u64)> = (0..self.distance.len())
                .map(|i| {
                    let key = self.tie_key.map_or(i as u64, |k| k[i]);
                    (pack_stratum_distance(0, self.distance[i]), key)
                })
                .collect();
            let mut order: Vec<usize> = (0..keys.len()).collect();
            order.par_sort_unstable_by_key(|&i| keys[i]);
            let mut rank = vec![0; order.len()];
            for (r, &i) in order.iter().enumerate() {
                rank[i] = r;
            }
            rank
        });
        rank[unit]
    }

    /// Rank of the control at sorted position `c`.
    pub(super) fn control(&self, c: usize) -> usize {
        self.of_unit(self.controls[c])
    }

    /// Rank of treated unit `t` (an index into the treated units).
    pub(super) fn treated(&self, t: usize) -> usize {
        self.of_unit(self.treated_units[t])
    }

    /// Whether the left control `left` wins over the right control `right` at an equal
    /// gap, for treated unit `t` whose scan starts from the outermost of itself and the
    /// controls `starts` (its own earlier matches and the control it lost).
    pub(super) fn left_wins_tie(
        &self,
        t: usize,
        starts: impl Iterator<Item = usize>,
        left: usize,
        right: usize,
    ) -> bool {
        let rank = self.treated(t);
        let (mut lo, mut hi) = (rank, rank);
        for c in starts {
            let r = self.control(c);
            lo = lo.min(r);
            hi = hi.max(r);
        }
        lo.saturating_sub(self.control(left)) <= self.control(right).saturating_sub(hi)
    }
}

/// The `ratio` controls (sorted positions, by increasing gap) that MatchIt 4.7.2
/// takes for treated unit `t` when matching with replacement: every control stays
/// available, and all `ratio` are found in one scan.
///
/// The scan collects up to `ratio` candidates on each side. While both sides are
/// open, the left candidate `k` steps away is met before the right one `j` steps away
/// when `k <= j`; once a side is closed the other goes on alone. A side closes at its
/// first control outside the caliper, after `ratio` candidates, or at a control
/// farther than `ratio` candidates already collected. Of more than `ratio`
/// candidates, the `ratio` nearest are kept, chosen among equal gaps as the C++
/// library's `std::partial_sort` chooses ([`heap_select`]).
pub(super) fn with_replacement(
    t: usize,
    slot: Slot,
    ratio: usize,
    ranks: &Ranks,
    gap: impl Fn(usize) -> f64,
    within: impl Fn(f64) -> bool,
) -> Vec<usize> {
    // Next candidate on each side (sorted control positions), None once closed.
    let mut next_left = (slot.position > slot.lo).then(|| slot.position - 1);
    let mut next_right = (slot.position < slot.hi).then_some(slot.position);
    let (mut n_left, mut n_right) = (0, 0);
    let mut found: Vec<(usize, f64)> = Vec::with_capacity(2 * ratio);
    loop {
        let left = match (next_left, next_right) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                let rank = ranks.treated(t);
                rank - ranks.control(l) <= ranks.control(r) - rank
            }
        };
        let c = (if left { next_left } else { next_right }).expect("an open side");
        let g = gap(c);
        let beyond = !within(g)
            || (found.len() >= ratio && found.iter().filter(|f| f.1 < g).count() >= ratio);
        let close = if beyond {
            true
        } else {
            found.push((c, g));
            let n = if left { &mut n_left } else { &mut n_right };
            *n += 1;
            *n == ratio
        };
        if left {
            next_left = (!close && c > slot.lo).then(|| c - 1);
        } else {
            next_right = (!close && c + 1 < slot.hi).then(|| c + 1);
        }
    }
    let mut kept: Vec<(usize, f64)> = if found.len() <= ratio {
        found
    } else {
        let gaps: Vec<f64> = found.iter().map(|f| f.1).collect();
        heap_select(&gaps, ratio)
            .into_iter()
            .map(|i| found[i])
            .collect()
    };
    kept.sort_by(|a, b| a.1.total_cmp(&b.1));
    kept.into_iter().map(|(c, _)| c).collect()
}

/// The indices of the `k` smallest of `values` as libstdc++'s `std::partial_sort`
/// selects them (`__heap_select`: a max-heap of the first `k`, into which each later
/// value strictly smaller than the top is swapped). Among equal values this choice
/// is the library's, and it is what MatchIt's result depends on.
pub(super) fn heap_select(values: &[f64], k: usize) -> Vec<usize> {
    let mut heap: Vec<usize> = (0..values.len()).collect();
    let less = |a: usize, b: usize| values[a] < values[b];
    // __adjust_heap over heap[..len]: sift the hole at `hole` down to a leaf, then
    // push `value` up from there.
    let adjust = |heap: &mut Vec<usize>, mut hole: usize, len: usize, value: usize| {
        let top = hole;
        let mut child = hole;
        while child < (len - 1) / 2 {
            child = 2 * (child + 1);
            if less(heap[child], heap[child - 1]) {
                child -= 1;
            }
            heap[hole] = heap[child];
            hole = child;
        }
        if len.is_multiple_of(2) && child == (len - 2) / 2 {
            child = 2 * (child + 1);
            heap[hole] = heap[child - 1];
            hole = child - 1;
        }
        while hole > top {
            let parent = (hole - 1) / 2;
            if !less(heap[parent], value) {
                break;
            }
            heap[hole] = heap[parent];
            hole = parent;
        }
        heap[hole] = value;
    };
    if k >= 2 {
        let mut parent = (k - 2) / 2;
        loop {
            let value = heap[parent];
            adjust(&mut heap, parent, k, value);
            if parent == 0 {
                break;
            }
            parent -= 1;
        }
    }
    for i in k..values.len() {
        if less(heap[i], heap[0]) {
            let value = heap[i];
            heap[i] = heap[0];
            adjust(&mut heap, 0, k, value);
        }
    }
    heap.truncate(k);
    heap
}

#[cfg(test)]
mod tests {
    use super::heap_select;

    /// Without ties the k smallest; with ties at the boundary the heap's choice (worked
    /// through libstdc++'s algorithm by hand: building the max-heap of the first two
    /// values [1, 1] moves the second 1 to the top, and the later 0 replaces it).
    #[test]
    fn heap_select_keeps_the_k_smallest() {
        let mut got = heap_select(&[5.0, 1.0, 4.0, 2.0, 3.0], 2);
        got.sort_unstable();
        assert_eq!(got, vec![1, 3]);
        let mut got = heap_select(&[1.0, 1.0, 0.0, 2.0], 2);
        got.sort_unstable();
        assert_eq!(got, vec![0, 2]);
        assert_eq!(heap_select(&[3.0, 1.0], 1), vec![1]);
        assert_eq!(heap_select(&[1.0, 1.0], 1), vec![0]);
    }
}
