//! Richardson-extrapolated numerical derivatives exactly as R's numDeriv 2016.8-1.1
//! computes them (`hessian()` through `genD()`, and `jacobian()`), which lmerTest 3.1
//! uses for the Satterthwaite degrees of freedom. Reproducing the same steps and
//! extrapolation keeps the approximation error the same as lmerTest's.
//!
//! Defaults: `eps = 1e-4`, `zero.tol = sqrt(.Machine$double.eps / 7e-7)`, `r = 4`,
//! `v = 2`; `d = 0.1` for the Hessian and `d = 1e-4` for the Jacobian. The initial step
//! is `h = |d·x| + eps·(|x| < zero.tol)` and is halved `r` times.

const EPS: f64 = 1e-4;
const R: usize = 4;

fn zero_tol() -> f64 {
    (f64::EPSILON / 7e-7).sqrt()
}

fn initial_steps(x: &[f64], d: f64) -> Vec<f64> {
    let zt = zero_tol();
    x.iter()
        .map(|v| (d * v).abs() + if v.abs() < zt { EPS } else { 0.0 })
        .collect()
}

/// Richardson extrapolation of `a[0..R]` (numDeriv's loop: `a[k] = (a[k+1]·4^m − a[k]) /
/// (4^m − 1)`), returning the extrapolated value.
fn extrapolate(mut a: [f64; R]) -> f64 {
    for m in 1..R {
        let f = 4f64.powi(m as i32);
        for k in 0..(R - m) {
            a[k] = (a[k + 1] * f - a[k]) / (f - 1.0);
        }
    }
    a[0]
}

/// `numDeriv::hessian(func, x)` (method "Richardson", `d = 0.1`).
pub(super) fn hessian(func: &mut dyn FnMut(&[f64]) -> f64, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let f0 = func(x);
    let h0 = initial_steps(x, 0.1);
    let mut hdiag = vec![0.0; n];
    let mut xp = x.to_vec();
    for i in 0..n {
        let mut h = h0.clone();
        let mut ha = [0.0; R];
        for slot in ha.iter_mut() {
            xp[i] = x[i] + h[i];
            let f1 = func(&xp);
            xp[i] = x[i] - h[i];
            let f2 = func(&xp);
            xp[i] = x[i];
            *slot = (f1 - 2.0 * f0 + f2) / (h[i] * h[i]);
            h.iter_mut().for_each(|v| *v /= 2.0);
        }
        hdiag[i] = extrapolate(ha);
    }
    let mut hess = vec![vec![0.0; n]; n];
    for i in 0..n {
        hess[i][i] = hdiag[i];
        for j in 0..i {
            let mut h = h0.clone();
            let mut da = [0.0; R];
            for slot in da.iter_mut() {
                xp[i] = x[i] + h[i];
                xp[j] = x[j] + h[j];
                let f1 = func(&xp);
                xp[i] = x[i] - h[i];
                xp[j] = x[j] - h[j];
                let f2 = func(&xp);
                xp[i] = x[i];
                xp[j] = x[j];
                *slot = (f1 - 2.0 * f0 + f2 - hdiag[i] * h[i] * h[i] - hdiag[j] * h[j] * h[j])
                    / (2.0 * h[i] * h[j]);
                h.iter_mut().for_each(|v| *v /= 2.0);
            }
            let v = extrapolate(da);
            hess[i][j] = v;
            hess[j][i] = v;
        }
    }
    hess
}

/// `numDeriv::jacobian(func, x)` (method "Richardson", `d = 1e-4`) of a vector-valued
/// function, only for the coordinates in `which`: column `c` of the result is the
/// derivative with respect to `x[which[c]]`.
pub(super) fn jacobian(
    func: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    x: &[f64],
    which: &[usize],
) -> Vec<Vec<f64>> {
    let mut h = initial_steps(x, 1e-4);
    let mut xp = x.to_vec();
    // a[c][k][out]
    let mut a: Vec<Vec<Vec<f64>>> = vec![Vec::with_capacity(R); which.len()];
    for _ in 0..R {
        for (c, &i) in which.iter().enumerate() {
            xp[i] = x[i] + h[i];
            let f1 = func(&xp);
            xp[i] = x[i] - h[i];
            let f2 = func(&xp);
            xp[i] = x[i];
            a[c].push(
                f1.iter()
                    .zip(&f2)
                    .map(|(u, v)| (u - v) / (2.0 * h[i]))
                    .collect(),
            );
        }
        h.iter_mut().for_each(|v| *v /= 2.0);
    }
    a.into_iter()
        .map(|ak| {
            let len = ak.first().map_or(0, Vec::len);
            (0..len)
                .map(|o| extrapolate([ak[0][o], ak[1][o], ak[2][o], ak[3][o]]))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hessian_of_a_smooth_function() {
        // f = exp(x0) * sin(x1) + x0² x1
        let mut f = |x: &[f64]| x[0].exp() * x[1].sin() + x[0] * x[0] * x[1];
        let x = [0.3, 1.1];
        let h = hessian(&mut f, &x);
        let exact = [
            [
                x[0].exp() * x[1].sin() + 2.0 * x[1],
                x[0].exp() * x[1].cos() + 2.0 * x[0],
            ],
            [
                x[0].exp() * x[1].cos() + 2.0 * x[0],
                -x[0].exp() * x[1].sin(),
            ],
        ];
        for i in 0..2 {
            for j in 0..2 {
                assert!(
                    (h[i][j] - exact[i][j]).abs() < 1e-8,
                    "{i}{j}: {} {}",
                    h[i][j],
                    exact[i][j]
                );
            }
        }
    }

    #[test]
    fn jacobian_of_a_vector_function() {
        let mut f = |x: &[f64]| vec![x[0] * x[1], x[1].ln(), 0.0];
        let j = jacobian(&mut f, &[2.0, 3.0], &[0, 1]);
        assert!((j[0][0] - 3.0).abs() < 1e-9 && (j[1][0] - 2.0).abs() < 1e-9);
        assert!((j[1][1] - 1.0 / 3.0).abs() < 1e-9 && j[0][2] == 0.0);
    }
}
