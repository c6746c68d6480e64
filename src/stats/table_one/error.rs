//! The error type of Table 1.

use thiserror::Error;

use crate::stats::balance::BalanceError;

/// Errors of [`table_one`](super::table_one). Rows are 0-based.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum TableOneError {
    /// An input does not have one entry per person.
    #[error("{what} has length {found}, expected {expected} (one per person)")]
    LengthMismatch {
        what: String,
        expected: usize,
        found: usize,
    },
    /// A weight is negative or not finite.
    #[error("weight {value} at row {row} is invalid: weights must be finite and >= 0")]
    InvalidWeight { row: usize, value: f64 },
    /// A group has nobody with a positive weight.
    #[error("the {group} group has no person with a positive weight")]
    EmptyGroup { group: &'static str },
    /// A continuous value is infinite (missing values are NaN).
    #[error(
        "variable `{variable}` is infinite ({value}) at row {row}; a missing value must be NaN"
    )]
    InfiniteValue {
        variable: String,
        row: usize,
        value: f64,
    },
    /// A categorical code does not index a level.
    #[error("variable `{variable}` has level code {code} at row {row}, but only {levels} levels")]
    UnknownLevel {
        variable: String,
        row: usize,
        code: u32,
        levels: usize,
    },
    /// A categorical variable without levels.
    #[error("categorical variable `{variable}` has no levels")]
    NoLevels { variable: String },
    /// An error of the shared weighted statistics.
    #[error(transparent)]
    Balance(#[from] BalanceError),
}
