//! Agreement with pyfixest 0.60 on every stored reference fit
//! (`tests/reference/fixest/fixest_reference.json`, made by `make_reference.py` there):
//! estimates, standard errors, statistics, p-values, intervals, variance matrices,
//! counts of dropped rows, collinear regressors and the pre-trend Wald tests.
//!
//! The tolerance is [`OPTIMISER`]: pyfixest takes its Poisson standard errors from its
//! last IRLS step, one step behind the solution used here (see the module
//! documentation of [`super`]); estimates and standard errors agree to ~1e-8.

use nalgebra::DMatrix;
use serde_json::Value;

use super::{fit_fe, FeError, FeFamily, FeFit, FeModel, Vcov};
use crate::stats::design::{fixed_effect_codes, model_matrix, ColumnData, DataSet};
use crate::stats::formula::parse;
use crate::test_support::{rel_diff, OPTIMISER};

const REFERENCE: &str = include_str!("../../../tests/reference/fixest/fixest_reference.json");

fn data_file(name: &str) -> &'static str {
    match name {
        "grunfeld.csv" => include_str!("../../../tests/reference/fixest/grunfeld.csv"),
        "organ_donations.csv" => {
            include_str!("../../../tests/reference/fixest/organ_donations.csv")
        }
        "castle.csv" => include_str!("../../../tests/reference/fixest/castle.csv"),
        "fatalities.csv" => include_str!("../../../tests/reference/fixest/fatalities.csv"),
        "patents.csv" => include_str!("../../../tests/reference/fixest/patents.csv"),
        "simulated_panel.csv" => {
            include_str!("../../../tests/reference/fixest/simulated_panel.csv")
        }
        other => panic!("unknown data file {other}"),
    }
}

/// A CSV without quoting: numeric columns where every value parses, text otherwise.
fn read_csv(text: &str) -> DataSet {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let rows: Vec<Vec<&str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    let mut data = DataSet::new();
    for (j, name) in header.iter().enumerate() {
        let raw: Vec<&str> = rows.iter().map(|r| r[j]).collect();
        let numeric: Option<Vec<f64>> = raw.iter().map(|v| v.parse::<f64>().ok()).collect();
        let column = match numeric {
            Some(v) => ColumnData::Numeric(v),
            None => ColumnData::from_strings(&raw.iter().map(|s| Some(*s)).collect::<Vec<_>>()),
        };
        data.push(*name, column).expect("column");
    }
    data
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Null => f64::NAN,
        Value::Number(x) => x.as_f64().expect("number"),
        other => panic!("not a number: {other}"),
    }
}

fn column(data: &DataSet, name: &str, rows: &[usize]) -> Vec<f64> {
    match data.get(name) {
        Some(ColumnData::Numeric(v)) => rows.iter().map(|&r| v[r]).collect(),
        _ => panic!("no numeric column {name}"),
    }
}

/// Codes of `spec` ("a+b") over `rows`, as fixed effects of a throwaway formula.
fn groupings(
    data: &DataSet,
    response: &str,
    spec: &str,
    rows: &[usize],
) -> Vec<(String, Vec<u32>)> {
    let f = parse(&format!("{response} ~ 1 | {spec}")).expect("formula");
    fixed_effect_codes(&f, data, rows).expect("codes")
}

struct Prepared {
    y: Vec<f64>,
    x: DMatrix<f64>,
    names: Vec<String>,
    fe: Vec<(String, Vec<u32>)>,
    weights: Option<Vec<f64>>,
    offset: Option<Vec<f64>>,
    vcov: Vcov,
    model: FeModel,
}

fn prepare(case: &Value) -> Prepared {
    let data = read_csv(data_file(case["data_file"].as_str().expect("data file")));
    let formula_text = case["formula"].as_str().expect("formula");
    let f = parse(formula_text).expect("formula parses");
    let design = model_matrix(&f, &data).expect("model matrix");
    let fe = fixed_effect_codes(&f, &data, &design.rows).expect("fixed effects");
    let response = formula_text.split('~').next().expect("lhs").trim();
    let vcov = match &case["vcov"] {
        Value::String(s) if s == "iid" => Vcov::Iid,
        Value::String(s) if s == "hetero" => Vcov::Hc1,
        Value::Object(m) => {
            let spec = m["CRV1"].as_str().expect("CRV1");
            Vcov::Cluster(groupings(&data, response, spec, &design.rows))
        }
        other => panic!("vcov {other}"),
    };
    let family = match case["estimator"].as_str() {
        Some("feols") => FeFamily::Gaussian,
        Some("fepois") => FeFamily::Poisson,
        other => panic!("estimator {other:?}"),
    };
    let optional = |key: &str| case[key].as_str().map(|c| column(&data, c, &design.rows));
    Prepared {
        y: design.response.expect("response").iter().copied().collect(),
        x: design.x,
        names: design.column_names,
        fe,
        weights: optional("weights"),
        offset: optional("offset"),
        vcov,
        model: FeModel::new(family),
    }
}

fn fit(p: &Prepared) -> Result<FeFit, FeError> {
    fit_fe(
        &p.y,
        &p.x,
        &p.names,
        &p.fe,
        p.weights.as_deref(),
        p.offset.as_deref(),
        &p.vcov,
        &p.model,
    )
}

/// Collects disagreements instead of stopping at the first.
#[derive(Default)]
struct Checker {
    failures: Vec<String>,
    worst: f64,
    worst_at: String,
    /// The same over estimates and standard errors only.
    worst_estimate_se: f64,
}

impl Checker {
    fn close(&mut self, case: &str, what: &str, ours: f64, theirs: f64) {
        let d = rel_diff(ours, theirs);
        if what.ends_with("estimate") || what.ends_with("std_error") {
            self.worst_estimate_se = self.worst_estimate_se.max(d);
        }
        if d > self.worst {
            self.worst = d;
            self.worst_at = format!("{case} {what}");
        }
        if d.is_nan() || d > OPTIMISER {
            self.fail(format!("{case} {what}: {ours} vs {theirs} (rel {d:.2e})"));
        }
    }

    fn fail(&mut self, message: String) {
        self.failures.push(message);
    }
}

/// Every stored pyfixest model: estimates, standard errors, statistics, p-values,
/// intervals, the variance matrix, counts and the pre-trend Wald test.
#[test]
fn agrees_with_pyfixest() {
    let reference: Value = serde_json::from_str(REFERENCE).expect("valid JSON");
    let cases = reference["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40);
    let mut ck = Checker::default();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let p = prepare(case);
        let fit = match fit(&p) {
            Ok(f) => f,
            Err(e) => {
                ck.fail(format!("{name}: {e}"));
                continue;
            }
        };
        let coefs = case["coefficients"].as_array().expect("coefficients");
        let names: Vec<&str> = coefs
            .iter()
            .map(|c| c["term"].as_str().expect("term"))
            .collect();
        let ours: Vec<&str> = fit.coefficients.iter().map(|c| c.term.as_str()).collect();
        if names != ours {
            ck.fail(format!("{name}: terms {ours:?} vs {names:?}"));
            continue;
        }
        for (c, r) in fit.coefficients.iter().zip(coefs) {
            for (what, ours) in [
                ("estimate", c.estimate),
                ("std_error", c.std_error),
                ("statistic", c.statistic),
                ("p_value", c.p_value),
                ("conf_low", c.conf_low),
                ("conf_high", c.conf_high),
            ] {
                ck.close(name, &format!("{} {what}", c.term), ours, num(&r[what]));
            }
        }
        let v = case["vcov_matrix"].as_array().expect("vcov");
        let scale = (0..fit.vcov.nrows())
            .map(|i| fit.vcov[(i, i)].abs())
            .fold(0.0, f64::max);
        for (i, row) in v.iter().enumerate() {
            for (j, val) in row.as_array().expect("row").iter().enumerate() {
                // Entries relative to the largest variance.
                let d = (fit.vcov[(i, j)] - num(val)).abs() / scale;
                ck.worst = ck.worst.max(d);
                if d.is_nan() || d > OPTIMISER {
                    ck.fail(format!(
                        "{name} vcov[{i},{j}]: {} vs {}",
                        fit.vcov[(i, j)],
                        num(val)
                    ));
                }
            }
        }
        let counts = [
            ("n_obs", fit.n_obs, "n_obs"),
            ("singletons", fit.dropped.singletons, "n_dropped_singletons"),
            ("separated", fit.dropped.separated, "n_dropped_separation"),
            ("df_k", fit.df_k, "df_k"),
        ];
        for (what, ours, key) in counts {
            if ours as u64 != case[key].as_u64().expect("count") {
                ck.fail(format!("{name} {what}: {ours} vs {}", case[key]));
            }
        }
        let collinear: Vec<&str> = case["collinear"]
            .as_array()
            .expect("collinear")
            .iter()
            .map(|c| c.as_str().expect("name"))
            .collect();
        if fit.collinear != collinear {
            ck.fail(format!(
                "{name} collinear: {:?} vs {collinear:?}",
                fit.collinear
            ));
        }
        for (fe, size) in &fit.fixed_effect_sizes {
            let key = fe.replace('^', "_");
            if case["fixed_effect_sizes"][&key].as_u64() != Some(*size as u64) {
                ck.fail(format!(
                    "{name} size of {fe}: {size} vs {}",
                    case["fixed_effect_sizes"][&key]
                ));
            }
        }
        if let Some(df) = fit.t_df {
            ck.close(name, "t df", df, num(&case["df_t"]));
        }
        match fit.family {
            FeFamily::Gaussian => ck.close(name, "rss", fit.deviance, num(&case["rss"])),
            FeFamily::Poisson => ck.close(name, "deviance", fit.deviance, num(&case["deviance"])),
        }
        if !fit.converged {
            ck.fail(format!("{name}: not converged"));
        }
        if let Some(pre) = case.get("pretrend") {
            let terms: Vec<&str> = pre["terms"]
                .as_array()
                .expect("terms")
                .iter()
                .map(|t| t.as_str().expect("term"))
                .collect();
            match fit.wald_test(&terms) {
                Ok(w) => {
                    ck.close(
                        name,
                        "wald chi2",
                        w.chi_squared,
                        num(&pre["chi2_statistic"]),
                    );
                    ck.close(
                        name,
                        "wald chi2 p",
                        w.chi_squared_p_value,
                        num(&pre["chi2_p_value"]),
                    );
                    ck.close(name, "wald F", w.statistic, num(&pre["f_statistic"]));
                    ck.close(name, "wald F p", w.p_value, num(&pre["f_p_value"]));
                    ck.close(name, "wald df2", w.df2, num(&pre["f_df2"]));
                    if w.df1 as u64 != pre["df1"].as_u64().expect("df1") {
                        ck.fail(format!("{name} wald df1 {}", w.df1));
                    }
                }
                Err(e) => ck.fail(format!("{name} wald: {e}")),
            }
        }
    }
    eprintln!(
        "largest relative difference from pyfixest: {:.2e} ({}); estimates and standard errors: {:.2e}",
        ck.worst, ck.worst_at, ck.worst_estimate_se
    );
    assert!(
        ck.failures.is_empty(),
        "{} failures:\n{}",
        ck.failures.len(),
        ck.failures.join("\n")
    );
}
