//! `shine did`: difference-in-differences and event studies on any panel table.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::Globals;
use crate::data::table::{read_any, to_dataset};
use crate::pipeline::did::{fit_did, DidError, DidResult, DidSpec, VcovSpec};
use crate::report::table::{Cell, ResultTable};
use crate::stats::fixest::FeFamily;
use crate::stats::formula;
use crate::InputError;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Family {
    Gaussian,
    Poisson,
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
    vcov: String,
    /// Write the results as JSON to stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DidArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    let file = args.data.display().to_string();
    let vcov = VcovSpec::parse(&args.vcov).map_err(InputError)?;
    let parsed = formula::parse(&args.formula).map_err(|e| InputError(e.to_string()))?;
    let mut columns: Vec<String> = parsed.columns().into_iter().collect();
    let extra = [args.offset.clone(), args.weights.clone()]
        .into_iter()
        .flatten();
    let clusters = match &vcov {
        VcovSpec::Cluster(c) => c.clone(),
        _ => Vec::new(),
    };
    for c in extra.chain(clusters) {
        if !columns.contains(&c) {
            columns.push(c);
        }
    }
    let frame = read_any(&args.data).map_err(|e| InputError(e.to_string()))?;
    let data = to_dataset(&frame, &columns, &file).map_err(|e| InputError(e.to_string()))?;
    let spec = DidSpec {
        formula: args.formula.clone(),
        family: match args.family {
            Family::Gaussian => FeFamily::Gaussian,
            Family::Poisson => FeFamily::Poisson,
        },
        offset: args.offset.clone(),
        weights: args.weights.clone(),
        vcov,
    };
    let result = fit_did(&data, &spec).map_err(|e| match e {
        DidError::Input(m) => anyhow::Error::new(InputError(format!("{file}: {m}"))),
        DidError::Analysis(m) => anyhow::anyhow!("{file}: {m}"),
    })?;
    if !globals.quiet {
        for c in &result.collinear {
            eprintln!("warning: {c} is collinear with the fixed effects or other regressors and was dropped");
        }
        if !result.converged {
            eprintln!(
                "warning: the model did not converge in {} iterations; check the outcome for extreme values or simplify the fixed effects",
                result.iterations
            );
        }
    }
    if args.json {
        super::print_stdout(&(serde_json::to_string_pretty(&result)? + "\n"))?;
    } else {
        super::print_stdout(&describe(&result))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(r: &DidResult) -> String {
    let poisson = r.family == "poisson";
    let mut columns = vec![
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
    ];
    if poisson {
        columns.extend(["rate_ratio", "rr_conf_low", "rr_conf_high"]);
    }
    let mut t = ResultTable::new("did", "Coefficients", &columns);
    for c in &r.coefficients {
        let mut row = vec![
            Cell::text(&c.term),
            Cell::estimate(c.estimate, 5),
            Cell::estimate(c.std_error, 5),
            Cell::estimate(c.statistic, 3),
            Cell::estimate(c.p_value, 4),
            Cell::estimate(c.conf_low, 5),
            Cell::estimate(c.conf_high, 5),
        ];
        if poisson {
            row.push(Cell::maybe(c.rate_ratio, 4));
            row.push(Cell::maybe(c.rate_ratio_conf_low, 4));
            row.push(Cell::maybe(c.rate_ratio_conf_high, 4));
        }
        t.push(row);
    }
    let mut text = format!(
        "{} with fixed effects; variance {}; {} observations used, {} dropped.\n\n",
        if poisson { "Poisson PML" } else { "OLS" },
        r.vcov,
        r.n_obs,
        r.n_dropped
    );
    text.push_str(&t.to_markdown(0));
    if let Some(p) = &r.pretrend_test {
        text.push_str(&format!(
            "\nPre-trend test (all {} pre-period coefficients = 0): F = {:.4} on ({}, {}) df, p = {:.4}; Wald chi2 = {:.4}, p = {:.4}\n",
            p.df1, p.statistic, p.df1, p.df2, p.p_value, p.chi_squared, p.chi_squared_p_value
        ));
    }
    text
}
