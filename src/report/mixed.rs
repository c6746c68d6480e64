//! The printout of `shine mixed`: the model in two sentences, the fixed and random
//! effects and the estimated marginal means, or the JSON report.

use crate::results::mixed::{Emmeans, MixedResult};
use crate::stats::lmm::{DfMethod, LmmFit, Method, RobustType, StandardErrors};

use super::print_error::PrintError;
use super::table::{Cell, ResultTable};

/// The printout of `shine mixed`: JSON when `json` (the fit, with the marginal means
/// under `emmeans`), else the summary and tables in Markdown. A fit that did not
/// converge is always shown as the summary, so the user sees where it stopped.
///
/// # Errors
/// The result cannot be serialised.
pub fn print_mixed(result: &MixedResult, json: bool) -> Result<String, PrintError> {
    if json && result.fit.converged {
        let mut value = serde_json::to_value(&result.fit)?;
        if let (Some(e), Some(obj)) = (&result.emmeans, value.as_object_mut()) {
            obj.insert("emmeans".into(), serde_json::to_value(e)?);
        }
        return Ok(serde_json::to_string_pretty(&value)? + "\n");
    }
    let mut text = describe(&result.fit, result.dropped_rows);
    if let Some(e) = &result.emmeans {
        text.push('\n');
        text.push_str(&emmeans_tables(e));
    }
    Ok(text)
}

/// Notes about the fit, one line each, for stderr: the optimiser's messages and a
/// singular fit.
pub fn notes(result: &MixedResult) -> Vec<String> {
    let mut lines: Vec<String> = result
        .fit
        .messages
        .iter()
        .map(|m| format!("note: {m}"))
        .collect();
    if result.fit.singular {
        lines.push(
            "note: singular fit: a variance component is on the boundary (as lme4's isSingular)"
                .into(),
        );
    }
    lines
}

/// Means, changes and differences in change, one Markdown table each (empty ones left
/// out).
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
        for r in rows {
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
        let df = if kind == RobustType::Cr1.name() {
            format!("{} df", clusters.saturating_sub(1))
        } else {
            "Satterthwaite df".to_string()
        };
        out.push_str(&format!(
            "Standard errors: cluster-robust ({kind}) by {cluster_by}, {clusters} clusters; t tests on {df}.\n"
        ));
    }
    if fit.df_method == DfMethod::KenwardRoger && fit.standard_errors == StandardErrors::ModelBased
    {
        out.push_str("Standard errors and t tests: Kenward-Roger (adjusted covariance and df, as pbkrtest / lmerTest ddf = \"Kenward-Roger\").\n");
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
    out.push_str(&fixed_effects_table(fit).to_markdown(0));
    out.push('\n');
    out.push_str(&random_effects_table(fit).to_markdown(0));
    out
}

/// The fixed effects in broom's columns, with their degrees of freedom.
pub fn fixed_effects_table(fit: &LmmFit) -> ResultTable {
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
            Cell::maybe(c.df, 2),
            Cell::estimate(c.statistic, 3),
            Cell::estimate(c.p_value, 4),
            Cell::estimate(c.conf_low, 5),
            Cell::estimate(c.conf_high, 5),
        ]);
    }
    t
}

/// The variance components: per grouping factor and term, the variance and SD.
pub fn random_effects_table(fit: &LmmFit) -> ResultTable {
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
    r
}
