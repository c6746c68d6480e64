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
//!
//! The steps, one file each: `data` holds the columns; `frame` evaluates each variable
//! over all rows (R's model frame) and `model_matrix` keeps the complete rows; `compact`
//! takes the variables over those rows; `columns` codes the terms into columns
//! (contrasts, interactions, names) and `model_rows` computes their values; `random`
//! and `groups` give lme4's random-effect blocks and fixest's fixed-effect codes.
//!
//! [`Formula`]: crate::stats::formula::Formula

mod codes;
mod columns;
mod compact;
mod data;
mod error;
mod frame;
mod groups;
mod levels;
mod model_matrix;
mod model_rows;
mod random;
mod segments;
mod size;
mod suggest;

#[cfg(test)]
mod tests;

pub use codes::{Code, CodeSlice, Iter as CodeIter, LevelCodes};
pub use data::{ColumnData, DataSet};
pub use error::DesignError;
pub use groups::fixed_effect_codes;
pub use model_matrix::{
    model_matrix, model_matrix_with, model_rows, model_rows_with, Design, DesignOptions,
    UnusedLevels,
};
pub use model_rows::{DesignRows, ModelRows};
pub use random::{random_effect_design, RandomEffectBlock};
pub use segments::RowSegments;
pub use suggest::closest_name;
