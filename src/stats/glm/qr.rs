//! The tall-skinny Householder QR behind [`weighted_least_squares`](super::weighted_least_squares):
//! blocks of rows of [sqrt(W)X, sqrt(W)z] folded into a small triangular factor, and the
//! dot-product kernels it runs on.

use crate::stats::design::DesignRows;
use crate::stats::map_indices;

/// Rows per chunk of the parallel QR; fixed so results do not depend on thread count.
const QR_CHUNK_ROWS: usize = 1 << 16;

/// Rows of sqrt(W) [X z] processed per block of the tall-skinny QR: small enough for
/// the block to stay in the L1/L2 cache.
pub(super) const QR_BLOCK_ROWS: usize = 256;

/// Upper-triangular factor (column-major, (p+1)×(p+1)) of the QR decomposition of
/// [sqrt(w) X, sqrt(w) z] over the rows with w > 0, accumulated over blocks of rows:
/// each block is stacked under the running factor and reduced by Householder
/// reflections that touch only row j of the factor and the block.
pub(super) fn tall_skinny_r<X: DesignRows + ?Sized>(x: &X, z: &[f64], w: &[f64]) -> Vec<f64> {
    let n = x.nrows();
    let m = x.ncols() + 1;
    if n <= QR_CHUNK_ROWS || m > QR_BLOCK_ROWS {
        return tall_skinny_r_range(x, z, w, 0, n);
    }
    // Fixed chunks of rows, reduced on the pool's threads and then folded together in
    // chunk order: the result does not depend on the number of threads.
    let chunks = n.div_ceil(QR_CHUNK_ROWS);
    let parts = map_indices(chunks, |chunk| {
        let start = chunk * QR_CHUNK_ROWS;
        tall_skinny_r_range(x, z, w, start, (start + QR_CHUNK_ROWS).min(n))
    });
    let mut r = vec![0.0; m * m];
    let mut block = vec![0.0; QR_BLOCK_ROWS * m];
    for part in &parts {
        for k in 0..m {
            for i in 0..m {
                block[k * QR_BLOCK_ROWS + i] = part[i + k * m];
            }
        }
        reduce_block(&mut r, &mut block, m, m);
    }
    r
}

/// [`tall_skinny_r`] over the rows `start..end`.
pub(super) fn tall_skinny_r_range<X: DesignRows + ?Sized>(
    x: &X,
    z: &[f64],
    w: &[f64],
    start: usize,
    end: usize,
) -> Vec<f64> {
    let p = x.ncols();
    let m = p + 1;
    let mut r = vec![0.0; m * m];
    let mut block = vec![0.0; QR_BLOCK_ROWS * m];
    let mut sqrt_w = [0.0; QR_BLOCK_ROWS];
    for first in (start..end).step_by(QR_BLOCK_ROWS) {
        let last = (first + QR_BLOCK_ROWS).min(end);
        let len = last - first;
        let sqrt_w = &mut sqrt_w[..len];
        for (s, &wi) in sqrt_w.iter_mut().zip(&w[first..last]) {
            *s = if wi > 0.0 { wi.sqrt() } else { 0.0 };
        }
        let bl = sqrt_w.iter().filter(|&&s| s > 0.0).count();
        if bl == 0 {
            continue;
        }
        x.rows_into(first, len, &mut block, QR_BLOCK_ROWS);
        block[p * QR_BLOCK_ROWS..p * QR_BLOCK_ROWS + len].copy_from_slice(&z[first..last]);
        // Weight the rows with positive weight and move them to the top of the block.
        for column in block.chunks_exact_mut(QR_BLOCK_ROWS) {
            let mut kept = 0;
            for (i, &s) in sqrt_w.iter().enumerate() {
                if s > 0.0 {
                    column[kept] = s * column[i];
                    kept += 1;
                }
            }
        }
        reduce_block(&mut r, &mut block, m, bl);
    }
    r
}

/// Householder reduction of [R; B] where R is m×m upper triangular and B is bl×m
/// (column-major with leading dimension `QR_BLOCK_ROWS`); R is updated in place.
///
/// On x86-64 CPUs with AVX2 the same code runs compiled for AVX2: wider vectors, but the
/// same operations in the same order (Rust never fuses a multiplication and an addition),
/// so the results are the same to the bit.
pub(super) fn reduce_block(r: &mut [f64], block: &mut [f64], m: usize, bl: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { reduce_block_avx2(r, block, m, bl) };
            return;
        }
    }
    reduce_block_portable(r, block, m, bl);
}

/// [`reduce_block_portable`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn reduce_block_avx2(r: &mut [f64], block: &mut [f64], m: usize, bl: usize) {
    reduce_block_portable(r, block, m, bl);
}

/// See [`reduce_block`]. The reflection of column j is applied to the later columns four
/// at a time: their dot products with column j are summed side by side (four independent
/// chains of additions keep the floating-point units busy), each with exactly the
/// arithmetic of [`dot`].
#[inline(always)]
pub(super) fn reduce_block_portable(r: &mut [f64], block: &mut [f64], m: usize, bl: usize) {
    for j in 0..m {
        let (head, tail) = block.split_at_mut((j + 1) * QR_BLOCK_ROWS);
        let aj = &head[j * QR_BLOCK_ROWS..j * QR_BLOCK_ROWS + bl];
        let s = dot(aj, aj);
        if s == 0.0 {
            continue;
        }
        let rjj = r[j + j * m];
        let norm = (rjj * rjj + s).sqrt();
        let alpha = if rjj >= 0.0 { -norm } else { norm };
        let v0 = rjj - alpha;
        let beta = 2.0 / (v0 * v0 + s);
        let mut columns = tail[..(m - j - 1) * QR_BLOCK_ROWS].chunks_exact_mut(QR_BLOCK_ROWS);
        let mut k = j + 1;
        while k + 4 <= m {
            let (Some(c0), Some(c1), Some(c2), Some(c3)) = (
                columns.next(),
                columns.next(),
                columns.next(),
                columns.next(),
            ) else {
                break;
            };
            let mut ak = [&mut c0[..bl], &mut c1[..bl], &mut c2[..bl], &mut c3[..bl]];
            let dots = dot4(aj, &ak);
            let mut f = [0.0; 4];
            for (t, ft) in f.iter_mut().enumerate() {
                let rjk = &mut r[j + (k + t) * m];
                *ft = beta * (v0 * *rjk + dots[t]);
                *rjk -= *ft * v0;
            }
            for (ft, ak) in f.iter().zip(ak.iter_mut()) {
                axpy(-ft, aj, ak);
            }
            k += 4;
        }
        for column in columns {
            let ak = &mut column[..bl];
            let f = beta * (v0 * r[j + k * m] + dot(aj, ak));
            r[j + k * m] -= f * v0;
            axpy(-f, aj, ak);
            k += 1;
        }
        r[j + j * m] = alpha;
    }
}

/// [`dot`] of `a` with four vectors of its length, each with the arithmetic of [`dot`].
#[inline(always)]
fn dot4(a: &[f64], b: &[&mut [f64]; 4]) -> [f64; 4] {
    let (a4, a_tail) = a.as_chunks::<4>();
    let y = [
        b[0].as_chunks::<4>().0,
        b[1].as_chunks::<4>().0,
        b[2].as_chunks::<4>().0,
        b[3].as_chunks::<4>().0,
    ];
    let n = y.iter().fold(a4.len(), |n, y| n.min(y.len()));
    let mut acc = [[0.0f64; 4]; 4];
    for (i, x) in a4[..n].iter().enumerate() {
        for (acc, y) in acc.iter_mut().zip(&y) {
            let y = y[i];
            acc[0] += x[0] * y[0];
            acc[1] += x[1] * y[1];
            acc[2] += x[2] * y[2];
            acc[3] += x[3] * y[3];
        }
    }
    let len = a.len() - a_tail.len();
    let mut out = [0.0; 4];
    for ((out, acc), y) in out.iter_mut().zip(&acc).zip(b) {
        let tail: f64 = a_tail.iter().zip(y[len..].iter()).map(|(x, y)| x * y).sum();
        *out = (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail;
    }
    out
}

/// Dot product with four independent accumulators (lets the compiler vectorise).
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let tail: f64 = ra.iter().zip(rb.iter()).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// y += alpha * x.
pub(super) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x.iter()) {
        *yi += alpha * xi;
    }
}
