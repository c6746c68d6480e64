//! `shine score`: reads a proms file as the data dictionary defines it and scores its
//! UCLA and EQ-5D responses.

use std::path::Path;

use crate::data::dictionary::{Dictionary, TableName};
use crate::data::problems::{Problems, Severity};
use crate::data::read::read_table;
use crate::data::score::{score_proms, ScoreOptions, ScoreTableError, ScoredProms};
use crate::data::validate::ValidationReport;

/// Why a proms file could not be scored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScoreFileError {
    /// The file does not meet the data dictionary; the report lists every problem.
    #[error("{}; {file} cannot be scored (every problem is listed above)", report.error_summary())]
    Invalid {
        file: String,
        report: Box<ValidationReport>,
    },
    /// A response outside its instrument's range.
    #[error("{file}, {source}")]
    BadResponse {
        file: String,
        #[source]
        source: ScoreTableError,
    },
    /// The scores could not be computed.
    #[error(transparent)]
    Scoring(ScoreTableError),
}

impl ScoreFileError {
    /// Whether the file is at fault (exit code 2) rather than the scoring (1).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            ScoreFileError::Invalid { .. } | ScoreFileError::BadResponse { .. }
        )
    }
}

/// Reads the proms file at `path`, checks it against the data dictionary and scores it.
///
/// # Errors
/// [`ScoreFileError::Invalid`] with the problems found when the file does not meet the
/// dictionary; [`ScoreFileError::BadResponse`] for a response out of range.
pub fn score_file(path: &Path, options: ScoreOptions) -> Result<ScoredProms, ScoreFileError> {
    let dictionary = Dictionary::embedded();
    let mut problems = Problems::default();
    let table = read_table(
        path,
        TableName::Proms,
        dictionary.table(TableName::Proms),
        &mut problems,
    );
    let table = match table {
        Some(t) if !problems.has_errors() => t,
        _ => {
            let report = ValidationReport {
                valid: false,
                errors: problems.count(Severity::Error),
                warnings: problems.count(Severity::Warning),
                extract_period: None,
                extract_period_end: None,
                extract_period_start: None,
                files: Vec::new(),
                problems: problems.groups(),
            };
            return Err(ScoreFileError::Invalid {
                file: path.display().to_string(),
                report: Box::new(report),
            });
        }
    };
    score_proms(&table.frame, options).map_err(|e| match e {
        e @ ScoreTableError::Score { .. } => ScoreFileError::BadResponse {
            file: path.display().to_string(),
            source: e,
        },
        other => ScoreFileError::Scoring(other),
    })
}
