//! Reading a plan from TOML and checking it: unknown keys and impossible values are
//! errors that name the key.

use std::path::Path;

use chrono::NaiveDate;

use super::file::{self, PlanFile};
use super::{
    Caliper, Covariates, Matching, OutcomeGroupPlan, Outcomes, Plan, Propensity, Sensitivity,
    Study, Survey,
};
use crate::data::calendar::{date_from_days, days_from_date, format_date, parse_iso_date};
use crate::data::dictionary::{Dictionary, TableName};
use crate::data::instruments::Prorate;

/// A plan that could not be read or used; the message names the file and the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The plan file could not be read.
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The plan is not valid TOML, has an unknown key or an impossible value.
    #[error("{source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
}

impl Plan {
    /// Reads and checks a plan file.
    pub fn read(path: &Path) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Plan::from_toml(&text, &path.display().to_string())
    }

    /// Reads a plan from TOML text; `source_name` names it in errors.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Plan, PlanError> {
        let invalid = |message| PlanError::Invalid {
            source_name: source_name.to_string(),
            message,
        };
        let file: PlanFile =
            toml::from_str(text).map_err(|e| invalid(describe_toml_error(&e, text)))?;
        Plan::from_file(file).map_err(invalid)
    }

    /// The plan as TOML (without comments), as recorded in the manifest.
    pub fn to_toml(&self) -> String {
        toml::to_string(&PlanFile::from(self)).unwrap_or_default()
    }

    /// Checks every value of a plan file once and makes the typed plan; the error
    /// names the key of the first value that cannot be used.
    pub fn from_file(file: PlanFile) -> Result<Plan, String> {
        let bad = |key: &str, message: String| Err(format!("{key}: {message}"));
        let PlanFile {
            seed,
            study,
            eligibility,
            propensity,
            matching,
            outcomes,
            survey,
            disclosure,
            sensitivity,
        } = file;
        if study.catchment_municipalities.is_empty() {
            return bad(
                "study.catchment_municipalities",
                "needs at least one municipality code".into(),
            );
        }
        let referral_start =
            plan_date(&study.referral_start).map_err(keyed("study.referral_start"))?;
        let referral_end = plan_date(&study.referral_end).map_err(keyed("study.referral_end"))?;
        if let (Some(a), Some(b)) = (referral_start, referral_end) {
            if b < a {
                return bad(
                    "study.referral_end",
                    format!(
                        "{} is before study.referral_start {}",
                        study.referral_end, study.referral_start
                    ),
                );
            }
        }
        if !(0..=120).contains(&eligibility.min_age) {
            return bad(
                "eligibility.min_age",
                format!("must be 0–120 years, got {}", eligibility.min_age),
            );
        }
        let covariates =
            Covariates::parse(propensity.covariates).map_err(keyed("propensity.covariates"))?;
        if propensity.prior_use_days < 1 {
            return bad(
                "propensity.prior_use_days",
                format!("must be at least 1, got {}", propensity.prior_use_days),
            );
        }
        check_ratio("matching.ratio", matching.ratio)?;
        let caliper = Caliper::from_width(matching.caliper).map_err(keyed("matching.caliper"))?;
        check_outcomes(&outcomes)?;
        let known = super::columns::risk_set_columns(&outcomes.groups);
        let model_columns = |c: &Covariates| {
            let mut columns = c.formula().columns();
            columns.remove("treated");
            columns
        };
        super::columns::check_known("propensity.covariates", &model_columns(&covariates), &known)?;
        super::columns::check_known("matching.exact", &matching.exact, &known)?;
        let prorate = match survey.prorate_max_missing {
            0 => Prorate::None,
            k if k >= 3 => {
                return bad(
                    "survey.prorate_max_missing",
                    format!("UCLA-3 has 3 items: at most 2 may be missing, got {k}"),
                )
            }
            k => Prorate::MaxMissing(k),
        };
        if disclosure.threshold < 1 {
            return bad("disclosure.threshold", "must be at least 1".into());
        }
        if disclosure.round_to < 1 {
            return bad(
                "disclosure.round_to",
                "must be a positive whole number (1: no rounding; 5 or 10 as output rules ask)"
                    .into(),
            );
        }
        let mut checked: Vec<Sensitivity> = Vec::with_capacity(sensitivity.len());
        for (i, s) in sensitivity.into_iter().enumerate() {
            let key = format!("sensitivity[{i}]");
            if s.name.is_empty() || s.name == "main" {
                return bad(
                    &format!("{key}.name"),
                    "needs a name other than `main`".into(),
                );
            }
            if checked.iter().any(|t| t.name == s.name) {
                return bad(
                    &format!("{key}.name"),
                    format!("`{}` is used twice", s.name),
                );
            }
            if let Some(r) = s.ratio {
                check_ratio(&format!("{key}.ratio"), r)?;
            }
            let caliper = s
                .caliper
                .map(Caliper::from_width)
                .transpose()
                .map_err(keyed(&format!("{key}.caliper")))?;
            let covariates = s
                .covariates
                .map(Covariates::parse)
                .transpose()
                .map_err(keyed(&format!("{key}.covariates")))?;
            if let Some(c) = &covariates {
                super::columns::check_known(
                    &format!("{key}.covariates"),
                    &model_columns(c),
                    &known,
                )?;
            }
            if caliper.is_none()
                && s.ratio.is_none()
                && s.cluster.is_none()
                && s.complete_cases.is_none()
                && covariates.is_none()
            {
                return bad(
                    &key,
                    "changes nothing: set caliper, ratio, cluster, complete_cases or covariates"
                        .into(),
                );
            }
            checked.push(Sensitivity {
                name: s.name,
                label: s.label,
                caliper,
                ratio: s.ratio,
                cluster: s.cluster,
                complete_cases: s.complete_cases,
                covariates,
            });
        }
        Ok(Plan {
            seed,
            study: Study {
                catchment_municipalities: study.catchment_municipalities,
                referral_start,
                referral_end,
            },
            eligibility,
            propensity: Propensity {
                covariates,
                prior_use_days: propensity.prior_use_days,
            },
            matching: Matching {
                ratio: matching.ratio,
                caliper,
                exact: matching.exact,
                reuse_comparisons: matching.reuse_comparisons,
            },
            outcomes,
            survey: Survey {
                value_set: survey.value_set,
                prorate,
                complete_cases: survey.complete_cases,
                practice_random_effect: survey.practice_random_effect,
                standard_errors: survey.standard_errors,
            },
            disclosure,
            sensitivity: checked,
        })
    }
}

impl From<&Plan> for PlanFile {
    /// The plan in the file's form: dates as ISO text (empty: no bound), no caliper as 0.
    fn from(plan: &Plan) -> PlanFile {
        let date =
            |d: Option<NaiveDate>| d.map_or_else(String::new, |d| format_date(days_from_date(d)));
        let width = |c: Option<Caliper>| c.map_or(0.0, Caliper::width);
        let terms = |c: &Covariates| c.terms().to_vec();
        PlanFile {
            seed: plan.seed,
            study: file::Study {
                catchment_municipalities: plan.study.catchment_municipalities.clone(),
                referral_start: date(plan.study.referral_start),
                referral_end: date(plan.study.referral_end),
            },
            eligibility: plan.eligibility.clone(),
            propensity: file::Propensity {
                covariates: terms(&plan.propensity.covariates),
                prior_use_days: plan.propensity.prior_use_days,
            },
            matching: file::Matching {
                ratio: plan.matching.ratio,
                caliper: width(plan.matching.caliper),
                exact: plan.matching.exact.clone(),
                reuse_comparisons: plan.matching.reuse_comparisons,
            },
            outcomes: plan.outcomes.clone(),
            survey: file::Survey {
                value_set: plan.survey.value_set,
                prorate_max_missing: match plan.survey.prorate {
                    Prorate::None => 0,
                    Prorate::MaxMissing(k) => k,
                },
                complete_cases: plan.survey.complete_cases,
                practice_random_effect: plan.survey.practice_random_effect,
                standard_errors: plan.survey.standard_errors,
            },
            disclosure: plan.disclosure.clone(),
            sensitivity: plan
                .sensitivity
                .iter()
                .map(|s| file::Sensitivity {
                    name: s.name.clone(),
                    label: s.label.clone(),
                    caliper: s.caliper.map(width),
                    ratio: s.ratio,
                    cluster: s.cluster,
                    complete_cases: s.complete_cases,
                    covariates: s.covariates.as_ref().map(terms),
                })
                .collect(),
        }
    }
}

/// Prefixes a message with the key it is about.
fn keyed(key: &str) -> impl Fn(String) -> String + '_ {
    move |message| format!("{key}: {message}")
}

/// A date of the plan file: empty for no bound, else an ISO date.
fn plan_date(text: &str) -> Result<Option<NaiveDate>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    parse_iso_date(text)
        .and_then(date_from_days)
        .map(Some)
        .ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD)"))
}

/// The longest window before or after the index date: 30 years.
const MAX_WINDOW_DAYS: i64 = 10_958;

fn check_outcomes(o: &Outcomes) -> Result<(), String> {
    let bad = |key: &str, message: String| Err(format!("{key}: {message}"));
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
    // A window longer than any register extract would only build an enormous panel.
    for (key, periods) in [
        ("outcomes.periods_before", o.periods_before),
        ("outcomes.periods_after", o.periods_after),
    ] {
        let days = i64::from(periods) * i64::from(o.period_days);
        if days > MAX_WINDOW_DAYS {
            return bad(
                key,
                format!(
                    "{periods} periods of {} days span {days} days — expected a window of at most {MAX_WINDOW_DAYS} days (30 years)",
                    o.period_days
                ),
            );
        }
    }
    if o.groups.is_empty() {
        return bad("outcomes.groups", "needs at least one outcome group".into());
    }
    check_groups("outcomes.groups", &o.groups, &[])?;
    check_groups(
        "outcomes.negative_controls",
        &o.negative_controls,
        &o.groups,
    )?;
    if o.bootstrap_reps == 0 {
        return bad(
            "outcomes.bootstrap_reps",
            "must be at least 1 bootstrap draw".into(),
        );
    }
    if !(0..o.periods_before).contains(&o.placebo_periods) {
        return bad(
            "outcomes.placebo_periods",
            format!(
                "must be 0 (none) to periods_before − 1 = {}, got {}",
                o.periods_before - 1,
                o.placebo_periods
            ),
        );
    }
    Ok(())
}

/// Outcome groups under `section`: names unique (also against `others`), contact types
/// known and not counted in `others`.
fn check_groups(
    section: &str,
    groups: &[OutcomeGroupPlan],
    others: &[OutcomeGroupPlan],
) -> Result<(), String> {
    let bad = |key: &str, message: String| Err(format!("{key}: {message}"));
    let known = contact_types();
    for (i, g) in groups.iter().enumerate() {
        let key = format!("{section}[{i}]");
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
        if groups[..i].iter().chain(others).any(|h| h.name == g.name) {
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
            if let Some(h) = others.iter().find(|h| h.contact_types.contains(t)) {
                return bad(
                    &format!("{key}.contact_types"),
                    format!("`{t}` is already counted in the outcome group `{}`", h.name),
                );
            }
        }
    }
    Ok(())
}

fn check_ratio(key: &str, ratio: usize) -> Result<(), String> {
    if !(1..=100).contains(&ratio) {
        return Err(format!("{key}: must be 1–100, got {ratio}"));
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
