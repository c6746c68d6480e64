//! The printout of `shine score`: the scores as CSV (to a file or stdout), and how many
//! scores were computed and lost, as JSON or as a table for stderr.

use std::path::Path;

use crate::data::read::FileFormat;
use crate::data::score::ScoredProms;
use crate::data::write::{write_csv, write_table, WriteError};

/// Why the scores could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScorePrintError {
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Csv(#[from] polars::error::PolarsError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// What `shine score` shows: for stdout (the scores without `out`, or the counts as
/// JSON) and for stderr (the counts as a table).
#[derive(Debug, Default)]
pub struct ScorePrintout {
    pub stdout: String,
    pub stderr: String,
}

/// Writes the scores to `out` (CSV or Parquet by its extension; CSV otherwise), or
/// puts them on stdout as CSV; then the counts, as JSON on stdout when `json`, else as
/// a table for stderr.
///
/// # Errors
/// The file cannot be written, or the scores cannot be serialised.
pub fn print_scores(
    scored: &mut ScoredProms,
    out: Option<&Path>,
    json: bool,
) -> Result<ScorePrintout, ScorePrintError> {
    let mut printout = ScorePrintout::default();
    match out {
        Some(path) => {
            let format = FileFormat::from_path(path).unwrap_or(FileFormat::Csv);
            write_table(&mut scored.frame, path, format)?;
        }
        None => {
            let mut bytes = Vec::new();
            write_csv(&mut scored.frame, &mut bytes)?;
            printout.stdout = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    if json {
        let json = serde_json::json!({
            "value_set": scored.value_set.as_str(),
            "counts": scored.counts,
        });
        printout.stdout += &(serde_json::to_string_pretty(&json)? + "\n");
    } else {
        printout.stderr =
            "score       rows  scored  prorated  lost to missing items  not answered\n".into();
        for c in &scored.counts {
            printout.stderr += &format!(
                "{:<12}{:>5} {:>7} {:>9} {:>22} {:>13}\n",
                c.score, c.rows, c.scored, c.prorated, c.lost_to_missing_items, c.not_answered
            );
        }
    }
    Ok(printout)
}
