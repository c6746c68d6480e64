//! The pieces of Satterthwaite's degrees of freedom as lmerTest 3.1 defines them
//! (`as_lmerModLT`): the Hessian of the deviance in varpar = (θ, σ) (lmerTest's
//! `devfun_vp`, σ not profiled) and the Jacobian of `Cov(β̂) = σ² (XᵀH⁻¹X)⁻¹` in varpar,
//! both at the estimates.
//!
//! Where the model has analytic first derivatives (pls/gradient.rs: any first factor,
//! the others with one column), the σ row and column of the Hessian and the whole
//! Jacobian are in closed form, and the θ–θ block is the central difference of the
//! analytic gradient (2 × dim θ penalised least-squares solves, run in parallel; step
//! `1e-4 · max(|θⱼ|, 0.1)`, error O(step²)). lmerTest differentiates the deviance twice
//! numerically (numDeriv, Richardson extrapolation over four steps), about
//! `8 dim(θ)² + 4 dim(θ)` deviance evaluations; other models still do so here.

use nalgebra::{DMatrix, SymmetricEigen};
use rayon::prelude::*;

use super::pls::{self, Model};
use super::{dense, numderiv, Satterthwaite};

/// lmerTest's `as_lmerModLT`: the Hessian of the deviance in varpar = (θ, σ) and the
/// Jacobian of `Cov(β̂)` in varpar, both at the estimates.
pub(super) fn parts(
    model: &Model,
    theta: &[f64],
    sigma: f64,
    reml: bool,
    messages: &mut Vec<String>,
) -> Satterthwaite {
    let (p, k) = (model.p, theta.len());
    let (h, jacobian) = match analytic(model, theta, sigma, reml) {
        Some(parts) => parts,
        None => numeric(model, theta, sigma, reml),
    };
    if h.iter().any(|v| !v.is_finite()) {
        messages.push(
            "Satterthwaite: the deviance could not be evaluated near the estimates; the df are not available".into(),
        );
        let nan = DMatrix::from_element(k + 1, k + 1, f64::NAN);
        return Satterthwaite {
            vcov_varpar: nan,
            jacobian: vec![DMatrix::from_element(p, p, f64::NAN); k + 1],
        };
    }
    let eig = SymmetricEigen::new(h);
    let tol = 1e-8;
    let negative: Vec<f64> = eig
        .eigenvalues
        .iter()
        .copied()
        .filter(|&v| v < -tol)
        .collect();
    let zero: Vec<f64> = eig
        .eigenvalues
        .iter()
        .copied()
        .filter(|&v| v > -tol && v < tol)
        .collect();
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.1e}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if !negative.is_empty() {
        messages.push(format!(
            "Satterthwaite: model failed to converge with {} negative eigenvalue(s) of the deviance Hessian: {} (lmerTest)",
            negative.len(),
            fmt(&negative)
        ));
    }
    if !zero.is_empty() {
        messages.push(format!(
            "Satterthwaite: model may not have converged with {} eigenvalue(s) of the deviance Hessian close to zero: {} (lmerTest)",
            zero.len(),
            fmt(&zero)
        ));
    }
    let mut vcov_varpar = DMatrix::zeros(k + 1, k + 1);
    for (idx, &ev) in eig.eigenvalues.iter().enumerate() {
        if ev > tol {
            let v = eig.eigenvectors.column(idx);
            vcov_varpar += (v * v.transpose()) * (2.0 / ev);
        }
    }

    Satterthwaite {
        vcov_varpar,
        jacobian,
    }
}

/// The Hessian and the Jacobian as lmerTest computes them: Richardson-extrapolated
/// differences of the deviance and of `Cov(β̂)` (numDeriv's defaults), for models
/// without analytic derivatives.
fn numeric(
    model: &Model,
    theta: &[f64],
    sigma: f64,
    reml: bool,
) -> (DMatrix<f64>, Vec<DMatrix<f64>>) {
    let (n, p, k) = (model.n as f64, model.p, theta.len());
    let mut ws = model.workspace();
    let mut cache: Option<(Vec<f64>, Option<pls::Pls>)> = None;
    // lmerTest's devfun_vp.
    let mut devfun_vp = |vp: &[f64]| -> f64 {
        let th = &vp[..k];
        let s2 = vp[k] * vp[k];
        let pls = match &cache {
            Some((t, v)) if t.as_slice() == th => *v,
            _ => {
                let v = model.solve(th, &mut ws, false);
                cache = Some((th.to_vec(), v));
                v
            }
        };
        let Some(s) = pls else { return f64::NAN };
        let two_pi_s2 = 2.0 * std::f64::consts::PI * s2;
        let mut dev = s.log_det_l + s.pwrss / s2 + n * two_pi_s2.ln();
        if reml {
            dev += s.log_det_rx - p as f64 * two_pi_s2.ln();
        }
        dev
    };
    let mut varpar = theta.to_vec();
    varpar.push(sigma);
    let h = numderiv::hessian(&mut devfun_vp, &varpar);
    let h = DMatrix::from_fn(k + 1, k + 1, |i, j| h[i][j]);
    // lmerTest's get_covbeta; the σ column is exact: ∂(σ² M)/∂σ = 2σ M.
    let mut ws = model.workspace();
    let mut covbeta = |vp: &[f64]| -> Vec<f64> {
        let s2 = vp[k] * vp[k];
        match model.solve(&vp[..k], &mut ws, false) {
            Some(_) => dense::chol_inverse(&ws.lx, p)
                .iter()
                .map(|v| v * s2)
                .collect(),
            None => vec![f64::NAN; p * p],
        }
    };
    let which: Vec<usize> = (0..k).collect();
    let jac = numderiv::jacobian(&mut covbeta, &varpar, &which);
    let mut jacobian: Vec<DMatrix<f64>> = jac
        .iter()
        .map(|col| DMatrix::from_fn(p, p, |i, j| col[i * p + j]))
        .collect();
    let unscaled = match model.solve(theta, &mut ws, false) {
        Some(_) => dense::chol_inverse(&ws.lx, p),
        None => vec![f64::NAN; p * p],
    };
    jacobian.push(DMatrix::from_fn(p, p, |i, j| {
        2.0 * sigma * unscaled[i * p + j]
    }));
    (h, jacobian)
}

/// The Hessian and the Jacobian from the analytic derivatives, or `None` where the
/// model has none (or they cannot be evaluated near the estimates).
fn analytic(
    model: &Model,
    theta: &[f64],
    sigma: f64,
    reml: bool,
) -> Option<(DMatrix<f64>, Vec<DMatrix<f64>>)> {
    if !model.has_derivatives() {
        return None;
    }
    let (p, k) = (model.p, theta.len());
    let df = if reml { model.n - p } else { model.n } as f64;
    let s2 = sigma * sigma;
    // ∂ devfun_vp / ∂θ at fixed σ.
    let gradient = |ws: &mut pls::Workspace, th: &[f64]| -> Option<Vec<f64>> {
        model.solve(th, ws, true)?;
        let d = model.derivatives(ws, reml, false)?;
        Some(
            d.trace
                .iter()
                .zip(&d.quad)
                .map(|(t, q)| t - q / s2)
                .collect(),
        )
    };
    let steps: Vec<f64> = theta.iter().map(|t| 1e-4 * t.abs().max(0.1)).collect();
    let points: Vec<Vec<f64>> = (0..2 * k)
        .map(|m| {
            let (j, sign) = (m / 2, if m % 2 == 0 { 1.0 } else { -1.0 });
            let mut t = theta.to_vec();
            t[j] += sign * steps[j];
            t
        })
        .collect();
    let gradients: Vec<Option<Vec<f64>>> = points
        .par_iter()
        .map_init(|| model.workspace(), |ws, t| gradient(ws, t))
        .collect();
    let mut h = DMatrix::zeros(k + 1, k + 1);
    for j in 0..k {
        let (plus, minus) = (gradients[2 * j].as_ref()?, gradients[2 * j + 1].as_ref()?);
        for i in 0..k {
            h[(i, j)] = (plus[i] - minus[i]) / (2.0 * steps[j]);
        }
    }
    for i in 0..k {
        for j in 0..i {
            let v = 0.5 * (h[(i, j)] + h[(j, i)]);
            h[(i, j)] = v;
            h[(j, i)] = v;
        }
    }
    let mut ws = model.workspace();
    let s = model.solve(theta, &mut ws, true)?;
    let d = model.derivatives(&mut ws, reml, true)?;
    for j in 0..k {
        let v = 2.0 * d.quad[j] / (s2 * sigma);
        h[(j, k)] = v;
        h[(k, j)] = v;
    }
    h[(k, k)] = 6.0 * s.pwrss / (s2 * s2) - 2.0 * df / s2;
    // ∂(σ²C)/∂θⱼ = σ² C (Y ∂(ΛΛᵀ)/∂θⱼ Yᵀ) C and ∂(σ²C)/∂σ = 2σC, C = (XᵀH⁻¹X)⁻¹.
    let unscaled = dense::chol_inverse(&ws.lx, p);
    let c = DMatrix::from_fn(p, p, |i, j| unscaled[i * p + j]);
    let mut jacobian: Vec<DMatrix<f64>> = d.info_x.iter().map(|m| (&c * m * &c) * s2).collect();
    jacobian.push(&c * (2.0 * sigma));
    Some((h, jacobian))
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::super::pls::{Model, TermInput};
    use super::{analytic, numeric};

    /// Sleepstudy-like data with a random slope and a crossed intercept.
    fn model() -> Model {
        let n = 240;
        let mut next = crate::test_support::uniform_stream(11);
        let mut x = DMatrix::zeros(n, 2);
        let mut y = vec![0.0; n];
        let mut za = DMatrix::zeros(n, 2);
        let (mut ca, mut cb) = (vec![0u32; n], vec![0u32; n]);
        let a_eff: Vec<f64> = (0..24).map(|_| next() - 0.5).collect();
        for i in 0..n {
            let t = (i % 10) as f64;
            x[(i, 0)] = 1.0;
            x[(i, 1)] = t;
            za[(i, 0)] = 1.0;
            za[(i, 1)] = t;
            ca[i] = (i / 10) as u32;
            cb[i] = ((next() * 6.0) as u32).min(5);
            y[i] = 2.0
                + 0.5 * t
                + 3.0 * a_eff[ca[i] as usize] * (1.0 + 0.1 * t)
                + 0.5 * cb[i] as f64
                + next();
        }
        let ones = DMatrix::from_element(n, 1, 1.0);
        let inputs = [
            TermInput {
                group: "a",
                codes: &ca,
                n_levels: 24,
                z: &za,
            },
            TermInput {
                group: "b",
                codes: &cb,
                n_levels: 6,
                z: &ones,
            },
        ];
        Model::new(&x, &y, &inputs)
    }

    #[test]
    fn analytic_parts_agree_with_lmertest_numerical_derivatives() {
        let m = model();
        let theta = [1.3, 0.05, 0.2, 0.6];
        for reml in [true, false] {
            let (ha, ja) = analytic(&m, &theta, 0.9, reml).expect("analytic");
            let (hn, jn) = numeric(&m, &theta, 0.9, reml);
            let err = (&ha - &hn).amax();
            assert!(
                err <= 1e-5 * hn.amax(),
                "Hessian differs by {err}:\n{ha}\n{hn}"
            );
            for (a, b) in ja.iter().zip(&jn) {
                let err = (a - b).amax();
                assert!(
                    err <= 1e-6 * (b.amax() + 1e-12),
                    "Jacobian differs by {err}"
                );
            }
        }
    }
}
