//! One pass over the rows for each provisional IRLS step of a large fit (see
//! [`refine_large_fits`](super::refine_large_fits)).
//!
//! A step of the separate passes reads the design twice (the cross products of the
//! working values, then the new linear predictor) and walks the per-row vectors five
//! times (working values, linear predictor, fitted values, deviance residuals, their
//! check). Here a block of rows is read once: its linear predictor at the new
//! coefficients, fitted values and deviance residuals, then its working values at that
//! linear predictor and their cross products for the next step. Every value is computed
//! by the same functions in the same order as the separate passes, so the results are
//! theirs to the bit; only the work is fused.

use nalgebra::DVector;
use rayon::prelude::*;

use super::gram::{
    add_dense_rows, clear_unused_rows, dense_block_len, GRAM_BLOCK_ROWS, GRAM_CHUNK_ROWS,
};
use super::irls::{working_value_at, WorkingValues};
use super::qr::axpy;
use super::Family;
use crate::stats::design::DesignRows;

/// The per-row inputs of a fit.
pub(super) struct Rows<'a> {
    pub(super) family: Family,
    pub(super) y: &'a DVector<f64>,
    pub(super) offset: &'a DVector<f64>,
    pub(super) prior: &'a DVector<f64>,
}

/// What a pass gives besides the per-row vectors it writes.
pub(super) struct Pass {
    /// The deviance at the pass's linear predictor (residuals summed in row order).
    pub(super) deviance: f64,
    /// Whether every fitted value is valid for the family.
    pub(super) valid: bool,
    /// The upper triangle of [X z]'W[X z] at the working values written (column-major
    /// (p+1)×(p+1)), summed as [`dense_gram_r`](super::gram::dense_gram_r) sums it.
    pub(super) gram: Vec<f64>,
    /// The first row whose working values are invalid (V(mu) or d mu/d eta NaN, or
    /// V(mu) 0); its working values are then not usable.
    pub(super) first_bad: Option<usize>,
    /// The number of rows whose working weight is positive.
    pub(super) n_good: usize,
}

/// A block's padding columns, and the rows a column of the block need not hold.
static ZEROS: [f64; GRAM_BLOCK_ROWS] = [0.0; GRAM_BLOCK_ROWS];

/// With `beta`, the linear predictor X beta + offset into `eta`; then (also without
/// `beta`, at the `eta` given) the fitted values into `mu`, the deviance, the working
/// values into `working` and their cross products with the design.
#[allow(clippy::too_many_arguments)]
pub(super) fn pass<X: DesignRows + ?Sized>(
    x: &X,
    rows: &Rows<'_>,
    beta: Option<&DVector<f64>>,
    eta: &mut DVector<f64>,
    mu: &mut DVector<f64>,
    working: &mut WorkingValues,
    residuals: &mut Vec<f64>,
) -> Pass {
    let n = x.nrows();
    let m = x.ncols() + 1;
    residuals.resize(n, 0.0);
    let chunks = eta
        .as_mut_slice()
        .par_chunks_mut(GRAM_CHUNK_ROWS)
        .zip(mu.as_mut_slice().par_chunks_mut(GRAM_CHUNK_ROWS))
        .zip(
            working
                .response
                .as_mut_slice()
                .par_chunks_mut(GRAM_CHUNK_ROWS),
        )
        .zip(
            working
                .weights
                .as_mut_slice()
                .par_chunks_mut(GRAM_CHUNK_ROWS),
        )
        .zip(residuals.par_chunks_mut(GRAM_CHUNK_ROWS))
        .enumerate()
        .map(|(chunk, ((((eta, mu), z), w), residuals))| {
            let out = ChunkOut {
                eta,
                mu,
                z,
                w,
                residuals,
            };
            chunk_pass(x, rows, beta, chunk * GRAM_CHUNK_ROWS, out, m)
        })
        .collect::<Vec<_>>();
    let mut gram = vec![0.0; m * m];
    let mut valid = true;
    let mut first_bad = None;
    let mut n_good = 0;
    for part in &chunks {
        for (g, p) in gram.iter_mut().zip(&part.gram) {
            *g += p;
        }
        valid &= part.valid;
        first_bad = first_bad.or(part.first_bad);
        n_good += part.n_good;
    }
    Pass {
        deviance: residuals.iter().copied().sum(),
        valid,
        gram,
        first_bad,
        n_good,
    }
}

/// A chunk's rows of the vectors a pass writes.
struct ChunkOut<'a> {
    eta: &'a mut [f64],
    mu: &'a mut [f64],
    z: &'a mut [f64],
    w: &'a mut [f64],
    residuals: &'a mut [f64],
}

/// [`pass`] over one chunk of rows starting at `first`: its gram, validity and first
/// invalid row (the deviance is summed by the caller, over all rows in order).
fn chunk_pass<X: DesignRows + ?Sized>(
    x: &X,
    rows: &Rows<'_>,
    beta: Option<&DVector<f64>>,
    first: usize,
    out: ChunkOut<'_>,
    m: usize,
) -> Pass {
    const B: usize = GRAM_BLOCK_ROWS;
    let p = m - 1;
    let family = rows.family;
    let padded = dense_block_len(m);
    let segments = x.segments();
    let mut gram = vec![0.0; m * m];
    let mut block = vec![0.0; B * padded];
    let mut weighted = vec![0.0; B * padded];
    let mut scratch = vec![0.0; B];
    let mut slopes = vec![0.0; B];
    let (mut valid, mut first_bad, mut n_good) = (true, None, 0);
    let len = out.eta.len();
    for at in (0..len).step_by(B) {
        let block_len = (at + B).min(len) - at;
        let start = first + at;
        let range = at..at + block_len;
        let eta = &mut out.eta[range.clone()];
        if segments.is_none() {
            x.rows_into(start, block_len, &mut block, B);
        }
        if let Some(beta) = beta {
            // As `rows::linear_predictor`: the offset, then the products in column order.
            eta.copy_from_slice(&rows.offset.as_slice()[start..start + block_len]);
            match &segments {
                Some(segments) => segments.add_products(beta.as_slice(), start, eta, &mut scratch),
                None => {
                    for (j, &b) in beta.iter().enumerate() {
                        if b != 0.0 {
                            axpy(b, &block[j * B..j * B + block_len], eta);
                        }
                    }
                }
            }
        }
        // Each quantity in its own loop over the block: the rows' exponentials,
        // logarithms and divisions are then independent of each other and overlap,
        // where one loop doing all of a row's in turn waits on each.
        let mu = &mut out.mu[range.clone()];
        let residuals = &mut out.residuals[range.clone()];
        let (z, w) = (&mut out.z[range.clone()], &mut out.w[range]);
        let slope = &mut slopes[..block_len];
        for ((m, d), &e) in mu.iter_mut().zip(slope.iter_mut()).zip(eta.iter()) {
            (*m, *d) = family.mean_and_slope(e);
        }
        valid &= mu.iter().all(|&m| family.valid_mu(m));
        let y = &rows.y.as_slice()[start..start + block_len];
        let prior = &rows.prior.as_slice()[start..start + block_len];
        let offset = &rows.offset.as_slice()[start..start + block_len];
        for (i, r) in residuals.iter_mut().enumerate() {
            *r = family.deviance_residual(y[i], mu[i], prior[i]);
        }
        for i in 0..block_len {
            let working = if prior[i] <= 0.0 {
                Some((0.0, 0.0))
            } else {
                working_value_at(family, y[i], eta[i], offset[i], prior[i], (mu[i], slope[i]))
            };
            (z[i], w[i]) = working.unwrap_or_else(|| {
                first_bad = first_bad.or(Some(start + i));
                (0.0, 0.0)
            });
        }
        n_good += w.iter().filter(|&&wi| wi > 0.0).count();
        // The design's columns stored as they are (finite) are read in place when the
        // block is whole groups of four rows; the others are written into the block.
        let whole = block_len % 4 == 0;
        let stored: Vec<Option<&[f64]>> = (0..p)
            .map(|k| {
                let in_place = whole && segments.is_some() && x.finite_by_construction(k);
                in_place.then(|| x.stored_rows(k, start, block_len)).flatten()
            })
            .collect();
        for (k, column) in block.chunks_exact_mut(B).take(p).enumerate() {
            if stored[k].is_none() {
                if segments.is_some() {
                    x.column_rows(k, start, &mut column[..block_len]);
                }
                clear_unused_rows(column, w);
            }
        }
        let z_column = &mut block[p * B..(p + 1) * B];
        z_column[..block_len].copy_from_slice(z);
        clear_unused_rows(z_column, w);
        let columns: Vec<&[f64]> = (0..padded)
            .map(|k| match stored.get(k) {
                Some(Some(column)) => column,
                _ if k < m => &block[k * B..(k + 1) * B],
                _ => &ZEROS[..],
            })
            .collect();
        add_dense_rows(&mut gram, &columns, &mut weighted, w, m);
    }
    Pass {
        deviance: 0.0,
        valid,
        gram,
        first_bad,
        n_good,
    }
}
