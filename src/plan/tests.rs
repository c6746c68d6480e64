use super::*;
use crate::data::calendar::parse_iso_date;

#[test]
fn the_printed_plan_is_the_default_plan() {
    let plan = Plan::from_toml(DEFAULT_PLAN, "default plan").unwrap();
    assert_eq!(plan, Plan::default());
}

#[test]
fn every_setting_of_the_printed_plan_has_a_comment() {
    let mut previous = "";
    let mut settings = 0;
    for line in DEFAULT_PLAN.lines().map(str::trim) {
        if line.contains(" = ") && !line.starts_with('#') {
            settings += 1;
            assert!(
                previous.starts_with('#'),
                "setting without a comment: {line}"
            );
        }
        previous = line;
    }
    assert!(settings > 25, "{settings}");
}

#[test]
fn a_partial_plan_keeps_the_other_defaults() {
    let plan = Plan::from_toml("[matching]\nratio = 3\n", "p.toml").unwrap();
    assert_eq!(plan.matching.ratio, 3);
    assert_eq!(plan.matching.caliper.map(Caliper::width), Some(0.2));
    assert_eq!(plan.outcomes, Outcomes::default());
    assert_eq!(plan.sensitivity.len(), 4);
}

#[test]
fn unknown_keys_are_named() {
    let e = Plan::from_toml("[matching]\ncalliper = 0.1\n", "p.toml").unwrap_err();
    assert!(e.to_string().contains("calliper"), "{e}");
    assert!(e.to_string().starts_with("p.toml"), "{e}");
    let e = Plan::from_toml("[matchin]\nratio = 1\n", "p.toml").unwrap_err();
    assert!(e.to_string().contains("matchin"), "{e}");
}

#[test]
fn impossible_values_name_the_key() {
    for (text, key) in [
        ("[matching]\nratio = 0\n", "matching.ratio"),
        ("[matching]\ncaliper = -0.2\n", "matching.caliper"),
        (
            "[outcomes]\nperiods_before = 1\n",
            "outcomes.periods_before",
        ),
        ("[outcomes]\nperiod_days = 0\n", "outcomes.period_days"),
        (
            "[study]\nreferral_start = \"2024-13-01\"\n",
            "study.referral_start",
        ),
        (
            "[study]\nreferral_start = \"2025-01-01\"\nreferral_end = \"2024-01-01\"\n",
            "study.referral_end",
        ),
        (
            "[study]\ncatchment_municipalities = []\n",
            "study.catchment_municipalities",
        ),
        ("[eligibility]\nmin_age = -1\n", "eligibility.min_age"),
        (
            "[propensity]\ncovariates = [\"age +\"]\n",
            "propensity.covariates",
        ),
        (
            "[survey]\nprorate_max_missing = 3\n",
            "survey.prorate_max_missing",
        ),
        ("[disclosure]\nthreshold = 0\n", "disclosure.threshold"),
        ("[disclosure]\nround_to = 0\n", "disclosure.round_to"),
        (
            "[[outcomes.groups]]\nname = \"gp\"\ncontact_types = [\"gp_visit\"]\n",
            "outcomes.groups[0].contact_types",
        ),
        (
            "[outcomes]\nplacebo_periods = 12\n",
            "outcomes.placebo_periods",
        ),
        (
            "[outcomes]\nplacebo_periods = -1\n",
            "outcomes.placebo_periods",
        ),
        (
            "[[outcomes.negative_controls]]\nname = \"ed\"\ncontact_types = [\"emergency_department\"]\n",
            "outcomes.negative_controls[0].contact_types",
        ),
        (
            "[[outcomes.negative_controls]]\nname = \"helpline\"\ncontact_types = [\"outpatient\"]\n",
            "outcomes.negative_controls[0].name",
        ),
        (
            "[[sensitivity]]\nname = \"s\"\nlabel = \"s\"\nratio = 0\n",
            "sensitivity[0].ratio",
        ),
        (
            "[[sensitivity]]\nname = \"s\"\nlabel = \"s\"\n",
            "sensitivity[0]",
        ),
        (
            "[[sensitivity]]\nname = \"s\"\nlabel = \"s\"\ncovariates = []\n",
            "sensitivity[0].covariates",
        ),
        (
            "[[sensitivity]]\nname = \"s\"\nlabel = \"s\"\ncovariates = [\"age *\"]\n",
            "sensitivity[0].covariates",
        ),
    ] {
        let e = Plan::from_toml(text, "p.toml").unwrap_err().to_string();
        assert!(e.contains(key), "{text}: {e}");
    }
    let e = Plan::from_toml("[outcomes]\ncluster = \"practice\"\n", "p.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("practice"), "{e}");
    let e = Plan::from_toml("[matching]\nratio = \"five\"\n", "p.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("ratio") || e.contains("five"), "{e}");
}

#[test]
fn sensitivity_analyses_apply_their_changes_to_the_main_analysis() {
    let plan = Plan::default();
    let width = |a: &AnalysisSettings| a.caliper.map(Caliper::width);
    let main = plan.main_analysis();
    assert_eq!(width(&main), Some(0.2));
    let s = plan.sensitivity_analyses();
    assert_eq!(width(&s[0]), Some(0.1));
    assert_eq!(s[0].ratio, 5);
    assert_eq!(s[1].ratio, 1);
    assert_eq!(width(&s[1]), Some(0.2));
    assert_eq!(s[2].cluster, ClusterBy::Person);
    assert!(s[3].complete_cases);
    assert!(!s[2].complete_cases);
    assert!(s.iter().all(|a| a.covariates == main.covariates));
    assert_eq!(
        main.covariates.formula_text(),
        format!(
            "treated ~ {}",
            plan.propensity.covariates.terms().join(" + ")
        )
    );

    let plan = Plan::from_toml(
        "[[sensitivity]]\nname = \"np\"\nlabel = \"no prior use\"\ncovariates = [\"age\", \"sex\"]\n",
        "p.toml",
    )
    .unwrap();
    let s = plan.sensitivity_analyses();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].covariates.formula_text(), "treated ~ age + sex");
    let columns: Vec<String> = s[0].covariates.formula().columns().into_iter().collect();
    assert_eq!(columns, ["age", "sex", "treated"]);
    assert_eq!(s[0].ratio, plan.main_analysis().ratio);
}

#[test]
fn a_caliper_of_zero_is_no_caliper_and_is_written_back_as_zero() {
    let plan = Plan::from_toml(
        "[matching]\ncaliper = 0\n[[sensitivity]]\nname = \"nc\"\nlabel = \"no caliper\"\ncaliper = 0.0\n",
        "p.toml",
    )
    .unwrap();
    assert_eq!(plan.matching.caliper, None);
    assert_eq!(plan.sensitivity[0].caliper, Some(None));
    let file = PlanFile::from(&plan);
    assert_eq!(file.matching.caliper, 0.0);
    assert_eq!(file.sensitivity[0].caliper, Some(0.0));
}

#[test]
fn referral_dates_are_dates_and_written_back_as_iso_text() {
    let plan = Plan::from_toml(
        "[study]\nreferral_start = \"2024-02-29\"\nreferral_end = \"2025-12-31\"\n",
        "p.toml",
    )
    .unwrap();
    assert_eq!(
        plan.study.referral_start,
        NaiveDate::from_ymd_opt(2024, 2, 29)
    );
    let options = plan.risk_set_options();
    assert_eq!(options.referral_start, parse_iso_date("2024-02-29"));
    assert_eq!(options.referral_end, parse_iso_date("2025-12-31"));
    assert!(plan.to_toml().contains("referral_start = \"2024-02-29\""));
    assert_eq!(Plan::default().study.referral_start, None);
    let e = Plan::from_toml("[study]\nreferral_end = \"2023-02-29\"\n", "p.toml").unwrap_err();
    assert!(e.to_string().contains("study.referral_end"), "{e}");
}

#[test]
fn the_resolved_plan_round_trips() {
    let plan = Plan::default();
    assert_eq!(Plan::from_toml(&plan.to_toml(), "x").unwrap(), plan);
}

#[test]
fn min_cell_is_another_name_for_the_disclosure_threshold() {
    let plan = Plan::from_toml("[disclosure]\nmin_cell = 10\n", "p.toml").unwrap();
    assert_eq!(plan.disclosure.threshold, 10);
    let e = Plan::from_toml("[disclosure]\nmin_cell = 0\n", "p.toml").unwrap_err();
    assert!(e.to_string().contains("disclosure.threshold"), "{e}");
}

#[test]
fn a_window_longer_than_any_extract_is_refused() {
    for text in [
        "[outcomes]\nperiods_before = 100000\n",
        "[outcomes]\nperiods_after = 100000\n",
        "[outcomes]\nperiod_days = 366\nperiods_before = 31\n",
    ] {
        let e = Plan::from_toml(text, "p.toml").unwrap_err().to_string();
        assert!(e.contains("outcomes.periods_"), "{text}: {e}");
    }
    assert!(Plan::from_toml(
        "[outcomes]\nperiod_days = 365\nperiods_before = 30\n",
        "p.toml"
    )
    .is_ok());
}

#[test]
fn covariates_and_exact_variables_must_be_risk_set_columns() {
    for (text, key) in [
        (
            "[propensity]\ncovariates = [\"age\", \"nonsense\"]\n",
            "propensity.covariates",
        ),
        ("[matching]\nexact = [\"shoe_size\"]\n", "matching.exact"),
        (
            "[[sensitivity]]\nname = \"s\"\nlabel = \"s\"\ncovariates = [\"log(height)\"]\n",
            "sensitivity[0].covariates",
        ),
    ] {
        let e = Plan::from_toml(text, "p.toml").unwrap_err().to_string();
        assert!(
            e.contains(key) && e.contains("not a variable of the risk sets"),
            "{text}: {e}"
        );
    }
    let plan = Plan::from_toml(
        "[propensity]\ncovariates = [\"age\", \"I(age^2)\", \"prior_general_practice:sex\"]\n",
        "p.toml",
    );
    assert!(plan.is_ok(), "{plan:?}");
}

#[test]
fn round_to_is_read_and_written_back_only_when_it_rounds() {
    let plan = Plan::from_toml("[disclosure]\nround_to = 5\n", "p.toml").unwrap();
    assert_eq!(plan.disclosure.round_to, 5);
    assert!(toml::to_string(&plan.disclosure)
        .unwrap()
        .contains("round_to = 5"));
    let default = Plan::from_toml("", "p.toml").unwrap();
    assert_eq!(default.disclosure.round_to, 1);
    assert!(!toml::to_string(&default.disclosure)
        .unwrap()
        .contains("round_to"));
}
