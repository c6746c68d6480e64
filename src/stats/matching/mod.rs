//! Greedy nearest-neighbour matching on a scalar distance (a propensity score's linear
//! logit), reproducing MatchIt's `matchit(method = "nearest")` for the ATT: the same
//! visiting order, caliper, rounds for k:1 matching, tie rules, weights and matched
//! sets.
//!
//! The rules are documented, and verified against MatchIt 4.5.1, in
//! `tests/reference/matching/MATCHIT_NOTES.md`. We implement the *intended* algorithm:
//! real-valued distances and a correct "already matched to this treated unit" check.
//! MatchIt 4.5.1's C++ routine (`nn_matchC_vec`) truncates every distance difference
//! to an integer and has an off-by-one in that check; its distance-matrix routine and
//! later MatchIt versions do not, and the `<run>_intended.json` references hold what
//! they give.
//!
//! The entry point is [`NearestNeighbour`] → [`NearestNeighbour::validate`] →
//! [`ValidNearestNeighbour::fit`] → [`Matching`].

mod error;
mod input;
mod matched;
mod nearest;
mod order;
mod params;
mod pool;

#[cfg(test)]
mod tests;

pub use error::MatchError;
pub use input::MatchInput;
pub use matched::{MatchWarning, MatchedPair, Matching};
pub use params::{MatchOrder, NearestNeighbour, ValidNearestNeighbour};
