//! The parameters of nearest-neighbour matching and their validation.

use serde::Serialize;

use super::MatchError;

/// The order in which treated units choose their controls (MatchIt's `m.order`).
///
/// Orders are defined on the treated units only. Ties in distance are broken by the
/// caller's tie key ([`MatchInput::tie_key`]), ascending — with the default key (row
/// position) that is R's stable `order()`.
///
/// [`MatchInput::tie_key`]: super::MatchInput::tie_key
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchOrder {
    /// Highest distance first (MatchIt's default for a propensity score and the ATT:
    /// the treated units hardest to match choose first).
    #[default]
    Largest,
    /// Lowest distance first.
    Smallest,
    /// Input row order. The only order whose result depends on the row order.
    Data,
    /// A seeded random permutation (ChaCha8 seeded with [`NearestNeighbour::seed`]) of
    /// the treated units taken in tie-key order. Deterministic for a given seed, but
    /// not R's `sample()` stream: it does not reproduce MatchIt's `"random"` draws.
    Random,
    /// Pairs in increasing distance (MatchIt 4.6's `"closest"`): every treated unit's
    /// nearest available control is found, and the closest pair of all is matched
    /// first; a treated unit whose control was taken meanwhile finds its next
    /// nearest and takes its new place in the queue. Without replacement only; with
    /// replacement MatchIt uses the data order, and so do we (it has no effect).
    Closest,
    /// Pairs in decreasing distance (MatchIt 4.6's `"farthest"`): as [`Closest`],
    /// but the treated unit whose nearest control is farthest chooses first. This is
    /// not "far matching": every unit still takes its nearest available control.
    ///
    /// [`Closest`]: MatchOrder::Closest
    Farthest,
}

impl MatchOrder {
    /// For the two orders over (treated, control) pairs: whether the farthest pair
    /// goes first. `None` for the orders over treated units.
    pub(super) fn pair_distance_order(self) -> Option<bool> {
        match self {
            MatchOrder::Closest => Some(false),
            MatchOrder::Farthest => Some(true),
            MatchOrder::Largest | MatchOrder::Smallest | MatchOrder::Data | MatchOrder::Random => {
                None
            }
        }
    }
}

/// Parameters of greedy nearest-neighbour matching on a distance, estimand ATT.
///
/// Each treated unit, visited in [`MatchOrder`], takes the eligible control nearest
/// to it in distance, `|d_t − d_c|`; k:1 matching runs in rounds, so every treated
/// unit gets its r-th control before any gets its (r+1)-th.
///
/// | parameter | default | range | meaning |
/// |---|---|---|---|
/// | `ratio` | 1 | ≥ 1 | controls per treated unit (k of k:1) |
/// | `caliper` | `None` | > 0, finite | maximum `|d_t − d_c|`, in standard deviations of the distance (MatchIt's `caliper` with `std.caliper = TRUE`) |
/// | `replace` | `false` | | whether a control may be matched to several treated units |
/// | `order` | [`MatchOrder::Largest`] | | visiting order of the treated units (`m.order`) |
/// | `seed` | 0 | any | seed of [`MatchOrder::Random`]; ignored otherwise |
///
/// Rules (MATCHIT_NOTES.md §2–§5):
/// - The caliper width in distance units is `caliper × sd(distance)`, the sample SD
///   (n − 1) over **all** units, treated and control pooled — also with exact
///   matching, as MatchIt computes it before splitting into strata. A control is
///   eligible when `gap ≤ width`.
/// - From the treated unit's place among the controls sorted by distance, the nearest
///   available control on the left (smaller distance) and on the right are found; if
///   the nearer one on a side is outside the caliper, that side has no candidate.
///   With candidates on both sides the nearer one wins; at equal gaps, the one
///   MatchIt 4.7.2's alternating scan meets first (`scan.rs`; the left one when the
///   treated units between are as many on both sides).
/// - Without replacement a matched control leaves the pool; when the pool is empty,
///   matching stops. With replacement (MatchIt: `reuse.max` unlimited) a control can
///   serve many treated units but not the same one twice. Every treated unit then
///   takes its `ratio` nearest controls independently of the others, so the order has
///   no effect (MatchIt forces `m.order = "data"`, which gives the same sets). Among
///   controls at equal gaps the `ratio` kept are those MatchIt 4.7.2 keeps.
/// - Exact matching ([`MatchInput::exact`]): candidates come only from the treated
///   unit's stratum.
///
/// ## References
/// - Ho, D. E., Imai, K., King, G. and Stuart, E. A. (2011). MatchIt: Nonparametric
///   preprocessing for parametric causal inference. *Journal of Statistical Software*
///   42(8), 1–28. doi:10.18637/jss.v042.i08
/// - Austin, P. C. (2011). Optimal caliper widths for propensity-score matching when
///   estimating differences in means and differences in proportions in observational
///   studies. *Pharmaceutical Statistics* 10(2), 150–161 (a caliper of 0.2 SD of the
///   logit of the propensity score).
/// - Greifer, N. MatchIt documentation, `?method_nearest` and `?matchit`
///   (<https://kosukeimai.github.io/MatchIt/>), versions 4.5.1 and 4.7.2.
///
/// [`MatchInput::exact`]: super::MatchInput::exact
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NearestNeighbour {
    /// Number of controls per treated unit (k of k:1), at least 1.
    pub ratio: usize,
    /// Caliper in standard deviations of the distance; `None` for no caliper.
    pub caliper: Option<f64>,
    /// Whether controls are matched with replacement.
    pub replace: bool,
    /// Order in which treated units are matched.
    pub order: MatchOrder,
    /// Seed of [`MatchOrder::Random`].
    pub seed: u64,
}

impl Default for NearestNeighbour {
    /// MatchIt's defaults: 1:1, no caliper, without replacement, largest first.
    fn default() -> Self {
        NearestNeighbour {
            ratio: 1,
            caliper: None,
            replace: false,
            order: MatchOrder::Largest,
            seed: 0,
        }
    }
}

impl NearestNeighbour {
    /// Checks the parameters.
    ///
    /// # Errors
    /// - [`MatchError::ZeroRatio`] if `ratio` is 0.
    /// - [`MatchError::InvalidCaliper`] if the caliper is not a positive finite number.
    pub fn validate(self) -> Result<ValidNearestNeighbour, MatchError> {
        if self.ratio == 0 {
            return Err(MatchError::ZeroRatio);
        }
        if let Some(c) = self.caliper {
            if !(c.is_finite() && c > 0.0) {
                return Err(MatchError::InvalidCaliper(c));
            }
        }
        Ok(ValidNearestNeighbour(self))
    }
}

/// Validated [`NearestNeighbour`] parameters, ready to [`fit`](Self::fit).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ValidNearestNeighbour(NearestNeighbour);

impl ValidNearestNeighbour {
    /// The validated parameters.
    pub fn params(&self) -> &NearestNeighbour {
        &self.0
    }
}
