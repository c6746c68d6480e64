//! The printout of `shine did`: the coefficient table with the model in a sentence and
//! the pre-trend test, or the JSON report.

use crate::results::did::DidResult;
use crate::stats::fixest::FeFamily;

use super::print_error::PrintError;
use super::table::{Cell, ResultTable};

/// The printout of `shine did`: JSON when `json`, else the summary and the coefficient
/// table in Markdown (with rate ratios under Poisson).
///
/// # Errors
/// The result cannot be serialised.
pub fn print_did(result: &DidResult, json: bool) -> Result<String, PrintError> {
    if json {
        Ok(serde_json::to_string_pretty(result)? + "\n")
    } else {
        Ok(describe(result))
    }
}

/// Warnings about the fit, one line each, for stderr: dropped collinear regressors and
/// non-convergence.
pub fn warnings(result: &DidResult) -> Vec<String> {
    let mut lines: Vec<String> = result
        .collinear
        .iter()
        .map(|c| format!("warning: {c} is collinear with the fixed effects or other regressors and was dropped"))
        .collect();
    if !result.converged {
        lines.push(format!(
            "warning: the model did not converge in {} iterations; check the outcome for extreme values or simplify the fixed effects",
            result.iterations
        ));
    }
    lines
}

/// The coefficient table of a difference-in-differences fit, in broom's columns; for
/// Poisson also the rate ratio and its interval.
pub fn coefficient_table(r: &DidResult) -> ResultTable {
    let poisson = r.family == FeFamily::Poisson;
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
    for d in &r.coefficients {
        let c = &d.coefficient;
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
            row.push(Cell::maybe(d.rate_ratio, 4));
            row.push(Cell::maybe(d.rate_ratio_conf_low, 4));
            row.push(Cell::maybe(d.rate_ratio_conf_high, 4));
        }
        t.push(row);
    }
    t
}

fn describe(r: &DidResult) -> String {
    let model = match r.family {
        FeFamily::Poisson => "Poisson PML",
        FeFamily::Gaussian => "OLS",
    };
    let mut text = format!(
        "{model} with fixed effects; variance {}; {} observations used, {} dropped.\n\n",
        r.vcov, r.n_obs, r.n_dropped
    );
    text.push_str(&coefficient_table(r).to_markdown(0));
    if let Some(p) = &r.pretrend_test {
        text.push_str(&format!(
            "\nPre-trend test (all {} pre-period coefficients = 0): F = {:.4} on ({}, {}) df, p = {:.4}; Wald chi2 = {:.4}, p = {:.4}\n",
            p.df1, p.statistic, p.df1, p.df2, p.p_value, p.chi_squared, p.chi_squared_p_value
        ));
    }
    text
}
