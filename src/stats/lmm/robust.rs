//! Cluster-robust (sandwich) covariance of the fixed effects of a linear mixed model.
//!
//! With the marginal covariance `V = σ² (I + Z Λ Λᵀ Zᵀ)` of the fit as working
//! covariance, `W = V⁻¹` and `M = (Xᵀ W X)⁻¹`, `Cov(β̂) = M (Σ_c X_cᵀ W_c A_c r_c r_cᵀ A_c W_c X_c) M`
//! over the clusters `c` of the outermost grouping factor (Liang & Zeger 1986):
//!
//! - **CR1**: `A_c = I`, times `G / (G − 1)` for `G` clusters; tests on `G − 1` df
//!   (clubSandwich's `vcovCR(fit, type = "CR1")`).
//! - **CR2** (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018, *J Bus Econ Stat*
//!   36:672): `A_c = D_cᵀ B_c^{-1/2} D_c` with `V_c = D_cᵀ D_c` (Cholesky) and
//!   `B_c = D_c (V_c − X_c M X_cᵀ) D_cᵀ`, which makes the variance unbiased when the
//!   working model is right; tests on Satterthwaite df under the working model
//!   (clubSandwich's `vcovCR(fit, type = "CR2")` with `coef_test(..., test =
//!   "Satterthwaite")`, its defaults). With few clusters (e.g. 8 practices) CR1 is too
//!   small and its `G − 1` df too many; CR2 corrects both.
//!
//! For a contrast `c`, with `m = M c`, `u_j = A_j W_j X_j m`, `b_j = X_jᵀ u_j` and
//! `s_j = u_jᵀ V_j u_j`, the CR2 variance is the quadratic form `Σ_j (u_jᵀ e_j)²` in the
//! residuals, whose mean and variance under the working model give
//! `df = (Σ_j s_j − b_jᵀ M b_j)² / Σ_ij Ω_ij²` with `Ω_ij = δ_ij s_j − b_iᵀ M b_j`, and
//! `Σ_ij (b_iᵀ M b_j)² = tr(M Q M Q)`, `Q = Σ_j b_j b_jᵀ`, so no `G × G` matrix is formed.
//! Both stay valid when the random-effects model of the covariance is wrong, e.g. when
//! the residual variance differs between waves.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::LmmFit;
use crate::stats::design::{Design, RandomEffectBlock};

/// The small-sample correction of the cluster-robust covariance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RobustType {
    /// `G / (G − 1)` times the sandwich; `G − 1` df.
    Cr1,
    /// Bias-reduced linearisation; Satterthwaite df per contrast.
    #[default]
    Cr2,
}

impl RobustType {
    /// "CR1" or "CR2".
    pub fn name(self) -> &'static str {
        match self {
            RobustType::Cr1 => "CR1",
            RobustType::Cr2 => "CR2",
        }
    }
}

/// The cluster-robust covariance and what it rests on.
#[derive(Debug, Clone)]
pub struct RobustVcov {
    pub vcov: DMatrix<f64>,
    pub kind: RobustType,
    /// The grouping factor whose levels are the clusters.
    pub cluster_by: String,
    pub clusters: usize,
    /// CR2: what the Satterthwaite df of a contrast needs.
    pub cr2: Option<Cr2Df>,
}

/// Per-cluster matrices for the Satterthwaite df of CR2 contrasts: `M`, and per
/// cluster `K_j = X_jᵀ F_j` and `L_j = F_jᵀ V_j F_j` with `F_j = A_j W_j X_j`, so
/// that `b_j = K_j m` and `s_j = mᵀ L_j m` for `m = M c`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cr2Df {
    m: DMatrix<f64>,
    k: Vec<DMatrix<f64>>,
    l: Vec<DMatrix<f64>>,
}

impl Cr2Df {
    /// Satterthwaite degrees of freedom of the CR2 variance of the contrast `c`.
    pub fn df(&self, c: &[f64]) -> f64 {
        let m = &self.m * DVector::from_column_slice(c);
        let p = m.len();
        let (mut mean, mut diagonal) = (0.0, 0.0);
        let mut q = DMatrix::<f64>::zeros(p, p);
        for (k, l) in self.k.iter().zip(&self.l) {
            let b = k * &m;
            let s = (m.transpose() * l * &m)[(0, 0)];
            let bmb = (b.transpose() * &self.m * &b)[(0, 0)];
            mean += s - bmb;
            diagonal += s * s - 2.0 * s * bmb;
            q += &b * b.transpose();
        }
        let mq = &self.m * q;
        let cross = (&mq * &mq).trace();
        let variance = diagonal + cross;
        if variance > 0.0 {
            mean * mean / variance
        } else {
            f64::NAN
        }
    }
}

/// Why the robust covariance could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RobustError {
    #[error("robust standard errors need the design's response")]
    NoResponse,
    #[error("robust standard errors need random effects nested in one grouping factor; `{0}` is not nested in `{1}`")]
    NotNested(String, String),
    #[error("robust standard errors need at least 2 clusters")]
    TooFewClusters,
    #[error("the random-effect term `{0}` is not one of the fit's")]
    UnknownTerm(String),
    #[error("the marginal covariance of a cluster is not positive definite")]
    Singular,
    #[error("CR2 standard errors work with clusters of up to {limit} observations; `{cluster_by}` has one of {size}: use CR1")]
    ClusterTooLarge {
        cluster_by: String,
        size: usize,
        limit: usize,
    },
}

/// Largest cluster CR2 handles (its adjustment needs an eigendecomposition of the
/// cluster's covariance).
pub const CR2_MAX_CLUSTER_SIZE: usize = 2_000;

/// The covariance matrix `Σ_b / σ²` = Λ Λᵀ of each block's random effects, from θ.
fn relative_covariances(
    fit: &LmmFit,
    blocks: &[RandomEffectBlock],
) -> Result<Vec<DMatrix<f64>>, RobustError> {
    // θ holds, per term in lme4's order, the lower triangle of Λ column by column
    // (correlated terms) or its diagonal.
    let mut used = vec![false; blocks.len()];
    let mut order = Vec::new();
    for term in &fit.random_terms {
        let b = (0..blocks.len())
            .find(|&b| !used[b] && blocks[b].term == *term)
            .ok_or_else(|| RobustError::UnknownTerm(term.clone()))?;
        used[b] = true;
        order.push(b);
    }
    let mut out = vec![DMatrix::zeros(0, 0); blocks.len()];
    let mut at = 0;
    for b in order {
        let q = blocks[b].z.ncols();
        let mut lambda = DMatrix::<f64>::zeros(q, q);
        if blocks[b].correlated {
            for j in 0..q {
                for i in j..q {
                    lambda[(i, j)] = fit.theta.get(at).copied().unwrap_or(0.0);
                    at += 1;
                }
            }
        } else {
            for j in 0..q {
                lambda[(j, j)] = fit.theta.get(at).copied().unwrap_or(0.0);
                at += 1;
            }
        }
        out[b] = &lambda * lambda.transpose();
    }
    Ok(out)
}

/// The cluster-robust covariance of the fixed effects; clusters are the levels of the
/// grouping factor with the fewest levels, in which every other must be nested.
pub fn cluster_robust_vcov(
    fit: &LmmFit,
    design: &Design,
    blocks: &[RandomEffectBlock],
    kind: RobustType,
) -> Result<RobustVcov, RobustError> {
    let y = design.response.as_ref().ok_or(RobustError::NoResponse)?;
    let x = &design.x;
    let (n, p) = x.shape();
    let outer = (0..blocks.len())
        .min_by_key(|&b| (blocks[b].group_levels.len(), b))
        .ok_or(RobustError::TooFewClusters)?;
    let cluster = &blocks[outer].group_codes;
    let clusters = blocks[outer].group_levels.len();
    if clusters < 2 {
        return Err(RobustError::TooFewClusters);
    }
    // Every other grouping factor's levels must lie inside one cluster.
    for (b, block) in blocks.iter().enumerate() {
        let mut home = vec![u32::MAX; block.group_levels.len()];
        for (&code, &c) in block.group_codes.iter().zip(cluster.iter()).take(n) {
            let g = code as usize;
            if home[g] == u32::MAX {
                home[g] = c;
            } else if home[g] != c && b != outer {
                return Err(RobustError::NotNested(
                    block.group_name.clone(),
                    blocks[outer].group_name.clone(),
                ));
            }
        }
    }
    let covariances = relative_covariances(fit, blocks)?;
    let beta = DVector::from_vec(fit.coefficients());
    let residual = y - x * &beta;
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); clusters];
    for i in 0..n {
        rows[cluster[i] as usize].push(i);
    }
    let rows: Vec<Vec<usize>> = rows.into_iter().filter(|r| !r.is_empty()).collect();
    if kind == RobustType::Cr2 {
        if let Some(size) = rows
            .iter()
            .map(Vec::len)
            .max()
            .filter(|&m| m > CR2_MAX_CLUSTER_SIZE)
        {
            return Err(RobustError::ClusterTooLarge {
                cluster_by: blocks[outer].group_name.clone(),
                size,
                limit: CR2_MAX_CLUSTER_SIZE,
            });
        }
    }
    let sigma2 = fit.sigma * fit.sigma;
    // The marginal covariance V_c of a cluster's rows.
    let marginal = |members: &[usize]| -> DMatrix<f64> {
        let m = members.len();
        let mut v = DMatrix::<f64>::identity(m, m);
        for (block, cov) in blocks.iter().zip(&covariances) {
            for (a, &i) in members.iter().enumerate() {
                for (c, &j) in members.iter().enumerate() {
                    if block.group_codes[i] == block.group_codes[j] {
                        let zi = block.z.row(i);
                        let zj = block.z.row(j);
                        v[(a, c)] += (zi * cov * zj.transpose())[(0, 0)];
                    }
                }
            }
        }
        v * sigma2
    };
    let cluster_x =
        |members: &[usize]| DMatrix::from_fn(members.len(), p, |a, k| x[(members[a], k)]);
    let cluster_r =
        |members: &[usize]| DVector::from_fn(members.len(), |a, _| residual[members[a]]);

    // M = (Xᵀ W X)⁻¹, and the CR1 meat on the way.
    let mut information = DMatrix::<f64>::zeros(p, p);
    let mut meat = DMatrix::<f64>::zeros(p, p);
    for members in &rows {
        let chol = marginal(members).cholesky().ok_or(RobustError::Singular)?;
        let xc = cluster_x(members);
        let w_x = chol.solve(&xc);
        information += xc.transpose() * &w_x;
        if kind == RobustType::Cr1 {
            let score = w_x.transpose() * cluster_r(members);
            meat += &score * score.transpose();
        }
    }
    let m = information.try_inverse().ok_or(RobustError::Singular)?;
    let g = clusters as f64;
    let (vcov, cr2) = match kind {
        RobustType::Cr1 => ((&m * meat * &m) * (g / (g - 1.0)), None),
        RobustType::Cr2 => {
            let mut k_list = Vec::with_capacity(rows.len());
            let mut l_list = Vec::with_capacity(rows.len());
            for members in &rows {
                let v = marginal(members);
                let chol = v.clone().cholesky().ok_or(RobustError::Singular)?;
                // V = L Lᵀ, so D = Lᵀ and A = L B^{-1/2} Lᵀ with B = Lᵀ (V − X M Xᵀ) L.
                let lower = chol.l();
                let xc = cluster_x(members);
                let b = lower.transpose() * (&v - &xc * &m * xc.transpose()) * &lower;
                let a = &lower * symmetric_inverse_sqrt(b) * lower.transpose();
                let f = &a * chol.solve(&xc);
                let score = f.transpose() * cluster_r(members);
                meat += &score * score.transpose();
                k_list.push(xc.transpose() * &f);
                l_list.push(f.transpose() * &v * &f);
            }
            (
                &m * meat * &m,
                Some(Cr2Df {
                    m: m.clone(),
                    k: k_list,
                    l: l_list,
                }),
            )
        }
    };
    Ok(RobustVcov {
        vcov,
        kind,
        cluster_by: blocks[outer].group_name.clone(),
        clusters,
        cr2,
    })
}

/// `B^{-1/2}` of a symmetric positive semi-definite matrix, with eigenvalues below
/// 1e-12 treated as zero (clubSandwich's `Sym_power`).
fn symmetric_inverse_sqrt(b: DMatrix<f64>) -> DMatrix<f64> {
    let b = (&b + b.transpose()) * 0.5;
    let eigen = SymmetricEigen::new(b);
    let powered = eigen
        .eigenvalues
        .map(|v| if v > 1e-12 { 1.0 / v.sqrt() } else { 0.0 });
    &eigen.eigenvectors * DMatrix::from_diagonal(&powered) * eigen.eigenvectors.transpose()
}
