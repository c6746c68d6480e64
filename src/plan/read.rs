//! Reading a plan from TOML and checking it: unknown keys and impossible values are
//! errors that name the key.

use std::path::Path;

use super::Plan;
use crate::data::dictionary::{Dictionary, TableName};
use crate::data::instruments::Prorate;
use crate::data::read::parse_iso_date;

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
        let plan: Plan = toml::from_str(text).map_err(|e| PlanError::Invalid {
            source_name: source_name.to_string(),
            message: describe_toml_error(&e, text),
        })?;
        plan.check().map_err(|message| PlanError::Invalid {
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
