//! Disclosure control: counts below the threshold are suppressed in every exported table.
//!
//! Statistics Denmark's rule for output from its research servers: no cell may show
//! fewer than 5 persons (the default threshold).

pub mod audit;
pub mod derived;
pub mod json;

/// Statistics Denmark's minimum cell size (a plan setting; its default lives with the plan).
pub use crate::plan::DEFAULT_THRESHOLD;

/// The disclosure rule applied to every count that leaves: suppression below
/// `threshold` and, when `round_to` is above 1, rounding of the counts that are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub threshold: u64,
    /// The rounding base (1: counts are shown as they are).
    pub round_to: u64,
}

impl Rule {
    /// The rule a plan sets.
    pub fn of(plan: &crate::plan::Disclosure) -> Rule {
        Rule {
            threshold: plan.threshold,
            round_to: plan.round_to.max(1),
        }
    }

    /// Whether shown counts are rounded.
    pub fn rounds(&self) -> bool {
        self.round_to > 1
    }

    /// A count as it is shown: the marker when it is suppressed, else rounded.
    pub fn count_text(&self, n: u64) -> String {
        if must_suppress(n, self.threshold) {
            marker(self.threshold)
        } else {
            rounded(n, self.round_to).to_string()
        }
    }

    /// A sum of matching weights as it is shown: a whole sum is a number of persons
    /// when every weight is 1, so it is rounded as a count is; a fractional sum is an
    /// estimate and is left as it is.
    pub fn weighted(&self, sum: f64) -> f64 {
        // Whole up to the round-off of summing weights such as 1/3.
        let whole = sum.round();
        let is_whole = (sum - whole).abs() <= 1e-9 * whole.max(1.0);
        if self.rounds() && is_whole && whole >= 0.0 && whole < u64::MAX as f64 {
            rounded(whole as u64, self.round_to) as f64
        } else {
            sum
        }
    }
}

/// A bare threshold: suppression without rounding.
impl From<u64> for Rule {
    fn from(threshold: u64) -> Rule {
        Rule {
            threshold,
            round_to: 1,
        }
    }
}

/// Conventional rounding of a count to the nearest multiple of `base`, a half base
/// rounded up: with base 5, counts ending in 1 or 2 go down to 0, those ending in 3
/// or 4 up to 5 (the Glossary of Statistical Disclosure Control, UNECE/Eurostat work
/// session on statistical data confidentiality, 2005; Hundepool et al., Handbook on
/// Statistical Disclosure Control, ESSnet SDC, 2010, on rounding of tables of counts).
/// Every cell, totals included, is rounded on its own, so a table need not add up.
pub fn rounded(n: u64, base: u64) -> u64 {
    if base <= 1 {
        return n;
    }
    n.saturating_add(base / 2) / base * base
}

/// The marker written in place of a suppressed count.
pub fn marker(threshold: u64) -> String {
    format!("<{threshold}")
}

/// Whether a count must be suppressed: 1 to threshold − 1 persons (0 discloses nothing).
pub fn must_suppress(count: u64, threshold: u64) -> bool {
    count > 0 && count < threshold
}

/// The marker written in place of a count hidden by complementary suppression.
pub const COMPLEMENTARY_MARKER: &str = "[s]";

/// Cells of a table that add up: `total` = the sum of `parts` (row, column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumRelation {
    pub total: (usize, usize),
    pub parts: Vec<(usize, usize)>,
}

/// Complementary suppression: the cells to hide besides the small counts so that no
/// small count can be recovered by subtraction within any relation. `count` gives the
/// count in a cell. While some relation has exactly one hidden cell, the smallest
/// non-zero visible part (or, failing that, the total) of that relation is hidden too.
pub fn complementary_cells(
    relations: &[SumRelation],
    count: impl Fn((usize, usize)) -> Option<u64>,
    threshold: u64,
) -> Vec<(usize, usize)> {
    let mut primary: Vec<(usize, usize)> = Vec::new();
    for r in relations {
        for &cell in std::iter::once(&r.total).chain(&r.parts) {
            if count(cell).is_some_and(|n| must_suppress(n, threshold)) && !primary.contains(&cell)
            {
                primary.push(cell);
            }
        }
    }
    let mut hidden = primary.clone();
    loop {
        let mut added = false;
        for r in relations {
            let cells: Vec<(usize, usize)> = std::iter::once(r.total)
                .chain(r.parts.iter().copied())
                .collect();
            if cells.iter().filter(|c| hidden.contains(c)).count() != 1 {
                continue;
            }
            let visible_part = r
                .parts
                .iter()
                .copied()
                .filter(|c| !hidden.contains(c) && count(*c).unwrap_or(0) > 0)
                .min_by_key(|&c| (count(c).unwrap_or(0), c));
            let pick = visible_part.or((!hidden.contains(&r.total)).then_some(r.total));
            if let Some(c) = pick {
                hidden.push(c);
                added = true;
            }
        }
        if !added {
            break;
        }
    }
    let mut out: Vec<(usize, usize)> = hidden
        .into_iter()
        .filter(|c| !primary.contains(c))
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests;
