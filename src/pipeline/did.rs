//! Difference-in-differences and event studies on any panel table: fixest's formula
//! syntax (`y ~ treated_post | unit + period`, `y ~ i(rel_period, treated, ref = -1) |
//! unit + period`), OLS or Poisson with high-dimensional fixed effects, offsets,
//! weights and iid / HC1 / cluster-robust variances, and the joint pre-trend test.

use serde::Serialize;

use crate::stats::design::{fixed_effect_codes, model_matrix, ColumnData, DataSet};
use crate::stats::fixest::{fit_fe, FeError, FeFamily, FeFit, FeModel, Vcov};
use crate::stats::formula::{self, Expr, Formula, RefValue};

/// The variance of the estimates, as the user asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VcovSpec {
    Iid,
    Hc1,
    /// One or two clustering columns.
    Cluster(Vec<String>),
}

impl VcovSpec {
    /// `iid`, `hc1` (or `hetero`), `cluster:COL` or `cluster:COL1,COL2`.
    pub fn parse(text: &str) -> Result<VcovSpec, String> {
        match text.trim() {
            "iid" => Ok(VcovSpec::Iid),
            "hc1" | "hetero" => Ok(VcovSpec::Hc1),
            t => match t.strip_prefix("cluster:") {
                Some(cols) => {
                    let cols: Vec<String> = cols
                        .split(['+', ','])
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect();
                    if cols.is_empty() || cols.len() > 2 {
                        Err(format!("--vcov {t:?}: name one or two clustering columns, e.g. cluster:unit or cluster:unit,period"))
                    } else {
                        Ok(VcovSpec::Cluster(cols))
                    }
                }
                None => Err(format!(
                    "--vcov {t:?}: expected iid, hc1 or cluster:COL[,COL]"
                )),
            },
        }
    }

    pub fn label(&self) -> String {
        match self {
            VcovSpec::Iid => "iid".into(),
            VcovSpec::Hc1 => "hc1".into(),
            VcovSpec::Cluster(c) => format!("cluster:{}", c.join(",")),
        }
    }
}

/// What to fit.
#[derive(Debug, Clone)]
pub struct DidSpec {
    pub formula: String,
    pub family: FeFamily,
    pub offset: Option<String>,
    pub weights: Option<String>,
    pub vcov: VcovSpec,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DidError {
    /// Bad table or options (exit code 2).
    #[error("{0}")]
    Input(String),
    /// The model could not be fitted (exit code 1).
    #[error("{0}")]
    Analysis(String),
}

/// One coefficient, in broom's columns; for Poisson also the rate ratio.
#[derive(Debug, Clone, Serialize)]
pub struct DidCoefficient {
    pub term: String,
    pub estimate: f64,
    pub std_error: f64,
    pub statistic: f64,
    pub p_value: f64,
    pub conf_low: f64,
    pub conf_high: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_ratio_conf_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_ratio_conf_high: Option<f64>,
}

/// The joint Wald test that every pre-period event-study coefficient is zero.
#[derive(Debug, Clone, Serialize)]
pub struct PretrendTest {
    pub terms: Vec<String>,
    /// F = W / q, on (q, residual df) degrees of freedom (fixest's `wald()`).
    pub statistic: f64,
    pub df1: usize,
    pub df2: f64,
    pub p_value: f64,
    /// W on q degrees of freedom (pyfixest's `wald_test`).
    pub chi_squared: f64,
    pub chi_squared_p_value: f64,
}

/// A fitted difference-in-differences model.
#[derive(Debug, Clone, Serialize)]
pub struct DidResult {
    pub coefficients: Vec<DidCoefficient>,
    pub n_obs: usize,
    pub n_dropped: usize,
    pub vcov: String,
    pub family: &'static str,
    pub collinear: Vec<String>,
    pub converged: bool,
    pub iterations: usize,
    pub pretrend_test: Option<PretrendTest>,
}

fn numeric_at(
    data: &DataSet,
    name: &str,
    rows: &[usize],
    what: &str,
) -> Result<Vec<f64>, DidError> {
    match data.get(name) {
        Some(ColumnData::Numeric(v)) => rows
            .iter()
            .map(|&r| {
                let x = v[r];
                if x.is_finite() {
                    Ok(x)
                } else {
                    Err(DidError::Input(format!(
                        "row {}, column {name}: the {what} is missing or not finite",
                        r + 2
                    )))
                }
            })
            .collect(),
        Some(_) => Err(DidError::Input(format!(
            "column {name}: the {what} must be numeric"
        ))),
        None => Err(DidError::Input(format!(
            "no column `{name}` for the {what}"
        ))),
    }
}

/// The event-study period of a term named like `rel_period::-3:treated`.
fn event_period(term: &str) -> Option<f64> {
    let (_, rest) = term.split_once("::")?;
    let level = rest.split(':').next()?;
    level.parse::<f64>().ok()
}

/// Fits the model described by `spec` on `data`.
pub fn fit_did(data: &DataSet, spec: &DidSpec) -> Result<DidResult, DidError> {
    let input = |e: &dyn std::fmt::Display| DidError::Input(e.to_string());
    let formula: Formula = formula::parse(&spec.formula).map_err(|e| input(&e))?;
    let response = formula.response_label().ok_or_else(|| {
        DidError::Input(
            "the formula needs an outcome on the left: y ~ treated_post | unit + period".into(),
        )
    })?;
    let design = model_matrix(&formula, data).map_err(|e| input(&e))?;
    let fixed_effects = fixed_effect_codes(&formula, data, &design.rows).map_err(|e| input(&e))?;
    let y: Vec<f64> = design
        .response
        .as_ref()
        .map(|r| r.iter().copied().collect())
        .ok_or_else(|| DidError::Input(format!("the outcome `{response}` is not numeric")))?;
    let weights = spec
        .weights
        .as_deref()
        .map(|w| numeric_at(data, w, &design.rows, "weight"))
        .transpose()?;
    let offset = spec
        .offset
        .as_deref()
        .map(|o| numeric_at(data, o, &design.rows, "offset"))
        .transpose()?;
    let vcov = match &spec.vcov {
        VcovSpec::Iid => Vcov::Iid,
        VcovSpec::Hc1 => Vcov::Hc1,
        VcovSpec::Cluster(cols) => {
            let groups = formula::parse(&format!("{response} ~ 1 | {}", cols.join(" + ")))
                .map_err(|e| input(&e))?;
            Vcov::Cluster(fixed_effect_codes(&groups, data, &design.rows).map_err(|e| input(&e))?)
        }
    };
    let model = FeModel::new(spec.family);
    let fit: FeFit = fit_fe(&y, &design.x, &design.column_names, &fixed_effects, weights.as_deref(), offset.as_deref(), &vcov, &model)
        .map_err(|e| {
            // The estimator counts rows of the model; the user counts rows of the file.
            let file_row = |row: usize| design.rows.get(row).map_or(row + 2, |r| r + 2);
            match e {
                FeError::Diverged { .. } => {
                    DidError::Analysis(format!("{e}: check the outcome for extreme values, or simplify the fixed effects"))
                }
                FeError::NegativeOutcome { row, value } => DidError::Input(format!(
                    "row {}, column {response}: the outcome is negative ({value}); Poisson needs counts or rates >= 0",
                    file_row(row)
                )),
                FeError::NonFinite { variable, row, value } => {
                    DidError::Input(format!("row {}: {variable} is not a finite number ({value})", file_row(row)))
                }
                FeError::NegativeWeight { row, value } => DidError::Input(format!(
                    "row {}, column {}: the weight is negative ({value})",
                    file_row(row),
                    spec.weights.as_deref().unwrap_or("weights")
                )),
                other => DidError::Input(other.to_string()),
            }
        })?;

    let poisson = spec.family == FeFamily::Poisson;
    let coefficients = fit
        .coefficients
        .iter()
        .map(|c| DidCoefficient {
            term: c.name.clone(),
            estimate: c.estimate,
            std_error: c.std_error,
            statistic: c.statistic,
            p_value: c.p_value,
            conf_low: c.conf_low,
            conf_high: c.conf_high,
            rate_ratio: poisson.then(|| c.estimate.exp()),
            rate_ratio_conf_low: poisson.then(|| c.conf_low.exp()),
            rate_ratio_conf_high: poisson.then(|| c.conf_high.exp()),
        })
        .collect();
    // Pre-periods: event-study levels below the (lowest) reference period.
    let reference = formula
        .terms
        .iter()
        .flat_map(|t| &t.factors)
        .filter_map(|f| match f {
            Expr::EventStudy { refs, .. } => refs
                .iter()
                .filter_map(|r| match r {
                    RefValue::Number(v) => Some(*v),
                    RefValue::Text(_) => None,
                })
                .reduce(f64::min),
            _ => None,
        })
        .reduce(f64::min);
    let pre: Vec<String> = match reference {
        Some(reference) => fit
            .coefficients
            .iter()
            .filter(|c| event_period(&c.name).is_some_and(|p| p < reference))
            .map(|c| c.name.clone())
            .collect(),
        None => Vec::new(),
    };
    let pretrend_test = if pre.is_empty() {
        None
    } else {
        let w = fit
            .wald_test(&pre)
            .map_err(|e| DidError::Analysis(format!("pre-trend test: {e}")))?;
        Some(PretrendTest {
            terms: w.terms,
            statistic: w.statistic,
            df1: w.df1,
            df2: w.df2,
            p_value: w.p_value,
            chi_squared: w.chi_squared,
            chi_squared_p_value: w.chi_squared_p_value,
        })
    };
    Ok(DidResult {
        coefficients,
        n_obs: fit.n_obs,
        n_dropped: fit.n_dropped + design.dropped_rows,
        vcov: spec.vcov.label(),
        family: if poisson { "poisson" } else { "gaussian" },
        collinear: fit.collinear.clone(),
        converged: fit.converged,
        iterations: fit.iterations,
        pretrend_test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcov_specs_parse() {
        assert_eq!(VcovSpec::parse("iid"), Ok(VcovSpec::Iid));
        assert_eq!(VcovSpec::parse("hetero"), Ok(VcovSpec::Hc1));
        assert_eq!(
            VcovSpec::parse("cluster:unit,period"),
            Ok(VcovSpec::Cluster(vec!["unit".into(), "period".into()]))
        );
        assert!(VcovSpec::parse("cluster:").is_err());
        assert!(VcovSpec::parse("cluster:a,b,c").is_err());
        assert!(VcovSpec::parse("robust").is_err());
    }

    #[test]
    fn event_periods_are_read_from_fixest_names() {
        assert_eq!(event_period("rel_period::-3:treated"), Some(-3.0));
        assert_eq!(event_period("rel_period::2"), Some(2.0));
        assert_eq!(event_period("treated_post"), None);
    }
}
