//! lme4's random-effect design: per random-effect term, the grouping factor's codes and
//! the term's own model matrix.

use nalgebra::DMatrix;

use super::columns::build_matrix;
use super::data::DataSet;
use super::error::DesignError;
use super::frame::Frame;
use super::groups::group_codes;
use super::model_matrix::UnusedLevels;
use crate::stats::formula::Formula;

/// One random-effect term over the rows used: the grouping factor and the term's own
/// model matrix (lme4's `Z` block before it is expanded by group).
#[derive(Clone, Debug, PartialEq)]
pub struct RandomEffectBlock {
    /// The term as lme4 prints it: `1 + t | g`.
    pub term: String,
    /// The grouping factor's name: `g`, `a:b`, `b:a` (nested), as lme4 names it.
    pub group_name: String,
    /// The group of each row used: dense codes `0..group_levels.len()`.
    pub group_codes: Vec<u32>,
    /// The groups' labels in code order: levels in sorted order (numeric columns
    /// numerically), combinations `a1:b1` with the first column varying slowest, as R's
    /// `a:b` orders them. Only groups that occur in the rows are listed.
    pub group_levels: Vec<String>,
    /// The term's columns for each row used, e.g. `[1, t]`.
    pub z: DMatrix<f64>,
    /// `(Intercept)`, `t`, ...
    pub column_names: Vec<String>,
    /// `false` for the pieces of a `||` term.
    pub correlated: bool,
}

/// The random-effect terms of an lme4 formula over `rows` (normally [`Design::rows`](super::Design::rows)):
/// per term, the grouping factor's codes and the term's model matrix (`[1, t]` for
/// `(1 + t | g)`). Terms come in formula order, with `||` and `/` expanded as lme4's
/// `findbars()` does; lme4 later sorts them by decreasing number of groups, which is
/// left to the caller.
///
/// # Errors
/// An unknown column, a row out of range, a missing value in `rows`, or any error of
/// [`model_matrix`](fn@super::model_matrix) for the term's variables.
pub fn random_effect_design(
    formula: &Formula,
    data: &DataSet,
    rows: &[usize],
) -> Result<Vec<RandomEffectBlock>, DesignError> {
    let n = data.n_rows();
    if let Some(&row) = rows.iter().find(|&&r| r >= n) {
        return Err(DesignError::RowOutOfRange { row, n_rows: n });
    }
    let mut out = Vec::with_capacity(formula.random.len());
    for r in &formula.random {
        let mut frame = Frame::default();
        for term in &r.terms {
            for factor in &term.factors {
                frame.add(factor, data, UnusedLevels::Drop)?;
            }
        }
        for (label, raw) in &frame.vars {
            if let Some(&row) = rows.iter().find(|&&row| raw.is_missing(row)) {
                return Err(DesignError::MissingInRows {
                    column: label.clone(),
                    row,
                });
            }
        }
        let built = build_matrix(
            &r.terms,
            r.intercept,
            &mut frame,
            data,
            UnusedLevels::Drop,
            rows,
        )?;
        let group = group_codes(&r.group, data, rows, true)?;
        out.push(RandomEffectBlock {
            term: r.label(),
            group_name: r.group_label.clone(),
            group_codes: group.codes,
            group_levels: group.levels,
            z: built.rows.to_matrix(),
            column_names: built.column_names,
            correlated: r.correlated,
        });
    }
    Ok(out)
}
