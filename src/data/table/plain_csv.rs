//! The plainest CSV tables read straight into a model's columns, on every thread, without
//! building a data frame first.
//!
//! Only files whose reading cannot be in doubt take this route: ASCII, a comma between
//! fields, no quotes, no carriage returns, no blank lines, unique header names, the
//! same number of fields on every line, no missing cells, and each wanted column made
//! of numbers polars reads as numbers (`-?\d+` of at most 18 digits, `-?\d*\.\d+`) or
//! of labels polars reads as text (no digit, not `true`/`false`, `NaN` or `inf`).
//! Anything else is `None`, and the caller reads the file the general way, with its
//! type inference and its messages for bad cells. On the files it accepts, the columns
//! are those [`super::to_dataset`] makes of polars' frame, to the bit: integers as
//! `i64` then `f64`, decimals correctly rounded, labels coded in sorted byte order.

use rayon::prelude::*;

use crate::stats::design::{ColumnData, DataSet, LevelCodes};

/// More distinct labels than this in a column (ids as text, say): the general route.
const MAX_LABELS: usize = 64;

/// Parts of the file per thread (so a thread that is slowed down does not hold up the
/// others for long).
const PARTS_PER_THREAD: usize = 4;

/// Decimals of at most this many digits are exact integers divided by an exact power of
/// ten: one correctly rounded division is the correctly rounded value.
const FAST_DIGITS: usize = 15;

const POW10: [f64; FAST_DIGITS + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The columns `wanted` of a plain CSV file (see the module's description), in that
/// order; `None` when the file is not plain or a wanted column is not in its header.
pub fn read_plain_csv(bytes: &[u8], wanted: &[String]) -> Option<DataSet> {
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    if wanted.is_empty() {
        return None;
    }
    let header_end = body.iter().position(|&b| b == b'\n')?;
    if !plain_bytes(&body[..header_end]) {
        return None;
    }
    let header: Vec<&[u8]> = body[..header_end].split(|&b| b == b',').collect();
    let plain_name = |name: &&[u8]| {
        !name.is_empty() && name.first() != Some(&b' ') && name.last() != Some(&b' ')
    };
    if !header.iter().all(plain_name) {
        return None;
    }
    let mut names = std::collections::BTreeSet::new();
    if !header.iter().all(|name| names.insert(*name)) {
        return None;
    }
    for (i, name) in wanted.iter().enumerate() {
        if wanted[..i].contains(name) || !header.contains(&name.as_bytes()) {
            return None;
        }
    }
    // For each field of a line, the wanted column it fills.
    let slots: Vec<Option<usize>> = header
        .iter()
        .map(|name| wanted.iter().position(|w| w.as_bytes() == *name))
        .collect();
    let data = &body[header_end + 1..];
    if data.is_empty() {
        return None;
    }
    // The kind of each wanted column from the first line; the rows of each part from
    // its line ends; then every part fills its rows of the numeric columns in place (no
    // copies, and the fresh pages are touched on every thread).
    let first_line = data.split(|&b| b == b'\n').next()?;
    let mut kinds: Vec<Option<bool>> = vec![None; wanted.len()];
    for (field, cell) in first_line.split(|&b| b == b',').enumerate() {
        if let Some(&Some(j)) = slots.get(field) {
            kinds[j] = Some(match read_number(cell) {
                Cell::Integer(_) | Cell::Decimal(_) => true,
                Cell::Label => false,
                Cell::Other => return None,
            });
        }
    }
    let numeric: Vec<bool> = kinds.into_iter().collect::<Option<_>>()?;
    let parts = line_aligned_parts(data, rayon::current_num_threads() * PARTS_PER_THREAD);
    // Each part's lines, once its bytes are known to be plain.
    let rows: Vec<usize> = crate::stats::map_indices(parts.len(), |p| {
        let part = &data[parts[p].clone()];
        if !plain_bytes(part) {
            return None;
        }
        let lines = part.iter().filter(|&&b| b == b'\n').count();
        Some(lines + usize::from(part.last() != Some(&b'\n')))
    })
    .into_iter()
    .collect::<Option<_>>()?;
    let n: usize = rows.iter().sum();
    let mut values: Vec<Vec<f64>> = numeric
        .iter()
        .map(|&is| if is { vec![0.0; n] } else { Vec::new() })
        .collect();
    // Per part, its rows of each numeric column.
    let mut work: Vec<Vec<PartColumn<'_, '_>>> = (0..parts.len()).map(|_| Vec::new()).collect();
    for (j, column) in values.iter_mut().enumerate() {
        let mut rest: &mut [f64] = column;
        for (p, &count) in rows.iter().enumerate() {
            work[p].push(if numeric[j] {
                let (mine, after) = std::mem::take(&mut rest).split_at_mut(count);
                rest = after;
                PartColumn::Numbers {
                    out: mine,
                    filled: 0,
                    decimal: false,
                    negative_zero: false,
                }
            } else {
                PartColumn::Labels {
                    codes: Vec::with_capacity(count),
                    seen: Vec::new(),
                }
            });
        }
    }
    let parsed: Option<Vec<Vec<PartColumn<'_, '_>>>> = work
        .into_par_iter()
        .zip(parts.into_par_iter())
        .with_max_len(1)
        .map(|(columns, range)| parse_part(&data[range], &slots, columns))
        .collect();
    let parsed = parsed?;
    // The label columns' codes are gathered from the parts on the threads, a column each.
    let columns: Vec<Option<ColumnData>> = crate::stats::map_indices(wanted.len(), |j| {
        merge_column(parsed.iter().map(|part| &part[j]))
    })
    .into_iter()
    .collect::<Option<_>>()?;
    drop(parsed);
    let mut set = DataSet::new();
    for ((name, column), values) in wanted.iter().zip(columns).zip(values) {
        let column = column.unwrap_or(ColumnData::Numeric(values));
        set.push(name, column).ok()?;
    }
    Some(set)
}

/// Whether `bytes` are ASCII without quotes or carriage returns (one pass).
fn plain_bytes(bytes: &[u8]) -> bool {
    let other = bytes.iter().fold(false, |other, &b| {
        other | (b >= 0x80) | (b == b'"') | (b == b'\r')
    });
    !other
}

/// `data` cut into about `n` ranges that each end just after a line end (the last at
/// the end of `data`).
fn line_aligned_parts(data: &[u8], n: usize) -> Vec<std::ops::Range<usize>> {
    let n = n.max(1);
    let mut parts = Vec::with_capacity(n);
    let mut start = 0;
    for k in 1..=n {
        if start >= data.len() {
            break;
        }
        let target = (data.len() * k / n).max(start);
        let end = if k == n {
            data.len()
        } else {
            match data[target..].iter().position(|&b| b == b'\n') {
                Some(at) => target + at + 1,
                None => data.len(),
            }
        };
        if end > start {
            parts.push(start..end);
        }
        start = end;
    }
    parts
}

/// One wanted column over the lines of one part.
enum PartColumn<'o, 'a> {
    Numbers {
        /// The part's rows of the column.
        out: &'o mut [f64],
        /// Rows read so far.
        filled: usize,
        /// A decimal was seen (polars then reads the column as floats).
        decimal: bool,
        /// `-0` was read as an integer (as a float it would be −0).
        negative_zero: bool,
    },
    Labels {
        /// Indices into `seen`.
        codes: Vec<u32>,
        seen: Vec<&'a [u8]>,
    },
}

/// A cell read as a number, or why not.
enum Cell {
    Integer(i64),
    Decimal(f64),
    /// No digit: a label, if [`plain_label`] agrees.
    Label,
    /// Something polars may read in another way.
    Other,
}

/// Reads the lines in `part` into its `columns`; `None` when a line breaks the rules.
/// One scan: each wanted cell is read from where it starts up to the comma or line end
/// that ends it ([`read_cell`]), the others skipped.
fn parse_part<'o, 'a>(
    part: &'a [u8],
    slots: &[Option<usize>],
    mut columns: Vec<PartColumn<'o, 'a>>,
) -> Option<Vec<PartColumn<'o, 'a>>> {
    let part = part.strip_suffix(b"\n").unwrap_or(part);
    let mut at = 0;
    loop {
        // A blank line (a part starts just after a line end, so one between parts
        // shows as a part's first or last line).
        if part.get(at).is_none_or(|&b| b == b'\n') {
            return None;
        }
        let mut fields = 0;
        loop {
            let rest = &part[at..];
            at += match slots.get(fields)? {
                Some(j) => add_cell(&mut columns[*j], rest)?,
                None => cell_len(rest),
            };
            fields += 1;
            if part.get(at) != Some(&b',') {
                break;
            }
            at += 1;
        }
        if fields != slots.len() {
            return None;
        }
        // At the line's end: the part's, or a line end.
        if at == part.len() {
            break;
        }
        at += 1;
    }
    let complete = columns.iter().all(|c| match c {
        PartColumn::Numbers { out, filled, .. } => *filled == out.len(),
        PartColumn::Labels { .. } => true,
    });
    complete.then_some(columns)
}

/// The length of the cell that starts `bytes`: up to the next comma or line end.
fn cell_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| b == b',' || b == b'\n')
        .unwrap_or(bytes.len())
}

/// Adds the cell that starts `rest` to a part's column, and gives its length; `None`
/// when it is of the other kind than the column's first cell, or not plain (a missing
/// cell among them).
fn add_cell<'a>(column: &mut PartColumn<'_, 'a>, rest: &'a [u8]) -> Option<usize> {
    let (cell, len) = read_cell(rest);
    match (column, cell) {
        (
            PartColumn::Numbers {
                out,
                filled,
                negative_zero,
                ..
            },
            Cell::Integer(v),
        ) => {
            *negative_zero |= v == 0 && rest.first() == Some(&b'-');
            *out.get_mut(*filled)? = v as f64;
            *filled += 1;
        }
        (
            PartColumn::Numbers {
                out,
                filled,
                decimal,
                ..
            },
            Cell::Decimal(v),
        ) => {
            *decimal = true;
            *out.get_mut(*filled)? = v;
            *filled += 1;
        }
        (PartColumn::Labels { codes, seen }, Cell::Label) => {
            let cell = &rest[..len];
            // Byte by byte: labels are short, a call to compare them costs more.
            let same = |s: &&[u8]| s.len() == cell.len() && s.iter().zip(cell).all(|(a, b)| a == b);
            let code = match seen.iter().position(same) {
                Some(k) => k,
                None if seen.len() < MAX_LABELS && plain_label(cell) => {
                    seen.push(cell);
                    seen.len() - 1
                }
                None => return None,
            };
            codes.push(code as u32);
        }
        _ => return None,
    }
    Some(len)
}

/// A cell as polars' inference reads it: an integer (`-?\d+`, at most 18 digits, so it
/// fits an `i64`), a decimal (`-?\d*\.\d+`), a label (no digit), or other.
fn read_number(cell: &[u8]) -> Cell {
    read_cell(cell).0
}

/// The cell that starts `bytes` (up to the next comma or line end) read as
/// [`read_number`] reads it, and its length: one pass over a number's digits, the
/// first 19 of them (a u64 holds them) read as one integer, the decimal point skipped;
/// anything else is a label or other, read to its end.
fn read_cell(bytes: &[u8]) -> (Cell, usize) {
    let sign = usize::from(bytes.first() == Some(&b'-'));
    let digits = &bytes[sign..];
    let negative = sign == 1;
    let ends = |at: usize| matches!(digits.get(at), None | Some(b',' | b'\n'));
    let (mut mantissa, mut read, mut at) = (0u64, 0usize, 0usize);
    let whole = read_digits(digits, &mut at, &mut mantissa, &mut read);
    if ends(at) {
        let cell = match whole {
            0 => Cell::Label,
            1..=18 => {
                let v = mantissa as i64;
                Cell::Integer(if negative { -v } else { v })
            }
            _ => Cell::Other,
        };
        return (cell, sign + at);
    }
    if digits[at] == b'.' {
        at += 1;
        let fraction = read_digits(digits, &mut at, &mut mantissa, &mut read);
        if fraction > 0 && ends(at) {
            let len = sign + at;
            if whole + fraction <= FAST_DIGITS {
                let v = mantissa as f64 / POW10[fraction];
                return (Cell::Decimal(if negative { -v } else { v }), len);
            }
            let parsed = std::str::from_utf8(&bytes[..len])
                .ok()
                .and_then(|s| s.parse::<f64>().ok());
            return (parsed.map_or(Cell::Other, Cell::Decimal), len);
        }
    }
    let len = cell_len(bytes);
    (label_or_other(&bytes[..len]), len)
}

/// Reads the digits of `bytes` from `at` on (moving `at` past them) into `mantissa`,
/// up to 19 digits in all (`read` counts them); how many digits there were.
fn read_digits(bytes: &[u8], at: &mut usize, mantissa: &mut u64, read: &mut usize) -> usize {
    let start = *at;
    while let Some(d) = bytes
        .get(*at)
        .map(|b| b.wrapping_sub(b'0'))
        .filter(|&d| d <= 9)
    {
        if *read < 19 {
            *mantissa = *mantissa * 10 + u64::from(d);
            *read += 1;
        }
        *at += 1;
    }
    *at - start
}

fn label_or_other(cell: &[u8]) -> Cell {
    if cell.iter().any(u8::is_ascii_digit) {
        Cell::Other
    } else {
        Cell::Label
    }
}

/// A label polars reads as text and not as a missing value, a logical or a float.
fn plain_label(cell: &[u8]) -> bool {
    let unsigned = cell
        .strip_prefix(b"+")
        .or_else(|| cell.strip_prefix(b"-"))
        .unwrap_or(cell);
    let special = ["na", "true", "false", "nan", "inf", "infinity"]
        .iter()
        .any(|w| {
            unsigned.eq_ignore_ascii_case(w.as_bytes()) || cell.eq_ignore_ascii_case(w.as_bytes())
        });
    !cell.is_empty() && !special && cell.first() != Some(&b' ') && cell.last() != Some(&b' ')
}

/// A wanted column of labels from its parts, in order (`Some(None)` for a numeric
/// column, whose values are in place); `None` when the column is decimal with an
/// integer `-0` or has more than [`MAX_LABELS`] labels.
fn merge_column<'p, 'o: 'p, 'a: 'p>(
    parts: impl Iterator<Item = &'p PartColumn<'o, 'a>> + Clone,
) -> Option<Option<ColumnData>> {
    let (mut decimal, mut negative_zero) = (false, false);
    let mut levels: Vec<&[u8]> = Vec::new();
    for part in parts.clone() {
        match part {
            PartColumn::Numbers {
                decimal: d,
                negative_zero: z,
                ..
            } => {
                decimal |= d;
                negative_zero |= z;
            }
            PartColumn::Labels { seen, .. } => levels.extend(seen.iter().copied()),
        }
    }
    if decimal && negative_zero {
        return None;
    }
    levels.sort_unstable();
    levels.dedup();
    if levels.is_empty() {
        return Some(None);
    }
    if levels.len() > MAX_LABELS {
        return None;
    }
    let codes = parts.flat_map(|part| {
        let (local, rank): (&[u32], Vec<u32>) = match part {
            PartColumn::Labels { codes: local, seen } => (
                local,
                seen.iter()
                    .map(|s| levels.binary_search(s).map_or(0, |r| r as u32))
                    .collect(),
            ),
            PartColumn::Numbers { .. } => (&[], Vec::new()),
        };
        local.iter().map(move |&c| rank.get(c as usize).copied())
    });
    let codes = LevelCodes::new(levels.len(), codes);
    let levels = levels
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    Some(Some(ColumnData::Categorical { codes, levels }))
}

#[cfg(test)]
#[path = "plain_csv_tests.rs"]
mod tests;
