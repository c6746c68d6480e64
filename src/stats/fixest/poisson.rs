//! Poisson pseudo-maximum likelihood with fixed effects (fixest's `fepois`): IRLS with
//! weighted demeaning at every step, warm-started and with a demeaning tolerance that
//! tightens as the deviance converges (Correia, Guimarães & Zylkin 2020).

use nalgebra::{DMatrix, DVector};

use super::collinear::{
    dropped_names, independent_columns, kept_names, reference_scales, select_columns,
};
use super::estimate::{solve_wls, Estimate};
use super::index::FixedEffectIndex;
use super::options::ValidFeModel;
use super::FeError;

/// Poisson deviance 2 Σ wᵢ (yᵢ log(yᵢ/μᵢ) − (yᵢ − μᵢ)).
fn poisson_deviance(y: &[f64], mu: &[f64], weights: Option<&[f64]>) -> f64 {
    let mut d = 0.0;
    for i in 0..y.len() {
        let term = if y[i] > 0.0 {
            y[i] * (y[i] / mu[i]).ln()
        } else {
            0.0
        } - (y[i] - mu[i]);
        d += weights.map_or(term, |w| w[i] * term);
    }
    2.0 * d
}

/// Loosest demeaning tolerance used in early IRLS iterations.
const LOOSE_FIXEF_TOLERANCE: f64 = 1e-4;

pub(super) fn fit_poisson(
    y: &[f64],
    x: DMatrix<f64>,
    names: &[String],
    index: &FixedEffectIndex<'_>,
    weights: Option<&[f64]>,
    offset: Option<&[f64]>,
    model: &ValidFeModel,
) -> Result<Estimate, FeError> {
    let n = y.len();
    let mut names: Vec<String> = names.to_vec();
    let mut collinear: Vec<String> = Vec::new();
    let off = |i: usize| offset.map_or(0.0, |o| o[i]);
    let prior = |i: usize| weights.map_or(1.0, |w| w[i]);

    // Buffers, reused across iterations. `irls_w` holds μ between iterations and the
    // working weights (prior weight × μ) during one.
    let y_mean = y.iter().sum::<f64>() / n as f64;
    // Starting values as pyfixest: μ = (y + ȳ) / 2 with the unweighted mean.
    let mut irls_w = DVector::<f64>::from_fn(n, |i, _| (y[i] + y_mean) / 2.0);
    let mut eta: Vec<f64> = irls_w.iter().map(|m| m.ln()).collect();
    let mut last_deviance = poisson_deviance(y, irls_w.as_slice(), weights);
    // The regressors are demeaned in place; before each re-demeaning with new weights
    // their fixed-effect part is added back (X = X̃ + Σ_q α_q), which saves a copy of X
    // at the price of a rounding error of a few ulps per iteration.
    let mut x_tilde = x;
    let mut z_tilde = DVector::<f64>::zeros(n);
    let mut coef_z: Vec<f64> = Vec::new();
    let mut coef_x: Vec<Vec<f64>> = vec![Vec::new(); x_tilde.ncols()];
    let mut inner_tol = LOOSE_FIXEF_TOLERANCE.max(model.fixef_tolerance);
    let mut converged = false;
    let mut iterations = 0;
    let mut sweeps = 0;
    let mut demeaning_converged = true;
    let mut beta: Option<Vec<f64>> = None;
    let mut deviance = last_deviance;

    for iteration in 1..=model.irls_max_iter {
        iterations = iteration;
        for i in 0..n {
            let mu = irls_w[i];
            irls_w[i] = prior(i) * mu;
            z_tilde[i] = eta[i] - off(i) + y[i] / mu - 1.0;
        }
        index.restore_columns(&mut x_tilde, &coef_x);
        let lw = index.level_weights(Some(irls_w.as_slice()));
        let mut columns: Vec<(&mut [f64], &mut Vec<f64>)> = Vec::with_capacity(x_tilde.ncols() + 1);
        columns.push((z_tilde.as_mut_slice(), &mut coef_z));
        for (col, c) in x_tilde
            .as_mut_slice()
            .chunks_mut(n.max(1))
            .zip(coef_x.iter_mut())
        {
            columns.push((col, c));
        }
        let outcomes = index.demean_columns(&lw, columns, inner_tol, model.fixef_max_iter);
        sweeps = sweeps.max(outcomes.iter().map(|d| d.sweeps).max().unwrap_or(0));
        let full_tolerance = inner_tol <= model.fixef_tolerance;

        if iteration == 1 {
            // Collinearity with the fixed effects, judged at the first weights (pyfixest).
            let sum_w: f64 = irls_w.iter().sum();
            let reference = reference_scales(
                &x_tilde,
                Some(irls_w.as_slice()),
                &outcomes[1..],
                index.n_fe() > 0,
                sum_w,
            );
            let keep = independent_columns(
                &x_tilde,
                Some(irls_w.as_slice()),
                &reference,
                model.collinearity_tolerance,
            );
            if !keep.iter().any(|&k| k) {
                return Err(FeError::AllCollinear { names });
            }
            if keep.iter().any(|&k| !k) {
                drop_columns(&keep, &mut names, &mut collinear, &mut x_tilde, &mut coef_x);
            }
        }
        let sol = loop {
            let (sol, aliased) = solve_wls(&x_tilde, &z_tilde, &irls_w)?;
            if !aliased.iter().any(|&a| a) {
                break sol;
            }
            // Collinear at these weights though not at the first ones: drop and re-solve.
            let keep: Vec<bool> = aliased.iter().map(|&a| !a).collect();
            drop_columns(&keep, &mut names, &mut collinear, &mut x_tilde, &mut coef_x);
            if names.is_empty() {
                return Err(FeError::AllCollinear { names: collinear });
            }
        };

        // η = z − (z̃ − X̃β) + offset with z = η_old − offset + y/μ_old − 1; `irls_w`
        // receives the new μ.
        let b = sol.coefficients.as_slice();
        let mut dev = 0.0;
        for i in 0..n {
            let mut fitted = 0.0;
            for (j, bj) in b.iter().enumerate() {
                fitted += x_tilde[(i, j)] * bj;
            }
            let resid = z_tilde[i] - fitted;
            let mu_old = irls_w[i] / prior(i);
            eta[i] += y[i] / mu_old - 1.0 - resid;
            let mu = eta[i].exp();
            if !mu.is_finite() {
                return Err(FeError::Diverged { iteration });
            }
            irls_w[i] = mu;
            let term = if y[i] > 0.0 {
                y[i] * (y[i] / mu).ln()
            } else {
                0.0
            } - (y[i] - mu);
            dev += prior(i) * term;
        }
        deviance = 2.0 * dev;
        if !deviance.is_finite() {
            return Err(FeError::Diverged { iteration });
        }
        let crit = (deviance - last_deviance).abs() / (0.1 + last_deviance.abs());
        last_deviance = deviance;
        beta = Some(b.to_vec());
        demeaning_converged = outcomes.iter().all(|d| d.converged);
        if crit < model.irls_tolerance && full_tolerance {
            converged = true;
            break;
        }
        inner_tol = model
            .fixef_tolerance
            .max((crit * 1e-3).min(LOOSE_FIXEF_TOLERANCE));
    }
    drop(eta);
    let Some(beta) = beta else {
        return Err(FeError::AllCollinear { names: collinear });
    };

    // The variance at the solution: weights (prior weight × μᵢ), regressors demeaned
    // with them (warm-started, so cheap), and the working residuals there,
    // (yᵢ − μᵢ)/μᵢ, which the first-order conditions make orthogonal to the fixed
    // effects and X̃. pyfixest and fixest take them from the last IRLS step, one step
    // behind; at their tight-tolerance solution the two agree.
    for i in 0..n {
        let mu = irls_w[i];
        irls_w[i] = prior(i) * mu;
        z_tilde[i] = (y[i] - mu) / mu;
    }
    index.restore_columns(&mut x_tilde, &coef_x);
    let lw = index.level_weights(Some(irls_w.as_slice()));
    let columns: Vec<(&mut [f64], &mut Vec<f64>)> = x_tilde
        .as_mut_slice()
        .chunks_mut(n.max(1))
        .zip(coef_x.iter_mut())
        .collect();
    let outcomes = index.demean_columns(&lw, columns, model.fixef_tolerance, model.fixef_max_iter);
    sweeps = sweeps.max(outcomes.iter().map(|d| d.sweeps).max().unwrap_or(0));
    let demeaning_converged = demeaning_converged && outcomes.iter().all(|d| d.converged);
    let (at_solution, aliased) = solve_wls(&x_tilde, &z_tilde, &irls_w)?;
    if aliased.iter().any(|&a| a) {
        return Err(FeError::AllCollinear { names });
    }
    // Score multipliers (prior weight × (yᵢ − μᵢ)), in the working-residual buffer.
    for i in 0..n {
        z_tilde[i] *= irls_w[i];
    }
    Ok(Estimate {
        names,
        beta,
        bread: at_solution.unscaled_covariance(),
        x_tilde,
        u: Vec::from(z_tilde.data),
        rss: 0.0,
        deviance,
        collinear,
        iterations,
        converged: converged && demeaning_converged,
        sweeps,
    })
}

/// Removes the columns not in `keep` from the (demeaned) regressors and their warm
/// starts, and records their names as collinear.
fn drop_columns(
    keep: &[bool],
    names: &mut Vec<String>,
    collinear: &mut Vec<String>,
    x_tilde: &mut DMatrix<f64>,
    coef_x: &mut Vec<Vec<f64>>,
) {
    collinear.extend(dropped_names(names, keep));
    *names = kept_names(names, keep);
    *x_tilde = select_columns(x_tilde, keep);
    let mut flags = keep.iter();
    coef_x.retain(|_| flags.next().copied().unwrap_or(false));
}
