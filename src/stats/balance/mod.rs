//! Covariate balance before and after matching, as MatchIt's `summary()` reports it for
//! the ATT, plus the weighted mean and variance of a descriptive table.
//!
//! The formulas follow `tests/reference/matching/MATCHIT_NOTES.md` §6 (MatchIt 4.5.1's
//! `summary.matchit` → `bal1var`, `wvar`, `qqsum`, `pair.dist`, `pooled_sd`, `nn`):
//!
//! - means: `Σ w x / Σ w` within each group;
//! - standardised mean difference: `(mean_T − mean_C) / s`, where `s` is the standard
//!   deviation of the **treated group in the full sample with unit weights** — the same
//!   `s` before and after matching. Continuous: the n − 1 sample SD; binary:
//!   `sqrt(p (1 − p))` without n − 1 correction. When `|mean_T − mean_C| ≤ sqrt(ε)`
//!   the unstandardised difference is reported; when `s` is not finite or below
//!   `sqrt(ε)`, MatchIt's pooled SD ("proportional") replaces it;
//! - variance ratio (continuous only): `wvar(x_T, w_T) / wvar(x_C, w_C)` with
//!   `wvar(x, w) = Σ w̃ (x − x̄_w)² / (1 − Σ w̃²)`, `w̃ = w / Σ w`;
//! - eCDF mean and max: the weighted eCDFs of the two groups (weights normalised to 1
//!   within each group) compared at every distinct value of the **full** sample,
//!   including units with weight 0; their mean and maximum absolute difference. For a
//!   binary variable both are `|mean_T − mean_C|`;
//! - standardised pair distance (after matching): the mean of `|x_t − x_c|` over the
//!   matched pairs, divided by `s` when the mean difference was standardised.
//!
//! ## References
//! - Ho, D. E., Imai, K., King, G. and Stuart, E. A. (2011). MatchIt: Nonparametric
//!   preprocessing for parametric causal inference. *Journal of Statistical Software*
//!   42(8). doi:10.18637/jss.v042.i08
//! - Austin, P. C. (2009). Balance diagnostics for comparing the distribution of
//!   baseline covariates between treatment groups in propensity-score matched samples.
//!   *Statistics in Medicine* 28(25), 3083–3107.
//! - Greifer, N. MatchIt documentation, `?summary.matchit`, version 4.5.1.

mod ecdf;
mod error;
mod factor;
mod moments;
mod sample;
mod sizes;
mod smd;
mod table;

#[cfg(test)]
pub(crate) mod reference;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_factor;

pub use error::BalanceError;
pub use factor::factor_balance_rows;
pub use moments::{weighted_mean, weighted_variance};
pub use sample::{sample_balance, SampleBalance};
pub use sizes::{sample_sizes, GroupSizes, SampleSizes};
pub use smd::smd_denominator;
pub use table::{
    balance_table, balance_table_by_column, finish_columns, prepare_columns, BalanceRow,
    BinaryUnits, Covariate, GroupUnits, PreparedColumn,
};

pub use ecdf::ecdfs_on_grids;
pub(crate) use ecdf::ValueOrder;
pub(crate) use moments::weighted_mean_of;
