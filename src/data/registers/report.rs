//! The import report: what was read, used, dropped and why.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// One file read.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileReport {
    pub file: String,
    pub register: String,
    pub year: Option<u16>,
    pub rows_read: u64,
    pub rows_used: u64,
}

/// Where a warning was first seen.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Warning {
    pub file: String,
    pub row: usize,
    pub variable: String,
    pub message: String,
}

/// A kind of warning, how often it occurred, and its first case.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WarningCount {
    pub kind: String,
    pub count: u64,
    pub first: Warning,
}

/// What `shine import` did.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct ImportReport {
    pub extract_start: String,
    pub extract_end: String,
    pub files: Vec<FileReport>,
    /// Rows (or persons, events) left out, by reason.
    pub dropped: BTreeMap<String, u64>,
    pub warnings: Vec<WarningCount>,
    /// Contacts written, by contact type.
    pub contacts_by_type: BTreeMap<String, u64>,
    /// Person-years by education group, employment group, and other code groups.
    pub code_groups: BTreeMap<String, BTreeMap<String, u64>>,
    /// Rows of each table written.
    pub tables: BTreeMap<String, u64>,
}

impl ImportReport {
    /// The total number of warnings.
    pub fn warning_total(&self) -> u64 {
        self.warnings.iter().map(|w| w.count).sum()
    }

    /// The report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Import report\n");
        let _ = writeln!(
            s,
            "Extract period {} – {}.\n",
            self.extract_start, self.extract_end
        );
        let _ = writeln!(s, "## Tables written\n\n| table | rows |\n|---|---|");
        for (t, n) in &self.tables {
            let _ = writeln!(s, "| {t} | {n} |");
        }
        let _ = writeln!(
            s,
            "\n## Files read\n\n| register | year | file | rows read | rows used |\n|---|---|---|---|---|"
        );
        for f in &self.files {
            let year = f.year.map_or_else(String::new, |y| y.to_string());
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                f.register, year, f.file, f.rows_read, f.rows_used
            );
        }
        let _ = writeln!(s, "\n## Left out\n\n| reason | count |\n|---|---|");
        for (reason, n) in &self.dropped {
            let _ = writeln!(s, "| {reason} | {n} |");
        }
        let _ = writeln!(
            s,
            "\n## Warnings\n\n| warning | count | first seen |\n|---|---|---|"
        );
        for w in &self.warnings {
            let _ = writeln!(
                s,
                "| {} | {} | {}, row {}, {}: {} |",
                w.kind, w.count, w.first.file, w.first.row, w.first.variable, w.first.message
            );
        }
        let _ = writeln!(
            s,
            "\n## Contacts by type\n\n| contact type | contacts |\n|---|---|"
        );
        for (t, n) in &self.contacts_by_type {
            let _ = writeln!(s, "| {t} | {n} |");
        }
        for (name, groups) in &self.code_groups {
            let _ = writeln!(s, "\n## {name}\n\n| group | count |\n|---|---|");
            for (g, n) in groups {
                let _ = writeln!(s, "| {g} | {n} |");
            }
        }
        s
    }
}
