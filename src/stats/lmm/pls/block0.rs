//! The block-0 pass of [`Model::solve`](super::Model::solve): per level g of the first
//! factor, `L_g = chol(Λᵀ A_g Λ + I)`, `R_g = L_g⁻¹ Λᵀ Z_gᵀX`, `c_g = L_g⁻¹ Λᵀ Z_gᵀy`, and
//! the downdates `XᵀX −= R_gᵀR_g`, `Xᵀy −= R_gᵀc_g`.

// Index loops mirror the matrix formulas they implement.
#![allow(clippy::needless_range_loop)]

use super::super::dense::{cholesky_in_place, forward_solve, log_det_chol};

/// Inputs of the block-0 pass.
pub(super) struct Block0<'a> {
    pub(super) a0: &'a [f64],
    pub(super) b0: &'a [f64],
    pub(super) d0: &'a [f64],
    pub(super) lam: &'a [f64],
    pub(super) p: usize,
    pub(super) levels: usize,
    /// Keep `L_g`, `R_g`, `c_g` (needed for the random effects and the remainder).
    pub(super) store: bool,
}

/// Outputs of the block-0 pass: `L_g`, `R_g`, `c_g` per level (when stored), the
/// downdated `XᵀX`, `Xᵀy`, and `‖c‖²`.
pub(super) struct Block0Out<'a> {
    pub(super) c_sq: &'a mut f64,
    pub(super) l0: &'a mut [f64],
    pub(super) r0: &'a mut [f64],
    pub(super) c0: &'a mut [f64],
    pub(super) xtx: &'a mut [f64],
    pub(super) xty: &'a mut [f64],
}

/// Accumulates `log Π dᵢ` without a logarithm per factor: the diagonal of the Cholesky
/// factor of `Λᵀ ZᵀZ Λ + I` is ≥ 1, so the running product only grows.
struct LogProduct {
    log: f64,
    product: f64,
}

impl LogProduct {
    fn new() -> Self {
        LogProduct {
            log: 0.0,
            product: 1.0,
        }
    }

    #[inline]
    fn push(&mut self, d: f64) {
        self.product *= d;
        if self.product.is_nan() || self.product >= 1e150 || self.product < 1e-150 {
            self.log += self.product.ln();
            self.product = 1.0;
        }
    }

    fn ln(&self) -> f64 {
        self.log + self.product.ln()
    }
}

/// Levels per task of [`block0_fixed`] when block 0 has more levels than this (each
/// task's sums start from zero and are added in task order, so the result does not
/// depend on the number of threads; with one task the arithmetic is that of one pass).
const BLOCK0_CHUNK: usize = 16_384;

/// Block 0 with `Q` columns per level: `L_g = chol(Λᵀ A_g Λ + I)`, `R_g = L_g⁻¹ Λᵀ Z_gᵀX`,
/// `c_g = L_g⁻¹ Λᵀ Z_gᵀy`, and `XᵀX −= R_gᵀR_g`, `Xᵀy −= R_gᵀc_g`. Returns `log |L₀|²`.
/// Many levels are taken in tasks of [`BLOCK0_CHUNK`] on the rayon pool.
pub(super) fn block0_fixed<const Q: usize>(args: &Block0<'_>, out: Block0Out<'_>) -> Option<f64> {
    use rayon::prelude::*;
    let p = args.p;
    if args.levels <= BLOCK0_CHUNK {
        let mut sums = Block0Sums {
            c_sq: 0.0,
            xtx: out.xtx,
            xty: out.xty,
        };
        let log = block0_levels::<Q>(args, 0, args.levels, out.l0, out.r0, out.c0, &mut sums)?;
        *out.c_sq = sums.c_sq;
        return Some(2.0 * log);
    }
    let tasks: Vec<Option<TaskSums>> = out
        .l0
        .par_chunks_mut(BLOCK0_CHUNK * Q * Q)
        .zip(out.r0.par_chunks_mut(BLOCK0_CHUNK * Q * p))
        .zip(out.c0.par_chunks_mut(BLOCK0_CHUNK * Q))
        .enumerate()
        .map(|(k, ((l0, r0), c0))| {
            let first = k * BLOCK0_CHUNK;
            let count = BLOCK0_CHUNK.min(args.levels - first);
            let (mut xtx, mut xty) = (vec![0.0; p * p], vec![0.0; p]);
            let mut sums = Block0Sums {
                c_sq: 0.0,
                xtx: &mut xtx,
                xty: &mut xty,
            };
            let log = block0_levels::<Q>(args, first, count, l0, r0, c0, &mut sums)?;
            let c_sq = sums.c_sq;
            Some((log, c_sq, xtx, xty))
        })
        .collect();
    let mut log = 0.0;
    let mut c_sq = 0.0;
    for task in tasks {
        let (l, c, xtx, xty) = task?;
        log += l;
        c_sq += c;
        for (o, v) in out.xtx.iter_mut().zip(&xtx) {
            *o += v;
        }
        for (o, v) in out.xty.iter_mut().zip(&xty) {
            *o += v;
        }
    }
    *out.c_sq = c_sq;
    Some(2.0 * log)
}

/// One task's `log Π diag L_g`, `‖c‖²` and its parts of `XᵀX` and `Xᵀy`.
type TaskSums = (f64, f64, Vec<f64>, Vec<f64>);

/// The running sums of [`block0_levels`].
struct Block0Sums<'a> {
    c_sq: f64,
    xtx: &'a mut [f64],
    xty: &'a mut [f64],
}

/// Levels `first..first + count` of [`block0_fixed`]; `l0`, `r0`, `c0` hold those levels
/// only. Returns `log Π diag L_g`.
#[allow(clippy::too_many_arguments)]
fn block0_levels<const Q: usize>(
    args: &Block0<'_>,
    first: usize,
    count: usize,
    l0: &mut [f64],
    r0: &mut [f64],
    c0: &mut [f64],
    sums: &mut Block0Sums<'_>,
) -> Option<f64> {
    let p = args.p;
    let mut lam = [[0.0; Q]; Q];
    for i in 0..Q {
        for j in 0..=i {
            lam[i][j] = args.lam[i * Q + j];
        }
    }
    let mut logdet = LogProduct::new();
    let mut c_sq = sums.c_sq;
    let mut v = [0.0; Q];
    let mut r = vec![0.0; Q * p];
    for local in 0..count {
        let g = first + local;
        let a = &args.a0[g * Q * Q..(g + 1) * Q * Q];
        let mut t = [[0.0; Q]; Q];
        for i in 0..Q {
            for j in 0..Q {
                let mut s = 0.0;
                for k in j..Q {
                    s += a[i * Q + k] * lam[k][j];
                }
                t[i][j] = s;
            }
        }
        let mut l = [[0.0; Q]; Q];
        for j in 0..Q {
            for i in j..Q {
                // m = (Λᵀ t)[i][j]
                let mut m = if i == j { 1.0 } else { 0.0 };
                for k in i..Q {
                    m += lam[k][i] * t[k][j];
                }
                for k in 0..j {
                    m -= l[i][k] * l[j][k];
                }
                if i == j {
                    if m.is_nan() || m <= 0.0 || m.is_infinite() {
                        return None;
                    }
                    l[j][j] = m.sqrt();
                    logdet.push(l[j][j]);
                } else {
                    l[i][j] = m / l[j][j];
                }
            }
        }
        let solve = |v: &mut [f64; Q]| {
            for i in 0..Q {
                let mut s = v[i];
                for k in 0..i {
                    s -= l[i][k] * v[k];
                }
                v[i] = s / l[i][i];
            }
        };
        let bx = &args.b0[g * Q * p..(g + 1) * Q * p];
        for c in 0..p {
            for i in 0..Q {
                let mut s = 0.0;
                for k in i..Q {
                    s += lam[k][i] * bx[k * p + c];
                }
                v[i] = s;
            }
            solve(&mut v);
            for i in 0..Q {
                r[i * p + c] = v[i];
            }
        }
        let d = &args.d0[g * Q..(g + 1) * Q];
        for i in 0..Q {
            let mut s = 0.0;
            for k in i..Q {
                s += lam[k][i] * d[k];
            }
            v[i] = s;
        }
        solve(&mut v);
        for i in 0..Q {
            c_sq += v[i] * v[i];
        }
        for a in 0..p {
            for b in a..p {
                let mut s = 0.0;
                for i in 0..Q {
                    s += r[i * p + a] * r[i * p + b];
                }
                sums.xtx[a * p + b] -= s;
            }
            let mut s = 0.0;
            for i in 0..Q {
                s += r[i * p + a] * v[i];
            }
            sums.xty[a] -= s;
        }
        if args.store {
            let lg = &mut l0[local * Q * Q..(local + 1) * Q * Q];
            for i in 0..Q {
                for j in 0..Q {
                    lg[i * Q + j] = l[i][j];
                }
            }
            r0[local * Q * p..(local + 1) * Q * p].copy_from_slice(&r);
            c0[local * Q..(local + 1) * Q].copy_from_slice(&v);
        }
    }
    sums.c_sq = c_sq;
    Some(logdet.ln())
}

/// [`block0_fixed`] for any number of columns per level.
pub(super) fn block0_general(
    args: &Block0<'_>,
    q0: usize,
    out: Block0Out<'_>,
    tmp: &mut [f64],
) -> Option<f64> {
    let (p, lam) = (args.p, args.lam);
    let qq = q0 * q0;
    let mut log_det = 0.0;
    for g in 0..args.levels {
        let a = &args.a0[g * qq..(g + 1) * qq];
        let t = &mut tmp[..qq];
        for i in 0..q0 {
            for j in 0..q0 {
                let mut s = 0.0;
                for k in j..q0 {
                    s += a[i * q0 + k] * lam[k * q0 + j];
                }
                t[i * q0 + j] = s;
            }
        }
        let l = &mut out.l0[g * qq..(g + 1) * qq];
        for i in 0..q0 {
            for j in 0..q0 {
                let mut s = if i == j { 1.0 } else { 0.0 };
                for k in i..q0 {
                    s += lam[k * q0 + i] * t[k * q0 + j];
                }
                l[i * q0 + j] = s;
            }
        }
        if !cholesky_in_place(l, q0) {
            return None;
        }
        log_det += log_det_chol(l, q0);
        let bx = &args.b0[g * q0 * p..(g + 1) * q0 * p];
        let r = &mut out.r0[g * q0 * p..(g + 1) * q0 * p];
        for i in 0..q0 {
            for c in 0..p {
                let mut s = 0.0;
                for k in i..q0 {
                    s += lam[k * q0 + i] * bx[k * p + c];
                }
                r[i * p + c] = s;
            }
        }
        forward_solve(l, q0, r, p);
        let d = &args.d0[g * q0..(g + 1) * q0];
        let cg = &mut out.c0[g * q0..(g + 1) * q0];
        for i in 0..q0 {
            let mut s = 0.0;
            for k in i..q0 {
                s += lam[k * q0 + i] * d[k];
            }
            cg[i] = s;
        }
        forward_solve(l, q0, cg, 1);
        *out.c_sq += cg.iter().map(|v| v * v).sum::<f64>();
        for a in 0..p {
            for b in a..p {
                let mut s = 0.0;
                for i in 0..q0 {
                    s += r[i * p + a] * r[i * p + b];
                }
                out.xtx[a * p + b] -= s;
            }
            let mut s = 0.0;
            for i in 0..q0 {
                s += r[i * p + a] * cg[i];
            }
            out.xty[a] -= s;
        }
    }
    Some(log_det)
}
