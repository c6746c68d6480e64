//! Group sizes and effective sample sizes before and after matching (MatchIt's `nn`).

use serde::Serialize;

use super::moments::select;
use super::BalanceError;

/// Counts of one group (MatchIt's `summary(m)$nn` column).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GroupSizes {
    /// All units.
    pub all: usize,
    /// Units with a positive weight.
    pub matched: usize,
    /// Units with weight 0.
    pub unmatched: usize,
    /// Effective sample size of all units with unit weights (= `all`).
    pub all_ess: f64,
    /// Effective sample size `(Σ w)² / Σ w²` of the weights; 0 if no unit is matched.
    pub matched_ess: f64,
}

/// Sample sizes per group before and after matching.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SampleSizes {
    /// The control group.
    pub control: GroupSizes,
    /// The treated group.
    pub treated: GroupSizes,
}

/// Per-group counts and effective sample sizes (MatchIt's `nn`; no discarded units).
///
/// # Errors
/// [`BalanceError::LengthMismatch`], [`BalanceError::InvalidWeight`] for bad weights.
pub fn sample_sizes(treated: &[bool], weights: &[f64]) -> Result<SampleSizes, BalanceError> {
    if weights.len() != treated.len() {
        return Err(BalanceError::LengthMismatch {
            what: "weights".to_string(),
            expected: treated.len(),
            found: weights.len(),
        });
    }
    if let Some((row, &value)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(BalanceError::InvalidWeight { row, value });
    }
    let group = |flag: bool| {
        let w: Vec<f64> = select(weights, treated, flag).collect();
        let matched = w.iter().filter(|&&v| v > 0.0).count();
        let sum: f64 = w.iter().sum();
        let sum_sq: f64 = w.iter().map(|v| v * v).sum();
        GroupSizes {
            all: w.len(),
            matched,
            unmatched: w.len() - matched,
            all_ess: w.len() as f64,
            matched_ess: if sum_sq > 0.0 {
                sum * sum / sum_sq
            } else {
                0.0
            },
        }
    };
    Ok(SampleSizes {
        control: group(false),
        treated: group(true),
    })
}
