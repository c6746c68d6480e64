//! Passes over the rows of the design matrix, read in blocks so that a design computed
//! block by block ([`DesignRows`]) is never stored whole.

use nalgebra::DVector;

use super::qr::axpy;
use crate::stats::design::DesignRows;

/// Rows of the design matrix read at a time by the row-wise passes.
pub(super) const PASS_BLOCK_ROWS: usize = 512;

/// Calls `visit(start, len, block)` for consecutive blocks of rows `start..start + len`
/// of `x` within `rows`; the block is column-major with leading dimension
/// [`PASS_BLOCK_ROWS`].
pub(super) fn for_each_block<X: DesignRows + ?Sized>(
    x: &X,
    rows: std::ops::Range<usize>,
    mut visit: impl FnMut(usize, usize, &[f64]),
) {
    let mut block = vec![0.0; PASS_BLOCK_ROWS * x.ncols()];
    for start in rows.clone().step_by(PASS_BLOCK_ROWS) {
        let len = (start + PASS_BLOCK_ROWS).min(rows.end) - start;
        x.rows_into(start, len, &mut block, PASS_BLOCK_ROWS);
        visit(start, len, &block);
    }
}

/// Linear predictor X beta + offset, into `eta`. Each entry is the offset plus the
/// products with the columns in column order, as with column-wise `axpy`; a design made
/// from variables adds them from its level codes and values ([`RowSegments`]), with the
/// same bits.
///
/// [`RowSegments`]: crate::stats::design::RowSegments
pub(super) fn linear_predictor<X: DesignRows + ?Sized>(
    x: &X,
    beta: &DVector<f64>,
    offset: &DVector<f64>,
    eta: &mut DVector<f64>,
) {
    let n = x.nrows();
    let segments = x.segments();
    crate::stats::for_each_part(n, eta.as_mut_slice(), |first, eta| {
        let rows = first..first + eta.len();
        match &segments {
            Some(segments) => {
                let mut scratch = vec![0.0; PASS_BLOCK_ROWS];
                for start in rows.clone().step_by(PASS_BLOCK_ROWS) {
                    let len = (start + PASS_BLOCK_ROWS).min(rows.end) - start;
                    let eta = &mut eta[start - first..start - first + len];
                    eta.copy_from_slice(&offset.as_slice()[start..start + len]);
                    segments.add_products(beta.as_slice(), start, eta, &mut scratch);
                }
            }
            None => for_each_block(x, rows, |start, len, block| {
                let eta = &mut eta[start - first..start - first + len];
                eta.copy_from_slice(&offset.as_slice()[start..start + len]);
                for (j, &b) in beta.iter().enumerate() {
                    if b != 0.0 {
                        axpy(
                            b,
                            &block[j * PASS_BLOCK_ROWS..j * PASS_BLOCK_ROWS + len],
                            eta,
                        );
                    }
                }
            }),
        }
    });
}

/// Whether every entry of column `j` is exactly 1 (an intercept).
pub(super) fn column_is_all_ones<X: DesignRows + ?Sized>(x: &X, j: usize) -> bool {
    let n = x.nrows();
    let mut column = vec![0.0; PASS_BLOCK_ROWS.min(n)];
    (0..n).step_by(PASS_BLOCK_ROWS).all(|start| {
        let len = (start + PASS_BLOCK_ROWS).min(n) - start;
        x.column_rows(j, start, &mut column[..len]);
        column[..len].iter().all(|&v| v == 1.0)
    })
}
