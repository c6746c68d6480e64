//! The variance of the estimates (iid, HC1, one- or two-way CR1 with fixest's
//! small-sample conventions) and the coefficient table built from it.

use std::borrow::Cow;

use nalgebra::DMatrix;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::estimate::Estimate;
use super::index::FixedEffectIndex;
use super::options::ValidFeModel;
use super::{FeFamily, Vcov};
use crate::stats::coefficient::Coefficient;
use crate::stats::tail::two_sided;
use crate::stats::vcov::{cluster_meat, hetero_meat, is_nested, sandwich, small_sample_k};

pub(super) struct Variance {
    pub(super) matrix: DMatrix<f64>,
    pub(super) label: String,
    pub(super) df_k: usize,
    pub(super) t_df: Option<f64>,
}

pub(super) fn variance(
    est: &Estimate,
    index: &FixedEffectIndex<'_>,
    fe_sizes: &[usize],
    clusters: &[(String, Cow<'_, [u32]>, usize)],
    vcov: &Vcov,
    family: FeFamily,
    n: usize,
) -> Variance {
    let k = est.names.len();
    let nf = n as f64;
    let xs = est.x_tilde.as_slice();
    let gaussian = family == FeFamily::Gaussian;
    let t_df = |df: f64| if gaussian { Some(df) } else { None };
    match vcov {
        Vcov::Iid => {
            let df_k = small_sample_k(k, fe_sizes, &[]);
            let factor = (nf - 1.0) / (nf - df_k as f64);
            let sigma2 = if gaussian { est.rss / (nf - 1.0) } else { 1.0 };
            Variance {
                matrix: &est.bread * (sigma2 * factor),
                label: "iid".to_string(),
                df_k,
                t_df: t_df(nf - df_k as f64),
            }
        }
        Vcov::Hc1 => {
            let df_k = small_sample_k(k, fe_sizes, &[]);
            let factor = nf / (nf - df_k as f64);
            let meat = hetero_meat(xs, n, &est.u);
            Variance {
                matrix: sandwich(&est.bread, &meat) * factor,
                label: "hetero".to_string(),
                df_k,
                t_df: t_df(nf - df_k as f64),
            }
        }
        Vcov::Cluster(_) => {
            // One-way: the variable; two-way: both and their intersection.
            let mut dims: Vec<(Cow<'_, [u32]>, usize, f64)> = clusters
                .iter()
                .map(|(_, codes, g)| (Cow::Borrowed(&**codes), *g, 1.0))
                .collect();
            if clusters.len() == 2 {
                let (inter, g12) = intersection(&clusters[0].1, clusters[0].2, &clusters[1].1);
                dims.push((Cow::Owned(inter), g12, -1.0));
            }
            let g_min = dims.iter().map(|d| d.1).min().unwrap_or(0);
            let nested: Vec<bool> = (0..fe_sizes.len())
                .map(|q| {
                    index.codes_of_input(q).is_some_and(|fe| {
                        dims.iter().any(|(c, _, _)| is_nested(fe, fe_sizes[q], c))
                    })
                })
                .collect();
            let df_k = small_sample_k(k, fe_sizes, &nested);
            let g = g_min as f64;
            let factor = (nf - 1.0) / (nf - df_k as f64) * g / (g - 1.0);
            let mut matrix = DMatrix::zeros(k, k);
            for (codes, groups, sign) in &dims {
                let meat = cluster_meat(xs, n, &est.u, codes, *groups);
                matrix += sandwich(&est.bread, &meat) * (sign * factor);
            }
            let names: Vec<&str> = clusters.iter().map(|c| c.0.as_str()).collect();
            Variance {
                matrix,
                label: format!("CRV1({})", names.join(", ")),
                df_k,
                t_df: t_df(g - 1.0),
            }
        }
    }
}

/// Dense codes of the pairs (a, b) and their number.
fn intersection(a: &[u32], ga: usize, b: &[u32]) -> (Vec<u32>, usize) {
    let gb = b.iter().map(|&v| v as u64 + 1).max().unwrap_or(0);
    let key = |i: usize| a[i] as u64 * gb + b[i] as u64;
    let n = a.len();
    let space = ga as u64 * gb;
    if space <= 4 * n as u64 + 1024 {
        const ABSENT: u32 = u32::MAX;
        let mut slot = vec![ABSENT; space as usize];
        for i in 0..n {
            slot[key(i) as usize] = 0;
        }
        let mut g = 0u32;
        for s in slot.iter_mut() {
            if *s != ABSENT {
                *s = g;
                g += 1;
            }
        }
        ((0..n).map(|i| slot[key(i) as usize]).collect(), g as usize)
    } else {
        let mut distinct: Vec<u64> = (0..n).map(key).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let codes = (0..n)
            .map(|i| distinct.binary_search(&key(i)).map_or(0, |p| p as u32))
            .collect();
        (codes, distinct.len())
    }
}

pub(super) fn inference(
    est: &Estimate,
    vcov: &DMatrix<f64>,
    t_df: Option<f64>,
    model: &ValidFeModel,
) -> Vec<Coefficient> {
    let alpha = 1.0 - model.confidence_level;
    let normal = Normal::standard();
    let student = t_df.and_then(|df| StudentsT::new(0.0, 1.0, df).ok());
    let quantile = match (&student, t_df) {
        (Some(t), _) => t.inverse_cdf(1.0 - alpha / 2.0),
        (None, Some(_)) => f64::NAN,
        (None, None) => normal.inverse_cdf(1.0 - alpha / 2.0),
    };
    est.names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let estimate = est.beta[j];
            let std_error = vcov[(j, j)].sqrt();
            let statistic = estimate / std_error;
            let p_value = match (&student, t_df) {
                (Some(t), _) => two_sided(statistic, |s| 2.0 * t.cdf(-s)),
                (None, Some(_)) => f64::NAN,
                (None, None) => two_sided(statistic, |s| 2.0 * normal.cdf(-s)),
            };
            Coefficient {
                term: name.clone(),
                estimate,
                std_error,
                statistic,
                df: None,
                p_value,
                conf_low: estimate - quantile * std_error,
                conf_high: estimate + quantile * std_error,
            }
        })
        .collect()
}
