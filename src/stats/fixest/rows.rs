//! The rows a fit uses: rows with weight 0, singletons (repeatedly) and, for Poisson,
//! rows in a fixed-effect level whose outcome is 0 throughout are dropped, in that order
//! (see "What is dropped, and why" in [`super`]).

use std::borrow::Cow;

use super::options::ValidFeModel;
use super::{DroppedRows, FeFamily};

/// The rows kept after zero weights, singletons and (Poisson) all-zero groups.
pub(super) fn select_rows(
    y: &[f64],
    fixed_effects: &[Cow<'_, [u32]>],
    weights: Option<&[f64]>,
    model: &ValidFeModel,
) -> (Vec<bool>, DroppedRows) {
    let n = y.len();
    let mut keep = vec![true; n];
    let mut dropped = DroppedRows::default();
    if let Some(w) = weights {
        for (k, &wi) in keep.iter_mut().zip(w) {
            if wi == 0.0 {
                *k = false;
                dropped.zero_weight += 1;
            }
        }
    }
    if fixed_effects.is_empty() {
        return (keep, dropped);
    }
    let n_slots: Vec<usize> = fixed_effects
        .iter()
        .map(|c| c.iter().map(|&v| v as usize + 1).max().unwrap_or(0))
        .collect();
    let mut counts = vec![0u32; n_slots.iter().copied().max().unwrap_or(0)];
    if model.drop_singletons {
        // Repeat until no fixed effect has a level with a single row (pyfixest's
        // detect_singletons).
        loop {
            let mut changed = false;
            for (codes, &slots) in fixed_effects.iter().zip(&n_slots) {
                let counts = &mut counts[..slots];
                counts.fill(0);
                for (i, &c) in codes.iter().enumerate() {
                    if keep[i] {
                        counts[c as usize] = counts[c as usize].saturating_add(1);
                    }
                }
                for (i, &c) in codes.iter().enumerate() {
                    if keep[i] && counts[c as usize] == 1 {
                        keep[i] = false;
                        dropped.singletons += 1;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }
    if model.family == FeFamily::Poisson && model.drop_separated {
        // Levels (of any fixed effect) whose outcome is 0 in every row kept so far.
        let mut separated = vec![false; n];
        for (codes, &slots) in fixed_effects.iter().zip(&n_slots) {
            let mut positive = vec![false; slots];
            for (i, &c) in codes.iter().enumerate() {
                if keep[i] && y[i] > 0.0 {
                    positive[c as usize] = true;
                }
            }
            for (i, &c) in codes.iter().enumerate() {
                if keep[i] && !positive[c as usize] {
                    separated[i] = true;
                }
            }
        }
        for (k, s) in keep.iter_mut().zip(&separated) {
            if *s && *k {
                *k = false;
                dropped.separated += 1;
            }
        }
    }
    (keep, dropped)
}
