//! Why the printout of `shine match`, `shine did` or `shine mixed` could not be made.

use polars::error::PolarsError;

use super::figures::FigureError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Figure(#[from] FigureError),
    /// Writing person-level rows as CSV.
    #[error(transparent)]
    Csv(#[from] PolarsError),
}
