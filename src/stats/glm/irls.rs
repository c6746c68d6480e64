//! The IRLS loop of R's `glm.fit` and its working values.

use std::sync::atomic::{AtomicBool, Ordering};

use nalgebra::DVector;

use super::error::check_length;
use super::fused;
use super::gram::cholesky_upper;
use super::rows::linear_predictor;
use super::wls::{
    solve_from_factor, weighted_least_squares_by, weighted_least_squares_with, Factor, WlsSolution,
};
use super::{Family, GlmError, GlmOptions, LeastSquares};
use crate::stats::design::DesignRows;

/// Working response and working weights of one IRLS iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingValues {
    /// z = (eta - offset) + (y - mu) / (d mu / d eta).
    pub response: DVector<f64>,
    /// W = prior weight * (d mu / d eta)^2 / V(mu); 0 where the prior weight is 0
    /// (such rows take no part in the least-squares step).
    pub weights: DVector<f64>,
}

impl WorkingValues {
    /// Zero working values for `n` rows, to be filled.
    pub(super) fn zeros(n: usize) -> WorkingValues {
        // From zeroed memory, so that the pages are touched where the values are
        // first written (on the worker threads), not here.
        let zeros = || DVector::from_vec(vec![0.0; n]);
        WorkingValues {
            response: zeros(),
            weights: zeros(),
        }
    }
}

/// Working response and weights at the linear predictor `eta` (which includes the
/// offset), as in each iteration of R's `glm.fit`.
///
/// # Errors
/// - [`GlmError::DimensionMismatch`] if `eta`, `offset` or `prior_weights` is not as
///   long as `y`.
/// - [`GlmError::InvalidWorkingValues`] if V(mu) or d mu / d eta is NaN or V(mu) is 0
///   for a row with positive weight (R stops with "NAs in V(mu)" / "0s in V(mu)").
pub fn working_values(
    family: Family,
    y: &DVector<f64>,
    eta: &DVector<f64>,
    offset: &DVector<f64>,
    prior_weights: &DVector<f64>,
) -> Result<WorkingValues, GlmError> {
    let n = y.len();
    check_length("eta", eta.len(), n)?;
    check_length("offset", offset.len(), n)?;
    check_length("prior_weights", prior_weights.len(), n)?;
    let mut response = DVector::zeros(n);
    let mut weights = DVector::zeros(n);
    for i in 0..n {
        let (z, w) = working_value(family, y[i], eta[i], offset[i], prior_weights[i])
            .ok_or(GlmError::InvalidWorkingValues { row: i })?;
        response[i] = z;
        weights[i] = w;
    }
    Ok(WorkingValues { response, weights })
}

/// The working response and weight of one row, (0, 0) for a row that takes no part;
/// `None` when V(mu) or d mu / d eta is NaN or V(mu) is 0.
fn working_value(family: Family, y: f64, eta: f64, offset: f64, prior: f64) -> Option<(f64, f64)> {
    if prior <= 0.0 {
        return Some((0.0, 0.0));
    }
    let (mu, d) = family.mean_and_slope(eta);
    working_value_at(family, y, eta, offset, prior, (mu, d))
}

/// [`working_value`] given the fitted value and d mu / d eta at `eta`
/// ([`Family::mean_and_slope`]), for a row with positive prior weight.
pub(super) fn working_value_at(
    family: Family,
    y: f64,
    eta: f64,
    offset: f64,
    prior: f64,
    (mu, d): (f64, f64),
) -> Option<(f64, f64)> {
    let variance = family.variance(mu);
    if variance.is_nan() || variance == 0.0 || d.is_nan() {
        return None;
    }
    if d == 0.0 {
        return Some((0.0, 0.0));
    }
    Some(((eta - offset) + (y - mu) / d, prior * d * d / variance))
}

/// `out[i] = f(v[i])`, on the worker threads for long vectors.
fn map_into(v: &DVector<f64>, out: &mut DVector<f64>, f: impl Fn(f64) -> f64 + Sync) {
    crate::stats::for_each_part(
        v.len(),
        (v.as_slice(), out.as_mut_slice()),
        |_, (v, out)| {
            for (o, &x) in out.iter_mut().zip(v) {
                *o = f(x);
            }
        },
    );
}

/// [`Family::deviance`] with the deviance residuals computed on the worker threads (into
/// `scratch`) and summed in row order, so the sum is that of the sequential loop.
fn deviance_of(
    family: Family,
    y: &DVector<f64>,
    mu: &DVector<f64>,
    weights: &DVector<f64>,
    scratch: &mut Vec<f64>,
) -> f64 {
    scratch.resize(y.len(), 0.0);
    crate::stats::for_each_part(
        y.len(),
        (
            scratch.as_mut_slice(),
            (y.as_slice(), (mu.as_slice(), weights.as_slice())),
        ),
        |_, (out, (y, (mu, w)))| {
            for (i, o) in out.iter_mut().enumerate() {
                *o = family.deviance_residual(y[i], mu[i], w[i]);
            }
        },
    );
    scratch.iter().copied().sum()
}

/// [`working_values`] into `out`, on the worker threads; the error names the first row.
fn working_values_into(
    family: Family,
    y: &DVector<f64>,
    eta: &DVector<f64>,
    offset: &DVector<f64>,
    prior_weights: &DVector<f64>,
    out: &mut WorkingValues,
) -> Result<(), GlmError> {
    let n = y.len();
    let inputs = (
        y.as_slice(),
        (
            eta.as_slice(),
            (offset.as_slice(), prior_weights.as_slice()),
        ),
    );
    let outputs = (out.response.as_mut_slice(), out.weights.as_mut_slice());
    let first_bad = crate::stats::for_each_part(
        n,
        (outputs, inputs),
        |start, ((response, weights), (y, (eta, (offset, prior))))| {
            for i in 0..response.len() {
                match working_value(family, y[i], eta[i], offset[i], prior[i]) {
                    Some((z, w)) => {
                        response[i] = z;
                        weights[i] = w;
                    }
                    None => return Some(start + i),
                }
            }
            None
        },
    );
    match first_bad.into_iter().flatten().next() {
        Some(row) => Err(GlmError::InvalidWorkingValues { row }),
        None => Ok(()),
    }
}

/// State of the IRLS loop of glm.fit after it stops.
pub(super) struct IrlsResult {
    pub(super) coefficients: DVector<f64>,
    pub(super) eta: DVector<f64>,
    pub(super) mu: DVector<f64>,
    pub(super) deviance: f64,
    pub(super) iterations: usize,
    pub(super) converged: bool,
    pub(super) boundary: bool,
    pub(super) wls: WlsSolution,
    pub(super) working_weights: DVector<f64>,
    /// Accepted coefficient vectors of the iterations, oldest first.
    pub(super) history: Vec<DVector<f64>>,
}

/// Fits of at least this many rows may take provisional steps (see
/// [`refine_large_fits`]); smaller fits always take R's route.
pub(super) const PROVISIONAL_MIN_ROWS: usize = 1 << 16;

/// The provisional coefficients of the last step must agree with the QR's to this many
/// standard errors (of that step's weighted least squares), or the fit starts again on
/// R's route.
const PROVISIONAL_AGREEMENT: f64 = 1e-6;

static REFINE_LARGE_FITS: AtomicBool = AtomicBool::new(false);

/// Whether fits of at least [`PROVISIONAL_MIN_ROWS`] rows that ask for the Householder QR
/// may solve the IRLS steps before the last by the normal equations (off unless a command
/// turns it on; `shine match` does).
///
/// The last step — the one whose change in deviance meets the convergence rule — is then
/// solved again by the Householder QR from the same working values, and its coefficients,
/// deviance, factor and covariance are the QR's. Newton's method contracts errors in its
/// starting point quadratically, so the about 1e-10 relative error of a step on the normal
/// equations moves the final estimates by far less than it (about 1e-14 relative on the
/// propensity designs measured) at a fifth of the work per step. Anything unusual
/// (an aliased column, step halving, no convergence, a last step whose provisional
/// coefficients differ from the QR's by more than [`PROVISIONAL_AGREEMENT`] standard
/// errors) starts the fit again on R's route.
pub fn refine_large_fits(on: bool) {
    REFINE_LARGE_FITS.store(on, Ordering::Relaxed);
}

/// The IRLS loop of R's `glm.fit` (inputs already validated), with provisional steps
/// where [`refine_large_fits`] allows them.
pub(super) fn irls<X: DesignRows + ?Sized>(
    x: &X,
    y: &DVector<f64>,
    weights: &DVector<f64>,
    offset: &DVector<f64>,
    options: &GlmOptions,
    start_mu: Option<&DVector<f64>>,
) -> Result<IrlsResult, GlmError> {
    let provisional = options.solver == LeastSquares::Householder
        && y.len() >= PROVISIONAL_MIN_ROWS
        && REFINE_LARGE_FITS.load(Ordering::Relaxed);
    irls_by(x, y, weights, offset, options, start_mu, provisional)
}

/// The IRLS loop of R's `glm.fit`; with `provisional`, the steps before the last on the
/// normal equations (see [`refine_large_fits`]), falling back to R's route.
pub(super) fn irls_by<X: DesignRows + ?Sized>(
    x: &X,
    y: &DVector<f64>,
    weights: &DVector<f64>,
    offset: &DVector<f64>,
    options: &GlmOptions,
    start_mu: Option<&DVector<f64>>,
    provisional: bool,
) -> Result<IrlsResult, GlmError> {
    if provisional {
        if let Some(fit) = irls_route(x, y, weights, offset, options, start_mu, true)? {
            return Ok(fit);
        }
    }
    // R's route never gives up for a provisional step.
    irls_route(x, y, weights, offset, options, start_mu, false)?
        .ok_or(GlmError::NoValidCoefficients { iteration: 0 })
}

/// Whether the provisional solution of a step agrees with the QR's: the same columns
/// kept, and each coefficient within [`PROVISIONAL_AGREEMENT`] standard errors.
fn provisional_step_agrees(exact: &WlsSolution, provisional: &WlsSolution) -> bool {
    if exact.rank != provisional.rank || exact.pivot != provisional.pivot {
        return false;
    }
    let cov = exact.unscaled_covariance();
    exact
        .pivot
        .iter()
        .take(exact.rank)
        .enumerate()
        .all(|(i, &col)| {
            let gap = (exact.coefficients[col] - provisional.coefficients[col]).abs();
            gap <= PROVISIONAL_AGREEMENT * cov[(i, i)].sqrt()
        })
}

/// The IRLS loop; with `provisional`, the steps before the last on the normal equations
/// (`None` when that route meets something unusual and the fit must start again on R's
/// route).
#[allow(clippy::too_many_arguments)]
pub(super) fn irls_route<X: DesignRows + ?Sized>(
    x: &X,
    y: &DVector<f64>,
    weights: &DVector<f64>,
    offset: &DVector<f64>,
    options: &GlmOptions,
    start_mu: Option<&DVector<f64>>,
    provisional: bool,
) -> Result<Option<IrlsResult>, GlmError> {
    if provisional {
        return provisional_route(x, y, weights, offset, options, start_mu);
    }
    r_route(x, y, weights, offset, options, start_mu).map(Some)
}

/// The linear predictor at R's start (`mustart` from `family$initialize`) or at the
/// fitted values `start_mu`.
fn initial_eta(
    family: Family,
    y: &DVector<f64>,
    weights: &DVector<f64>,
    start_mu: Option<&DVector<f64>>,
) -> DVector<f64> {
    // On the worker threads: a logarithm a row.
    let eta = match start_mu {
        Some(mu) => crate::stats::terms_in_order(mu.len(), |i| family.link(mu[i])),
        // A binary outcome with unit weights has two starting values: a logarithm each.
        None => crate::stats::pair_terms_in_order(y.as_slice(), weights.as_slice(), |y, w| {
            family.link(family.initial_mu(y, w))
        }),
    };
    DVector::from_vec(eta)
}

/// Moves the linear predictor and fitted values to the coefficients `beta`; the deviance
/// there.
#[allow(clippy::too_many_arguments)]
fn step_to<X: DesignRows + ?Sized>(
    x: &X,
    family: Family,
    y: &DVector<f64>,
    weights: &DVector<f64>,
    offset: &DVector<f64>,
    beta: &DVector<f64>,
    (eta, mu): (&mut DVector<f64>, &mut DVector<f64>),
    scratch: &mut Vec<f64>,
) -> f64 {
    linear_predictor(x, beta, offset, eta);
    map_into(eta, mu, |e| family.inverse_link(e));
    deviance_of(family, y, mu, weights, scratch)
}

/// Whether glm.fit stops: the relative change in deviance below `epsilon`.
fn converges(deviance: f64, dev_old: f64, options: &GlmOptions) -> bool {
    relative_change(deviance, dev_old) < options.epsilon
}

/// The IRLS loop with the steps before the last on the normal equations, each step one
/// pass over the rows ([`fused::pass`]): the new linear predictor, the deviance, and the
/// working values' cross products for the next step. The step that meets the convergence
/// rule is solved again by the Householder QR from the same working values, and the fit
/// is that of the QR's coefficients. `None` (start again on R's route) at anything
/// unusual: no informative row, an aliased column, non-finite coefficients or deviance,
/// fitted values out of range, a QR step that differs from the provisional one by more
/// than [`PROVISIONAL_AGREEMENT`] standard errors or does not converge, or no convergence.
///
/// When the last two changes in deviance say that the next step will meet the rule with
/// room to spare ([`expected_last`]), that step is solved by the QR straight away and its
/// pass is not made. The rule is judged on the QR step's deviance, as R judges it, so
/// the fit is the one the provisional pass would have led to, unless the provisional and
/// the QR step's deviances fall on the two sides of the rule (then this stops where R
/// stops). If the rule is not met after all, the step is taken as any other.
fn provisional_route<X: DesignRows + ?Sized>(
    x: &X,
    y: &DVector<f64>,
    weights: &DVector<f64>,
    offset: &DVector<f64>,
    options: &GlmOptions,
    start_mu: Option<&DVector<f64>>,
) -> Result<Option<IrlsResult>, GlmError> {
    let family = options.family;
    let (n, p) = (y.len(), x.ncols());
    let tol = options.qr_tolerance();
    let rows = fused::Rows::new(family, y, offset, weights);
    let mut eta = initial_eta(family, y, weights, start_mu);
    if eta.iter().any(|e| e.is_nan()) {
        return Err(GlmError::NoValidCoefficients { iteration: 0 });
    }
    // The working values of this iteration (at the linear predictor before its step)
    // and of the next one (at the linear predictor after it).
    let mut current = WorkingValues::zeros(n);
    let mut next = WorkingValues::zeros(n);
    let start = fused::pass(x, &rows, fused::At::LinearPredictor(&eta), &mut current);
    if !start.valid {
        return Err(GlmError::NoValidCoefficients { iteration: 0 });
    }
    let (mut dev_old, mut gram) = (start.deviance, start.gram);
    let (mut first_bad, mut n_good) = (start.first_bad, start.n_good);
    let mut history = Vec::new();
    // The relative changes in deviance of the last two steps, oldest first.
    let mut changes: [Option<f64>; 2] = [None, None];
    let inputs = LastStepInputs {
        x,
        y,
        weights,
        offset,
        options,
    };
    for iteration in 1..=options.max_iter {
        if let Some(row) = first_bad {
            return Err(GlmError::InvalidWorkingValues { row });
        }
        if n_good == 0 {
            return Ok(None);
        }
        let wls = solve_from_factor(&cholesky_upper(&gram, p + 1), p, n_good, tol);
        if wls.rank < p || wls.coefficients.iter().any(|c| !c.is_finite()) {
            return Ok(None);
        }
        let tried_last = expected_last(changes, options);
        if tried_last {
            match inputs.last_step(&current, &wls, dev_old, &mut eta)? {
                LastStep::Converged(last) => {
                    return Ok(Some(last.fit(iteration, current.weights, history)));
                }
                LastStep::Unusual => return Ok(None),
                LastStep::NotConverged => {}
            }
        }
        let step = fused::pass(
            x,
            &rows,
            fused::At::Coefficients(&wls.coefficients),
            &mut next,
        );
        if !step.deviance.is_finite() || !step.valid {
            return Ok(None);
        }
        if converges(step.deviance, dev_old, options) {
            // The last step again, on R's route from the same working values (already
            // tried, and its deviance did not meet the rule, when `tried_last`).
            if tried_last {
                return Ok(None);
            }
            return Ok(match inputs.last_step(&current, &wls, dev_old, &mut eta)? {
                LastStep::Converged(last) => Some(last.fit(iteration, current.weights, history)),
                LastStep::NotConverged | LastStep::Unusual => None,
            });
        }
        changes = [changes[1], Some(relative_change(step.deviance, dev_old))];
        history.push(wls.coefficients);
        dev_old = step.deviance;
        (gram, first_bad, n_good) = (step.gram, step.first_bad, step.n_good);
        std::mem::swap(&mut current, &mut next);
    }
    Ok(None)
}

/// The relative change in deviance that glm.fit's rule compares with `epsilon`.
fn relative_change(deviance: f64, dev_old: f64) -> f64 {
    (deviance - dev_old).abs() / (deviance.abs() + 0.1)
}

/// Whether the next step is expected to meet the convergence rule with room to spare:
/// the changes of the last two steps, d₁ then d₂, falling as Newton's method makes them
/// fall near the optimum (each about a constant times the square of the one before), so
/// that the next is about d₂³ / d₁²; expected last when that is below a hundredth of
/// `epsilon`. It decides the work done; the rule itself is still judged on the deviance.
pub(super) fn expected_last(changes: [Option<f64>; 2], options: &GlmOptions) -> bool {
    match changes {
        [Some(d1), Some(d2)] if d2 < d1 && d1 > 0.0 => {
            d2 * (d2 / d1) * (d2 / d1) < options.epsilon / 100.0
        }
        _ => false,
    }
}

/// What the last step of a provisional fit needs besides its working values.
struct LastStepInputs<'a, X: DesignRows + ?Sized> {
    x: &'a X,
    y: &'a DVector<f64>,
    weights: &'a DVector<f64>,
    offset: &'a DVector<f64>,
    options: &'a GlmOptions,
}

/// What solving a step again by the Householder QR comes to.
enum LastStep {
    /// Its deviance meets the convergence rule: the fit.
    Converged(Box<ConvergedStep>),
    /// Its deviance does not meet the rule.
    NotConverged,
    /// Its coefficients differ from the provisional step's, or its fitted values or
    /// deviance are not valid: start again on R's route.
    Unusual,
}

/// The QR step that ends a provisional fit.
struct ConvergedStep {
    exact: WlsSolution,
    eta: DVector<f64>,
    mu: DVector<f64>,
    deviance: f64,
}

impl<X: DesignRows + ?Sized> LastStepInputs<'_, X> {
    /// The step from the working values `current` solved by the Householder QR, its
    /// coefficients checked against the provisional solution `wls`, and the linear
    /// predictor (moved into `eta`), fitted values and deviance at them.
    fn last_step(
        &self,
        current: &WorkingValues,
        wls: &WlsSolution,
        dev_old: f64,
        eta: &mut DVector<f64>,
    ) -> Result<LastStep, GlmError> {
        let (options, family) = (self.options, self.options.family);
        let exact = weighted_least_squares_with(
            self.x,
            &current.response,
            &current.weights,
            options.qr_tolerance(),
            Factor::Householder,
        )?;
        if !provisional_step_agrees(&exact, wls) {
            return Ok(LastStep::Unusual);
        }
        let mut mu = DVector::zeros(self.y.len());
        let mut scratch = Vec::new();
        let deviance = step_to(
            self.x,
            family,
            self.y,
            self.weights,
            self.offset,
            &exact.coefficients,
            (eta, &mut mu),
            &mut scratch,
        );
        let valid = mu.iter().all(|&m| family.valid_mu(m));
        if !deviance.is_finite() || !valid {
            return Ok(LastStep::Unusual);
        }
        if !converges(deviance, dev_old, options) {
            return Ok(LastStep::NotConverged);
        }
        Ok(LastStep::Converged(Box::new(ConvergedStep {
            exact,
            eta: std::mem::replace(eta, DVector::zeros(0)),
            mu,
            deviance,
        })))
    }
}

impl ConvergedStep {
    /// The fit this step ends, after `iteration` iterations.
    fn fit(
        self,
        iteration: usize,
        working_weights: DVector<f64>,
        mut history: Vec<DVector<f64>>,
    ) -> IrlsResult {
        let coefficients = self.exact.coefficients.clone();
        history.push(coefficients.clone());
        IrlsResult {
            coefficients,
            eta: self.eta,
            mu: self.mu,
            deviance: self.deviance,
            iterations: iteration,
            converged: true,
            boundary: false,
            wls: self.exact,
            working_weights,
            history,
        }
    }
}

/// The IRLS loop of R's `glm.fit`, every step on the solver `options` names.
fn r_route<X: DesignRows + ?Sized>(
    x: &X,
    y: &DVector<f64>,
    weights: &DVector<f64>,
    offset: &DVector<f64>,
    options: &GlmOptions,
    start_mu: Option<&DVector<f64>>,
) -> Result<IrlsResult, GlmError> {
    let family = options.family;
    let n = y.len();
    let tol = options.qr_tolerance();
    let mut eta = initial_eta(family, y, weights, start_mu);
    let mut mu = DVector::zeros(n);
    map_into(&eta, &mut mu, |e| family.inverse_link(e));
    if !mu.iter().all(|&m| family.valid_mu(m)) || eta.iter().any(|e| e.is_nan()) {
        return Err(GlmError::NoValidCoefficients { iteration: 0 });
    }
    let mut scratch = Vec::new();
    let mut dev_old = deviance_of(family, y, &mu, weights, &mut scratch);
    let mut coef_old: Option<DVector<f64>> = None;
    let mut accepted: Option<(DVector<f64>, WlsSolution)> = None;
    let mut history = Vec::new();
    let mut converged = false;
    let mut boundary = false;
    let mut iterations = 0;
    let mut deviance = dev_old;
    // The working values of this iteration and of the last accepted one.
    let mut working = WorkingValues::zeros(n);
    let mut accepted_weights = DVector::zeros(n);
    let valid = |mu: &DVector<f64>| mu.iter().all(|&m| family.valid_mu(m));

    for iter in 1..=options.max_iter {
        iterations = iter;
        working_values_into(family, y, &eta, offset, weights, &mut working)?;
        if working.weights.iter().all(|&w| w <= 0.0) {
            // R: "no observations informative at iteration %d".
            converged = false;
            break;
        }
        let wls =
            weighted_least_squares_by(x, &working.response, &working.weights, tol, options.solver)?;
        if wls.coefficients.iter().any(|c| !c.is_finite()) {
            // R: "non-finite coefficients at iteration %d".
            converged = false;
            break;
        }
        let mut start = wls.coefficients.clone();
        let mut step = |start: &DVector<f64>, eta: &mut DVector<f64>, mu: &mut DVector<f64>| {
            step_to(
                x,
                family,
                y,
                weights,
                offset,
                start,
                (eta, mu),
                &mut scratch,
            )
        };
        deviance = step(&start, &mut eta, &mut mu);
        boundary = false;
        if !deviance.is_finite() || !valid(&mu) {
            // Step halving towards the previous coefficients, as glm.fit's inner
            // loops 1 (infinite deviance) and 2 (mu out of bounds).
            let previous = coef_old
                .as_ref()
                .ok_or(GlmError::NoValidCoefficients { iteration: iter })?;
            let mut halvings = 1;
            while !deviance.is_finite() || !valid(&mu) {
                if halvings > options.max_iter {
                    return Err(GlmError::StepHalvingFailed { iteration: iter });
                }
                halvings += 1;
                start = (&start + previous) / 2.0;
                deviance = step(&start, &mut eta, &mut mu);
            }
            boundary = true;
        }
        let done = converges(deviance, dev_old, options);
        history.push(start.clone());
        accepted = Some((start.clone(), wls));
        std::mem::swap(&mut accepted_weights, &mut working.weights);
        if done {
            converged = true;
            break;
        }
        dev_old = deviance;
        coef_old = Some(start);
    }

    // Without an accepted iteration (non-finite coefficients in the first least-squares
    // step) R fails too.
    let (coefficients, wls) = accepted.ok_or(GlmError::NoValidCoefficients {
        iteration: iterations,
    })?;
    Ok(IrlsResult {
        coefficients,
        eta,
        mu,
        deviance,
        iterations,
        converged,
        boundary,
        wls,
        working_weights: accepted_weights,
        history,
    })
}
