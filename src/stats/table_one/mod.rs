//! "Table 1": baseline characteristics by group, before matching (unweighted) and after
//! (weighted by the matching weights), with the standardised mean differences that R's
//! tableone prints with `print(..., smd = TRUE)`.
//!
//! Definitions follow tableone 0.13 — `CreateTableOne` for unweighted data and
//! `svyCreateTableOne` on `svydesign(ids = ~1, weights = ~weights, data = matched)` for
//! the matched sample (its `modules-smd.R`, `modules-svy.R`), with the survey package's
//! `svymean`, `svyvar` and `svytable`. Unit weights reproduce the unweighted table
//! exactly, so both columns go through the same code.
//!
//! - **n**: persons with a positive weight, and the sum of their weights
//!   (`svytotal(~one(x))`). Units with weight 0 are not in the matched sample and are
//!   left out entirely (tableone is run on `match.data()`, which drops them).
//! - **Continuous**: weighted mean `x̄ = Σ w x / Σ w`; SD from `survey::svyvar`,
//!   `s² = n / (n − 1) · Σ w (x − x̄)² / Σ w`, where n is the number of persons with a
//!   value (R's `var()` with unit weights). This is *not* the reliability-weight variance
//!   that MatchIt and [`balance::weighted_variance`](super::balance::weighted_variance) use (`… / (1 − Σ w̃²)`); the two
//!   agree only when all weights are equal. survey's `svyvar` counts persons whose value
//!   is missing in its n as well; here n counts persons with a value, so that unit
//!   weights give R's `sd(x, na.rm = TRUE)` — the two differ only when values are missing.
//! - **Median [Q1, Q3]**: R's `quantile(type = 7)` for unit weights (tableone's
//!   unweighted choice) and its weighted generalisation, survey's
//!   `svyquantile(qrule = "hf7")`: sorted values `x₍ᵢ₎` are placed at
//!   `pᵢ = Σ_{j<i} w₍ⱼ₎ / Σ_{j<n} w₍ⱼ₎` and the quantile is linearly interpolated. tableone's
//!   weighted table calls `svyquantile` with survey's default rule (`"math"`, the
//!   inverse of the weighted eCDF — type 1 with unit weights); `hf7` is used instead so
//!   that the matched columns (all weights 1 under 1:1 matching without replacement) and
//!   the unmatched columns use one definition.
//! - **Categorical**: weighted count and percentage of each level among persons with a
//!   value (`svytable`, `prop.table`); missing values are counted separately.
//! - **SMD** (tableone's `StdDiff`, `svyStdDiff`, `StdDiffMulti`; absolute values):
//!   continuous `|x̄_T − x̄_C| / sqrt((s²_T + s²_C) / 2)` — the pooled SD, not the treated
//!   SD that MatchIt's balance table uses; categorical with levels 1..k (a two-level
//!   variable included): Yang & Dalton's `sqrt((p_T − p_C)ᵀ S⁻ (p_T − p_C))` over the
//!   proportions of levels 2..k, `S = (S_T + S_C) / 2`, `S_g[k,k] = p_k (1 − p_k)`,
//!   `S_g[k,l] = −p_k p_l`, `S⁻` the Moore–Penrose inverse (MASS `ginv`, tolerance
//!   `sqrt(ε)` relative to the largest singular value). For two levels this is
//!   `|p_T − p_C| / sqrt((p_T (1 − p_T) + p_C (1 − p_C)) / 2)`.
//!
//! R's tableone is not installable in this environment (no Debian package, no CRAN
//! access), so the tests check hand-computed values of these formulas rather than
//! stored tableone output.
//!
//! ## References
//! - Yoshida, K. and Bartel, A. tableone: Create 'Table 1' to describe baseline
//!   characteristics with or without propensity score weights. R package 0.13.
//! - Yang, D. and Dalton, J. E. (2012). A unified approach to measuring the effect size
//!   between two groups using SAS. SAS Global Forum 2012, paper 335.
//! - Lumley, T. survey: analysis of complex survey samples. R package (`svyvar`,
//!   `svyquantile`, vignette "Estimating quantiles").
//! - Hyndman, R. J. and Fan, Y. (1996). Sample quantiles in statistical packages.
//!   *The American Statistician* 50(4), 361–365.

mod continuous;
mod error;
mod smd;
mod summary;
mod table;

#[cfg(test)]
mod tests;

pub use error::TableOneError;
pub use summary::{
    ByGroup, ContinuousStats, LevelCount, LevelStats, Summary, Tally, VariableSummary,
};
pub use table::{table_one, TableOne, Variable};
