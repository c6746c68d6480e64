//! Tail probabilities that cannot panic: statrs' regularised incomplete beta and gamma
//! functions panic on a NaN argument, which a zero standard error or a constant
//! response produces on valid data. Every p-value in `stats` goes through these guards.

/// The two-sided p-value of `statistic` from `tail`, which gives the p-value of a finite
/// `|statistic|`: NaN for a NaN statistic (no test), 0 for an infinite one.
pub(crate) fn two_sided(statistic: f64, tail: impl FnOnce(f64) -> f64) -> f64 {
    if statistic.is_nan() {
        f64::NAN
    } else if statistic.is_infinite() {
        0.0
    } else {
        tail(statistic.abs())
    }
}

/// The upper tail `P(X ≥ x)` from `sf` for a statistic that is never negative (χ²):
/// NaN for NaN, 0 for +∞.
pub(crate) fn upper(x: f64, sf: impl FnOnce(f64) -> f64) -> f64 {
    if x.is_nan() {
        f64::NAN
    } else if x == f64::INFINITY {
        0.0
    } else {
        sf(x)
    }
}

#[cfg(test)]
mod tests {
    use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};

    use super::*;

    #[test]
    fn a_nan_statistic_gives_a_nan_p_value_without_panicking() {
        let t = StudentsT::new(0.0, 1.0, 5.0).unwrap();
        assert!(two_sided(f64::NAN, |s| 2.0 * t.sf(s)).is_nan());
        assert_eq!(two_sided(f64::NEG_INFINITY, |s| 2.0 * t.sf(s)), 0.0);
        let c = ChiSquared::new(2.0).unwrap();
        assert!(upper(f64::NAN, |x| c.sf(x)).is_nan());
        assert_eq!(upper(f64::INFINITY, |x| c.sf(x)), 0.0);
    }

    #[test]
    fn a_finite_statistic_is_passed_through() {
        let t = StudentsT::new(0.0, 1.0, 5.0).unwrap();
        assert_eq!(two_sided(-2.0, |s| 2.0 * t.sf(s)), 2.0 * t.sf(2.0));
        let c = ChiSquared::new(2.0).unwrap();
        assert_eq!(upper(3.0, |x| c.sf(x)), c.sf(3.0));
    }
}
