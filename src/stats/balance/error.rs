//! The error type of the balance statistics.

use thiserror::Error;

/// Errors of the balance and descriptive statistics. Rows are 0-based.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum BalanceError {
    /// An input does not have one entry per unit.
    #[error("{what} has length {found}, expected {expected} (one per unit)")]
    LengthMismatch {
        what: String,
        expected: usize,
        found: usize,
    },
    /// A covariate value is NaN or infinite.
    #[error("covariate `{term}` is not finite ({value}) at row {row}")]
    NonFiniteValue {
        term: String,
        row: usize,
        value: f64,
    },
    /// A covariate flagged binary has a value other than 0 or 1.
    #[error("covariate `{term}` is flagged binary but has value {value} at row {row}")]
    NotBinary {
        term: String,
        row: usize,
        value: f64,
    },
    /// A weight is negative or not finite.
    #[error("weight {value} at row {row} is invalid: weights must be finite and >= 0")]
    InvalidWeight { row: usize, value: f64 },
    /// A group is empty or has zero total weight.
    #[error("the {group} group has no unit with a positive weight")]
    EmptyGroup { group: &'static str },
    /// A pair refers to a row out of range or to a unit of the wrong group.
    #[error("matched pair ({treated}, {control}) does not link a treated row to a control row")]
    InvalidPair { treated: usize, control: usize },
}
