//! From Statistics Denmark's raw registers to the five extract tables (`shine import`).
//!
//! [`import`] reads every register file in a folder (Parquet, CSV, SAS or Stata; names and
//! variables compared without case; yearly files such as `BEF2024` or
//! `bef/year=2024/bef2024.parquet`), applies the [`Recipe`] and returns the `persons`,
//! `covariates`, `referrals`, `contacts` and `proms` tables of the data dictionary with an
//! [`ImportReport`]: files and years read, rows read and used per file, rows dropped and
//! why, warnings with the file, row and variable of their first case, and counts per code
//! group.
//!
//! | table | from |
//! |---|---|
//! | persons | BEF (sex, birth date, origin; the latest year wins), DOD (death), VNDS (the last emigration no immigration follows) |
//! | covariates | one row per person and BEF year: KOM, ANTPERSF = 1 (living alone), the practice listing (YDERNR), UDDA (HFAUDD group), IND (income quintile within the year), DREAM (the year's main attachment), LPR2/LPR3 diagnoses (Charlson index over 10 years, F codes over 5 years) |
//! | contacts | SSSY (general practice, dated on the Monday of the fee week), LPR2 before and LPR3 from the switch date (hospital contacts), the 1813 calls |
//! | referrals, proms | the project's referral list and survey |
//!
//! Malformed input (a missing variable, a value of the wrong kind, an unknown code where
//! the recipe lists every code, a fee week that does not exist, a PNR twice in one BEF
//! year, ...) is an [`RegisterError`] naming the file, the row and the variable; questions
//! about content (a PNR not in BEF, a contact that ends before it starts, a net negative
//! service count, an unknown education or benefit code, ...) are counted warnings.
//! The work is in [`build`]; [`files`] finds and reads the files.

mod build;
pub mod files;
pub mod recipe;
mod report;
pub mod weeks;

pub use build::{import, Imported};
pub use files::explain_names;
pub use recipe::{Recipe, RecipeError};
pub use report::{FileReport, ImportReport, Warning, WarningCount};

/// Why registers could not be imported (all are bad input: exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    #[error("{0}")]
    Usage(String),
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error("{file}: no variable {variable} (the recipe names it; change the recipe if the file calls it otherwise)")]
    MissingVariable { file: String, variable: String },
    #[error("{file}, row {row}, column {variable}: {message}")]
    Malformed {
        file: String,
        row: usize,
        variable: String,
        message: String,
    },
    #[error(transparent)]
    Recipe(#[from] RecipeError),
    #[error("building the {table} table: {source}")]
    Polars {
        table: &'static str,
        source: polars::prelude::PolarsError,
    },
}
