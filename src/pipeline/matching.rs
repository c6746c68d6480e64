//! `shine match` on any table: reads the columns the propensity model, the ids and the
//! exact-matching strata need, checks the ids, matches, and — for a results folder —
//! adds Table 1 and the matched rows.

use std::collections::BTreeSet;

use polars::prelude::*;

use crate::data::table::{to_dataset, ModelTable, TableSource};
use crate::results::matching::{MatchDetail, MatchResult, MatchSpec};
use crate::stats::design::DataSet;
use crate::stats::formula::Formula;

use super::fit_error::FitError;
use super::propensity::{table_one_of, MatchPreparation, PropensityError};
use super::unit_ids::ids_and_ranks;

/// What `shine match` is asked to do.
#[derive(Debug, Clone)]
pub struct MatchRequest {
    /// The propensity model, `treat ~ covariates`.
    pub formula: Formula,
    /// The column identifying units; `None`: the row number.
    pub id: Option<String>,
    pub spec: MatchSpec,
    /// Also build Table 1 and the matched rows (for `--out`).
    pub detail: bool,
}

impl MatchRequest {
    /// The columns matching reads: the formula's, the ids and the exact-matching
    /// strata; and those of them that are labels whatever their cells hold.
    pub fn columns(&self) -> (Vec<String>, BTreeSet<String>) {
        let mut columns: Vec<String> = self.formula.columns().into_iter().collect();
        for extra in self.id.iter().chain(&self.spec.exact) {
            if !columns.contains(extra) {
                columns.push(extra.clone());
            }
        }
        // Ids and exact-matching variables are labels, whatever their cells hold.
        let mut categorical = self.formula.categorical_columns();
        categorical.extend(self.id.iter().chain(&self.spec.exact).cloned());
        (columns, categorical)
    }
}

/// Matches the rows of `frame` (read from `file`, named in messages) as `request` asks.
///
/// # Errors
/// [`FitError::Input`] or [`FitError::Table`] for unusable columns, ids or options;
/// [`FitError::Analysis`] when the propensity model or the matching fails.
pub fn fit_match(
    frame: &DataFrame,
    file: &TableSource,
    request: &MatchRequest,
) -> Result<MatchResult, FitError> {
    let (columns, categorical) = request.columns();
    let data = to_dataset(frame, &columns, file, &categorical)?;
    fit_match_on(&data, Some(frame), file, request)
}

/// [`fit_match`] on a table read as `table` (only its model's columns, when it was a
/// plain CSV file: see [`read_model_table`](crate::data::table::read_model_table)).
///
/// # Errors
/// As [`fit_match`]; the matched rows of a results folder need the whole frame.
pub fn fit_match_table(
    table: &ModelTable,
    file: &TableSource,
    request: &MatchRequest,
) -> Result<MatchResult, FitError> {
    match table {
        ModelTable::Frame(frame) => fit_match(frame, file, request),
        ModelTable::Columns(data) => fit_match_on(data, None, file, request),
    }
}

/// [`fit_match`] on the data set of the request's columns; `frame`, the whole table,
/// is needed for the matched rows of a results folder (`request.detail`).
fn fit_match_on(
    data: &DataSet,
    frame: Option<&DataFrame>,
    file: &TableSource,
    request: &MatchRequest,
) -> Result<MatchResult, FitError> {
    // The ids are ranked (one thread) while the propensity model is fitted.
    let (ids, preparation) = rayon::join(
        || ids_and_ranks(data, request.id.as_deref(), file),
        || MatchPreparation::new(&request.formula, data, &request.spec),
    );
    let (ids, tie_key) = ids?;
    let in_file = |e: PropensityError| match e {
        PropensityError::Input(m) => FitError::Input(super::fit_error::in_file(file, m)),
        PropensityError::Cell {
            row,
            column,
            message,
        } => FitError::Input(format!(
            "{file}, row {}, column {column}: {message}",
            file.row(row)
        )),
        PropensityError::Analysis(m) => FitError::Analysis(format!("{file}: {m}")),
    };
    let analysis = preparation
        .and_then(|preparation| preparation.run(&tie_key))
        .map_err(in_file)?;
    let detail = if request.detail {
        let frame = frame.ok_or_else(|| {
            FitError::Analysis(format!(
                "{file}: the matched rows of a results folder need the whole table"
            ))
        })?;
        let (before, after) = table_one_of(
            &request.formula,
            data,
            &analysis.treated,
            &analysis.matching.weights,
            &[],
        )
        .map_err(|e| FitError::Analysis(format!("{file}: {e}")))?;
        Some(MatchDetail {
            table_one_before: before,
            table_one_after: after,
            matched_rows: matched_rows(frame, &analysis.matching, &analysis.distance)?,
        })
    } else {
        None
    };
    Ok(MatchResult {
        spec: request.spec.clone(),
        analysis,
        ids,
        detail,
    })
}

/// The input rows of every matched unit, with its distance, matched set and weight
/// (MatchIt's `match.data()`); with replacement a control can be in several sets, so
/// `subclass` is left empty and the pairs hold the sets.
fn matched_rows(
    frame: &DataFrame,
    matching: &crate::stats::matching::Matching,
    distance: &[f64],
) -> Result<DataFrame, PolarsError> {
    let rows: Vec<usize> = (0..matching.weights.len())
        .filter(|&i| matching.weights[i] > 0.0)
        .collect();
    let idx = IdxCa::from_vec("row".into(), rows.iter().map(|&i| i as IdxSize).collect());
    let mut matched = frame.take(&idx)?;
    let subclass: Vec<Option<i64>> = rows
        .iter()
        .map(|&i| {
            matching
                .subclass
                .as_ref()
                .and_then(|s| s[i])
                .map(|s| s as i64)
        })
        .collect();
    let weight: Vec<f64> = rows.iter().map(|&i| matching.weights[i]).collect();
    let distance: Vec<f64> = rows.iter().map(|&i| distance[i]).collect();
    matched.with_column(Series::new("distance".into(), distance).into_column())?;
    matched.with_column(Series::new("subclass".into(), subclass).into_column())?;
    matched.with_column(Series::new("weight".into(), weight).into_column())?;
    Ok(matched)
}
