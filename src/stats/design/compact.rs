//! The variables of the model frame over the rows used: numeric values checked to be
//! finite, factor codes renumbered after unused levels are dropped.

use std::sync::Arc;

use super::codes::{Code, CodeSlice, LevelCodes};
use super::data::ColumnData;
use super::error::DesignError;
use super::frame::{LevelDrop, Raw, RawFactor};
use crate::stats::formula::RefValue;

/// The values of a numeric variable over the rows used: its own, or the data set's
/// column when every row is used.
#[derive(Clone, Debug)]
pub(super) enum NumericValues {
    Owned(Vec<f64>),
    /// Always a [`ColumnData::Numeric`].
    Column(Arc<ColumnData>),
}

impl NumericValues {
    pub(super) fn as_slice(&self) -> &[f64] {
        match self {
            NumericValues::Owned(v) => v,
            NumericValues::Column(column) => match column.as_ref() {
                ColumnData::Numeric(v) => v,
                ColumnData::Categorical { .. } | ColumnData::Logical(_) => &[],
            },
        }
    }
}

/// The level codes of a factor over the rows used (none missing): its own, or the data
/// set's column when every row is used and every level kept.
#[derive(Clone, Debug)]
pub(super) enum FactorCodes {
    Owned(LevelCodes),
    /// Always a [`ColumnData::Categorical`].
    Column(Arc<ColumnData>),
}

impl FactorCodes {
    pub(super) fn as_slice(&self) -> CodeSlice<'_> {
        match self {
            FactorCodes::Owned(codes) => codes.as_slice(),
            FactorCodes::Column(column) => match column.as_ref() {
                ColumnData::Categorical { codes, .. } => codes.as_slice(),
                ColumnData::Numeric(_) | ColumnData::Logical(_) => CodeSlice::U32(&[]),
            },
        }
    }
}

/// A variable over the rows used.
#[derive(Clone, Debug)]
pub(super) enum Compact {
    Numeric(NumericValues),
    Factor {
        codes: FactorCodes,
        levels: Vec<String>,
    },
    EventStudy {
        codes: FactorCodes,
        levels: Vec<String>,
        /// Levels (codes) that get a column: all but the references.
        kept: Vec<u32>,
        by: Option<Vec<f64>>,
        var_label: String,
        by_label: Option<String>,
    },
}

pub(super) fn compact(label: &str, raw: &Raw<'_>, rows: &[usize]) -> Result<Compact, DesignError> {
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
) -> Result<(FactorCodes, Vec<String>), DesignError> {
    let n_levels = f.levels.len();
    let mut present = vec![f.drop == LevelDrop::Never; n_levels];
    let mut mark = |c: Option<u32>| {
        if let Some(p) = c.and_then(|c| present.get_mut(c as usize)) {
            *p = true;
        }
    };
    crate::with_codes!(f.codes.as_slice(), |v| match f.drop {
        LevelDrop::Never => {}
        LevelDrop::AllRows => v.iter().for_each(|c| mark(c.get())),
        LevelDrop::UsedRows => rows.iter().for_each(|&r| mark(v[r].get())),
    });
    if let Some(&r) = crate::with_codes!(f.codes.as_slice(), |v| rows
        .iter()
        .find(|&&r| v[r].is_missing()))
    {
        return Err(DesignError::MissingInRows {
            column: label.to_string(),
            row: r,
        });
    }
    let mut remap = vec![u32::MAX; n_levels];
    let mut levels = Vec::new();
    for (i, keep) in present.iter().enumerate() {
        if *keep {
            remap[i] = levels.len() as u32;
            levels.push(f.levels[i].clone());
        }
    }
    // Every row used (`rows` is increasing) and every level kept: the column's codes.
    if let (Some(column), true) = (&f.column, rows.len() == f.codes.len()) {
        if levels.len() == n_levels {
            return Ok((FactorCodes::Column(Arc::clone(column)), levels));
        }
    }
    let codes = crate::with_codes!(f.codes.as_slice(), |v| LevelCodes::new(
        levels.len(),
        rows.iter()
            .map(|&r| v[r].get().and_then(|c| remap.get(c as usize).copied()))
    ));
    Ok((FactorCodes::Owned(codes), levels))
}
