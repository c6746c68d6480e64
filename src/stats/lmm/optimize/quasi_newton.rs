//! Bounded minimisation with an analytic gradient: a projected BFGS iteration (Nocedal &
//! Wright 2006, algorithm 6.1, with the initial scaling of their eq. 6.20) whose
//! parameters on a lower bound with the gradient pointing outwards are held fixed, and a
//! backtracking (Armijo) line search along the projected path.
//!
//! It stops when the quasi-Newton decrement `gᵀ H⁻¹ g` over the free parameters falls
//! below `1e-15` (θ then lies within about `√(1e-15 / curvature)` of the minimum, well
//! inside lme4's tolerance), or when a step no longer changes θ.

use nalgebra::{DMatrix, DVector};

use super::{project, Minimum};

/// The value at a point and, when the flag is set, the gradient (else an empty vector);
/// `None` (or a non-finite value) where the objective cannot be evaluated. The gradient
/// is asked for only at the point of the call just before, so an implementation can
/// keep the work of that call.
pub(in crate::stats::lmm) type ValueAndGradient<'a> =
    dyn FnMut(&[f64], bool) -> Option<(f64, Vec<f64>)> + 'a;

const DECREMENT_TOLERANCE: f64 = 1e-15;
const MAX_ITERATIONS: usize = 500;
/// The relative rounding error allowed for in the deviance: a sum over many levels and
/// observations, accurate to a few hundred units in the last place.
const ROUNDING: f64 = 256.0 * f64::EPSILON;

/// Minimises over `x ≥ lower` from `x0`; each call of `fg` counts as one evaluation.
pub(in crate::stats::lmm) fn minimize_with_gradient(
    fg: &mut ValueAndGradient<'_>,
    x0: &[f64],
    lower: &[f64],
    max_evaluations: usize,
) -> Minimum {
    let n = x0.len();
    let mut evaluations = 0;
    // The value, and the gradient only where the value is accepted.
    let value = |x: &[f64], evaluations: &mut usize, fg: &mut ValueAndGradient<'_>| {
        *evaluations += 1;
        fg(x, false).map(|(f, _)| f).filter(|f| f.is_finite())
    };
    let gradient = |x: &[f64], fg: &mut ValueAndGradient<'_>| -> Option<DVector<f64>> {
        let (_, g) = fg(x, true)?;
        (g.len() == n && g.iter().all(|v| v.is_finite())).then(|| DVector::from_vec(g))
    };
    let eval = |x: &[f64], evaluations: &mut usize, fg: &mut ValueAndGradient<'_>| {
        let f = value(x, evaluations, fg)?;
        Some((f, gradient(x, fg)?))
    };
    let mut x = x0.to_vec();
    project(&mut x, lower);
    let fail = |x: Vec<f64>, evaluations: usize, message: &str| Minimum {
        x,
        evaluations,
        converged: false,
        message: Some(message.to_string()),
    };
    let Some((mut f, mut g)) = eval(&x, &mut evaluations, fg) else {
        return fail(
            x,
            evaluations,
            "the deviance is not finite at the starting values",
        );
    };
    let mut hinv = DMatrix::<f64>::identity(n, n);
    let mut scaled = false;
    for _ in 0..MAX_ITERATIONS {
        let free: Vec<bool> = (0..n).map(|i| !(x[i] <= lower[i] && g[i] > 0.0)).collect();
        let mut d = DVector::zeros(n);
        let mut decrement = 0.0;
        for i in (0..n).filter(|&i| free[i]) {
            for j in (0..n).filter(|&j| free[j]) {
                d[i] -= hinv[(i, j)] * g[j];
            }
            decrement -= g[i] * d[i];
        }
        if decrement <= 0.0 {
            // Not a descent direction: start again from a scaled steepest descent.
            hinv = DMatrix::identity(n, n);
            scaled = false;
            d = DVector::from_fn(n, |i, _| if free[i] { -g[i] } else { 0.0 });
            decrement = d.norm_squared();
        }
        if decrement <= DECREMENT_TOLERANCE {
            return Minimum {
                x,
                evaluations,
                converged: true,
                message: None,
            };
        }
        if !scaled {
            // Before any curvature is known, keep the first step modest.
            let size = d.amax();
            let limit = 0.5 * x.iter().fold(1.0f64, |a, v| a.max(v.abs()));
            if size > limit {
                d *= limit / size;
            }
        }
        // Backtracking along the projected path.
        let rounding = ROUNDING * f.abs().max(1.0);
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            if evaluations >= max_evaluations {
                return fail(x, evaluations, "too many deviance evaluations");
            }
            let mut xt: Vec<f64> = x.iter().zip(d.iter()).map(|(a, s)| a + t * s).collect();
            project(&mut xt, lower);
            let predicted: f64 = (0..n).map(|i| g[i] * (xt[i] - x[i])).sum();
            if let Some(ft) = value(&xt, &mut evaluations, fg) {
                // Near the minimum the predicted decrease falls below the rounding of
                // the deviance itself; the full quasi-Newton step is then taken unless
                // it raises the deviance by more than that rounding (halving it would
                // only spend evaluations on differences the deviance cannot show).
                let below_rounding = t == 1.0 && -predicted < rounding && ft <= f + rounding;
                if ft <= f + 1e-4 * predicted
                    || (ft <= f && predicted.abs() < 1e-14)
                    || below_rounding
                {
                    let Some(gt) = gradient(&xt, fg) else {
                        return fail(x, evaluations, "the gradient of the deviance is not finite");
                    };
                    accepted = Some((xt, ft, gt));
                    break;
                }
            }
            t *= 0.5;
        }
        let Some((xt, ft, gt)) = accepted else {
            // No decrease: the minimum to the precision of the deviance, unless the
            // decrement says otherwise.
            let ok = decrement <= 1e3 * DECREMENT_TOLERANCE;
            return Minimum {
                x,
                evaluations,
                converged: ok,
                message: (!ok).then(|| {
                    format!("no decrease along the quasi-Newton direction with decrement {decrement:.2e}")
                }),
            };
        };
        let s = DVector::from_fn(n, |i, _| xt[i] - x[i]);
        let y = &gt - &g;
        let step = s.amax();
        x = xt;
        f = ft;
        g = gt;
        if step <= 1e-12 * x.iter().fold(1.0f64, |a, v| a.max(v.abs())) {
            return Minimum {
                x,
                evaluations,
                converged: true,
                message: None,
            };
        }
        let sy = s.dot(&y);
        if sy > 1e-12 * s.norm() * y.norm() {
            if !scaled {
                hinv = DMatrix::identity(n, n) * (sy / y.norm_squared());
                scaled = true;
            }
            // H⁺ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
            let rho = 1.0 / sy;
            let hy = &hinv * &y;
            let yhy = y.dot(&hy);
            hinv += (&s * s.transpose()) * (rho * rho * yhy + rho)
                - (&hy * s.transpose() + &s * hy.transpose()) * rho;
        }
    }
    fail(
        x,
        evaluations,
        "the quasi-Newton iteration did not settle in 500 iterations",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_bounded_quadratic() {
        // (x−1)² + 10(y+2)² + x y with y ≥ 0: the minimum is on the bound y = 0, x = 1.
        let mut fg = |v: &[f64], _: bool| -> Option<(f64, Vec<f64>)> {
            let (x, y) = (v[0], v[1]);
            Some((
                (x - 1.0).powi(2) + 10.0 * (y + 2.0).powi(2) + x * y,
                vec![2.0 * (x - 1.0) + y, 20.0 * (y + 2.0) + x],
            ))
        };
        let m = minimize_with_gradient(&mut fg, &[3.0, 3.0], &[f64::NEG_INFINITY, 0.0], 200);
        assert!(m.converged, "{:?}", m.message);
        assert!((m.x[0] - 1.0).abs() < 1e-7 && m.x[1] == 0.0, "{:?}", m.x);
    }

    #[test]
    fn finds_the_minimum_of_rosenbrock() {
        let mut fg = |v: &[f64], _: bool| -> Option<(f64, Vec<f64>)> {
            let (x, y) = (v[0], v[1]);
            Some((
                (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2),
                vec![
                    -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
                    200.0 * (y - x * x),
                ],
            ))
        };
        let m = minimize_with_gradient(
            &mut fg,
            &[-1.2, 1.0],
            &[f64::NEG_INFINITY, f64::NEG_INFINITY],
            2000,
        );
        assert!(m.converged, "{:?}", m.message);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6,
            "{:?}",
            m.x
        );
    }

    #[test]
    fn reports_a_failure_to_evaluate() {
        let mut fg = |_: &[f64], _: bool| -> Option<(f64, Vec<f64>)> { None };
        let m = minimize_with_gradient(&mut fg, &[1.0], &[0.0], 10);
        assert!(!m.converged && m.message.is_some());
    }
}
