//! The normal-equations route to the triangular factor of one weighted least-squares
//! step, for very tall designs made mostly of indicator columns (the stacked risk sets
//! of millions of person-months): the weighted cross-product matrix [X z]'W[X z] is
//! summed over the rows' non-zero entries only, and its Cholesky factor takes the place
//! of the Householder QR's R.
//!
//! A row of the risk-set design has about 15 non-zero entries among 40 columns, so the
//! cross products cost about 15²/2 multiply-adds per row against the QR's 2 · 40²: a
//! tenth of the work or less. The price is the conditioning of X'WX, the square of X's;
//! on the propensity designs this is used for (age and age², indicators, counts) the
//! coefficients agree with the QR's to about 1e-10 relative, which the tests check.

use crate::stats::design::{DesignRows, RowSegments};
use crate::stats::map_indices;

/// Rows per chunk summed on one thread; fixed so results do not depend on the thread
/// count (the chunks' sums are added in chunk order).
pub(super) const GRAM_CHUNK_ROWS: usize = 1 << 16;

/// Rows of the design read at a time.
pub(super) const GRAM_BLOCK_ROWS: usize = 256;

/// A column whose squared norm, after projecting out the columns before it, is below
/// this fraction of its squared norm is taken as lying in their span: its row of the
/// factor is left at zero, so that the rank decision that follows aliases it. (The
/// cross products carry rounding errors of about 1e-16 of the squared norms, so an
/// exactly collinear column leaves a residual of that order, not zero.)
const COLLINEAR: f64 = 1e-12;

/// Upper-triangular factor R (column-major, (p+1)×(p+1)) with R'R = [X z]'W[X z], over
/// the rows with w > 0: the same matrix, up to the signs of its rows, as
/// [`tall_skinny_r`](super::qr::tall_skinny_r) computes by Householder reflections.
pub(super) fn gram_r<X: DesignRows + ?Sized>(x: &X, z: &[f64], w: &[f64]) -> Vec<f64> {
    cholesky_upper(&gram_matrix(x, z, w), x.ncols() + 1)
}

/// The upper triangle of [X z]'W[X z] (column-major (p+1)×(p+1)), summed over each row's
/// non-zero entries. A design made from variables gives a row's entries from its level
/// codes and values ([`RowSegments`]); any other is read a block of rows at a time and
/// scanned. Both add the same products in the same order: the same bits.
pub(super) fn gram_matrix<X: DesignRows + ?Sized>(x: &X, z: &[f64], w: &[f64]) -> Vec<f64> {
    let m = x.ncols() + 1;
    match x.segments() {
        Some(segments) => sum_in_chunks(x.nrows(), m, |start, end| {
            segment_gram_range(&segments, z, w, start, end, m)
        }),
        None => sum_in_chunks(x.nrows(), m, |start, end| gram_range(x, z, w, start, end)),
    }
}

/// The sum of `range`'s m×m matrices over fixed chunks of [`GRAM_CHUNK_ROWS`] rows, added
/// in chunk order (the same sum whatever the number of threads).
fn sum_in_chunks(n: usize, m: usize, range: impl Fn(usize, usize) -> Vec<f64> + Sync) -> Vec<f64> {
    let chunks = n.div_ceil(GRAM_CHUNK_ROWS).max(1);
    let parts = map_indices(chunks, |chunk| {
        let start = chunk * GRAM_CHUNK_ROWS;
        range(start, (start + GRAM_CHUNK_ROWS).min(n))
    });
    let mut gram = vec![0.0; m * m];
    for part in &parts {
        for (g, p) in gram.iter_mut().zip(part) {
            *g += p;
        }
    }
    gram
}

/// Adds one row's products to the upper triangle of `gram` (column-major m×m): `wi`
/// times the products of its non-zero entries `values` in `columns` (increasing).
#[inline(always)]
fn add_row(gram: &mut [f64], m: usize, wi: f64, columns: &[usize], values: &[f64]) {
    for (a, (&ka, &va)) in columns.iter().zip(values).enumerate() {
        let wa = wi * va;
        let column = &mut gram[ka..];
        for (&kb, &vb) in columns[a..].iter().zip(&values[a..]) {
            column[kb * m] += wa * vb;
        }
    }
}

/// The upper triangle of [X z]'W[X z] over rows `start..end`, column-major m×m, from
/// blocks of materialised rows.
fn gram_range<X: DesignRows + ?Sized>(
    x: &X,
    z: &[f64],
    w: &[f64],
    start: usize,
    end: usize,
) -> Vec<f64> {
    let p = x.ncols();
    let m = p + 1;
    let mut gram = vec![0.0; m * m];
    let mut block = vec![0.0; GRAM_BLOCK_ROWS * m];
    let mut columns = Vec::with_capacity(m);
    let mut values = Vec::with_capacity(m);
    for first in (start..end).step_by(GRAM_BLOCK_ROWS) {
        let len = (first + GRAM_BLOCK_ROWS).min(end) - first;
        x.rows_into(first, len, &mut block, GRAM_BLOCK_ROWS);
        block[p * GRAM_BLOCK_ROWS..p * GRAM_BLOCK_ROWS + len]
            .copy_from_slice(&z[first..first + len]);
        for (i, &wi) in w[first..first + len].iter().enumerate() {
            if wi.is_nan() || wi <= 0.0 {
                continue;
            }
            columns.clear();
            values.clear();
            for k in 0..m {
                let v = block[k * GRAM_BLOCK_ROWS + i];
                if v != 0.0 {
                    columns.push(k);
                    values.push(v);
                }
            }
            add_row(&mut gram, m, wi, &columns, &values);
        }
    }
    gram
}

/// [`gram_range`] with each row's entries taken from `segments`, z last. The entries
/// are gathered without a branch on their values (a row's zero entries are data, not
/// predictable), and the products are added at precomputed offsets.
fn segment_gram_range(
    segments: &RowSegments<'_>,
    z: &[f64],
    w: &[f64],
    start: usize,
    end: usize,
    m: usize,
) -> Vec<f64> {
    let p = m - 1;
    let width = segments.width();
    let mut gram = vec![0.0; m * m];
    let mut slot_columns = vec![0u32; GRAM_BLOCK_ROWS * width];
    let mut slot_values = vec![0.0; GRAM_BLOCK_ROWS * width];
    let mut scratch = vec![0.0; GRAM_BLOCK_ROWS];
    // A row's non-zero entries: column k, offset k·m of its column of `gram`, value.
    let mut columns = vec![0usize; width + 1];
    let mut offsets = vec![0usize; width + 1];
    let mut values = vec![0.0; width + 1];
    for first in (start..end).step_by(GRAM_BLOCK_ROWS) {
        let len = (first + GRAM_BLOCK_ROWS).min(end) - first;
        segments.fill(
            first,
            len,
            &mut slot_columns,
            &mut slot_values,
            &mut scratch,
        );
        let rows = w[first..first + len].iter().zip(&z[first..first + len]);
        for (i, (&wi, &zi)) in rows.enumerate() {
            if wi.is_nan() || wi <= 0.0 {
                continue;
            }
            let slots = i * width..(i + 1) * width;
            let mut n = 0;
            for (&k, &v) in slot_columns[slots.clone()].iter().zip(&slot_values[slots]) {
                let k = k as usize;
                columns[n] = k;
                offsets[n] = k * m;
                values[n] = v;
                n += usize::from(v != 0.0);
            }
            columns[n] = p;
            offsets[n] = p * m;
            values[n] = zi;
            n += usize::from(zi != 0.0);
            add_row_at(&mut gram, wi, &columns[..n], &offsets[..n], &values[..n]);
        }
    }
    gram
}

/// [`add_row`] with the offsets k·m of the entries' columns given.
#[inline(always)]
fn add_row_at(gram: &mut [f64], wi: f64, columns: &[usize], offsets: &[usize], values: &[f64]) {
    for (a, (&ka, &va)) in columns.iter().zip(values).enumerate() {
        let wa = wi * va;
        let column = &mut gram[ka..];
        for (&ob, &vb) in offsets[a..].iter().zip(&values[a..]) {
            column[ob] += wa * vb;
        }
    }
}

/// Cholesky factor R (upper, R'R = G) of a symmetric positive semi-definite m×m matrix
/// given by its upper triangle (column-major). A column in the span of the columns before
/// it (see [`COLLINEAR`]) gets a zero row.
pub(super) fn cholesky_upper(gram: &[f64], m: usize) -> Vec<f64> {
    let mut r = vec![0.0; m * m];
    for j in 0..m {
        let norm2 = gram[j + j * m];
        let d = norm2 - (0..j).map(|k| r[k + j * m] * r[k + j * m]).sum::<f64>();
        if d.is_nan() || d <= COLLINEAR * norm2 {
            continue;
        }
        let rjj = d.sqrt();
        r[j + j * m] = rjj;
        for l in j + 1..m {
            let s = gram[j + l * m] - (0..j).map(|k| r[k + j * m] * r[k + l * m]).sum::<f64>();
            r[j + l * m] = s / rjj;
        }
    }
    r
}

/// [`gram_r`] for dense designs, as the provisional steps of a large propensity fit sum
/// it (in one pass with the rest of a step, `fused`): each block of rows adds the dot
/// products of its weighted columns with its columns, all entries at once, which
/// vectorises where the per-row walk over non-zero entries cannot. Rows with weight 0 (or
/// NaN) take no part. Fixed chunks summed in chunk order: the factor does not depend on
/// the thread count. (The tests' reference for the fused pass.)
#[cfg(test)]
pub(super) fn dense_gram_r<X: DesignRows + ?Sized>(x: &X, z: &[f64], w: &[f64]) -> Vec<f64> {
    let m = x.ncols() + 1;
    let gram = sum_in_chunks(x.nrows(), m, |start, end| {
        dense_gram_range(x, z, w, start, end)
    });
    cholesky_upper(&gram, m)
}

/// Columns of `weighted` by columns of `block` in one tile of [`add_block_portable`].
const TILE_A: usize = 4;
const TILE_B: usize = 2;

/// Columns of the blocks of [`dense_gram_range`] and [`add_dense_rows`]: the m columns
/// of [X z] padded with zeros to whole tiles.
pub(super) fn dense_block_len(m: usize) -> usize {
    m.next_multiple_of(TILE_A)
}

/// The upper triangle of [X z]'W[X z] over rows `start..end` (dense), column-major m×m.
#[cfg(test)]
fn dense_gram_range<X: DesignRows + ?Sized>(
    x: &X,
    z: &[f64],
    w: &[f64],
    start: usize,
    end: usize,
) -> Vec<f64> {
    const B: usize = GRAM_BLOCK_ROWS;
    let p = x.ncols();
    let m = p + 1;
    let padded = dense_block_len(m);
    let mut gram = vec![0.0; m * m];
    let mut block = vec![0.0; B * padded];
    let mut weighted = vec![0.0; B * padded];
    for first in (start..end).step_by(B) {
        let len = (first + B).min(end) - first;
        let w = &w[first..first + len];
        x.rows_into(first, len, &mut block, B);
        block[p * B..p * B + len].copy_from_slice(&z[first..first + len]);
        for column in block.chunks_exact_mut(B).take(m) {
            clear_unused_rows(column, w);
        }
        let columns: Vec<&[f64]> = block.chunks_exact(B).collect();
        add_dense_rows(&mut gram, &columns, &mut weighted, w, m);
    }
    gram
}

/// Readies a materialised column of a block (its first `w.len()` rows filled) for
/// [`add_dense_rows`]: zero on the rows whose weight is not positive (or NaN), so that
/// a non-finite entry there adds nothing, and past them to a whole group of four rows.
pub(super) fn clear_unused_rows(column: &mut [f64], w: &[f64]) {
    let len = w.len();
    for (v, &wi) in column[..len].iter_mut().zip(w) {
        if wi.is_nan() || wi <= 0.0 {
            *v = 0.0;
        }
    }
    let end4 = len.next_multiple_of(4).min(column.len());
    column[len..end4].fill(0.0);
}

/// Adds the products of a block of rows to `gram`: `columns` holds the rows' [X z], a
/// slice per column padded to [`dense_block_len`] columns (the padding all zeros), each
/// with at least `w.len()` rounded up to a multiple of four entries, those past
/// `w.len()` zero, every entry finite or on a row of weight not positive
/// ([`clear_unused_rows`] readies a materialised column); `w` the rows' weights;
/// `weighted` is scratch of [`GRAM_BLOCK_ROWS`] rows per padded column, its padding
/// columns zero. Rows with weight 0 (or NaN) take no part: their weighted entries are
/// zero, and zero times a finite entry adds nothing to a sum.
pub(super) fn add_dense_rows(
    gram: &mut [f64],
    columns: &[&[f64]],
    weighted: &mut [f64],
    w: &[f64],
    m: usize,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            unsafe { add_dense_rows_avx2(gram, columns, weighted, w, m) };
            return;
        }
    }
    add_dense_rows_portable(gram, columns, weighted, w, m);
}

/// [`add_dense_rows_portable`] compiled for AVX2 with fused multiply-adds: the same
/// operations in the same order (each product and sum one fused multiply-add, as
/// `mul_add` computes it everywhere), so the same results to the bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn add_dense_rows_avx2(
    gram: &mut [f64],
    columns: &[&[f64]],
    weighted: &mut [f64],
    w: &[f64],
    m: usize,
) {
    let len4 = weight_columns(columns, weighted, w, m);
    add_block_avx2(gram, columns, weighted, m, len4);
}

/// [`add_block_portable`] with the tile's sums held in AVX2 registers: each group of
/// four rows of the tile's columns is loaded once and used for all of the tile's
/// products (left to the compiler, the loads were repeated for each product). Each
/// lane is the same fused multiply-add in the same order as `mul_add` there: the same
/// bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn add_block_avx2(gram: &mut [f64], columns: &[&[f64]], weighted: &[f64], m: usize, len: usize) {
    use std::arch::x86_64::{__m256d, _mm256_fmadd_pd, _mm256_loadu_pd, _mm256_setzero_pd};
    const B: usize = GRAM_BLOCK_ROWS;
    let groups = len / 4;
    let load = |group: &[f64; 4]| -> __m256d {
        // SAFETY: `group` holds four values; the load is unaligned.
        unsafe { _mm256_loadu_pd(group.as_ptr()) }
    };
    for b0 in (0..m).step_by(TILE_B) {
        let cb: [&[[f64; 4]]; TILE_B] = std::array::from_fn(|b| in_fours(columns[b0 + b], groups));
        for a0 in (0..=b0).step_by(TILE_A) {
            let wa: [&[[f64; 4]]; TILE_A] =
                std::array::from_fn(|a| in_fours(&weighted[(a0 + a) * B..], groups));
            let mut acc = [[_mm256_setzero_pd(); TILE_B]; TILE_A];
            for g in 0..groups {
                let y: [__m256d; TILE_B] = std::array::from_fn(|b| load(&cb[b][g]));
                for (acc, wa) in acc.iter_mut().zip(&wa) {
                    let x = load(&wa[g]);
                    for (s, &y) in acc.iter_mut().zip(&y) {
                        *s = _mm256_fmadd_pd(x, y, *s);
                    }
                }
            }
            for (a, acc) in acc.iter().enumerate() {
                for (b, &acc) in acc.iter().enumerate() {
                    let (ka, kb) = (a0 + a, b0 + b);
                    if ka <= kb && kb < m {
                        let lanes: [f64; 4] = lanes_of(acc);
                        gram[ka + kb * m] += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
                    }
                }
            }
        }
    }
}

/// The four lanes of an AVX register.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lanes_of(v: std::arch::x86_64::__m256d) -> [f64; 4] {
    // SAFETY: __m256d and [f64; 4] have the same size, and every bit pattern is valid
    // for both.
    unsafe { std::mem::transmute::<std::arch::x86_64::__m256d, [f64; 4]>(v) }
}

/// The first `groups` groups of four values of `column`.
#[inline(always)]
fn in_fours(column: &[f64], groups: usize) -> &[[f64; 4]] {
    &column[..groups * 4].as_chunks::<4>().0[..groups]
}

/// See [`add_dense_rows`].
#[inline(always)]
pub(super) fn add_dense_rows_portable(
    gram: &mut [f64],
    columns: &[&[f64]],
    weighted: &mut [f64],
    w: &[f64],
    m: usize,
) {
    let len4 = weight_columns(columns, weighted, w, m);
    add_block_portable(gram, columns, weighted, m, len4);
}

/// Fills `weighted` with the first m `columns` times the weights `w` (0 on rows whose
/// weight is not positive, and past them to a whole group of four rows); the rows
/// filled.
#[inline(always)]
fn weight_columns(columns: &[&[f64]], weighted: &mut [f64], w: &[f64], m: usize) -> usize {
    let len = w.len();
    let len4 = len.next_multiple_of(4);
    for (column, weighted) in columns
        .iter()
        .zip(weighted.chunks_exact_mut(GRAM_BLOCK_ROWS))
        .take(m)
    {
        for ((wv, &v), &wi) in weighted[..len].iter_mut().zip(&column[..len]).zip(w) {
            *wv = if wi > 0.0 { wi * v } else { 0.0 };
        }
        weighted[len..len4].fill(0.0);
    }
    len4
}

/// `gram[a, b] += weighted[.., a] · columns[b]` for a ≤ b < m, over the first `len`
/// rows (a multiple of 4; the columns are padded to whole tiles). Tiles of [`TILE_A`]
/// columns of `weighted` by [`TILE_B`] columns, each entry summed in four lanes of rows
/// by fused multiply-adds: a tile loads six values for eight products, where one dot
/// product at a time loads two for one.
#[inline(always)]
fn add_block_portable(
    gram: &mut [f64],
    columns: &[&[f64]],
    weighted: &[f64],
    m: usize,
    len: usize,
) {
    const B: usize = GRAM_BLOCK_ROWS;
    for b0 in (0..m).step_by(TILE_B) {
        for a0 in (0..=b0).step_by(TILE_A) {
            let mut acc = [[[0.0f64; 4]; TILE_B]; TILE_A];
            for i in (0..len).step_by(4) {
                let cb: [&[f64]; TILE_B] = std::array::from_fn(|b| &columns[b0 + b][i..i + 4]);
                for (a, acc) in acc.iter_mut().enumerate() {
                    let wa = &weighted[(a0 + a) * B + i..(a0 + a) * B + i + 4];
                    for (acc, cb) in acc.iter_mut().zip(&cb) {
                        for (s, (&x, &y)) in acc.iter_mut().zip(wa.iter().zip(cb.iter())) {
                            *s = x.mul_add(y, *s);
                        }
                    }
                }
            }
            for (a, acc) in acc.iter().enumerate() {
                for (b, acc) in acc.iter().enumerate() {
                    let (ka, kb) = (a0 + a, b0 + b);
                    if ka <= kb && kb < m {
                        gram[ka + kb * m] += (acc[0] + acc[1]) + (acc[2] + acc[3]);
                    }
                }
            }
        }
    }
}
