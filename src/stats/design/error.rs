//! Why a model matrix could not be built.

use crate::stats::formula::format_r_number;

/// Why a model matrix could not be built.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DesignError {
    #[error("formula: unknown column `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownColumn {
        name: String,
        suggestion: Option<String>,
    },
    #[error("data: the column `{name}` is given twice")]
    DuplicateColumn { name: String },
    #[error("data: the column `{name}` has {len} rows but the other columns have {expected}")]
    LengthMismatch {
        name: String,
        len: usize,
        expected: usize,
    },
    #[error("data: column `{name}`: {message}")]
    InvalidColumn { name: String, message: String },
    #[error("formula: `{variable}` needs a numeric column but `{column}` is {kind}")]
    NotNumeric {
        variable: String,
        column: String,
        kind: &'static str,
    },
    #[error("formula: the response `{name}` is {kind}; it must be numeric or logical (recode it as 0/1 or TRUE/FALSE)")]
    NonNumericResponse { name: String, kind: &'static str },
    #[error("formula: `{variable}` has {levels} level(s) in the rows used; a categorical variable needs at least 2 (R: contrasts can be applied only to factors with 2 or more levels)")]
    TooFewLevels { variable: String, levels: usize },
    /// `row` is the 0-based index into the data set; the message counts from 1.
    #[error("formula: `{variable}` is {} in row {} (R's lm/glm stop on NA/NaN/Inf); check the data or the transformation", format_r_number(*value), row + 1)]
    NonFinite {
        variable: String,
        row: usize,
        value: f64,
    },
    /// A model too large to build (see `design::size`).
    #[error("formula: the model would have {columns} coefficients for {rows} rows (about {gigabytes:.1} GB), and `{term}` alone brings {term_columns} — expected at most {} coefficients and {} matrix cells: group rare levels, or absorb `{term}` as a fixed effect (`| {term}` in did) or a random effect (`(1 | {term})` in mixed)", super::size::MAX_COLUMNS, super::size::MAX_DENSE_CELLS)]
    TooLarge {
        term: String,
        term_columns: usize,
        columns: usize,
        rows: usize,
        gigabytes: f64,
    },
    #[error("formula: no complete rows: each of the {n_rows} rows has a missing value in a variable of the formula")]
    NoCompleteRows { n_rows: usize },
    #[error("formula: i(): the reference `{reference}` is not a value of `{variable}` (values: {levels})")]
    UnknownReference {
        variable: String,
        reference: String,
        levels: String,
    },
    #[error(
        "formula: i(): every level of `{variable}` is a reference; nothing is left to estimate"
    )]
    AllReferences { variable: String },
    #[error("formula: i(): `{column}` must be numeric or logical to multiply the indicators of `{variable}` (interacting two categorical variables is not supported)")]
    EventStudyBy { variable: String, column: String },
    /// `row` is the 0-based index into the data set; the message counts from 1.
    #[error("formula: `{column}` is missing in row {}, which is among the rows of the model", row + 1)]
    MissingInRows { column: String, row: usize },
    #[error("formula: row index {row} is out of range for a data set of {n_rows} rows")]
    RowOutOfRange { row: usize, n_rows: usize },
    #[error("formula: the response `{name}` must be a column or a numeric transformation of one")]
    InvalidResponse { name: String },
}
