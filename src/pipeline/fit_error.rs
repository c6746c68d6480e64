//! Why a fit of `shine match`, `shine did` or `shine mixed` could not be done, sorted
//! into the user's input (exit code 2) and the analysis (exit code 1).

use polars::error::PolarsError;

use crate::data::table::TableError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// The table lacks a column the model needs, or holds a value it cannot use.
    #[error(transparent)]
    Table(#[from] TableError),
    /// Bad table or options; the message names the file, row and column.
    #[error("{0}")]
    Input(String),
    /// The model could not be fitted on valid input; the message says what to try.
    #[error("{0}")]
    Analysis(String),
    /// Selecting or extending rows of the input table failed.
    #[error(transparent)]
    Frame(#[from] PolarsError),
}

impl FitError {
    /// Whether the input is at fault (exit code 2) rather than the analysis (1).
    pub fn is_input(&self) -> bool {
        matches!(self, FitError::Table(_) | FitError::Input(_))
    }
}
