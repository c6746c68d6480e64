//! Shared test support: named tolerances and the comparisons built on them.
//!
//! Each tolerance says what kind of agreement it stands for, so a test states why two
//! numbers should agree, not a bare literal. The comparisons are `approx`'s relative
//! equality (`|a − b| ≤ max(ε, rel · max(|a|, |b|))`), with NaN equal to NaN where a
//! reference reports "not estimable" the same way.

// Each user (the unit tests, each integration test binary) takes a part of it.
#![allow(dead_code)]

use approx::relative_eq;

/// The same quantity computed by two exact formulas (round-off only).
pub const EXACT: f64 = 1e-12;
/// An iterative fit checked against a reference fit of the same model, both converged
/// to tight tolerances (IRLS, fixed-effects demeaning, the mixed-model optimiser).
pub const CONVERGED: f64 = 1e-8;
/// Against a reference implementation whose own optimiser stops earlier (lme4 with
/// its default settings, finite-difference derivatives).
pub const OPTIMISER: f64 = 1e-6;
/// A double read back from text written with 17 significant digits, which round-trips
/// exactly; the margin only admits a reader that rounds the last bit differently.
pub const ROUND_TRIP: f64 = 1e-15;
/// Below this magnitude, differences are compared absolutely rather than relatively.
pub const ABS_FLOOR: f64 = 1e-10;
/// The same quantity computed two ways where round-off builds up: a sum taken in another
/// order or on another CPU, a transform (`exp`) of a number read back from text.
pub const ACCUMULATED: f64 = 1e-9;
/// A standard error against a reference whose IRLS stops at a looser tolerance than
/// ours (pyfixest's `fepois`), which moves it in the fifth digit.
pub const LOOSE_IRLS: f64 = 1e-5;
/// What a reference computes from derivatives or variance components of its optimum
/// rather than from the fit itself: Satterthwaite degrees of freedom (lmerTest's numerical
/// Hessian), cluster-robust variances (clubSandwich on lme4's variance components).
pub const SECOND_ORDER: f64 = 1e-4;

/// Relative difference `|a − b| / |b|` (absolute below [`ABS_FLOOR`]); 0 when both are
/// NaN, infinite when only one is.
pub fn rel_diff(a: f64, b: f64) -> f64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => return 0.0,
        (true, false) | (false, true) => return f64::INFINITY,
        _ => {}
    }
    if a == b {
        return 0.0;
    }
    let d = (a - b).abs();
    if b.abs() < ABS_FLOOR {
        d
    } else {
        d / b.abs()
    }
}

/// Whether `a` and `b` agree to `rel` relative to the larger (absolutely below
/// [`ABS_FLOOR`]); NaN agrees with NaN.
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    (a.is_nan() && b.is_nan()) || relative_eq!(a, b, epsilon = ABS_FLOOR, max_relative = rel)
}

/// Asserts [`close`], naming what was compared.
#[track_caller]
pub fn assert_close(what: &str, ours: f64, reference: f64, rel: f64) {
    assert!(
        close(ours, reference, rel),
        "{what}: {ours} vs {reference} (relative difference {:.2e}, tolerance {rel:.0e})",
        rel_diff(ours, reference)
    );
}

/// Asserts [`close`] element by element.
#[track_caller]
pub fn assert_all_close(what: &str, ours: &[f64], reference: &[f64], rel: f64) {
    assert_eq!(ours.len(), reference.len(), "{what}: lengths differ");
    for (i, (&a, &b)) in ours.iter().zip(reference).enumerate() {
        assert_close(&format!("{what}[{i}]"), a, b, rel);
    }
}

/// Whether `a` and `b` agree to `rel` relative to the larger or to `abs` absolutely;
/// NaN agrees with NaN. [`close`] with an absolute floor other than [`ABS_FLOOR`]: `0`
/// for a purely relative comparison, or a tighter floor for statistics that are zero up
/// to rounding.
pub fn close_within(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a.is_nan() && b.is_nan()) || relative_eq!(a, b, epsilon = abs, max_relative = rel)
}

/// Asserts [`close_within`], naming what was compared.
#[track_caller]
pub fn assert_close_within(what: &str, ours: f64, reference: f64, rel: f64, abs: f64) {
    assert!(
        close_within(ours, reference, rel, abs),
        "{what}: {ours} vs {reference} (relative difference {:.2e}, tolerance {rel:.0e}, \
         absolute {abs:.0e})",
        rel_diff(ours, reference)
    );
}

/// A reproducible stream of uniform numbers in [0, 1) (Knuth's MMIX linear congruential
/// generator, top 53 bits) for test data.
pub fn uniform_stream(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Runs `work` on a rayon pool of `threads` threads: for tests that results do not depend
/// on the thread count.
pub fn on_threads<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(work)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_separate_round_off_from_real_differences() {
        assert!(close(1.0, 1.0 + 1e-13, EXACT));
        assert!(!close(1.0, 1.0 + 1e-9, EXACT));
        assert!(close(1e-14, 0.0, EXACT));
        assert!(close(f64::NAN, f64::NAN, EXACT));
        assert!(!close(f64::NAN, 0.0, OPTIMISER));
        assert_eq!(rel_diff(2.0, 1.0), 1.0);
        assert_eq!(rel_diff(f64::NAN, 1.0), f64::INFINITY);
    }
}
