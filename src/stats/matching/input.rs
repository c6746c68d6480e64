//! The data a matching works on, and its checks.

use super::MatchError;
use rayon::slice::ParallelSliceMut;

/// The data a matching works on: one entry per unit (row) in every slice.
#[derive(Debug, Clone, Copy)]
pub struct MatchInput<'a> {
    /// Distance per unit, e.g. the linear logit of the propensity score (MatchIt's
    /// `link = "linear.logit"`). Must be finite.
    pub distance: &'a [f64],
    /// Treatment indicator per unit (the focal group of the ATT).
    pub treated: &'a [bool],
    /// Exact-matching stratum per unit: a treated unit is matched only to controls
    /// with the same code. `None`: one stratum.
    pub exact: Option<&'a [u32]>,
    /// Secondary sort key per unit, unique, used wherever MatchIt falls back on row
    /// order: between units at exactly equal distance (controls, and treated units in
    /// the visiting order), for the canonical order behind [`MatchOrder::Random`], and
    /// for numbering subclasses. Pass e.g. the rank of each unit's id to make the
    /// result independent of row order. `None`: the row position, which reproduces
    /// MatchIt on data in the same row order.
    ///
    /// [`MatchOrder::Random`]: super::MatchOrder::Random
    pub tie_key: Option<&'a [u64]>,
    /// The control units already in the order the matching sorts them into (stratum,
    /// distance, tie key), e.g. from an earlier matching on the same distances, strata and
    /// keys: checked in one pass and used instead of sorting again; an order that does
    /// not pass the check is ignored and the controls are sorted. `None`: sort.
    pub control_order: Option<&'a [usize]>,
}

impl<'a> MatchInput<'a> {
    /// Distances and treatment flags, one stratum, ties broken by row position.
    pub fn new(distance: &'a [f64], treated: &'a [bool]) -> Self {
        MatchInput {
            distance,
            treated,
            exact: None,
            tie_key: None,
            control_order: None,
        }
    }

    /// Matches only within strata of equal code.
    pub fn with_exact(mut self, strata: &'a [u32]) -> Self {
        self.exact = Some(strata);
        self
    }

    /// Breaks ties by `key` instead of row position (see [`MatchInput::tie_key`]).
    pub fn with_tie_key(mut self, key: &'a [u64]) -> Self {
        self.tie_key = Some(key);
        self
    }

    /// Starts from controls already sorted (see [`MatchInput::control_order`]).
    pub fn with_control_order(mut self, order: &'a [usize]) -> Self {
        self.control_order = Some(order);
        self
    }
}

/// Checks that every input has one entry per unit, that distances are finite and
/// that tie keys are unique.
pub(super) fn check_inputs(input: &MatchInput<'_>) -> Result<(), MatchError> {
    let n = input.distance.len();
    let lengths = [
        ("treated", Some(input.treated.len())),
        ("exact", input.exact.map(<[u32]>::len)),
        ("tie_key", input.tie_key.map(<[u64]>::len)),
    ];
    for (what, len) in lengths {
        if let Some(found) = len.filter(|&l| l != n) {
            return Err(MatchError::LengthMismatch {
                what,
                expected: n,
                found,
            });
        }
    }
    if let Some((row, &value)) = input
        .distance
        .iter()
        .enumerate()
        .find(|(_, d)| !d.is_finite())
    {
        return Err(MatchError::NonFiniteDistance { row, value });
    }
    if let Some(keys) = input.tie_key {
        // Keys below the number of rows (ranks, say) are checked by marking them off;
        // any other keys, or a repeated one, by sorting, which names the first pair.
        let mut seen = crate::memory::written_vec(n, false);
        let unique = keys.iter().all(|&k| {
            usize::try_from(k)
                .ok()
                .and_then(|k| seen.get_mut(k))
                .is_some_and(|s| !std::mem::replace(s, true))
        });
        if unique {
            return Ok(());
        }
        let mut sorted: Vec<(u64, usize)> = keys.iter().copied().zip(0..).collect();
        sorted.par_sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(MatchError::DuplicateTieKey {
                key: w[0].0,
                first: w[0].1,
                second: w[1].1,
            });
        }
    }
    Ok(())
}
