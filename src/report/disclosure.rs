//! Disclosure control: counts below the threshold are suppressed in every exported table.
//!
//! Statistics Denmark's rule for output from its research servers: no cell may show
//! fewer than 5 persons (the default threshold).

pub mod audit;
pub mod json;

/// Statistics Denmark's minimum cell size (a plan setting; its default lives with the plan).
pub use crate::plan::DEFAULT_THRESHOLD;

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
