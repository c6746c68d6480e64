//! Estimated marginal means and their contrasts for a linear mixed model, as emmeans
//! computes them: model-based means per level of a (wave) variable, optionally per
//! group; the change from the first level at each later level; and the difference
//! between groups in that change — each with Satterthwaite degrees of freedom
//! (lmerTest's `contest1D`).
//!
//! The reference grid holds every combination of the variables asked for; every other
//! term of the model enters at its mean over the rows used (numeric covariates at their
//! mean, other factors in the proportions of the data — emmeans' `weights =
//! "proportional"`). Changes and differences do not depend on that choice when the
//! other terms do not interact with the variables asked for.

use crate::stats::design::{
    model_matrix_with, ColumnData, DataSet, Design, DesignOptions, LevelCodes, UnusedLevels,
};
use crate::stats::formula::Formula;
use crate::stats::lmm::LmmFit;

// The result types live in `results`; these paths stay for the pipeline's other users.
use crate::results::mixed::{Emmeans, GridEstimate};

/// What to estimate: the means of `variable`, by `by` (emmeans' `~ variable | by`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmmeansSpec {
    pub variable: String,
    pub by: Option<String>,
}

impl std::str::FromStr for EmmeansSpec {
    type Err = String;

    /// `wave` or `wave | group` (a leading `~` is allowed, as in emmeans).
    fn from_str(spec: &str) -> Result<EmmeansSpec, String> {
        let spec = spec.trim().trim_start_matches('~').trim();
        let mut parts = spec.split('|').map(str::trim);
        let variable = parts
            .next()
            .filter(|v| !v.is_empty())
            .ok_or("--emmeans: name a variable, e.g. wave or \"wave | group\"")?;
        let by = parts.next().map(str::to_string);
        if parts.next().is_some() || by.as_deref() == Some("") {
            return Err(format!(
                "--emmeans {spec:?}: expected VARIABLE or \"VARIABLE | GROUP\""
            ));
        }
        Ok(EmmeansSpec {
            variable: variable.to_string(),
            by,
        })
    }
}

/// The levels of a grid variable: text levels as they are, numbers sorted.
fn levels(data: &DataSet, name: &str) -> Result<Vec<(String, GridValue)>, String> {
    match data.get(name) {
        Some(ColumnData::Numeric(v)) => {
            let mut values: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            values.sort_by(f64::total_cmp);
            values.dedup();
            Ok(values
                .into_iter()
                .map(|x| {
                    (
                        crate::stats::formula::format_r_number(x),
                        GridValue::Number(x),
                    )
                })
                .collect())
        }
        Some(ColumnData::Categorical { levels, .. }) => Ok(levels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), GridValue::Code(i as u32)))
            .collect()),
        Some(ColumnData::Logical(_)) => Ok(vec![
            ("FALSE".into(), GridValue::Logical(false)),
            ("TRUE".into(), GridValue::Logical(true)),
        ]),
        None => Err(format!("--emmeans: no column `{name}`")),
    }
}

#[derive(Debug, Clone, Copy)]
enum GridValue {
    Number(f64),
    Code(u32),
    Logical(bool),
}

/// Rows of the fixed-effects model matrix at the grid points, in the columns of
/// `design`. The whole grid is evaluated at once so that `factor(x)` sees every level.
fn grid_rows(
    formula: &Formula,
    data: &DataSet,
    design: &Design,
    points: &[Vec<(&str, GridValue)>],
) -> Result<Vec<Vec<f64>>, String> {
    let n = points.len();
    let value_of =
        |k: usize, name: &str| points[k].iter().find(|(c, _)| *c == name).map(|(_, v)| *v);
    let mut grid = DataSet::new();
    for name in data.column_names() {
        let column = match data.get(name) {
            Some(ColumnData::Numeric(v)) => {
                let used: Vec<f64> = design
                    .rows
                    .iter()
                    .map(|&r| v[r])
                    .filter(|x| x.is_finite())
                    .collect();
                let mean = used.iter().sum::<f64>() / used.len().max(1) as f64;
                ColumnData::Numeric(
                    (0..n)
                        .map(|k| match value_of(k, name) {
                            Some(GridValue::Number(x)) => x,
                            _ => mean,
                        })
                        .collect(),
                )
            }
            Some(ColumnData::Categorical { levels, .. }) => ColumnData::Categorical {
                codes: LevelCodes::new(
                    levels.len(),
                    (0..n).map(|k| match value_of(k, name) {
                        Some(GridValue::Code(c)) => Some(c),
                        _ => Some(0),
                    }),
                ),
                levels: levels.clone(),
            },
            Some(ColumnData::Logical(_)) => ColumnData::Logical(
                (0..n)
                    .map(|k| match value_of(k, name) {
                        Some(GridValue::Logical(b)) => Some(b),
                        _ => Some(false),
                    })
                    .collect(),
            ),
            None => continue,
        };
        grid.push(name, column).map_err(|e| e.to_string())?;
    }
    let options = DesignOptions {
        unused_levels: UnusedLevels::Keep,
    };
    let x = model_matrix_with(formula, &grid, &options).map_err(|e| e.to_string())?;
    let names: Vec<&str> = points
        .first()
        .map(|p| p.iter().map(|(n, _)| *n).collect())
        .unwrap_or_default();
    let used = design.x.nrows().max(1) as f64;
    let columns: Vec<(Option<usize>, bool, f64)> = design
        .column_names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let term = design.assign.get(j).copied().unwrap_or(0);
            let involves = term > 0
                && formula.terms.get(term - 1).is_some_and(|t| {
                    t.factors
                        .iter()
                        .any(|f| f.columns().iter().any(|c| names.contains(&c.as_str())))
                });
            let mean = design.x.column(j).iter().sum::<f64>() / used;
            (
                x.column_names.iter().position(|n| n == name),
                involves,
                mean,
            )
        })
        .collect();
    Ok((0..n)
        .map(|k| {
            design
                .column_names
                .iter()
                .zip(&columns)
                .map(|(name, &(col, involves, mean))| {
                    if name == "(Intercept)" {
                        1.0
                    } else if involves {
                        col.map_or(0.0, |c| x.x[(k, c)])
                    } else {
                        mean
                    }
                })
                .collect()
        })
        .collect())
}

fn estimate(
    fit: &LmmFit,
    l: &[f64],
    level: &str,
    group: Option<&str>,
    contrast: String,
) -> Result<GridEstimate, String> {
    let c = fit.contrast(l).map_err(|e| e.to_string())?;
    Ok(GridEstimate {
        level: level.to_string(),
        group: group.map(str::to_string),
        contrast,
        estimate: c.estimate,
        std_error: c.std_error,
        df: c.df.unwrap_or(f64::NAN),
        statistic: c.statistic,
        p_value: c.p_value,
        conf_low: c.conf_low,
        conf_high: c.conf_high,
    })
}

/// The marginal means of `variable` (by `by`), their changes from the first level and
/// the differences between groups in those changes.
pub fn emmeans(
    formula: &Formula,
    data: &DataSet,
    design: &Design,
    fit: &LmmFit,
    variable: &str,
    by: Option<&str>,
) -> Result<Emmeans, String> {
    let var_levels = levels(data, variable)?;
    let groups: Vec<Option<(String, GridValue)>> = match by {
        Some(g) => levels(data, g)?.into_iter().map(Some).collect(),
        None => vec![None],
    };
    let mut means = Vec::new();
    let mut changes = Vec::new();
    let mut differences = Vec::new();
    let mut change_vectors: Vec<Vec<Vec<f64>>> = Vec::new();
    let mut points = Vec::new();
    for group in &groups {
        for (_, value) in &var_levels {
            let mut set = vec![(variable, *value)];
            if let (Some(g), Some((_, gv))) = (by, group) {
                set.push((g, *gv));
            }
            points.push(set);
        }
    }
    let all_rows = grid_rows(formula, data, design, &points)?;
    for (gi, group) in groups.iter().enumerate() {
        let rows = &all_rows[gi * var_levels.len()..(gi + 1) * var_levels.len()];
        let gname = group.as_ref().map(|(n, _)| n.as_str());
        for (k, (label, _)) in var_levels.iter().enumerate() {
            means.push(estimate(fit, &rows[k], label, gname, label.clone())?);
        }
        let mut deltas = Vec::new();
        for (k, (label, _)) in var_levels.iter().enumerate().skip(1) {
            let d: Vec<f64> = rows[k].iter().zip(&rows[0]).map(|(a, b)| a - b).collect();
            changes.push(estimate(
                fit,
                &d,
                label,
                gname,
                format!("{label} - {}", var_levels[0].0),
            )?);
            deltas.push(d);
        }
        change_vectors.push(deltas);
    }
    if let (Some(first), true) = (groups.first().and_then(|g| g.as_ref()), groups.len() > 1) {
        for (gi, group) in groups.iter().enumerate().skip(1) {
            let Some((gname, _)) = group else { continue };
            for (k, (label, _)) in var_levels.iter().enumerate().skip(1) {
                let d: Vec<f64> = change_vectors[gi][k - 1]
                    .iter()
                    .zip(&change_vectors[0][k - 1])
                    .map(|(a, b)| a - b)
                    .collect();
                let contrast = format!("({label} - {}): {gname} - {}", var_levels[0].0, first.0);
                differences.push(estimate(fit, &d, label, Some(gname), contrast)?);
            }
        }
    }
    Ok(Emmeans {
        variable: variable.to_string(),
        by: by.map(str::to_string),
        means,
        changes,
        differences,
    })
}
