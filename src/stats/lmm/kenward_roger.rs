//! Kenward & Roger's (1997) small-sample adjustment for the fixed effects of a REML fit:
//! the adjusted covariance `Φ_A` of β̂ and the denominator degrees of freedom of a test of
//! `Lβ`, with the conventions of pbkrtest 0.5.2 (`vcovAdj`, `Lb_ddf`), which lmerTest
//! 3.1 uses for `ddf = "Kenward-Roger"`.
//!
//! The marginal covariance is linear in the covariance parameters γ:
//!
//! ```text
//!   Σ = Σᵣ γᵣ Gᵣ,   Gᵣ = Z_t (I_L ⊗ E_ab) Z_tᵀ  (element (a, b) of term t's covariance),
//!                   G_last = I_n                  (the residual variance σ²)
//! ```
//!
//! where `E_ab` has ones at (a, b) and (b, a) — pbkrtest's parameterisation (the lower
//! triangle of each term's covariance matrix, column by column, then σ²). Because Σ is
//! linear in γ, the second-derivative terms `R_rs` of Kenward & Roger vanish. With
//! `Φ = Cov(β̂)` of the fit, `Pᵣ = −XᵀΣ⁻¹GᵣΣ⁻¹X`, `Q_rs = XᵀΣ⁻¹GᵣΣ⁻¹G_sΣ⁻¹X` and the
//! expected information `I_rs = ½ [tr(Σ⁻¹GᵣΣ⁻¹G_s) − 2 tr(Φ Q_rs) + tr(Φ Pᵣ Φ P_s)]`,
//! `W = I⁻¹` (a pseudo-inverse when I is numerically singular, as pbkrtest), and
//!
//! ```text
//!   Φ_A = Φ + 2 Φ [Σᵣ Σ_s W_rs (Q_rs − Pᵣ Φ P_s)] Φ.
//! ```
//!
//! The df of `H₀: Lβ = 0` (L with k rows) follow Kenward & Roger's moment matching with
//! `A₁ = Σ W_rs tr(Θ Φ Pᵣ Φ) tr(Θ Φ P_s Φ)`, `A₂ = Σ W_rs tr(Θ Φ Pᵣ Φ Θ Φ P_s Φ)`,
//! `Θ = Lᵀ (L Φ Lᵀ)⁻¹ L` (pbkrtest's `Lb_ddf`, with the unadjusted Φ).
//!
//! Numerics. Nothing of size n × n is formed: with `W = [Z X]`, the relative covariance
//! factor Λ (Σ = σ² (I + ZΛΛᵀZᵀ)) and `C = I + ΛᵀZᵀZΛ`, Woodbury's identity gives
//! `Σ⁻¹ W = W (I − [ΛC⁻¹ΛᵀZᵀW; 0]) / σ²`, so `WᵀΣ⁻¹W`, `WᵀΣ⁻²W`, `XᵀΣ⁻³X` and
//! `tr Σ⁻² = (n − q + ‖C⁻¹‖²_F) / σ⁴` all come from the cross-product `WᵀW`. The cost is
//! O(n·(r + p)²) for the cross-product (r random-effect columns per row) plus a few dense
//! products of size (q + p)³, q the number of random effects, and about six dense
//! (q + p) × (q + p) matrices in memory; q is limited to [`KR_MAX_RANDOM_EFFECTS`]
//! (2500: about 50 MB per matrix, tens of seconds).
//!
//! ## References
//! - Kenward MG, Roger JH (1997). Small sample inference for fixed effects from
//!   restricted maximum likelihood. *Biometrics* 53(3), 983–997.
//! - Halekoh U, Højsgaard S (2014). A Kenward-Roger approximation and parametric
//!   bootstrap methods for tests in linear mixed models — the R package pbkrtest.
//!   *Journal of Statistical Software* 59(9), 1–32. doi:10.18637/jss.v059.i09

// Index loops mirror the matrix formulas they implement.
#![allow(clippy::needless_range_loop)]

use nalgebra::{DMatrix, SymmetricEigen};

/// Largest number of random effects q for which Kenward–Roger is computed (dense
/// (q + p)² matrices; see the module documentation).
pub const KR_MAX_RANDOM_EFFECTS: usize = 2500;

/// Why the Kenward–Roger adjustment could not be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KrError {
    #[error("Kenward-Roger degrees of freedom need a REML fit (as lmerTest and pbkrtest); fit with REML or use Satterthwaite df")]
    NeedsReml,
    #[error("Kenward-Roger: the model has {q} random effects, more than the {limit} for which the adjustment is computed (it needs dense matrices of that size); use Satterthwaite df instead (`--df satterthwaite`; in a plan, survey.standard_errors = \"model\")")]
    TooLarge { q: usize, limit: usize },
    #[error("Kenward-Roger: {0}")]
    Numerical(String),
}

/// One random-effect term as the adjustment needs it: the group of every observation,
/// the term's columns of Z (n × w) and the covariance matrix of its random effects
/// (w × w, on the scale of the data, as lme4's `VarCorr`).
pub(super) struct KrTerm<'a> {
    pub codes: &'a [u32],
    pub n_levels: usize,
    pub z: &'a DMatrix<f64>,
    pub covariance: DMatrix<f64>,
}

/// What the adjustment needs from a converged REML fit.
pub(super) struct KrInput<'a> {
    pub x: &'a DMatrix<f64>,
    pub terms: Vec<KrTerm<'a>>,
    /// The residual variance σ².
    pub sigma2: f64,
    /// `Cov(β̂)` of the fit (lme4's `vcov`).
    pub vcov: &'a DMatrix<f64>,
}

/// The adjusted covariance and what the df of any `Lβ` need.
#[derive(Clone, Debug, PartialEq)]
pub struct KenwardRoger {
    /// `Φ_A`, pbkrtest's `vcovAdj`.
    pub vcov_adjusted: DMatrix<f64>,
    /// The unadjusted `Φ`.
    vcov: DMatrix<f64>,
    /// `Pᵣ`, one p × p matrix per covariance parameter.
    p_mats: Vec<DMatrix<f64>>,
    /// `W = 2 I_E⁻¹` (pbkrtest's `W`).
    w: DMatrix<f64>,
}

/// One covariance parameter: element (a, b) of term t's covariance, or σ².
#[derive(Clone, Copy, Debug)]
enum Param {
    Random {
        offset: usize,
        width: usize,
        levels: usize,
        a: usize,
        b: usize,
    },
    Residual,
}

impl Param {
    /// The nonzero entries (row, column) of `I_L ⊗ E_ab` in the random-effect index.
    fn entries(&self) -> Vec<(usize, usize)> {
        match *self {
            Param::Random {
                offset,
                width,
                levels,
                a,
                b,
            } => {
                let mut e = Vec::with_capacity(levels * 2);
                for l in 0..levels {
                    let base = offset + l * width;
                    e.push((base + a, base + b));
                    if a != b {
                        e.push((base + b, base + a));
                    }
                }
                e
            }
            Param::Residual => Vec::new(),
        }
    }
}

/// `E B` for the sparse symmetric indicator E given by its entries.
fn apply_entries(entries: &[(usize, usize)], b: &DMatrix<f64>) -> DMatrix<f64> {
    let mut out = DMatrix::zeros(b.nrows(), b.ncols());
    for &(i, j) in entries {
        for c in 0..b.ncols() {
            out[(i, c)] += b[(j, c)];
        }
    }
    out
}

/// A square root R of a positive semi-definite matrix S (R Rᵀ = S).
fn psd_factor(s: &DMatrix<f64>) -> DMatrix<f64> {
    let eig = SymmetricEigen::new(s.clone());
    let mut r = eig.eigenvectors.clone();
    for (c, &ev) in eig.eigenvalues.iter().enumerate() {
        let f = ev.max(0.0).sqrt();
        r.column_mut(c).scale_mut(f);
    }
    r
}

/// The Moore–Penrose inverse with MASS::ginv's tolerance (√ε times the largest
/// singular value).
fn pseudo_inverse(a: &DMatrix<f64>) -> DMatrix<f64> {
    let svd = a.clone().svd(true, true);
    let max_sv = svd.singular_values.iter().copied().fold(0.0, f64::max);
    let tol = f64::EPSILON.sqrt() * max_sv;
    svd.pseudo_inverse(tol)
        .unwrap_or_else(|_| DMatrix::from_element(a.nrows(), a.ncols(), f64::NAN))
}

fn frobenius_dot(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

impl KenwardRoger {
    /// Computes `Φ_A`, `Pᵣ` and `W` from a converged REML fit.
    ///
    /// # Errors
    /// [`KrError::TooLarge`] beyond [`KR_MAX_RANDOM_EFFECTS`] random effects (checked
    /// before anything large is allocated); [`KrError::Numerical`] when Σ is not
    /// positive definite.
    pub(super) fn new(input: &KrInput<'_>) -> Result<KenwardRoger, KrError> {
        let x = input.x;
        let (n, p) = (x.nrows(), x.ncols());
        let q: usize = input.terms.iter().map(|t| t.n_levels * t.z.ncols()).sum();
        if q > KR_MAX_RANDOM_EFFECTS {
            return Err(KrError::TooLarge {
                q,
                limit: KR_MAX_RANDOM_EFFECTS,
            });
        }
        let s2 = input.sigma2;
        if !(s2.is_finite() && s2 > 0.0) {
            return Err(KrError::Numerical(format!("the residual variance is {s2}")));
        }
        let m = q + p;

        // Layout of the random effects and the parameters, in pbkrtest's order.
        let mut offsets = Vec::with_capacity(input.terms.len());
        let mut params = Vec::new();
        let mut off = 0;
        for t in &input.terms {
            let w = t.z.ncols();
            offsets.push(off);
            for b in 0..w {
                for a in b..w {
                    params.push(Param::Random {
                        offset: off,
                        width: w,
                        levels: t.n_levels,
                        a,
                        b,
                    });
                }
            }
            off += t.n_levels * w;
        }
        params.push(Param::Residual);

        // WᵀW with W = [Z X], from the sparse rows of Z.
        let mut gram = DMatrix::<f64>::zeros(m, m);
        let mut idx: Vec<usize> = Vec::new();
        let mut val: Vec<f64> = Vec::new();
        for i in 0..n {
            idx.clear();
            val.clear();
            for (t, term) in input.terms.iter().enumerate() {
                let w = term.z.ncols();
                let base = offsets[t] + term.codes[i] as usize * w;
                for c in 0..w {
                    idx.push(base + c);
                    val.push(term.z[(i, c)]);
                }
            }
            for c in 0..p {
                idx.push(q + c);
                val.push(x[(i, c)]);
            }
            for (u, &iu) in idx.iter().enumerate() {
                let vu = val[u];
                if vu == 0.0 {
                    continue;
                }
                for (v, &iv) in idx.iter().enumerate() {
                    gram[(iu, iv)] += vu * val[v];
                }
            }
        }

        // Λ as one factor per term (R Rᵀ = covariance / σ²), applied block by block.
        let factors: Vec<DMatrix<f64>> = input
            .terms
            .iter()
            .map(|t| psd_factor(&(&t.covariance / s2)))
            .collect();
        // Λᵀ B (transpose = true) or Λ B on the first q rows of B.
        let lambda_rows = |b: &DMatrix<f64>, transpose: bool| -> DMatrix<f64> {
            let mut out = DMatrix::zeros(q, b.ncols());
            for (t, term) in input.terms.iter().enumerate() {
                let w = term.z.ncols();
                let r = &factors[t];
                for l in 0..term.n_levels {
                    let base = offsets[t] + l * w;
                    for i in 0..w {
                        for k in 0..w {
                            let f = if transpose { r[(k, i)] } else { r[(i, k)] };
                            if f == 0.0 {
                                continue;
                            }
                            for c in 0..b.ncols() {
                                out[(base + i, c)] += f * b[(base + k, c)];
                            }
                        }
                    }
                }
            }
            out
        };
        let zl_w = lambda_rows(&gram.rows(0, q).into_owned(), true); // ΛᵀZᵀW, q × m
                                                                     // ΛᵀZᵀZΛ = (Λᵀ (ΛᵀZᵀZ)ᵀ)ᵀ; symmetric.
        let zt_zl = zl_w.columns(0, q).transpose(); // ZᵀZΛ
        let a = lambda_rows(&zt_zl, true);
        let mut c = a;
        for i in 0..q {
            c[(i, i)] += 1.0;
        }
        let c = (&c + c.transpose()) * 0.5;
        let chol = c
            .cholesky()
            .ok_or_else(|| KrError::Numerical("I + ΛᵀZᵀZΛ is not positive definite".into()))?;
        let c_inv = chol.inverse();
        let t_mat = chol.solve(&zl_w); // C⁻¹ΛᵀZᵀW, q × m

        let k1 = (&gram - zl_w.transpose() * &t_mat) / s2; // WᵀΣ⁻¹W
                                                           // Σ⁻¹W = W · cm.
        let lt = lambda_rows(&t_mat, false);
        let mut cm = DMatrix::<f64>::identity(m, m);
        for i in 0..q {
            for j in 0..m {
                cm[(i, j)] -= lt[(i, j)];
            }
        }
        cm /= s2;
        let k2 = cm.transpose() * (&gram * &cm); // WᵀΣ⁻²W
        let cm_x = cm.columns(q, p).into_owned();
        let x3 = cm_x.transpose() * (&k1 * &cm_x); // XᵀΣ⁻³X
        let tr_s2 = (n as f64 - q as f64 + c_inv.iter().map(|v| v * v).sum::<f64>()) / (s2 * s2);

        let m1 = k1.view((0, 0), (q, q)).into_owned();
        let n1 = k1.view((0, q), (q, p)).into_owned();
        let m2 = k2.view((0, 0), (q, q)).into_owned();
        let n2 = k2.view((0, q), (q, p)).into_owned();
        let x2 = k2.view((q, q), (p, p)).into_owned();
        let phi = input.vcov.clone();

        let g = params.len();
        let entries: Vec<Vec<(usize, usize)>> = params.iter().map(Param::entries).collect();
        // Eᵣ N₁ per random parameter.
        let e_n1: Vec<DMatrix<f64>> = entries.iter().map(|e| apply_entries(e, &n1)).collect();
        let p_mats: Vec<DMatrix<f64>> = params
            .iter()
            .enumerate()
            .map(|(r, par)| match par {
                Param::Random { .. } => -(n1.transpose() * &e_n1[r]),
                Param::Residual => -x2.clone(),
            })
            .collect();
        let m1_e_n1: Vec<DMatrix<f64>> = e_n1.iter().map(|en| &m1 * en).collect();
        let q_mat = |r: usize, s: usize| -> DMatrix<f64> {
            match (params[r], params[s]) {
                (Param::Random { .. }, Param::Random { .. }) => e_n1[r].transpose() * &m1_e_n1[s],
                (Param::Random { .. }, Param::Residual) => e_n1[r].transpose() * &n2,
                (Param::Residual, Param::Random { .. }) => n2.transpose() * &e_n1[s],
                (Param::Residual, Param::Residual) => x3.clone(),
            }
        };
        let k_trace = |r: usize, s: usize| -> f64 {
            match (params[r], params[s]) {
                (Param::Random { .. }, Param::Random { .. }) => {
                    let mut sum = 0.0;
                    for &(i, j) in &entries[r] {
                        for &(k, l) in &entries[s] {
                            sum += m1[(j, k)] * m1[(l, i)];
                        }
                    }
                    sum
                }
                (Param::Random { .. }, Param::Residual) => {
                    entries[r].iter().map(|&(i, j)| m2[(j, i)]).sum()
                }
                (Param::Residual, Param::Random { .. }) => {
                    entries[s].iter().map(|&(i, j)| m2[(j, i)]).sum()
                }
                (Param::Residual, Param::Residual) => tr_s2,
            }
        };

        let mut qs: Vec<Vec<Option<DMatrix<f64>>>> = vec![vec![None; g]; g];
        let mut info = DMatrix::<f64>::zeros(g, g);
        for r in 0..g {
            let phi_pr = &phi * &p_mats[r];
            for s in r..g {
                let qrs = q_mat(r, s);
                // tr(Φ Pᵣ Φ P_s) = Σ (Φ Pᵣ) ∘ (P_s Φ), elementwise.
                let pphi = &p_mats[s] * &phi;
                let v =
                    k_trace(r, s) - 2.0 * frobenius_dot(&phi, &qrs) + frobenius_dot(&phi_pr, &pphi);
                info[(r, s)] = v;
                info[(s, r)] = v;
                qs[r][s] = Some(qrs);
            }
        }
        if info.iter().any(|v| !v.is_finite()) {
            return Err(KrError::Numerical(
                "the information matrix of the covariance parameters is not finite".into(),
            ));
        }
        let eig = SymmetricEigen::new(info.clone());
        let condition = eig
            .eigenvalues
            .iter()
            .map(|v| v.abs())
            .fold(f64::INFINITY, f64::min);
        let inv = if condition > 1e-10 {
            info.clone()
                .try_inverse()
                .unwrap_or_else(|| pseudo_inverse(&info))
        } else {
            pseudo_inverse(&info)
        };
        let w = (&inv + inv.transpose()) * 1.0; // 2 · (I⁻¹ + I⁻ᵀ)/2

        let mut u = DMatrix::<f64>::zeros(p, p);
        for r in 0..g {
            for s in (r + 1)..g {
                let qrs = qs[r][s].as_ref().expect("Q computed for r ≤ s");
                u += (qrs - &p_mats[r] * &phi * &p_mats[s]) * w[(r, s)];
            }
        }
        u = &u + u.transpose();
        for r in 0..g {
            let qrr = qs[r][r].as_ref().expect("Q computed for r ≤ s");
            u += (qrr - &p_mats[r] * &phi * &p_mats[r]) * w[(r, r)];
        }
        let vcov_adjusted = &phi + (&phi * u * &phi) * 2.0;
        if vcov_adjusted.iter().any(|v| !v.is_finite()) {
            return Err(KrError::Numerical(
                "the adjusted covariance is not finite".into(),
            ));
        }
        Ok(KenwardRoger {
            vcov_adjusted,
            vcov: phi,
            p_mats,
            w,
        })
    }

    /// `Lᵀ Φ_A L` for one row L.
    pub fn variance(&self, l: &[f64]) -> f64 {
        let p = l.len();
        let mut s = 0.0;
        for i in 0..p {
            for j in 0..p {
                s += l[i] * self.vcov_adjusted[(i, j)] * l[j];
            }
        }
        s
    }

    /// The denominator df of the test of `Lβ = 0`, L with one row per hypothesis
    /// (pbkrtest's `Lb_ddf`). NaN when `L Φ Lᵀ` is singular.
    pub fn df(&self, l: &DMatrix<f64>) -> f64 {
        let k = l.nrows() as f64;
        let phi = &self.vcov;
        let Some(middle) = (l * phi * l.transpose()).try_inverse() else {
            return f64::NAN;
        };
        let theta_phi = l.transpose() * middle * l * phi;
        let us: Vec<DMatrix<f64>> = self.p_mats.iter().map(|pm| &theta_phi * pm * phi).collect();
        let g = us.len();
        let (mut a1, mut a2) = (0.0, 0.0);
        for i in 0..g {
            for j in i..g {
                let e = if i == j { 1.0 } else { 2.0 };
                a1 += e * self.w[(i, j)] * us[i].trace() * us[j].trace();
                a2 += e * self.w[(i, j)] * frobenius_dot(&us[i], &us[j].transpose());
            }
        }
        let b = (a1 + 6.0 * a2) / (2.0 * k);
        let g = ((k + 1.0) * a1 - (k + 4.0) * a2) / ((k + 2.0) * a2);
        let denom = 3.0 * k + 2.0 * (1.0 - g);
        let c1 = g / denom;
        let c2 = (k - g) / denom;
        let c3 = (k + 2.0 - g) / denom;
        let mut v0 = 1.0 + c1 * b;
        let v1 = 1.0 - c2 * b;
        let v2 = 1.0 - c3 * b;
        if v0.abs() < 1e-10 {
            v0 = 0.0;
        }
        let x = 1.0 - a2 / k;
        let ratio = if x.abs() < 1e-14 && v1.abs() < 1e-14 {
            1.0
        } else {
            x / v1
        };
        let rho = ratio * ratio * v0 / (k * v2);
        4.0 + (k + 2.0) / (k * rho - 1.0)
    }

    /// The df of a single contrast `lᵀβ`.
    pub fn df_row(&self, l: &[f64]) -> f64 {
        self.df(&DMatrix::from_row_slice(1, l.len(), l))
    }
}

#[cfg(test)]
mod tests {
    //! Against lmerTest 3.1-3 / pbkrtest 0.5.2 (tests/reference/lmm/kr/kr_reference.R),
    //! lme4 pushed to convergence.

    use serde_json::Value;

    use super::super::{fit_lmm, DfMethod, LmmError, LmmOptions, Method};
    use super::KrError;
    use crate::stats::design::{model_matrix, random_effect_design, ColumnData, DataSet};
    use crate::stats::formula::parse;
    use crate::test_support::{assert_close, CONVERGED};

    /// The acceptance tolerances of the issue: standard errors (relative) and df
    /// (relative, i.e. 1e-3 of 20 df is 0.02).
    const SE: f64 = 1e-5;
    const DF: f64 = 1e-3;
    /// What the comparisons reach in practice (both fits converged to about 1e-8 in θ):
    /// checked too, so that a regression inside the acceptance band is seen.
    const SE_REACHED: f64 = 1e-6;
    const DF_REACHED: f64 = 1e-5;

    fn data_file(name: &str) -> &'static str {
        match name {
            "sleepstudy.csv" => include_str!("../../../tests/reference/lmm/sleepstudy.csv"),
            "pastes.csv" => include_str!("../../../tests/reference/lmm/pastes.csv"),
            "penicillin.csv" => include_str!("../../../tests/reference/lmm/penicillin.csv"),
            "orthodont.csv" => include_str!("../../../tests/reference/lmm/orthodont.csv"),
            "survey_panel.csv" => include_str!("../../../tests/reference/lmm/survey_panel.csv"),
            "sleepstudy_unbalanced.csv" => {
                include_str!("../../../tests/reference/lmm/kr/sleepstudy_unbalanced.csv")
            }
            _ => panic!("unknown data file {name}"),
        }
    }

    fn reference(name: &str) -> Value {
        let text = match name {
            "kr_sleepstudy_slope" => {
                include_str!("../../../tests/reference/lmm/kr/kr_sleepstudy_slope.json")
            }
            "kr_sleepstudy_unbalanced" => {
                include_str!("../../../tests/reference/lmm/kr/kr_sleepstudy_unbalanced.json")
            }
            "kr_orthodont_slope" => {
                include_str!("../../../tests/reference/lmm/kr/kr_orthodont_slope.json")
            }
            "kr_orthodont_intercept" => {
                include_str!("../../../tests/reference/lmm/kr/kr_orthodont_intercept.json")
            }
            "kr_pastes_nested" => {
                include_str!("../../../tests/reference/lmm/kr/kr_pastes_nested.json")
            }
            "kr_penicillin_crossed" => {
                include_str!("../../../tests/reference/lmm/kr/kr_penicillin_crossed.json")
            }
            "kr_survey_panel" => {
                include_str!("../../../tests/reference/lmm/kr/kr_survey_panel.json")
            }
            _ => panic!("unknown reference {name}"),
        };
        serde_json::from_str(text).expect("reference JSON parses")
    }

    /// A CSV with a header; a column whose values all parse as numbers (or are `NA`) is
    /// numeric, with NaN for `NA`.
    fn read_csv(text: &str) -> DataSet {
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let rows: Vec<Vec<&str>> = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').collect())
            .collect();
        let mut data = DataSet::new();
        for (c, name) in header.iter().enumerate() {
            let values: Vec<&str> = rows.iter().map(|r| r[c]).collect();
            let numbers: Option<Vec<f64>> = values
                .iter()
                .map(|v| {
                    if *v == "NA" {
                        Some(f64::NAN)
                    } else {
                        v.parse::<f64>().ok()
                    }
                })
                .collect();
            let column = match numbers {
                Some(v) => ColumnData::Numeric(v),
                None => {
                    ColumnData::from_strings(&values.iter().map(|v| Some(*v)).collect::<Vec<_>>())
                }
            };
            data.push(*name, column).expect("column");
        }
        data
    }

    fn nums(v: &Value) -> Vec<f64> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect()
    }

    fn fit(formula: &str, file: &str, method: Method) -> Result<super::super::LmmFit, LmmError> {
        let data = read_csv(data_file(file));
        let f = parse(formula).expect("formula parses");
        let design = model_matrix(&f, &data).expect("design");
        let random = random_effect_design(&f, &data, &design.rows).expect("random design");
        let options = LmmOptions {
            method,
            df: DfMethod::KenwardRoger,
            ..LmmOptions::default()
        };
        fit_lmm(&design, &random, &options)
    }

    /// Fits the case, compares every coefficient row, Φ_A and the contrasts; returns the
    /// largest relative differences of the SEs and the df.
    fn check_case(name: &str) -> (f64, f64) {
        let r = reference(name);
        let file = r["data_file"].as_str().expect("data_file");
        let file = file.rsplit('/').next().expect("file name");
        let formula = r["formula"].as_str().expect("formula");
        let fit = fit(formula, file, Method::Reml).expect("fit");
        assert!(fit.converged, "{name}: converged");
        assert_eq!(
            fit.n_obs as f64,
            r["n_obs"].as_f64().expect("n_obs"),
            "{name}: n_obs"
        );
        assert_eq!(fit.df_method, DfMethod::KenwardRoger);
        let fe = &r["fixed_effects"];
        let (est, se, df) = (
            nums(&fe["estimate"]),
            nums(&fe["std_error"]),
            nums(&fe["df"]),
        );
        let (t, pv) = (nums(&fe["statistic"]), nums(&fe["p_value"]));
        let (lo, hi) = (nums(&fe["conf_low"]), nums(&fe["conf_high"]));
        assert_eq!(fit.fixed_effects.len(), est.len(), "{name}: coefficients");
        let (mut worst_se, mut worst_df) = (0.0f64, 0.0f64);
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
        for (j, c) in fit.fixed_effects.iter().enumerate() {
            let what = format!("{name} {}", c.term);
            assert_close(&format!("{what} estimate"), c.estimate, est[j], SE);
            assert_close(&format!("{what} SE"), c.std_error, se[j], SE_REACHED);
            let d = c.df.expect("KR df");
            assert_close(&format!("{what} df"), d, df[j], DF_REACHED);
            assert_close(&format!("{what} t"), c.statistic, t[j], SE);
            assert_close(&format!("{what} p"), c.p_value, pv[j], DF);
            assert_close(&format!("{what} conf_low"), c.conf_low, lo[j], SE);
            assert_close(&format!("{what} conf_high"), c.conf_high, hi[j], SE);
            worst_se = worst_se.max(rel(c.std_error, se[j]));
            worst_df = worst_df.max(rel(d, df[j]));
        }
        let adj = fit.kenward_roger().expect("KR parts");
        for (i, row) in r["vcov_adjusted"]
            .as_array()
            .expect("rows")
            .iter()
            .enumerate()
        {
            for (j, v) in nums(row).iter().enumerate() {
                let scale = (adj.vcov_adjusted[(i, i)] * adj.vcov_adjusted[(j, j)]).sqrt();
                assert!(
                    (adj.vcov_adjusted[(i, j)] - v).abs() <= 2.0 * SE_REACHED * scale,
                    "{name}: vcovAdj[{i},{j}] {} vs {v}",
                    adj.vcov_adjusted[(i, j)]
                );
            }
        }
        for c in r["contrasts"].as_array().expect("contrasts") {
            let cname = c["name"].as_str().expect("name");
            let l = nums(&c["L"]);
            let ours = fit.contrast(&l).expect("contrast");
            let what = format!("{name} contrast {cname}");
            let num = |k: &str| c[k].as_f64().expect("number");
            assert_close(
                &format!("{what} estimate"),
                ours.estimate,
                num("estimate"),
                SE,
            );
            assert_close(
                &format!("{what} SE"),
                ours.std_error,
                num("std_error"),
                SE_REACHED,
            );
            let d = ours.df.expect("df");
            assert_close(&format!("{what} df"), d, num("df"), DF_REACHED);
            assert_close(
                &format!("{what} pbkrtest df"),
                d,
                num("pbkrtest_ddf"),
                DF_REACHED,
            );
            assert_close(&format!("{what} p"), ours.p_value, num("p_value"), DF);
            assert_close(
                &format!("{what} conf_low"),
                ours.conf_low,
                num("conf_low"),
                SE,
            );
            assert_close(
                &format!("{what} conf_high"),
                ours.conf_high,
                num("conf_high"),
                SE,
            );
            worst_se = worst_se.max(rel(ours.std_error, num("std_error")));
            worst_df = worst_df.max(rel(d, num("df")));
        }
        assert!(
            worst_se <= SE && worst_df <= DF,
            "{name}: acceptance tolerances"
        );
        eprintln!("{name}: largest relative difference SE {worst_se:.2e}, df {worst_df:.2e}");
        (worst_se, worst_df)
    }

    #[test]
    fn sleepstudy_random_slope_matches_pbkrtest() {
        check_case("kr_sleepstudy_slope");
    }

    #[test]
    fn unbalanced_sleepstudy_with_missing_values_matches_pbkrtest() {
        check_case("kr_sleepstudy_unbalanced");
    }

    #[test]
    fn orthodont_random_slope_matches_pbkrtest() {
        check_case("kr_orthodont_slope");
    }

    #[test]
    fn orthodont_random_intercept_matches_pbkrtest() {
        check_case("kr_orthodont_intercept");
    }

    #[test]
    fn pastes_nested_matches_pbkrtest() {
        check_case("kr_pastes_nested");
    }

    #[test]
    fn penicillin_crossed_matches_pbkrtest() {
        check_case("kr_penicillin_crossed");
    }

    #[test]
    fn survey_panel_matches_pbkrtest() {
        check_case("kr_survey_panel");
    }

    #[test]
    fn kenward_roger_needs_reml() {
        let e = fit(
            "Reaction ~ Days + (Days | Subject)",
            "sleepstudy.csv",
            Method::Ml,
        )
        .expect_err("ML with KR is refused");
        assert_eq!(e, LmmError::KenwardRoger(KrError::NeedsReml));
        assert!(e.to_string().contains("REML"), "{e}");
    }

    /// Beyond [`KR_MAX_RANDOM_EFFECTS`] random effects the adjustment is refused with a
    /// message that names the size and the alternative, instead of running out of
    /// memory; the same model with Satterthwaite df fits.
    #[test]
    fn too_many_random_effects_are_refused() {
        let groups = super::KR_MAX_RANDOM_EFFECTS + 100;
        let n = groups * 2;
        let y: Vec<f64> = (0..n)
            .map(|i| ((i * 7919) % 101) as f64 / 10.0 + (i / 2 % 13) as f64)
            .collect();
        let ids: Vec<String> = (0..n).map(|i| format!("g{:05}", i / 2)).collect();
        let mut data = DataSet::new();
        data.push("y", ColumnData::Numeric(y)).expect("column");
        data.push(
            "id",
            ColumnData::from_strings(&ids.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>()),
        )
        .expect("column");
        let f = parse("y ~ 1 + (1 | id)").expect("formula parses");
        let design = model_matrix(&f, &data).expect("design");
        let random = random_effect_design(&f, &data, &design.rows).expect("random design");
        let mut options = LmmOptions {
            df: DfMethod::KenwardRoger,
            ..LmmOptions::default()
        };
        let e = fit_lmm(&design, &random, &options).expect_err("too large for KR");
        assert_eq!(
            e,
            LmmError::KenwardRoger(KrError::TooLarge {
                q: groups,
                limit: super::KR_MAX_RANDOM_EFFECTS
            })
        );
        assert!(e.to_string().contains("Satterthwaite"), "{e}");
        options.df = DfMethod::Satterthwaite;
        assert!(fit_lmm(&design, &random, &options).is_ok());
    }

    /// In a balanced design the adjusted covariance of the fixed-effect intercept of
    /// a one-way model equals the unadjusted one (Kenward & Roger 1997, section 4: the
    /// adjustment vanishes when β̂ does not depend on the variance parameters), and the
    /// df are those of the between-group stratum, groups − 1.
    #[test]
    fn balanced_one_way_model_needs_no_adjustment() {
        let fit = fit("strength ~ 1 + (1 | batch)", "pastes.csv", Method::Reml).expect("fit");
        let kr = fit.kenward_roger().expect("KR parts");
        assert_close(
            "Φ_A = Φ",
            kr.vcov_adjusted[(0, 0)],
            fit.vcov()[(0, 0)],
            CONVERGED,
        );
        assert_close(
            "df = batches − 1",
            fit.fixed_effects[0].df.expect("df"),
            9.0,
            CONVERGED,
        );
    }
}
