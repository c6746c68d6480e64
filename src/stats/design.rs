//! Model matrices from a [`Formula`] and a [`DataSet`], as R's `model.matrix()` builds
//! them with the default treatment contrasts (`contr.treatment`).
//!
//! - The intercept column is `(Intercept)`.
//! - A numeric variable gives one column named by its label (`age`, `I(age^2)`).
//! - A categorical variable gives one dummy per level except the first, named label +
//!   level (`sexM`, `factor(education)3`); a logical variable is a factor with levels
//!   `FALSE`, `TRUE` (`smokerTRUE`).
//! - An interaction multiplies the columns of its variables, the first variable varying
//!   fastest, and joins their names with `:` (`age:sexM`).
//! - A categorical variable in a term is coded by contrasts if the term without it is
//!   empty or is contained in an earlier term, and by all its levels otherwise (R's
//!   `TermCode`, after Chambers & Hastie 1992, p. 38): `y ~ a:b` gives every combination,
//!   `y ~ f + f:g` codes `f` fully inside `f:g`. Without an intercept, the first
//!   categorical variable of the first term that has one is coded fully
//!   (`y ~ 0 + f` gives every level).
//! - Rows with a missing value in any variable of the formula — response, terms,
//!   random-effect terms, grouping factors, fixed effects — are dropped (`na.omit`), and
//!   so are rows where a transformation is NaN (`log(-1)`), as R's model frame does.
//! - `i(var, by, ref = ...)` (fixest) gives one column per level of `var` except the
//!   references, `1[var == level] * by`, named `var::level:by`.
//!
//! Levels. With the default [`UnusedLevels::Drop`] a categorical variable keeps only
//! the levels that occur in the rows used, as `lm()`, `glm()` and `lmer()` do
//! (`drop.unused.levels = TRUE`), so the coefficient names match theirs.
//! [`UnusedLevels::Keep`] reproduces a bare `model.matrix(formula, data)`: a
//! categorical column keeps all its declared levels (all-zero dummies for absent ones),
//! and `factor(x)` has the levels of `x` over all rows, including rows dropped for
//! missing values elsewhere. A logical column always has both levels, as in R.
//!
//! Level order. A categorical column brings its levels in the order given (the data
//! layer sorts string values by bytes, which is R's `sort()` in the C locale; R in
//! another locale may order accented or mixed-case strings differently).
//! `factor(x)` of a numeric column sorts the distinct values numerically and labels
//! them as R prints them (`-1`, `2.5`, `3`, `1e+05`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::formula::{format_r_number, quote_name, Arith, ArithOp, Expr, Formula, RefValue, Term};

/// One column of input data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ColumnData {
    /// Numbers; `NaN` marks a missing value.
    Numeric(Vec<f64>),
    /// A categorical column: a code per row indexing `levels` (`None` = missing), with
    /// the levels in R's order (the first is the reference level).
    Categorical {
        codes: Vec<Option<u32>>,
        levels: Vec<String>,
    },
    /// `TRUE`/`FALSE`; `None` = missing.
    Logical(Vec<Option<bool>>),
}

impl ColumnData {
    /// A categorical column from strings, with levels sorted by bytes (R's `sort()` in the
    /// C locale) and `None` as missing.
    pub fn from_strings<S: AsRef<str>>(values: &[Option<S>]) -> ColumnData {
        // Distinct values first (few), then sorted: avoids copying and sorting every row.
        let distinct: std::collections::HashSet<&str> =
            values.iter().flatten().map(|s| s.as_ref()).collect();
        let mut levels: Vec<String> = distinct.into_iter().map(str::to_string).collect();
        levels.sort_unstable();
        let index: HashMap<&str, u32> = levels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i as u32))
            .collect();
        let codes = values
            .iter()
            .map(|v| v.as_ref().and_then(|s| index.get(s.as_ref()).copied()))
            .collect();
        ColumnData::Categorical { codes, levels }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Numeric(v) => v.len(),
            ColumnData::Categorical { codes, .. } => codes.len(),
            ColumnData::Logical(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn kind(&self) -> &'static str {
        match self {
            ColumnData::Numeric(_) => "numeric",
            ColumnData::Categorical { .. } => "categorical",
            ColumnData::Logical(_) => "logical",
        }
    }

    fn is_missing(&self, row: usize) -> bool {
        match self {
            ColumnData::Numeric(v) => v[row].is_nan(),
            ColumnData::Categorical { codes, .. } => codes[row].is_none(),
            ColumnData::Logical(v) => v[row].is_none(),
        }
    }
}

/// Named columns of equal length: the data a formula is evaluated on.
///
/// Columns are shared between clones (a clone of a large data set is cheap).
#[derive(Clone, Debug, Default)]
pub struct DataSet {
    names: Vec<String>,
    columns: Vec<Arc<ColumnData>>,
    index: HashMap<String, usize>,
}

impl DataSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column.
    ///
    /// # Errors
    /// A duplicate name, a length that differs from the columns already added, or a
    /// categorical code outside its levels (or repeated levels).
    pub fn push(&mut self, name: impl Into<String>, column: ColumnData) -> Result<(), DesignError> {
        let name = name.into();
        if self.index.contains_key(&name) {
            return Err(DesignError::DuplicateColumn { name });
        }
        if let Some(first) = self.columns.first() {
            if first.len() != column.len() {
                return Err(DesignError::LengthMismatch {
                    name,
                    len: column.len(),
                    expected: first.len(),
                });
            }
        }
        if let ColumnData::Categorical { codes, levels } = &column {
            let mut sorted: Vec<&String> = levels.iter().collect();
            sorted.sort_unstable();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(DesignError::InvalidColumn {
                    name,
                    message: format!("the level `{}` appears twice", w[0]),
                });
            }
            if let Some((row, code)) = codes
                .iter()
                .enumerate()
                .find_map(|(r, c)| c.filter(|&c| c as usize >= levels.len()).map(|c| (r, c)))
            {
                return Err(DesignError::InvalidColumn {
                    name,
                    message: format!(
                        "row {} has level code {code} but there are only {} levels",
                        row + 1,
                        levels.len()
                    ),
                });
            }
        }
        self.index.insert(name.clone(), self.columns.len());
        self.names.push(name);
        self.columns.push(Arc::new(column));
        Ok(())
    }

    /// The number of rows (0 for a data set without columns).
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.len())
    }

    pub fn get(&self, name: &str) -> Option<&ColumnData> {
        self.index.get(name).map(|&i| self.columns[i].as_ref())
    }

    /// Column names in the order they were added.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    fn column(&self, name: &str) -> Result<&ColumnData, DesignError> {
        self.shared_column(name).map(|c| c.as_ref())
    }

    /// The column, as shared with the clones of the data set.
    fn shared_column(&self, name: &str) -> Result<&Arc<ColumnData>, DesignError> {
        self.index
            .get(name)
            .map(|&i| &self.columns[i])
            .ok_or_else(|| DesignError::UnknownColumn {
                name: name.to_string(),
                suggestion: closest_name(name, &self.names),
            })
    }
}

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

/// The response's label (`y`, `log(y)`), if the formula has one.
pub fn response_name(formula: &Formula) -> Option<String> {
    formula.response_label()
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
    Ok(Design {
        x: built.rows,
        column_names: built.column_names,
        response,
        dropped_rows: n - rows.len(),
        rows,
        assign: built.assign,
        term_labels: formula.term_labels(),
    })
}

/// The fixed effects of a fixest formula (`| fe1 + fe1^fe2`) as group codes over
/// `rows` (normally [`Design::rows`]): one `(name, codes)` per fixed effect, named as
/// fixest names it (`fe1`, `fe1^fe2`).
///
/// Codes are dense, `0..G`, and follow the sorted order of the levels that occur in
/// `rows` (categorical columns in their level order, numeric columns numerically,
/// combinations lexicographically with the first column varying slowest), so they do
/// not depend on the order of the rows.
///
/// # Errors
/// An unknown column, a row index out of range, or a missing value in `rows`.
pub fn fixed_effect_codes(
    formula: &Formula,
    data: &DataSet,
    rows: &[usize],
) -> Result<Vec<(String, Vec<u32>)>, DesignError> {
    formula
        .fixed_effects
        .iter()
        .map(|cols| {
            let g = group_codes(cols, data, rows, false)?;
            Ok((cols.join("^"), g.codes))
        })
        .collect()
}

/// The random-effect terms of an lme4 formula over `rows` (normally [`Design::rows`]):
/// per term, the grouping factor's codes and the term's model matrix (`[1, t]` for
/// `(1 + t | g)`). Terms come in formula order, with `||` and `/` expanded as lme4's
/// `findbars()` does; lme4 later sorts them by decreasing number of groups, which is
/// left to the caller.
///
/// # Errors
/// An unknown column, a row out of range, a missing value in `rows`, or any error of
/// [`model_matrix`] for the term's variables.
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

// ---------------------------------------------------------------------------------------
// Evaluation

/// A variable evaluated over all rows of the data.
enum Raw<'a> {
    /// NaN = missing; with the data set's column when the values are that column.
    Numeric(Cow<'a, [f64]>, Option<Arc<ColumnData>>),
    Factor(RawFactor<'a>),
    EventStudy {
        factor: RawFactor<'a>,
        by: Option<Cow<'a, [f64]>>,
        refs: &'a [RefValue],
        var_label: String,
        by_label: Option<String>,
    },
}

struct RawFactor<'a> {
    codes: Cow<'a, [Option<u32>]>,
    levels: Cow<'a, [String]>,
    drop: LevelDrop,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LevelDrop {
    /// Keep every level (a logical column; a factor under `UnusedLevels::Keep`).
    Never,
    /// Keep levels that occur in some row (R's `factor(x)` of a factor).
    AllRows,
    /// Keep levels that occur in the rows used.
    UsedRows,
}

impl Raw<'_> {
    fn is_missing(&self, row: usize) -> bool {
        match self {
            Raw::Numeric(v, _) => v[row].is_nan(),
            Raw::Factor(f) => f.codes[row].is_none(),
            Raw::EventStudy { factor, by, .. } => {
                factor.codes[row].is_none() || by.as_ref().is_some_and(|b| b[row].is_nan())
            }
        }
    }

    fn mark_missing(&self, complete: &mut [bool]) {
        match self {
            Raw::Numeric(v, _) => mark_missing_numeric(v, complete),
            Raw::Factor(f) => mark_missing_codes(&f.codes, complete),
            Raw::EventStudy { factor, by, .. } => {
                mark_missing_codes(&factor.codes, complete);
                if let Some(b) = by {
                    mark_missing_numeric(b, complete);
                }
            }
        }
    }
}

fn mark_missing_numeric(values: &[f64], complete: &mut [bool]) {
    for (ok, v) in complete.iter_mut().zip(values) {
        if v.is_nan() {
            *ok = false;
        }
    }
}

fn mark_missing_codes(codes: &[Option<u32>], complete: &mut [bool]) {
    for (ok, c) in complete.iter_mut().zip(codes) {
        if c.is_none() {
            *ok = false;
        }
    }
}

/// The model frame: each distinct variable (by label) evaluated once.
#[derive(Default)]
struct Frame<'a> {
    vars: Vec<(String, Raw<'a>)>,
}

impl<'a> Frame<'a> {
    /// Evaluates the variable unless it is already in the frame; returns its index.
    fn add(
        &mut self,
        expr: &'a Expr,
        data: &'a DataSet,
        unused: UnusedLevels,
    ) -> Result<usize, DesignError> {
        let label = expr.label();
        if let Some(i) = self.vars.iter().position(|(l, _)| *l == label) {
            return Ok(i);
        }
        let raw = evaluate(expr, data, unused)?;
        self.vars.push((label, raw));
        Ok(self.vars.len() - 1)
    }
}

const LOGICAL_LEVELS: [&str; 2] = ["FALSE", "TRUE"];

fn logical_levels() -> Vec<String> {
    LOGICAL_LEVELS.iter().map(|s| s.to_string()).collect()
}

fn logical_codes(values: &[Option<bool>]) -> Vec<Option<u32>> {
    values.iter().map(|v| v.map(u32::from)).collect()
}

fn evaluate<'a>(
    expr: &'a Expr,
    data: &'a DataSet,
    unused: UnusedLevels,
) -> Result<Raw<'a>, DesignError> {
    let keep = unused == UnusedLevels::Keep;
    Ok(match expr {
        Expr::Column(name) => {
            let shared = data.shared_column(name)?;
            match shared.as_ref() {
                ColumnData::Numeric(v) => Raw::Numeric(Cow::Borrowed(v), Some(Arc::clone(shared))),
                ColumnData::Categorical { codes, levels } => Raw::Factor(RawFactor {
                    codes: Cow::Borrowed(codes),
                    levels: Cow::Borrowed(levels),
                    drop: if keep {
                        LevelDrop::Never
                    } else {
                        LevelDrop::UsedRows
                    },
                }),
                // R's `contrasts<-` makes a logical `factor(x, levels = c(FALSE, TRUE))`.
                ColumnData::Logical(v) => Raw::Factor(RawFactor {
                    codes: Cow::Owned(logical_codes(v)),
                    levels: Cow::Owned(logical_levels()),
                    drop: LevelDrop::Never,
                }),
            }
        }
        Expr::Factor(name) => Raw::Factor(factor_of(data.column(name)?, keep)),
        Expr::Call { func, arg } => {
            let label = expr.label();
            let mut values = match eval_arith(arg, data, &label)? {
                Value::Scalar(s) => vec![s; data.n_rows()],
                Value::Vector(v) => v.into_owned(),
            };
            for v in &mut values {
                *v = func.apply(*v);
            }
            Raw::Numeric(Cow::Owned(values), None)
        }
        Expr::EventStudy { var, by, refs } => {
            let factor = factor_of(data.column(var)?, false);
            let factor = RawFactor {
                drop: LevelDrop::UsedRows,
                ..factor
            };
            for r in refs {
                let want = r.label();
                if !factor.levels.contains(&want) {
                    let shown: Vec<&str> =
                        factor.levels.iter().take(12).map(String::as_str).collect();
                    let more = if factor.levels.len() > 12 {
                        ", ..."
                    } else {
                        ""
                    };
                    return Err(DesignError::UnknownReference {
                        variable: var.clone(),
                        reference: want,
                        levels: format!("{}{more}", shown.join(", ")),
                    });
                }
            }
            let by_values = match by {
                None => None,
                Some(b) => Some(match data.column(b)? {
                    ColumnData::Numeric(v) => Cow::Borrowed(v.as_slice()),
                    ColumnData::Logical(v) => Cow::Owned(
                        v.iter()
                            .map(|x| x.map_or(f64::NAN, |t| if t { 1.0 } else { 0.0 }))
                            .collect(),
                    ),
                    ColumnData::Categorical { .. } => {
                        return Err(DesignError::EventStudyBy {
                            variable: var.clone(),
                            column: b.clone(),
                        })
                    }
                }),
            };
            Raw::EventStudy {
                factor,
                by: by_values,
                refs,
                var_label: quote_name(var),
                by_label: by.as_deref().map(quote_name),
            }
        }
    })
}

/// R's `factor(x)`: the distinct values, sorted (numbers numerically), as levels.
fn factor_of(column: &ColumnData, keep: bool) -> RawFactor<'_> {
    let drop = if keep {
        LevelDrop::AllRows
    } else {
        LevelDrop::UsedRows
    };
    match column {
        ColumnData::Numeric(values) => {
            let mut distinct: Vec<f64> = values
                .iter()
                .filter(|v| !v.is_nan())
                .map(|&v| if v == 0.0 { 0.0 } else { v })
                .collect();
            distinct.sort_unstable_by(f64::total_cmp);
            distinct.dedup();
            let codes = values
                .iter()
                .map(|&v| {
                    if v.is_nan() {
                        None
                    } else {
                        let v = if v == 0.0 { 0.0 } else { v };
                        distinct
                            .binary_search_by(|probe| probe.total_cmp(&v))
                            .ok()
                            .map(|i| i as u32)
                    }
                })
                .collect();
            RawFactor {
                codes: Cow::Owned(codes),
                levels: Cow::Owned(distinct.iter().map(|&v| format_r_number(v)).collect()),
                // The levels are the values that occur, over all rows.
                drop: if keep {
                    LevelDrop::Never
                } else {
                    LevelDrop::UsedRows
                },
            }
        }
        ColumnData::Categorical { codes, levels } => RawFactor {
            codes: Cow::Borrowed(codes),
            levels: Cow::Borrowed(levels),
            drop,
        },
        ColumnData::Logical(v) => RawFactor {
            codes: Cow::Owned(logical_codes(v)),
            levels: Cow::Owned(logical_levels()),
            drop,
        },
    }
}

enum Value<'a> {
    Scalar(f64),
    Vector(Cow<'a, [f64]>),
}

fn eval_arith<'a>(arith: &Arith, data: &'a DataSet, label: &str) -> Result<Value<'a>, DesignError> {
    Ok(match arith {
        Arith::Number(v) => Value::Scalar(*v),
        Arith::Column(name) => match data.column(name)? {
            ColumnData::Numeric(v) => Value::Vector(Cow::Borrowed(v)),
            ColumnData::Logical(v) => Value::Vector(Cow::Owned(
                v.iter()
                    .map(|x| x.map_or(f64::NAN, |t| if t { 1.0 } else { 0.0 }))
                    .collect(),
            )),
            other => {
                return Err(DesignError::NotNumeric {
                    variable: label.to_string(),
                    column: name.clone(),
                    kind: other.kind(),
                })
            }
        },
        Arith::Paren(a) | Arith::Pos(a) => eval_arith(a, data, label)?,
        Arith::Neg(a) => map_value(eval_arith(a, data, label)?, |x| -x),
        Arith::Call { func, arg } => {
            let f = *func;
            map_value(eval_arith(arg, data, label)?, move |x| f.apply(x))
        }
        Arith::Binary { op, lhs, rhs } => {
            let l = eval_arith(lhs, data, label)?;
            let r = eval_arith(rhs, data, label)?;
            let f = match op {
                ArithOp::Add => |a: f64, b: f64| a + b,
                ArithOp::Sub => |a: f64, b: f64| a - b,
                ArithOp::Mul => |a: f64, b: f64| a * b,
                ArithOp::Div => |a: f64, b: f64| a / b,
                ArithOp::Pow => |a: f64, b: f64| r_pow(a, b),
            };
            match (l, r) {
                (Value::Scalar(a), Value::Scalar(b)) => Value::Scalar(f(a, b)),
                (Value::Vector(a), Value::Scalar(b)) => {
                    Value::Vector(Cow::Owned(a.iter().map(|&x| f(x, b)).collect()))
                }
                (Value::Scalar(a), Value::Vector(b)) => {
                    Value::Vector(Cow::Owned(b.iter().map(|&x| f(a, x)).collect()))
                }
                (Value::Vector(a), Value::Vector(b)) => Value::Vector(Cow::Owned(
                    a.iter().zip(b.iter()).map(|(&x, &y)| f(x, y)).collect(),
                )),
            }
        }
    })
}

/// R's `^`: `1^y` and `x^0` are 1 even for NaN, as in C's `pow`; Rust's `powf` agrees.
fn r_pow(a: f64, b: f64) -> f64 {
    if b == 2.0 {
        a * a
    } else {
        a.powf(b)
    }
}

fn map_value<'a>(v: Value<'a>, f: impl Fn(f64) -> f64) -> Value<'a> {
    match v {
        Value::Scalar(s) => Value::Scalar(f(s)),
        Value::Vector(v) => Value::Vector(Cow::Owned(v.iter().map(|&x| f(x)).collect())),
    }
}

fn evaluate_response<'a>(expr: &'a Expr, data: &'a DataSet) -> Result<Cow<'a, [f64]>, DesignError> {
    match expr {
        Expr::Column(name) => match data.column(name)? {
            ColumnData::Numeric(v) => Ok(Cow::Borrowed(v)),
            ColumnData::Logical(v) => Ok(Cow::Owned(
                v.iter()
                    .map(|x| x.map_or(f64::NAN, |t| if t { 1.0 } else { 0.0 }))
                    .collect(),
            )),
            other => Err(DesignError::NonNumericResponse {
                name: expr.label(),
                kind: other.kind(),
            }),
        },
        Expr::Call { .. } => match evaluate(expr, data, UnusedLevels::Drop)? {
            Raw::Numeric(v, _) => Ok(v),
            _ => Err(DesignError::InvalidResponse { name: expr.label() }),
        },
        _ => Err(DesignError::InvalidResponse { name: expr.label() }),
    }
}

// ---------------------------------------------------------------------------------------
// Building the matrix

/// The values of a numeric variable over the rows used: its own, or the data set's
/// column when every row is used.
#[derive(Clone, Debug)]
enum NumericValues {
    Owned(Vec<f64>),
    /// Always a [`ColumnData::Numeric`].
    Column(Arc<ColumnData>),
}

impl NumericValues {
    fn as_slice(&self) -> &[f64] {
        match self {
            NumericValues::Owned(v) => v,
            NumericValues::Column(column) => match column.as_ref() {
                ColumnData::Numeric(v) => v,
                ColumnData::Categorical { .. } | ColumnData::Logical(_) => &[],
            },
        }
    }
}

/// A variable over the rows used.
#[derive(Clone, Debug)]
enum Compact {
    Numeric(NumericValues),
    Factor {
        codes: Vec<u32>,
        levels: Vec<String>,
    },
    EventStudy {
        codes: Vec<u32>,
        levels: Vec<String>,
        /// Levels (codes) that get a column: all but the references.
        kept: Vec<u32>,
        by: Option<Vec<f64>>,
        var_label: String,
        by_label: Option<String>,
    },
}

fn compact(label: &str, raw: &Raw<'_>, rows: &[usize]) -> Result<Compact, DesignError> {
    match raw {
        Raw::Numeric(v, shared) => {
            let check = |r: usize, x: f64| {
                if x.is_finite() {
                    Ok(())
                } else {
                    Err(DesignError::NonFinite {
                        variable: label.to_string(),
                        row: r,
                        value: x,
                    })
                }
            };
            // Every row used (`rows` is increasing): share the data set's column.
            if let (Some(column), true) = (shared, rows.len() == v.len()) {
                for (r, &x) in v.iter().enumerate() {
                    check(r, x)?;
                }
                return Ok(Compact::Numeric(NumericValues::Column(Arc::clone(column))));
            }
            let mut out = Vec::with_capacity(rows.len());
            for &r in rows {
                let x = v[r];
                if !x.is_finite() {
                    return Err(DesignError::NonFinite {
                        variable: label.to_string(),
                        row: r,
                        value: x,
                    });
                }
                out.push(x);
            }
            Ok(Compact::Numeric(NumericValues::Owned(out)))
        }
        Raw::Factor(f) => {
            let (codes, levels) = compact_factor(label, f, rows)?;
            Ok(Compact::Factor { codes, levels })
        }
        Raw::EventStudy {
            factor,
            by,
            refs,
            var_label,
            by_label,
        } => {
            let (codes, levels) = compact_factor(label, factor, rows)?;
            let ref_labels: Vec<String> = refs.iter().map(RefValue::label).collect();
            let kept: Vec<u32> = (0..levels.len() as u32)
                .filter(|&l| !ref_labels.contains(&levels[l as usize]))
                .collect();
            if kept.is_empty() {
                return Err(DesignError::AllReferences {
                    variable: var_label.clone(),
                });
            }
            let by = match by {
                Some(b) => {
                    let mut out = Vec::with_capacity(rows.len());
                    for &r in rows {
                        let x = b[r];
                        if !x.is_finite() {
                            return Err(DesignError::NonFinite {
                                variable: by_label.clone().unwrap_or_default(),
                                row: r,
                                value: x,
                            });
                        }
                        out.push(x);
                    }
                    Some(out)
                }
                None => None,
            };
            Ok(Compact::EventStudy {
                codes,
                levels,
                kept,
                by,
                var_label: var_label.clone(),
                by_label: by_label.clone(),
            })
        }
    }
}

/// Codes over `rows`, renumbered after dropping unused levels.
fn compact_factor(
    label: &str,
    f: &RawFactor<'_>,
    rows: &[usize],
) -> Result<(Vec<u32>, Vec<String>), DesignError> {
    let n_levels = f.levels.len();
    let mut present = vec![f.drop == LevelDrop::Never; n_levels];
    match f.drop {
        LevelDrop::Never => {}
        LevelDrop::AllRows => {
            for c in f.codes.iter().flatten() {
                present[*c as usize] = true;
            }
        }
        LevelDrop::UsedRows => {
            for &r in rows {
                if let Some(c) = f.codes[r] {
                    present[c as usize] = true;
                }
            }
        }
    }
    let mut remap = vec![u32::MAX; n_levels];
    let mut levels = Vec::new();
    for (i, keep) in present.iter().enumerate() {
        if *keep {
            remap[i] = levels.len() as u32;
            levels.push(f.levels[i].clone());
        }
    }
    let mut codes = Vec::with_capacity(rows.len());
    for &r in rows {
        match f.codes[r] {
            Some(c) => codes.push(remap[c as usize]),
            None => {
                return Err(DesignError::MissingInRows {
                    column: label.to_string(),
                    row: r,
                })
            }
        }
    }
    Ok((codes, levels))
}

/// How one variable contributes columns to a term.
#[derive(Clone, Copy)]
enum Piece<'c> {
    Values(&'c [f64]),
    Indicator {
        codes: &'c [u32],
        level: u32,
    },
    IndicatorTimes {
        codes: &'c [u32],
        level: u32,
        by: &'c [f64],
    },
}

impl<'c> Piece<'c> {
    /// The piece over rows `start..end` only.
    fn rows(self, start: usize, end: usize) -> Piece<'c> {
        match self {
            Piece::Values(v) => Piece::Values(&v[start..end]),
            Piece::Indicator { codes, level } => Piece::Indicator {
                codes: &codes[start..end],
                level,
            },
            Piece::IndicatorTimes { codes, level, by } => Piece::IndicatorTimes {
                codes: &codes[start..end],
                level,
                by: &by[start..end],
            },
        }
    }

    fn write(self, out: &mut [f64]) {
        match self {
            Piece::Values(v) => out.copy_from_slice(v),
            Piece::Indicator { codes, level } => out
                .iter_mut()
                .zip(codes)
                .for_each(|(x, &c)| *x = if c == level { 1.0 } else { 0.0 }),
            Piece::IndicatorTimes { codes, level, by } => out
                .iter_mut()
                .zip(codes.iter().zip(by))
                .for_each(|(x, (&c, &b))| *x = if c == level { b } else { 0.0 }),
        }
    }

    fn multiply(self, col: &mut [f64]) {
        match self {
            Piece::Values(v) => col.iter_mut().zip(v).for_each(|(x, &v)| *x *= v),
            Piece::Indicator { codes, level } => col.iter_mut().zip(codes).for_each(|(x, &c)| {
                if c != level {
                    *x = 0.0
                }
            }),
            Piece::IndicatorTimes { codes, level, by } => col
                .iter_mut()
                .zip(codes.iter().zip(by))
                .for_each(|(x, (&c, &b))| *x = if c == level { *x * b } else { 0.0 }),
        }
    }
}

/// A [`Piece`] by the index of its variable.
#[derive(Clone, Copy, Debug)]
enum PieceOf {
    Values(usize),
    Indicator(usize, u32),
    IndicatorTimes(usize, u32),
}

/// A design matrix read in blocks of rows, so that it need not be held as one n×p array:
/// [`DMatrix`] holds it, [`ModelRows`] computes the rows from a formula's variables.
pub trait DesignRows: Sync {
    fn nrows(&self) -> usize;
    fn ncols(&self) -> usize;
    /// Writes rows `start..start + out.len()` of column `k` into `out`.
    fn column_rows(&self, k: usize, start: usize, out: &mut [f64]);
    /// Writes rows `start..start + len` column-major with leading dimension `ld`: entry
    /// (i, k) of the block goes to `out[k * ld + i]`.
    fn rows_into(&self, start: usize, len: usize, out: &mut [f64], ld: usize) {
        for k in 0..self.ncols() {
            self.column_rows(k, start, &mut out[k * ld..k * ld + len]);
        }
    }
}

impl DesignRows for DMatrix<f64> {
    fn nrows(&self) -> usize {
        self.nrows()
    }

    fn ncols(&self) -> usize {
        self.ncols()
    }

    fn column_rows(&self, k: usize, start: usize, out: &mut [f64]) {
        out.copy_from_slice(&self.column(k).as_slice()[start..start + out.len()]);
    }
}

/// A model matrix that is not stored: the formula's variables over the rows used (a
/// value or level code per row each) and how each column is made from them. A row is
/// computed when asked for, with the same arithmetic as the stored matrix of
/// [`model_matrix`], so the values are identical; it takes a few numbers per row
/// instead of p.
#[derive(Clone, Debug)]
pub struct ModelRows {
    n: usize,
    variables: Vec<Compact>,
    /// Per column, the pieces multiplied together (none: the intercept).
    columns: Vec<Vec<PieceOf>>,
}

impl ModelRows {
    fn piece(&self, of: PieceOf) -> Piece<'_> {
        let codes = |v: usize| match &self.variables[v] {
            Compact::Factor { codes, .. } | Compact::EventStudy { codes, .. } => codes.as_slice(),
            Compact::Numeric(_) => &[],
        };
        match of {
            PieceOf::Values(v) => match &self.variables[v] {
                Compact::Numeric(values) => Piece::Values(values.as_slice()),
                _ => Piece::Values(&[]),
            },
            PieceOf::Indicator(v, level) => Piece::Indicator {
                codes: codes(v),
                level,
            },
            PieceOf::IndicatorTimes(v, level) => Piece::IndicatorTimes {
                codes: codes(v),
                level,
                by: match &self.variables[v] {
                    Compact::EventStudy { by: Some(by), .. } => by,
                    _ => &[],
                },
            },
        }
    }

    /// Column `k` over rows `start..start + out.len()`.
    fn column_into(&self, k: usize, start: usize, out: &mut [f64]) {
        let end = start + out.len();
        match self.columns[k].split_first() {
            None => out.fill(1.0),
            Some((first, rest)) => {
                self.piece(*first).rows(start, end).write(out);
                for piece in rest {
                    self.piece(*piece).rows(start, end).multiply(out);
                }
            }
        }
    }

    /// Column `k` of the matrix.
    pub fn column(&self, k: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.n];
        self.column_into(k, 0, &mut out);
        out
    }

    /// The matrix as an n×p array.
    pub fn to_matrix(&self) -> DMatrix<f64> {
        let (n, p) = (self.n, self.columns.len());
        let mut buf = vec![0.0; n * p];
        for (k, column) in buf.chunks_exact_mut(n.max(1)).take(p).enumerate() {
            self.column_into(k, 0, column);
        }
        DMatrix::from_vec(n, p, buf)
    }
}

impl DesignRows for ModelRows {
    fn nrows(&self) -> usize {
        self.n
    }

    fn ncols(&self) -> usize {
        self.columns.len()
    }

    fn column_rows(&self, k: usize, start: usize, out: &mut [f64]) {
        self.column_into(k, start, out);
    }
}

struct Built {
    rows: ModelRows,
    column_names: Vec<String>,
    assign: Vec<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Coding {
    Contrasts,
    Indicators,
}

/// The columns of `terms` (with the intercept if asked) over `rows`, evaluating the
/// variables not yet in `frame`.
fn build_matrix<'a>(
    terms: &'a [Term],
    intercept: bool,
    frame: &mut Frame<'a>,
    data: &'a DataSet,
    unused: UnusedLevels,
    rows: &[usize],
) -> Result<Built, DesignError> {
    let n = rows.len();
    // Compact each variable of the terms once; `labels[i]` and `compacts[i]` go together.
    let mut labels: Vec<String> = Vec::new();
    let mut compacts: Vec<Compact> = Vec::new();
    let mut term_vars: Vec<Vec<usize>> = Vec::with_capacity(terms.len());
    for term in terms {
        let mut vars = Vec::with_capacity(term.factors.len());
        for factor in &term.factors {
            let index = frame.add(factor, data, unused)?;
            let (label, raw) = &frame.vars[index];
            let position = match labels.iter().position(|l| l == label) {
                Some(i) => i,
                None => {
                    compacts.push(compact(label, raw, rows)?);
                    labels.push(label.clone());
                    labels.len() - 1
                }
            };
            vars.push(position);
        }
        term_vars.push(vars);
    }

    for (label, c) in labels.iter().zip(&compacts) {
        if let Compact::Factor { levels, .. } = c {
            if levels.len() < 2 {
                return Err(DesignError::TooFewLevels {
                    variable: label.clone(),
                    levels: levels.len(),
                });
            }
        }
    }

    let mut coding = contrast_coding(&term_vars);
    // Without an intercept, the first categorical variable of the first term that has one
    // is coded by all its levels (R's modelmatrix in model.c).
    if !intercept {
        'outer: for (j, vars) in term_vars.iter().enumerate() {
            for (k, &v) in vars.iter().enumerate() {
                if matches!(compacts[v], Compact::Factor { .. }) {
                    coding[j][k] = Coding::Indicators;
                    break 'outer;
                }
            }
        }
    }

    let mut names: Vec<String> = Vec::new();
    let mut assign: Vec<usize> = Vec::new();
    let mut columns: Vec<Vec<PieceOf>> = Vec::new();
    if intercept {
        names.push("(Intercept)".to_string());
        assign.push(0);
        columns.push(Vec::new());
    }
    for (j, vars) in term_vars.iter().enumerate() {
        let per_var: Vec<Vec<(PieceOf, String)>> = vars
            .iter()
            .zip(&coding[j])
            .map(|(&v, &code)| pieces(&labels[v], v, &compacts[v], code))
            .collect();
        if per_var.iter().any(Vec::is_empty) {
            continue;
        }
        // Odometer over the variables' pieces, the first variable varying fastest.
        let mut idx = vec![0usize; per_var.len()];
        loop {
            let mut name_parts = Vec::with_capacity(per_var.len());
            let mut col = Vec::with_capacity(per_var.len());
            for (v, &i) in idx.iter().enumerate() {
                let (piece, name) = &per_var[v][i];
                col.push(*piece);
                name_parts.push(name.as_str());
            }
            names.push(name_parts.join(":"));
            assign.push(j + 1);
            columns.push(col);
            let mut v = 0;
            loop {
                if v == idx.len() {
                    break;
                }
                idx[v] += 1;
                if idx[v] < per_var[v].len() {
                    break;
                }
                idx[v] = 0;
                v += 1;
            }
            if v == idx.len() {
                break;
            }
        }
    }

    Ok(Built {
        rows: ModelRows {
            n,
            variables: compacts,
            columns,
        },
        column_names: names,
        assign,
    })
}

/// R's `TermCode`: a variable in a term is coded by contrasts if the term without it is
/// empty or contained in an earlier term, and by indicators otherwise.
fn contrast_coding(term_vars: &[Vec<usize>]) -> Vec<Vec<Coding>> {
    term_vars
        .iter()
        .enumerate()
        .map(|(j, vars)| {
            vars.iter()
                .map(|&v| {
                    let rest: Vec<usize> = vars.iter().copied().filter(|&u| u != v).collect();
                    let contained = rest.is_empty()
                        || term_vars[..j]
                            .iter()
                            .any(|earlier| rest.iter().all(|u| earlier.contains(u)));
                    if contained {
                        Coding::Contrasts
                    } else {
                        Coding::Indicators
                    }
                })
                .collect()
        })
        .collect()
}

fn pieces(label: &str, var: usize, c: &Compact, coding: Coding) -> Vec<(PieceOf, String)> {
    match c {
        Compact::Numeric(_) => vec![(PieceOf::Values(var), label.to_string())],
        Compact::Factor { levels, .. } => {
            let first = if coding == Coding::Contrasts { 1 } else { 0 };
            (first..levels.len())
                .map(|l| {
                    (
                        PieceOf::Indicator(var, l as u32),
                        format!("{label}{}", levels[l]),
                    )
                })
                .collect()
        }
        Compact::EventStudy {
            levels,
            kept,
            by,
            var_label,
            by_label,
            ..
        } => kept
            .iter()
            .map(|&l| {
                let level = &levels[l as usize];
                match (by, by_label) {
                    (Some(_), Some(bl)) => (
                        PieceOf::IndicatorTimes(var, l),
                        format!("{var_label}::{level}:{bl}"),
                    ),
                    _ => (PieceOf::Indicator(var, l), format!("{var_label}::{level}")),
                }
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------
// Groups

struct Grouping {
    codes: Vec<u32>,
    n_groups: usize,
    /// Labels of the groups (empty unless asked for).
    levels: Vec<String>,
}

/// Dense group codes of one column over `rows`, in sorted level order.
fn column_groups(
    name: &str,
    column: &ColumnData,
    rows: &[usize],
    with_labels: bool,
) -> Result<Grouping, DesignError> {
    let n = column.len();
    let check = |r: usize| -> Result<(), DesignError> {
        if r >= n {
            Err(DesignError::RowOutOfRange { row: r, n_rows: n })
        } else {
            Ok(())
        }
    };
    let missing = |r: usize| DesignError::MissingInRows {
        column: name.to_string(),
        row: r,
    };
    match column {
        ColumnData::Numeric(values) => {
            let mut distinct = Vec::with_capacity(rows.len().min(1 << 16));
            for &r in rows {
                check(r)?;
                let v = values[r];
                if v.is_nan() {
                    return Err(missing(r));
                }
                distinct.push(if v == 0.0 { 0.0 } else { v });
            }
            distinct.sort_unstable_by(f64::total_cmp);
            distinct.dedup();
            let codes = rows
                .iter()
                .map(|&r| {
                    let v = if values[r] == 0.0 { 0.0 } else { values[r] };
                    distinct
                        .binary_search_by(|p| p.total_cmp(&v))
                        .map_or(0, |i| i as u32)
                })
                .collect();
            let levels = if with_labels {
                distinct.iter().map(|&v| format_r_number(v)).collect()
            } else {
                Vec::new()
            };
            Ok(Grouping {
                codes,
                n_groups: distinct.len(),
                levels,
            })
        }
        ColumnData::Categorical { codes, levels } => {
            let mut raw = Vec::with_capacity(rows.len());
            for &r in rows {
                check(r)?;
                raw.push(codes[r].ok_or_else(|| missing(r))?);
            }
            Ok(dense(
                &raw,
                levels.len(),
                |i| levels[i].clone(),
                with_labels,
            ))
        }
        ColumnData::Logical(values) => {
            let mut raw = Vec::with_capacity(rows.len());
            for &r in rows {
                check(r)?;
                raw.push(u32::from(values[r].ok_or_else(|| missing(r))?));
            }
            Ok(dense(
                &raw,
                2,
                |i| LOGICAL_LEVELS[i].to_string(),
                with_labels,
            ))
        }
    }
}

/// Renumbers codes `0..n_levels` to `0..G` over the levels that occur, keeping order.
fn dense(
    raw: &[u32],
    n_levels: usize,
    label: impl Fn(usize) -> String,
    with_labels: bool,
) -> Grouping {
    let mut present = vec![false; n_levels];
    for &c in raw {
        present[c as usize] = true;
    }
    let mut remap = vec![0u32; n_levels];
    let mut levels = Vec::new();
    let mut g = 0u32;
    for (i, p) in present.iter().enumerate() {
        if *p {
            remap[i] = g;
            g += 1;
            if with_labels {
                levels.push(label(i));
            }
        }
    }
    let codes = raw.iter().map(|&c| remap[c as usize]).collect();
    Grouping {
        codes,
        n_groups: g as usize,
        levels,
    }
}

/// Dense codes of the combination of `columns` over `rows`, ordered lexicographically
/// with the first column varying slowest (R's `a:b` for factors).
fn group_codes(
    columns: &[String],
    data: &DataSet,
    rows: &[usize],
    with_labels: bool,
) -> Result<Grouping, DesignError> {
    let mut acc: Option<Grouping> = None;
    for name in columns {
        let g = column_groups(name, data.column(name)?, rows, with_labels)?;
        acc = Some(match acc {
            None => g,
            Some(prev) => combine(&prev, &g, with_labels),
        });
    }
    Ok(acc.unwrap_or(Grouping {
        codes: vec![0; rows.len()],
        n_groups: 1,
        levels: vec!["(all)".to_string()],
    }))
}

fn combine(a: &Grouping, b: &Grouping, with_labels: bool) -> Grouping {
    let gb = b.n_groups.max(1) as u64;
    let ga = a.n_groups.max(1) as u64;
    let keys: Vec<u64> = a
        .codes
        .iter()
        .zip(&b.codes)
        .map(|(&x, &y)| u64::from(x) * gb + u64::from(y))
        .collect();
    let space = ga.saturating_mul(gb);
    let (distinct, codes): (Vec<u64>, Vec<u32>) = if space <= (4 * keys.len() as u64).max(1 << 16) {
        // A presence table over all combinations: linear time.
        const ABSENT: u32 = u32::MAX;
        const PRESENT: u32 = u32::MAX - 1;
        let mut slot = vec![ABSENT; space as usize];
        for &k in &keys {
            slot[k as usize] = PRESENT;
        }
        let mut distinct = Vec::new();
        for (k, s) in slot.iter_mut().enumerate() {
            if *s == PRESENT {
                *s = distinct.len() as u32;
                distinct.push(k as u64);
            }
        }
        let codes = keys.iter().map(|&k| slot[k as usize]).collect();
        (distinct, codes)
    } else {
        let mut distinct = keys.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let codes = keys
            .iter()
            .map(|k| distinct.binary_search(k).map_or(0, |i| i as u32))
            .collect();
        (distinct, codes)
    };
    let levels = if with_labels {
        distinct
            .iter()
            .map(|&k| {
                format!(
                    "{}:{}",
                    a.levels[(k / gb) as usize],
                    b.levels[(k % gb) as usize]
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    Grouping {
        codes,
        n_groups: distinct.len(),
        levels,
    }
}

/// The closest column name, for "did you mean" (Levenshtein distance at most a third of
/// the name's length, or the same name in another case).
pub fn closest_name(name: &str, candidates: &[String]) -> Option<String> {
    let lower = name.to_lowercase();
    if let Some(c) = candidates.iter().find(|c| c.to_lowercase() == lower) {
        return Some(c.clone());
    }
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::formula::parse;

    fn formula(text: &str) -> Formula {
        match parse(text) {
            Ok(f) => f,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn design(text: &str, data: &DataSet) -> Design {
        match model_matrix(&formula(text), data) {
            Ok(d) => d,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn design_err(text: &str, data: &DataSet) -> DesignError {
        match model_matrix(&formula(text), data) {
            Ok(d) => panic!("{text} built {:?}", d.column_names),
            Err(e) => e,
        }
    }

    fn strings(values: &[&str]) -> ColumnData {
        let v: Vec<Option<&str>> = values
            .iter()
            .map(|s| if s.is_empty() { None } else { Some(*s) })
            .collect();
        ColumnData::from_strings(&v)
    }

    fn column(d: &Design, name: &str) -> Vec<f64> {
        let j = d
            .column_names
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", d.column_names));
        d.x.column(j).iter().copied().collect()
    }

    /// y, age, sex (F/M), f (a/b/c), x.
    fn small() -> DataSet {
        let mut data = DataSet::new();
        let push = |data: &mut DataSet, name: &str, col: ColumnData| {
            if let Err(e) = data.push(name, col) {
                panic!("{e}");
            }
        };
        push(
            &mut data,
            "y",
            ColumnData::Numeric(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        );
        push(
            &mut data,
            "age",
            ColumnData::Numeric(vec![20.0, 30.0, 40.0, 50.0, 60.0, 70.0]),
        );
        push(&mut data, "sex", strings(&["F", "M", "M", "F", "M", "F"]));
        push(&mut data, "f", strings(&["a", "b", "c", "a", "b", "c"]));
        push(
            &mut data,
            "x",
            ColumnData::Numeric(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        );
        data
    }

    #[test]
    fn numeric_factor_and_interaction_columns() {
        let d = design("y ~ age * sex", &small());
        assert_eq!(d.column_names, ["(Intercept)", "age", "sexM", "age:sexM"]);
        assert_eq!(d.assign, [0, 1, 2, 3]);
        assert_eq!(d.term_labels, ["age", "sex", "age:sex"]);
        assert_eq!(column(&d, "(Intercept)"), [1.0; 6]);
        assert_eq!(column(&d, "sexM"), [0.0, 1.0, 1.0, 0.0, 1.0, 0.0]);
        assert_eq!(column(&d, "age:sexM"), [0.0, 30.0, 40.0, 0.0, 60.0, 0.0]);
        assert_eq!(
            d.response.map(|r| r.iter().copied().collect::<Vec<_>>()),
            Some(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        );
        assert_eq!(d.rows, [0, 1, 2, 3, 4, 5]);
        assert_eq!(d.dropped_rows, 0);
    }

    #[test]
    fn no_intercept_codes_the_first_factor_fully() {
        let d = design("y ~ 0 + f", &small());
        assert_eq!(d.column_names, ["fa", "fb", "fc"]);
        assert_eq!(column(&d, "fc"), [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
        // Only the first factor: sex keeps its contrasts.
        let d = design("y ~ 0 + f + sex", &small());
        assert_eq!(d.column_names, ["fa", "fb", "fc", "sexM"]);
        // A numeric first term does not count: the first factor is still f.
        let d = design("y ~ x + f - 1", &small());
        assert_eq!(d.column_names, ["x", "fa", "fb", "fc"]);
    }

    #[test]
    fn factor_whose_margin_is_absent_gets_indicator_coding() {
        // R 4.2.2: model.matrix(y ~ x + x:f) has x:fb, x:fc (x is the margin of x:f
        // without f), while y ~ x:f and y ~ f:sex code f by all its levels.
        let d = design("y ~ x + x:f", &small());
        assert_eq!(d.column_names, ["(Intercept)", "x", "x:fb", "x:fc"]);
        let d = design("y ~ x:f", &small());
        assert_eq!(d.column_names, ["(Intercept)", "x:fa", "x:fb", "x:fc"]);
        assert_eq!(column(&d, "x:fb"), [0.0, 2.0, 0.0, 0.0, 5.0, 0.0]);
        let d = design("y ~ f:sex", &small());
        assert_eq!(
            d.column_names,
            [
                "(Intercept)",
                "fa:sexF",
                "fb:sexF",
                "fc:sexF",
                "fa:sexM",
                "fb:sexM",
                "fc:sexM"
            ]
        );
        let d = design("y ~ f + f:sex", &small());
        assert_eq!(
            d.column_names,
            ["(Intercept)", "fb", "fc", "fa:sexM", "fb:sexM", "fc:sexM"]
        );
        assert_eq!(column(&d, "fa:sexM"), [0.0; 6]);
        assert_eq!(column(&d, "fb:sexM"), [0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn missing_values_drop_rows() {
        let mut data = DataSet::new();
        let cols = [
            ("y", ColumnData::Numeric(vec![1.0, f64::NAN, 3.0, 4.0, 5.0])),
            ("x", ColumnData::Numeric(vec![1.0, 2.0, 3.0, f64::NAN, 5.0])),
            ("g", strings(&["a", "b", "", "a", "b"])),
            ("unused", ColumnData::Numeric(vec![f64::NAN; 5])),
        ];
        for (n, c) in cols {
            data.push(n, c)
                .map_err(|e| e.to_string())
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let d = design("y ~ x + g", &data);
        assert_eq!(d.rows, [0, 4]);
        assert_eq!(d.dropped_rows, 3);
        assert_eq!(d.x.nrows(), 2);
        assert_eq!(column(&d, "x"), [1.0, 5.0]);
        assert_eq!(column(&d, "gb"), [0.0, 1.0]);
        // A column the formula does not use does not drop rows.
        let d = design("y ~ 1", &data);
        assert_eq!(d.rows, [0, 2, 3, 4]);
        let e = design_err("y ~ unused", &data);
        assert_eq!(e, DesignError::NoCompleteRows { n_rows: 5 });
    }

    /// Every block of rows read from [`ModelRows`], and every column, equals the stored
    /// matrix: with all rows used (numeric columns shared with the data set) and with
    /// rows dropped for missing values.
    #[test]
    fn model_rows_read_in_blocks_equal_the_matrix() {
        let mut with_missing = small();
        let _ = with_missing.push(
            "z",
            ColumnData::Numeric(vec![1.0, f64::NAN, 3.0, 4.0, 5.0, 6.0]),
        );
        let cases = [
            ("y ~ age * sex", small()),
            ("y ~ f + x:f + I(age^2)", small()),
            ("y ~ 0 + factor(x) + age", small()),
            ("y ~ age + z + f", with_missing),
            ("y ~ i(rel_period, treated, ref = -1) + arm", event_data()),
        ];
        for (text, data) in cases {
            let rows = match model_rows(&formula(text), &data) {
                Ok(d) => d.x,
                Err(e) => panic!("{text}: {e}"),
            };
            let x = design(text, &data).x;
            let (n, p) = (x.nrows(), x.ncols());
            assert_eq!((rows.nrows(), rows.ncols()), (n, p), "{text}");
            for k in 0..p {
                assert_eq!(rows.column(k).as_slice(), x.column(k).as_slice(), "{text}");
            }
            for start in 0..n {
                for len in 1..=n - start {
                    let ld = len + 2;
                    let mut block = vec![f64::NAN; ld * p];
                    rows.rows_into(start, len, &mut block, ld);
                    for k in 0..p {
                        for i in 0..len {
                            assert_eq!(block[k * ld + i], x[(start + i, k)], "{text}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn nan_from_a_transformation_drops_the_row_and_infinity_is_an_error() {
        let mut data = DataSet::new();
        let _ = data.push("y", ColumnData::Numeric(vec![1.0, 2.0, 3.0, 4.0]));
        let _ = data.push("x", ColumnData::Numeric(vec![-1.0, 1.0, 2.0, 0.0]));
        let d = model_matrix(&formula("y ~ log(x)"), &data);
        // R: log(-1) is NaN (row dropped by na.omit); log(0) is -Inf (lm stops).
        match d {
            Err(DesignError::NonFinite {
                variable,
                row,
                value,
            }) => {
                assert_eq!(variable, "log(x)");
                assert_eq!(row, 3);
                assert_eq!(value, f64::NEG_INFINITY);
                let e = DesignError::NonFinite {
                    variable,
                    row,
                    value,
                };
                assert!(e.to_string().contains("`log(x)` is -Inf in row 4"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        let d = design("y ~ sqrt(x)", &data);
        assert_eq!(d.rows, [1, 2, 3]);
        assert_eq!(column(&d, "sqrt(x)"), [1.0, 2f64.sqrt(), 0.0]);
    }

    #[test]
    fn logical_column_is_a_false_true_factor() {
        let mut data = small();
        let _ = data.push(
            "smoker",
            ColumnData::Logical(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
                Some(false),
                Some(false),
            ]),
        );
        let _ = data.push("always", ColumnData::Logical(vec![Some(true); 6]));
        let d = design("y ~ smoker", &data);
        assert_eq!(d.column_names, ["(Intercept)", "smokerTRUE"]);
        assert_eq!(column(&d, "smokerTRUE"), [1.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(d.dropped_rows, 1);
        // R: both levels always exist, so an all-TRUE column still gives `alwaysTRUE`.
        let d = design("y ~ always", &data);
        assert_eq!(d.column_names, ["(Intercept)", "alwaysTRUE"]);
        let d = design("y ~ 0 + smoker", &data);
        assert_eq!(d.column_names, ["smokerFALSE", "smokerTRUE"]);
        // Arithmetic treats TRUE as 1.
        let d = design("y ~ I(always * 2)", &data);
        assert_eq!(column(&d, "I(always * 2)"), [2.0; 6]);
    }

    #[test]
    fn factor_of_a_numeric_column_is_labelled_as_r_prints_numbers() {
        let mut data = small();
        let _ = data.push(
            "wave",
            ColumnData::Numeric(vec![3.0, 2.5, -1.0, 3.0, 100000.0, -1.0]),
        );
        let d = design("y ~ factor(wave)", &data);
        assert_eq!(
            d.column_names,
            [
                "(Intercept)",
                "factor(wave)2.5",
                "factor(wave)3",
                "factor(wave)1e+05"
            ]
        );
        assert_eq!(column(&d, "factor(wave)3"), [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn i_of_age_squared_values() {
        let d = design("y ~ age + I(age^2) + I((age - 20)/10)", &small());
        assert_eq!(
            d.column_names,
            ["(Intercept)", "age", "I(age^2)", "I((age - 20)/10)"]
        );
        assert_eq!(
            column(&d, "I(age^2)"),
            [400.0, 900.0, 1600.0, 2500.0, 3600.0, 4900.0]
        );
        assert_eq!(
            column(&d, "I((age - 20)/10)"),
            [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
    }

    fn event_data() -> DataSet {
        let mut data = DataSet::new();
        let rel = vec![-3.0, -2.0, -1.0, 0.0, 1.0, -3.0, -2.0, -1.0, 0.0, 1.0];
        let treated = vec![1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let _ = data.push("y", ColumnData::Numeric((0..10).map(f64::from).collect()));
        let _ = data.push("rel_period", ColumnData::Numeric(rel));
        let _ = data.push("treated", ColumnData::Numeric(treated));
        let _ = data.push(
            "unit",
            ColumnData::Numeric(vec![1., 1., 1., 1., 1., 2., 2., 2., 2., 2.]),
        );
        let _ = data.push(
            "arm",
            strings(&["t", "t", "t", "t", "t", "c", "c", "c", "c", "c"]),
        );
        data
    }

    #[test]
    fn event_study_columns_are_named_as_fixest() {
        let data = event_data();
        let d = design("y ~ i(rel_period, treated, ref = -1)", &data);
        assert_eq!(
            d.column_names,
            [
                "(Intercept)",
                "rel_period::-3:treated",
                "rel_period::-2:treated",
                "rel_period::0:treated",
                "rel_period::1:treated"
            ]
        );
        assert_eq!(d.assign, [0, 1, 1, 1, 1]);
        assert_eq!(
            column(&d, "rel_period::0:treated"),
            [0., 0., 0., 1., 0., 0., 0., 0., 0., 0.]
        );
        let d = design("y ~ i(rel_period, ref = c(-1, -3))", &data);
        assert_eq!(
            d.column_names,
            [
                "(Intercept)",
                "rel_period::-2",
                "rel_period::0",
                "rel_period::1"
            ]
        );
        assert_eq!(
            column(&d, "rel_period::1"),
            [0., 0., 0., 0., 1., 0., 0., 0., 0., 1.]
        );
        let d = design("y ~ i(arm, ref = \"c\")", &data);
        assert_eq!(d.column_names, ["(Intercept)", "arm::t"]);
    }

    #[test]
    fn event_study_errors() {
        let data = event_data();
        let e = design_err("y ~ i(rel_period, treated, ref = -7)", &data);
        assert!(
            matches!(&e, DesignError::UnknownReference { reference, .. } if reference == "-7"),
            "{e:?}"
        );
        assert!(e.to_string().contains("-3, -2, -1, 0, 1"), "{e}");
        let e = design_err("y ~ i(arm, ref = c(\"c\", \"t\"))", &data);
        assert!(matches!(e, DesignError::AllReferences { .. }), "{e:?}");
        let e = design_err("y ~ i(rel_period, arm)", &data);
        assert!(matches!(e, DesignError::EventStudyBy { .. }), "{e:?}");
    }

    #[test]
    fn fixed_effect_codes_are_dense_and_sorted() {
        let mut data = event_data();
        let _ = data.push(
            "region",
            strings(&["s", "n", "s", "n", "s", "e", "e", "n", "s", "e"]),
        );
        let f = formula("y ~ treated | unit + region + unit^region");
        let d = match model_matrix(&f, &data) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        // The fixed effects are not columns of the model matrix.
        assert_eq!(d.column_names, ["(Intercept)", "treated"]);
        let fe = match fixed_effect_codes(&f, &data, &d.rows) {
            Ok(fe) => fe,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            fe[0],
            ("unit".to_string(), vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        );
        // Levels e < n < s.
        assert_eq!(
            fe[1],
            ("region".to_string(), vec![2, 1, 2, 1, 2, 0, 0, 1, 2, 0])
        );
        // (1,n)=0, (1,s)=1, (2,e)=2, (2,n)=3, (2,s)=4.
        assert_eq!(
            fe[2],
            (
                "unit^region".to_string(),
                vec![1, 0, 1, 0, 1, 2, 2, 3, 4, 2]
            )
        );
        // Codes do not depend on row order.
        let reversed: Vec<usize> = d.rows.iter().rev().copied().collect();
        let fe_rev = fixed_effect_codes(&f, &data, &reversed).unwrap_or_default();
        let back: Vec<u32> = fe_rev[2].1.iter().rev().copied().collect();
        assert_eq!(back, fe[2].1);
        // Only rows passed in count.
        let fe = fixed_effect_codes(&f, &data, &[5, 6]).unwrap_or_default();
        assert_eq!(fe[1].1, [0, 0]);
        assert!(matches!(
            fixed_effect_codes(&f, &data, &[10]),
            Err(DesignError::RowOutOfRange {
                row: 10,
                n_rows: 10
            })
        ));
    }

    #[test]
    fn random_effect_blocks() {
        let mut data = event_data();
        let _ = data.push(
            "t",
            ColumnData::Numeric(vec![0., 1., 2., 3., 4., 0., 1., 2., 3., 4.]),
        );
        let f = formula("y ~ t + (1 + t | unit) + (0 + t | arm)");
        let d = match model_matrix(&f, &data) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let blocks = match random_effect_design(&f, &data, &d.rows) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].group_name, "unit");
        assert_eq!(blocks[0].group_levels, ["1", "2"]);
        assert_eq!(blocks[0].column_names, ["(Intercept)", "t"]);
        assert_eq!(
            blocks[0].z.column(1).iter().copied().collect::<Vec<_>>(),
            [0., 1., 2., 3., 4., 0., 1., 2., 3., 4.]
        );
        assert_eq!(blocks[0].term, "1 + t | unit");
        assert_eq!(blocks[1].column_names, ["t"]);
        assert_eq!(blocks[1].group_levels, ["c", "t"]);
        assert_eq!(blocks[1].group_codes, [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn unknown_column_is_named_with_a_suggestion() {
        let e = design_err("y ~ agee + sex", &small());
        assert_eq!(
            e.to_string(),
            "formula: unknown column `agee` (did you mean `age`?)"
        );
        let e = design_err("y ~ Sex", &small());
        assert_eq!(
            e.to_string(),
            "formula: unknown column `Sex` (did you mean `sex`?)"
        );
        let e = design_err("y ~ income", &small());
        assert_eq!(e.to_string(), "formula: unknown column `income`");
        let e = design_err("yy ~ age", &small());
        assert!(matches!(e, DesignError::UnknownColumn { ref name, .. } if name == "yy"));
        let e = design_err("y ~ age + (1 | grp)", &small());
        assert!(matches!(e, DesignError::UnknownColumn { ref name, .. } if name == "grp"));
    }

    #[test]
    fn type_errors() {
        let data = small();
        let e = design_err("y ~ I(sex^2)", &data);
        assert_eq!(
            e.to_string(),
            "formula: `I(sex^2)` needs a numeric column but `sex` is categorical"
        );
        let e = design_err("sex ~ age", &data);
        assert!(matches!(e, DesignError::NonNumericResponse { .. }), "{e:?}");
        let mut one = small();
        let _ = one.push("same", strings(&["a"; 6]));
        let e = design_err("y ~ same", &one);
        assert_eq!(
            e,
            DesignError::TooFewLevels {
                variable: "same".into(),
                levels: 1
            }
        );
    }

    #[test]
    fn unused_levels_are_dropped_or_kept() {
        let mut data = small();
        let _ = data.push(
            "arm",
            ColumnData::Categorical {
                codes: vec![Some(0), Some(1), Some(0), Some(1), Some(0), Some(1)],
                levels: vec!["control".into(), "treat".into(), "unused".into()],
            },
        );
        let f = formula("y ~ arm");
        let d = design("y ~ arm", &data);
        assert_eq!(d.column_names, ["(Intercept)", "armtreat"]);
        let keep = DesignOptions {
            unused_levels: UnusedLevels::Keep,
        };
        let d = model_matrix_with(&f, &data, &keep).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.column_names, ["(Intercept)", "armtreat", "armunused"]);
        assert_eq!(column(&d, "armunused"), [0.0; 6]);
    }

    #[test]
    fn data_set_rejects_bad_columns() {
        let mut data = small();
        assert!(matches!(
            data.push("age", ColumnData::Numeric(vec![0.0; 6])),
            Err(DesignError::DuplicateColumn { .. })
        ));
        assert!(matches!(
            data.push("z", ColumnData::Numeric(vec![0.0; 5])),
            Err(DesignError::LengthMismatch {
                len: 5,
                expected: 6,
                ..
            })
        ));
        let bad = ColumnData::Categorical {
            codes: vec![Some(3); 6],
            levels: vec!["a".into()],
        };
        assert!(matches!(
            data.push("c", bad),
            Err(DesignError::InvalidColumn { .. })
        ));
        assert_eq!(data.n_rows(), 6);
        assert!(data.get("age").is_some() && data.get("nope").is_none());
        // Levels of a string column are sorted by bytes: upper case first.
        match strings(&["b", "B", "a", ""]) {
            ColumnData::Categorical { codes, levels } => {
                assert_eq!(levels, ["B", "a", "b"]);
                assert_eq!(codes, [Some(2), Some(0), Some(1), None]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rows_permuted_give_permuted_matrix() {
        // Invariant: the design does not depend on row order beyond permuting its rows.
        let data = small();
        let perm = [3usize, 0, 5, 1, 4, 2];
        let mut shuffled = DataSet::new();
        for name in ["y", "age", "sex", "f", "x"] {
            let col = match data.get(name) {
                Some(ColumnData::Numeric(v)) => {
                    ColumnData::Numeric(perm.iter().map(|&i| v[i]).collect())
                }
                Some(ColumnData::Categorical { codes, levels }) => ColumnData::Categorical {
                    codes: perm.iter().map(|&i| codes[i]).collect(),
                    levels: levels.clone(),
                },
                other => panic!("{other:?}"),
            };
            let _ = shuffled.push(name, col);
        }
        let a = design("y ~ age * f + sex", &data);
        let b = design("y ~ age * f + sex", &shuffled);
        assert_eq!(a.column_names, b.column_names);
        for (k, &i) in perm.iter().enumerate() {
            assert_eq!(a.x.row(i), b.x.row(k));
        }
    }

    // ---- Reference: R 4.2.2 model.matrix and lme4 1.1-31 (tests/reference/design/) ----

    mod reference {
        use super::*;
        use serde_json::Value as Json;

        const REFERENCE: &str = include_str!("../../tests/reference/design/model_matrix.json");
        /// JSON keeps 15 significant digits.
        const TOL: f64 = 1e-12;

        fn load() -> Json {
            serde_json::from_str(REFERENCE).unwrap_or_else(|e| panic!("reference JSON: {e}"))
        }

        fn data_set(j: &Json) -> DataSet {
            let mut data = DataSet::new();
            for col in j["data"].as_array().into_iter().flatten() {
                let name = col["name"].as_str().unwrap_or_default();
                let values = col["values"].as_array().cloned().unwrap_or_default();
                let c = match col["type"].as_str() {
                    Some("numeric") => ColumnData::Numeric(
                        values
                            .iter()
                            .map(|v| v.as_f64().unwrap_or(f64::NAN))
                            .collect(),
                    ),
                    Some("logical") => {
                        ColumnData::Logical(values.iter().map(Json::as_bool).collect())
                    }
                    Some("string") => {
                        let v: Vec<Option<&str>> = values.iter().map(Json::as_str).collect();
                        ColumnData::from_strings(&v)
                    }
                    Some("factor") => {
                        let levels: Vec<String> = col["levels"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|l| l.as_str().map(str::to_string))
                            .collect();
                        let codes = values
                            .iter()
                            .map(|v| {
                                v.as_str()
                                    .and_then(|s| levels.iter().position(|l| l == s))
                                    .map(|i| i as u32)
                            })
                            .collect();
                        ColumnData::Categorical { codes, levels }
                    }
                    other => panic!("column type {other:?}"),
                };
                data.push(name, c).unwrap_or_else(|e| panic!("{e}"));
            }
            data
        }

        fn strs(j: &Json) -> Vec<String> {
            j.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        }

        fn usizes(j: &Json) -> Vec<usize> {
            j.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_u64().map(|u| u as usize))
                .collect()
        }

        fn assert_close(what: &str, got: f64, want: f64) {
            let scale = want.abs().max(1.0);
            assert!(
                (got - want).abs() <= TOL * scale,
                "{what}: got {got}, R has {want}"
            );
        }

        fn assert_matrix(what: &str, got: &DMatrix<f64>, want: &Json) {
            let rows = want.as_array().cloned().unwrap_or_default();
            assert_eq!(got.nrows(), rows.len(), "{what}: rows");
            for (i, row) in rows.iter().enumerate() {
                let row = row.as_array().cloned().unwrap_or_default();
                assert_eq!(got.ncols(), row.len(), "{what}: columns");
                for (k, v) in row.iter().enumerate() {
                    assert_close(
                        &format!("{what} [{i},{k}]"),
                        got[(i, k)],
                        v.as_f64().unwrap_or(f64::NAN),
                    );
                }
            }
        }

        #[test]
        fn model_matrices_match_r() {
            let j = load();
            let data = data_set(&j);
            let cases = j["cases"].as_array().cloned().unwrap_or_default();
            assert!(cases.len() >= 20);
            for case in &cases {
                let text = case["formula"].as_str().unwrap_or_default();
                let options = DesignOptions {
                    unused_levels: if case["mode"] == "keep" {
                        UnusedLevels::Keep
                    } else {
                        UnusedLevels::Drop
                    },
                };
                let d = model_matrix_with(&formula(text), &data, &options)
                    .unwrap_or_else(|e| panic!("{text}: {e}"));
                assert_eq!(
                    d.column_names,
                    strs(&case["column_names"]),
                    "{text}: column names"
                );
                assert_eq!(d.assign, usizes(&case["assign"]), "{text}: assign");
                assert_eq!(
                    d.term_labels,
                    strs(&case["term_labels"]),
                    "{text}: term labels"
                );
                assert_eq!(d.rows, usizes(&case["rows"]), "{text}: rows");
                assert_eq!(d.dropped_rows, data.n_rows() - d.rows.len());
                let y = d.response.unwrap_or_else(|| panic!("{text}: no response"));
                for (i, want) in case["response"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    assert_close(
                        &format!("{text}: y[{i}]"),
                        y[i],
                        want.as_f64().unwrap_or(f64::NAN),
                    );
                }
                assert_matrix(text, &d.x, &case["x"]);
            }
        }

        #[test]
        fn random_effect_design_matches_lme4() {
            let j = load();
            let data = data_set(&j);
            let re = &j["random"];
            let f = formula(re["formula"].as_str().unwrap_or_default());
            let d = model_matrix(&f, &data).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(d.rows, usizes(&re["rows"]));
            let blocks = random_effect_design(&f, &data, &d.rows).unwrap_or_else(|e| panic!("{e}"));
            let want = re["terms"].as_array().cloned().unwrap_or_default();
            assert_eq!(blocks.len(), want.len());
            for (b, w) in blocks.iter().zip(&want) {
                assert_eq!(b.term, w["term"].as_str().unwrap_or_default());
                assert_eq!(b.group_name, w["group_name"].as_str().unwrap_or_default());
                assert_eq!(b.group_levels, strs(&w["group_levels"]), "{}", b.term);
                let codes: Vec<usize> = b.group_codes.iter().map(|&c| c as usize).collect();
                assert_eq!(codes, usizes(&w["group_codes"]), "{}", b.term);
                assert_eq!(b.column_names, strs(&w["column_names"]), "{}", b.term);
                assert_matrix(&b.term, &b.z, &w["z"]);
            }
        }

        #[test]
        fn fixed_effect_codes_match_r_factors() {
            let j = load();
            let data = data_set(&j);
            let fe = &j["fixed_effects"];
            let f = formula(fe["formula"].as_str().unwrap_or_default());
            let d = model_matrix(&f, &data).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(d.rows, usizes(&fe["rows"]));
            let got = fixed_effect_codes(&f, &data, &d.rows).unwrap_or_else(|e| panic!("{e}"));
            let want = fe["effects"].as_array().cloned().unwrap_or_default();
            assert_eq!(got.len(), want.len());
            for ((name, codes), w) in got.iter().zip(&want) {
                assert_eq!(name, w["name"].as_str().unwrap_or_default());
                let codes: Vec<usize> = codes.iter().map(|&c| c as usize).collect();
                assert_eq!(codes, usizes(&w["codes"]), "{name}");
            }
        }
    }

    /// Run with `cargo test --release -- --ignored design_one_million_rows`: prints the
    /// time to build a 1,000,000 × 15 model matrix.
    #[test]
    #[ignore]
    fn design_one_million_rows() {
        let n = 1_000_000;
        let mut data = DataSet::new();
        let num = |k: usize| {
            ColumnData::Numeric(
                (0..n)
                    .map(|i| ((i * (k + 7)) % 1000) as f64 / 10.0)
                    .collect(),
            )
        };
        let _ = data.push("y", num(1));
        let _ = data.push("age", num(2));
        let _ = data.push("income", num(3));
        let _ = data.push("t", num(4));
        let cat = |k: u32, levels: &[&str]| ColumnData::Categorical {
            codes: (0..n as u32)
                .map(|i| Some((i.wrapping_mul(2654435761) >> k) % levels.len() as u32))
                .collect(),
            levels: levels.iter().map(|s| s.to_string()).collect(),
        };
        let _ = data.push("sex", cat(3, &["F", "M"]));
        let _ = data.push("edu", cat(7, &["1", "2", "3", "4"]));
        let _ = data.push("region", cat(11, &["a", "b", "c", "d", "e"]));
        let f = formula(
            "y ~ age + I(age^2) + income + log(income + 1) + t + sex + edu + region + age:sex",
        );
        let start = std::time::Instant::now();
        let d = model_matrix(&f, &data).unwrap_or_else(|e| panic!("{e}"));
        let elapsed = start.elapsed();
        eprintln!("{} x {} in {:?}", d.x.nrows(), d.x.ncols(), elapsed);
        assert_eq!(d.x.ncols(), 15);
        assert!(elapsed.as_secs_f64() < 1.0, "{elapsed:?}");
    }
}
