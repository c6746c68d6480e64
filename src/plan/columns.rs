//! The variables a plan may name in the propensity model and in exact matching: the
//! columns of the stacked risk sets that `data::cohort` builds. Checked when the plan is
//! read, so that `shine plan --check` refuses what `shine analyse` would refuse, naming
//! the key, before any extract is read.

use super::file::OutcomeGroupPlan;

/// The risk-set columns besides the prior use of each outcome group (`prior_NAME`), in
/// the order `data::cohort` builds them.
pub const RISK_SET_COLUMNS: [&str; 10] = [
    "age",
    "sex",
    "origin",
    "living_alone",
    "education",
    "income_quintile",
    "employment",
    "charlson_index",
    "psychiatric_diagnosis_5y",
    "index_month",
];

/// Every column a propensity model or exact matching may use, with these outcome groups.
pub fn risk_set_columns(groups: &[OutcomeGroupPlan]) -> Vec<String> {
    RISK_SET_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(groups.iter().map(|g| format!("prior_{}", g.name)))
        .collect()
}

/// An error naming `key` for the first of `columns` that is not a risk-set column.
pub fn check_known<'a>(
    key: &str,
    columns: impl IntoIterator<Item = &'a String>,
    known: &[String],
) -> Result<(), String> {
    match columns.into_iter().find(|c| !known.contains(c)) {
        None => Ok(()),
        Some(column) => Err(format!(
            "{key}: `{column}` is not a variable of the risk sets — expected one of {}",
            known.join(", ")
        )),
    }
}
