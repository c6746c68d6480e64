//! Results of propensity-score matching: the propensity model's coefficients, the
//! matching, balance before and after, and — for `shine match` — the unit ids, Table 1
//! and the matched rows.

use polars::prelude::DataFrame;
use serde::{Serialize, Serializer};

use crate::stats::balance::{BalanceRow, SampleSizes};
use crate::stats::coefficient::Coefficient;
use crate::stats::glm::GlmFit;
use crate::stats::matching::{MatchOrder, Matching};
use crate::stats::table_one::TableOne;

/// How to match: MatchIt's `ratio`, `caliper`, `replace`, `exact` and `m.order`.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchSpec {
    /// Controls per treated unit (k of k:1).
    pub ratio: usize,
    /// In standard deviations of the linear logit.
    pub caliper: Option<f64>,
    pub replace: bool,
    /// Columns to match exactly on.
    pub exact: Vec<String>,
    pub order: MatchOrder,
    /// Seed of [`MatchOrder::Random`].
    pub seed: u64,
}

impl Default for MatchSpec {
    fn default() -> Self {
        MatchSpec {
            ratio: 1,
            caliper: None,
            replace: false,
            exact: Vec::new(),
            order: MatchOrder::Largest,
            seed: 1,
        }
    }
}

/// Writes the propensity model as R's `summary(glm)` coefficient table: term, estimate,
/// standard error, z and p. The published outputs have always shown these columns; the
/// Wald interval stays in the results for whoever reads them in code.
pub fn serialize_ps_model<S: Serializer>(
    terms: &[Coefficient],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Row<'a> {
        term: &'a str,
        estimate: f64,
        std_error: f64,
        statistic: f64,
        p_value: f64,
    }
    serializer.collect_seq(terms.iter().map(|c| Row {
        term: &c.term,
        estimate: c.estimate,
        std_error: c.std_error,
        statistic: c.statistic,
        p_value: c.p_value,
    }))
}

/// Everything matching produced.
#[derive(Debug, Clone)]
pub struct MatchAnalysis {
    pub ps_model: Vec<Coefficient>,
    pub ps_fit: GlmFit,
    /// Rows of the input data used (all of them: covariates must be complete).
    pub treated: Vec<bool>,
    /// Linear logit of the propensity score, per row.
    pub distance: Vec<f64>,
    /// Propensity score, per row.
    pub propensity: Vec<f64>,
    pub matching: Matching,
    pub balance: Vec<BalanceRow>,
    pub sizes: SampleSizes,
    pub warnings: Vec<String>,
}

/// The id of a unit of the matched table, as the user wrote it: numbers stay numbers
/// (whole numbers are shown without a decimal point), text stays text. Without an id
/// column a unit is its row number, from 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UnitId {
    Integer(i64),
    Number(f64),
    Text(String),
}

impl std::fmt::Display for UnitId {
    /// The id as a CSV cell: text unquoted, numbers as JSON writes them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnitId::Integer(i) => write!(f, "{i}"),
            UnitId::Number(x) => {
                // JSON's shortest round-trip form (and `null` where JSON has no number).
                let shown = serde_json::to_string(x).map_err(|_| std::fmt::Error)?;
                f.write_str(&shown)
            }
            UnitId::Text(s) => f.write_str(s),
        }
    }
}

/// What `shine match` found: the settings, the analysis, the id of every row, and —
/// when a results folder was asked for — Table 1 and the matched rows.
#[derive(Debug, Clone)]
pub struct MatchResult {
    pub spec: MatchSpec,
    pub analysis: MatchAnalysis,
    /// One per row of the input table.
    pub ids: Vec<UnitId>,
    pub detail: Option<MatchDetail>,
}

/// The person-level and descriptive outputs of `shine match --out`.
#[derive(Debug, Clone)]
pub struct MatchDetail {
    /// Table 1 over every row.
    pub table_one_before: TableOne,
    /// Table 1 weighted by the matching weights.
    pub table_one_after: TableOne,
    /// The input rows of every matched unit with its `distance`, `subclass` and
    /// `weight` (MatchIt's `match.data()`).
    pub matched_rows: DataFrame,
}
