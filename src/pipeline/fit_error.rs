//! Why a fit of `shine match`, `shine did` or `shine mixed` could not be done, sorted
//! into the user's input (exit code 2) and the analysis (exit code 1).

use polars::error::PolarsError;

use crate::data::table::{TableError, TableSource};
use crate::stats::design::DesignError;
use crate::stats::formula::format_r_number;

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

/// A message about `file`: `FILE, row R, column C: ...` when the message starts at a
/// row, `FILE: ...` otherwise.
pub fn in_file(file: &impl std::fmt::Display, message: impl std::fmt::Display) -> String {
    let message = message.to_string();
    if message.starts_with("row ") {
        format!("{file}, {message}")
    } else {
        format!("{file}: {message}")
    }
}

/// A model-matrix error in the user's terms: a row of the table as a spreadsheet numbers
/// it (the header is row 1) and the column, then what was found and what was expected.
pub fn design_input(e: &DesignError, source: &TableSource) -> String {
    match e {
        DesignError::NonFinite {
            variable,
            row,
            value,
        } => format!(
            "row {}, column {variable}: {} — expected a finite number (R's lm and glm stop on NA/NaN/Inf)",
            source.row(*row),
            format_r_number(*value)
        ),
        DesignError::MissingInRows { column, row } => format!(
            "row {}, column {column}: missing in a row of the model — expected a value",
            source.row(*row)
        ),
        other => other.to_string(),
    }
}
