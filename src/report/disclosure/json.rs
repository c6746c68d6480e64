//! Disclosure control of `results.json`: the person counts it holds, where they are, how
//! they add up, and their suppression (primary and complementary), so that the file
//! shows no count of 1 to threshold − 1 persons and none that follows from the others
//! by subtraction. [`super::audit`] checks a written file against the same lists.

use serde_json::Value;

use super::{
    complementary_cells, marker, must_suppress, rounded, Rule, SumRelation, COMPLEMENTARY_MARKER,
};

/// Person counts in `results.json`, as paths with `*` for any array element.
pub const COUNT_PATHS: &[&str] = &[
    "/cohort/persons",
    "/cohort/referred",
    "/cohort/comparison_pool",
    "/cohort/survey_responses",
    "/matching/flow/referred",
    "/matching/flow/referred_outside_study_period",
    "/matching/flow/referred_without_snapshot",
    "/matching/flow/referred_in_risk_sets",
    "/matching/flow/comparison_persons",
    "/matching/flow/comparison_rows",
    "/matching/flow/referred_matched",
    "/matching/flow/referred_unmatched",
    "/matching/flow/referred_with_fewer_than_ratio",
    "/matching/flow/comparison_matched",
    "/matching/flow/comparison_rows_outside_support",
    "/matching/rates/*/referred/persons",
    "/matching/rates/*/matched_comparison/persons",
    "/matching/rates/*/eligible_pool/persons",
    "/score_counts/*/rows",
    "/score_counts/*/scored",
    "/score_counts/*/lost_to_missing_items",
    "/score_counts/*/not_answered",
    "/score_counts/*/prorated",
    "/sensitivity/*/referred_matched",
    "/sensitivity/*/comparison_matched",
    "/survey_by_wave/*/responses",
    "/survey_by_wave/*/ucla3_severe",
    "/survey_by_wave/*/ucla3/n",
    "/survey_by_wave/*/eq5d_index/n",
    "/survey_by_wave/*/eq_vas/n",
    "/survey_outcomes/*/n_obs",
    "/survey_outcomes/*/n_persons",
    "/difference_in_differences/*/n_dropped",
    "/negative_controls/*/n_dropped",
    "/difference_in_differences/*/linear_bootstrap/clusters",
    "/participation/frequency/*/rows",
    "/participation/frequency/*/every_time",
    "/participation/frequency/*/most_of_the_time",
    "/participation/frequency/*/sometimes",
    "/participation/frequency/*/almost_never",
    "/participation/frequency/*/not_yet",
    "/participation/frequency/*/not_answered",
    "/participation/services/persons",
    "/participation/services/physical_activity",
    "/participation/services/arts_culture",
    "/participation/services/social_community",
    "/participation/services/nature_outdoors",
    "/participation/services/learning",
    "/participation/services/volunteering",
    "/participation/services/advice",
    "/participation/services/other",
    "/participation/dropout/total",
    "/participation/dropout/own_health",
    "/participation/dropout/no_longer_wanted",
    "/participation/dropout/not_reached",
    "/participation/dropout/moved_or_died",
    "/participation/dropout/other",
    "/participation/dose_response/*/n",
    "/participation/dose_response/*/levels/every_time/n",
    "/participation/dose_response/*/levels/most_of_the_time/n",
    "/participation/dose_response/*/levels/sometimes/n",
    "/participation/dose_response/*/levels/almost_never/n",
    "/participation/dose_response/*/levels/not_yet/n",
    "/negative_controls/*/linear_bootstrap/clusters",
];

/// Counts that add up, or that are the same count in two places: `(total, parts)`,
/// paths with `*` standing for the same array element on both sides.
pub const SUM_PATHS: &[(&str, &[&str])] = &[
    (
        "/matching/flow/referred",
        &[
            "/matching/flow/referred_outside_study_period",
            "/matching/flow/referred_without_snapshot",
            "/matching/flow/referred_in_risk_sets",
        ],
    ),
    (
        "/matching/flow/referred_in_risk_sets",
        &[
            "/matching/flow/referred_matched",
            "/matching/flow/referred_unmatched",
        ],
    ),
    (
        "/cohort/persons",
        &["/cohort/referred", "/cohort/comparison_pool"],
    ),
    ("/cohort/referred", &["/matching/flow/referred"]),
    (
        "/participation/frequency/*/rows",
        &[
            "/participation/frequency/*/every_time",
            "/participation/frequency/*/most_of_the_time",
            "/participation/frequency/*/sometimes",
            "/participation/frequency/*/almost_never",
            "/participation/frequency/*/not_yet",
            "/participation/frequency/*/not_answered",
        ],
    ),
    (
        "/participation/dropout/total",
        &[
            "/participation/dropout/own_health",
            "/participation/dropout/no_longer_wanted",
            "/participation/dropout/not_reached",
            "/participation/dropout/moved_or_died",
            "/participation/dropout/other",
        ],
    ),
    (
        "/participation/dose_response/*/n",
        &[
            "/participation/dose_response/*/levels/every_time/n",
            "/participation/dose_response/*/levels/most_of_the_time/n",
            "/participation/dose_response/*/levels/sometimes/n",
            "/participation/dose_response/*/levels/almost_never/n",
            "/participation/dose_response/*/levels/not_yet/n",
        ],
    ),
    (
        "/score_counts/*/rows",
        &[
            "/score_counts/*/scored",
            "/score_counts/*/lost_to_missing_items",
            "/score_counts/*/not_answered",
        ],
    ),
];

/// Every concrete JSON pointer that `pattern` matches in `root`, with the array index
/// that its `*` took (the first `*`), in document order.
pub fn expand(root: &Value, pattern: &str) -> Vec<(String, Option<usize>)> {
    let mut out = Vec::new();
    let parts: Vec<&str> = pattern.split('/').skip(1).collect();
    walk(root, &parts, String::new(), None, &mut out);
    out
}

fn walk(
    value: &Value,
    parts: &[&str],
    at: String,
    index: Option<usize>,
    out: &mut Vec<(String, Option<usize>)>,
) {
    let Some((head, rest)) = parts.split_first() else {
        out.push((at, index));
        return;
    };
    if *head == "*" {
        if let Value::Array(items) = value {
            for (i, item) in items.iter().enumerate() {
                walk(item, rest, format!("{at}/{i}"), index.or(Some(i)), out);
            }
        }
    } else if let Some(next) = value.get(*head) {
        walk(next, rest, format!("{at}/{head}"), index, out);
    }
}

/// The count at a pointer, when it is a non-negative integer.
fn count_at(root: &Value, pointer: &str) -> Option<u64> {
    root.pointer(pointer).and_then(Value::as_u64)
}

/// The sum relations of [`SUM_PATHS`] made concrete in `root`: pointers, with each
/// `*` taking the same index on both sides. Relations with a missing member are left
/// out.
pub fn relations(root: &Value) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (total, parts) in SUM_PATHS {
        for (total_pointer, index) in expand(root, total) {
            let concrete = |p: &str| match index {
                Some(i) => p.replacen('*', &i.to_string(), 1),
                None => p.to_string(),
            };
            let parts: Vec<String> = parts.iter().map(|p| concrete(p)).collect();
            if parts.iter().all(|p| root.pointer(p).is_some()) {
                out.push((total_pointer, parts));
            }
        }
    }
    out
}

/// Replaces every person count of 1 to threshold − 1 by the marker (`<5`) and the
/// counts that would give one away by subtraction by `[s]`, then rounds the counts
/// left (when the rule rounds), each on its own: suppression is decided on the
/// unrounded counts.
pub fn suppress(root: &mut Value, rule: impl Into<Rule>) {
    let rule = rule.into();
    let threshold = rule.threshold;
    let mut cells: Vec<String> = Vec::new();
    for pattern in COUNT_PATHS {
        for (pointer, _) in expand(root, pattern) {
            if !cells.contains(&pointer) {
                cells.push(pointer);
            }
        }
    }
    let relations = relations(root);
    for (total, parts) in &relations {
        for p in std::iter::once(total).chain(parts) {
            if !cells.contains(p) {
                cells.push(p.clone());
            }
        }
    }
    let cell_of = |p: &str| (cells.iter().position(|c| c == p).unwrap_or(0), 0);
    let sums: Vec<SumRelation> = relations
        .iter()
        .map(|(total, parts)| SumRelation {
            total: cell_of(total),
            parts: parts.iter().map(|p| cell_of(p)).collect(),
        })
        .collect();
    let counts: Vec<Option<u64>> = cells.iter().map(|p| count_at(root, p)).collect();
    let hidden = complementary_cells(&sums, |(i, _)| counts[i], threshold);
    for (i, pointer) in cells.iter().enumerate() {
        let replacement = match counts[i] {
            Some(n) if must_suppress(n, threshold) => marker(threshold),
            Some(_) if hidden.contains(&(i, 0)) => COMPLEMENTARY_MARKER.to_string(),
            Some(n) if rule.rounds() => {
                if let Some(slot) = root.pointer_mut(pointer) {
                    *slot = Value::from(rounded(n, rule.round_to));
                }
                continue;
            }
            _ => continue,
        };
        if let Some(slot) = root.pointer_mut(pointer) {
            *slot = Value::String(replacement);
        }
    }
}
