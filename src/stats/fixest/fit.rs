//! The entry point [`fit_fe`]: checks the options and the inputs, selects the rows used,
//! recodes the fixed effects over them, and hands the regressors to the least-squares or
//! Poisson estimator and then to the variance.

use std::borrow::Cow;

use nalgebra::DMatrix;

use super::gaussian::fit_gaussian;
use super::index::{compact_codes, dense_codes, FixedEffectIndex};
use super::options::ValidFeModel;
use super::poisson::fit_poisson;
use super::rows::select_rows;
use super::variance::{inference, variance};
use super::{FeError, FeFamily, FeFit, FeModel, Vcov};

/// Fits `y ~ x | fixed effects` by least squares (fixest's `feols`) or Poisson
/// pseudo-maximum likelihood (`fepois`).
///
/// Model: `E(yᵢ) = xᵢ'β + Σ_q α_q(g_q(i))` (Gaussian), or
/// `E(yᵢ) = exp(xᵢ'β + Σ_q α_q(g_q(i)) + offsetᵢ)` (Poisson), with weights wᵢ
/// (analytic weights: the least-squares / quasi-likelihood contribution of row i is
/// multiplied by wᵢ).
///
/// | argument | meaning |
/// |---|---|
/// | `y` | outcome, n rows, finite (Poisson: ≥ 0) |
/// | `x` | n×p regressors, finite; a column `(Intercept)` is dropped when there are fixed effects |
/// | `column_names` | p names |
/// | `fixed_effects` | `(name, code per row)` per fixed effect (any `u32` codes; none for a model without fixed effects) |
/// | `weights` | ≥ 0, finite; rows with weight 0 are dropped |
/// | `offset` | Poisson: added to the linear predictor (log exposure); Gaussian: subtracted from `y` |
/// | `vcov` | [`Vcov`] |
/// | `model` | [`FeModel`] |
///
/// Non-convergence is not an error: the fit comes back with `converged = false`.
///
/// # Errors
/// Mismatched lengths; a non-finite value (named, with its row); a negative Poisson
/// outcome or negative weight; no observation left after the drops; a fixed effect or
/// cluster variable with a single level; more than two cluster variables; no regressor,
/// or all of them collinear; no residual degrees of freedom; an invalid option; a
/// diverging Poisson fit.
#[allow(clippy::too_many_arguments)]
pub fn fit_fe(
    y: &[f64],
    x: &DMatrix<f64>,
    column_names: &[String],
    fixed_effects: &[(String, Vec<u32>)],
    weights: Option<&[f64]>,
    offset: Option<&[f64]>,
    vcov: &Vcov,
    model: &FeModel,
) -> Result<FeFit, FeError> {
    let model = &model.validate()?;
    let n_input = y.len();
    validate_inputs(
        y,
        x,
        column_names,
        fixed_effects,
        weights,
        offset,
        vcov,
        model,
    )?;

    // Rows used. Codes far larger than the number of rows are compacted first, so that
    // tables indexed by code stay small.
    let fe_input: Vec<Cow<'_, [u32]>> = fixed_effects
        .iter()
        .map(|(_, c)| compact_codes(c))
        .collect();
    let (keep, dropped) = select_rows(y, &fe_input, weights, model);
    let n = keep.iter().filter(|&&k| k).count();
    if n == 0 {
        return Err(FeError::NoObservations { n_input, dropped });
    }
    let all_kept = n == n_input;

    // Fixed effects over the rows used, densely recoded.
    let mut fe_codes: Vec<Cow<'_, [u32]>> = Vec::with_capacity(fixed_effects.len());
    let mut fixed_effect_sizes = Vec::with_capacity(fixed_effects.len());
    for ((name, _), codes) in fixed_effects.iter().zip(fe_input) {
        let (dense, size) = match codes {
            Cow::Borrowed(c) => dense_codes(c, &keep, n),
            Cow::Owned(c) => {
                let (d, size) = dense_codes(&c, &keep, n);
                (Cow::Owned(d.into_owned()), size)
            }
        };
        if size < 2 {
            return Err(FeError::SingleLevelFixedEffect { name: name.clone() });
        }
        fe_codes.push(dense);
        fixed_effect_sizes.push((name.clone(), size));
    }
    let clusters = match vcov {
        Vcov::Cluster(vars) => {
            let mut out = Vec::with_capacity(vars.len());
            for (name, codes) in vars {
                let (dense, size) = dense_codes(codes, &keep, n);
                if size < 2 {
                    return Err(FeError::SingleCluster { name: name.clone() });
                }
                out.push((name.clone(), dense, size));
            }
            out
        }
        _ => Vec::new(),
    };

    // Regressors: drop the intercept when the fixed effects absorb it.
    let has_fe = !fixed_effects.is_empty();
    let candidate: Vec<usize> = (0..x.ncols())
        .filter(|&j| !(has_fe && column_names[j] == "(Intercept)"))
        .collect();
    if candidate.is_empty() {
        return Err(FeError::NoRegressors);
    }
    let gather = |v: &[f64]| -> Vec<f64> {
        if all_kept {
            v.to_vec()
        } else {
            v.iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(&x, _)| x)
                .collect()
        }
    };
    let y_used = gather(y);
    let w_used = weights.map(gather);
    let offset_used = offset.map(gather);
    let mut x_data = Vec::with_capacity(n * candidate.len());
    for &j in &candidate {
        let column = x.column(j);
        x_data.extend(
            column
                .iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(&v, _)| v),
        );
    }
    let x_used = DMatrix::from_vec(n, candidate.len(), x_data);
    let names_used: Vec<String> = candidate.iter().map(|&j| column_names[j].clone()).collect();

    let index = FixedEffectIndex::new(fe_codes, n);
    let estimate = match model.family {
        FeFamily::Gaussian => fit_gaussian(
            y_used,
            x_used,
            &names_used,
            &index,
            w_used.as_deref(),
            offset_used.as_deref(),
            model,
        )?,
        FeFamily::Poisson => fit_poisson(
            &y_used,
            x_used,
            &names_used,
            &index,
            w_used.as_deref(),
            offset_used.as_deref(),
            model,
        )?,
    };

    let sizes: Vec<usize> = fixed_effect_sizes.iter().map(|(_, s)| *s).collect();
    let k = estimate.names.len();
    let n_params = if sizes.is_empty() {
        k
    } else {
        k + sizes.iter().sum::<usize>() - (sizes.len() - 1)
    };
    if n_params >= n {
        return Err(FeError::NoResidualDf { n_obs: n, n_params });
    }
    let variance = variance(&estimate, &index, &sizes, &clusters, vcov, model.family, n);
    let coefficients = inference(&estimate, &variance.matrix, variance.t_df, model);

    Ok(FeFit {
        family: model.family,
        coefficients,
        vcov: variance.matrix,
        vcov_type: variance.label,
        n_obs: n,
        n_dropped: dropped.total(),
        dropped,
        collinear: estimate.collinear,
        iterations: estimate.iterations,
        converged: estimate.converged,
        demeaning_sweeps: estimate.sweeps,
        deviance: estimate.deviance,
        df_residual: n - n_params,
        df_k: variance.df_k,
        t_df: variance.t_df,
        fixed_effect_sizes,
        cluster_sizes: clusters
            .iter()
            .map(|(name, _, g)| (name.clone(), *g))
            .collect(),
        kept_rows: (0..n_input).filter(|&i| keep[i]).collect(),
    })
}

#[allow(clippy::too_many_arguments)]
fn validate_inputs(
    y: &[f64],
    x: &DMatrix<f64>,
    column_names: &[String],
    fixed_effects: &[(String, Vec<u32>)],
    weights: Option<&[f64]>,
    offset: Option<&[f64]>,
    vcov: &Vcov,
    model: &ValidFeModel,
) -> Result<(), FeError> {
    let n = y.len();
    let check = |what: String, found: usize, expected: usize| {
        if found == expected {
            Ok(())
        } else {
            Err(FeError::DimensionMismatch {
                what,
                expected,
                found,
            })
        }
    };
    check("the regressor matrix".to_string(), x.nrows(), n)?;
    check(
        "the column names".to_string(),
        column_names.len(),
        x.ncols(),
    )?;
    for (name, codes) in fixed_effects {
        check(format!("fixed effect `{name}`"), codes.len(), n)?;
    }
    if let Some(w) = weights {
        check("the weights".to_string(), w.len(), n)?;
    }
    if let Some(o) = offset {
        check("the offset".to_string(), o.len(), n)?;
    }
    if let Vcov::Cluster(vars) = vcov {
        if vars.is_empty() || vars.len() > 2 {
            return Err(FeError::ClusterCount { found: vars.len() });
        }
        for (name, codes) in vars {
            check(format!("cluster variable `{name}`"), codes.len(), n)?;
        }
    }
    if x.ncols() == 0 {
        return Err(FeError::NoRegressors);
    }
    for (i, &v) in y.iter().enumerate() {
        if !v.is_finite() {
            return Err(FeError::NonFinite {
                variable: "the outcome".to_string(),
                row: i,
                value: v,
            });
        }
        if model.family == FeFamily::Poisson && v < 0.0 {
            return Err(FeError::NegativeOutcome { row: i, value: v });
        }
    }
    for (j, name) in column_names.iter().enumerate() {
        if let Some((i, &v)) = x.column(j).iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(FeError::NonFinite {
                variable: name.clone(),
                row: i,
                value: v,
            });
        }
    }
    if let Some(w) = weights {
        for (i, &v) in w.iter().enumerate() {
            if !v.is_finite() {
                return Err(FeError::NonFinite {
                    variable: "the weights".to_string(),
                    row: i,
                    value: v,
                });
            }
            if v < 0.0 {
                return Err(FeError::NegativeWeight { row: i, value: v });
            }
        }
    }
    if let Some(o) = offset {
        if let Some((i, &v)) = o.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(FeError::NonFinite {
                variable: "the offset".to_string(),
                row: i,
                value: v,
            });
        }
    }
    Ok(())
}
