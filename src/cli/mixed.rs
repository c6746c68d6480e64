//! `shine mixed`: linear mixed models on any table, lme4's formula syntax.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::Globals;
use crate::data::table::read_any_table;
use crate::pipeline::emmeans::EmmeansSpec;
use crate::pipeline::fit_error::FitError;
use crate::pipeline::mixed::{fit_mixed, require_convergence, MixedSpec};
use crate::report::mixed::{notes, print_mixed};
use crate::stats::formula;
use crate::stats::lmm::{DfMethod, LmmOptions, Method, RobustType};
use crate::InputError;

/// How the variance parameters are estimated (lme4's `REML` argument).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MethodArg {
    /// Restricted maximum likelihood.
    Reml,
    /// Maximum likelihood.
    Ml,
}

impl From<MethodArg> for Method {
    fn from(method: MethodArg) -> Method {
        match method {
            MethodArg::Reml => Method::Reml,
            MethodArg::Ml => Method::Ml,
        }
    }
}

/// Degrees of freedom of the t tests of fixed effects and contrasts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DfArg {
    /// Satterthwaite's approximation (lmerTest).
    Satterthwaite,
    /// The residual degrees of freedom n − p.
    Residual,
    /// Kenward–Roger (pbkrtest, lmerTest `ddf = "Kenward-Roger"`): adjusted standard
    /// errors and df; REML fits only.
    KenwardRoger,
}

impl From<DfArg> for DfMethod {
    fn from(df: DfArg) -> DfMethod {
        match df {
            DfArg::Satterthwaite => DfMethod::Satterthwaite,
            DfArg::Residual => DfMethod::Residual,
            DfArg::KenwardRoger => DfMethod::KenwardRoger,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VcovArg {
    /// Model-based, as lme4 / lmerTest.
    Model,
    /// Cluster-robust CR1 by the outermost grouping factor (clubSandwich's
    /// `vcovCR(fit, type = "CR1")`), t on G − 1 df.
    Cr1,
    /// Cluster-robust CR2 by the outermost grouping factor with Satterthwaite df
    /// (clubSandwich's `vcovCR(fit, type = "CR2")` and `coef_test`); for few clusters.
    Cr2,
}

impl VcovArg {
    /// The cluster-robust covariance asked for; `None` for the model's own.
    fn robust_type(self) -> Option<RobustType> {
        match self {
            VcovArg::Model => None,
            VcovArg::Cr1 => Some(RobustType::Cr1),
            VcovArg::Cr2 => Some(RobustType::Cr2),
        }
    }
}

#[derive(Debug, Args)]
pub struct MixedArgs {
    /// The table (CSV or Parquet), one row per observation.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// lme4 syntax: `score ~ factor(wave) + age + (1 | person_id)`, `(1 + t | g)`,
    /// `(t || g)`, `(1 | a/b)`.
    #[arg(long, value_name = "FORMULA")]
    formula: String,
    /// REML (default, as lmer) or ML.
    #[arg(long, value_enum, default_value = "reml")]
    method: MethodArg,
    /// Degrees of freedom for tests and intervals: Satterthwaite (lmerTest), residual, or
    /// Kenward–Roger (REML only; also adjusts the standard errors).
    #[arg(long, value_enum, default_value = "satterthwaite")]
    df: DfArg,
    /// Covariance of the fixed effects: model-based, or cluster-robust (CR1 or CR2) by
    /// the outermost grouping factor, valid when the random-effects model of the
    /// covariance is wrong (e.g. the residual variance differs between waves).
    #[arg(long, value_enum, default_value = "model")]
    vcov: VcovArg,
    /// Estimated marginal means, e.g. `wave` or `"wave | group"`: means per level, the
    /// change from the first level, and the difference between groups in that change.
    #[arg(long, value_name = "SPEC")]
    emmeans: Option<String>,
    /// Write the results as JSON to stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: MixedArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    let file = args.data.display().to_string();
    let formula = formula::parse(&args.formula).map_err(|e| InputError(e.to_string()))?;
    if matches!(args.df, DfArg::KenwardRoger) && matches!(args.method, MethodArg::Ml) {
        return Err(InputError(
            "--df kenward-roger needs a REML fit (as lmerTest and pbkrtest); drop --method ml or use --df satterthwaite".into(),
        )
        .into());
    }
    let options = LmmOptions {
        method: args.method.into(),
        df: args.df.into(),
        ..LmmOptions::default()
    };
    let mut spec = MixedSpec::new(formula, options, args.vcov.robust_type()).map_err(exit_error)?;
    if let Some(text) = &args.emmeans {
        spec = spec.with_emmeans(text.parse::<EmmeansSpec>().map_err(InputError)?);
    }
    let (frame, source) = read_any_table(&args.data).map_err(|e| InputError(e.to_string()))?;
    let result = fit_mixed(&frame, &source, &spec).map_err(exit_error)?;
    if !globals.quiet {
        for line in notes(&result) {
            eprintln!("{line}");
        }
    }
    super::print_stdout(&print_mixed(&result, args.json)?)?;
    require_convergence(&result, &file).map_err(exit_error)?;
    Ok(ExitCode::SUCCESS)
}

/// Bad input exits with code 2, a failed analysis with 1.
fn exit_error(e: FitError) -> anyhow::Error {
    if e.is_input() {
        InputError(e.to_string()).into()
    } else {
        e.into()
    }
}
