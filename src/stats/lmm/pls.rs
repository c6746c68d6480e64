//! Penalised least squares for a given relative covariance factor θ (Bates, Mächler,
//! Bolker & Walker 2015, sections 3.2–3.5), with the random effects grouped by factor.
//!
//! The random-effects model matrix `Z` is split by grouping factor ("blocks"): block 0
//! is the factor of the term with the most levels (lme4's first term), the others form
//! the remainder `R`. With `Λ` block-diagonal, the sparse Cholesky factor of
//! `Λᵀ Zᵀ Z Λ + I` is
//!
//! ```text
//!   L = [ L₀   0  ]      L₀  = blockdiag(L_g), one q₀ × q₀ factor per level g of block 0
//!       [ L₂₁ L₂₂ ]      L₂₁ = Λ_Rᵀ Z_Rᵀ Z₀ Λ₀ L₀⁻ᵀ (sparse: only co-occurring levels)
//!                        L₂₂ = chol(Λ_Rᵀ Z_Rᵀ Z_R Λ_R + I − L₂₁ L₂₁ᵀ)  (dense)
//! ```
//!
//! so a single grouping factor (or several terms on one factor, as `(t || g)`) costs
//! O(levels · q₀³) per evaluation and nested or small crossed factors add a dense block
//! of the size of the remainder. The fixed effects are eliminated last:
//! `R_ZX = L⁻¹ Λᵀ Zᵀ X`, `R_Xᵀ R_X = XᵀX − R_ZXᵀ R_ZX` (BMBW eq. 18).
//!
//! The penalised residual sum of squares is `yᵀy − ‖c_u‖² − ‖c_β‖²` (BMBW eq. 29–30)
//! while optimising, so an evaluation costs no pass over the observations; the response
//! is first centred on its least-squares fit so that this difference does not cancel.
//! The final fit computes it from the residuals, `‖y − Xβ − ZΛu‖² + ‖u‖²`.

// Index loops mirror the matrix formulas they implement.
#![allow(clippy::needless_range_loop)]

mod block0;
mod gradient;

use std::collections::HashMap;

use nalgebra::DMatrix;

use self::block0::{block0_fixed, block0_general, Block0, Block0Out};
use super::dense::{
    backward_solve, cholesky_blocked, cholesky_in_place, forward_solve, log_det_chol,
};

/// One random-effect term, in lme4's order.
#[derive(Clone, Debug)]
pub(super) struct TermLayout {
    /// The factor block the term belongs to.
    pub block: usize,
    /// First column of the term within its block's `q` columns.
    pub offset: usize,
    /// Number of columns of the term.
    pub width: usize,
    /// First element of the term's θ (column-major lower triangle).
    pub theta_offset: usize,
}

/// The terms of one grouping factor.
#[derive(Clone, Debug)]
pub(super) struct FactorBlock {
    pub n_levels: usize,
    /// Columns per level.
    pub q: usize,
    /// Level of each observation.
    pub codes: Vec<u32>,
    /// The block's rows of `Z` before expansion by level: n × q, row-major.
    pub z: Vec<f64>,
    /// Terms (indices into the layout) of this block.
    pub terms: Vec<usize>,
    /// For blocks ≥ 1: first index in the dense remainder.
    pub rest_offset: usize,
}

/// A term's input: its grouping codes and columns, in lme4's order.
pub(super) struct TermInput<'a> {
    pub group: &'a str,
    pub codes: &'a [u32],
    pub n_levels: usize,
    pub z: &'a DMatrix<f64>,
}

/// Everything that does not depend on θ.
pub(super) struct Model {
    pub n: usize,
    pub p: usize,
    x: DMatrix<f64>,
    /// The response minus `X β₀` (β₀ the least-squares fit of y on X), so that
    /// `yᵀy − ‖c‖²` does not cancel catastrophically.
    y: Vec<f64>,
    beta0: Vec<f64>,
    yty: f64,
    xtx: Vec<f64>,
    xty: Vec<f64>,
    pub terms: Vec<TermLayout>,
    pub blocks: Vec<FactorBlock>,
    pub n_theta: usize,
    // Block 0, per level g: Z_gᵀZ_g (q₀ × q₀), Z_gᵀX (q₀ × p), Z_gᵀy (q₀).
    a0: Vec<f64>,
    b0: Vec<f64>,
    d0: Vec<f64>,
    // The remainder: Z_RᵀZ_R (dense), Z_RᵀX, Z_Rᵀy.
    pub q_rest: usize,
    zrzr: Vec<f64>,
    zrx: Vec<f64>,
    zry: Vec<f64>,
    // Z_RᵀZ₀ by level g of block 0 (CSR over g): entry e has block k, start in the
    // remainder, and a q_k × q₀ matrix at `cross_val[cross_val_off[e]..]`.
    cross_ptr: Vec<usize>,
    cross_block: Vec<usize>,
    cross_start: Vec<usize>,
    cross_val_off: Vec<usize>,
    cross_val: Vec<f64>,
    /// When every factor has one column per level (crossed or nested random
    /// intercepts): the Schur complement `S −= W Wᵀ` by rows of its lower triangle, the
    /// symbolic part done once here. Row i of `S` receives, at column `downdate_col[c]`,
    /// `− w[downdate_w[c].0] · w[downdate_w[c].1]` for c in `downdate_ptr[i]..downdate_ptr[i+1]`,
    /// in the same order (by level of block 0) as the level-by-level loop, so every
    /// element gets the same sequence of operations; rows are written one after another
    /// instead of scattered, and can be split between threads.
    downdate: Option<Downdate>,
}

/// The symbolic Schur-complement downdate for scalar factors (see [`Model`]).
struct Downdate {
    ptr: Vec<usize>,
    col: Vec<u32>,
    w: Vec<[u32; 2]>,
}

/// Rows of `S` per task of the downdate.
const DOWNDATE_ROWS: usize = 64;

impl Downdate {
    /// Contributions `(row, col, g, e1, e2)` with `row ≥ col`, grouped by row and, within
    /// a row, ordered by column and then by level `g`.
    fn new(
        cross_ptr: &[usize],
        cross_start: &[usize],
        cross_val_off: &[usize],
        q_rest: usize,
    ) -> Downdate {
        let mut items: Vec<(u32, u32, u32, u32)> = Vec::new();
        for g in 0..cross_ptr.len() - 1 {
            let (lo, hi) = (cross_ptr[g], cross_ptr[g + 1]);
            for e1 in lo..hi {
                for e2 in lo..hi {
                    let (s1, s2) = (cross_start[e1], cross_start[e2]);
                    if s2 <= s1 {
                        items.push((
                            s1 as u32,
                            s2 as u32,
                            cross_val_off[e1] as u32,
                            cross_val_off[e2] as u32,
                        ));
                    }
                }
            }
        }
        // Stable: within one (row, col), the level order is kept.
        items.sort_by_key(|&(r, c, _, _)| (r, c));
        let mut ptr = vec![0usize; q_rest + 1];
        for &(r, ..) in &items {
            ptr[r as usize + 1] += 1;
        }
        for i in 0..q_rest {
            ptr[i + 1] += ptr[i];
        }
        Downdate {
            ptr,
            col: items.iter().map(|t| t.1).collect(),
            w: items.iter().map(|t| [t.2, t.3]).collect(),
        }
    }

    fn apply(&self, s: &mut [f64], qr: usize, w: &[f64]) {
        use rayon::prelude::*;
        s.par_chunks_mut(DOWNDATE_ROWS * qr)
            .enumerate()
            .for_each(|(chunk_index, rows)| {
                let first = chunk_index * DOWNDATE_ROWS;
                for (r, row) in rows.chunks_mut(qr).enumerate() {
                    let i = first + r;
                    for c in self.ptr[i]..self.ptr[i + 1] {
                        let [a, b] = self.w[c];
                        let v = w[a as usize] * w[b as usize];
                        row[self.col[c] as usize] -= v;
                    }
                }
            });
    }
}

/// The state after solving the PLS problem at one θ.
pub(super) struct Workspace {
    lam: Vec<Vec<f64>>,
    l0: Vec<f64>,
    r0: Vec<f64>,
    c0: Vec<f64>,
    w: Vec<f64>,
    s: Vec<f64>,
    rr: Vec<f64>,
    cr: Vec<f64>,
    /// Cholesky factor of `R_XᵀR_X` (p × p lower): `R_X = lxᵀ`.
    pub lx: Vec<f64>,
    xty: Vec<f64>,
    pub beta: Vec<f64>,
    u: Vec<f64>,
    b: Vec<f64>,
    tmp: Vec<f64>,
    tmp2: Vec<f64>,
    resid: Vec<f64>,
    scratch: gradient::Scratch,
}

/// The pieces of the profiled deviance at one θ.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pls {
    /// `log |L_θ|²`.
    pub log_det_l: f64,
    /// `log |R_X|²`.
    pub log_det_rx: f64,
    /// Penalised weighted residual sum of squares `r²(θ)`.
    pub pwrss: f64,
}

impl Model {
    /// `terms` in lme4's order; terms with the same `group` share a block.
    pub fn new(x: &DMatrix<f64>, y: &[f64], terms: &[TermInput<'_>]) -> Model {
        let n = y.len();
        let p = x.ncols();
        let beta0 = least_squares(x, y);
        let mut shifted = y.to_vec();
        for c in 0..p {
            for (r, xv) in shifted.iter_mut().zip(x.column(c).iter()) {
                *r -= xv * beta0[c];
            }
        }
        let y = &shifted[..];
        // Blocks by group name, in order of first appearance.
        let mut names: Vec<&str> = Vec::new();
        let mut layout = Vec::with_capacity(terms.len());
        let mut block_terms: Vec<Vec<usize>> = Vec::new();
        let mut block_q: Vec<usize> = Vec::new();
        let mut theta_offset = 0;
        for (t, term) in terms.iter().enumerate() {
            let block = match names.iter().position(|&g| g == term.group) {
                Some(b) => b,
                None => {
                    names.push(term.group);
                    block_terms.push(Vec::new());
                    block_q.push(0);
                    names.len() - 1
                }
            };
            let width = term.z.ncols();
            layout.push(TermLayout {
                block,
                offset: block_q[block],
                width,
                theta_offset,
            });
            theta_offset += width * (width + 1) / 2;
            block_q[block] += width;
            block_terms[block].push(t);
        }
        let mut blocks = Vec::with_capacity(names.len());
        let mut rest_offset = 0;
        for (b, members) in block_terms.iter().enumerate() {
            let q = block_q[b];
            let first = &terms[members[0]];
            let mut z = vec![0.0; n * q];
            for &t in members {
                let (off, w) = (layout[t].offset, layout[t].width);
                for i in 0..n {
                    for c in 0..w {
                        z[i * q + off + c] = terms[t].z[(i, c)];
                    }
                }
            }
            blocks.push(FactorBlock {
                n_levels: first.n_levels,
                q,
                codes: first.codes.to_vec(),
                z,
                terms: members.clone(),
                rest_offset: if b == 0 { 0 } else { rest_offset },
            });
            if b > 0 {
                rest_offset += first.n_levels * q;
            }
        }
        let q_rest = rest_offset;

        let (l0, q0) = (blocks[0].n_levels, blocks[0].q);
        let mut a0 = vec![0.0; l0 * q0 * q0];
        let mut b0 = vec![0.0; l0 * q0 * p];
        let mut d0 = vec![0.0; l0 * q0];
        let mut xi = vec![0.0; p];
        for i in 0..n {
            let g = blocks[0].codes[i] as usize;
            let z = &blocks[0].z[i * q0..(i + 1) * q0];
            for c in 0..p {
                xi[c] = x[(i, c)];
            }
            let a = &mut a0[g * q0 * q0..(g + 1) * q0 * q0];
            for r in 0..q0 {
                for c in 0..q0 {
                    a[r * q0 + c] += z[r] * z[c];
                }
            }
            let bx = &mut b0[g * q0 * p..(g + 1) * q0 * p];
            for r in 0..q0 {
                for c in 0..p {
                    bx[r * p + c] += z[r] * xi[c];
                }
                d0[g * q0 + r] += z[r] * y[i];
            }
        }

        let mut zrzr = vec![0.0; q_rest * q_rest];
        let mut zrx = vec![0.0; q_rest * p];
        let mut zry = vec![0.0; q_rest];
        let mut cross_index: HashMap<(u32, usize, u32), usize> = HashMap::new();
        let mut entries: Vec<(u32, usize, u32)> = Vec::new();
        let mut entry_vals: Vec<Vec<f64>> = Vec::new();
        if q_rest > 0 {
            let mut starts = vec![0usize; blocks.len()];
            for i in 0..n {
                for c in 0..p {
                    xi[c] = x[(i, c)];
                }
                for (k, blk) in blocks.iter().enumerate().skip(1) {
                    starts[k] = blk.rest_offset + blk.codes[i] as usize * blk.q;
                }
                let g = blocks[0].codes[i];
                let z0 = &blocks[0].z[i * q0..(i + 1) * q0];
                for (k, blk) in blocks.iter().enumerate().skip(1) {
                    let zk = &blk.z[i * blk.q..(i + 1) * blk.q];
                    let sk = starts[k];
                    for (k2, blk2) in blocks.iter().enumerate().skip(1) {
                        let zk2 = &blk2.z[i * blk2.q..(i + 1) * blk2.q];
                        let sk2 = starts[k2];
                        for r in 0..blk.q {
                            for c in 0..blk2.q {
                                zrzr[(sk + r) * q_rest + sk2 + c] += zk[r] * zk2[c];
                            }
                        }
                    }
                    for r in 0..blk.q {
                        for c in 0..p {
                            zrx[(sk + r) * p + c] += zk[r] * xi[c];
                        }
                        zry[sk + r] += zk[r] * y[i];
                    }
                    let key = (g, k, blk.codes[i]);
                    let e = *cross_index.entry(key).or_insert_with(|| {
                        entries.push(key);
                        entry_vals.push(vec![0.0; blk.q * q0]);
                        entries.len() - 1
                    });
                    let v = &mut entry_vals[e];
                    for r in 0..blk.q {
                        for c in 0..q0 {
                            v[r * q0 + c] += zk[r] * z0[c];
                        }
                    }
                }
            }
        }
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&e| entries[e]);
        let mut cross_ptr = vec![0usize; l0 + 1];
        let mut cross_block = Vec::with_capacity(order.len());
        let mut cross_start = Vec::with_capacity(order.len());
        let mut cross_val_off = Vec::with_capacity(order.len());
        let mut cross_val = Vec::new();
        for &e in &order {
            let (g, k, j) = entries[e];
            cross_ptr[g as usize + 1] += 1;
            cross_block.push(k);
            cross_start.push(blocks[k].rest_offset + j as usize * blocks[k].q);
            cross_val_off.push(cross_val.len());
            cross_val.extend_from_slice(&entry_vals[e]);
        }
        for g in 0..l0 {
            cross_ptr[g + 1] += cross_ptr[g];
        }
        let scalar = blocks.iter().all(|b| b.q == 1);
        let downdate = (scalar && q_rest > 0)
            .then(|| Downdate::new(&cross_ptr, &cross_start, &cross_val_off, q_rest));

        let mut xtx = vec![0.0; p * p];
        let mut xty = vec![0.0; p];
        for a in 0..p {
            for b in 0..p {
                xtx[a * p + b] = x.column(a).dot(&x.column(b));
            }
            xty[a] = x.column(a).iter().zip(y).map(|(u, v)| u * v).sum();
        }
        Model {
            n,
            p,
            x: x.clone(),
            y: y.to_vec(),
            yty: y.iter().map(|v| v * v).sum(),
            beta0,
            xtx,
            xty,
            terms: layout,
            blocks,
            n_theta: theta_offset,
            a0,
            b0,
            d0,
            q_rest,
            zrzr,
            zrx,
            zry,
            cross_ptr,
            cross_block,
            cross_start,
            cross_val_off,
            cross_val,
            downdate,
        }
    }

    /// Total number of random effects `q`.
    pub fn q_total(&self) -> usize {
        self.blocks[0].n_levels * self.blocks[0].q + self.q_rest
    }

    pub fn workspace(&self) -> Workspace {
        let (l0, q0, p, qr) = (
            self.blocks[0].n_levels,
            self.blocks[0].q,
            self.p,
            self.q_rest,
        );
        let qmax = self.blocks.iter().map(|b| b.q).max().unwrap_or(1);
        Workspace {
            lam: self.blocks.iter().map(|b| vec![0.0; b.q * b.q]).collect(),
            l0: vec![0.0; l0 * q0 * q0],
            r0: vec![0.0; l0 * q0 * p],
            c0: vec![0.0; l0 * q0],
            w: vec![0.0; self.cross_val.len()],
            s: vec![0.0; qr * qr],
            rr: vec![0.0; qr * p],
            cr: vec![0.0; qr],
            lx: vec![0.0; p * p],
            xty: vec![0.0; p],
            beta: vec![0.0; p],
            u: vec![0.0; self.q_total()],
            b: vec![0.0; self.q_total()],
            tmp: vec![0.0; qmax * qmax],
            tmp2: vec![0.0; 2 * qmax * qmax + qmax],
            resid: vec![0.0; self.n],
            scratch: gradient::Scratch::default(),
        }
    }

    /// The lower bounds of θ: 0 for the diagonal of each term's template, −∞ elsewhere.
    pub fn lower_bounds(&self) -> Vec<f64> {
        let mut lower = Vec::with_capacity(self.n_theta);
        for t in &self.terms {
            for j in 0..t.width {
                for i in j..t.width {
                    lower.push(if i == j { 0.0 } else { f64::NEG_INFINITY });
                }
            }
        }
        lower
    }

    /// lme4's starting value: identity templates.
    pub fn theta_start(&self) -> Vec<f64> {
        self.lower_bounds()
            .iter()
            .map(|&l| if l == 0.0 { 1.0 } else { 0.0 })
            .collect()
    }

    /// A term's template `T` (width × width, row-major lower triangle) from θ.
    pub fn term_template(&self, t: usize, theta: &[f64]) -> Vec<f64> {
        let TermLayout {
            width,
            theta_offset,
            ..
        } = self.terms[t];
        let mut m = vec![0.0; width * width];
        let mut k = theta_offset;
        for j in 0..width {
            for i in j..width {
                m[i * width + j] = theta[k];
                k += 1;
            }
        }
        m
    }

    fn fill_templates(&self, theta: &[f64], ws: &mut Workspace) {
        for (b, blk) in self.blocks.iter().enumerate() {
            let q = blk.q;
            let lam = &mut ws.lam[b];
            lam.iter_mut().for_each(|v| *v = 0.0);
            for &t in &blk.terms {
                let TermLayout {
                    offset,
                    width,
                    theta_offset,
                    ..
                } = self.terms[t];
                let mut k = theta_offset;
                for j in 0..width {
                    for i in j..width {
                        lam[(offset + i) * q + offset + j] = theta[k];
                        k += 1;
                    }
                }
            }
        }
    }

    /// The fixed effects of the last [`Model::solve`] on the original scale.
    pub fn beta(&self, ws: &Workspace) -> Vec<f64> {
        ws.beta
            .iter()
            .zip(&self.beta0)
            .map(|(b, b0)| b + b0)
            .collect()
    }

    /// Solves the penalised least-squares problem at θ. `None` when a factor is not
    /// positive definite (the fixed-effect part `R_X` can be, for an extreme θ).
    ///
    /// With `full`, the random effects and the residuals are computed and the penalised
    /// residual sum of squares is `‖y − Xβ − ZΛu‖² + ‖u‖²`; otherwise it is
    /// `yᵀy − ‖c_u‖² − ‖c_β‖²` (BMBW eq. 29–30), which costs no pass over the
    /// observations (the response is centred on its least-squares fit, so the
    /// cancellation loses at most a digit or two; when it would lose more the full
    /// computation is used).
    pub fn solve(&self, theta: &[f64], ws: &mut Workspace, full: bool) -> Option<Pls> {
        self.fill_templates(theta, ws);
        let (n, p) = (self.n, self.p);
        let (l0, q0) = (self.blocks[0].n_levels, self.blocks[0].q);
        let mut xtx = self.xtx.clone();
        ws.xty.copy_from_slice(&self.xty);
        let mut log_det_l = 0.0;

        // Block 0, level by level (unrolled for the usual small q₀).
        let mut c0_sq = 0.0;
        {
            let args = Block0 {
                a0: &self.a0,
                b0: &self.b0,
                d0: &self.d0,
                lam: &ws.lam[0],
                p,
                levels: l0,
                store: full || self.q_rest > 0,
            };
            let out = Block0Out {
                c_sq: &mut c0_sq,
                l0: &mut ws.l0,
                r0: &mut ws.r0,
                c0: &mut ws.c0,
                xtx: &mut xtx,
                xty: &mut ws.xty,
            };
            log_det_l += match q0 {
                1 => block0_fixed::<1>(&args, out)?,
                2 => block0_fixed::<2>(&args, out)?,
                3 => block0_fixed::<3>(&args, out)?,
                4 => block0_fixed::<4>(&args, out)?,
                _ => block0_general(&args, q0, out, &mut ws.tmp)?,
            };
        }

        // The remainder.
        let qr = self.q_rest;
        if qr > 0 {
            let s = &mut ws.s;
            s.copy_from_slice(&self.zrzr);
            ws.rr.copy_from_slice(&self.zrx);
            ws.cr.copy_from_slice(&self.zry);
            if self.downdate.is_some() {
                // Scalar factors: S ← Λᵀ S Λ on the lower triangle (the only part
                // the Cholesky factorisation reads), Z_RᵀX and Z_Rᵀy ← Λᵀ ·.
                let mut lam_rest = vec![0.0; qr];
                for (k, blk) in self.blocks.iter().enumerate().skip(1) {
                    let lk = ws.lam[k][0];
                    lam_rest[blk.rest_offset..blk.rest_offset + blk.n_levels].fill(lk);
                }
                for i in 0..qr {
                    let li = lam_rest[i];
                    let row = &mut s[i * qr..i * qr + i + 1];
                    for (v, lj) in row.iter_mut().zip(&lam_rest) {
                        *v = li * (*v * lj);
                    }
                    for v in &mut ws.rr[i * p..(i + 1) * p] {
                        *v *= li;
                    }
                    ws.cr[i] *= li;
                }
            }
            for (k, blk) in self.blocks.iter().enumerate().skip(1) {
                if self.downdate.is_some() {
                    break;
                }
                let q = blk.q;
                let lam = &ws.lam[k];
                let tmp = &mut ws.tmp2[..q];
                for j in 0..blk.n_levels {
                    let st = blk.rest_offset + j * q;
                    // S ← S Λ on columns st..st+q
                    for row in 0..qr {
                        let base = row * qr + st;
                        for c in 0..q {
                            let mut v = 0.0;
                            for m in c..q {
                                v += s[base + m] * lam[m * q + c];
                            }
                            tmp[c] = v;
                        }
                        s[base..base + q].copy_from_slice(tmp);
                    }
                }
                for j in 0..blk.n_levels {
                    let st = blk.rest_offset + j * q;
                    // S ← Λᵀ S on rows st..st+q, and likewise Z_RᵀX, Z_Rᵀy.
                    for col in 0..qr {
                        for i in 0..q {
                            let mut v = 0.0;
                            for m in i..q {
                                v += lam[m * q + i] * s[(st + m) * qr + col];
                            }
                            tmp[i] = v;
                        }
                        for i in 0..q {
                            s[(st + i) * qr + col] = tmp[i];
                        }
                    }
                    for col in 0..p {
                        for i in 0..q {
                            let mut v = 0.0;
                            for m in i..q {
                                v += lam[m * q + i] * ws.rr[(st + m) * p + col];
                            }
                            tmp[i] = v;
                        }
                        for i in 0..q {
                            ws.rr[(st + i) * p + col] = tmp[i];
                        }
                    }
                    for i in 0..q {
                        let mut v = 0.0;
                        for m in i..q {
                            v += lam[m * q + i] * ws.cr[st + m];
                        }
                        tmp[i] = v;
                    }
                    ws.cr[st..st + q].copy_from_slice(tmp);
                }
            }
            for i in 0..qr {
                s[i * qr + i] += 1.0;
            }
            // L₂₁ blocks W_e = Λ_kᵀ C_e Λ₀ L_g⁻ᵀ and the Schur complement.
            let lam0 = &ws.lam[0];
            let qq = q0 * q0;
            for g in 0..l0 {
                let lg = &ws.l0[g * qq..(g + 1) * qq];
                let (lo, hi) = (self.cross_ptr[g], self.cross_ptr[g + 1]);
                for e in lo..hi {
                    let k = self.cross_block[e];
                    let qk = self.blocks[k].q;
                    let lamk = &ws.lam[k];
                    let c = &self.cross_val[self.cross_val_off[e]..self.cross_val_off[e] + qk * q0];
                    // t1 = C Λ₀ (qk × q0)
                    let (t1, t2) = ws.tmp2.split_at_mut(qk * q0);
                    for i in 0..qk {
                        for j in 0..q0 {
                            let mut v = 0.0;
                            for m in j..q0 {
                                v += c[i * q0 + m] * lam0[m * q0 + j];
                            }
                            t1[i * q0 + j] = v;
                        }
                    }
                    // t2 = (Λ_kᵀ t1)ᵀ  (q0 × qk), then L_g⁻¹ t2 = W_eᵀ.
                    for i in 0..qk {
                        for j in 0..q0 {
                            let mut v = 0.0;
                            for m in i..qk {
                                v += lamk[m * qk + i] * t1[m * q0 + j];
                            }
                            t2[j * qk + i] = v;
                        }
                    }
                    forward_solve(lg, q0, &mut t2[..q0 * qk], qk);
                    let w = &mut ws.w[self.cross_val_off[e]..self.cross_val_off[e] + qk * q0];
                    for i in 0..qk {
                        for j in 0..q0 {
                            w[i * q0 + j] = t2[j * qk + i];
                        }
                    }
                }
                let r0 = &ws.r0[g * q0 * p..(g + 1) * q0 * p];
                let c0 = &ws.c0[g * q0..(g + 1) * q0];
                for e1 in lo..hi {
                    let k1 = self.cross_block[e1];
                    let q1 = self.blocks[k1].q;
                    let s1 = self.cross_start[e1];
                    let w1 = &ws.w[self.cross_val_off[e1]..self.cross_val_off[e1] + q1 * q0];
                    let pairs = if self.downdate.is_some() {
                        lo..lo
                    } else {
                        lo..hi
                    };
                    for e2 in pairs {
                        let k2 = self.cross_block[e2];
                        let q2 = self.blocks[k2].q;
                        let s2 = self.cross_start[e2];
                        let w2 = &ws.w[self.cross_val_off[e2]..self.cross_val_off[e2] + q2 * q0];
                        for a in 0..q1 {
                            for b in 0..q2 {
                                let mut v = 0.0;
                                for m in 0..q0 {
                                    v += w1[a * q0 + m] * w2[b * q0 + m];
                                }
                                s[(s1 + a) * qr + s2 + b] -= v;
                            }
                        }
                    }
                    for a in 0..q1 {
                        for col in 0..p {
                            let mut v = 0.0;
                            for m in 0..q0 {
                                v += w1[a * q0 + m] * r0[m * p + col];
                            }
                            ws.rr[(s1 + a) * p + col] -= v;
                        }
                        let mut v = 0.0;
                        for m in 0..q0 {
                            v += w1[a * q0 + m] * c0[m];
                        }
                        ws.cr[s1 + a] -= v;
                    }
                }
            }
            if let Some(d) = &self.downdate {
                d.apply(s, qr, &ws.w);
            }
            if !cholesky_blocked(s, qr) {
                return None;
            }
            log_det_l += log_det_chol(s, qr);
            forward_solve(s, qr, &mut ws.rr, p);
            forward_solve(s, qr, &mut ws.cr, 1);
            for a in 0..p {
                for b in a..p {
                    let mut v = 0.0;
                    for i in 0..qr {
                        v += ws.rr[i * p + a] * ws.rr[i * p + b];
                    }
                    xtx[a * p + b] -= v;
                }
                let mut v = 0.0;
                for i in 0..qr {
                    v += ws.rr[i * p + a] * ws.cr[i];
                }
                ws.xty[a] -= v;
            }
        }

        // Fixed effects.
        for a in 0..p {
            for b in 0..a {
                xtx[a * p + b] = xtx[b * p + a];
            }
        }
        ws.lx.copy_from_slice(&xtx);
        if !cholesky_in_place(&mut ws.lx, p) {
            return None;
        }
        let log_det_rx = log_det_chol(&ws.lx, p);
        ws.beta.copy_from_slice(&ws.xty);
        forward_solve(&ws.lx, p, &mut ws.beta, 1);
        let cbeta_sq: f64 = ws.beta.iter().map(|v| v * v).sum();
        backward_solve(&ws.lx, p, &mut ws.beta, 1);
        if !full {
            let c_sq: f64 = c0_sq + ws.cr.iter().map(|v| v * v).sum::<f64>();
            let pwrss = self.yty - c_sq - cbeta_sq;
            if pwrss > 1e-6 * self.yty
                && pwrss.is_finite()
                && log_det_l.is_finite()
                && log_det_rx.is_finite()
            {
                return Some(Pls {
                    log_det_l,
                    log_det_rx,
                    pwrss,
                });
            }
        }

        // Spherical random effects u, then b = Λu.
        let beta = &ws.beta;
        let u0_len = l0 * q0;
        if qr > 0 {
            let ur = &mut ws.u[u0_len..];
            for i in 0..qr {
                let mut v = ws.cr[i];
                for c in 0..p {
                    v -= ws.rr[i * p + c] * beta[c];
                }
                ur[i] = v;
            }
            backward_solve(&ws.s, qr, ur, 1);
        }
        {
            let (u0, ur) = ws.u.split_at_mut(u0_len);
            let qq = q0 * q0;
            for g in 0..l0 {
                let ug = &mut u0[g * q0..(g + 1) * q0];
                let r = &ws.r0[g * q0 * p..(g + 1) * q0 * p];
                for i in 0..q0 {
                    let mut v = ws.c0[g * q0 + i];
                    for c in 0..p {
                        v -= r[i * p + c] * beta[c];
                    }
                    ug[i] = v;
                }
                for e in self.cross_ptr[g]..self.cross_ptr[g + 1] {
                    let qk = self.blocks[self.cross_block[e]].q;
                    let st = self.cross_start[e];
                    let w = &ws.w[self.cross_val_off[e]..self.cross_val_off[e] + qk * q0];
                    for i in 0..q0 {
                        let mut v = 0.0;
                        for a in 0..qk {
                            v += w[a * q0 + i] * ur[st + a];
                        }
                        ug[i] -= v;
                    }
                }
                backward_solve(&ws.l0[g * qq..(g + 1) * qq], q0, ug, 1);
            }
        }
        let mut offset = 0;
        for (k, blk) in self.blocks.iter().enumerate() {
            let q = blk.q;
            let lam = &ws.lam[k];
            for j in 0..blk.n_levels {
                let base = offset + j * q;
                for i in 0..q {
                    let mut v = 0.0;
                    for m in 0..=i {
                        v += lam[i * q + m] * ws.u[base + m];
                    }
                    ws.tmp[i] = v;
                }
                ws.b[base..base + q].copy_from_slice(&ws.tmp[..q]);
            }
            offset += blk.n_levels * q;
        }

        // Residuals.
        let mut rss = 0.0;
        let mut offsets = Vec::with_capacity(self.blocks.len());
        let mut off = 0;
        for blk in &self.blocks {
            offsets.push(off);
            off += blk.n_levels * blk.q;
        }
        let resid = &mut ws.resid;
        resid.copy_from_slice(&self.y);
        for c in 0..p {
            let bc = beta[c];
            for (r, xv) in resid.iter_mut().zip(self.x.column(c).iter()) {
                *r -= xv * bc;
            }
        }
        for i in 0..n {
            let mut r = resid[i];
            for (k, blk) in self.blocks.iter().enumerate() {
                let q = blk.q;
                let base = offsets[k] + blk.codes[i] as usize * q;
                let z = &blk.z[i * q..(i + 1) * q];
                for m in 0..q {
                    r -= z[m] * ws.b[base + m];
                }
            }
            rss += r * r;
        }
        let ussq: f64 = ws.u.iter().map(|v| v * v).sum();
        let pwrss = rss + ussq;
        if !pwrss.is_finite() || !log_det_l.is_finite() || !log_det_rx.is_finite() {
            return None;
        }
        Some(Pls {
            log_det_l,
            log_det_rx,
            pwrss,
        })
    }
}

/// Least-squares coefficients of y on X (normal equations with one step of iterative
/// refinement; only used to centre the response, so modest accuracy suffices).
fn least_squares(x: &DMatrix<f64>, y: &[f64]) -> Vec<f64> {
    let p = x.ncols();
    let mut xtx = vec![0.0; p * p];
    for a in 0..p {
        for b in 0..p {
            xtx[a * p + b] = x.column(a).dot(&x.column(b));
        }
    }
    if !cholesky_in_place(&mut xtx, p) {
        return vec![0.0; p];
    }
    let mut beta = vec![0.0; p];
    let mut resid = y.to_vec();
    for _ in 0..2 {
        let mut rhs: Vec<f64> = (0..p)
            .map(|c| x.column(c).iter().zip(&resid).map(|(a, b)| a * b).sum())
            .collect();
        forward_solve(&xtx, p, &mut rhs, 1);
        backward_solve(&xtx, p, &mut rhs, 1);
        for c in 0..p {
            beta[c] += rhs[c];
            for (r, xv) in resid.iter_mut().zip(x.column(c).iter()) {
                *r -= xv * rhs[c];
            }
        }
    }
    if beta.iter().all(|b| b.is_finite()) {
        beta
    } else {
        vec![0.0; p]
    }
}
