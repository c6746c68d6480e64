//! Analytic first derivatives of the deviance with respect to θ, from the factor of the
//! last full [`Model::solve`], for models whose grouping factors after the first have one
//! column each (random intercepts, crossed or nested; the first factor may have any
//! number of columns, as a random slope).
//!
//! With `H = I + ZΛΛᵀZᵀ` (the marginal covariance over σ²), `r̃ = y − Xβ̂ − ZΛû` and
//! `P̃ = H⁻¹ − H⁻¹X(XᵀH⁻¹X)⁻¹XᵀH⁻¹`, the deviance as a function of θ and σ is
//! `log|H| [+ log|XᵀH⁻¹X|] + r̃ᵀr̃/σ²…` (lmerTest's `devfun_vp`), and for each θⱼ, with
//! `∂H/∂θⱼ = Z(EⱼΛᵀ + ΛEⱼᵀ)Zᵀ` (`Eⱼ` the indicator of θⱼ's place in every level's block):
//!
//! ```text
//!   trace_j = tr(P̃ ∂H/∂θⱼ)        (REML; tr(H⁻¹ ∂H/∂θⱼ) for ML)
//!           = 2 Σ_levels [ (A⁻¹ΛᵀZᵀZ)_ba − (F C Y)_ba ]     (the C term for REML only)
//!   quad_j  = r̃ᵀ ∂H/∂θⱼ r̃ = 2 Σ_levels (Zᵀr̃)_a û_b
//! ```
//!
//! where `(a, b)` is θⱼ's (row, column) in a level's block, `A = ΛᵀZᵀZΛ + I = LLᵀ`,
//! `F = A⁻¹ΛᵀZᵀX`, `C = (XᵀH⁻¹X)⁻¹` and `Y = XᵀH⁻¹Z = Xᵀ(Z − ZΛA⁻¹ΛᵀZᵀZ)`. The identity
//! behind the trace is `ΛᵀZᵀP̃Z = A⁻¹ΛᵀZᵀZ − F C Y` (from `P̃ = I − G M⁻¹Gᵀ` with
//! `G = [ZΛ X]` and `M` the penalised normal equations). Only the elements of `A⁻¹` on
//! the pattern of `ZᵀZ` are needed: the dense remainder's `Σ₂₂ = L₂₂⁻ᵀL₂₂⁻¹`, then, as
//! in Takahashi's recurrences, `Σ₂₁ = −Σ₂₂ W L₀⁻¹` on the pattern of `W = L₂₁` and the
//! diagonal blocks `Σ₁₁ = L₀⁻ᵀ(L₀⁻¹ − WᵀΣ₂₁)`.
//!
//! The derivative of the profiled criterion is `trace_j − quad_j / σ̂²`; the Hessian in
//! (θ, σ) for the Satterthwaite df uses the two parts separately. `Y` also gives the
//! derivative of the fixed effects' unscaled covariance: `∂C/∂θⱼ = C Y ∂(ΛΛᵀ)/∂θⱼ Yᵀ C`.

// Index loops mirror the matrix formulas they implement.
#![allow(clippy::needless_range_loop)]

use nalgebra::DMatrix;
use rayon::prelude::*;

use super::super::dense::{backward_solve, chol_inverse, chol_inverse_blocked};
use super::{Model, Workspace};

/// The derivatives at the θ of the last full solve.
pub(in crate::stats::lmm) struct Derivatives {
    /// `tr(P̃ ∂H/∂θⱼ)` (REML) or `tr(H⁻¹ ∂H/∂θⱼ)` (ML).
    pub trace: Vec<f64>,
    /// `r̃ᵀ ∂H/∂θⱼ r̃`.
    pub quad: Vec<f64>,
    /// `Y ∂(ΛΛᵀ)/∂θⱼ Yᵀ` (p × p): minus the derivative of `XᵀH⁻¹X` (empty unless asked
    /// for).
    pub info_x: Vec<DMatrix<f64>>,
}

/// Levels per task of the sums over a term's levels in [`Model::derivatives`].
const LEVEL_CHUNK: usize = 16_384;

/// Buffers of [`Model::derivatives`] kept in the workspace between calls, so that the
/// optimiser's repeated calls neither allocate nor fault in fresh pages each time.
#[derive(Default)]
pub(in crate::stats::lmm) struct Scratch {
    f: Vec<f64>,
    lf: Vec<f64>,
    yt: Vec<f64>,
    ztr: Vec<f64>,
    sigma11: Vec<f64>,
    yl: Vec<f64>,
}

/// `v` as `len` zeros, reusing its allocation.
fn zeroed(v: &mut Vec<f64>, len: usize) -> &mut Vec<f64> {
    v.clear();
    v.resize(len, 0.0);
    v
}

/// One θ element: its term's block, and its (row, column) within a level's block.
struct Place {
    block: usize,
    row: usize,
    col: usize,
}

impl Model {
    /// Whether [`Model::derivatives`] applies: every factor after the first has one
    /// column per level.
    pub fn has_derivatives(&self) -> bool {
        self.blocks.iter().skip(1).all(|b| b.q == 1)
    }

    fn places(&self) -> Vec<Place> {
        let mut places = vec![];
        for t in &self.terms {
            for j in 0..t.width {
                for i in j..t.width {
                    places.push(Place {
                        block: t.block,
                        row: t.offset + i,
                        col: t.offset + j,
                    });
                }
            }
        }
        places
    }

    /// The derivatives at the θ of the last `solve(θ, ws, true)`; `None` when
    /// [`Model::has_derivatives`] is false or a value is not finite. `info_x` is
    /// computed only `with_covariance` (the optimiser does not need it).
    pub fn derivatives(
        &self,
        ws: &mut Workspace,
        reml: bool,
        with_covariance: bool,
    ) -> Option<Derivatives> {
        if !self.has_derivatives() {
            return None;
        }
        let mut scratch = std::mem::take(&mut ws.scratch);
        let d = self.derivatives_with(ws, &mut scratch, reml, with_covariance);
        ws.scratch = scratch;
        d
    }

    fn derivatives_with(
        &self,
        ws: &Workspace,
        scratch: &mut Scratch,
        reml: bool,
        with_covariance: bool,
    ) -> Option<Derivatives> {
        let Scratch {
            f,
            lf,
            yt,
            ztr,
            sigma11,
            yl,
        } = scratch;
        let (n, p, qr) = (self.n, self.p, self.q_rest);
        let (l0, q0) = (self.blocks[0].n_levels, self.blocks[0].q);
        let qq = q0 * q0;
        let q = self.q_total();
        let u0_len = l0 * q0;
        // Offsets of each block in the random-effect vector.
        let offsets: Vec<usize> = self
            .blocks
            .iter()
            .enumerate()
            .map(|(k, b)| if k == 0 { 0 } else { u0_len + b.rest_offset })
            .collect();
        // The cross entries of each remainder index.
        let mut by_rest: Vec<Vec<usize>> = vec![Vec::new(); qr];
        for (e, &i) in self.cross_start.iter().enumerate() {
            by_rest[i].push(e);
        }
        // λ of each remainder index (scalar factors).
        let mut lam_rest = vec![0.0; qr];
        for (k, blk) in self.blocks.iter().enumerate().skip(1) {
            lam_rest[blk.rest_offset..blk.rest_offset + blk.n_levels].fill(ws.lam[k][0]);
        }
        let lam0 = &ws.lam[0];

        // F = A⁻¹ΛᵀZᵀX = L⁻ᵀ R_ZX, q × p row-major.
        let f = zeroed(f, q * p);
        if qr > 0 {
            let fr = &mut f[u0_len * p..];
            fr.copy_from_slice(&ws.rr);
            backward_solve(&ws.s, qr, fr, p);
        }
        {
            // Level by level on the pool (each level's rows on their own).
            let (f0, fr) = f.split_at_mut(u0_len * p);
            let fr: &[f64] = fr;
            f0.par_chunks_mut((q0 * p).max(1))
                .enumerate()
                .for_each(|(g, fg)| {
                    fg.copy_from_slice(&ws.r0[g * q0 * p..(g + 1) * q0 * p]);
                    for e in self.cross_ptr[g]..self.cross_ptr[g + 1] {
                        let i = self.cross_start[e];
                        let w = &ws.w[self.cross_val_off[e]..self.cross_val_off[e] + q0];
                        for a in 0..q0 {
                            for c in 0..p {
                                fg[a * p + c] -= w[a] * fr[i * p + c];
                            }
                        }
                    }
                    backward_solve(&ws.l0[g * qq..(g + 1) * qq], q0, fg, p);
                });
        }
        // ΛF, then Yᵀ = Zᵀ(X − ZΛF) and Zᵀr̃ in one pass over the observations.
        self.lambda_times(ws, &offsets, f, false, lf);
        let yt = zeroed(yt, q * p);
        let ztr = zeroed(ztr, q);
        let mut xi = vec![0.0; p];
        for i in 0..n {
            for c in 0..p {
                xi[c] = self.x[(i, c)];
            }
            for (k, blk) in self.blocks.iter().enumerate() {
                let bq = blk.q;
                let base = offsets[k] + blk.codes[i] as usize * bq;
                let z = &blk.z[i * bq..(i + 1) * bq];
                for m in 0..bq {
                    for c in 0..p {
                        xi[c] -= z[m] * lf[(base + m) * p + c];
                    }
                }
            }
            // `resid` holds y − Xβ̂; the conditional residual also takes off Zb̂.
            let mut ri = ws.resid[i];
            for (k, blk) in self.blocks.iter().enumerate() {
                let bq = blk.q;
                let base = offsets[k] + blk.codes[i] as usize * bq;
                let z = &blk.z[i * bq..(i + 1) * bq];
                for m in 0..bq {
                    ri -= z[m] * ws.b[base + m];
                }
            }
            for (k, blk) in self.blocks.iter().enumerate() {
                let bq = blk.q;
                let base = offsets[k] + blk.codes[i] as usize * bq;
                let z = &blk.z[i * bq..(i + 1) * bq];
                for m in 0..bq {
                    ztr[base + m] += z[m] * ri;
                    for c in 0..p {
                        yt[(base + m) * p + c] += z[m] * xi[c];
                    }
                }
            }
        }
        let cinv = chol_inverse(&ws.lx, p);

        // Selected elements of A⁻¹.
        let sigma22 = if qr > 0 {
            chol_inverse_blocked(&ws.s, qr)
        } else {
            Vec::new()
        };
        // V_e = W_e L_g⁻¹ (L_gᵀ V_eᵀ = W_eᵀ) for every cross entry.
        let mut v = ws.w[..self.cross_val.len()].to_vec();
        for g in 0..l0 {
            let lg = &ws.l0[g * qq..(g + 1) * qq];
            for e in self.cross_ptr[g]..self.cross_ptr[g + 1] {
                let off = self.cross_val_off[e];
                backward_solve(lg, q0, &mut v[off..off + q0], 1);
            }
        }
        // Σ₂₁ on the pattern of W (one q₀ row per cross entry): for the entry e of level
        // g at remainder index i, −Σ_{e₂ of g} Σ₂₂[i, i₂] V_{e₂}. Taken remainder index by
        // remainder index, so that the row Σ₂₂[i, ·] stays in cache for all its entries;
        // each element sums over e₂ in the same order whatever the thread count.
        let mut owner = vec![0usize; self.cross_start.len()];
        for g in 0..l0 {
            owner[self.cross_ptr[g]..self.cross_ptr[g + 1]].fill(g);
        }
        let parts: Vec<Vec<f64>> = (0..qr)
            .into_par_iter()
            .map(|i| {
                let row = &sigma22[i * qr..(i + 1) * qr];
                let mut part = vec![0.0; by_rest[i].len() * q0];
                let (ptr, start, val_off) = (
                    &self.cross_ptr[..],
                    &self.cross_start[..],
                    &self.cross_val_off[..],
                );
                if q0 == 1 {
                    // The usual crossed random intercepts, without the inner loop.
                    for (slot, &e) in by_rest[i].iter().enumerate() {
                        let g = owner[e];
                        let mut acc = 0.0;
                        for e2 in ptr[g]..ptr[g + 1] {
                            acc -= row[start[e2]] * v[val_off[e2]];
                        }
                        part[slot] = acc;
                    }
                    return part;
                }
                for (slot, &e) in by_rest[i].iter().enumerate() {
                    let acc = &mut part[slot * q0..(slot + 1) * q0];
                    let g = owner[e];
                    for e2 in self.cross_ptr[g]..self.cross_ptr[g + 1] {
                        let s = row[self.cross_start[e2]];
                        let off2 = self.cross_val_off[e2];
                        for a in 0..q0 {
                            acc[a] -= s * v[off2 + a];
                        }
                    }
                }
                part
            })
            .collect();
        let mut sigma21 = vec![0.0; self.cross_val.len()];
        for (i, part) in parts.iter().enumerate() {
            for (slot, &e) in by_rest[i].iter().enumerate() {
                let off = self.cross_val_off[e];
                sigma21[off..off + q0].copy_from_slice(&part[slot * q0..(slot + 1) * q0]);
            }
        }
        // Σ₁₁ per level: M = L_g⁻¹ − Σ_e W_eᵀ Σ₂₁[e], then Σ₁₁ = L_g⁻ᵀ M.
        let sigma11 = zeroed(sigma11, l0 * qq);
        sigma11.par_chunks_mut(qq).enumerate().for_each(|(g, m)| {
            let lg = &ws.l0[g * qq..(g + 1) * qq];
            for c in 0..q0 {
                for r in c..q0 {
                    let mut x = if r == c { 1.0 } else { 0.0 };
                    for k in c..r {
                        x -= lg[r * q0 + k] * m[k * q0 + c];
                    }
                    m[r * q0 + c] = x / lg[r * q0 + r];
                }
            }
            for e in self.cross_ptr[g]..self.cross_ptr[g + 1] {
                let off = self.cross_val_off[e];
                for a in 0..q0 {
                    for b in 0..q0 {
                        m[a * q0 + b] -= ws.w[off + a] * sigma21[off + b];
                    }
                }
            }
            backward_solve(lg, q0, m, q0);
        });

        // (F C Y)_ba for the REML term.
        let fcy = |b: usize, a: usize| -> f64 {
            let mut s = 0.0;
            for c1 in 0..p {
                let fb = f[b * p + c1];
                if fb == 0.0 {
                    continue;
                }
                for c2 in 0..p {
                    s += fb * cinv[c1 * p + c2] * yt[a * p + c2];
                }
            }
            s
        };
        // YΛ, for the covariance derivative.
        if with_covariance {
            self.lambda_times(ws, &offsets, yt, true, yl);
        }

        let places = self.places();
        let mut trace = vec![0.0; places.len()];
        let mut quad = vec![0.0; places.len()];
        let mut info_x = Vec::with_capacity(places.len());
        // The sums over one range of a term's levels: (trace, quad, info) parts.
        let sum_levels = |pl: &Place, range: std::ops::Range<usize>| {
            let blk = &self.blocks[pl.block];
            let bq = blk.q;
            let (a_loc, b_loc) = (pl.row, pl.col);
            let mut tr = 0.0;
            let mut qd = 0.0;
            let mut info: DMatrix<f64> = DMatrix::zeros(p, p);
            for level in range {
                let a = offsets[pl.block] + level * bq + a_loc;
                let b = offsets[pl.block] + level * bq + b_loc;
                // (A⁻¹ΛᵀZᵀZ)_ba
                let mut t = 0.0;
                if pl.block == 0 {
                    let g = level;
                    let s11 = &sigma11[g * qq..(g + 1) * qq];
                    let a0 = &self.a0[g * qq..(g + 1) * qq];
                    for mm in 0..q0 {
                        // (Λ₀ᵀ A_g)[mm, a_loc]
                        let mut la = 0.0;
                        for d in mm..q0 {
                            la += lam0[d * q0 + mm] * a0[d * q0 + a_loc];
                        }
                        t += s11[b_loc * q0 + mm] * la;
                    }
                    for e in self.cross_ptr[g]..self.cross_ptr[g + 1] {
                        let i = self.cross_start[e];
                        let off = self.cross_val_off[e];
                        t += sigma21[off + b_loc] * lam_rest[i] * self.cross_val[off + a_loc];
                    }
                } else {
                    let i = blk.rest_offset + level;
                    let row = &sigma22[i * qr..(i + 1) * qr];
                    let zz = &self.zrzr[i * qr..(i + 1) * qr];
                    for mm in 0..qr {
                        t += row[mm] * lam_rest[mm] * zz[mm];
                    }
                    t += self.rest_cross_term(&by_rest[i], &sigma21, lam0);
                }
                if reml {
                    t -= fcy(b, a);
                }
                tr += t;
                qd += ztr[a] * ws.u[b];
                // Y Eⱼ Λᵀ Yᵀ = Y[:, a] (YΛ)[:, b]ᵀ
                if with_covariance {
                    for c1 in 0..p {
                        let ya = yt[a * p + c1];
                        if ya == 0.0 {
                            continue;
                        }
                        for c2 in 0..p {
                            info[(c1, c2)] += ya * yl[b * p + c2];
                        }
                    }
                }
            }
            (tr, qd, info)
        };
        for (j, pl) in places.iter().enumerate() {
            let levels = self.blocks[pl.block].n_levels;
            // Many levels in fixed tasks whose sums are added in task order (the same
            // result whatever the number of threads; one task is one pass).
            let (tr, qd, info) = if levels <= LEVEL_CHUNK {
                sum_levels(pl, 0..levels)
            } else {
                let parts: Vec<(f64, f64, DMatrix<f64>)> = (0..levels.div_ceil(LEVEL_CHUNK))
                    .into_par_iter()
                    .map(|k| sum_levels(pl, k * LEVEL_CHUNK..levels.min((k + 1) * LEVEL_CHUNK)))
                    .collect();
                let mut total = (0.0, 0.0, DMatrix::zeros(p, p));
                for (tr, qd, info) in parts {
                    total.0 += tr;
                    total.1 += qd;
                    total.2 += info;
                }
                total
            };
            trace[j] = 2.0 * tr;
            quad[j] = 2.0 * qd;
            if with_covariance {
                info_x.push(&info + info.transpose());
            }
        }
        let finite = trace.iter().chain(&quad).all(|v| v.is_finite())
            && info_x
                .iter()
                .all(|m: &DMatrix<f64>| m.iter().all(|v| v.is_finite()));
        finite.then_some(Derivatives {
            trace,
            quad,
            info_x,
        })
    }

    /// `Λ M` (or `Λᵀ M` when `transpose`) into `out`, for `M` with q rows of `p` values
    /// (row-major), block by block and level by level.
    fn lambda_times(
        &self,
        ws: &Workspace,
        offsets: &[usize],
        m: &[f64],
        transpose: bool,
        out: &mut Vec<f64>,
    ) {
        let p = self.p;
        let out = zeroed(out, m.len());
        for (k, blk) in self.blocks.iter().enumerate() {
            let bq = blk.q;
            let lam = &ws.lam[k];
            let rows = &mut out[offsets[k] * p..(offsets[k] + blk.n_levels * bq) * p];
            // Level by level on the pool (each level's rows on their own).
            rows.par_chunks_mut((bq * p).max(1))
                .enumerate()
                .for_each(|(j, level)| {
                    let base = offsets[k] + j * bq;
                    for r in 0..bq {
                        let range = if transpose { r..bq } else { 0..r + 1 };
                        for s in range {
                            let l = if transpose {
                                lam[s * bq + r]
                            } else {
                                lam[r * bq + s]
                            };
                            if l != 0.0 {
                                for c in 0..p {
                                    level[r * p + c] += l * m[(base + s) * p + c];
                                }
                            }
                        }
                    }
                });
        }
    }

    /// `Σ_g Σ₂₁[i, g] · (Λ₀ᵀ Z_gᵀ z_i)`: the block-0 part of `(A⁻¹ΛᵀZᵀZ)_ii` for
    /// the remainder index whose cross entries are `entries`.
    fn rest_cross_term(&self, entries: &[usize], sigma21: &[f64], lam0: &[f64]) -> f64 {
        let q0 = self.blocks[0].q;
        let mut t = 0.0;
        for &e in entries {
            let off = self.cross_val_off[e];
            for mm in 0..q0 {
                let mut lc = 0.0;
                for d in mm..q0 {
                    lc += lam0[d * q0 + mm] * self.cross_val[off + d];
                }
                t += sigma21[off + mm] * lc;
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::super::{Model, TermInput};

    /// X, y, the codes of each factor and the columns of each term.
    type Crossed = (DMatrix<f64>, Vec<f64>, Vec<Vec<u32>>, Vec<DMatrix<f64>>);

    /// A crossed design with a random slope on the first factor: `(1 + t | a)`,
    /// `(1 | b)`, `(1 | c)`, n = 400, unbalanced.
    fn crossed() -> Crossed {
        let n = 400;
        let mut next = crate::test_support::uniform_stream(7);
        let mut x = DMatrix::zeros(n, 3);
        let mut y = vec![0.0; n];
        let (mut ca, mut cb, mut cc) = (vec![0u32; n], vec![0u32; n], vec![0u32; n]);
        let mut za = DMatrix::zeros(n, 2);
        let eff_a: Vec<f64> = (0..25).map(|_| next() - 0.5).collect();
        let eff_b: Vec<f64> = (0..9).map(|_| next() - 0.5).collect();
        for i in 0..n {
            let t = (i % 4) as f64;
            x[(i, 0)] = 1.0;
            x[(i, 1)] = t;
            x[(i, 2)] = next();
            ca[i] = ((next() * 25.0) as u32).min(24);
            cb[i] = ((next() * 9.0) as u32).min(8);
            cc[i] = ((next() * 5.0) as u32).min(4);
            za[(i, 0)] = 1.0;
            za[(i, 1)] = t;
            y[i] = 1.0
                + 0.3 * t
                + 2.0 * eff_a[ca[i] as usize] * (1.0 + 0.2 * t)
                + eff_b[cb[i] as usize]
                + next();
        }
        let ones = DMatrix::from_element(n, 1, 1.0);
        (x, y, vec![ca, cb, cc], vec![za, ones.clone(), ones])
    }

    fn model(groups: &[&str]) -> Model {
        let (x, y, codes, zs) = crossed();
        let levels = [25, 9, 5];
        let inputs: Vec<TermInput<'_>> = (0..groups.len())
            .map(|k| TermInput {
                group: groups[k],
                codes: &codes[k],
                n_levels: levels[k],
                z: &zs[k],
            })
            .collect();
        Model::new(&x, &y, &inputs)
    }

    fn objective(m: &Model, theta: &[f64], reml: bool) -> f64 {
        let mut ws = m.workspace();
        let s = m.solve(theta, &mut ws, true).expect("solvable");
        let df = if reml { m.n - m.p } else { m.n } as f64;
        let mut d = s.log_det_l + df * (1.0 + (2.0 * std::f64::consts::PI * s.pwrss / df).ln());
        if reml {
            d += s.log_det_rx;
        }
        d
    }

    /// `XᵀH⁻¹X = R_XᵀR_X` at θ.
    fn xhx(m: &Model, theta: &[f64]) -> DMatrix<f64> {
        let mut ws = m.workspace();
        m.solve(theta, &mut ws, true).expect("solvable");
        let p = m.p;
        let l = DMatrix::from_fn(p, p, |i, j| ws.lx[i * p + j]);
        &l * l.transpose()
    }

    fn check(groups: &[&str], theta: &[f64]) {
        let m = model(groups);
        assert!(m.has_derivatives());
        for reml in [true, false] {
            let mut ws = m.workspace();
            let s = m.solve(theta, &mut ws, true).expect("solvable");
            let d = m.derivatives(&mut ws, reml, true).expect("derivatives");
            let df = if reml { m.n - m.p } else { m.n } as f64;
            let sigma2 = s.pwrss / df;
            for j in 0..theta.len() {
                let h = 1e-5;
                let (mut tp, mut tm) = (theta.to_vec(), theta.to_vec());
                tp[j] += h;
                tm[j] -= h;
                let numeric = (objective(&m, &tp, reml) - objective(&m, &tm, reml)) / (2.0 * h);
                let analytic = d.trace[j] - d.quad[j] / sigma2;
                assert!(
                    (numeric - analytic).abs() <= 1e-5 * (1.0 + numeric.abs()),
                    "θ{j} (REML {reml}): numeric {numeric}, analytic {analytic}"
                );
                let numeric_info = (xhx(&m, &tm) - xhx(&m, &tp)) / (2.0 * h);
                let err = (&numeric_info - &d.info_x[j]).amax();
                assert!(
                    err <= 1e-5 * (1.0 + numeric_info.amax()),
                    "θ{j}: ∂XᵀH⁻¹X differs by {err}"
                );
            }
        }
    }

    #[test]
    fn derivatives_of_a_crossed_model_with_a_random_slope_agree_with_differences() {
        check(&["a", "b", "c"], &[0.9, 0.2, 0.4, 0.7, 0.3]);
    }

    #[test]
    fn derivatives_of_a_single_factor_agree_with_differences() {
        let m = model(&["a"]);
        assert_eq!(m.q_rest, 0);
        check(&["a"], &[0.8, -0.1, 0.3]);
    }

    #[test]
    fn derivatives_of_crossed_intercepts_agree_with_differences() {
        // Only the scalar factors: (1 | b) + (1 | c) with b first.
        let (x, y, codes, zs) = crossed();
        let ones = zs[1].clone();
        let inputs = [
            TermInput {
                group: "b",
                codes: &codes[1],
                n_levels: 9,
                z: &ones,
            },
            TermInput {
                group: "c",
                codes: &codes[2],
                n_levels: 5,
                z: &ones,
            },
        ];
        let m = Model::new(&x, &y, &inputs);
        gradient_agrees_with_differences(&m, &[0.6, 0.25]);
    }

    /// The gradient of the profiled criterion (REML and ML) against central differences.
    fn gradient_agrees_with_differences(m: &Model, theta: &[f64]) {
        for reml in [true, false] {
            let mut ws = m.workspace();
            let s = m.solve(theta, &mut ws, true).expect("solvable");
            let d = m.derivatives(&mut ws, reml, false).expect("derivatives");
            let df = if reml { m.n - m.p } else { m.n } as f64;
            for j in 0..theta.len() {
                let h = 1e-5;
                let (mut tp, mut tm) = (theta.to_vec(), theta.to_vec());
                tp[j] += h;
                tm[j] -= h;
                let numeric = (objective(m, &tp, reml) - objective(m, &tm, reml)) / (2.0 * h);
                let analytic = d.trace[j] - d.quad[j] * df / s.pwrss;
                assert!(
                    (numeric - analytic).abs() <= 1e-5 * (1.0 + numeric.abs()),
                    "θ{j} (REML {reml}): numeric {numeric}, analytic {analytic}"
                );
            }
        }
    }

    /// Many levels (more than one task of [`super::super::block0::BLOCK0_CHUNK`] and
    /// [`super::LEVEL_CHUNK`]): a random slope over 40,000 subjects, 2 observations each,
    /// crossed with a 7-level factor.
    fn many_levels() -> Model {
        let subjects = 40_000;
        let n = 2 * subjects;
        let mut next = crate::test_support::uniform_stream(11);
        let mut x = DMatrix::zeros(n, 2);
        let mut y = vec![0.0; n];
        let (mut ca, mut cb) = (vec![0u32; n], vec![0u32; n]);
        let mut za = DMatrix::zeros(n, 2);
        for i in 0..n {
            let t = (i % 2) as f64;
            x[(i, 0)] = 1.0;
            x[(i, 1)] = t;
            ca[i] = (i / 2) as u32;
            cb[i] = ((next() * 7.0) as u32).min(6);
            za[(i, 0)] = 1.0;
            za[(i, 1)] = t;
            y[i] = 0.5 * t + next() + next() * t + 0.3 * f64::from(cb[i]);
        }
        let ones = DMatrix::from_element(n, 1, 1.0);
        let inputs = [
            TermInput {
                group: "a",
                codes: &ca,
                n_levels: subjects,
                z: &za,
            },
            TermInput {
                group: "b",
                codes: &cb,
                n_levels: 7,
                z: &ones,
            },
        ];
        Model::new(&x, &y, &inputs)
    }

    #[test]
    fn many_levels_are_summed_the_same_whatever_the_thread_count() {
        let m = many_levels();
        let theta = [0.7, 0.1, 0.4, 0.5];
        let run = || {
            let mut ws = m.workspace();
            let s = m.solve(&theta, &mut ws, true).expect("solvable");
            let d = m.derivatives(&mut ws, true, true).expect("derivatives");
            let cheap = m.solve(&theta, &mut ws, false).expect("solvable");
            (s, cheap, d)
        };
        let (s1, c1, d1) = crate::test_support::on_threads(1, run);
        let (s2, c2, d2) = crate::test_support::on_threads(2, run);
        assert_eq!(s1.log_det_l.to_bits(), s2.log_det_l.to_bits());
        assert_eq!(c1.pwrss.to_bits(), c2.pwrss.to_bits());
        assert_eq!(d1.trace, d2.trace);
        assert_eq!(d1.quad, d2.quad);
        assert_eq!(d1.info_x, d2.info_x);
        // The tasks' sums agree with the residuals themselves: the cheap criterion
        // (from the downdated XᵀX, Xᵀy and ‖c‖²) and the full one (‖y − Xβ − Zb‖² + ‖u‖²).
        let rel = (c1.pwrss - s1.pwrss).abs() / s1.pwrss;
        assert!(rel < 1e-10, "pwrss {} vs {}", c1.pwrss, s1.pwrss);
    }

    #[test]
    fn derivatives_over_many_levels_agree_with_differences() {
        gradient_agrees_with_differences(&many_levels(), &[0.7, 0.1, 0.4, 0.5]);
    }
}
