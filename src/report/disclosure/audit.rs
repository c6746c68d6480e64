//! The disclosure audit: re-reads a results folder (`results.json` and the CSV tables)
//! and reports every person count of 1 to threshold − 1 and every suppressed count that
//! follows from the others by subtraction. `shine analyse` runs it on its results before
//! writing them; `shine audit` runs it on a folder.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::json::{expand, relations, COUNT_PATHS};
use super::{must_suppress, Rule, DEFAULT_THRESHOLD};

/// One cell that discloses too small a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub file: String,
    /// A JSON pointer, or `row R, column C` (the spreadsheet's row: the header is 1).
    pub location: String,
    pub value: String,
    pub problem: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, {}: {} — {}",
            self.file, self.location, self.value, self.problem
        )
    }
}

/// Columns of the CSV tables that hold person counts (by header), and those whose
/// cells start with a count when the row's `statistic` is `n` or `n (%)` (Table 1).
fn is_count_column(header: &str) -> bool {
    matches!(
        header,
        "n" | "responses"
            | "persons"
            | "survey rows"
            | "scored"
            | "prorated"
            | "lost to missing items"
            | "not answered"
    ) || header.ends_with(" n")
}

/// Audits the files of a results folder, by relative path (`results.json`,
/// `tables/NAME.csv`); other files are not read. The threshold and the rounding base
/// are the plan's in `results.json` (the default threshold and no rounding when it
/// has none). Under rounding, a shown count that is not a multiple of the base is a
/// finding too.
pub fn audit(files: &BTreeMap<String, Vec<u8>>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let json: Option<Value> = files
        .get("results.json")
        .and_then(|bytes| serde_json::from_slice(bytes).ok());
    let threshold = json
        .as_ref()
        .and_then(|j| j.pointer("/plan/disclosure/threshold"))
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_THRESHOLD);
    let round_to = json
        .as_ref()
        .and_then(|j| j.pointer("/plan/disclosure/round_to"))
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .max(1);
    let rule = Rule {
        threshold,
        round_to,
    };
    if let Some(root) = &json {
        audit_json(root, rule, &mut findings);
    }
    for (path, bytes) in files {
        if path.starts_with("tables/") && path.ends_with(".csv") {
            audit_csv(path, bytes, rule, &mut findings);
        }
    }
    findings
}

/// What is wrong with a shown count under `rule`, if anything.
fn count_problem(n: u64, rule: Rule) -> Option<String> {
    if must_suppress(n, rule.threshold) {
        Some(format!(
            "a count of {n} persons, below the threshold of {}",
            rule.threshold
        ))
    } else if !n.is_multiple_of(rule.round_to) {
        Some(format!(
            "a count of {n} persons, not rounded to a multiple of {}",
            rule.round_to
        ))
    } else {
        None
    }
}

fn audit_json(root: &Value, rule: Rule, findings: &mut Vec<Finding>) {
    let mut found = |location: &str, value: String, problem: String| {
        findings.push(Finding {
            file: "results.json".into(),
            location: location.into(),
            value,
            problem,
        });
    };
    for pattern in COUNT_PATHS {
        for (pointer, _) in expand(root, pattern) {
            if let Some(n) = root.pointer(&pointer).and_then(Value::as_u64) {
                if let Some(problem) = count_problem(n, rule) {
                    found(&pointer, n.to_string(), problem);
                }
            }
        }
    }
    for (pointer, mean, n, value) in super::derived::derivable_counts(root, rule.threshold) {
        found(
            &pointer,
            mean.to_string(),
            format!(
                "the mean of a 0/1 term times its n gives {n} persons with the value {value}, below the threshold of {}",
                rule.threshold
            ),
        );
    }
    for (total, parts) in relations(root) {
        let members: Vec<&String> = std::iter::once(&total).chain(&parts).collect();
        let hidden: Vec<&&String> = members
            .iter()
            .filter(|p| root.pointer(p).is_some_and(Value::is_string))
            .collect();
        let shown = members
            .iter()
            .filter(|p| root.pointer(p).is_some_and(|v| v.as_u64().is_some()))
            .count();
        // Under rounding the shown counts give a suppressed one only within ± half a
        // base per count; exact subtraction is what the rule forbids.
        if hidden.len() == 1 && shown + 1 == members.len() && !rule.rounds() {
            found(
                hidden[0],
                root.pointer(hidden[0])
                    .map(Value::to_string)
                    .unwrap_or_default(),
                format!(
                    "suppressed, but {total} = {} gives it by subtraction",
                    parts.join(" + ")
                ),
            );
        }
    }
}

fn audit_csv(path: &str, bytes: &[u8], rule: Rule, findings: &mut Vec<Finding>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let Ok(headers) = reader.headers().cloned() else {
        return;
    };
    let statistic = headers.iter().position(|h| h == "statistic");
    for (r, record) in reader.records().enumerate() {
        let Ok(record) = record else {
            continue;
        };
        let counts_row = statistic
            .and_then(|s| record.get(s))
            .is_some_and(|s| s == "n" || s == "n (%)");
        for (c, header) in headers.iter().enumerate() {
            let Some(cell) = record.get(c) else {
                continue;
            };
            // Table 1: the group columns after `statistic`, not the SMDs.
            let is_count = is_count_column(header)
                || (counts_row && statistic.is_some_and(|s| c > s) && !header.starts_with("SMD"));
            if !is_count {
                continue;
            }
            // A count, or a count followed by its percentage: `12 (4.5)`.
            let Some(token) = cell.split_whitespace().next() else {
                continue;
            };
            let Ok(n) = token.parse::<f64>() else {
                continue;
            };
            // Whole numbers are counts of persons; a fractional one is a weighted
            // count (matching weights), an estimate rather than a count.
            if n.fract() != 0.0 || n < 0.0 || n >= u64::MAX as f64 {
                continue;
            }
            // Rounding applies to counts, written without decimals; a sum of weights
            // (written with a decimal) that happens to look whole is left to the
            // threshold check alone.
            let as_count = if token.contains('.') {
                Rule {
                    round_to: 1,
                    ..rule
                }
            } else {
                rule
            };
            if let Some(problem) = count_problem(n as u64, as_count) {
                findings.push(Finding {
                    file: path.to_string(),
                    location: format!("row {}, column {header}", r + 2),
                    value: cell.to_string(),
                    problem,
                });
            }
        }
    }
}

/// Reads the audited files of a results folder into memory.
///
/// # Errors
/// The folder or one of its files cannot be read.
pub fn read_folder(dir: &std::path::Path) -> std::io::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let json = dir.join("results.json");
    files.insert("results.json".to_string(), std::fs::read(&json)?);
    let tables = dir.join("tables");
    if tables.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(&tables)?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".csv"))
            .collect();
        names.sort();
        for name in names {
            files.insert(format!("tables/{name}"), std::fs::read(tables.join(&name))?);
        }
    }
    Ok(files)
}
