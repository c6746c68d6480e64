//! Sandwich variance pieces shared by the estimators — heteroskedasticity-robust and
//! cluster-robust "meat" matrices from scores, the small-sample factors of fixest /
//! pyfixest — and the joint Wald test of a set of coefficients.
//!
//! Scores are passed as a column-major n×k matrix `x` (the regressors as they enter the
//! final least-squares step: demeaned, unweighted) and a per-row multiplier `u`
//! (weight × working residual), so score_i = u_i x_i without forming the n×k product.
//!
//! ## Small-sample conventions (pyfixest 0.60 `ssc()` defaults, after fixest)
//! With N observations, k regressors and fixed effects of `sizes` levels:
//!
//! | quantity | value |
//! |---|---|
//! | K (`df_k`) | k + Σ sizes − (number of fixed effects − 1); under clustering, a fixed effect nested in a cluster variable counts 1 instead of its size |
//! | iid | (N − 1)/(N − K) × bread × σ², σ² = Σ w e² / (N − 1) (1 for Poisson) |
//! | HC1 | N/(N − K) × bread meat bread |
//! | CR1 | (N − 1)/(N − K) × G/(G − 1) × bread meat bread, G = min over the cluster variables (`G_df = "min"`) |
//! | two-way CR1 | V₁ + V₂ − V₁₂ (Cameron, Gelbach & Miller 2011), every term with the same factor |
//! | t df | N − K (iid, HC1); min G − 1 (CR1) |
//!
//! ## References
//! - Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2011). Robust inference with
//!   multiway clustering. *Journal of Business & Economic Statistics* 29(2), 238–249.
//! - Bergé, L. (2018). Efficient estimation of maximum likelihood models with multiple
//!   fixed-effects: the R package FENmlm. CREA Discussion Papers 13 (fixest's `ssc()`).
//! - pyfixest 0.60: `pyfixest/utils/utils.py::get_ssc`, `Feols.vcov`, `Feols.wald_test`.

use nalgebra::{DMatrix, SymmetricEigen};
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::tail::upper;
use statrs::function::beta::beta_reg;
use thiserror::Error;

/// Errors of the variance computations and the Wald test.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum VcovError {
    /// The Wald test was asked for no coefficient.
    #[error("the Wald test needs at least one coefficient")]
    NoCoefficients,
    /// A coefficient index outside the estimate vector.
    #[error("coefficient index {index} is out of range (there are {n} coefficients)")]
    IndexOutOfRange { index: usize, n: usize },
    /// Estimates and variance matrix of different sizes.
    #[error("{estimates} estimates but a {rows}×{cols} variance matrix")]
    DimensionMismatch {
        estimates: usize,
        rows: usize,
        cols: usize,
    },
    /// The variance of the tested coefficients has no non-zero eigenvalue.
    #[error("the variance matrix of the tested coefficients is zero")]
    ZeroVariance,
}

/// Σᵢ uᵢ² xᵢ xᵢ' (the HC0 meat).
pub fn hetero_meat(x: &[f64], n: usize, u: &[f64]) -> DMatrix<f64> {
    let k = x.len().checked_div(n).unwrap_or(0);
    let mut meat = DMatrix::zeros(k, k);
    for a in 0..k {
        let xa = &x[a * n..(a + 1) * n];
        for b in 0..=a {
            let xb = &x[b * n..(b + 1) * n];
            let mut s = 0.0;
            for i in 0..n {
                let ui = u[i];
                s += ui * ui * xa[i] * xb[i];
            }
            meat[(a, b)] = s;
            meat[(b, a)] = s;
        }
    }
    meat
}

/// Σ_g S_g S_g' with S_g = Σ_{i in g} uᵢ xᵢ (the cluster-robust meat). `codes` are dense
/// cluster codes `0..n_groups`.
pub fn cluster_meat(
    x: &[f64],
    n: usize,
    u: &[f64],
    codes: &[u32],
    n_groups: usize,
) -> DMatrix<f64> {
    let k = x.len().checked_div(n).unwrap_or(0);
    // Cluster sums, column-major G×k.
    let mut sums = vec![0.0; n_groups * k];
    for a in 0..k {
        let xa = &x[a * n..(a + 1) * n];
        let sa = &mut sums[a * n_groups..(a + 1) * n_groups];
        for i in 0..n {
            sa[codes[i] as usize] += u[i] * xa[i];
        }
    }
    let mut meat = DMatrix::zeros(k, k);
    for a in 0..k {
        let sa = &sums[a * n_groups..(a + 1) * n_groups];
        for b in 0..=a {
            let sb = &sums[b * n_groups..(b + 1) * n_groups];
            let s: f64 = sa.iter().zip(sb).map(|(p, q)| p * q).sum();
            meat[(a, b)] = s;
            meat[(b, a)] = s;
        }
    }
    meat
}

/// bread × meat × bread.
pub fn sandwich(bread: &DMatrix<f64>, meat: &DMatrix<f64>) -> DMatrix<f64> {
    let v = bread * meat * bread;
    // Symmetrise: the products are symmetric in exact arithmetic.
    (&v + v.transpose()) * 0.5
}

/// Whether every level of `fixed_effect` lies inside one level of `cluster` (pyfixest's
/// `count_fixef_fully_nested`: the fixed effect is then "nested" in the cluster).
pub fn is_nested(fixed_effect: &[u32], fe_levels: usize, cluster: &[u32]) -> bool {
    const UNSEEN: u32 = u32::MAX;
    let mut first = vec![UNSEEN; fe_levels];
    for (&f, &c) in fixed_effect.iter().zip(cluster) {
        let slot = &mut first[f as usize];
        if *slot == UNSEEN {
            *slot = c;
        } else if *slot != c {
            return false;
        }
    }
    true
}

/// The number of parameters K of the small-sample factor (N − 1)/(N − K): `k`
/// regressors plus the fixed-effect levels, less one per fixed effect after the first
/// (pyfixest's `k_fixef = "nonnested"`); a fixed effect nested in a cluster variable
/// (`nested[q]`, only under clustering) counts 1 instead of its number of levels.
pub fn small_sample_k(k: usize, fe_sizes: &[usize], nested: &[bool]) -> usize {
    let n_fe = fe_sizes.len();
    if n_fe == 0 {
        return k;
    }
    let total: usize = fe_sizes.iter().sum();
    let mut df_k = k + total - (n_fe - 1);
    for (q, &size) in fe_sizes.iter().enumerate() {
        if nested.get(q).copied().unwrap_or(false) {
            df_k = df_k - size + 1;
        }
    }
    df_k
}

/// A joint Wald test that a set of coefficients are all zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaldTest {
    /// The coefficients tested.
    pub terms: Vec<String>,
    /// F = W / q (fixest's `wald()` statistic).
    pub statistic: f64,
    /// q, the number of coefficients tested.
    pub df1: usize,
    /// The denominator degrees of freedom of the F test.
    pub df2: f64,
    /// P(F(q, df2) > statistic).
    pub p_value: f64,
    /// W = b' V⁻¹ b (pyfixest's `wald_test(R, distribution = "chi2")` statistic).
    pub chi_squared: f64,
    /// P(χ²_q > W).
    pub chi_squared_p_value: f64,
}

/// Joint Wald test of H₀: b_j = 0 for every j in `indices`, from the estimates and their
/// variance matrix: W = b' V⁻¹ b, reported as W with P(χ²_q > W) (pyfixest's
/// `wald_test(R, distribution = "chi2")`) and as F = W / q with P(F(q, `df2`) > F)
/// (fixest's `wald()`, which uses `df2` = nobs − nparams whatever the variance).
///
/// V⁻¹ is the Moore–Penrose pseudo-inverse of the sub-matrix (numpy's `pinv`, as
/// pyfixest does): the inverse when the matrix is non-singular.
///
/// # Errors
/// No index, an index out of range, sizes that do not match, or a zero sub-matrix.
pub fn wald_test(
    terms: Vec<String>,
    estimates: &[f64],
    vcov: &DMatrix<f64>,
    indices: &[usize],
    df2: f64,
) -> Result<WaldTest, VcovError> {
    let n = estimates.len();
    if vcov.nrows() != n || vcov.ncols() != n {
        return Err(VcovError::DimensionMismatch {
            estimates: n,
            rows: vcov.nrows(),
            cols: vcov.ncols(),
        });
    }
    if indices.is_empty() {
        return Err(VcovError::NoCoefficients);
    }
    if let Some(&index) = indices.iter().find(|&&j| j >= n) {
        return Err(VcovError::IndexOutOfRange { index, n });
    }
    let q = indices.len();
    let sub = DMatrix::from_fn(q, q, |a, b| vcov[(indices[a], indices[b])]);
    let b: Vec<f64> = indices.iter().map(|&j| estimates[j]).collect();
    let eigen = SymmetricEigen::new(sub);
    let largest = eigen
        .eigenvalues
        .iter()
        .fold(0.0_f64, |m, &l| m.max(l.abs()));
    if largest == 0.0 || !largest.is_finite() {
        return Err(VcovError::ZeroVariance);
    }
    // numpy.linalg.pinv's default cut-off: 1e-15 times the largest singular value.
    let cutoff = 1e-15 * largest;
    let mut w = 0.0;
    for (l, &lambda) in eigen.eigenvalues.iter().enumerate() {
        if lambda.abs() <= cutoff {
            continue;
        }
        let v = eigen.eigenvectors.column(l);
        let proj: f64 = v.iter().zip(&b).map(|(vi, bi)| vi * bi).sum();
        w += proj * proj / lambda;
    }
    let f = w / q as f64;
    let p_value = f_upper_tail(f, q as f64, df2);
    let chi_squared_p_value = ChiSquared::new(q as f64).map_or(f64::NAN, |d| upper(w, |x| d.sf(x)));
    Ok(WaldTest {
        terms,
        statistic: f,
        df1: q,
        df2,
        p_value,
        chi_squared: w,
        chi_squared_p_value,
    })
}

/// P(F(d1, d2) > f) = I_{d2/(d2 + d1 f)}(d2/2, d1/2), without the cancellation of
/// 1 − cdf for small tail probabilities.
fn f_upper_tail(f: f64, d1: f64, d2: f64) -> f64 {
    if !(f.is_finite() && d1 > 0.0 && d2 > 0.0) {
        return if f == f64::INFINITY { 0.0 } else { f64::NAN };
    }
    if f <= 0.0 {
        return 1.0;
    }
    beta_reg(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sample_k_follows_pyfixest() {
        // Grunfeld: 2 regressors, firm (10) and year (20) fixed effects.
        assert_eq!(small_sample_k(2, &[10, 20], &[false, false]), 31);
        // Clustered by firm: firm nested.
        assert_eq!(small_sample_k(2, &[10, 20], &[true, false]), 22);
        // Two-way firm + year: both nested.
        assert_eq!(small_sample_k(2, &[10, 20], &[true, true]), 3);
        assert_eq!(small_sample_k(3, &[], &[]), 3);
        assert_eq!(small_sample_k(2, &[10], &[true]), 3);
    }

    #[test]
    fn nesting_is_detected() {
        let unit = [0, 0, 1, 1, 2, 2];
        let pair = [0, 0, 0, 0, 1, 1];
        let period = [0, 1, 0, 1, 0, 1];
        assert!(is_nested(&unit, 3, &pair));
        assert!(!is_nested(&period, 2, &pair));
    }

    #[test]
    fn wald_of_one_coefficient_is_the_squared_z() {
        let v = DMatrix::from_row_slice(2, 2, &[4.0, 1.0, 1.0, 9.0]);
        let t = wald_test(vec!["a".into()], &[3.0, 1.0], &v, &[0], 100.0);
        let t = match t {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert!((t.chi_squared - 9.0 / 4.0).abs() < 1e-14);
        assert!((t.statistic - 9.0 / 4.0).abs() < 1e-14);
        assert_eq!(t.df1, 1);
    }

    #[test]
    fn wald_rejects_bad_input() {
        let v = DMatrix::identity(2, 2);
        assert_eq!(
            wald_test(vec![], &[1.0, 2.0], &v, &[], 10.0),
            Err(VcovError::NoCoefficients)
        );
        assert_eq!(
            wald_test(vec![], &[1.0, 2.0], &v, &[2], 10.0),
            Err(VcovError::IndexOutOfRange { index: 2, n: 2 })
        );
    }

    #[test]
    fn cluster_meat_with_singleton_clusters_is_the_hetero_meat() {
        let n = 5;
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 0.5, -1.0, 2.0, 0.0, 1.0];
        let u = [0.1, -0.2, 0.3, 0.4, -0.5];
        let codes = [0, 1, 2, 3, 4];
        let a = hetero_meat(&x, n, &u);
        let b = cluster_meat(&x, n, &u, &codes, 5);
        assert!((a - b).abs().max() < 1e-15);
    }
}
