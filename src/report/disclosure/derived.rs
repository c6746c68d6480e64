//! Derived values: a proportion or mean of a 0/1 term times its group's n is a count,
//! so the balance table's means of binary terms are disclosure-controlled like the
//! counts they rest on. A mean is withheld when the units with the value 1 or those
//! with 0 (its complement) number 1 to threshold − 1; the other statistics of that
//! sample (SMD, eCDF differences) and the other group's mean are withheld with it:
//! with the other group's mean the statistics give it back, and after matching the
//! other group's mean is itself close to it.

use serde_json::Value;

use super::{marker, must_suppress, COMPLEMENTARY_MARKER};
use crate::stats::balance::{BalanceRow, GroupUnits};

/// Which means of one balance row are withheld: `[before, after]`, each
/// `[treated, control]`.
pub fn withheld_means(row: &BalanceRow, threshold: u64) -> [[bool; 2]; 2] {
    let Some(units) = row.binary_units else {
        return [[false; 2]; 2];
    };
    let small = |counts: [u64; 2]| counts.iter().any(|&n| must_suppress(n, threshold));
    let sample = |g: GroupUnits| [small(g.treated), small(g.control)];
    [sample(units.before), sample(units.after)]
}

/// The fields of a balance row in `results.json` for one sample: the two means,
/// then the statistics computed from them.
const FIELDS: [[&str; 6]; 2] = [
    [
        "mean_treated_before",
        "mean_control_before",
        "smd_before",
        "variance_ratio_before",
        "ecdf_mean_before",
        "ecdf_max_before",
    ],
    [
        "mean_treated_after",
        "mean_control_after",
        "smd_after",
        "variance_ratio_after",
        "ecdf_mean_after",
        "ecdf_max_after",
    ],
];

/// Withholds in `results.json` (`/matching/balance`) what [`withheld_means`] withholds:
/// the mean by the marker; the sample's other statistics, the other group's mean
/// included, by `[s]` (matching makes the groups' means of a term nearly equal, so the
/// other mean would give the withheld one back).
pub fn suppress_balance(root: &mut Value, rows: &[BalanceRow], threshold: u64) {
    for (i, row) in rows.iter().enumerate() {
        for (sample, groups) in withheld_means(row, threshold).iter().enumerate() {
            if !groups.iter().any(|&w| w) {
                continue;
            }
            for (k, field) in FIELDS[sample].iter().enumerate() {
                let text = match k {
                    0 | 1 if groups[k] => marker(threshold),
                    _ => COMPLEMENTARY_MARKER.to_string(),
                };
                if let Some(slot) = root.pointer_mut(&format!("/matching/balance/{i}/{field}")) {
                    if !slot.is_null() {
                        *slot = Value::String(text);
                    }
                }
            }
        }
    }
}

/// Counts that a shown mean of a binary term gives away, for the audit: for each
/// balance row of `results.json` whose term is binary, the mean times the number of
/// units it is taken over (before matching: the referred and the comparison rows in
/// the risk sets; after: the matched referred, whose weights are all 1), when that is
/// a whole number whose count or complement is 1 to threshold − 1. `(pointer, mean,
/// the small count, the value it counts)` per finding.
pub fn derivable_counts(root: &Value, threshold: u64) -> Vec<(String, f64, u64, u8)> {
    let flow = |name: &str| {
        root.pointer(&format!("/matching/flow/{name}"))
            .and_then(Value::as_u64)
    };
    let bases = [
        ("mean_treated_before", flow("referred_in_risk_sets")),
        ("mean_control_before", flow("comparison_rows")),
        ("mean_treated_after", flow("referred_matched")),
    ];
    let mut out = Vec::new();
    let Some(rows) = root.pointer("/matching/balance").and_then(Value::as_array) else {
        return out;
    };
    for (i, row) in rows.iter().enumerate() {
        if row.get("binary").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        for (field, n) in bases {
            let (Some(n), Some(mean)) = (n, row.get(field).and_then(Value::as_f64)) else {
                continue;
            };
            let ones = mean * n as f64;
            let whole = ones.round();
            if (ones - whole).abs() > 1e-9 * (n as f64).max(1.0) || whole < 0.0 {
                continue;
            }
            let ones = whole as u64;
            let zeros = n.saturating_sub(ones);
            let pointer = format!("/matching/balance/{i}/{field}");
            if must_suppress(ones, threshold) {
                out.push((pointer, mean, ones, 1));
            } else if must_suppress(zeros, threshold) {
                out.push((pointer, mean, zeros, 0));
            }
        }
    }
    out
}
