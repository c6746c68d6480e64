//! Tests against lme4 1.1-31 / lmerTest 3.1-3 (tests/reference/lmm/lmm_reference.R),
//! error cases and cluster-robust covariances (synthetic data: `tests_synthetic.rs`).

use serde_json::Value;

use super::*;
use crate::stats::coefficient::Coefficient;

/// The degrees of freedom every mixed-model coefficient carries.
fn df(c: &Coefficient) -> f64 {
    c.df.expect("a mixed-model coefficient carries its df")
}
use crate::stats::design::{model_matrix, random_effect_design, ColumnData, DataSet};
use crate::stats::formula::parse;

/// Named tolerances (relative unless stated).
mod tol {
    /// Estimates, SEs, variance components, σ, logLik, criteria, AIC, BIC (issue 5).
    pub const ESTIMATE: f64 = 1e-6;
    /// Satterthwaite df (issue 5).
    pub const DF: f64 = 1e-4;
    /// θ: lme4's own optimum is only this close to the exact one (its tight-control fit).
    pub const THETA: f64 = 1e-5;
}

fn data_file(name: &str) -> &'static str {
    match name {
        "sleepstudy.csv" => include_str!("../../../tests/reference/lmm/sleepstudy.csv"),
        "pastes.csv" => include_str!("../../../tests/reference/lmm/pastes.csv"),
        "penicillin.csv" => include_str!("../../../tests/reference/lmm/penicillin.csv"),
        "dyestuff2.csv" => include_str!("../../../tests/reference/lmm/dyestuff2.csv"),
        "orthodont.csv" => include_str!("../../../tests/reference/lmm/orthodont.csv"),
        "survey_panel.csv" => include_str!("../../../tests/reference/lmm/survey_panel.csv"),
        "singular_slope.csv" => include_str!("../../../tests/reference/lmm/singular_slope.csv"),
        "insteval_crossed.csv" => {
            include_str!("../../../tests/reference/lmm/insteval_crossed.csv")
        }
        _ => panic!("unknown data file {name}"),
    }
}

fn reference(name: &str) -> Value {
    let text = match name {
        "sleepstudy_reml" => include_str!("../../../tests/reference/lmm/sleepstudy_reml.json"),
        "sleepstudy_ml" => include_str!("../../../tests/reference/lmm/sleepstudy_ml.json"),
        "sleepstudy_uncorrelated" => {
            include_str!("../../../tests/reference/lmm/sleepstudy_uncorrelated.json")
        }
        "sleepstudy_intercept_ml" => {
            include_str!("../../../tests/reference/lmm/sleepstudy_intercept_ml.json")
        }
        "pastes_nested" => include_str!("../../../tests/reference/lmm/pastes_nested.json"),
        "penicillin_crossed" => {
            include_str!("../../../tests/reference/lmm/penicillin_crossed.json")
        }
        "dyestuff2_singular" => {
            include_str!("../../../tests/reference/lmm/dyestuff2_singular.json")
        }
        "orthodont_intercept" => {
            include_str!("../../../tests/reference/lmm/orthodont_intercept.json")
        }
        "orthodont_slope" => include_str!("../../../tests/reference/lmm/orthodont_slope.json"),
        "orthodont_slope_ml" => {
            include_str!("../../../tests/reference/lmm/orthodont_slope_ml.json")
        }
        "survey_panel" => include_str!("../../../tests/reference/lmm/survey_panel.json"),
        "singular_slope" => include_str!("../../../tests/reference/lmm/singular_slope.json"),
        "insteval_crossed" => include_str!("../../../tests/reference/lmm/insteval_crossed.json"),
        "insteval" => include_str!("../../../tests/reference/lmm/insteval.json"),
        "robust_sleepstudy_slope" => {
            include_str!("../../../tests/reference/lmm/robust/robust_sleepstudy_slope.json")
        }
        "robust_sleepstudy_intercept" => {
            include_str!("../../../tests/reference/lmm/robust/robust_sleepstudy_intercept.json")
        }
        "robust_pastes_nested" => {
            include_str!("../../../tests/reference/lmm/robust/robust_pastes_nested.json")
        }
        "robust_survey_panel" => {
            include_str!("../../../tests/reference/lmm/robust/robust_survey_panel.json")
        }
        "lrt_sleepstudy_days" => {
            include_str!("../../../tests/reference/lmm/lrt_sleepstudy_days.json")
        }
        "lrt_sleepstudy_slope" => {
            include_str!("../../../tests/reference/lmm/lrt_sleepstudy_slope.json")
        }
        _ => panic!("unknown reference {name}"),
    };
    serde_json::from_str(text).expect("reference JSON parses")
}

/// A CSV with a header; a column whose values all parse as numbers is numeric.
fn read_csv(text: &str) -> DataSet {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let rows: Vec<Vec<&str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    let mut data = DataSet::new();
    for (c, name) in header.iter().enumerate() {
        let values: Vec<&str> = rows.iter().map(|r| r[c]).collect();
        let numbers: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
        let column = match numbers {
            Some(v) => ColumnData::Numeric(v),
            None => ColumnData::from_strings(&values.iter().map(|v| Some(*v)).collect::<Vec<_>>()),
        };
        data.push(*name, column).expect("column");
    }
    data
}

pub(super) fn fit_formula(
    formula: &str,
    data: &DataSet,
    options: &LmmOptions,
) -> Result<LmmFit, LmmError> {
    let f = parse(formula).expect("formula parses");
    let design = model_matrix(&f, data).expect("design");
    let random = random_effect_design(&f, data, &design.rows).expect("random design");
    fit_lmm(&design, &random, options)
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("f64"),
        Value::Null => f64::NAN,
        Value::String(s) if s == "Inf" => f64::INFINITY,
        Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
        _ => panic!("not a number: {v}"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().unwrap_or("NA").to_string())
        .collect()
}

/// |a − b| / |b|, or |a − b| when |b| < `floor`.
fn rel(a: f64, b: f64, floor: f64) -> f64 {
    if a == b {
        return 0.0;
    }
    let d = (a - b).abs();
    if b.abs() < floor {
        d
    } else {
        d / b.abs()
    }
}

/// Max relative differences per quantity, for the report and the assertions.
#[derive(Default, Debug)]
struct Agreement {
    rows: Vec<(String, f64, f64)>,
}

impl Agreement {
    fn check(&mut self, what: &str, ours: &[f64], theirs: &[f64], floor: f64, tol: f64) {
        assert_eq!(ours.len(), theirs.len(), "{what}: lengths");
        let worst = ours
            .iter()
            .zip(theirs)
            .map(|(a, b)| rel(*a, *b, floor))
            .fold(0.0, f64::max);
        self.rows.push((what.to_string(), worst, tol));
    }

    fn assert_all(&self, case: &str) {
        let mut failed = Vec::new();
        for (what, worst, tol) in &self.rows {
            eprintln!("{case:<26} {what:<22} max rel diff {worst:.2e} (tol {tol:.0e})");
            if worst.is_nan() || *worst > *tol {
                failed.push(format!("{what}: {worst:.3e} > {tol:.0e}"));
            }
        }
        assert!(failed.is_empty(), "{case}: {failed:?}");
    }
}

fn check_case(name: &str) -> LmmFit {
    let r = reference(name);
    let data_path = r["data_file"].as_str().expect("data_file");
    let data = read_csv(data_file(data_path.rsplit('/').next().expect("file name")));
    check_reference(name, &r, &data, Tolerances::ISSUE_5)
}

/// The tolerances of one comparison with a reference (relative).
#[derive(Clone, Copy)]
struct Tolerances {
    /// Estimates, SEs, variance components, σ, logLik, criteria.
    estimate: f64,
    /// Satterthwaite df and what depends on them (p-values, confidence limits).
    df: f64,
}

impl Tolerances {
    const ISSUE_5: Tolerances = Tolerances {
        estimate: tol::ESTIMATE,
        df: tol::DF,
    };
    /// The large crossed designs (issue 14): the REML criterion is so flat in θ that
    /// two converged optimisers (lme4's BOBYQA pushed to `rhoend = 1e-12`, and shine's)
    /// stop a few 1e-6 apart in θ at criteria equal to 1e-15; the issue's acceptance is
    /// 1e-5 for estimates, SEs and variance components and 1e-3 for df.
    const LARGE_CROSSED: Tolerances = Tolerances {
        estimate: 1e-5,
        df: 1e-3,
    };
}

/// Fits the reference's formula to `data` and compares everything the reference holds.
fn check_reference(name: &str, r: &Value, data: &DataSet, tols: Tolerances) -> LmmFit {
    let method = match r["method"].as_str() {
        Some("ML") => Method::Ml,
        _ => Method::Reml,
    };
    let options = LmmOptions {
        method,
        ..LmmOptions::default()
    };
    let fit = fit_formula(r["formula"].as_str().expect("formula"), data, &options)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(fit.converged, "{name}: {:?}", fit.messages);
    let fe = &r["fixed_effects"];
    let terms: Vec<String> = fit.fixed_effects.iter().map(|f| f.term.clone()).collect();
    assert_eq!(terms, strs(&fe["term"]), "{name}: terms");
    let col = |f: fn(&Coefficient) -> f64| fit.fixed_effects.iter().map(f).collect::<Vec<_>>();
    let mut a = Agreement::default();
    a.check(
        "estimate",
        &col(|f| f.estimate),
        &nums(&fe["estimate"]),
        1e-8,
        tols.estimate,
    );
    a.check(
        "std_error",
        &col(|f| f.std_error),
        &nums(&fe["std_error"]),
        0.0,
        tols.estimate,
    );
    a.check(
        "statistic",
        &col(|f| f.statistic),
        &nums(&fe["statistic"]),
        1e-8,
        tols.estimate,
    );
    a.check("df", &col(df), &nums(&fe["df"]), 0.0, tols.df);
    a.check(
        "p_value",
        &col(|f| f.p_value),
        &nums(&fe["p_value"]),
        0.0,
        tols.df,
    );
    a.check(
        "conf_low",
        &col(|f| f.conf_low),
        &nums(&fe["conf_low"]),
        1e-8,
        tols.df,
    );
    a.check(
        "conf_high",
        &col(|f| f.conf_high),
        &nums(&fe["conf_high"]),
        1e-8,
        tols.df,
    );
    let vcov_ref: Vec<f64> = r["vcov"]
        .as_array()
        .expect("vcov")
        .iter()
        .flat_map(nums)
        .collect();
    let p = fit.fixed_effects.len();
    let vcov: Vec<f64> = (0..p)
        .flat_map(|i| (0..p).map(move |j| (i, j)))
        .map(|(i, j)| fit.vcov()[(i, j)])
        .collect();
    a.check("vcov", &vcov, &vcov_ref, 1e-10, tols.estimate);
    a.check("theta", &fit.theta, &nums(&r["theta"]), 1e-4, tol::THETA);
    assert_eq!(
        fit.theta_names,
        strs(&r["theta_names"]),
        "{name}: theta names"
    );
    a.check(
        "sigma",
        &[fit.sigma],
        &[num(&r["sigma"])],
        0.0,
        tols.estimate,
    );

    // Variance components and correlations in as.data.frame(VarCorr) order.
    let vc = &r["varcorr"];
    let (grp, var1, var2) = (strs(&vc["grp"]), strs(&vc["var1"]), strs(&vc["var2"]));
    let (vcov_vc, sdcor) = (nums(&vc["vcov"]), nums(&vc["sdcor"]));
    let mut variances = (Vec::new(), Vec::new());
    let mut sds = (Vec::new(), Vec::new());
    let mut corrs = (Vec::new(), Vec::new());
    for i in 0..grp.len() {
        if grp[i] == "Residual" {
            variances.0.push(fit.sigma * fit.sigma);
            variances.1.push(vcov_vc[i]);
        } else if var2[i] == "NA" {
            let c = fit
                .random_effects
                .iter()
                .find(|c| c.group == grp[i] && c.term == var1[i])
                .unwrap_or_else(|| panic!("{name}: no component {} {}", grp[i], var1[i]));
            variances.0.push(c.variance);
            variances.1.push(vcov_vc[i]);
            sds.0.push(c.std_dev);
            sds.1.push(sdcor[i]);
        } else {
            let c = fit
                .correlations
                .iter()
                .find(|c| c.group == grp[i] && c.term1 == var1[i] && c.term2 == var2[i])
                .unwrap_or_else(|| {
                    panic!("{name}: no correlation {} {} {}", grp[i], var1[i], var2[i])
                });
            corrs.0.push(c.correlation);
            corrs.1.push(sdcor[i]);
        }
    }
    assert_eq!(
        fit.random_effects.len() + fit.correlations.len() + 1,
        grp.len(),
        "{name}: number of variance-covariance rows"
    );
    // Variance components near the boundary (below 1e-3 σ², e.g. the slope variance of
    // a singular fit) are determined only to the optimiser's precision in θ and compare
    // absolutely, in units of σ² (σ for SDs).
    let s2 = num(&r["sigma"]).powi(2);
    let scaled = |v: &[f64], by: f64| v.iter().map(|x| x / by).collect::<Vec<_>>();
    a.check(
        "variance",
        &scaled(&variances.0, s2),
        &scaled(&variances.1, s2),
        1e-3,
        tols.estimate,
    );
    let s1 = s2.sqrt();
    a.check(
        "std_dev",
        &scaled(&sds.0, s1),
        &scaled(&sds.1, s1),
        0.03,
        tols.estimate,
    );
    a.check("correlation", &corrs.0, &corrs.1, 1.0, tols.estimate);
    a.check(
        "log_likelihood",
        &[fit.log_likelihood],
        &[num(&r["log_likelihood"])],
        0.0,
        tols.estimate,
    );
    let crit = if method == Method::Reml {
        (
            fit.reml_criterion.expect("REML criterion"),
            num(&r["reml_criterion"]),
        )
    } else {
        (fit.deviance.expect("deviance"), num(&r["deviance"]))
    };
    a.check("criterion", &[crit.0], &[crit.1], 0.0, tols.estimate);
    a.check(
        "aic_bic",
        &[fit.aic, fit.bic],
        &[num(&r["aic"]), num(&r["bic"])],
        0.0,
        tols.estimate,
    );
    assert_eq!(
        fit.n_parameters as f64,
        num(&r["loglik_df"]),
        "{name}: logLik df"
    );
    assert_eq!(fit.n_obs as f64, num(&r["n_obs"]), "{name}: nobs");
    let groups = r["n_groups"].as_object().expect("n_groups");
    // Compare as sets: the order of the grouping factors is not part of the result.
    let mut ours: Vec<(String, f64)> = fit
        .n_groups
        .iter()
        .map(|g| (g.group.clone(), g.n_groups as f64))
        .collect();
    ours.sort_by(|a, b| a.0.cmp(&b.0));
    let mut theirs: Vec<(String, f64)> = groups.iter().map(|(k, v)| (k.clone(), num(v))).collect();
    theirs.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(ours, theirs, "{name}: ngrps");
    assert_eq!(
        fit.singular,
        r["singular"].as_bool().expect("singular"),
        "{name}: singular"
    );

    let vp_ref: Vec<f64> = r["vcov_varpar"]
        .as_array()
        .expect("vcov_varpar")
        .iter()
        .flat_map(nums)
        .collect();
    let vp = fit.vcov_varpar().expect("Satterthwaite parts");
    let k = vp.nrows();
    let vp: Vec<f64> = (0..k)
        .flat_map(|i| (0..k).map(move |j| (i, j)))
        .map(|(i, j)| vp[(i, j)])
        .collect();
    a.check("vcov_varpar", &vp, &vp_ref, 1e-6, 1e-3);

    for c in r["contrasts"].as_array().expect("contrasts") {
        let l = nums(&c["L"]);
        let ours = fit.contrast(&l).expect("contrast");
        let cname = c["name"].as_str().unwrap_or("?");
        a.check(
            &format!("contrast {cname}"),
            &[ours.estimate, ours.std_error, ours.statistic],
            &[
                num(&c["estimate"]),
                num(&c["std_error"]),
                num(&c["statistic"]),
            ],
            1e-8,
            tols.estimate,
        );
        a.check(
            &format!("contrast df {cname}"),
            &[df(&ours), ours.p_value, ours.conf_low, ours.conf_high],
            &[
                num(&c["df"]),
                num(&c["p_value"]),
                num(&c["conf_low"]),
                num(&c["conf_high"]),
            ],
            1e-8,
            tols.df,
        );
    }
    a.assert_all(name);
    fit
}

#[test]
fn sleepstudy_reml_works_like_lme4() {
    check_case("sleepstudy_reml");
}

#[test]
fn sleepstudy_ml_works_like_lme4() {
    check_case("sleepstudy_ml");
}

#[test]
fn sleepstudy_uncorrelated_works_like_lme4() {
    check_case("sleepstudy_uncorrelated");
}

#[test]
fn sleepstudy_intercept_ml_works_like_lme4() {
    check_case("sleepstudy_intercept_ml");
}

#[test]
fn pastes_nested_works_like_lme4() {
    check_case("pastes_nested");
}

#[test]
fn penicillin_crossed_works_like_lme4() {
    check_case("penicillin_crossed");
}

/// A crossed design large enough for the blocked factorisation of the remainder
/// (1,000 students, their lecturers and the dept:service cells of lme4's InstEval),
/// against lme4 pushed to convergence.
#[test]
fn insteval_crossed_subset_works_like_lme4() {
    let r = reference("insteval_crossed");
    let data = read_csv(data_file("insteval_crossed.csv"));
    let fit = check_reference("insteval_crossed", &r, &data, Tolerances::LARGE_CROSSED);
    // Students and lecturers both have more levels than the blocked factorisation's
    // threshold, so the one that is not the first block makes the remainder blocked.
    let big = fit
        .n_groups
        .iter()
        .filter(|g| g.n_groups >= pls_blocked_min())
        .count();
    assert_eq!(big, 2, "{:?}", fit.n_groups);
}

/// All of InstEval against lme4 pushed to convergence (estimates, SEs, variance
/// components, θ; df to the reference's tolerance). The 73,421-row CSV is not stored:
/// `benches/lmm_scale/run.sh` writes it from R.
/// Run with `SHINE_INSTEVAL_CSV=FILE cargo test --release --lib insteval_full -- --ignored --nocapture`.
#[test]
#[ignore]
fn insteval_full_agrees_with_lme4() {
    let path = std::env::var("SHINE_INSTEVAL_CSV").expect("SHINE_INSTEVAL_CSV names the CSV");
    let text = std::fs::read_to_string(&path).expect("the InstEval CSV reads");
    let start = std::time::Instant::now();
    check_reference(
        "insteval",
        &reference("insteval"),
        &read_csv(&text),
        Tolerances::LARGE_CROSSED,
    );
    eprintln!(
        "InstEval fit with Satterthwaite df: {:.2} s",
        start.elapsed().as_secs_f64()
    );
}

fn pls_blocked_min() -> usize {
    dense::BLOCKED_MIN_ORDER
}

#[test]
fn dyestuff2_singular_fit_is_flagged_like_lme4() {
    let fit = check_case("dyestuff2_singular");
    assert!(fit.singular);
    assert!(fit.messages.iter().any(|m| m.contains("singular")));
}

#[test]
fn singular_random_slope_is_flagged_like_lme4() {
    let fit = check_case("singular_slope");
    assert!(fit.singular);
}

#[test]
fn orthodont_intercept_works_like_lme4() {
    check_case("orthodont_intercept");
}

#[test]
fn orthodont_slope_works_like_lme4() {
    check_case("orthodont_slope");
}

#[test]
fn orthodont_slope_ml_works_like_lme4() {
    check_case("orthodont_slope_ml");
}

#[test]
fn survey_panel_works_like_lme4() {
    check_case("survey_panel");
}

fn check_lrt(name: &str) {
    let r = reference(name);
    let data = read_csv(data_file("sleepstudy.csv"));
    let ml = LmmOptions {
        method: Method::Ml,
        ..LmmOptions::default()
    };
    let m0 = fit_formula(r["formula0"].as_str().expect("f0"), &data, &ml).expect("m0");
    let m1 = fit_formula(r["formula1"].as_str().expect("f1"), &data, &ml).expect("m1");
    let t = likelihood_ratio_test(&m1, &m0).expect("lrt");
    let npar = nums(&r["npar"]);
    assert_eq!(
        [t.n_parameters[0] as f64, t.n_parameters[1] as f64],
        [npar[0], npar[1]]
    );
    assert_eq!(t.df as f64, num(&r["df"]));
    let mut a = Agreement::default();
    a.check(
        "log_likelihood",
        &t.log_likelihood,
        &nums(&r["log_likelihood"]),
        0.0,
        tol::ESTIMATE,
    );
    a.check(
        "deviance",
        &t.deviance,
        &nums(&r["deviance"]),
        0.0,
        tol::ESTIMATE,
    );
    a.check("aic", &t.aic, &nums(&r["aic"]), 0.0, tol::ESTIMATE);
    a.check("bic", &t.bic, &nums(&r["bic"]), 0.0, tol::ESTIMATE);
    a.check("chisq", &[t.chisq], &[num(&r["chisq"])], 0.0, 1e-5);
    a.check("p_value", &[t.p_value], &[num(&r["p_value"])], 0.0, 1e-4);
    a.assert_all(name);
}

#[test]
fn likelihood_ratio_test_for_days_works_like_anova() {
    check_lrt("lrt_sleepstudy_days");
}

#[test]
fn likelihood_ratio_test_for_random_slope_works_like_anova() {
    check_lrt("lrt_sleepstudy_slope");
}

#[test]
fn likelihood_ratio_test_needs_ml_fits() {
    let data = read_csv(data_file("sleepstudy.csv"));
    let reml = fit_formula(
        "Reaction ~ Days + (1 | Subject)",
        &data,
        &LmmOptions::default(),
    )
    .expect("fit");
    assert_eq!(
        likelihood_ratio_test(&reml, &reml),
        Err(LmmError::LrtNeedsMl)
    );
}

#[test]
fn residual_df_option_uses_n_minus_p() {
    let data = read_csv(data_file("sleepstudy.csv"));
    let options = LmmOptions {
        df: DfMethod::Residual,
        ..LmmOptions::default()
    };
    let fit = fit_formula("Reaction ~ Days + (Days | Subject)", &data, &options).expect("fit");
    assert!(fit.fixed_effects.iter().all(|f| df(f) == 178.0));
    assert!(fit.vcov_varpar().is_none());
    assert_eq!(df(&fit.contrast(&[1.0, 5.0]).expect("contrast")), 178.0);
}

#[test]
fn contrast_with_wrong_length_is_an_error() {
    let data = read_csv(data_file("sleepstudy.csv"));
    let fit = fit_formula(
        "Reaction ~ Days + (1 | Subject)",
        &data,
        &LmmOptions::default(),
    )
    .expect("fit");
    assert_eq!(
        fit.contrast(&[1.0]),
        Err(LmmError::ContrastLength {
            expected: 2,
            found: 1
        })
    );
}

#[test]
fn results_do_not_change_when_rows_are_permuted() {
    let text = data_file("orthodont.csv");
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    lines.swap(3, 50);
    let permuted = format!("{header}\n{}\n", lines.join("\n"));
    let f = "distance ~ age * Sex + (age | Subject)";
    let a = fit_formula(f, &read_csv(text), &LmmOptions::default()).expect("fit");
    let b = fit_formula(f, &read_csv(&permuted), &LmmOptions::default()).expect("fit");
    for (x, y) in a.fixed_effects.iter().zip(&b.fixed_effects) {
        assert!(
            rel(x.estimate, y.estimate, 1e-8) < 1e-9,
            "{} {}",
            x.estimate,
            y.estimate
        );
        assert!(rel(df(x), df(y), 0.0) < 1e-6);
    }
    assert!(rel(a.log_likelihood, b.log_likelihood, 0.0) < 1e-12);
}

#[test]
fn adding_a_constant_to_the_response_moves_only_the_intercept() {
    let text = data_file("sleepstudy.csv");
    let data = read_csv(text);
    let shifted = read_csv(
        &text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    l.to_string()
                } else {
                    let (y, rest) = l.split_once(',').expect("row");
                    format!("{},{rest}", y.parse::<f64>().expect("y") + 1000.0)
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let f = "Reaction ~ Days + (Days | Subject)";
    let a = fit_formula(f, &data, &LmmOptions::default()).expect("fit");
    let b = fit_formula(f, &shifted, &LmmOptions::default()).expect("fit");
    assert!((b.fixed_effects[0].estimate - a.fixed_effects[0].estimate - 1000.0).abs() < 1e-6);
    assert!(
        rel(
            b.fixed_effects[1].estimate,
            a.fixed_effects[1].estimate,
            0.0
        ) < 1e-8
    );
    assert!(rel(b.sigma, a.sigma, 0.0) < 1e-8);
    assert!(rel(b.log_likelihood, a.log_likelihood, 0.0) < 1e-10);
}

// ---------------------------------------------------------------------------------------
// Errors

pub(super) fn dataset(columns: Vec<(&str, ColumnData)>) -> DataSet {
    let mut d = DataSet::new();
    for (name, c) in columns {
        d.push(name, c).expect("column");
    }
    d
}

pub(super) fn text_column(values: &[&str]) -> ColumnData {
    ColumnData::from_strings(&values.iter().map(|v| Some(*v)).collect::<Vec<_>>())
}

#[test]
fn a_grouping_factor_with_one_level_is_an_error() {
    let d = dataset(vec![
        ("y", ColumnData::Numeric(vec![1.0, 2.0, 3.0, 5.0])),
        ("g", text_column(&["a", "a", "a", "a"])),
    ]);
    let e = fit_formula("y ~ 1 + (1 | g)", &d, &LmmOptions::default()).expect_err("error");
    assert_eq!(e, LmmError::SingleLevel { group: "g".into() });
    assert!(e.to_string().contains("> 1 sampled level"));
}

#[test]
fn as_many_levels_as_observations_is_an_error() {
    let d = dataset(vec![
        ("y", ColumnData::Numeric(vec![1.0, 2.0, 3.0, 5.0])),
        ("g", text_column(&["a", "b", "c", "d"])),
    ]);
    let e = fit_formula("y ~ 1 + (1 | g)", &d, &LmmOptions::default()).expect_err("error");
    assert!(
        matches!(
            e,
            LmmError::TooManyLevels {
                levels: 4,
                n_obs: 4,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn more_random_effects_than_observations_is_an_error() {
    let d = dataset(vec![
        ("y", ColumnData::Numeric(vec![1.0, 2.0, 3.0, 5.0, 4.0, 1.0])),
        ("t", ColumnData::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0])),
        ("g", text_column(&["a", "a", "b", "b", "c", "c"])),
    ]);
    let e = fit_formula("y ~ t + (t | g)", &d, &LmmOptions::default()).expect_err("error");
    assert!(
        matches!(
            e,
            LmmError::TooManyRandomEffects {
                n_random: 6,
                n_obs: 6,
                ..
            }
        ),
        "{e}"
    );
    assert!(e
        .to_string()
        .contains("number of observations (=6) <= number of random effects (=6)"));
}

#[test]
fn a_response_without_variance_is_an_error() {
    let d = dataset(vec![
        ("y", ColumnData::Numeric(vec![2.0; 6])),
        ("g", text_column(&["a", "a", "b", "b", "c", "c"])),
    ]);
    let e = fit_formula("y ~ 1 + (1 | g)", &d, &LmmOptions::default()).expect_err("error");
    assert_eq!(e, LmmError::ConstantResponse { value: 2.0 });
}

#[test]
fn no_random_effects_is_an_error() {
    let d = dataset(vec![
        ("y", ColumnData::Numeric(vec![1.0, 2.0, 4.0])),
        ("x", ColumnData::Numeric(vec![1.0, 2.0, 3.0])),
    ]);
    let e = fit_formula("y ~ x", &d, &LmmOptions::default()).expect_err("error");
    assert_eq!(e, LmmError::NoRandomEffects);
}

#[test]
fn a_rank_deficient_fixed_part_is_an_error() {
    let d = dataset(vec![
        ("y", ColumnData::Numeric(vec![1.0, 2.0, 4.0, 3.0, 5.0, 1.0])),
        ("x", ColumnData::Numeric(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
        (
            "x2",
            ColumnData::Numeric(vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0]),
        ),
        ("g", text_column(&["a", "a", "b", "b", "c", "c"])),
    ]);
    let e = fit_formula("y ~ x + x2 + (1 | g)", &d, &LmmOptions::default()).expect_err("error");
    assert_eq!(
        e,
        LmmError::RankDeficient {
            columns: vec!["x2".into()]
        }
    );
}

#[test]
fn a_non_finite_value_is_an_error() {
    let d = dataset(vec![
        ("y", ColumnData::Numeric(vec![1.0, 2.0, 4.0, 3.0])),
        ("g", text_column(&["a", "a", "b", "b"])),
    ]);
    let f = parse("y ~ 1 + (1 | g)").expect("formula");
    let mut design = model_matrix(&f, &d).expect("design");
    let random = random_effect_design(&f, &d, &design.rows).expect("random");
    if let Some(y) = design.response.as_mut() {
        y[2] = f64::INFINITY;
    }
    let e = fit_lmm(&design, &random, &LmmOptions::default()).expect_err("error");
    assert!(matches!(e, LmmError::NonFinite { row: 2, .. }), "{e}");
}

#[test]
fn too_large_a_crossed_design_is_an_error_before_allocating() {
    // Two crossed factors with 6000 and 4500 levels: the dense block would be 4500².
    let n = 12_000;
    let a: Vec<String> = (0..n).map(|i| format!("a{}", i % 6000)).collect();
    let b: Vec<String> = (0..n).map(|i| format!("b{}", (i * 7) % 4500)).collect();
    let y: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64).collect();
    let d = dataset(vec![
        ("y", ColumnData::Numeric(y)),
        (
            "a",
            text_column(&a.iter().map(String::as_str).collect::<Vec<_>>()),
        ),
        (
            "b",
            text_column(&b.iter().map(String::as_str).collect::<Vec<_>>()),
        ),
    ]);
    let e =
        fit_formula("y ~ 1 + (1 | a) + (1 | b)", &d, &LmmOptions::default()).expect_err("error");
    assert_eq!(
        e,
        LmmError::TooLarge {
            q: 4500,
            limit: DENSE_REMAINDER_LIMIT
        }
    );
}

#[test]
fn hitting_the_evaluation_limit_is_reported_as_not_converged() {
    // A second factor with a random slope: no analytic gradient, so the derivative-free
    // search runs and needs more than 100 evaluations.
    let mut data = read_csv(data_file("sleepstudy.csv"));
    let Some(ColumnData::Numeric(days)) = data.get("Days").cloned() else {
        panic!("Days is numeric");
    };
    let shift: Vec<Option<String>> = days
        .iter()
        .enumerate()
        .map(|(i, d)| Some(format!("s{}", (i + *d as usize) % 4)))
        .collect();
    data.push("shift", ColumnData::from_strings(&shift))
        .expect("column");
    let options = LmmOptions {
        max_evaluations: 100,
        ..LmmOptions::default()
    };
    let fit = fit_formula(
        "Reaction ~ Days + (Days | Subject) + (Days | shift)",
        &data,
        &options,
    )
    .expect("fit");
    assert!(!fit.converged);
    assert!(
        fit.messages
            .iter()
            .any(|m| m.contains("did not converge") && m.contains("(t || g)")),
        "{:?}",
        fit.messages
    );
}

#[test]
fn a_model_without_fixed_effects_fits() {
    let data = read_csv(data_file("dyestuff2.csv"));
    let fit = fit_formula("Yield ~ 0 + (1 | Batch)", &data, &LmmOptions::default()).expect("fit");
    assert!(fit.fixed_effects.is_empty() && fit.converged);
    assert!(fit.sigma > 0.0 && fit.log_likelihood.is_finite());
}

/// Cluster-robust covariance against clubSandwich 0.5.8
/// (tests/reference/lmm/robust/robust_reference.R): `vcovCR(fit, type = "CR1")`, and
/// `vcovCR(fit, type = "CR2")` with coef_test's and linear_contrast's Satterthwaite df;
/// a random intercept, a correlated slope, nested factors (clusters: the outer one) and
/// an interaction model with 8 practices as clusters.
#[test]
fn cluster_robust_vcov_matches_club_sandwich() {
    for name in [
        "robust_sleepstudy_slope",
        "robust_sleepstudy_intercept",
        "robust_pastes_nested",
        "robust_survey_panel",
    ] {
        let r = reference(name);
        let data = read_csv(data_file(r["data"].as_str().unwrap()));
        let f = parse(r["formula"].as_str().unwrap()).unwrap();
        let design = model_matrix(&f, &data).unwrap();
        let blocks = random_effect_design(&f, &data, &design.rows).unwrap();
        let fit = fit_lmm(&design, &blocks, &LmmOptions::default()).unwrap();
        // jsonlite writes a one-term vector as a scalar.
        let terms = match &r["terms"] {
            Value::String(s) => vec![s.clone()],
            other => strs(other),
        };
        assert_eq!(design.column_names, terms, "{name}");
        let p = design.column_names.len();
        let entry = |v: &Value, i: usize, j: usize| -> f64 {
            let row = v.get(i).unwrap_or(v);
            num(row.get(j).unwrap_or(row))
        };
        for (kind, key) in [(RobustType::Cr1, "vcov_cr1"), (RobustType::Cr2, "vcov_cr2")] {
            let robust = cluster_robust_vcov(&fit, &design, &blocks, kind).unwrap();
            assert_eq!(robust.clusters as f64, num(&r["clusters"]), "{name}");
            let expected = &r[key];
            for i in 0..p {
                for j in 0..p {
                    let want = entry(expected, i, j);
                    let got = robust.vcov[(i, j)];
                    let scale =
                        entry(expected, i, i).abs().sqrt() * entry(expected, j, j).abs().sqrt();
                    assert!(
                        (got - want).abs() <= 1e-5 * scale,
                        "{name} {key} [{i},{j}]: {got} vs {want}"
                    );
                }
            }
            let refit = fit.clone().with_robust_vcov(&robust);
            for (j, fe) in refit.fixed_effects.iter().enumerate() {
                assert!((fe.std_error - robust.vcov[(j, j)].sqrt()).abs() < 1e-12);
                match kind {
                    // CR1 tests every coefficient on G − 1 df.
                    RobustType::Cr1 => assert_eq!(df(fe), robust.clusters as f64 - 1.0),
                    // CR2: Satterthwaite df per coefficient, as coef_test.
                    RobustType::Cr2 => {
                        let want = match &r["df_cr2_satterthwaite"] {
                            Value::Array(a) => num(&a[j]),
                            one => num(one),
                        };
                        assert!(
                            (df(fe) - want).abs() <= 1e-4 * want,
                            "{name} df {j}: {} vs {want}",
                            df(fe)
                        );
                    }
                }
            }
            if kind == RobustType::Cr2 {
                let c: Vec<f64> = match &r["contrast"] {
                    Value::Array(a) => a.iter().map(num).collect(),
                    one => vec![num(one)],
                };
                let got = refit.contrast(&c).unwrap();
                let want = &r["contrast_cr2"];
                assert!((got.estimate - num(&want["estimate"])).abs() < 1e-6 * got.std_error);
                assert!(
                    (got.std_error - num(&want["std_error"])).abs() <= 1e-5 * got.std_error,
                    "{name} contrast SE {} vs {}",
                    got.std_error,
                    want["std_error"]
                );
                assert!(
                    (df(&got) - num(&want["df"])).abs() <= 1e-4 * df(&got),
                    "{name} contrast df {} vs {}",
                    df(&got),
                    want["df"]
                );
            }
        }
    }
}

#[test]
fn cluster_robust_vcov_refuses_crossed_factors() {
    let data = read_csv(data_file("penicillin.csv"));
    let f = parse("diameter ~ 1 + (1 | plate) + (1 | sample)").unwrap();
    let design = model_matrix(&f, &data).unwrap();
    let blocks = random_effect_design(&f, &data, &design.rows).unwrap();
    let fit = fit_lmm(&design, &blocks, &LmmOptions::default()).unwrap();
    let e = cluster_robust_vcov(&fit, &design, &blocks, RobustType::Cr2).unwrap_err();
    assert!(matches!(e, RobustError::NotNested(..)), "{e:?}");
}

#[test]
fn options_out_of_range_are_refused_before_fitting() {
    let data = read_csv(data_file("sleepstudy.csv"));
    for (options, name) in [
        (
            LmmOptions {
                max_evaluations: 99,
                ..LmmOptions::default()
            },
            "max_evaluations",
        ),
        (
            LmmOptions {
                singular_tolerance: f64::NAN,
                ..LmmOptions::default()
            },
            "singular_tolerance",
        ),
        (
            LmmOptions {
                singular_tolerance: 1.0,
                ..LmmOptions::default()
            },
            "singular_tolerance",
        ),
    ] {
        let e = fit_formula("Reaction ~ Days + (Days | Subject)", &data, &options).unwrap_err();
        assert!(
            matches!(e, LmmError::InvalidOption { name: n, .. } if n == name),
            "{e}"
        );
    }
    assert!(LmmOptions::default().validate().is_ok());
}
