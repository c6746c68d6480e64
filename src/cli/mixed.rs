//! `shine mixed`: linear mixed models on any table, lme4's formula syntax.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::Globals;
use crate::data::table::{read_any, to_dataset};
use crate::pipeline::emmeans::{emmeans, parse_spec, Emmeans, GridEstimate};
use crate::report::table::{Cell, ResultTable};
use crate::stats::design::{model_matrix, random_effect_design};
use crate::stats::formula;
use crate::stats::lmm::{
    cluster_robust_vcov, fit_lmm, DfMethod, LmmError, LmmFit, LmmOptions, Method, RobustType,
    StandardErrors,
};
use crate::InputError;

fn emmeans_tables(e: &Emmeans) -> String {
    let mut out = String::new();
    for (name, title, rows) in [
        ("means", "Estimated marginal means", &e.means),
        ("changes", "Change from the first level", &e.changes),
        (
            "differences",
            "Difference between groups in the change",
            &e.differences,
        ),
    ] {
        if rows.is_empty() {
            continue;
        }
        let mut t = ResultTable::new(
            name,
            title,
            &[
                "contrast",
                "group",
                "estimate",
                "std_error",
                "df",
                "p_value",
                "conf_low",
                "conf_high",
            ],
        );
        for r in rows.iter() {
            let r: &GridEstimate = r;
            t.push(vec![
                Cell::text(&r.contrast),
                Cell::text(r.group.clone().unwrap_or_default()),
                Cell::estimate(r.estimate, 4),
                Cell::estimate(r.std_error, 4),
                Cell::estimate(r.df, 2),
                Cell::estimate(r.p_value, 4),
                Cell::estimate(r.conf_low, 4),
                Cell::estimate(r.conf_high, 4),
            ]);
        }
        out.push_str(&t.to_markdown(0));
        out.push('\n');
    }
    out
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MethodArg {
    Reml,
    Ml,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DfArg {
    Satterthwaite,
    Residual,
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
    /// Degrees of freedom for tests and intervals: Satterthwaite (lmerTest) or residual.
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
    let parsed = formula::parse(&args.formula).map_err(|e| InputError(e.to_string()))?;
    if parsed.random.is_empty() {
        return Err(
            InputError("the formula has no random-effect term such as (1 | id)".into()).into(),
        );
    }
    let columns: Vec<String> = parsed.columns().into_iter().collect();
    let frame = read_any(&args.data).map_err(|e| InputError(e.to_string()))?;
    let data = to_dataset(&frame, &columns, &file).map_err(|e| InputError(e.to_string()))?;
    let design = model_matrix(&parsed, &data).map_err(|e| InputError(format!("{file}: {e}")))?;
    let random = random_effect_design(&parsed, &data, &design.rows)
        .map_err(|e| InputError(format!("{file}: {e}")))?;
    let options = LmmOptions {
        method: match args.method {
            MethodArg::Reml => Method::Reml,
            MethodArg::Ml => Method::Ml,
        },
        df: match args.df {
            DfArg::Satterthwaite => DfMethod::Satterthwaite,
            DfArg::Residual => DfMethod::Residual,
        },
        ..LmmOptions::default()
    };
    let mut fit = fit_lmm(&design, &random, &options).map_err(|e| match e {
        e @ LmmError::TooLarge { .. } => anyhow::anyhow!("{file}: {e}"),
        other => anyhow::Error::new(InputError(format!("{file}: {other}"))),
    })?;
    if !globals.quiet {
        for m in &fit.messages {
            eprintln!("note: {m}");
        }
        if fit.singular {
            eprintln!("note: singular fit: a variance component is on the boundary (as lme4's isSingular)");
        }
    }
    if !fit.converged {
        let text = describe(&fit, design.dropped_rows);
        super::print_stdout(&text)?;
        anyhow::bail!(
            "{file}: the model did not converge: rescale covariates, simplify the random effects (e.g. (t || g) instead of (t | g)), or check for a response with little variation"
        );
    }
    let robust_type = match args.vcov {
        VcovArg::Model => None,
        VcovArg::Cr1 => Some(RobustType::Cr1),
        VcovArg::Cr2 => Some(RobustType::Cr2),
    };
    if let Some(kind) = robust_type {
        let robust = cluster_robust_vcov(&fit, &design, &random, kind)
            .map_err(|e| InputError(format!("{file}: {e}")))?;
        fit = fit.with_robust_vcov(&robust);
    }
    let emmeans = match &args.emmeans {
        Some(spec) => {
            let (variable, by) = parse_spec(spec).map_err(InputError)?;
            Some(
                emmeans(&parsed, &data, &design, &fit, &variable, by.as_deref())
                    .map_err(|e| InputError(format!("{file}: {e}")))?,
            )
        }
        None => None,
    };
    if args.json {
        let mut value = serde_json::to_value(&fit)?;
        if let (Some(e), Some(obj)) = (&emmeans, value.as_object_mut()) {
            obj.insert("emmeans".into(), serde_json::to_value(e)?);
        }
        super::print_stdout(&(serde_json::to_string_pretty(&value)? + "\n"))?;
    } else {
        let mut text = describe(&fit, design.dropped_rows);
        if let Some(e) = &emmeans {
            text.push('\n');
            text.push_str(&emmeans_tables(e));
        }
        super::print_stdout(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(fit: &LmmFit, dropped: usize) -> String {
    let mut out = format!(
        "Linear mixed model fit by {}; {} observations{}; groups: {}.\n",
        match fit.method {
            Method::Reml => "REML",
            Method::Ml => "maximum likelihood",
        },
        fit.n_obs,
        if dropped > 0 {
            format!(" ({dropped} rows with missing values dropped)")
        } else {
            String::new()
        },
        fit.n_groups
            .iter()
            .map(|g| format!("{} {}", g.group, g.n_groups))
            .collect::<Vec<_>>()
            .join(", "),
    );
    if let StandardErrors::ClusterRobust {
        kind,
        cluster_by,
        clusters,
    } = &fit.standard_errors
    {
        let df = if kind == "CR1" {
            format!("{} df", clusters.saturating_sub(1))
        } else {
            "Satterthwaite df".to_string()
        };
        out.push_str(&format!(
            "Standard errors: cluster-robust ({kind}) by {cluster_by}, {clusters} clusters; t tests on {df}.\n"
        ));
    }
    let criterion = match (fit.reml_criterion, fit.deviance) {
        (Some(r), _) => format!("REML criterion {r:.4}"),
        (None, Some(d)) => format!("deviance {d:.4}"),
        _ => String::new(),
    };
    out.push_str(&format!(
        "log-likelihood {:.4}, {criterion}, AIC {:.4}, BIC {:.4}; residual SD {:.5}{}\n\n",
        fit.log_likelihood,
        fit.aic,
        fit.bic,
        fit.sigma,
        if fit.singular { "; singular fit" } else { "" }
    ));
    let mut t = ResultTable::new(
        "fixed",
        "Fixed effects",
        &[
            "term",
            "estimate",
            "std_error",
            "df",
            "statistic",
            "p_value",
            "conf_low",
            "conf_high",
        ],
    );
    for c in &fit.fixed_effects {
        t.push(vec![
            Cell::text(&c.term),
            Cell::estimate(c.estimate, 5),
            Cell::estimate(c.std_error, 5),
            Cell::estimate(c.df, 2),
            Cell::estimate(c.statistic, 3),
            Cell::estimate(c.p_value, 4),
            Cell::estimate(c.conf_low, 5),
            Cell::estimate(c.conf_high, 5),
        ]);
    }
    out.push_str(&t.to_markdown(0));
    let mut r = ResultTable::new(
        "random",
        "Random effects",
        &["group", "term", "variance", "std_dev"],
    );
    for v in &fit.random_effects {
        r.push(vec![
            Cell::text(&v.group),
            Cell::text(&v.term),
            Cell::estimate(v.variance, 5),
            Cell::estimate(v.std_dev, 5),
        ]);
    }
    out.push('\n');
    out.push_str(&r.to_markdown(0));
    out
}
