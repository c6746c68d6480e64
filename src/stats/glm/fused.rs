//! One pass over the rows for each provisional IRLS step of a large fit (see
//! [`refine_large_fits`](super::refine_large_fits)).
//!
//! A step of the separate passes reads the design twice (the cross products of the
//! working values, then the new linear predictor) and walks the per-row vectors five
//! times (working values, linear predictor, fitted values, deviance residuals, their
//! check). Here a block of rows is read once: its linear predictor at the new
//! coefficients, fitted values and deviance residuals, then its working values at that
//! linear predictor and their cross products for the next step. Every value is computed
//! by the same functions in the same order as the separate passes, so the working values
//! and their cross products are theirs to the bit; only the work is fused. The linear
//! predictor, fitted values and residuals stay in the block (the fit computes them again
//! at its final coefficients), and the deviance is summed in fixed chunks of rows: the
//! same for any number of threads, though not the bits of one sum over all rows (it only
//! decides when the steps stop).

use nalgebra::DVector;
use rayon::prelude::*;

use super::gram::{
    add_dense_rows, clear_unused_rows, dense_block_len, GRAM_BLOCK_ROWS, GRAM_CHUNK_ROWS,
};
use super::irls::{working_value_at, WorkingValues};
use super::qr::axpy;
use super::Family;
use crate::stats::design::DesignRows;

/// A block's padding columns, the rows a column of the block need not hold, and the
/// offsets of plain rows.
static ZEROS: [f64; GRAM_BLOCK_ROWS] = [0.0; GRAM_BLOCK_ROWS];
/// The prior weights of plain rows.
static ONES: [f64; GRAM_BLOCK_ROWS] = [1.0; GRAM_BLOCK_ROWS];

/// The per-row inputs of a fit.
pub(super) struct Rows<'a> {
    family: Family,
    y: &'a DVector<f64>,
    offset: &'a DVector<f64>,
    prior: &'a DVector<f64>,
    /// Every offset +0 and every prior weight 1 (then they are not read).
    plain: bool,
}

impl<'a> Rows<'a> {
    pub(super) fn new(
        family: Family,
        y: &'a DVector<f64>,
        offset: &'a DVector<f64>,
        prior: &'a DVector<f64>,
    ) -> Rows<'a> {
        let plain = offset.iter().all(|o| o.to_bits() == 0) && prior.iter().all(|&w| w == 1.0);
        Rows {
            family,
            y,
            offset,
            prior,
            plain,
        }
    }

    /// Rows `start..start + len` (at most a block) of the offsets and prior weights.
    fn offset_and_prior(&self, start: usize, len: usize) -> (&[f64], &[f64]) {
        if self.plain {
            (&ZEROS[..len], &ONES[..len])
        } else {
            let range = start..start + len;
            let offset = &self.offset.as_slice()[range.clone()];
            (offset, &self.prior.as_slice()[range])
        }
    }
}

/// Where a pass evaluates: at the coefficients of a step, or at a given linear
/// predictor (the start).
#[derive(Clone, Copy)]
pub(super) enum At<'a> {
    Coefficients(&'a DVector<f64>),
    LinearPredictor(&'a DVector<f64>),
}

/// What a pass gives besides the working values it writes.
pub(super) struct Pass {
    /// The deviance at the pass's linear predictor: the residuals added in row order
    /// within each chunk of [`GRAM_CHUNK_ROWS`] rows, the chunks' sums in chunk order.
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

/// At the linear predictor X beta + offset (`At::Coefficients`) or the one given: the
/// fitted values and the deviance, the working values into `working` and their cross
/// products with the design.
pub(super) fn pass<X: DesignRows + ?Sized>(
    x: &X,
    rows: &Rows<'_>,
    at: At<'_>,
    working: &mut WorkingValues,
) -> Pass {
    let m = x.ncols() + 1;
    let z = working
        .response
        .as_mut_slice()
        .par_chunks_mut(GRAM_CHUNK_ROWS);
    let w = working
        .weights
        .as_mut_slice()
        .par_chunks_mut(GRAM_CHUNK_ROWS);
    let chunks = z
        .zip(w)
        .enumerate()
        .map(|(chunk, out)| chunk_pass(x, rows, at, chunk * GRAM_CHUNK_ROWS, out, m))
        .collect::<Vec<_>>();
    let mut total = Pass::empty(m);
    for part in &chunks {
        total.add(part);
    }
    total
}

impl Pass {
    /// A pass over no rows, for m = p + 1 columns of [X z].
    fn empty(m: usize) -> Pass {
        Pass {
            deviance: 0.0,
            valid: true,
            gram: vec![0.0; m * m],
            first_bad: None,
            n_good: 0,
        }
    }

    /// Adds the pass over the rows after this one's.
    fn add(&mut self, part: &Pass) {
        for (g, p) in self.gram.iter_mut().zip(&part.gram) {
            *g += p;
        }
        self.deviance += part.deviance;
        self.valid &= part.valid;
        self.first_bad = self.first_bad.or(part.first_bad);
        self.n_good += part.n_good;
    }
}

/// [`pass`] over one chunk of rows starting at `first`, writing the chunk's working
/// values `(z, w)`.
fn chunk_pass<X: DesignRows + ?Sized>(
    x: &X,
    rows: &Rows<'_>,
    at: At<'_>,
    first: usize,
    (out_z, out_w): (&mut [f64], &mut [f64]),
    m: usize,
) -> Pass {
    const B: usize = GRAM_BLOCK_ROWS;
    let p = m - 1;
    let family = rows.family;
    let padded = dense_block_len(m);
    let segments = x.segments();
    let mut out = Pass::empty(m);
    let mut block = vec![0.0; B * padded];
    let mut weighted = vec![0.0; B * padded];
    let mut scratch = vec![0.0; B];
    let (mut eta_block, mut mu_block) = ([0.0; B], [0.0; B]);
    let (mut slopes, mut residual_block) = ([0.0; B], [0.0; B]);
    let len = out_z.len();
    for block_start in (0..len).step_by(B) {
        let block_len = (block_start + B).min(len) - block_start;
        let start = first + block_start;
        let range = block_start..block_start + block_len;
        let (offset, prior) = rows.offset_and_prior(start, block_len);
        if segments.is_none() {
            x.rows_into(start, block_len, &mut block, B);
        }
        let eta = &mut eta_block[..block_len];
        match at {
            // As `rows::linear_predictor`: the offset, then the products in column order.
            At::Coefficients(beta) => {
                eta.copy_from_slice(offset);
                match &segments {
                    Some(segments) => {
                        segments.add_products(beta.as_slice(), start, eta, &mut scratch);
                    }
                    None => {
                        for (j, &b) in beta.iter().enumerate() {
                            if b != 0.0 {
                                axpy(b, &block[j * B..j * B + block_len], eta);
                            }
                        }
                    }
                }
            }
            At::LinearPredictor(given) => {
                eta.copy_from_slice(&given.as_slice()[start..start + block_len]);
            }
        }
        // Each quantity in its own loop over the block: the rows' exponentials,
        // logarithms and divisions are then independent of each other and overlap,
        // where one loop doing all of a row's in turn waits on each.
        let mu = &mut mu_block[..block_len];
        let residuals = &mut residual_block[..block_len];
        let (z, w) = (&mut out_z[range.clone()], &mut out_w[range]);
        let slope = &mut slopes[..block_len];
        for ((m, d), &e) in mu.iter_mut().zip(slope.iter_mut()).zip(eta.iter()) {
            (*m, *d) = family.mean_and_slope(e);
        }
        out.valid &= mu.iter().all(|&m| family.valid_mu(m));
        let y = &rows.y.as_slice()[start..start + block_len];
        for (i, r) in residuals.iter_mut().enumerate() {
            *r = family.deviance_residual(y[i], mu[i], prior[i]);
        }
        for &r in residuals.iter() {
            out.deviance += r;
        }
        for i in 0..block_len {
            let working = if prior[i] <= 0.0 {
                Some((0.0, 0.0))
            } else {
                working_value_at(family, y[i], eta[i], offset[i], prior[i], (mu[i], slope[i]))
            };
            (z[i], w[i]) = working.unwrap_or_else(|| {
                out.first_bad = out.first_bad.or(Some(start + i));
                (0.0, 0.0)
            });
        }
        out.n_good += w.iter().filter(|&&wi| wi > 0.0).count();
        // The design's columns stored as they are (finite) are read in place when the
        // block is whole groups of four rows; the others are written into the block.
        let whole = block_len % 4 == 0;
        let stored: Vec<Option<&[f64]>> = (0..p)
            .map(|k| {
                let in_place = whole && segments.is_some() && x.finite_by_construction(k);
                in_place
                    .then(|| x.stored_rows(k, start, block_len))
                    .flatten()
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
        add_dense_rows(&mut out.gram, &columns, &mut weighted, w, m);
    }
    out
}
