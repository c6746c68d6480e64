//! The ids of the units of a table given to `shine match`: checked for missing and
//! duplicated values, and ranked in natural order so that ties in distance are broken
//! by id rather than by row order.

use rayon::slice::ParallelSliceMut;
use std::cmp::Ordering;

use crate::data::table::TableSource;
use crate::results::matching::UnitId;
use crate::stats::design::{ColumnData, DataSet};

use super::fit_error::FitError;

/// The id of every row (the row number from 1 without an id column), and a unique tie
/// key per row: the rank of its id.
///
/// # Errors
/// A missing or duplicated id, or an id column that is neither numeric nor text,
/// naming the file, row and column.
pub fn ids_and_ranks(
    data: &DataSet,
    id: Option<&str>,
    file: &TableSource,
) -> Result<(Vec<UnitId>, Vec<u64>), FitError> {
    let n = data.n_rows();
    let Some(name) = id else {
        return Ok((
            (1..=n).map(|i| UnitId::Integer(i as i64)).collect(),
            (0..n as u64).collect(),
        ));
    };
    let missing = |row: usize| {
        FitError::Input(format!(
            "{file}, row {}, column {name}: missing id — expected an id in every row",
            file.row(row)
        ))
    };
    let (values, mut order): (Vec<UnitId>, Vec<usize>) = match data.get(name) {
        Some(ColumnData::Numeric(v)) => {
            if let Some(row) = v.iter().position(|x| x.is_nan()) {
                return Err(missing(row));
            }
            let mut order: Vec<usize> = (0..n).collect();
            order.par_sort_by(|&a, &b| v[a].total_cmp(&v[b]));
            let values = v
                .iter()
                .map(|&x| {
                    if x.fract() == 0.0 && x.abs() < 9e15 {
                        UnitId::Integer(x as i64)
                    } else {
                        UnitId::Number(x)
                    }
                })
                .collect();
            (values, order)
        }
        Some(ColumnData::Categorical { codes, levels }) => {
            if let Some(row) = codes.first_missing() {
                return Err(missing(row));
            }
            let text: Vec<&str> = codes
                .iter()
                .map(|c| {
                    c.and_then(|c| levels.get(c as usize))
                        .map_or("", String::as_str)
                })
                .collect();
            let mut order: Vec<usize> = (0..n).collect();
            order.par_sort_by(|&a, &b| natural_cmp(text[a], text[b]));
            (
                text.iter()
                    .map(|s| UnitId::Text((*s).to_string()))
                    .collect(),
                order,
            )
        }
        _ => {
            return Err(FitError::Input(format!(
                "{file}: --id {name}: the id column must hold numbers or text"
            )))
        }
    };
    for w in order.windows(2) {
        if values[w[0]] == values[w[1]] {
            let (a, b) = (w[0].min(w[1]), w[0].max(w[1]));
            // Shown as JSON shows it: text in quotes, numbers bare.
            let shown = serde_json::to_string(&values[b]).unwrap_or_default();
            return Err(FitError::Input(format!(
                "{file}, row {}, column {name}: id {shown}, also in row {} — expected each id once",
                file.row(b),
                file.row(a)
            )));
        }
    }
    let mut rank = vec![0u64; n];
    for (r, i) in order.drain(..).enumerate() {
        rank[i] = r as u64;
    }
    Ok((values, rank))
}

/// Natural order of ids: runs of digits compare by value, so `NSW2` < `NSW10`
/// (and ids numbered in row order keep that order); other text compares bytewise.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let run = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
                let (nx, ny) = (run(x), run(y));
                let (sx, sy) = (strip_zeros(&x[..nx]), strip_zeros(&y[..ny]));
                let by_value = sx.len().cmp(&sy.len()).then_with(|| sx.cmp(sy));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

/// A run of digits without its leading zeros.
fn strip_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&b| b == b'0').count();
    &digits[zeros..]
}

#[cfg(test)]
mod tests;
