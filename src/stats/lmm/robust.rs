//! Cluster-robust (sandwich) covariance of the fixed effects of a linear mixed model.
//!
//! With the marginal covariance `V = σ² (I + Z Λ Λᵀ Zᵀ)` of the fit as working
//! covariance, `Cov(β̂) = B M B` with `B = (Xᵀ V⁻¹ X)⁻¹` and
//! `M = Σ_c Xᵢᵀ V_c⁻¹ r_c r_cᵀ V_c⁻¹ X_c` over the clusters `c` of the outermost grouping
//! factor (Liang & Zeger 1986), times `G / (G − 1)` for `G` clusters (CR1, as
//! clubSandwich's `vcovCR(fit, type = "CR1")`). The intervals use `G − 1` degrees of
//! freedom. It stays valid when the random-effects model of the covariance is wrong, e.g.
//! when the residual variance differs between waves.

use nalgebra::{DMatrix, DVector};

use super::LmmFit;
use crate::stats::design::{Design, RandomEffectBlock};

/// The cluster-robust covariance and what it rests on.
#[derive(Debug, Clone)]
pub struct RobustVcov {
    pub vcov: DMatrix<f64>,
    /// The grouping factor whose levels are the clusters.
    pub cluster_by: String,
    pub clusters: usize,
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
}

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

/// The CR1 cluster-robust covariance of the fixed effects; clusters are the levels of
/// the grouping factor with the fewest levels, in which every other must be nested.
pub fn cluster_robust_vcov(
    fit: &LmmFit,
    design: &Design,
    blocks: &[RandomEffectBlock],
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
        for i in 0..n {
            let g = block.group_codes[i] as usize;
            if home[g] == u32::MAX {
                home[g] = cluster[i];
            } else if home[g] != cluster[i] && b != outer {
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
    let sigma2 = fit.sigma * fit.sigma;
    let mut bread = DMatrix::<f64>::zeros(p, p);
    let mut meat = DMatrix::<f64>::zeros(p, p);
    for members in rows.iter().filter(|r| !r.is_empty()) {
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
        v *= sigma2;
        let chol = v.cholesky().ok_or(RobustError::Singular)?;
        let xc = DMatrix::from_fn(m, p, |a, k| x[(members[a], k)]);
        let rc = DVector::from_fn(m, |a, _| residual[members[a]]);
        let vinv_x = chol.solve(&xc);
        bread += xc.transpose() * &vinv_x;
        let score = vinv_x.transpose() * rc;
        meat += &score * score.transpose();
    }
    let bread = bread.try_inverse().ok_or(RobustError::Singular)?;
    let g = clusters as f64;
    let vcov = (&bread * meat * &bread) * (g / (g - 1.0));
    Ok(RobustVcov {
        vcov,
        cluster_by: blocks[outer].group_name.clone(),
        clusters,
    })
}
