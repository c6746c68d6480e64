//! Greedy nearest-neighbour matching on a scalar distance (a propensity score's linear
//! logit), reproducing MatchIt's `matchit(method = "nearest")` for the ATT: the same
//! visiting order, caliper, rounds for k:1 matching, tie rules, weights and matched
//! sets.
//!
//! The reference is MatchIt 4.7.2: our matched sets are its sets, control for control,
//! on every run stored under `tests/reference/matching/matchit_4.7.2/` (lalonde, nhefs
//! and two designs full of tied propensity scores). The rules are documented in
//! `tests/reference/matching/MATCHIT_NOTES.md`, which also keeps the history: the
//! earlier references were made with MatchIt 4.5.1, whose C++ routine truncated every
//! distance gap to an integer and had an off-by-one in its "already matched to this
//! treated unit" check (fixed in 4.5.4 and 4.5.3); we never reproduced those defects,
//! and the `<run>_intended.json` files hold the defect-free results of that time.
//!
//! The entry point is [`NearestNeighbour`] → [`NearestNeighbour::validate`] →
//! [`ValidNearestNeighbour::fit`] → [`Matching`].

mod closest;
mod error;
mod input;
mod matched;
mod nearest;
mod order;
mod params;
mod pool;
mod scan;

#[cfg(test)]
mod tests;

pub use error::MatchError;
pub use input::MatchInput;
pub use matched::{MatchWarning, MatchedPair, Matching};
pub use params::{MatchOrder, NearestNeighbour, ValidNearestNeighbour};
