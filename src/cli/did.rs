//! `shine did`: difference-in-differences and event studies on any panel table.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::Globals;
use crate::data::table::read_any_table;
use crate::pipeline::did::{fit_did, DidSpec};
use crate::pipeline::fit_error::FitError;
use crate::report::did_table::{print_did, warnings};
use crate::results::did::{DidResult, VcovSpec};
use crate::stats::fixest::{BootstrapWeights, FeFamily, WildBootstrapOptions};
use crate::stats::formula;
use crate::InputError;

/// The model family: fixest's `feols` or `fepois`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Family {
    /// Least squares.
    Gaussian,
    /// Poisson pseudo-maximum likelihood.
    Poisson,
}

impl From<Family> for FeFamily {
    fn from(family: Family) -> FeFamily {
        match family {
            Family::Gaussian => FeFamily::Gaussian,
            Family::Poisson => FeFamily::Poisson,
        }
    }
}

/// The bootstrap of `--bootstrap`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Bootstrap {
    /// The restricted wild cluster bootstrap (WCR, null imposed) of least squares.
    Wild,
}

/// The bootstrap weights of `--bootstrap-weights`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Weights {
    /// ±1 with probability 1/2 (all 2^G sign vectors when 2^G <= the reps).
    Rademacher,
    /// Webb's six-point distribution (few clusters).
    Webb,
    /// Mammen's two-point distribution.
    Mammen,
}

impl From<Weights> for BootstrapWeights {
    fn from(w: Weights) -> BootstrapWeights {
        match w {
            Weights::Rademacher => BootstrapWeights::Rademacher,
            Weights::Webb => BootstrapWeights::Webb,
            Weights::Mammen => BootstrapWeights::Mammen,
        }
    }
}

#[derive(Debug, Args)]
pub struct DidArgs {
    /// The panel (CSV or Parquet), one row per unit and period.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// fixest syntax: `y ~ treated_post | unit + period`, or
    /// `y ~ i(rel_period, treated, ref = -1) | unit + period`.
    #[arg(long, value_name = "FORMULA")]
    formula: String,
    /// gaussian (OLS, fixest's feols) or poisson (PPML, fixest's fepois).
    #[arg(long, value_enum, default_value = "gaussian")]
    family: Family,
    /// Column added to the linear predictor with coefficient 1 (e.g. log exposure).
    #[arg(long, value_name = "COL")]
    offset: Option<String>,
    /// Column of observation weights.
    #[arg(long, value_name = "COL")]
    weights: Option<String>,
    /// Variance: iid, hc1, or cluster:COL[,COL] (CR1, one- or two-way).
    #[arg(long, default_value = "iid", value_name = "VCOV")]
    vcov: VcovSpec,
    /// wild: p-values and intervals of every coefficient by the restricted wild cluster
    /// bootstrap (least squares, one clustering column from --vcov cluster:COL).
    #[arg(long, value_enum, value_name = "METHOD")]
    bootstrap: Option<Bootstrap>,
    /// Bootstrap weights.
    #[arg(long, value_enum, default_value = "rademacher", requires = "bootstrap")]
    bootstrap_weights: Weights,
    /// Bootstrap draws B (all 2^G sign vectors instead when 2^G <= B, Rademacher).
    #[arg(long, default_value_t = 9999, value_name = "B", requires = "bootstrap", value_parser = clap::value_parser!(u32).range(1..))]
    bootstrap_reps: u32,
    /// Seed of the bootstrap draws.
    #[arg(
        long,
        default_value_t = 1,
        value_name = "N",
        requires = "bootstrap",
        allow_negative_numbers = true
    )]
    seed: u64,
    /// Write the results as JSON to stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DidArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    let spec = DidSpec {
        formula: formula::parse(&args.formula).map_err(|e| InputError(e.to_string()))?,
        family: args.family.into(),
        offset: args.offset,
        weights: args.weights,
        vcov: args.vcov,
        bootstrap: args.bootstrap.map(|Bootstrap::Wild| WildBootstrapOptions {
            weights: args.bootstrap_weights.into(),
            reps: args.bootstrap_reps as usize,
            seed: args.seed,
            ..WildBootstrapOptions::default()
        }),
    };
    let (frame, source) = read_any_table(&args.data).map_err(|e| InputError(e.to_string()))?;
    let result = fit_did(&frame, &source, &spec).map_err(exit_error)?;
    if !globals.quiet {
        for line in warnings(&result) {
            eprintln!("{line}");
        }
    }
    let mut text = print_did(&result, args.json)?;
    if !args.json {
        text.push_str(&bootstrap_table(&result));
    }
    super::print_stdout(&text)?;
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

/// The wild cluster bootstrap columns under the coefficient table (empty without a
/// bootstrap): p-value and interval of each coefficient, and how they were drawn.
// To move beside the coefficient table in report::did_table.
fn bootstrap_table(r: &DidResult) -> String {
    let Some(info) = &r.bootstrap else {
        return String::new();
    };
    let weights = match info.weights {
        BootstrapWeights::Rademacher => "Rademacher",
        BootstrapWeights::Webb => "Webb",
        BootstrapWeights::Mammen => "Mammen",
    };
    let draws = if info.full_enumeration {
        format!("all {} sign vectors (full enumeration)", info.draws)
    } else {
        format!("{} draws, seed {}", info.draws, info.seed)
    };
    let mut text = format!(
        "\nWild cluster bootstrap (restricted, null imposed), {weights} weights, {} clusters of {}, {draws}; {:.0}% interval by test inversion:\n\n| term | boot_p_value | boot_conf_low | boot_conf_high |\n|---|---|---|---|\n",
        info.clusters,
        info.cluster,
        100.0 * info.confidence_level
    );
    let number = |v: Option<f64>, digits: usize| match v {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        Some(x) if x > 0.0 => "Inf".to_string(),
        Some(_) => "-Inf".to_string(),
        None => String::new(),
    };
    for c in &r.coefficients {
        text.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.coefficient.term,
            number(c.boot_p_value, 4),
            number(c.boot_conf_low, 5),
            number(c.boot_conf_high, 5)
        ));
    }
    text
}
