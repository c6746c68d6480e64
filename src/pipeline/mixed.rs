//! `shine mixed` on any table: formula → model matrix → random-effect design → REML/ML
//! fit → (cluster-robust covariance) → estimated marginal means.

use polars::prelude::DataFrame;

use crate::data::table::{to_dataset, TableSource};
use crate::results::mixed::MixedResult;
use crate::stats::design::{model_matrix, random_effect_design};
use crate::stats::formula::Formula;
use crate::stats::lmm::{cluster_robust_vcov, fit_lmm, KrError, LmmError, LmmOptions, RobustType};

use super::emmeans::{emmeans, EmmeansSpec};
use super::fit_error::FitError;

/// What `shine mixed` is asked to fit.
#[derive(Debug, Clone)]
pub struct MixedSpec {
    formula: Formula,
    options: LmmOptions,
    robust: Option<RobustType>,
    emmeans: Option<EmmeansSpec>,
}

impl MixedSpec {
    /// A model of lme4's formula syntax, fitted with `options`; standard errors
    /// cluster-robust of `robust`'s type by the outermost grouping factor when given.
    ///
    /// # Errors
    /// A formula without a random-effect term.
    pub fn new(
        formula: Formula,
        options: LmmOptions,
        robust: Option<RobustType>,
    ) -> Result<MixedSpec, FitError> {
        if formula.random.is_empty() {
            return Err(FitError::Input(
                "the formula has no random-effect term such as (1 | id)".into(),
            ));
        }
        Ok(MixedSpec {
            formula,
            options,
            robust,
            emmeans: None,
        })
    }

    /// Also estimate the marginal means `emmeans` asks for.
    pub fn with_emmeans(self, emmeans: EmmeansSpec) -> MixedSpec {
        MixedSpec {
            emmeans: Some(emmeans),
            ..self
        }
    }
}

/// Fits the model of `spec` to the rows of `frame` (read from `file`, named in
/// messages). A fit that did not converge is returned as it is, without robust
/// standard errors or marginal means: see [`require_convergence`].
///
/// # Errors
/// [`FitError::Table`] or [`FitError::Input`] for a table or model the fit cannot use;
/// [`FitError::Analysis`] for a model too large to fit.
pub fn fit_mixed(
    frame: &DataFrame,
    file: &TableSource,
    spec: &MixedSpec,
) -> Result<MixedResult, FitError> {
    let input = |e: &dyn std::fmt::Display| FitError::Input(super::fit_error::in_file(file, e));
    let columns: Vec<String> = spec.formula.columns().into_iter().collect();
    let data = to_dataset(frame, &columns, file, &spec.formula.categorical_columns())?;
    let design = model_matrix(&spec.formula, &data)
        .map_err(|e| input(&super::fit_error::design_input(&e, file)))?;
    let random = random_effect_design(&spec.formula, &data, &design.rows).map_err(|e| input(&e))?;
    let fit = fit_lmm(&design, &random, &spec.options).map_err(|e| match e {
        e @ (LmmError::TooLarge { .. }
        | LmmError::KenwardRoger(KrError::TooLarge { .. } | KrError::Numerical(_))) => {
            FitError::Analysis(format!("{file}: {e}"))
        }
        other => input(&other),
    })?;
    if !fit.converged {
        return Ok(MixedResult {
            fit,
            dropped_rows: design.dropped_rows,
            emmeans: None,
        });
    }
    let fit = match spec.robust {
        Some(kind) => {
            let robust =
                cluster_robust_vcov(&fit, &design, &random, kind).map_err(|e| input(&e))?;
            fit.with_robust_vcov(&robust)
        }
        None => fit,
    };
    let emmeans = spec
        .emmeans
        .as_ref()
        .map(|e| {
            emmeans(
                &spec.formula,
                &data,
                &design,
                &fit,
                &e.variable,
                e.by.as_deref(),
            )
            .map_err(|e| input(&e))
        })
        .transpose()?;
    Ok(MixedResult {
        fit,
        dropped_rows: design.dropped_rows,
        emmeans,
    })
}

/// Refuses a fit that did not converge, saying what to try.
///
/// # Errors
/// [`FitError::Analysis`] when the optimiser did not converge.
pub fn require_convergence(result: &MixedResult, file: &str) -> Result<(), FitError> {
    if result.fit.converged {
        Ok(())
    } else {
        Err(FitError::Analysis(format!(
            "{file}: the model did not converge: rescale covariates, simplify the random effects (e.g. (t || g) instead of (t | g)), or check for a response with little variation"
        )))
    }
}
