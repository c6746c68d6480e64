//! The columns of the terms: R's contrast coding of categorical variables (`TermCode`),
//! interactions as products of their variables' columns, and R's column names and
//! `assign`.

use super::compact::{compact, Compact};
use super::data::DataSet;
use super::error::DesignError;
use super::frame::Frame;
use super::model_matrix::UnusedLevels;
use super::model_rows::{ModelRows, PieceOf};
use crate::stats::formula::Term;

pub(super) struct Built {
    pub(super) rows: ModelRows,
    pub(super) column_names: Vec<String>,
    pub(super) assign: Vec<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Coding {
    Contrasts,
    Indicators,
}

/// The columns of `terms` (with the intercept if asked) over `rows`, evaluating the
/// variables not yet in `frame`.
pub(super) fn build_matrix<'a>(
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
