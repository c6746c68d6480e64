//! Grouping factors as dense codes over the rows used: fixest's fixed effects and lme4's
//! grouping factors, single columns or combinations of columns.

use super::data::{ColumnData, DataSet};
use super::error::DesignError;
use super::frame::LOGICAL_LEVELS;
use crate::stats::formula::{format_r_number, Formula};

/// The fixed effects of a fixest formula (`| fe1 + fe1^fe2`) as group codes over
/// `rows` (normally [`Design::rows`](super::Design::rows)): one `(name, codes)` per fixed effect, named as
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

pub(super) struct Grouping {
    pub(super) codes: Vec<u32>,
    n_groups: usize,
    /// Labels of the groups (empty unless asked for).
    pub(super) levels: Vec<String>,
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
                raw.push(codes.get(r).ok_or_else(|| missing(r))?);
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
pub(super) fn group_codes(
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
