//! Least squares with fixed effects (fixest's `feols`): the outcome and the regressors
//! are demeaned once, collinear regressors dropped, and the demeaned outcome regressed
//! on the demeaned regressors.

use nalgebra::{DMatrix, DVector};

use super::collinear::{
    dropped_names, independent_columns, kept_names, reference_scales, select_columns,
};
use super::estimate::{solve_wls, Estimate};
use super::index::FixedEffectIndex;
use super::options::ValidFeModel;
use super::FeError;

pub(super) fn fit_gaussian(
    mut y: Vec<f64>,
    mut x: DMatrix<f64>,
    names: &[String],
    index: &FixedEffectIndex<'_>,
    weights: Option<&[f64]>,
    offset: Option<&[f64]>,
    model: &ValidFeModel,
) -> Result<Estimate, FeError> {
    let n = y.len();
    if let Some(o) = offset {
        for (yi, oi) in y.iter_mut().zip(o) {
            *yi -= oi;
        }
    }
    let lw = index.level_weights(weights);
    let p = x.ncols();
    let mut coefs: Vec<Vec<f64>> = vec![Vec::new(); p + 1];
    let mut columns: Vec<(&mut [f64], &mut Vec<f64>)> = Vec::with_capacity(p + 1);
    let (coef_y, coef_x) = coefs.split_at_mut(1);
    columns.push((&mut y[..], &mut coef_y[0]));
    for (col, c) in x.as_mut_slice().chunks_mut(n.max(1)).zip(coef_x.iter_mut()) {
        columns.push((col, c));
    }
    let outcomes = index.demean_columns(&lw, columns, model.fixef_tolerance, model.fixef_max_iter);
    drop(coefs);
    let sum_w = weights.map_or(n as f64, |w| w.iter().sum());
    let reference = reference_scales(&x, weights, &outcomes[1..], index.n_fe() > 0, sum_w);

    let keep = independent_columns(&x, weights, &reference, model.collinearity_tolerance);
    if !keep.iter().any(|&k| k) {
        return Err(FeError::AllCollinear {
            names: names.to_vec(),
        });
    }
    let mut collinear = dropped_names(names, &keep);
    let mut kept = kept_names(names, &keep);
    if !collinear.is_empty() {
        x = select_columns(&x, &keep);
    }
    let w_vec = DVector::from_vec(weights.map_or_else(|| vec![1.0; n], <[f64]>::to_vec));
    let y_vec = DVector::from_vec(y);
    let sol = loop {
        let (sol, aliased) = solve_wls(&x, &y_vec, &w_vec)?;
        if !aliased.iter().any(|&a| a) {
            break sol;
        }
        let keep: Vec<bool> = aliased.iter().map(|&a| !a).collect();
        collinear.extend(dropped_names(&kept, &keep));
        kept = kept_names(&kept, &keep);
        if kept.is_empty() {
            return Err(FeError::AllCollinear {
                names: names.to_vec(),
            });
        }
        x = select_columns(&x, &keep);
    };
    let beta: Vec<f64> = sol.coefficients.iter().copied().collect();
    // Residuals, then the score multipliers wᵢ eᵢ in the outcome's buffer.
    let mut u = y_vec;
    let mut rss = 0.0;
    for i in 0..n {
        let mut fitted = 0.0;
        for (j, bj) in beta.iter().enumerate() {
            fitted += x[(i, j)] * bj;
        }
        let e = u[i] - fitted;
        rss += w_vec[i] * e * e;
        u[i] = w_vec[i] * e;
    }
    drop(w_vec);
    let u = Vec::from(u.data);
    let sweeps = outcomes.iter().map(|d| d.sweeps).max().unwrap_or(0);
    let converged = outcomes.iter().all(|d| d.converged);
    Ok(Estimate {
        names: kept,
        beta,
        bread: sol.unscaled_covariance(),
        x_tilde: x,
        u,
        rss,
        deviance: rss,
        collinear,
        iterations: 1,
        converged,
        sweeps,
    })
}
