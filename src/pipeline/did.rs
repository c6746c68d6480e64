//! Difference-in-differences and event studies on any panel table: fixest's formula
//! syntax (`y ~ treated_post | unit + period`, `y ~ i(rel_period, treated, ref = -1) |
//! unit + period`), OLS or Poisson with high-dimensional fixed effects, offsets,
//! weights and iid / HC1 / cluster-robust variances, and the joint pre-trend test.

use polars::prelude::DataFrame;

use crate::data::table::{to_dataset, TableSource};
use crate::stats::design::{fixed_effect_codes, model_matrix, ColumnData, DataSet};
use crate::stats::fixest::{
    fit_fe, wild_cluster_bootstrap_weighted, FeError, FeFamily, FeFit, FeModel, Vcov,
    WildBootstrapOptions,
};
use crate::stats::formula::{Expr, Formula, RefValue};

use super::fit_error::FitError;

// The result types live in `results`; these paths stay for the pipeline's other users.
use crate::results::did::{BootstrapInfo, DidCoefficient, DidResult, VcovSpec};

/// What to fit.
#[derive(Debug, Clone)]
pub struct DidSpec {
    /// fixest syntax: `y ~ treated_post | unit + period`.
    pub formula: Formula,
    pub family: FeFamily,
    pub offset: Option<String>,
    pub weights: Option<String>,
    pub vcov: VcovSpec,
    /// The wild cluster bootstrap of every coefficient (least squares, one-way
    /// cluster-robust variance), when asked for.
    pub bootstrap: Option<WildBootstrapOptions>,
}

fn numeric_at(
    data: &DataSet,
    name: &str,
    rows: &[usize],
    what: &str,
    source: &TableSource,
) -> Result<Vec<f64>, FitError> {
    match data.get(name) {
        Some(ColumnData::Numeric(v)) => rows
            .iter()
            .map(|&r| {
                let x = v[r];
                if x.is_finite() {
                    Ok(x)
                } else {
                    Err(FitError::Input(format!(
                        "row {}, column {name}: a missing or non-finite {what} — expected a finite number",
                        source.row(r)
                    )))
                }
            })
            .collect(),
        Some(_) => Err(FitError::Input(format!(
            "column {name}: the {what} must be numeric"
        ))),
        None => Err(FitError::Input(format!(
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

/// Fits the model described by `spec` on the rows of `frame` (read from `file`, named
/// in messages).
///
/// # Errors
/// [`FitError::Table`] or [`FitError::Input`] for columns or values the model cannot
/// use; [`FitError::Analysis`] when the fit diverges or the pre-trend test fails.
pub fn fit_did(
    frame: &DataFrame,
    file: &TableSource,
    spec: &DidSpec,
) -> Result<DidResult, FitError> {
    let mut columns: Vec<String> = spec.formula.columns().into_iter().collect();
    let clusters = match &spec.vcov {
        VcovSpec::Cluster(c) => c.clone(),
        _ => Vec::new(),
    };
    let extra = [spec.offset.clone(), spec.weights.clone()]
        .into_iter()
        .flatten();
    for c in extra.chain(clusters) {
        if !columns.contains(&c) {
            columns.push(c);
        }
    }
    // Clusters are groups, whatever their cells hold.
    let mut categorical = spec.formula.categorical_columns();
    if let VcovSpec::Cluster(c) = &spec.vcov {
        categorical.extend(c.iter().cloned());
    }
    let data = to_dataset(frame, &columns, file, &categorical)?;
    fit_did_data(&data, spec, file).map_err(|e| match e {
        FitError::Input(m) => FitError::Input(super::fit_error::in_file(file, m)),
        FitError::Analysis(m) => FitError::Analysis(format!("{file}: {m}")),
        other => other,
    })
}

/// [`fit_did`] on the columns of a data set.
fn fit_did_data(
    data: &DataSet,
    spec: &DidSpec,
    source: &TableSource,
) -> Result<DidResult, FitError> {
    let input = |e: &dyn std::fmt::Display| FitError::Input(e.to_string());
    let formula = &spec.formula;
    let response = formula.response_label().ok_or_else(|| {
        FitError::Input(
            "the formula needs an outcome on the left: y ~ treated_post | unit + period".into(),
        )
    })?;
    let design = model_matrix(formula, data)
        .map_err(|e| input(&super::fit_error::design_input(&e, source)))?;
    let fixed_effects = fixed_effect_codes(formula, data, &design.rows).map_err(|e| input(&e))?;
    let y: Vec<f64> = design
        .response
        .as_ref()
        .map(|r| r.iter().copied().collect())
        .ok_or_else(|| FitError::Input(format!("the outcome `{response}` is not numeric")))?;
    // Every estimate would be 0 with a standard error of 0 (fixest stops here too).
    if let Some(&first) = y.first() {
        if y.iter().all(|&v| v == first) {
            return Err(FitError::Input(format!(
                "column `{response}`: the outcome is {first} in every row used, a constant — expected an outcome that varies"
            )));
        }
    }
    let weights = spec
        .weights
        .as_deref()
        .map(|w| numeric_at(data, w, &design.rows, "weight", source))
        .transpose()?;
    let offset = spec
        .offset
        .as_deref()
        .map(|o| numeric_at(data, o, &design.rows, "offset", source))
        .transpose()?;
    let vcov = match &spec.vcov {
        VcovSpec::Iid => Vcov::Iid,
        VcovSpec::Hc1 => Vcov::Hc1,
        VcovSpec::Cluster(cols) => {
            // One fixed effect per clustering column, coded as the model's are.
            let groups = Formula {
                response: None,
                intercept: true,
                terms: Vec::new(),
                random: Vec::new(),
                fixed_effects: cols.iter().map(|c| vec![c.clone()]).collect(),
            };
            Vcov::Cluster(fixed_effect_codes(&groups, data, &design.rows).map_err(|e| input(&e))?)
        }
    };
    let model = FeModel::new(spec.family);
    let fit: FeFit = fit_fe(&y, &design.x, &design.column_names, &fixed_effects, weights.as_deref(), offset.as_deref(), &vcov, &model)
        .map_err(|e| {
            // The estimator counts rows of the model; the user counts rows of the file.
            let file_row = |row: usize| source.row(design.rows.get(row).copied().unwrap_or(row));
            match e {
                FeError::Diverged { .. } => {
                    FitError::Analysis(format!("{e}: check the outcome for extreme values, or simplify the fixed effects"))
                }
                FeError::NegativeOutcome { row, value } => FitError::Input(format!(
                    "row {}, column {response}: a negative outcome ({value}) — expected counts or rates >= 0 for Poisson",
                    file_row(row)
                )),
                FeError::NonFinite { variable, row, value } => {
                    FitError::Input(format!("row {}, column {variable}: {value} — expected a finite number", file_row(row)))
                }
                FeError::NegativeWeight { row, value } => FitError::Input(format!(
                    "row {}, column {}: a negative weight ({value}) — expected weights >= 0",
                    file_row(row),
                    spec.weights.as_deref().unwrap_or("weights")
                )),
                other => FitError::Input(other.to_string()),
            }
        })?;

    let poisson = spec.family == FeFamily::Poisson;
    let mut coefficients: Vec<DidCoefficient> = fit
        .coefficients
        .iter()
        .map(|c| DidCoefficient::new(c.clone(), poisson))
        .collect();
    let bootstrap = match &spec.bootstrap {
        Some(options) => Some(bootstrap_coefficients(
            spec,
            options,
            &fit,
            &y,
            &design,
            &fixed_effects,
            offset.as_deref(),
            weights.as_deref(),
            &vcov,
            &mut coefficients,
        )?),
        None => None,
    };
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
            .filter(|c| event_period(&c.term).is_some_and(|p| p < reference))
            .map(|c| c.term.clone())
            .collect(),
        None => Vec::new(),
    };
    let pretrend_test = if pre.is_empty() {
        None
    } else {
        Some(
            fit.wald_test(&pre)
                .map_err(|e| FitError::Analysis(format!("pre-trend test: {e}")))?,
        )
    };
    Ok(DidResult {
        coefficients,
        n_obs: fit.n_obs,
        n_dropped: fit.n_dropped + design.dropped_rows,
        vcov: spec.vcov.clone(),
        family: spec.family,
        collinear: fit.collinear.clone(),
        converged: fit.converged,
        iterations: fit.iterations,
        pretrend_test,
        bootstrap,
    })
}

/// The wild cluster bootstrap of every coefficient of a least-squares fit, written into
/// their `boot_*` columns.
#[allow(clippy::too_many_arguments)]
fn bootstrap_coefficients(
    spec: &DidSpec,
    options: &WildBootstrapOptions,
    fit: &FeFit,
    y: &[f64],
    design: &crate::stats::design::Design,
    fixed_effects: &[(String, Vec<u32>)],
    offset: Option<&[f64]>,
    weights: Option<&[f64]>,
    vcov: &Vcov,
    coefficients: &mut [DidCoefficient],
) -> Result<BootstrapInfo, FitError> {
    if spec.family != FeFamily::Gaussian {
        return Err(FitError::Input(
            "the wild cluster bootstrap is for least squares (--family gaussian); the Poisson score bootstrap is not available".into(),
        ));
    }
    let (cluster_name, cluster) =
        match vcov {
            Vcov::Cluster(c) if c.len() == 1 => (&c[0].0, &c[0].1),
            Vcov::Cluster(_) => return Err(FitError::Input(
                "the wild cluster bootstrap clusters one way: give one column, --vcov cluster:COL"
                    .into(),
            )),
            _ => {
                return Err(FitError::Input(
                    "the wild cluster bootstrap needs the clusters: add --vcov cluster:COL".into(),
                ))
            }
        };
    let mut info = None;
    for c in coefficients.iter_mut() {
        // With --weights, the WCR of the weighted fit (the unweighted WCR on √w-scaled data).
        let b = wild_cluster_bootstrap_weighted(
            fit,
            y,
            &design.x,
            &design.column_names,
            fixed_effects,
            offset,
            weights,
            cluster,
            &c.coefficient.term,
            options,
        )
        .map_err(|e| {
            FitError::Analysis(format!(
                "wild cluster bootstrap of {}: {e}",
                c.coefficient.term
            ))
        })?;
        c.boot_p_value = Some(b.p_value);
        c.boot_conf_low = Some(b.conf_low);
        c.boot_conf_high = Some(b.conf_high);
        info = Some(BootstrapInfo {
            method: "wild",
            weights: b.weights,
            draws: b.draws,
            full_enumeration: b.full_enumeration,
            clusters: b.clusters,
            cluster: cluster_name.clone(),
            seed: b.seed,
            confidence_level: options.confidence_level,
        });
    }
    info.ok_or_else(|| FitError::Analysis("no coefficient to bootstrap".into()))
}

#[cfg(test)]
mod tests;
