//! E-values (VanderWeele & Ding 2017): how strong unmeasured confounding would have to
//! be, on the risk-ratio scale, to explain away an observed association.
//!
//! The E-value of a risk ratio RR ≥ 1 is `RR + √(RR (RR − 1))`: the minimum strength of
//! association that an unmeasured confounder would need with both the exposure and the
//! outcome, conditional on the measured covariates, to move the risk ratio to 1 (Ding &
//! VanderWeele 2016's bounding factor set equal to RR). A protective RR < 1 is inverted
//! first. For a confidence interval the E-value is that of the limit closer to 1, and 1
//! when the interval covers 1.
//!
//! ## Which measure, and which conversion
//! The closed form is for risk ratios. VanderWeele & Ding (2017, Table) convert other
//! ratios to the risk-ratio scale before applying it:
//!
//! | measure | outcome rare (< 15% by the end of follow-up) | outcome common |
//! |---|---|---|
//! | risk ratio, rate ratio | as is | as is |
//! | odds ratio | as is (OR ≈ RR) | √OR |
//! | hazard ratio | as is (HR ≈ RR) | (1 − 0.5^√HR) / (1 − 0.5^√(1/HR)) |
//!
//! shine's rate ratios (Poisson or negative binomial models of counts of contacts per
//! person-time, in a difference-in-differences) take the first row: they are ratios of
//! expected counts, not odds or hazards, so neither the √OR nor the hazard conversion
//! applies, and they are used as they are, as the R package `EValue` does (its
//! `evalues.RR` takes "a risk ratio or rate ratio"). Strictly, the bound behind the
//! E-value is proved for risk ratios; reading a rate ratio as one is the convention of
//! the literature, and is most nearly exact for outcomes that most people have at most
//! once in the window (e.g. 1813 calls), less so for frequent GP contacts. The report
//! says so beside the E-values.
//!
//! ## References
//! - VanderWeele, T. J. & Ding, P. (2017). Sensitivity analysis in observational
//!   research: introducing the E-value. *Annals of Internal Medicine* 167(4), 268–274.
//! - Ding, P. & VanderWeele, T. J. (2016). Sensitivity analysis without assumptions.
//!   *Epidemiology* 27(3), 368–377.

use serde::Serialize;
use thiserror::Error;

/// The ratio an E-value is computed for, with the conversion VanderWeele & Ding (2017)
/// give for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RatioMeasure {
    /// Risk ratio: no conversion.
    RiskRatio,
    /// Rate ratio of counts per person-time (shine's Poisson and negative binomial
    /// models): no conversion (see the module documentation).
    RateRatio,
    /// Odds ratio; `common_outcome` (≥ 15%) takes √OR as the risk ratio.
    OddsRatio { common_outcome: bool },
    /// Hazard ratio; `common_outcome` takes (1 − 0.5^√HR) / (1 − 0.5^√(1/HR)).
    HazardRatio { common_outcome: bool },
}

impl RatioMeasure {
    /// The approximate risk ratio that corresponds to `ratio` (> 0).
    pub fn to_risk_ratio(self, ratio: f64) -> f64 {
        match self {
            RatioMeasure::RiskRatio
            | RatioMeasure::RateRatio
            | RatioMeasure::OddsRatio {
                common_outcome: false,
            }
            | RatioMeasure::HazardRatio {
                common_outcome: false,
            } => ratio,
            RatioMeasure::OddsRatio {
                common_outcome: true,
            } => ratio.sqrt(),
            RatioMeasure::HazardRatio {
                common_outcome: true,
            } => (1.0 - 0.5f64.powf(ratio.sqrt())) / (1.0 - 0.5f64.powf((1.0 / ratio).sqrt())),
        }
    }
}

/// Errors of [`evalue`].
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum EValueError {
    /// A ratio or limit is not a positive finite number.
    #[error("the {what} must be a positive finite ratio, not {value}")]
    NotARatio { what: &'static str, value: f64 },
    /// The limits do not enclose the estimate.
    #[error("the confidence interval ({low}, {high}) does not contain the estimate {estimate}")]
    LimitsOutOfOrder { estimate: f64, low: f64, high: f64 },
}

/// E-values of an estimate and of its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EValue {
    /// The estimate on the risk-ratio scale (after the conversion of its measure).
    pub risk_ratio: f64,
    /// E-value of the estimate.
    pub estimate: f64,
    /// E-value of the confidence limit closer to 1; 1 when the interval covers 1.
    pub ci_limit: f64,
}

/// The E-value of a risk ratio: `RR + √(RR (RR − 1))` for RR ≥ 1, of 1/RR for RR < 1.
pub fn evalue_of_risk_ratio(rr: f64) -> f64 {
    let rr = if rr < 1.0 { 1.0 / rr } else { rr };
    rr + (rr * (rr - 1.0)).sqrt()
}

/// E-values of `estimate` with confidence limits `conf_low` ≤ `estimate` ≤ `conf_high`,
/// all on the ratio scale of `measure` (e.g. exp of a log-rate-ratio coefficient).
///
/// | parameter | range |
/// |---|---|
/// | `estimate`, `conf_low`, `conf_high` | > 0, finite, ordered |
/// | `measure` | [`RatioMeasure`] |
///
/// The limits are converted like the estimate (the conversions are increasing, so
/// their order is kept).
///
/// # Errors
/// [`EValueError::NotARatio`] for a non-positive or non-finite value;
/// [`EValueError::LimitsOutOfOrder`] unless `conf_low ≤ estimate ≤ conf_high`.
///
/// ## References
/// VanderWeele & Ding (2017), see the [module documentation](self).
pub fn evalue(
    estimate: f64,
    conf_low: f64,
    conf_high: f64,
    measure: RatioMeasure,
) -> Result<EValue, EValueError> {
    for (what, value) in [
        ("estimate", estimate),
        ("lower confidence limit", conf_low),
        ("upper confidence limit", conf_high),
    ] {
        if !(value > 0.0 && value.is_finite()) {
            return Err(EValueError::NotARatio { what, value });
        }
    }
    if !(conf_low <= estimate && estimate <= conf_high) {
        return Err(EValueError::LimitsOutOfOrder {
            estimate,
            low: conf_low,
            high: conf_high,
        });
    }
    let rr = measure.to_risk_ratio(estimate);
    let (low, high) = (
        measure.to_risk_ratio(conf_low),
        measure.to_risk_ratio(conf_high),
    );
    let ci_limit = if low > 1.0 {
        evalue_of_risk_ratio(low)
    } else if high < 1.0 {
        evalue_of_risk_ratio(high)
    } else {
        1.0
    };
    Ok(EValue {
        risk_ratio: rr,
        estimate: evalue_of_risk_ratio(rr),
        ci_limit,
    })
}

#[cfg(test)]
mod tests;
