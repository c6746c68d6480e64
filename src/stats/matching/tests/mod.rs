//! Reference matchings: tests/reference/matching/<run>_intended.json, the
//! defect-free nearest-neighbour algorithm computed by MatchIt 4.5.1's
//! distance-matrix routine on R 4.2.2 (tests/reference/matching/matching.R; rules
//! and the two defects of 4.5.1's vector routine in MATCHIT_NOTES.md). Distances
//! are taken from the reference files, so these tests isolate the matching from
//! the propensity model.

use std::collections::BTreeMap;

use super::*;

mod cases;
mod matchit;
mod properties;

/// Controls per treated row, in round order.
fn sets(m: &Matching) -> BTreeMap<usize, Vec<usize>> {
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for p in &m.pairs {
        out.entry(p.treated).or_default().push(p.control);
    }
    out
}
