//! Table 1 of a sample: its variables, its checks, and the table of every variable by
//! group.

use serde::Serialize;

use super::summary::{summarise_variable, ByGroup, Tally, VariableSummary};
use super::TableOneError;
use crate::stats::design::LevelCodes;

/// One row variable of the table, a value per person.
#[derive(Debug, Clone, Copy)]
pub enum Variable<'a> {
    /// A numeric variable; `NaN` marks a missing value.
    Continuous {
        name: &'a str,
        values: &'a [f64],
        /// Shown as median [Q1, Q3] instead of mean (SD) (tableone's `nonnormal`).
        /// The SMD is the same either way.
        nonnormal: bool,
    },
    /// A categorical variable: a level index per person (`None` = missing) into
    /// `levels`, which are in display order; the first level is the reference that
    /// tableone drops in the SMD and hides for two-level variables.
    Categorical {
        name: &'a str,
        codes: &'a LevelCodes,
        levels: &'a [String],
    },
}

impl Variable<'_> {
    /// The variable's name.
    pub fn name(&self) -> &str {
        match self {
            Variable::Continuous { name, .. } | Variable::Categorical { name, .. } => name,
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Variable::Continuous { values, .. } => values.len(),
            Variable::Categorical { codes, .. } => codes.len(),
        }
    }
}

/// A "Table 1" for one sample: group sizes and one entry per variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableOne {
    /// Whether weights were given (the matched sample); counts are then sums of weights.
    pub weighted: bool,
    /// Group sizes: persons with a positive weight and the sum of their weights.
    pub n: ByGroup<Tally>,
    /// One entry per variable, in the order given.
    pub variables: Vec<VariableSummary>,
}

/// Table 1 of `variables` by group, as tableone computes it: unweighted with
/// `weights = None` (`CreateTableOne`), weighted otherwise (`svyCreateTableOne`).
///
/// Model: for each group g and variable x, the weighted mean
/// `x̄_g = Σ_{i∈g} wᵢ xᵢ / Σ_{i∈g} wᵢ` (proportions for levels) and
/// `SMD = |x̄_T − x̄_C| / sqrt((s²_T + s²_C) / 2)` (Yang–Dalton for categorical
/// variables); see the module documentation for every formula.
///
/// | parameter | default | range |
/// |---|---|---|
/// | `variables` | — | continuous (`NaN` = missing) or categorical (`None` = missing) columns, one entry per person |
/// | `treated` | — | `true` = treated (referred), `false` = control (comparison) |
/// | `weights` | `None` (all 1) | finite, ≥ 0; persons with weight 0 are left out |
///
/// # Errors
/// - [`TableOneError::LengthMismatch`] if a variable or `weights` does not have one
///   entry per element of `treated`.
/// - [`TableOneError::InvalidWeight`] for a negative or non-finite weight.
/// - [`TableOneError::EmptyGroup`] if a group has nobody with a positive weight.
/// - [`TableOneError::InfiniteValue`], [`TableOneError::UnknownLevel`],
///   [`TableOneError::NoLevels`] for bad variable values.
///
/// ## References
/// Yang & Dalton (2012); tableone 0.13; survey (`svyvar`, `svyquantile`): see the
/// module documentation.
pub fn table_one(
    variables: &[Variable<'_>],
    treated: &[bool],
    weights: Option<&[f64]>,
) -> Result<TableOne, TableOneError> {
    let n = treated.len();
    if let Some(w) = weights {
        check_weights(w, n)?;
    }
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
    let mut sizes = ByGroup {
        treated: Tally::default(),
        control: Tally::default(),
    };
    for (i, &t) in treated.iter().enumerate() {
        if weight(i) > 0.0 {
            pick_mut(&mut sizes, t).add(weight(i));
        }
    }
    for (tally, group) in [(&sizes.treated, "treated"), (&sizes.control, "control")] {
        if tally.persons == 0 {
            return Err(TableOneError::EmptyGroup { group });
        }
    }
    // Variables are independent: summarise them on several threads, in order.
    let variables = crate::stats::map_indices(variables.len(), |j| {
        check_variable(&variables[j], n)?;
        summarise_variable(&variables[j], treated, &weight)
    })
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    Ok(TableOne {
        weighted: weights.is_some(),
        n: sizes,
        variables,
    })
}

pub(super) fn pick_mut<T>(pair: &mut ByGroup<T>, treated: bool) -> &mut T {
    if treated {
        &mut pair.treated
    } else {
        &mut pair.control
    }
}

fn check_weights(weights: &[f64], n: usize) -> Result<(), TableOneError> {
    if weights.len() != n {
        return Err(TableOneError::LengthMismatch {
            what: "weights".to_string(),
            expected: n,
            found: weights.len(),
        });
    }
    match weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        Some((row, &value)) => Err(TableOneError::InvalidWeight { row, value }),
        None => Ok(()),
    }
}

fn check_variable(variable: &Variable<'_>, n: usize) -> Result<(), TableOneError> {
    if variable.len() != n {
        return Err(TableOneError::LengthMismatch {
            what: format!("variable `{}`", variable.name()),
            expected: n,
            found: variable.len(),
        });
    }
    match *variable {
        Variable::Continuous { name, values, .. } => {
            if let Some((row, &value)) = values.iter().enumerate().find(|(_, v)| v.is_infinite()) {
                return Err(TableOneError::InfiniteValue {
                    variable: name.to_string(),
                    row,
                    value,
                });
            }
        }
        Variable::Categorical {
            name,
            codes,
            levels,
        } => {
            if levels.is_empty() {
                return Err(TableOneError::NoLevels {
                    variable: name.to_string(),
                });
            }
            let bad = codes.first_outside(levels.len());
            if let Some((row, code)) = bad {
                return Err(TableOneError::UnknownLevel {
                    variable: name.to_string(),
                    row,
                    code,
                    levels: levels.len(),
                });
            }
        }
    }
    Ok(())
}
