//! A model matrix read a block of rows at a time: the [`DesignRows`] trait, and
//! [`ModelRows`], which computes the rows from the formula's variables instead of storing
//! them.

use nalgebra::DMatrix;

use super::codes::{Code, CodeSlice};
use super::compact::Compact;
use super::segments::RowSegments;

/// How one variable contributes columns to a term.
#[derive(Clone, Copy)]
enum Piece<'c> {
    Values(&'c [f64]),
    Indicator {
        codes: CodeSlice<'c>,
        level: u32,
    },
    IndicatorTimes {
        codes: CodeSlice<'c>,
        level: u32,
        by: &'c [f64],
    },
}

impl<'c> Piece<'c> {
    /// The piece over rows `start..end` only.
    fn rows(self, start: usize, end: usize) -> Piece<'c> {
        match self {
            Piece::Values(v) => Piece::Values(&v[start..end]),
            Piece::Indicator { codes, level } => Piece::Indicator {
                codes: codes.slice(start, end),
                level,
            },
            Piece::IndicatorTimes { codes, level, by } => Piece::IndicatorTimes {
                codes: codes.slice(start, end),
                level,
                by: &by[start..end],
            },
        }
    }

    fn write(self, out: &mut [f64]) {
        match self {
            Piece::Values(v) => out.copy_from_slice(v),
            Piece::Indicator { codes, level } => crate::with_codes!(codes, |codes| out
                .iter_mut()
                .zip(codes)
                .for_each(|(x, &c)| *x = if c.to_u32() == level { 1.0 } else { 0.0 })),
            Piece::IndicatorTimes { codes, level, by } => crate::with_codes!(codes, |codes| out
                .iter_mut()
                .zip(codes.iter().zip(by))
                .for_each(|(x, (&c, &b))| *x = if c.to_u32() == level { b } else { 0.0 })),
        }
    }

    fn multiply(self, col: &mut [f64]) {
        match self {
            Piece::Values(v) => col.iter_mut().zip(v).for_each(|(x, &v)| *x *= v),
            Piece::Indicator { codes, level } => crate::with_codes!(codes, |codes| col
                .iter_mut()
                .zip(codes)
                .for_each(|(x, &c)| {
                    if c.to_u32() != level {
                        *x = 0.0
                    }
                })),
            Piece::IndicatorTimes { codes, level, by } => crate::with_codes!(codes, |codes| col
                .iter_mut()
                .zip(codes.iter().zip(by))
                .for_each(|(x, (&c, &b))| *x = if c.to_u32() == level { *x * b } else { 0.0 })),
        }
    }
}

/// A [`Piece`] by the index of its variable.
#[derive(Clone, Copy, Debug)]
pub(super) enum PieceOf {
    Values(usize),
    Indicator(usize, u32),
    IndicatorTimes(usize, u32),
}

/// A design matrix read in blocks of rows, so that it need not be held as one n×p array:
/// [`DMatrix`] holds it, [`ModelRows`] computes the rows from a formula's variables.
pub trait DesignRows: Sync {
    fn nrows(&self) -> usize;
    fn ncols(&self) -> usize;
    /// Writes rows `start..start + out.len()` of column `k` into `out`.
    fn column_rows(&self, k: usize, start: usize, out: &mut [f64]);
    /// Writes rows `start..start + len` column-major with leading dimension `ld`: entry
    /// (i, k) of the block goes to `out[k * ld + i]`.
    fn rows_into(&self, start: usize, len: usize, out: &mut [f64], ld: usize) {
        for k in 0..self.ncols() {
            self.column_rows(k, start, &mut out[k * ld..k * ld + len]);
        }
    }
    /// Rows `start..start + len` of column `k` where they are stored as they are (a
    /// stored matrix's column, a variable's own values), to be read in place; `None`
    /// where the column is computed.
    fn stored_rows(&self, _k: usize, _start: usize, _len: usize) -> Option<&[f64]> {
        None
    }
    /// A bound on the absolute values of column `k` (at least the largest, as computed),
    /// when it comes cheaply; `None` otherwise.
    fn abs_bound(&self, _k: usize) -> Option<f64> {
        None
    }
    /// The columns as segments that give each row's non-zero entries without a block of
    /// materialised columns, when the design is made from variables ([`ModelRows`]).
    fn segments(&self) -> Option<RowSegments<'_>> {
        None
    }
    /// Whether every entry of column `k` is finite whatever the data (so that it need
    /// not be checked).
    fn finite_by_construction(&self, _k: usize) -> bool {
        false
    }
}

impl DesignRows for DMatrix<f64> {
    fn nrows(&self) -> usize {
        self.nrows()
    }

    fn ncols(&self) -> usize {
        self.ncols()
    }

    fn column_rows(&self, k: usize, start: usize, out: &mut [f64]) {
        out.copy_from_slice(&self.column(k).as_slice()[start..start + out.len()]);
    }

    fn stored_rows(&self, k: usize, start: usize, len: usize) -> Option<&[f64]> {
        let from = k * self.nrows() + start;
        self.as_slice().get(from..from + len)
    }
}

/// A model matrix that is not stored: the formula's variables over the rows used (a
/// value or level code per row each) and how each column is made from them. A row is
/// computed when asked for, with the same arithmetic as the stored matrix of
/// [`model_matrix`](fn@super::model_matrix), so the values are identical; it takes a few numbers per row
/// instead of p.
#[derive(Clone, Debug)]
pub struct ModelRows {
    pub(super) n: usize,
    pub(super) variables: Vec<Compact>,
    /// Per column, the pieces multiplied together (none: the intercept).
    pub(super) columns: Vec<Vec<PieceOf>>,
}

impl ModelRows {
    fn piece(&self, of: PieceOf) -> Piece<'_> {
        let codes = |v: usize| match &self.variables[v] {
            Compact::Factor { codes, .. } | Compact::EventStudy { codes, .. } => codes.as_slice(),
            Compact::Numeric(_) => CodeSlice::U32(&[]),
        };
        match of {
            PieceOf::Values(v) => match &self.variables[v] {
                Compact::Numeric(values) => Piece::Values(values.as_slice()),
                _ => Piece::Values(&[]),
            },
            PieceOf::Indicator(v, level) => Piece::Indicator {
                codes: codes(v),
                level,
            },
            PieceOf::IndicatorTimes(v, level) => Piece::IndicatorTimes {
                codes: codes(v),
                level,
                by: match &self.variables[v] {
                    Compact::EventStudy { by: Some(by), .. } => by,
                    _ => &[],
                },
            },
        }
    }

    /// Column `k` over rows `start..start + out.len()`.
    pub(super) fn column_into(&self, k: usize, start: usize, out: &mut [f64]) {
        let end = start + out.len();
        match self.columns[k].split_first() {
            None => out.fill(1.0),
            Some((first, rest)) => {
                self.piece(*first).rows(start, end).write(out);
                for piece in rest {
                    self.piece(*piece).rows(start, end).multiply(out);
                }
            }
        }
    }

    /// Column `k` of the matrix.
    pub fn column(&self, k: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.n];
        self.column_into(k, 0, &mut out);
        out
    }

    /// The matrix as an n×p array.
    pub fn to_matrix(&self) -> DMatrix<f64> {
        let (n, p) = (self.n, self.columns.len());
        let mut buf = vec![0.0; n * p];
        for (k, column) in buf.chunks_exact_mut(n.max(1)).take(p).enumerate() {
            self.column_into(k, 0, column);
        }
        DMatrix::from_vec(n, p, buf)
    }
}

impl DesignRows for ModelRows {
    fn nrows(&self) -> usize {
        self.n
    }

    fn ncols(&self) -> usize {
        self.columns.len()
    }

    fn column_rows(&self, k: usize, start: usize, out: &mut [f64]) {
        self.column_into(k, start, out);
    }

    fn stored_rows(&self, k: usize, start: usize, len: usize) -> Option<&[f64]> {
        match self.columns[k].as_slice() {
            [PieceOf::Values(v)] => match &self.variables[*v] {
                Compact::Numeric(values) => values.as_slice().get(start..start + len),
                _ => None,
            },
            _ => None,
        }
    }

    /// The product of its pieces' bounds: 1 for the intercept and an indicator, the
    /// largest absolute value of a variable's values. (Rounding is monotone, so the
    /// product of the bounds, taken in the pieces' order, bounds every product.)
    fn abs_bound(&self, k: usize) -> Option<f64> {
        let largest = |v: &[f64]| v.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
        let bound = self.columns[k]
            .iter()
            .map(|piece| match self.piece(*piece) {
                Piece::Values(v) => largest(v),
                Piece::Indicator { .. } => 1.0,
                Piece::IndicatorTimes { by, .. } => largest(by),
            })
            .fold(1.0, |bound, b| bound * b);
        Some(bound)
    }

    fn segments(&self) -> Option<RowSegments<'_>> {
        Some(RowSegments::new(self))
    }

    /// The intercept, indicators, and a variable's own values (checked to be finite
    /// when the variables were taken): a product of several values may overflow.
    fn finite_by_construction(&self, k: usize) -> bool {
        match self.columns[k].as_slice() {
            [] | [_] => true,
            pieces => pieces.iter().all(|p| matches!(p, PieceOf::Indicator(..))),
        }
    }
}
