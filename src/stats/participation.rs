//! Dose-response of a change from baseline by an ordered exposure level (participation):
//! the mean change per level with its t interval, and the test for linear trend.
//!
//! Model: Δᵢ = α + β sᵢ + εᵢ, with sᵢ the score of person i's level (equally spaced,
//! e.g. 0 = not yet … 4 = every time) and Δᵢ their change from baseline; β is the
//! change per level step and H0: β = 0 is the test for linear trend across the ordered
//! levels (Armitage's test for a continuous outcome), by ordinary least squares with
//! the classical standard error on n − 2 degrees of freedom — R's
//! `summary(lm(change ~ score))`.
//!
//! | input | meaning |
//! |---|---|
//! | `levels` | each person's level, an index into `scores` |
//! | `scores` | the score of each level |
//! | `changes` | each person's change from baseline |
//!
//! ## References
//! - Armitage, P., Berry, G. & Matthews, J. N. S. (2002). *Statistical Methods in Medical
//!   Research*, 4th ed., section 8.4 (linear trend in means across ordered groups).

use serde::Serialize;

use super::coefficient::Coefficient;

/// The mean change of one level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelMean {
    /// Index into the scores.
    pub level: usize,
    pub n: usize,
    pub mean: f64,
    /// t interval on n − 1 df; NaN with fewer than 2 persons.
    pub conf_low: f64,
    pub conf_high: f64,
}

/// The dose-response of one outcome at one wave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoseResponse {
    pub levels: Vec<LevelMean>,
    /// β: change per level step, with its t test on n − 2 df (`term` = `score`).
    pub trend: Coefficient,
    pub n: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DoseResponseError {
    #[error("{levels} levels and {changes} changes: one level per change expected")]
    DimensionMismatch { levels: usize, changes: usize },
    #[error("level {level} has no score (there are {scores} levels)")]
    UnknownLevel { level: usize, scores: usize },
    #[error("the test for trend needs at least 3 persons in at least 2 levels")]
    TooFew,
}

/// The mean change per level and the test for linear trend (see the module's formula).
///
/// # Errors
/// [`DoseResponseError`]: inputs of different lengths, a level without a score, fewer
/// than 3 persons or all in one level.
pub fn dose_response(
    levels: &[usize],
    scores: &[f64],
    changes: &[f64],
) -> Result<DoseResponse, DoseResponseError> {
    if levels.len() != changes.len() {
        return Err(DoseResponseError::DimensionMismatch {
            levels: levels.len(),
            changes: changes.len(),
        });
    }
    if let Some(&level) = levels.iter().find(|&&l| l >= scores.len()) {
        return Err(DoseResponseError::UnknownLevel {
            level,
            scores: scores.len(),
        });
    }
    let mut by_level: Vec<Vec<f64>> = vec![Vec::new(); scores.len()];
    for (&l, &c) in levels.iter().zip(changes) {
        by_level[l].push(c);
    }
    let means = by_level
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_empty())
        .map(|(level, v)| {
            let n = v.len();
            let mean = v.iter().sum::<f64>() / n as f64;
            let (conf_low, conf_high) = if n > 1 {
                let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
                let c = Coefficient::t_test("mean", mean, (var / n as f64).sqrt(), (n - 1) as f64);
                (c.conf_low, c.conf_high)
            } else {
                (f64::NAN, f64::NAN)
            };
            LevelMean {
                level,
                n,
                mean,
                conf_low,
                conf_high,
            }
        })
        .collect::<Vec<_>>();
    let n = changes.len();
    if n < 3 || means.len() < 2 {
        return Err(DoseResponseError::TooFew);
    }
    let s: Vec<f64> = levels.iter().map(|&l| scores[l]).collect();
    let s_mean = s.iter().sum::<f64>() / n as f64;
    let c_mean = changes.iter().sum::<f64>() / n as f64;
    let sxx: f64 = s.iter().map(|x| (x - s_mean).powi(2)).sum();
    let sxy: f64 = s
        .iter()
        .zip(changes)
        .map(|(x, y)| (x - s_mean) * (y - c_mean))
        .sum();
    let slope = sxy / sxx;
    let intercept = c_mean - slope * s_mean;
    let rss: f64 = s
        .iter()
        .zip(changes)
        .map(|(x, y)| (y - intercept - slope * x).powi(2))
        .sum();
    let df = (n - 2) as f64;
    let std_error = (rss / df / sxx).sqrt();
    Ok(DoseResponse {
        levels: means,
        trend: Coefficient::t_test("score", slope, std_error, df),
        n,
    })
}

#[cfg(test)]
mod tests;
