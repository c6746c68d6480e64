//! Bounded minimisation of the profiled deviance over θ.
//!
//! lme4 uses BOBYQA (nloptr, `xtol_abs = ftol_abs = 1e-8`). Here: a Nelder–Mead simplex
//! whose trial points are projected onto the bounds brings θ near the optimum, then a
//! projected Newton iteration with central-difference gradient and Hessian polishes it.
//! The deviance is smooth in θ everywhere (also for negative diagonal elements of Λ,
//! which leave ΛΛᵀ positive semi-definite), so the differences may straddle a bound.
//! Newton converges quadratically and ends well inside lme4's own tolerance: the
//! deviance to ~1e-10 and θ to ~1e-8 where the optimum is well defined.

mod quasi_newton;

use nalgebra::{DMatrix, DVector, SymmetricEigen};

pub(super) use quasi_newton::minimize_with_gradient;

/// The result of [`minimize`].
#[derive(Clone, Debug)]
pub(super) struct Minimum {
    pub x: Vec<f64>,
    pub evaluations: usize,
    pub converged: bool,
    /// Why it did not converge.
    pub message: Option<String>,
}

struct Counted<'a> {
    f: &'a mut dyn FnMut(&[f64]) -> f64,
    evaluations: usize,
}

impl Counted<'_> {
    fn eval(&mut self, x: &[f64]) -> f64 {
        self.evaluations += 1;
        let v = (self.f)(x);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    }
}

fn project(x: &mut [f64], lower: &[f64]) {
    for (v, &l) in x.iter_mut().zip(lower) {
        if *v < l {
            *v = l;
        }
    }
}

/// Minimises `f` over `x ≥ lower` from `x0`.
pub(super) fn minimize(
    f: &mut dyn FnMut(&[f64]) -> f64,
    x0: &[f64],
    lower: &[f64],
    max_evaluations: usize,
) -> Minimum {
    let mut fun = Counted { f, evaluations: 0 };
    let (x, fx, nm_ok) = nelder_mead(&mut fun, x0, lower, max_evaluations / 2);

    let (x, fx, decrement, newton_ok, message) =
        newton_polish(&mut fun, x, fx, lower, max_evaluations);
    let converged = fx.is_finite() && newton_ok;
    let message = if converged {
        None
    } else if !fx.is_finite() {
        Some("the deviance is not finite at any value tried".to_string())
    } else if !nm_ok && !newton_ok {
        Some(format!(
            "the optimiser stopped after {} deviance evaluations without converging",
            fun.evaluations
        ))
    } else {
        message.or_else(|| {
            Some(format!(
                "the deviance is not at a minimum: Newton decrement {decrement:.2e}"
            ))
        })
    };
    Minimum {
        x,
        evaluations: fun.evaluations,
        converged,
        message,
    }
}

/// Nelder–Mead with projection onto the bounds; stops when the simplex values agree to
/// `1e-7` relative (the Newton polish takes it from there).
fn nelder_mead(
    fun: &mut Counted<'_>,
    x0: &[f64],
    lower: &[f64],
    max_evaluations: usize,
) -> (Vec<f64>, f64, bool) {
    let n = x0.len();
    let mut simplex: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    let mut start = x0.to_vec();
    project(&mut start, lower);
    simplex.push(start.clone());
    for i in 0..n {
        let mut v = start.clone();
        v[i] += 0.2 * start[i].abs().max(1.0);
        simplex.push(v);
    }
    let mut values: Vec<f64> = simplex.iter().map(|v| fun.eval(v)).collect();
    let (alpha, gamma, rho, sigma) = (1.0, 2.0, 0.5, 0.5);
    let mut ok = false;
    while fun.evaluations < max_evaluations {
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        simplex = order.iter().map(|&i| simplex[i].clone()).collect();
        values = order.iter().map(|&i| values[i]).collect();
        let (best, worst) = (values[0], values[n]);
        let size = simplex
            .iter()
            .skip(1)
            .flat_map(|v| v.iter().zip(&simplex[0]).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        if best.is_finite() && (worst - best) <= 1e-7 * (best.abs() + 1.0) && size < 1e-3 {
            ok = true;
            break;
        }
        if size < 1e-10 {
            ok = best.is_finite();
            break;
        }
        let mut centroid = vec![0.0; n];
        for v in simplex.iter().take(n) {
            for (c, x) in centroid.iter_mut().zip(v) {
                *c += x / n as f64;
            }
        }
        let point = |t: f64, from: &[f64]| -> Vec<f64> {
            let mut p: Vec<f64> = centroid
                .iter()
                .zip(from)
                .map(|(c, x)| c + t * (x - c))
                .collect();
            project(&mut p, lower);
            p
        };
        let xr = point(-alpha, &simplex[n]);
        let fr = fun.eval(&xr);
        if fr < values[0] {
            let xe = point(-gamma, &simplex[n]);
            let fe = fun.eval(&xe);
            if fe < fr {
                simplex[n] = xe;
                values[n] = fe;
            } else {
                simplex[n] = xr;
                values[n] = fr;
            }
            continue;
        }
        if fr < values[n - 1] {
            simplex[n] = xr;
            values[n] = fr;
            continue;
        }
        let (xc, fc) = if fr < values[n] {
            let xc = point(-rho, &simplex[n]);
            let fc = fun.eval(&xc);
            (xc, if fc <= fr { fc } else { f64::INFINITY })
        } else {
            let xc = point(rho, &simplex[n]);
            let fc = fun.eval(&xc);
            (xc, if fc < values[n] { fc } else { f64::INFINITY })
        };
        if fc.is_finite() {
            simplex[n] = xc;
            values[n] = fc;
            continue;
        }
        for i in 1..=n {
            let mut v: Vec<f64> = simplex[0]
                .iter()
                .zip(&simplex[i])
                .map(|(b, x)| b + sigma * (x - b))
                .collect();
            project(&mut v, lower);
            values[i] = fun.eval(&v);
            simplex[i] = v;
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    (simplex[best].clone(), values[best], ok)
}

/// Finite differences at `x` with steps `h_i = 1e-3 · max(|x_i|, 1)`: the central
/// gradient and Hessian (error O(h²)), and the values at `x ± h_i e_i` for a later
/// five-point gradient. Costs `2m + 2m(m−1)` evaluations.
struct Differences {
    h: Vec<f64>,
    plus: Vec<f64>,
    minus: Vec<f64>,
    g: DVector<f64>,
    hess: DMatrix<f64>,
}

fn differences(fun: &mut Counted<'_>, x: &[f64], fx: f64) -> Differences {
    let n = x.len();
    let h: Vec<f64> = x.iter().map(|v| 1e-3 * v.abs().max(1.0)).collect();
    let mut g = DVector::zeros(n);
    let mut hess = DMatrix::zeros(n, n);
    let (mut plus, mut minus) = (vec![0.0; n], vec![0.0; n]);
    let mut xp = x.to_vec();
    for i in 0..n {
        xp[i] = x[i] + h[i];
        plus[i] = fun.eval(&xp);
        xp[i] = x[i] - h[i];
        minus[i] = fun.eval(&xp);
        xp[i] = x[i];
        g[i] = (plus[i] - minus[i]) / (2.0 * h[i]);
        hess[(i, i)] = (plus[i] - 2.0 * fx + minus[i]) / (h[i] * h[i]);
    }
    for i in 0..n {
        for j in 0..i {
            let mut f4 = [0.0; 4];
            for (k, (si, sj)) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)]
                .iter()
                .enumerate()
            {
                xp[i] = x[i] + si * h[i];
                xp[j] = x[j] + sj * h[j];
                f4[k] = fun.eval(&xp);
            }
            xp[i] = x[i];
            xp[j] = x[j];
            let v = (f4[0] - f4[1] - f4[2] + f4[3]) / (4.0 * h[i] * h[j]);
            hess[(i, j)] = v;
            hess[(j, i)] = v;
        }
    }
    Differences {
        h,
        plus,
        minus,
        g,
        hess,
    }
}

/// The five-point gradient (error O(h⁴)) from [`Differences`] and `2m` more evaluations.
fn precise_gradient(fun: &mut Counted<'_>, x: &[f64], d: &Differences) -> DVector<f64> {
    let n = x.len();
    let mut g = DVector::zeros(n);
    let mut xp = x.to_vec();
    for i in 0..n {
        xp[i] = x[i] + 2.0 * d.h[i];
        let f2p = fun.eval(&xp);
        xp[i] = x[i] - 2.0 * d.h[i];
        let f2m = fun.eval(&xp);
        xp[i] = x[i];
        g[i] = (-f2p + 8.0 * d.plus[i] - 8.0 * d.minus[i] + f2m) / (12.0 * d.h[i]);
    }
    g
}

/// Projected Newton with an active set at the lower bounds and a backtracking line
/// search. Returns the point, its value, the final Newton decrement, whether it stopped
/// normally, and a message otherwise.
///
/// Near the minimum the predicted decrease falls below the rounding noise of the
/// deviance; there one last step with a five-point gradient is taken (unless it makes
/// the deviance clearly worse), so θ is located by the gradient, whose noise is ~ε/h,
/// rather than by comparing function values, whose resolution is only ~√ε in θ.
fn newton_polish(
    fun: &mut Counted<'_>,
    mut x: Vec<f64>,
    mut fx: f64,
    lower: &[f64],
    max_evaluations: usize,
) -> (Vec<f64>, f64, f64, bool, Option<String>) {
    let n = x.len();
    let mut decrement = f64::INFINITY;
    if !fx.is_finite() {
        return (x, fx, decrement, false, None);
    }
    // Values within 1e-8 of a bound are put on it (lme4's BOBYQA ends there too).
    let mut snapped = x.clone();
    for (v, &l) in snapped.iter_mut().zip(lower) {
        if *v - l < 1e-8 {
            *v = l;
        }
    }
    if snapped != x {
        let fs = fun.eval(&snapped);
        if fs <= fx + 1e-10 * (1.0 + fx.abs()) {
            x = snapped;
            fx = fs;
        }
    }
    let mut previous_step = f64::INFINITY;
    let mut last_steps = 0;
    for _ in 0..50 {
        if fun.evaluations + 2 * n * n + 4 * n + 40 > max_evaluations {
            return (
                x,
                fx,
                decrement,
                false,
                Some("too many deviance evaluations".into()),
            );
        }
        let d = differences(fun, &x, fx);
        if d.g.iter().any(|v| !v.is_finite()) || d.hess.iter().any(|v| !v.is_finite()) {
            return (
                x,
                fx,
                decrement,
                false,
                Some("non-finite derivatives of the deviance".into()),
            );
        }
        let noise = 1e-11 * (1.0 + fx.abs());
        let g = precise_gradient(fun, &x, &d);
        let (step, dec) = constrained_step(&x, &g, &d.hess, lower);
        decrement = dec;
        let last = decrement < 1e3 * noise;
        let scale = x.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        let step_size = step.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        // Converged: a negligible step, or steps at the noise level that no longer
        // shrink as Newton steps do.
        if step_size <= 1e-10 * scale
            || (last && (step_size > 0.5 * previous_step || last_steps >= 3))
        {
            return (x, fx, decrement, true, None);
        }
        previous_step = step_size;
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            let mut xn: Vec<f64> = x.iter().zip(&step).map(|(a, s)| a + t * s).collect();
            project(&mut xn, lower);
            let fnew = fun.eval(&xn);
            if fnew < fx || (last && fnew <= fx + noise) {
                x = xn;
                fx = fnew;
                accepted = true;
                break;
            }
            if last {
                break;
            }
            t *= 0.5;
        }
        if last {
            last_steps += 1;
        }
        if !accepted {
            // No decrease along the Newton direction: the minimum to the precision of
            // the deviance, unless the decrement says otherwise.
            let ok = decrement < 1e4 * noise;
            let message = (!ok).then(|| {
                format!("no decrease along the Newton direction with decrement {decrement:.2e}")
            });
            return (x, fx, decrement, ok, message);
        }
    }
    (
        x,
        fx,
        decrement,
        false,
        Some("the Newton polish did not settle in 50 iterations".into()),
    )
}

/// The projected Newton step: parameters on a lower bound whose gradient or step points
/// outwards are held fixed (the active set grows until the step is consistent).
fn constrained_step(
    x: &[f64],
    g: &DVector<f64>,
    h: &DMatrix<f64>,
    lower: &[f64],
) -> (Vec<f64>, f64) {
    let n = x.len();
    let mut active: Vec<bool> = (0..n).map(|i| x[i] <= lower[i] && g[i] > 0.0).collect();
    loop {
        let free: Vec<usize> = (0..n).filter(|&i| !active[i]).collect();
        let (step, dec) = newton_step(g, h, &free, n);
        let newly: Vec<usize> = free
            .iter()
            .copied()
            .filter(|&i| x[i] <= lower[i] && step[i] < 0.0)
            .collect();
        if newly.is_empty() {
            return (step, dec);
        }
        for i in newly {
            active[i] = true;
        }
    }
}

/// The Newton step on the `free` coordinates (eigenvalues of the Hessian floored, so the
/// step is a descent direction) and the decrement `gᵀH⁻¹g`.
fn newton_step(g: &DVector<f64>, h: &DMatrix<f64>, free: &[usize], n: usize) -> (Vec<f64>, f64) {
    let mut step = vec![0.0; n];
    let m = free.len();
    if m == 0 {
        return (step, 0.0);
    }
    let hf = DMatrix::from_fn(m, m, |a, b| h[(free[a], free[b])]);
    let gf = DVector::from_fn(m, |a, _| g[free[a]]);
    let eig = SymmetricEigen::new(hf);
    let max_ev = eig.eigenvalues.iter().fold(0.0f64, |a, &v| a.max(v.abs()));
    let floor = (1e-10 * max_ev).max(1e-12);
    let mut step_f = DVector::zeros(m);
    let mut dec = 0.0;
    for k in 0..m {
        let lam = eig.eigenvalues[k].abs().max(floor);
        let v = eig.eigenvectors.column(k);
        let proj = v.dot(&gf);
        dec += proj * proj / lam;
        step_f -= v * (proj / lam);
    }
    for (a, &i) in free.iter().enumerate() {
        step[i] = step_f[a];
    }
    (step, dec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_bounded_quadratic() {
        let mut f = |x: &[f64]| (x[0] - 2.0).powi(2) + 3.0 * (x[1] + 1.0).powi(2) + x[0] * x[1];
        let m = minimize(&mut f, &[1.0, 1.0], &[0.0, 0.0], 10_000);
        assert!(m.converged, "{:?}", m.message);
        // With x1 ≥ 0 bound active: minimise (x0-2)² + x0 x1 + 3(x1+1)² → x1 = 0, x0 = 2.
        assert!((m.x[0] - 2.0).abs() < 1e-8 && m.x[1] == 0.0, "{:?}", m.x);
    }

    #[test]
    fn finds_the_minimum_of_rosenbrock() {
        let mut f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = minimize(
            &mut f,
            &[-1.2, 1.0],
            &[f64::NEG_INFINITY, f64::NEG_INFINITY],
            10_000,
        );
        assert!(m.converged, "{:?}", m.message);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-8 && (m.x[1] - 1.0).abs() < 1e-8,
            "{:?}",
            m.x
        );
    }
}
