//! The result of a matching: matched pairs, MatchIt's weights, subclasses, counts and
//! warnings.

use serde::Serialize;

use super::NearestNeighbour;

/// One (treated unit, control) link of a matched set; units are 0-based row indices
/// of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct MatchedPair {
    /// Matched set (1-based), numbered in tie-key order of the treated units.
    pub subclass: usize,
    /// Row of the treated unit.
    pub treated: usize,
    /// Row of the control.
    pub control: usize,
    /// Round in which the control was found (1-based; MatchIt's match-matrix column).
    pub round: usize,
}

/// A notice MatchIt issues as a warning (only without replacement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MatchWarning {
    /// "Fewer control units than treated units; not all treated units will get a match."
    FewerControlsThanTreated { n_control: usize, n_treated: usize },
    /// "Not all treated units will get `ratio` matches."
    FewerControlsThanRatio { ratio: usize },
}

/// The result of nearest-neighbour matching.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matching {
    /// Every (treated, control) link, sorted by subclass, then round. With
    /// replacement a control can appear in several subclasses (as in MatchIt's
    /// `get_matches()`).
    pub pairs: Vec<MatchedPair>,
    /// MatchIt's ATT matching weight per unit: 1 for a matched treated unit; for a
    /// control `Σ 1/k_i` over the treated units i it is matched to (k_i = number of
    /// controls of i), rescaled so that the control weights sum to the number of
    /// matched controls; 0 for unmatched units.
    pub weights: Vec<f64>,
    /// Subclass (matched set, 1-based) per unit, `None` if unmatched. `None` as a
    /// whole with replacement, where a control can belong to several sets (MatchIt's
    /// `subclass` is then NULL too; use [`Matching::pairs`]).
    pub subclass: Option<Vec<Option<usize>>>,
    /// Number of treated units.
    pub n_treated: usize,
    /// Number of controls.
    pub n_control: usize,
    /// Treated units with at least one control.
    pub n_treated_matched: usize,
    /// Controls with a positive weight.
    pub n_controls_matched: usize,
    /// Caliper in distance units (`caliper × sd(distance)`), if a caliper was set.
    pub caliper_width: Option<f64>,
    /// MatchIt's warnings for this design.
    pub warnings: Vec<MatchWarning>,
}

impl Matching {
    /// The (treated row, control row) links, as balance statistics' pair distances
    /// want them.
    pub fn pair_rows(&self) -> Vec<(usize, usize)> {
        self.pairs.iter().map(|p| (p.treated, p.control)).collect()
    }
}

/// Pairs, weights, subclasses and counts from the matched control positions.
#[allow(clippy::too_many_arguments)]
pub(super) fn assemble(
    params: &NearestNeighbour,
    n: usize,
    treated_units: &[usize],
    controls: &[usize],
    matched: &[Vec<usize>],
    key: &dyn Fn(usize) -> u64,
    caliper_width: Option<f64>,
) -> Matching {
    // Subclasses 1..K in tie-key order of the matched treated units: independent of
    // row order, and with the default key MatchIt's get_matches() numbering.
    let mut sets: Vec<usize> = (0..treated_units.len())
        .filter(|&t| !matched[t].is_empty())
        .collect();
    sets.sort_unstable_by_key(|&t| key(treated_units[t]));

    let mut pairs = Vec::with_capacity(sets.iter().map(|&t| matched[t].len()).sum());
    // Updated in place (`+=`): written first (see `memory::written_vec`).
    let mut weights = crate::memory::written_vec(n, 0.0);
    let mut subclass = vec![None; n];
    for (s, &t) in sets.iter().enumerate() {
        let unit = treated_units[t];
        weights[unit] = 1.0;
        subclass[unit] = Some(s + 1);
        let share = 1.0 / matched[t].len() as f64;
        for (r, &c) in matched[t].iter().enumerate() {
            let control = controls[c];
            weights[control] += share;
            subclass[control] = Some(s + 1);
            pairs.push(MatchedPair {
                subclass: s + 1,
                treated: unit,
                control,
                round: r + 1,
            });
        }
    }
    // MatchIt (weights_matrixC) rescales the control weights to sum to the number of
    // matched controls; summed in sorted-control order so the rounding does not
    // depend on row order. Only the matched controls are visited, in that order: the
    // others add 0 to the sum (x + 0 is x) and keep their 0 when rescaled.
    let mut taken: Vec<usize> = matched.iter().flatten().copied().collect();
    taken.sort_unstable();
    taken.dedup();
    let n_controls_matched = taken
        .iter()
        .filter(|&&c| weights[controls[c]] > 0.0)
        .count();
    let total: f64 = taken.iter().map(|&c| weights[controls[c]]).sum();
    if total > 0.0 {
        for &c in &taken {
            weights[controls[c]] = weights[controls[c]] * n_controls_matched as f64 / total;
        }
    }

    let n_treated = treated_units.len();
    let n_control = n - n_treated;
    let mut warnings = Vec::new();
    if !params.replace {
        if n_control < n_treated {
            warnings.push(MatchWarning::FewerControlsThanTreated {
                n_control,
                n_treated,
            });
        } else if (n_control as f64) / (n_treated as f64) < params.ratio as f64 {
            warnings.push(MatchWarning::FewerControlsThanRatio {
                ratio: params.ratio,
            });
        }
    }
    Matching {
        pairs,
        weights,
        subclass: (!params.replace).then_some(subclass),
        n_treated,
        n_control,
        n_treated_matched: sets.len(),
        n_controls_matched,
        caliper_width,
        warnings,
    }
}
