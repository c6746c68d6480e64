//! The error type of nearest-neighbour matching.

use thiserror::Error;

/// Errors of nearest-neighbour matching. Rows are 0-based positions in the inputs.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum MatchError {
    /// `ratio` is 0.
    #[error("ratio must be at least 1 control per treated unit, got 0")]
    ZeroRatio,
    /// The caliper is zero, negative or not finite.
    #[error("caliper must be a positive number of standard deviations of the distance, got {0}")]
    InvalidCaliper(f64),
    /// An input does not have one entry per unit.
    #[error("{what} has length {found}, expected {expected} (one per unit)")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// A distance is NaN or infinite.
    #[error("distance is not finite ({value}) at row {row}")]
    NonFiniteDistance { row: usize, value: f64 },
    /// There is no treated unit.
    #[error("no treated units: nothing to match")]
    NoTreated,
    /// There is no control.
    #[error("no control units: nothing to match to")]
    NoControls,
    /// Two units share a tie key.
    #[error("tie key {key} is used by rows {first} and {second}; tie keys must be unique")]
    DuplicateTieKey {
        key: u64,
        first: usize,
        second: usize,
    },
}
