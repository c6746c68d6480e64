//! The analysis plan: every choice of the pre-registered analysis in one TOML file.
//!
//! `shine plan` prints [`DEFAULT_PLAN`], the SHINE plan with a comment on every
//! setting; `shine analyse --plan FILE` reads a plan, where any key left out keeps its
//! default. Unknown keys and impossible values are errors that name the key. The
//! resolved plan is recorded in `manifest.json`.

use serde::{Deserialize, Serialize};

use crate::data::cohort::{OutcomeGroup, RiskSetOptions};
use crate::data::dictionary::{Dictionary, TableName};
use crate::data::instruments::{Prorate, ValueSet};
use crate::data::panel::PanelWindow;
use crate::data::read::parse_iso_date;
use crate::pipeline::did_stage::ClusterBy;

/// The default plan, as `shine plan` prints it. A test checks that it parses to
/// [`Plan::default`].
pub const DEFAULT_PLAN: &str = include_str!("default_plan.toml");

/// A plan that could not be used; the message names the key.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct PlanError {
    pub source_name: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Plan {
    pub seed: u64,
    pub study: Study,
    pub eligibility: Eligibility,
    pub propensity: Propensity,
    pub matching: Matching,
    pub outcomes: Outcomes,
    pub survey: Survey,
    pub disclosure: Disclosure,
    pub sensitivity: Vec<Sensitivity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Study {
    /// Municipality codes (DST) a comparison person must live in, as of the previous
    /// year's register snapshot.
    pub catchment_municipalities: Vec<i64>,
    /// Referrals from this date on enter the analysis (ISO date; empty: no bound).
    pub referral_start: String,
    /// Referrals up to and including this date enter the analysis (empty: no bound).
    pub referral_end: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Eligibility {
    /// Minimum age in years at the index date.
    pub min_age: i32,
    /// Persons referred later may serve as comparison persons before their own referral.
    pub later_referred_as_comparison: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Propensity {
    /// Right-hand side of the propensity model, in R's formula syntax; the treatment is
    /// `treated`.
    pub covariates: Vec<String>,
    /// Days before the index date over which prior healthcare use is counted
    /// (`prior_<outcome>` covariates).
    pub prior_use_days: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Matching {
    /// Comparison persons per referred person (1:K).
    pub ratio: usize,
    /// In standard deviations of the linear logit of the propensity score; 0 for none.
    pub caliper: f64,
    /// Variables matched on exactly.
    pub exact: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeGroupPlan {
    pub name: String,
    pub contact_types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Outcomes {
    pub period_days: i32,
    pub periods_before: i32,
    pub periods_after: i32,
    /// `matched_set` or `person`.
    pub cluster: ClusterBy,
    pub groups: Vec<OutcomeGroupPlan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Survey {
    /// `dk-5l` (Jensen et al. 2021) or `dk-3l` (Wittrup-Jensen et al. 2009).
    pub value_set: ValueSet,
    /// UCLA items that may be missing with the score prorated; 0: none.
    pub prorate_max_missing: usize,
    /// Only persons who answered every wave.
    pub complete_cases: bool,
    /// Add a random intercept for the general practice: `(1 | practice_id/person_id)`.
    pub practice_random_effect: bool,
    /// `robust` (cluster-robust CR2 with Satterthwaite df, by person, or by practice
    /// with the practice random effect), `robust_cr1` (CR1 on clusters − 1 df) or
    /// `model` (model-based with Satterthwaite df, as lmerTest).
    pub standard_errors: SurveyErrors,
}

/// The standard errors of the survey models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyErrors {
    /// Cluster-robust CR2 with Satterthwaite df (clubSandwich's defaults).
    Robust,
    /// Cluster-robust CR1 on clusters − 1 df.
    RobustCr1,
    /// Model-based with Satterthwaite df (lmerTest).
    Model,
}

impl SurveyErrors {
    /// The cluster-robust type, or `None` for model-based standard errors.
    pub fn robust_type(self) -> Option<crate::stats::lmm::RobustType> {
        match self {
            SurveyErrors::Robust => Some(crate::stats::lmm::RobustType::Cr2),
            SurveyErrors::RobustCr1 => Some(crate::stats::lmm::RobustType::Cr1),
            SurveyErrors::Model => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Disclosure {
    /// Counts from 1 to threshold − 1 are suppressed.
    pub threshold: u64,
}

/// One sensitivity analysis: the main analysis with some settings changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sensitivity {
    pub name: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caliper: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_cases: Option<bool>,
    /// Propensity covariates instead of the main analysis's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covariates: Option<Vec<String>>,
}

impl Default for Plan {
    fn default() -> Self {
        let sensitivity = |name: &str, label: &str| Sensitivity {
            name: name.into(),
            label: label.into(),
            caliper: None,
            ratio: None,
            cluster: None,
            complete_cases: None,
            covariates: None,
        };
        Plan {
            seed: 1,
            study: Study::default(),
            eligibility: Eligibility::default(),
            propensity: Propensity::default(),
            matching: Matching::default(),
            outcomes: Outcomes::default(),
            survey: Survey::default(),
            disclosure: Disclosure::default(),
            sensitivity: vec![
                Sensitivity {
                    caliper: Some(0.1),
                    ..sensitivity("caliper_0.1", "caliper 0.1 SD of the logit")
                },
                Sensitivity {
                    ratio: Some(1),
                    ..sensitivity("ratio_1", "1:1 matching")
                },
                Sensitivity {
                    cluster: Some(ClusterBy::Person),
                    ..sensitivity("cluster_person", "standard errors clustered by person")
                },
                Sensitivity {
                    complete_cases: Some(true),
                    ..sensitivity("complete_cases", "survey: complete cases only")
                },
            ],
        }
    }
}

impl Default for Study {
    fn default() -> Self {
        Study {
            catchment_municipalities: RiskSetOptions::default().catchment,
            referral_start: String::new(),
            referral_end: String::new(),
        }
    }
}

impl Default for Eligibility {
    fn default() -> Self {
        let r = RiskSetOptions::default();
        Eligibility {
            min_age: r.min_age,
            later_referred_as_comparison: r.allow_later_referred,
        }
    }
}

impl Default for Propensity {
    fn default() -> Self {
        let mut covariates: Vec<String> = [
            "age",
            "I(age^2)",
            "sex",
            "origin",
            "living_alone",
            "education",
            "income_quintile",
            "employment",
            "charlson_index",
            "psychiatric_diagnosis_5y",
        ]
        .map(String::from)
        .to_vec();
        covariates.extend(
            crate::data::cohort::default_outcome_groups()
                .iter()
                .map(|g| format!("prior_{}", g.name)),
        );
        covariates.push("index_month".into());
        Propensity {
            covariates,
            prior_use_days: RiskSetOptions::default().prior_days,
        }
    }
}

impl Default for Matching {
    fn default() -> Self {
        Matching {
            ratio: 5,
            caliper: 0.2,
            exact: vec!["sex".into()],
        }
    }
}

impl Default for Outcomes {
    fn default() -> Self {
        let w = PanelWindow::default();
        Outcomes {
            period_days: w.period_days,
            periods_before: w.periods_before,
            periods_after: w.periods_after,
            cluster: ClusterBy::MatchedSet,
            groups: crate::data::cohort::default_outcome_groups()
                .into_iter()
                .map(|g| OutcomeGroupPlan {
                    name: g.name,
                    contact_types: g.contact_types,
                })
                .collect(),
        }
    }
}

impl Default for Survey {
    fn default() -> Self {
        Survey {
            value_set: ValueSet::Dk5L,
            prorate_max_missing: 0,
            complete_cases: false,
            practice_random_effect: false,
            standard_errors: SurveyErrors::Robust,
        }
    }
}

impl Default for Disclosure {
    fn default() -> Self {
        Disclosure {
            threshold: crate::report::disclosure::DEFAULT_THRESHOLD,
        }
    }
}

/// The settings of one analysis (the main one or a sensitivity analysis), resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisSettings {
    pub name: String,
    pub label: String,
    pub ratio: usize,
    pub caliper: Option<f64>,
    pub cluster: ClusterBy,
    pub complete_cases: bool,
    /// Right-hand side terms of the propensity model.
    pub covariates: Vec<String>,
}

impl AnalysisSettings {
    /// The propensity formula, `treated ~ covariates`.
    pub fn propensity_formula(&self) -> String {
        format!("treated ~ {}", self.covariates.join(" + "))
    }
}

impl Plan {
    /// Reads a plan from TOML text; `source_name` names it in errors.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Plan, PlanError> {
        let plan: Plan = toml::from_str(text).map_err(|e| PlanError {
            source_name: source_name.to_string(),
            message: describe_toml_error(&e, text),
        })?;
        plan.check().map_err(|message| PlanError {
            source_name: source_name.to_string(),
            message,
        })?;
        Ok(plan)
    }

    /// The plan as TOML (without comments), as recorded in the manifest.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Checks values that parse but cannot be used; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        let bad = |key: &str, message: String| Err(format!("{key}: {message}"));
        if self.study.catchment_municipalities.is_empty() {
            return bad(
                "study.catchment_municipalities",
                "needs at least one municipality code".into(),
            );
        }
        let mut dates = [None, None];
        for (i, (key, value)) in [
            ("study.referral_start", &self.study.referral_start),
            ("study.referral_end", &self.study.referral_end),
        ]
        .into_iter()
        .enumerate()
        {
            if !value.is_empty() {
                match parse_iso_date(value) {
                    Some(d) => dates[i] = Some(d),
                    None => return bad(key, format!("`{value}` is not a date (YYYY-MM-DD)")),
                }
            }
        }
        if let [Some(a), Some(b)] = dates {
            if b < a {
                return bad(
                    "study.referral_end",
                    format!(
                        "{} is before study.referral_start {}",
                        self.study.referral_end, self.study.referral_start
                    ),
                );
            }
        }
        if !(0..=120).contains(&self.eligibility.min_age) {
            return bad(
                "eligibility.min_age",
                format!("must be 0–120 years, got {}", self.eligibility.min_age),
            );
        }
        if self.propensity.covariates.is_empty() {
            return bad(
                "propensity.covariates",
                "needs at least one covariate".into(),
            );
        }
        let formula = self.propensity_formula();
        if let Err(e) = crate::stats::formula::parse(&formula) {
            return bad("propensity.covariates", format!("`{formula}`: {e}"));
        }
        if self.propensity.prior_use_days < 1 {
            return bad(
                "propensity.prior_use_days",
                format!("must be at least 1, got {}", self.propensity.prior_use_days),
            );
        }
        check_ratio("matching.ratio", self.matching.ratio)?;
        check_caliper("matching.caliper", self.matching.caliper)?;
        let o = &self.outcomes;
        if !(1..=366).contains(&o.period_days) {
            return bad(
                "outcomes.period_days",
                format!("must be 1–366 days, got {}", o.period_days),
            );
        }
        if o.periods_before < 2 {
            return bad(
                "outcomes.periods_before",
                format!(
                    "must be at least 2 (period −1 is the event study's reference), got {}",
                    o.periods_before
                ),
            );
        }
        if o.periods_after < 1 {
            return bad(
                "outcomes.periods_after",
                format!("must be at least 1, got {}", o.periods_after),
            );
        }
        if o.groups.is_empty() {
            return bad("outcomes.groups", "needs at least one outcome group".into());
        }
        let known = contact_types();
        for (i, g) in o.groups.iter().enumerate() {
            let key = format!("outcomes.groups[{i}]");
            if g.name.is_empty()
                || !g
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return bad(
                    &format!("{key}.name"),
                    format!("`{}` must be letters, digits and _", g.name),
                );
            }
            if o.groups[..i].iter().any(|h| h.name == g.name) {
                return bad(
                    &format!("{key}.name"),
                    format!("`{}` is used twice", g.name),
                );
            }
            if g.contact_types.is_empty() {
                return bad(
                    &format!("{key}.contact_types"),
                    "needs at least one contact type".into(),
                );
            }
            for t in &g.contact_types {
                if !known.contains(t) {
                    return bad(
                        &format!("{key}.contact_types"),
                        format!("unknown contact type `{t}`; known: {}", known.join(", ")),
                    );
                }
            }
        }
        if let Prorate::MaxMissing(k) = self.prorate() {
            if k >= 3 {
                return bad(
                    "survey.prorate_max_missing",
                    format!("UCLA-3 has 3 items: at most 2 may be missing, got {k}"),
                );
            }
        }
        if self.disclosure.threshold < 1 {
            return bad("disclosure.threshold", "must be at least 1".into());
        }
        for (i, s) in self.sensitivity.iter().enumerate() {
            let key = format!("sensitivity[{i}]");
            if s.name.is_empty() || s.name == "main" {
                return bad(
                    &format!("{key}.name"),
                    "needs a name other than `main`".into(),
                );
            }
            if self.sensitivity[..i].iter().any(|t| t.name == s.name) {
                return bad(
                    &format!("{key}.name"),
                    format!("`{}` is used twice", s.name),
                );
            }
            if let Some(r) = s.ratio {
                check_ratio(&format!("{key}.ratio"), r)?;
            }
            if let Some(c) = s.caliper {
                check_caliper(&format!("{key}.caliper"), c)?;
            }
            if let Some(c) = &s.covariates {
                if c.is_empty() {
                    return bad(
                        &format!("{key}.covariates"),
                        "needs at least one covariate".into(),
                    );
                }
                let formula = format!("treated ~ {}", c.join(" + "));
                if let Err(e) = crate::stats::formula::parse(&formula) {
                    return bad(&format!("{key}.covariates"), format!("`{formula}`: {e}"));
                }
            }
            if s.caliper.is_none()
                && s.ratio.is_none()
                && s.cluster.is_none()
                && s.complete_cases.is_none()
                && s.covariates.is_none()
            {
                return bad(
                    &key,
                    "changes nothing: set caliper, ratio, cluster, complete_cases or covariates"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// The propensity formula, `treated ~ covariates`.
    pub fn propensity_formula(&self) -> String {
        self.main_analysis().propensity_formula()
    }

    pub fn risk_set_options(&self) -> RiskSetOptions {
        let (referral_start, referral_end) = self.referral_period();
        RiskSetOptions {
            catchment: self.study.catchment_municipalities.clone(),
            min_age: self.eligibility.min_age,
            allow_later_referred: self.eligibility.later_referred_as_comparison,
            prior_days: self.propensity.prior_use_days,
            referral_start,
            referral_end,
        }
    }

    /// The referral period as days since 1970-01-01 (checked by [`Plan::check`]).
    pub fn referral_period(&self) -> (Option<i32>, Option<i32>) {
        let day = |s: &str| (!s.is_empty()).then(|| parse_iso_date(s)).flatten();
        (
            day(&self.study.referral_start),
            day(&self.study.referral_end),
        )
    }

    pub fn outcome_groups(&self) -> Vec<OutcomeGroup> {
        self.outcomes
            .groups
            .iter()
            .map(|g| OutcomeGroup {
                name: g.name.clone(),
                contact_types: g.contact_types.clone(),
            })
            .collect()
    }

    pub fn panel_window(&self) -> PanelWindow {
        PanelWindow {
            period_days: self.outcomes.period_days,
            periods_before: self.outcomes.periods_before,
            periods_after: self.outcomes.periods_after,
        }
    }

    pub fn prorate(&self) -> Prorate {
        match self.survey.prorate_max_missing {
            0 => Prorate::None,
            k => Prorate::MaxMissing(k),
        }
    }

    /// The main analysis.
    pub fn main_analysis(&self) -> AnalysisSettings {
        AnalysisSettings {
            name: "main".into(),
            label: "main analysis".into(),
            ratio: self.matching.ratio,
            caliper: caliper(self.matching.caliper),
            cluster: self.outcomes.cluster,
            complete_cases: self.survey.complete_cases,
            covariates: self.propensity.covariates.clone(),
        }
    }

    /// The sensitivity analyses, each the main analysis with its changes applied.
    pub fn sensitivity_analyses(&self) -> Vec<AnalysisSettings> {
        let main = self.main_analysis();
        self.sensitivity
            .iter()
            .map(|s| AnalysisSettings {
                name: s.name.clone(),
                label: s.label.clone(),
                ratio: s.ratio.unwrap_or(main.ratio),
                caliper: s.caliper.map_or(main.caliper, caliper),
                cluster: s.cluster.unwrap_or(main.cluster),
                complete_cases: s.complete_cases.unwrap_or(main.complete_cases),
                covariates: s
                    .covariates
                    .clone()
                    .unwrap_or_else(|| main.covariates.clone()),
            })
            .collect()
    }
}

fn caliper(c: f64) -> Option<f64> {
    (c > 0.0).then_some(c)
}

fn check_ratio(key: &str, ratio: usize) -> Result<(), String> {
    if !(1..=100).contains(&ratio) {
        return Err(format!("{key}: must be 1–100, got {ratio}"));
    }
    Ok(())
}

fn check_caliper(key: &str, caliper: f64) -> Result<(), String> {
    if !caliper.is_finite() || caliper < 0.0 {
        return Err(format!(
            "{key}: must be a width ≥ 0 in SD of the logit (0: no caliper), got {caliper}"
        ));
    }
    Ok(())
}

/// The contact types the data dictionary allows.
fn contact_types() -> Vec<String> {
    Dictionary::embedded()
        .table(TableName::Contacts)
        .column("contact_type")
        .map(|c| c.values.iter().map(|v| v.code.clone()).collect())
        .unwrap_or_default()
}

/// toml's message with the line it points at, on one line.
fn describe_toml_error(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(plan.matching.caliper, 0.2);
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
            (
                "[[outcomes.groups]]\nname = \"gp\"\ncontact_types = [\"gp_visit\"]\n",
                "outcomes.groups[0].contact_types",
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
        let main = plan.main_analysis();
        assert_eq!(main.caliper, Some(0.2));
        let s = plan.sensitivity_analyses();
        assert_eq!(s[0].caliper, Some(0.1));
        assert_eq!(s[0].ratio, 5);
        assert_eq!(s[1].ratio, 1);
        assert_eq!(s[1].caliper, Some(0.2));
        assert_eq!(s[2].cluster, ClusterBy::Person);
        assert!(s[3].complete_cases);
        assert!(!s[2].complete_cases);
        assert!(s.iter().all(|a| a.covariates == main.covariates));
        assert_eq!(
            main.propensity_formula(),
            format!("treated ~ {}", plan.propensity.covariates.join(" + "))
        );

        let plan = Plan::from_toml(
            "[[sensitivity]]\nname = \"np\"\nlabel = \"no prior use\"\ncovariates = [\"age\", \"sex\"]\n",
            "p.toml",
        )
        .unwrap();
        let s = plan.sensitivity_analyses();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].propensity_formula(), "treated ~ age + sex");
        assert_eq!(s[0].ratio, plan.main_analysis().ratio);
    }

    #[test]
    fn the_resolved_plan_round_trips() {
        let plan = Plan::default();
        assert_eq!(Plan::from_toml(&plan.to_toml(), "x").unwrap(), plan);
    }
}
