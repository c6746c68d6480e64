//! The statistics of one variable in each group: counts and percentages of the levels
//! of a categorical variable, mean, SD and quartiles of a continuous one.

use serde::Serialize;

use super::continuous::continuous_stats;
use super::smd::{categorical_smd, continuous_smd};
use super::table::{pick_mut, Variable};
use super::TableOneError;
use crate::stats::design::Code;

/// A statistic for each of the two groups.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ByGroup<T> {
    /// The treated (referred) group.
    pub treated: T,
    /// The control (comparison) group.
    pub control: T,
}

/// A count of persons and the sum of their weights (equal without weights). The
/// person count is what disclosure control is decided on.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Tally {
    /// Persons with a positive weight.
    pub persons: usize,
    /// Sum of their weights.
    pub weighted: f64,
}

impl Tally {
    pub(super) fn add(&mut self, weight: f64) {
        self.persons += 1;
        self.weighted += weight;
    }
}

/// Summary of a continuous variable in one group; every statistic is computed, the
/// report shows mean (SD) or median [Q1, Q3] according to `nonnormal`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ContinuousStats {
    /// Persons with a value.
    pub n: Tally,
    /// Weighted mean.
    pub mean: f64,
    /// SD (`svyvar`); `None` with fewer than 2 persons.
    pub sd: Option<f64>,
    /// Median (type 7 / `hf7`).
    pub median: f64,
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
}

/// One level of a categorical variable in one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelCount {
    /// Persons at this level and their sum of weights.
    pub n: Tally,
    /// Percentage of the (weighted) persons with a value; `None` if nobody in the
    /// group has a value.
    pub percent: Option<f64>,
}

/// One level of a categorical variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelStats {
    /// Level label.
    pub level: String,
    /// Count and percentage per group.
    pub count: ByGroup<LevelCount>,
}

/// The statistics of one variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Summary {
    /// `None` in a group where nobody has a value.
    Continuous {
        nonnormal: bool,
        stats: ByGroup<Option<ContinuousStats>>,
    },
    /// One entry per level, in the order given.
    Categorical { levels: Vec<LevelStats> },
}

/// One variable of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableSummary {
    /// Variable name.
    pub name: String,
    /// Its statistics per group.
    pub summary: Summary,
    /// Persons (and their weights) with a missing value, per group.
    pub missing: ByGroup<Tally>,
    /// Absolute standardised mean difference (tableone's SMD). `None` where tableone
    /// gives `NA`/`NaN`: a group without values, a continuous variable with fewer than
    /// 2 values in a group, or a categorical variable whose pooled covariance is zero
    /// while the proportions differ. Infinite (tableone's `Inf`) for a continuous
    /// variable constant within each group at different values.
    pub smd: Option<f64>,
}

pub(super) fn summarise_variable(
    variable: &Variable<'_>,
    treated: &[bool],
    weight: &(dyn Fn(usize) -> f64 + Sync),
) -> Result<VariableSummary, TableOneError> {
    let mut missing = ByGroup {
        treated: Tally::default(),
        control: Tally::default(),
    };
    let in_sample = |i: usize| weight(i) > 0.0;
    match *variable {
        Variable::Continuous {
            name,
            values,
            nonnormal,
        } => {
            // (value, weight) pairs of persons with a value, per group.
            let in_group = |flag: bool| {
                (0..values.len())
                    .filter(|&i| treated[i] == flag && in_sample(i))
                    .count()
            };
            let mut present: ByGroup<Vec<(f64, f64)>> = ByGroup {
                treated: Vec::with_capacity(in_group(true)),
                control: Vec::with_capacity(in_group(false)),
            };
            for (i, (&x, &t)) in values
                .iter()
                .zip(treated)
                .enumerate()
                .filter(|(i, _)| in_sample(*i))
            {
                if x.is_nan() {
                    pick_mut(&mut missing, t).add(weight(i));
                } else {
                    pick_mut(&mut present, t).push((x, weight(i)));
                }
            }
            let stats = ByGroup {
                treated: continuous_stats(&present.treated),
                control: continuous_stats(&present.control),
            };
            Ok(VariableSummary {
                name: name.to_string(),
                smd: continuous_smd(&stats),
                summary: Summary::Continuous { nonnormal, stats },
                missing,
            })
        }
        Variable::Categorical {
            name,
            codes,
            levels,
        } => {
            let zero = vec![Tally::default(); levels.len()];
            let mut counts = ByGroup {
                treated: zero.clone(),
                control: zero,
            };
            crate::with_codes!(codes.as_slice(), |codes| {
                for (i, (&code, &t)) in codes
                    .iter()
                    .zip(treated)
                    .enumerate()
                    .filter(|(i, _)| in_sample(*i))
                {
                    match code.get() {
                        None => pick_mut(&mut missing, t).add(weight(i)),
                        Some(c) => pick_mut(&mut counts, t)[c as usize].add(weight(i)),
                    }
                }
            });
            let proportions = ByGroup {
                treated: proportions(&counts.treated),
                control: proportions(&counts.control),
            };
            let levels = levels
                .iter()
                .enumerate()
                .map(|(k, level)| {
                    let count = |tallies: &[Tally], p: &Option<Vec<f64>>| LevelCount {
                        n: tallies[k],
                        percent: p.as_ref().map(|p| 100.0 * p[k]),
                    };
                    LevelStats {
                        level: level.clone(),
                        count: ByGroup {
                            treated: count(&counts.treated, &proportions.treated),
                            control: count(&counts.control, &proportions.control),
                        },
                    }
                })
                .collect();
            let smd = match (&proportions.treated, &proportions.control) {
                (Some(pt), Some(pc)) => categorical_smd(pt, pc),
                _ => None,
            };
            Ok(VariableSummary {
                name: name.to_string(),
                summary: Summary::Categorical { levels },
                missing,
                smd,
            })
        }
    }
}

/// Proportions of each level among persons with a value; `None` if nobody has one.
fn proportions(counts: &[Tally]) -> Option<Vec<f64>> {
    let total: f64 = counts.iter().map(|t| t.weighted).sum();
    (total > 0.0).then(|| counts.iter().map(|t| t.weighted / total).collect())
}
