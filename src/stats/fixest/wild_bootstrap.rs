//! The restricted wild cluster bootstrap (WCR) of a least-squares fit with fixed effects:
//! p-values for H0: β_k = r and confidence intervals by test inversion, computed with the
//! algebra of Roodman, MacKinnon, Nielsen & Webb (2019) so that no draw refits the model.

use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::index::{dense_codes, FixedEffectIndex};
use super::{FeFamily, FeFit};

/// The distribution of the bootstrap weight drawn for each cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootstrapWeights {
    /// ±1 with probability ½ each. With G clusters and 2^G ≤ B, all 2^G sign vectors
    /// are enumerated instead of drawn (exact and deterministic).
    Rademacher,
    /// Webb's six-point distribution ±√(1/2), ±1, ±√(3/2), each with probability 1/6
    /// (Webb 2023): for few clusters, where Rademacher has too few distinct draws.
    Webb,
    /// Mammen's two-point distribution: −(√5 − 1)/2 with probability (√5 + 1)/(2√5),
    /// (√5 + 1)/2 otherwise (mean 0, variance 1, third moment 1).
    Mammen,
}

/// Options of [`wild_cluster_bootstrap`].
///
/// | field | default | range |
/// |---|---|---|
/// | `weights` | `Rademacher` | [`BootstrapWeights`] |
/// | `reps` | 9 999 | ≥ 1: draws B (replaced by 2^G under full enumeration) |
/// | `seed` | 1 | any: the ChaCha8 stream of the draws |
/// | `confidence_level` | 0.95 | (0, 1) |
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WildBootstrapOptions {
    pub weights: BootstrapWeights,
    pub reps: usize,
    pub seed: u64,
    pub confidence_level: f64,
}

impl Default for WildBootstrapOptions {
    fn default() -> Self {
        WildBootstrapOptions {
            weights: BootstrapWeights::Rademacher,
            reps: 9_999,
            seed: 1,
            confidence_level: 0.95,
        }
    }
}

/// Errors of [`wild_cluster_bootstrap`].
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum WildBootstrapError {
    #[error("the wild cluster bootstrap is for least squares (feols); the Poisson score bootstrap is not available")]
    NotLeastSquares,
    #[error("the wild cluster bootstrap does not take observation weights (as wildboottest)")]
    Weighted,
    #[error("`{name}` is not a coefficient of the model")]
    UnknownTerm { name: String },
    #[error("the wild cluster bootstrap needs at least 2 clusters, found {found}")]
    TooFewClusters { found: usize },
    #[error("cluster codes have {found} entries, expected {expected} (one per input row)")]
    DimensionMismatch { expected: usize, found: usize },
    #[error("invalid bootstrap option {name}: {message}")]
    InvalidOption { name: &'static str, message: String },
    #[error("the regressors are collinear after projecting out the fixed effects")]
    Singular,
}

/// The bootstrap inference on one coefficient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WildBootstrap {
    pub term: String,
    pub weights: BootstrapWeights,
    /// Symmetric two-sided p-value of H0: β = 0: the share of draws with |t*| > |t|.
    pub p_value: f64,
    /// Test-inversion confidence interval: the values r with p(r) ≥ 1 − level.
    pub conf_low: f64,
    pub conf_high: f64,
    /// Draws used: B, or 2^G under full enumeration.
    pub draws: usize,
    pub full_enumeration: bool,
    pub clusters: usize,
    pub seed: u64,
}

/// Relative margin below which |t*| and |t| count as equal (not exceeding). The all-plus
/// and all-minus sign vectors reproduce the sample's t exactly, up to round-off.
const TIE_MARGIN: f64 = 1e-9;

/// Demeaning tolerance of the bootstrap's own projection (tighter than the fit's default,
/// so that the restricted residuals are orthogonal to the fixed effects to round-off).
const DEMEAN_TOLERANCE: f64 = 1e-11;

/// The wild cluster restricted bootstrap (WCR, null imposed) of coefficient `term` of a
/// least-squares fit, one-way clustered by `cluster`.
///
/// Model: yᵢ = xᵢ'β + Σ_q α_q(g_q(i)) + uᵢ. For H0: β_k = r the restricted fit gives
/// β̃ and residuals ũ; the draws are y*ᵢ = xᵢ'β̃ + α̃ + ũᵢ v_{c(i)} with one weight v_c per
/// cluster c, and t*_b = (β̂*_k − r) / se*_CR1. The p-value is the share of draws with
/// |t*_b| > |t| (wildboottest's two-sided symmetric p-value, "11" variant: the CR1
/// variance; its small-sample factor multiplies t and every t* alike and cancels).
///
/// | argument | meaning |
/// |---|---|
/// | `fit` | the [`FeFit`] of `y ~ x \| fixed effects` (Gaussian, no weights) |
/// | `y`, `x`, `column_names`, `fixed_effects`, `offset` | the inputs given to [`fit_fe`](super::fit_fe) |
/// | `cluster` | a cluster code per input row |
/// | `term` | the coefficient tested |
/// | `options` | [`WildBootstrapOptions`] |
///
/// With Rademacher weights and 2^G ≤ B every sign vector is used once (2^G draws;
/// wildboottest enumerates when 2^G < B). Otherwise B draws of G weights each come from
/// ChaCha8 seeded with `seed`, draw by draw, cluster by cluster (clusters in the order of
/// their codes). The interval collects the r whose p(r) ≥ 1 − level: each limit is found
/// by doubling a step of CR1 standard errors away from β̂ until p(r) < 1 − level, then by
/// bisection to 1e-10 standard errors, with the same draws for every r (as
/// fwildclusterboot and boottest do).
///
/// ## Numerical approach
/// Fixed effects are projected out once (Frisch–Waugh–Lovell), giving X̃ and ỹ. The
/// restricted residuals are linear in r, ũ(r) = u₀ + r u₁, so every cluster-level
/// quantity is too: with a = e_k'(X̃'X̃)⁻¹ and s_g = X̃_g'ũ_g, the numerator of t*_b is
/// Σ_g C_g v_g with C_g = a s_g, and the k-th element of (X̃'X̃)⁻¹ times cluster h's
/// bootstrap score is C_h v_h − Σ_g H_hg v_g, where H_hg = a X̃_h'X̃_h (X̃'X̃)⁻¹ s_g +
/// (P_D q_h)'ũ_g accounts for re-estimating the slopes and — for fixed effects that are
/// not nested in the clusters — the fixed effects in each draw (q_h = X̃ a' on cluster
/// h's rows, P_D the projection on the fixed effects). A draw then costs O(G²) and any r
/// O(1) per draw, whatever the number of rows (Roodman et al. 2019, sections 3–5).
///
/// # Errors
/// See [`WildBootstrapError`]: a Poisson or weighted fit, an unknown term, fewer than 2
/// clusters, invalid options, collinear regressors.
///
/// ## References
/// - Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements
///   for inference with clustered errors. *Review of Economics and Statistics* 90(3),
///   414–427.
/// - Roodman, D., MacKinnon, J. G., Nielsen, M. Ø. & Webb, M. D. (2019). Fast and wild:
///   bootstrap inference in Stata using boottest. *The Stata Journal* 19(1), 4–60.
/// - MacKinnon, J. G., Nielsen, M. Ø. & Webb, M. D. (2023). Cluster-robust inference: a
///   guide to empirical practice. *Journal of Econometrics* 232(2), 272–299.
/// - Webb, M. D. (2023). Reworking wild bootstrap-based inference for clustered errors.
///   *Canadian Journal of Economics* 56(3), 839–858.
#[allow(clippy::too_many_arguments)]
pub fn wild_cluster_bootstrap(
    fit: &FeFit,
    y: &[f64],
    x: &DMatrix<f64>,
    column_names: &[String],
    fixed_effects: &[(String, Vec<u32>)],
    offset: Option<&[f64]>,
    cluster: &[u32],
    term: &str,
    options: &WildBootstrapOptions,
) -> Result<WildBootstrap, WildBootstrapError> {
    wild_cluster_bootstrap_weighted(
        fit,
        y,
        x,
        column_names,
        fixed_effects,
        offset,
        None,
        cluster,
        term,
        options,
    )
}

/// The restricted wild cluster bootstrap of a weighted least-squares fit: as
/// [`wild_cluster_bootstrap`], with `weights` the observation weights the fit was given.
///
/// Weighted least squares is ordinary least squares on the data multiplied by √w (the
/// fixed-effect dummies included), so the weighted WCR is the unweighted WCR on those
/// transformed data: the columns are demeaned with the weights and then multiplied by
/// √w, and the projection on the fixed effects is the weighted one (MacKinnon, Nielsen &
/// Webb 2023, section 3, on transforming a weighted model before bootstrapping it). With
/// `weights = None` it is [`wild_cluster_bootstrap`].
///
/// # Errors
/// As [`wild_cluster_bootstrap`], and [`WildBootstrapError::InvalidOption`] for weights
/// of another length or a negative or non-finite weight.
#[allow(clippy::too_many_arguments)]
pub fn wild_cluster_bootstrap_weighted(
    fit: &FeFit,
    y: &[f64],
    x: &DMatrix<f64>,
    column_names: &[String],
    fixed_effects: &[(String, Vec<u32>)],
    offset: Option<&[f64]>,
    weights: Option<&[f64]>,
    cluster: &[u32],
    term: &str,
    options: &WildBootstrapOptions,
) -> Result<WildBootstrap, WildBootstrapError> {
    if let Some(w) = weights {
        if w.len() != y.len() {
            return Err(WildBootstrapError::InvalidOption {
                name: "weights",
                message: format!("{} weights for {} rows", w.len(), y.len()),
            });
        }
        if let Some(bad) = w.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(WildBootstrapError::InvalidOption {
                name: "weights",
                message: format!("a weight of {bad}: weights must be finite and ≥ 0"),
            });
        }
    }
    if fit.family != FeFamily::Gaussian {
        return Err(WildBootstrapError::NotLeastSquares);
    }
    if options.reps == 0 {
        return Err(WildBootstrapError::InvalidOption {
            name: "reps",
            message: "must be at least 1".into(),
        });
    }
    if !(options.confidence_level > 0.0 && options.confidence_level < 1.0) {
        return Err(WildBootstrapError::InvalidOption {
            name: "confidence_level",
            message: format!("{} is not in (0, 1)", options.confidence_level),
        });
    }
    if cluster.len() != y.len() {
        return Err(WildBootstrapError::DimensionMismatch {
            expected: y.len(),
            found: cluster.len(),
        });
    }
    let k_term = fit
        .coefficients
        .iter()
        .position(|c| c.term == term)
        .ok_or_else(|| WildBootstrapError::UnknownTerm { name: term.into() })?;
    let problem = Problem::new_weighted(
        fit,
        y,
        x,
        column_names,
        fixed_effects,
        offset,
        weights,
        cluster,
        k_term,
    )?;
    let g = problem.clusters;
    if g < 2 {
        return Err(WildBootstrapError::TooFewClusters { found: g });
    }
    let enumerate = options.weights == BootstrapWeights::Rademacher
        && g < usize::BITS as usize - 1
        && (1usize << g) <= options.reps;
    let v = draw_weights(options, g, enumerate);
    let draws = v.len() / g;
    let stats = problem.draw_statistics(&v, draws);
    let alpha = 1.0 - options.confidence_level;
    let p_value = stats.p_value(0.0);
    let (conf_low, conf_high) = stats.interval(alpha);
    Ok(WildBootstrap {
        term: term.to_string(),
        weights: options.weights,
        p_value,
        conf_low,
        conf_high,
        draws,
        full_enumeration: enumerate,
        clusters: g,
        seed: options.seed,
    })
}

/// The bootstrap weights, draw-major: `v[b * g + c]` is cluster c's weight in draw b.
pub(super) fn draw_weights(options: &WildBootstrapOptions, g: usize, enumerate: bool) -> Vec<f64> {
    if enumerate {
        let draws = 1usize << g;
        let mut v = Vec::with_capacity(draws * g);
        for b in 0..draws {
            for c in 0..g {
                v.push(if (b >> c) & 1 == 1 { -1.0 } else { 1.0 });
            }
        }
        return v;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let sqrt5 = 5f64.sqrt();
    let webb = [
        -(1.5f64.sqrt()),
        -1.0,
        -(0.5f64.sqrt()),
        0.5f64.sqrt(),
        1.0,
        1.5f64.sqrt(),
    ];
    (0..options.reps * g)
        .map(|_| match options.weights {
            BootstrapWeights::Rademacher => {
                if rng.random::<bool>() {
                    1.0
                } else {
                    -1.0
                }
            }
            BootstrapWeights::Webb => webb[rng.random_range(0..6usize)],
            BootstrapWeights::Mammen => {
                let low = (sqrt5 + 1.0) / (2.0 * sqrt5);
                if rng.random::<f64>() < low {
                    -(sqrt5 - 1.0) / 2.0
                } else {
                    (sqrt5 + 1.0) / 2.0
                }
            }
        })
        .collect()
}

/// The cluster-level pieces of the bootstrap, each as a pair (value at r = 0, slope in r).
pub(super) struct Problem {
    pub(super) clusters: usize,
    beta_k: f64,
    /// Σ_g (a ŝ_g)²: the k-th diagonal element of the CR1 variance without its
    /// small-sample factor.
    variance_k: f64,
    /// C_g = a s_g(r) = c0[g] + r c1[g].
    c0: Vec<f64>,
    c1: Vec<f64>,
    /// H_hg(r) = h0[h*G+g] + r h1[h*G+g].
    h0: Vec<f64>,
    h1: Vec<f64>,
}

impl Problem {
    #[cfg(test)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        fit: &FeFit,
        y: &[f64],
        x: &DMatrix<f64>,
        column_names: &[String],
        fixed_effects: &[(String, Vec<u32>)],
        offset: Option<&[f64]>,
        cluster: &[u32],
        k_term: usize,
    ) -> Result<Problem, WildBootstrapError> {
        Problem::new_weighted(
            fit,
            y,
            x,
            column_names,
            fixed_effects,
            offset,
            None,
            cluster,
            k_term,
        )
    }

    /// The pieces for a fit with observation weights (`None`: unweighted): the columns
    /// demeaned with the weights and multiplied by √w, the weighted least-squares
    /// problem as an ordinary one.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new_weighted(
        fit: &FeFit,
        y: &[f64],
        x: &DMatrix<f64>,
        column_names: &[String],
        fixed_effects: &[(String, Vec<u32>)],
        offset: Option<&[f64]>,
        weights: Option<&[f64]>,
        cluster: &[u32],
        k_term: usize,
    ) -> Result<Problem, WildBootstrapError> {
        let rows = &fit.kept_rows;
        let n = rows.len();
        let mut keep = vec![false; y.len()];
        for &r in rows {
            keep[r] = true;
        }
        // The kept regressors, by name, over the rows used.
        let k = fit.coefficients.len();
        let mut columns: Vec<Vec<f64>> = Vec::with_capacity(k + 1);
        columns.push(
            rows.iter()
                .map(|&i| y[i] - offset.map_or(0.0, |o| o[i]))
                .collect(),
        );
        for c in &fit.coefficients {
            let j = column_names
                .iter()
                .position(|name| *name == c.term)
                .ok_or_else(|| WildBootstrapError::UnknownTerm {
                    name: c.term.clone(),
                })?;
            columns.push(rows.iter().map(|&i| x[(i, j)]).collect());
        }
        let fe_dense: Vec<_> = fixed_effects
            .iter()
            .map(|(_, codes)| dense_codes(codes, &keep, n))
            .collect();
        let fe_levels: Vec<(Vec<u32>, usize)> = fe_dense
            .iter()
            .map(|(c, size)| (c.to_vec(), *size))
            .collect();
        let index = FixedEffectIndex::new(fe_dense.into_iter().map(|(c, _)| c).collect(), n);
        let (cluster_codes, clusters) = dense_codes(cluster, &keep, n);
        let row_weights: Option<Vec<f64>> = weights.map(|w| rows.iter().map(|&i| w[i]).collect());
        let root_w: Option<Vec<f64>> = row_weights
            .as_ref()
            .map(|w| w.iter().map(|v| v.sqrt()).collect());
        let lw = index.level_weights(row_weights.as_deref());
        let demean = |cols: &mut [Vec<f64>]| {
            let mut coefs: Vec<Vec<f64>> = vec![Vec::new(); cols.len()];
            let pairs = cols
                .iter_mut()
                .zip(coefs.iter_mut())
                .map(|(c, f)| (c.as_mut_slice(), f))
                .collect();
            index.demean_columns(&lw, pairs, DEMEAN_TOLERANCE, 100_000);
        };
        if index.n_fe() > 0 {
            demean(&mut columns);
        }
        if let Some(rw) = &root_w {
            for c in &mut columns {
                for (v, r) in c.iter_mut().zip(rw) {
                    *v *= r;
                }
            }
        }
        let y_t = DVector::from_vec(columns.remove(0));
        let x_t = DMatrix::from_fn(n, k, |i, j| columns[j][i]);
        drop(columns);

        let xtx = x_t.tr_mul(&x_t);
        let a_mat = xtx
            .clone()
            .try_inverse()
            .ok_or(WildBootstrapError::Singular)?;
        let beta = &a_mat * x_t.tr_mul(&y_t);
        let a: DVector<f64> = a_mat.column(k_term).into_owned();
        let a_kk = a[k_term];
        // q = X̃ a' and û; restricted residual ũ(r) = û + (β̂_k − r) q / a_kk.
        let q = &x_t * &a;
        let u_hat = &y_t - &x_t * &beta;
        let beta_k = beta[k_term];
        let u0: Vec<f64> = (0..n).map(|i| u_hat[i] + beta_k * q[i] / a_kk).collect();
        let u1: Vec<f64> = (0..n).map(|i| -q[i] / a_kk).collect();

        let g_n = clusters;
        let code = |i: usize| cluster_codes[i] as usize;
        // Per cluster: X̃_g'X̃_g, s_g(r) = X̃_g'ũ_g (two parts), ŝ_g = X̃_g'û_g.
        let mut xgxg = vec![DMatrix::<f64>::zeros(k, k); g_n];
        let mut s0 = vec![DVector::<f64>::zeros(k); g_n];
        let mut s1 = vec![DVector::<f64>::zeros(k); g_n];
        let mut s_hat = vec![DVector::<f64>::zeros(k); g_n];
        for i in 0..n {
            let g = code(i);
            for j in 0..k {
                let xij = x_t[(i, j)];
                s0[g][j] += xij * u0[i];
                s1[g][j] += xij * u1[i];
                s_hat[g][j] += xij * u_hat[i];
                for l in 0..=j {
                    xgxg[g][(j, l)] += xij * x_t[(i, l)];
                }
            }
        }
        for m in &mut xgxg {
            m.fill_upper_triangle_with_lower_triangle();
        }
        let variance_k: f64 = s_hat.iter().map(|s| a.dot(s).powi(2)).sum();
        let c0: Vec<f64> = s0.iter().map(|s| a.dot(s)).collect();
        let c1: Vec<f64> = s1.iter().map(|s| a.dot(s)).collect();
        // w_h = (X̃'X̃)⁻¹ X̃_h'X̃_h a'.
        let w: Vec<DVector<f64>> = xgxg.iter().map(|m| &a_mat * (m * &a)).collect();
        let mut h0 = vec![0.0; g_n * g_n];
        let mut h1 = vec![0.0; g_n * g_n];
        for h in 0..g_n {
            for g in 0..g_n {
                h0[h * g_n + g] = w[h].dot(&s0[g]);
                h1[h * g_n + g] = w[h].dot(&s1[g]);
            }
        }
        let nested = (index.n_fe() > 0)
            .then(|| {
                nested_projection(
                    &fe_levels,
                    &cluster_codes,
                    clusters,
                    row_weights.as_deref(),
                    &q,
                    &u0,
                    &u1,
                )
            })
            .flatten();
        if let Some((p0, p1)) = nested {
            for (h, v) in h0.iter_mut().zip(&p0) {
                *h += v;
            }
            for (h, v) in h1.iter_mut().zip(&p1) {
                *h += v;
            }
        } else if index.n_fe() > 0 {
            // (P_D q_h)'ũ_g: project each cluster's piece of q on the fixed effects
            // (P_D v = v − demeaned v), then sum against ũ over each cluster's rows.
            // With weights the fixed effects are √w D, and M_D p = √w · (p / √w,
            // demeaned with the weights); a row of weight 0 has q = 0 there.
            let to_raw = |i: usize, v: f64| match &root_w {
                Some(rw) if rw[i] > 0.0 => v / rw[i],
                Some(_) => 0.0,
                None => v,
            };
            let mut pieces: Vec<Vec<f64>> = (0..g_n)
                .map(|h| {
                    (0..n)
                        .map(|i| if code(i) == h { to_raw(i, q[i]) } else { 0.0 })
                        .collect()
                })
                .collect();
            demean(&mut pieces);
            for (h, piece) in pieces.iter().enumerate() {
                for i in 0..n {
                    let original = if code(i) == h { q[i] } else { 0.0 };
                    let residual = root_w.as_ref().map_or(piece[i], |rw| rw[i] * piece[i]);
                    let projected = original - residual;
                    let g = code(i);
                    h0[h * g_n + g] += projected * u0[i];
                    h1[h * g_n + g] += projected * u1[i];
                }
            }
        }
        Ok(Problem {
            clusters,
            beta_k,
            variance_k,
            c0,
            c1,
            h0,
            h1,
        })
    }

    /// Per draw, the numerator N(r) = n0 + r n1 and the denominator
    /// D(r) = d0 + r d1 + r² d2 of t*_b(r)² = N²/D (both without the small-sample factor).
    ///
    /// The draws go in blocks of [`DRAWS_PER_BLOCK`], each block one product of the G×G
    /// matrices H0, H1 with the block's G×m weights, the blocks fixed by the draw
    /// numbers, so the result does not depend on the number of threads.
    pub(super) fn draw_statistics(&self, v: &[f64], draws: usize) -> DrawStatistics {
        use rayon::prelude::*;
        let g_n = self.clusters;
        let h0 = DMatrix::from_row_slice(g_n, g_n, &self.h0);
        let h1 = DMatrix::from_row_slice(g_n, g_n, &self.h1);
        let blocks: Vec<Vec<[f64; 5]>> = (0..draws.div_ceil(DRAWS_PER_BLOCK))
            .into_par_iter()
            .map(|block| {
                let first = block * DRAWS_PER_BLOCK;
                let m = DRAWS_PER_BLOCK.min(draws - first);
                // Column b: the weights of draw first + b.
                let vb = DMatrix::from_column_slice(g_n, m, &v[first * g_n..(first + m) * g_n]);
                let a0 = &h0 * &vb;
                let a1 = &h1 * &vb;
                (0..m)
                    .map(|b| {
                        let (mut n0, mut n1) = (0.0, 0.0);
                        let (mut d0, mut d1, mut d2) = (0.0, 0.0, 0.0);
                        for h in 0..g_n {
                            let w = vb[(h, b)];
                            n0 += self.c0[h] * w;
                            n1 += self.c1[h] * w;
                            let z0 = self.c0[h] * w - a0[(h, b)];
                            let z1 = self.c1[h] * w - a1[(h, b)];
                            d0 += z0 * z0;
                            d1 += 2.0 * z0 * z1;
                            d2 += z1 * z1;
                        }
                        [n0, n1, d0, d1, d2]
                    })
                    .collect()
            })
            .collect();
        DrawStatistics {
            beta_k: self.beta_k,
            variance_k: self.variance_k,
            draws: blocks.concat(),
        }
    }
}

/// Draws per block of [`Problem::draw_statistics`].
const DRAWS_PER_BLOCK: usize = 256;

/// The fixed-effect part of H, (P_D q_h)'ũ_g for every pair of clusters, when one fixed
/// effect is nested in the clusters and the others have few levels; `None` otherwise
/// (then each cluster's piece is demeaned instead).
///
/// With N the nested fixed effect and R the others (all scaled by √w), P_D = P_N + P_E
/// with E = M_N R. P_N q_h lies within cluster h, and ũ is orthogonal to the fixed
/// effects, so (P_N q_h)'ũ_g = q_h' P_N ũ = 0 for g = h and 0 by support otherwise;
/// what remains is (E'q_h)' (E'E)⁺ (E'ũ_g), of order L (the levels of R) per pair
/// (Roodman et al. 2019, section 3.3, on fixed effects nested in the clusters).
fn nested_projection(
    fe_levels: &[(Vec<u32>, usize)],
    cluster_codes: &[u32],
    clusters: usize,
    row_weights: Option<&[f64]>,
    q: &DVector<f64>,
    u0: &[f64],
    u1: &[f64],
) -> Option<(Vec<f64>, Vec<f64>)> {
    /// Largest number of levels of the other fixed effects for the dense path.
    const MAX_OTHER_LEVELS: usize = 200;
    let n = cluster_codes.len();
    let nested = fe_levels.iter().position(|(codes, size)| {
        let mut cluster_of = vec![u32::MAX; *size];
        codes.iter().zip(cluster_codes).all(|(&c, &g)| {
            let slot = &mut cluster_of[c as usize];
            if *slot == u32::MAX {
                *slot = g;
            }
            *slot == g
        })
    })?;
    let others: Vec<&(Vec<u32>, usize)> = fe_levels
        .iter()
        .enumerate()
        .filter(|(q, _)| *q != nested)
        .map(|(_, f)| f)
        .collect();
    let l_n: usize = others.iter().map(|(_, size)| size).sum();
    let (groups, k_n) = (&fe_levels[nested].0, fe_levels[nested].1);
    if l_n > MAX_OTHER_LEVELS || k_n.saturating_mul(l_n) > 50_000_000 {
        return None;
    }
    let w = |i: usize| row_weights.map_or(1.0, |w| w[i]);
    // Weighted share of each other level within each nested group: m[k][l].
    let mut group_weight = vec![0.0; k_n];
    let mut share = vec![0.0; k_n * l_n];
    for i in 0..n {
        let k = groups[i] as usize;
        group_weight[k] += w(i);
        let mut offset = 0;
        for (codes, size) in &others {
            share[k * l_n + offset + codes[i] as usize] += w(i);
            offset += size;
        }
    }
    for k in 0..k_n {
        if group_weight[k] > 0.0 {
            for s in &mut share[k * l_n..(k + 1) * l_n] {
                *s /= group_weight[k];
            }
        }
    }
    // E'E and, per cluster, E'q_h and E'ũ_g (two parts).
    let mut ete = DMatrix::<f64>::zeros(l_n, l_n);
    let mut e_q = vec![DVector::<f64>::zeros(l_n); clusters];
    let mut e_u0 = vec![DVector::<f64>::zeros(l_n); clusters];
    let mut e_u1 = vec![DVector::<f64>::zeros(l_n); clusters];
    let mut row = DVector::<f64>::zeros(l_n);
    for i in 0..n {
        let k = groups[i] as usize;
        let root = w(i).sqrt();
        for l in 0..l_n {
            row[l] = -root * share[k * l_n + l];
        }
        let mut offset = 0;
        for (codes, size) in &others {
            row[offset + codes[i] as usize] += root;
            offset += size;
        }
        ete.ger(1.0, &row, &row, 1.0);
        let g = cluster_codes[i] as usize;
        e_q[g].axpy(q[i], &row, 1.0);
        e_u0[g].axpy(u0[i], &row, 1.0);
        e_u1[g].axpy(u1[i], &row, 1.0);
    }
    // (E'E)⁺ by its eigen-decomposition: the other fixed effects are collinear with the
    // nested one (each sums to it), so E'E is singular.
    let eigen = nalgebra::SymmetricEigen::new(ete);
    let largest = eigen
        .eigenvalues
        .iter()
        .fold(0.0f64, |a, &b| a.max(b.abs()));
    let mut inverse = DMatrix::<f64>::zeros(l_n, l_n);
    for (j, &lambda) in eigen.eigenvalues.iter().enumerate() {
        if lambda > 1e-10 * largest {
            let v = eigen.eigenvectors.column(j);
            inverse.ger(1.0 / lambda, &v, &v, 1.0);
        }
    }
    let mut p0 = vec![0.0; clusters * clusters];
    let mut p1 = vec![0.0; clusters * clusters];
    for h in 0..clusters {
        let b = &inverse * &e_q[h];
        for g in 0..clusters {
            p0[h * clusters + g] = b.dot(&e_u0[g]);
            p1[h * clusters + g] = b.dot(&e_u1[g]);
        }
    }
    Some((p0, p1))
}

/// The bootstrap statistics of every draw as functions of the null value r.
pub(super) struct DrawStatistics {
    pub(super) beta_k: f64,
    pub(super) variance_k: f64,
    pub(super) draws: Vec<[f64; 5]>,
}

impl DrawStatistics {
    /// p(r): the share of draws with |t*_b(r)| > |t(r)|, where t(r)² = (β̂_k − r)²/V_kk.
    pub(super) fn p_value(&self, r: f64) -> f64 {
        let dev2 = (self.beta_k - r).powi(2);
        let exceed = self
            .draws
            .iter()
            .filter(|&&[n0, n1, d0, d1, d2]| {
                let num = n0 + r * n1;
                let den = d0 + r * (d1 + r * d2);
                // |t*| > |t|  ⟺  N² V > (β̂ − r)² D, with a margin for round-off ties.
                num * num * self.variance_k > dev2 * den * (1.0 + TIE_MARGIN)
            })
            .count();
        exceed as f64 / self.draws.len() as f64
    }

    /// The test-inversion interval {r : p(r) ≥ alpha}, limits by bisection; ±∞ when
    /// p stays above alpha as far as 2^40 standard errors away.
    pub(super) fn interval(&self, alpha: f64) -> (f64, f64) {
        let se = self.variance_k.sqrt();
        let limit = |direction: f64| -> f64 {
            let inside = self.beta_k;
            let mut step = se;
            let mut outside = None;
            for _ in 0..40 {
                let r = inside + direction * step;
                if self.p_value(r) < alpha {
                    outside = Some(r);
                    break;
                }
                step *= 2.0;
            }
            let Some(mut out) = outside else {
                return direction * f64::INFINITY;
            };
            let mut inn = inside;
            while (out - inn).abs() > 1e-10 * se.max(f64::MIN_POSITIVE) {
                let mid = 0.5 * (inn + out);
                if self.p_value(mid) < alpha {
                    out = mid;
                } else {
                    inn = mid;
                }
            }
            0.5 * (inn + out)
        };
        (limit(-1.0), limit(1.0))
    }
}
