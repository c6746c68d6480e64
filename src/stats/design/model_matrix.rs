//! The model matrix of a formula on a data set: the model frame's complete rows, the
//! response, and the columns of the terms, held as an n×p array or as [`ModelRows`].

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::columns::build_matrix;
use super::data::DataSet;
use super::error::DesignError;
use super::frame::{evaluate_response, mark_missing_numeric, Frame};
use super::model_rows::ModelRows;
use crate::stats::formula::Formula;

/// What to do with levels of a categorical variable that do not occur in the rows used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum UnusedLevels {
    /// Drop them, as `lm()`, `glm()`, `lmer()` do (`drop.unused.levels = TRUE`).
    #[default]
    Drop,
    /// Keep them as all-zero columns, as a bare `model.matrix(formula, data)` does.
    Keep,
}

/// Options of [`model_matrix_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DesignOptions {
    pub unused_levels: UnusedLevels,
}

/// A model matrix and what goes with it: the matrix held as an n×p array (the default)
/// or as [`ModelRows`], computed a block of rows at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Design<X = DMatrix<f64>> {
    /// The model matrix, one row per row used.
    pub x: X,
    /// R's column names: `(Intercept)`, `age`, `sexM`, `age:sexM`, `rel_period::-3:treated`.
    pub column_names: Vec<String>,
    /// The response over the rows used (logical responses are 0/1).
    pub response: Option<DVector<f64>>,
    /// The rows of the input used (complete cases), in input order.
    pub rows: Vec<usize>,
    /// How many rows were dropped for missing values.
    pub dropped_rows: usize,
    /// R's `attr(, "assign")`: the term of each column, 0 for the intercept, `k` for
    /// `term_labels[k - 1]`.
    pub assign: Vec<usize>,
    /// R's term labels.
    pub term_labels: Vec<String>,
}

/// The model matrix of `formula` on `data`, with levels that do not occur in the rows
/// used dropped (as `lm()`/`glm()`/`lmer()`).
///
/// # Errors
/// A [`DesignError`]: an unknown column (with a suggestion), arithmetic on a categorical
/// column, a categorical variable with fewer than 2 levels, an infinite value, no
/// complete rows, an `i()` reference that is not a value of its variable.
pub fn model_matrix(formula: &Formula, data: &DataSet) -> Result<Design, DesignError> {
    model_matrix_with(formula, data, &DesignOptions::default())
}

/// [`model_matrix`] with options.
///
/// # Errors
/// As [`model_matrix`].
pub fn model_matrix_with(
    formula: &Formula,
    data: &DataSet,
    options: &DesignOptions,
) -> Result<Design, DesignError> {
    let design = model_rows_with(formula, data, options)?;
    super::size::check_size(&design.assign, &design.term_labels, design.rows.len(), true)?;
    Ok(Design {
        x: design.x.to_matrix(),
        column_names: design.column_names,
        response: design.response,
        rows: design.rows,
        dropped_rows: design.dropped_rows,
        assign: design.assign,
        term_labels: design.term_labels,
    })
}

/// The model matrix of `formula` on `data` as [`model_matrix`] builds it, but not held
/// as an n×p array: its rows are computed when asked for (see [`ModelRows`]). For
/// data sets too large to hold the matrix; the values are those of [`model_matrix`].
///
/// # Errors
/// As [`model_matrix`].
pub fn model_rows(formula: &Formula, data: &DataSet) -> Result<Design<ModelRows>, DesignError> {
    model_rows_with(formula, data, &DesignOptions::default())
}

/// [`model_rows`] with options.
///
/// # Errors
/// As [`model_matrix`].
pub fn model_rows_with(
    formula: &Formula,
    data: &DataSet,
    options: &DesignOptions,
) -> Result<Design<ModelRows>, DesignError> {
    let n = data.n_rows();
    let mut complete = vec![true; n];

    // Evaluate every variable over all rows, as R's model frame does before na.omit.
    let mut frame = Frame::default();
    let response = match &formula.response {
        Some(expr) => {
            let values = evaluate_response(expr, data)?;
            mark_missing_numeric(&values, &mut complete);
            Some((expr.label(), values))
        }
        None => None,
    };
    for term in &formula.terms {
        for factor in &term.factors {
            frame.add(factor, data, options.unused_levels)?;
        }
    }
    for (_, raw) in &frame.vars {
        raw.mark_missing(&mut complete);
    }
    // Variables of random-effect terms and grouping columns, and fixed effects, also
    // drop rows, as in lme4's and fixest's model frames.
    let mut others = Frame::default();
    for r in &formula.random {
        for term in &r.terms {
            for factor in &term.factors {
                others.add(factor, data, UnusedLevels::Drop)?;
            }
        }
    }
    for (_, raw) in &others.vars {
        raw.mark_missing(&mut complete);
    }
    let grouping = formula
        .random
        .iter()
        .flat_map(|r| r.group.iter())
        .chain(formula.fixed_effects.iter().flatten());
    for name in grouping {
        let column = data.column(name)?;
        for (row, ok) in complete.iter_mut().enumerate() {
            if *ok && column.is_missing(row) {
                *ok = false;
            }
        }
    }

    let rows: Vec<usize> = (0..n).filter(|&r| complete[r]).collect();
    if rows.is_empty() && (n > 0 || formula.response.is_some() || !formula.terms.is_empty()) {
        return Err(DesignError::NoCompleteRows { n_rows: n });
    }

    let response = match response {
        Some((label, values)) => {
            let mut y = Vec::with_capacity(rows.len());
            for &r in &rows {
                let v = values[r];
                if !v.is_finite() {
                    return Err(DesignError::NonFinite {
                        variable: label,
                        row: r,
                        value: v,
                    });
                }
                y.push(v);
            }
            Some(DVector::from_vec(y))
        }
        None => None,
    };

    let built = build_matrix(
        &formula.terms,
        formula.intercept,
        &mut frame,
        data,
        options.unused_levels,
        &rows,
    )?;
    let term_labels = formula.term_labels();
    super::size::check_size(&built.assign, &term_labels, rows.len(), false)?;
    Ok(Design {
        x: built.rows,
        column_names: built.column_names,
        response,
        dropped_rows: n - rows.len(),
        rows,
        assign: built.assign,
        term_labels,
    })
}
