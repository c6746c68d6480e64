//! Demeaning: a column's residual from its (weighted) projection on the fixed effects,
//! by Gauss–Seidel sweeps over the fixed-effect coefficients with Irons & Tuck's
//! extrapolation (see "Numerical approach" in [`super`]).

use nalgebra::DMatrix;
use rayon::prelude::*;

use super::index::FixedEffectIndex;
use crate::stats::worker_threads;

/// Per-level sums of a weight vector, inverted.
pub(super) struct LevelWeights<'w> {
    weights: Option<&'w [f64]>,
    inverse: Vec<f64>,
}

/// What one demeaning did.
#[derive(Debug, Clone, Copy)]
pub(super) struct Demeaned {
    pub(super) sweeps: usize,
    pub(super) converged: bool,
    /// The weighted standard deviation of the column before demeaning.
    pub(super) scale: f64,
}

/// Scratch vectors of one demeaning, reused across columns and IRLS iterations.
#[derive(Default)]
pub(super) struct Workspace {
    sv: Vec<f64>,
    acc: Vec<f64>,
    x: Vec<f64>,
    gx: Vec<f64>,
    ggx: Vec<f64>,
}

impl FixedEffectIndex<'_> {
    /// The inverted per-level sums of `weights` (of ones when `None`) that a demeaning
    /// with these weights divides by.
    pub(super) fn level_weights<'w>(&self, weights: Option<&'w [f64]>) -> LevelWeights<'w> {
        let mut inverse = vec![0.0; self.n_coef()];
        for (q, codes) in self.codes.iter().enumerate() {
            let sums = &mut inverse[self.offsets[q]..self.offsets[q + 1]];
            match weights {
                Some(w) => {
                    for (&c, &wi) in codes.iter().zip(w) {
                        sums[c as usize] += wi;
                    }
                }
                None => {
                    for &c in codes.iter() {
                        sums[c as usize] += 1.0;
                    }
                }
            }
            for s in sums.iter_mut() {
                *s = if *s > 0.0 { 1.0 / *s } else { 0.0 };
            }
        }
        LevelWeights { weights, inverse }
    }

    /// Replaces `v` by its residual from the weighted projection on the fixed effects.
    /// `coef` (length `n_coef()`) holds the fixed-effect coefficients of `v`: read as a
    /// warm start, written with the solution.
    pub(super) fn demean(
        &self,
        lw: &LevelWeights<'_>,
        v: &mut [f64],
        coef: &mut [f64],
        ws: &mut Workspace,
        tol: f64,
        max_sweeps: usize,
    ) -> Demeaned {
        let n_fe = self.n_fe();
        let n_coef = self.n_coef();
        // Weighted level sums of v, and its weighted mean and standard deviation (one
        // pass, with the data shifted by v[0] so that a constant column has exactly 0).
        ws.sv.clear();
        ws.sv.resize(n_coef, 0.0);
        let shift = v.first().copied().unwrap_or(0.0);
        let (mut sw, mut swd, mut swd2) = (0.0, 0.0, 0.0);
        for i in 0..self.n {
            let wi = lw.weights.map_or(1.0, |w| w[i]);
            let wv = wi * v[i];
            let d = v[i] - shift;
            sw += wi;
            swd += wi * d;
            swd2 += wi * d * d;
            for q in 0..n_fe {
                ws.sv[self.offsets[q] + self.codes[q][i] as usize] += wv;
            }
        }
        let (mean, scale) = if sw > 0.0 {
            let md = swd / sw;
            (shift + md, (swd2 / sw - md * md).max(0.0).sqrt())
        } else {
            (0.0, 0.0)
        };
        if n_fe == 0 {
            return Demeaned {
                sweeps: 0,
                converged: true,
                scale,
            };
        }
        if scale <= 0.0 || scale.is_nan() {
            // A constant column: the fixed effects absorb it exactly.
            v.iter_mut().for_each(|x| *x = 0.0);
            coef.iter_mut().for_each(|c| *c = 0.0);
            coef[..self.offsets[1]].iter_mut().for_each(|c| *c = mean);
            return Demeaned {
                sweeps: 0,
                converged: true,
                scale,
            };
        }
        let mut sweeps = 1;
        let mut converged = true;
        if n_fe == 1 {
            for (c, (s, inv)) in coef.iter_mut().zip(ws.sv.iter().zip(&lw.inverse)) {
                *c = s * inv;
            }
        } else {
            let m = n_coef - self.offsets[1];
            let threshold = tol * scale;
            ws.x.clear();
            ws.x.extend_from_slice(&coef[self.offsets[1]..]);
            ws.gx.resize(m, 0.0);
            ws.ggx.resize(m, 0.0);
            let mut acc = std::mem::take(&mut ws.acc);
            self.sweep(lw, &ws.sv, coef, &ws.x, &mut ws.gx, &mut acc);
            let mut keep_going = max_abs_diff(&ws.x, &ws.gx) > threshold;
            while keep_going && sweeps < max_sweeps {
                self.sweep(lw, &ws.sv, coef, &ws.gx, &mut ws.ggx, &mut acc);
                sweeps += 1;
                if max_abs_diff(&ws.gx, &ws.ggx) <= threshold {
                    // Converged without extrapolation (e.g. a balanced panel, exact
                    // after one sweep).
                    std::mem::swap(&mut ws.gx, &mut ws.ggx);
                    keep_going = false;
                    break;
                }
                irons_tuck(&mut ws.x, &ws.gx, &ws.ggx);
                self.sweep(lw, &ws.sv, coef, &ws.x, &mut ws.gx, &mut acc);
                sweeps += 1;
                keep_going = max_abs_diff(&ws.x, &ws.gx) > threshold;
            }
            converged = !keep_going;
            // `coef` holds the state of the last sweep: the others' final values and the
            // first fixed effect's from the sweep's start, which is within tolerance.
            debug_assert!(coef[self.offsets[1]..] == ws.gx[..]);
            ws.acc = acc;
        }
        // v − Σ_q α_q[g_q(i)].
        match n_fe {
            1 => {
                let g0 = &self.codes[0];
                for i in 0..self.n {
                    v[i] -= coef[g0[i] as usize];
                }
            }
            2 => {
                let (g0, g1) = (&self.codes[0], &self.codes[1]);
                let (a0, a1) = coef.split_at(self.offsets[1]);
                for i in 0..self.n {
                    v[i] -= a0[g0[i] as usize] + a1[g1[i] as usize];
                }
            }
            _ => {
                for i in 0..self.n {
                    let mut s = 0.0;
                    for q in 0..n_fe {
                        s += coef[self.offsets[q] + self.codes[q][i] as usize];
                    }
                    v[i] -= s;
                }
            }
        }
        Demeaned {
            sweeps,
            converged,
            scale,
        }
    }

    /// One Gauss–Seidel sweep: with the coefficients of fixed effects 1.. set to `input`,
    /// recompute fixed effect 0, then 1, 2, ... in turn; `output` receives the new
    /// coefficients of fixed effects 1...
    fn sweep(
        &self,
        lw: &LevelWeights<'_>,
        sv: &[f64],
        coef: &mut [f64],
        input: &[f64],
        output: &mut [f64],
        acc: &mut Vec<f64>,
    ) {
        let start = self.offsets[1];
        coef[start..].copy_from_slice(input);
        for q in 0..self.n_fe() {
            self.update(q, lw, sv, coef, acc);
        }
        output.copy_from_slice(&coef[start..]);
    }

    /// α_q[l] = (Σ_{i in l} wᵢ vᵢ − Σ_{i in l} wᵢ Σ_{h≠q} α_h[g_h(i)]) / Σ_{i in l} wᵢ.
    fn update(
        &self,
        q: usize,
        lw: &LevelWeights<'_>,
        sv: &[f64],
        coef: &mut [f64],
        acc: &mut Vec<f64>,
    ) {
        let size = self.sizes[q];
        acc.clear();
        acc.resize(size, 0.0);
        let gq = &self.codes[q];
        if self.n_fe() == 2 {
            let other = 1 - q;
            let go = &self.codes[other];
            let co = &coef[self.offsets[other]..self.offsets[other + 1]];
            match lw.weights {
                Some(w) => {
                    for i in 0..self.n {
                        acc[gq[i] as usize] += w[i] * co[go[i] as usize];
                    }
                }
                None => {
                    for i in 0..self.n {
                        acc[gq[i] as usize] += co[go[i] as usize];
                    }
                }
            }
        } else {
            for i in 0..self.n {
                let mut s = 0.0;
                for h in 0..self.n_fe() {
                    if h != q {
                        s += coef[self.offsets[h] + self.codes[h][i] as usize];
                    }
                }
                acc[gq[i] as usize] += lw.weights.map_or(s, |w| w[i] * s);
            }
        }
        let base = self.offsets[q];
        for l in 0..size {
            coef[base + l] = (sv[base + l] - acc[l]) * lw.inverse[base + l];
        }
    }

    /// Adds each column's fixed-effect part back: the inverse of [`Self::demean`]. A
    /// column without coefficients yet is left alone.
    pub(super) fn restore_columns(&self, x: &mut DMatrix<f64>, coefs: &[Vec<f64>]) {
        let n = self.n;
        for (col, coef) in x.as_mut_slice().chunks_mut(n.max(1)).zip(coefs) {
            if coef.len() != self.n_coef() {
                continue;
            }
            for i in 0..n {
                let mut s = 0.0;
                for q in 0..self.n_fe() {
                    s += coef[self.offsets[q] + self.codes[q][i] as usize];
                }
                col[i] += s;
            }
        }
    }

    /// Demeans several columns, each with its own coefficients, on the threads of the
    /// caller's rayon pool. Each column's computation is independent of the others' and
    /// the outcomes come back in column order, so the result does not depend on the
    /// number of threads.
    pub(super) fn demean_columns(
        &self,
        lw: &LevelWeights<'_>,
        columns: Vec<(&mut [f64], &mut Vec<f64>)>,
        tol: f64,
        max_sweeps: usize,
    ) -> Vec<Demeaned> {
        let n_coef = self.n_coef();
        let run = |ws: &mut Workspace, (v, coef): (&mut [f64], &mut Vec<f64>)| {
            coef.resize(n_coef, 0.0);
            self.demean(lw, v, coef, ws, tol, max_sweeps)
        };
        if columns.len() < 2 || worker_threads() == 1 {
            let mut ws = Workspace::default();
            return columns.into_iter().map(|c| run(&mut ws, c)).collect();
        }
        // One column per task: a column is a whole demeaning, and there are few of them.
        columns
            .into_par_iter()
            .with_max_len(1)
            .map_init(Workspace::default, run)
            .collect()
    }
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()))
}

/// Irons & Tuck (1969) extrapolation from X, G(X), G(G(X)), in place in `x`.
fn irons_tuck(x: &mut [f64], gx: &[f64], ggx: &[f64]) {
    let (mut vprod, mut ssq) = (0.0, 0.0);
    for i in 0..x.len() {
        let d_gx = ggx[i] - gx[i];
        let d2 = d_gx - gx[i] + x[i];
        vprod += d_gx * d2;
        ssq += d2 * d2;
    }
    if ssq > 0.0 && ssq.is_finite() {
        let coef = vprod / ssq;
        for i in 0..x.len() {
            x[i] = ggx[i] - coef * (ggx[i] - gx[i]);
        }
    } else {
        x.copy_from_slice(ggx);
    }
}
