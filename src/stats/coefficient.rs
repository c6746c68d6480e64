//! The one coefficient row every estimator returns: an estimate with its Wald test and
//! 95 % interval, in broom's column names (`term`, `estimate`, `std.error`, `statistic`,
//! `df`, `p.value`, `conf.low`, `conf.high`, with `_` for `.`).
//!
//! The GLM, the fixed-effects models and the mixed models fill it in their own way (R's
//! `summary.glm`, fixest's `coeftable`, lmerTest's `contest1D`), so each keeps the
//! arithmetic its reference uses; tables and JSON read this one type.

use serde::Serialize;
use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};

use super::tail::two_sided;

/// One coefficient, or one linear combination of coefficients, with its test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coefficient {
    /// The column name (`(Intercept)`, `age`, `treated:post`), or the name of the
    /// combination (`3 - 0`).
    pub term: String,
    /// NaN if the column is aliased.
    pub estimate: f64,
    pub std_error: f64,
    /// `estimate / std_error`: z, or t on `df` (or the model's) degrees of freedom.
    pub statistic: f64,
    /// The degrees of freedom of this coefficient's t test, where they differ between
    /// coefficients (Satterthwaite, Kenward–Roger, CR2) and broom reports them. `None`
    /// for a z test, and where one df serves the whole model (a GLM's residual df, the
    /// clusters of a fixed-effects model): the fit carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
    /// Two-sided.
    pub p_value: f64,
    /// The 95 % interval, `estimate ± q · std_error` with the test's quantile.
    pub conf_low: f64,
    pub conf_high: f64,
}

impl Coefficient {
    /// A row whose estimate could not be computed (an aliased column): every number NaN.
    pub fn aliased(term: impl Into<String>) -> Coefficient {
        Coefficient {
            term: term.into(),
            estimate: f64::NAN,
            std_error: f64::NAN,
            statistic: f64::NAN,
            df: None,
            p_value: f64::NAN,
            conf_low: f64::NAN,
            conf_high: f64::NAN,
        }
    }

    /// The t test and 95 % interval on `df` degrees of freedom, reported with the row
    /// (lmerTest's `contest1D`: `2·pt(|t|, df, lower = FALSE)`, `qt(0.975, df)`). A
    /// df that is not positive gives NaN p-value and interval.
    pub fn t_test(term: impl Into<String>, estimate: f64, std_error: f64, df: f64) -> Coefficient {
        let statistic = estimate / std_error;
        let (p_value, q) = match StudentsT::new(0.0, 1.0, df) {
            Ok(t) if df > 0.0 => (two_sided(statistic, |s| 2.0 * t.sf(s)), t_quantile_975(&t)),
            _ => (f64::NAN, f64::NAN),
        };
        Coefficient {
            term: term.into(),
            estimate,
            std_error,
            statistic,
            df: Some(df),
            p_value,
            conf_low: estimate - q * std_error,
            conf_high: estimate + q * std_error,
        }
    }

    /// The same row under a new name.
    pub fn named(self, term: impl Into<String>) -> Coefficient {
        Coefficient {
            term: term.into(),
            ..self
        }
    }
}

/// `qt(0.975, df)`: statrs' inverse CDF refined by Newton steps on the upper tail, which
/// brings it to R's value where the inverse CDF alone is a few ulps off.
///
/// statrs' inverse (through its inverse regularised beta function) does not return for
/// some degrees of freedom far from those of real tests (found by random mixed models
/// with Kenward–Roger df). Above [`SAFE_INVERSE_DF`] the quantile is the Cornish–Fisher
/// expansion about the normal quantile (whose error there is below 1e-19, while statrs'
/// tail probability itself is off by 1e-9); below it, bisection on the upper tail,
/// refined as the inverse is.
fn t_quantile_975(t: &StudentsT) -> f64 {
    let df = t.freedom();
    if df > *SAFE_INVERSE_DF.end() {
        return t_quantile_975_large_df(df);
    }
    let mut x = if SAFE_INVERSE_DF.contains(&df) {
        t.inverse_cdf(0.975)
    } else {
        upper_quantile_by_bisection(t, 0.025)
    };
    for _ in 0..3 {
        let d = t.pdf(x);
        if d.is_nan() || d <= 0.0 {
            break;
        }
        x += (t.sf(x) - 0.025) / d;
    }
    x
}

/// Degrees of freedom for which statrs' inverse CDF of the t distribution is used.
const SAFE_INVERSE_DF: std::ops::RangeInclusive<f64> = 0.5..=1e5;

/// `qt(0.975, df)` for large df: the normal quantile with the first three terms of the
/// Cornish–Fisher expansion in 1/df (Abramowitz & Stegun 26.7.5).
fn t_quantile_975_large_df(df: f64) -> f64 {
    /// `qnorm(0.975)`.
    const Z: f64 = 1.959_963_984_540_054;
    let z2 = Z * Z;
    let g1 = Z * (z2 + 1.0) / 4.0;
    let g2 = Z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = Z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    Z + g1 / df + g2 / (df * df) + g3 / (df * df * df)
}

/// The `x` with `P(T > x) = tail`, by bisection between 0 and a doubled upper bound
/// (infinite when even 1e150 leaves more than `tail` above it).
fn upper_quantile_by_bisection(t: &StudentsT, tail: f64) -> f64 {
    let mut high = 1.0;
    while t.sf(high) > tail {
        high *= 2.0;
        // Beyond 1e150 the tail probability underflows (x² overflows).
        if high > 1e150 {
            return f64::INFINITY;
        }
    }
    let mut low = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if mid <= low || mid >= high {
            break;
        }
        if t.sf(mid) > tail {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_close, EXACT};

    /// A regression test: statrs' inverse CDF did not return for some degrees of
    /// freedom (a mixed model with Kenward–Roger df hung). R 4.2.2's `qt(0.975, df)`
    /// (tests/reference/t_quantile/qt_extreme_df.R and its CSV).
    #[test]
    fn extreme_degrees_of_freedom_give_the_quantile_without_hanging() {
        let q = |df: f64| t_quantile_975(&StudentsT::new(0.0, 1.0, df).unwrap());
        assert_close("qt(0.975, 1e7)", q(1e7), 1.959_964_221_767_2, EXACT);
        assert_close("qt(0.975, 1e12)", q(1e12), 1.959_963_984_542_43, EXACT);
        assert_close("qt(0.975, 0.2)", q(0.2), 768_848.479_701_248, EXACT);
        assert_eq!(q(1e-3), f64::INFINITY);
    }

    /// R 4.2.2: `qt(0.975, 10)`, `2 * pt(-2, 10)`.
    const QT_975_10: f64 = 2.228_138_851_986_274;
    const P_T2_DF10: f64 = 0.073_388_034_770_740_39;

    #[test]
    fn the_t_test_matches_r() {
        let c = Coefficient::t_test("x", 2.0, 1.0, 10.0);
        assert_eq!(c.term, "x");
        assert_eq!(c.statistic, 2.0);
        assert_eq!(c.df, Some(10.0));
        assert_close("p", c.p_value, P_T2_DF10, EXACT);
        assert_close("conf_low", c.conf_low, 2.0 - QT_975_10, EXACT);
        assert_close("conf_high", c.conf_high, 2.0 + QT_975_10, EXACT);
    }

    #[test]
    fn no_positive_df_gives_no_test() {
        let c = Coefficient::t_test("x", 2.0, 1.0, 0.0);
        assert!(c.p_value.is_nan() && c.conf_low.is_nan() && c.conf_high.is_nan());
        assert_eq!(c.estimate, 2.0);
    }

    #[test]
    fn an_aliased_row_is_all_nan_and_keeps_its_name() {
        let c = Coefficient::aliased("z").named("w");
        assert_eq!(c.term, "w");
        assert!(c.estimate.is_nan() && c.std_error.is_nan() && c.p_value.is_nan());
        assert_eq!(c.df, None);
    }
}
