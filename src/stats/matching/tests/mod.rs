//! Reference matchings. The current reference is MatchIt 4.7.2
//! (tests/reference/matching/matchit_4.7.2/, made by matching_4.7.2.R; `matchit_472`
//! checks our sets against them control for control). The earlier references,
//! tests/reference/matching/<run>_intended.json, hold the defect-free algorithm as
//! MatchIt 4.5.1's distance-matrix routine computed it on R 4.2.2 (matching.R; rules
//! and the two defects of 4.5.1's vector routine in MATCHIT_NOTES.md part B); they
//! stay as a second check. Distances are taken from the reference files, so these
//! tests isolate the matching from the propensity model.

use std::collections::BTreeMap;

use super::*;

mod cases;
mod matchit;
mod matchit_472;
mod properties;

/// Controls per treated row, in round order.
fn sets(m: &Matching) -> BTreeMap<usize, Vec<usize>> {
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for p in &m.pairs {
        out.entry(p.treated).or_default().push(p.control);
    }
    out
}
