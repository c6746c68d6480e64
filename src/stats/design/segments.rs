//! The columns of a [`ModelRows`] grouped by how they are made, so that the passes of a
//! fit read each row's non-zero entries straight from the level codes and values: a
//! factor's indicator columns give a row one entry, in the column of its level, found
//! by table lookup instead of by scanning a block of materialised columns.
//!
//! Every value is computed with the arithmetic of [`ModelRows::column_into`], so sums
//! over these entries equal, to the bit, sums over the materialised columns that skip
//! zero entries.

use super::codes::{Code, CodeSlice};
use super::compact::Compact;
use super::model_rows::{ModelRows, PieceOf};

/// In a level table: the level has no column in the segment.
const NO_COLUMN: u32 = u32::MAX;

/// Columns of a design that contribute at most one non-zero entry per row each.
enum Segment<'a> {
    /// The intercept: 1 in every row.
    Ones { column: usize },
    /// A numeric variable's values.
    Values { column: usize, values: &'a [f64] },
    /// Consecutive columns, each the indicator of one level of the same factor: a row's
    /// entry is 1, in the column of its level when that level has one.
    Levels {
        first: usize,
        codes: CodeSlice<'a>,
        /// By level code, the column's offset from `first`, or [`NO_COLUMN`].
        offset_of: Vec<u32>,
        /// By level code, the row's column (`first` for a level without one) and value
        /// (1, or 0: no entry), so that rows are filled without a branch on the level.
        column_of: Vec<u32>,
        value_of: Vec<f64>,
    },
    /// Any other column (an interaction, `i(var, by)`), computed as a block of rows.
    Computed { column: usize },
}

/// The columns of a [`ModelRows`] in column order, as segments that each give a row at
/// most one non-zero entry (see the module documentation).
pub struct RowSegments<'a> {
    rows: &'a ModelRows,
    segments: Vec<Segment<'a>>,
}

impl<'a> RowSegments<'a> {
    pub(super) fn new(rows: &'a ModelRows) -> RowSegments<'a> {
        let columns = &rows.columns;
        let mut segments = Vec::new();
        let mut k = 0;
        while k < columns.len() {
            let segment = match columns[k].as_slice() {
                [] => Segment::Ones { column: k },
                [PieceOf::Values(v)] => match &rows.variables[*v] {
                    Compact::Numeric(values) => Segment::Values {
                        column: k,
                        values: values.as_slice(),
                    },
                    _ => Segment::Computed { column: k },
                },
                [PieceOf::Indicator(v, level)] => match &rows.variables[*v] {
                    Compact::Factor { codes, levels }
                    | Compact::EventStudy { codes, levels, .. } => {
                        // The run of single indicators of other levels of the same variable.
                        let mut offset_of = vec![NO_COLUMN; levels.len()];
                        let mut end = k;
                        while let Some([PieceOf::Indicator(u, l)]) =
                            columns.get(end).map(Vec::as_slice)
                        {
                            match offset_of.get_mut(*l as usize) {
                                Some(o) if u == v && *o == NO_COLUMN => *o = (end - k) as u32,
                                _ => break,
                            }
                            end += 1;
                        }
                        if end == k || offset_of.get(*level as usize) != Some(&0) {
                            Segment::Computed { column: k }
                        } else {
                            let entry = |o: u32| match o {
                                NO_COLUMN => (k as u32, 0.0),
                                o => (k as u32 + o, 1.0),
                            };
                            segments.push(Segment::Levels {
                                first: k,
                                codes: codes.as_slice(),
                                column_of: offset_of.iter().map(|&o| entry(o).0).collect(),
                                value_of: offset_of.iter().map(|&o| entry(o).1).collect(),
                                offset_of,
                            });
                            k = end;
                            continue;
                        }
                    }
                    Compact::Numeric(_) => Segment::Computed { column: k },
                },
                _ => Segment::Computed { column: k },
            };
            segments.push(segment);
            k += 1;
        }
        RowSegments { rows, segments }
    }

    /// The number of segments: at most this many non-zero entries per row.
    pub fn width(&self) -> usize {
        self.segments.len()
    }

    /// Entries of rows `start..start + len`, row-major: slot `t` of row `i` is column
    /// `columns[i * width + t]` with value `values[i * width + t]`, the slots of a row in
    /// increasing column order. A slot whose value is 0 stands for no entry (its column
    /// is any of its segment's). `scratch` holds at least `len` values.
    pub fn fill(
        &self,
        start: usize,
        len: usize,
        columns: &mut [u32],
        values: &mut [f64],
        scratch: &mut [f64],
    ) {
        let width = self.width();
        let slots = |t: usize| (t..len * width).step_by(width);
        for (t, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Ones { column } => {
                    for s in slots(t) {
                        columns[s] = *column as u32;
                        values[s] = 1.0;
                    }
                }
                Segment::Values { column, values: v } => {
                    for (s, &x) in slots(t).zip(&v[start..start + len]) {
                        columns[s] = *column as u32;
                        values[s] = x;
                    }
                }
                Segment::Levels {
                    first,
                    codes,
                    column_of,
                    value_of,
                    ..
                } => {
                    crate::with_codes!(codes.slice(start, start + len), |codes| {
                        for (s, &c) in slots(t).zip(codes) {
                            let c = c.index();
                            columns[s] = column_of.get(c).copied().unwrap_or(*first as u32);
                            values[s] = value_of.get(c).copied().unwrap_or(0.0);
                        }
                    })
                }
                Segment::Computed { column } => {
                    let scratch = &mut scratch[..len];
                    self.rows.column_into(*column, start, scratch);
                    for (s, &x) in slots(t).zip(scratch.iter()) {
                        columns[s] = *column as u32;
                        values[s] = x;
                    }
                }
            }
        }
    }

    /// `eta[i] += Σ_j beta_j x[start + i, j]`, the products added in column order over
    /// the columns with `beta_j != 0`: the same bits as adding `beta_j` times each
    /// materialised column in turn (`y += beta_j * x_j`). A factor's columns other than
    /// the row's level add `beta_j * 0`, which changes a sum only when it is -0 (to +0):
    /// a row whose sum comes out as -0 is summed again over every column. `scratch`
    /// holds at least `eta.len()` values.
    pub fn add_products(&self, beta: &[f64], start: usize, eta: &mut [f64], scratch: &mut [f64]) {
        let len = eta.len();
        let mut terms = Vec::new();
        for segment in &self.segments {
            match segment {
                Segment::Ones { column } => {
                    let b = beta[*column];
                    if b != 0.0 {
                        for e in eta.iter_mut() {
                            *e += b * 1.0;
                        }
                    }
                }
                Segment::Values { column, values } => {
                    let b = beta[*column];
                    if b != 0.0 {
                        for (e, &x) in eta.iter_mut().zip(&values[start..start + len]) {
                            *e += b * x;
                        }
                    }
                }
                Segment::Levels {
                    first,
                    codes,
                    offset_of,
                    ..
                } => {
                    // By level, the row's product: -0 (which adds nothing to any sum)
                    // for a level without a column or with coefficient 0.
                    terms.clear();
                    terms.extend(offset_of.iter().map(|&o| match o {
                        NO_COLUMN => -0.0,
                        o => {
                            let b = beta[*first + o as usize];
                            if b != 0.0 {
                                b * 1.0
                            } else {
                                -0.0
                            }
                        }
                    }));
                    crate::with_codes!(codes.slice(start, start + len), |codes| {
                        for (e, &c) in eta.iter_mut().zip(codes) {
                            *e += terms.get(c.index()).copied().unwrap_or(-0.0);
                        }
                    })
                }
                Segment::Computed { column } => {
                    let b = beta[*column];
                    if b != 0.0 {
                        let scratch = &mut scratch[..len];
                        self.rows.column_into(*column, start, scratch);
                        for (e, &x) in eta.iter_mut().zip(scratch.iter()) {
                            *e += b * x;
                        }
                    }
                }
            }
        }
        for (i, e) in eta.iter_mut().enumerate() {
            if *e == 0.0 && e.is_sign_negative() {
                *e = self.row_sum_of_products(beta, start + i, *e);
            }
        }
    }

    /// The sum of one row over every column with `beta_j != 0`, for a row whose sum
    /// came out as -0. A sum is -0 only when both addends are, so the row's offset
    /// and every product added were -0: the sum starts again from it.
    fn row_sum_of_products(&self, beta: &[f64], row: usize, sum: f64) -> f64 {
        let mut e = sum;
        let mut one = [0.0];
        for (k, &b) in beta.iter().enumerate() {
            if b != 0.0 {
                self.rows.column_into(k, row, &mut one);
                e += b * one[0];
            }
        }
        e
    }
}
