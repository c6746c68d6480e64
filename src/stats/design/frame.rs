//! The model frame: each variable of a formula evaluated over all rows of the data, before
//! the rows with missing values are dropped (R's `model.frame()` before `na.omit`).

use std::borrow::Cow;
use std::sync::Arc;

use super::codes::{Code, LevelCodes};
use super::data::{ColumnData, DataSet};
use super::error::DesignError;
use super::model_matrix::UnusedLevels;
use crate::stats::formula::{format_r_number, quote_name, Arith, ArithOp, Expr, RefValue};

/// A variable evaluated over all rows of the data.
pub(super) enum Raw<'a> {
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

pub(super) struct RawFactor<'a> {
    pub(super) codes: Cow<'a, LevelCodes>,
    pub(super) levels: Cow<'a, [String]>,
    pub(super) drop: LevelDrop,
    /// The data set's column, when the codes and levels are that column's.
    pub(super) column: Option<Arc<ColumnData>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum LevelDrop {
    /// Keep every level (a logical column; a factor under `UnusedLevels::Keep`).
    Never,
    /// Keep levels that occur in some row (R's `factor(x)` of a factor).
    AllRows,
    /// Keep levels that occur in the rows used.
    UsedRows,
}

impl Raw<'_> {
    pub(super) fn is_missing(&self, row: usize) -> bool {
        match self {
            Raw::Numeric(v, _) => v[row].is_nan(),
            Raw::Factor(f) => f.codes.get(row).is_none(),
            Raw::EventStudy { factor, by, .. } => {
                factor.codes.get(row).is_none() || by.as_ref().is_some_and(|b| b[row].is_nan())
            }
        }
    }

    pub(super) fn mark_missing(&self, complete: &mut [bool]) {
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

pub(super) fn mark_missing_numeric(values: &[f64], complete: &mut [bool]) {
    for (ok, v) in complete.iter_mut().zip(values) {
        if v.is_nan() {
            *ok = false;
        }
    }
}

fn mark_missing_codes(codes: &LevelCodes, complete: &mut [bool]) {
    crate::with_codes!(codes.as_slice(), |v| {
        for (ok, c) in complete.iter_mut().zip(v) {
            if c.is_missing() {
                *ok = false;
            }
        }
    })
}

/// The model frame: each distinct variable (by label) evaluated once.
#[derive(Default)]
pub(super) struct Frame<'a> {
    pub(super) vars: Vec<(String, Raw<'a>)>,
}

impl<'a> Frame<'a> {
    /// Evaluates the variable unless it is already in the frame; returns its index.
    pub(super) fn add(
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

pub(super) const LOGICAL_LEVELS: [&str; 2] = ["FALSE", "TRUE"];

fn logical_levels() -> Vec<String> {
    LOGICAL_LEVELS.iter().map(|s| s.to_string()).collect()
}

fn logical_codes(values: &[Option<bool>]) -> LevelCodes {
    LevelCodes::new(2, values.iter().map(|v| v.map(u32::from)))
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
                    column: Some(Arc::clone(shared)),
                }),
                // R's `contrasts<-` makes a logical `factor(x, levels = c(FALSE, TRUE))`.
                ColumnData::Logical(v) => Raw::Factor(RawFactor {
                    codes: Cow::Owned(logical_codes(v)),
                    levels: Cow::Owned(logical_levels()),
                    drop: LevelDrop::Never,
                    column: None,
                }),
            }
        }
        Expr::Factor(name) => Raw::Factor(shared_factor_of(data.shared_column(name)?, keep)),
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
            let factor = shared_factor_of(data.shared_column(var)?, false);
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

/// [`factor_of`] the column, with the column when the factor's codes are its codes.
fn shared_factor_of(column: &Arc<ColumnData>, keep: bool) -> RawFactor<'_> {
    let factor = factor_of(column.as_ref(), keep);
    match column.as_ref() {
        ColumnData::Categorical { .. } => RawFactor {
            column: Some(Arc::clone(column)),
            ..factor
        },
        _ => factor,
    }
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
            let codes = LevelCodes::new(
                distinct.len(),
                values.iter().map(|&v| {
                    if v.is_nan() {
                        None
                    } else {
                        let v = if v == 0.0 { 0.0 } else { v };
                        distinct
                            .binary_search_by(|probe| probe.total_cmp(&v))
                            .ok()
                            .map(|i| i as u32)
                    }
                }),
            );
            RawFactor {
                codes: Cow::Owned(codes),
                levels: Cow::Owned(distinct.iter().map(|&v| format_r_number(v)).collect()),
                // The levels are the values that occur, over all rows.
                drop: if keep {
                    LevelDrop::Never
                } else {
                    LevelDrop::UsedRows
                },
                column: None,
            }
        }
        ColumnData::Categorical { codes, levels } => RawFactor {
            codes: Cow::Borrowed(codes),
            levels: Cow::Borrowed(levels),
            drop,
            column: None,
        },
        ColumnData::Logical(v) => RawFactor {
            codes: Cow::Owned(logical_codes(v)),
            levels: Cow::Owned(logical_levels()),
            drop,
            column: None,
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

pub(super) fn evaluate_response<'a>(
    expr: &'a Expr,
    data: &'a DataSet,
) -> Result<Cow<'a, [f64]>, DesignError> {
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
