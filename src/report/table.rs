//! Result tables rendered as CSV and Markdown from the same cells.

use std::fmt::Write as _;

use serde::Serialize;

use super::disclosure::{self, Rule};

/// One cell of a result table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    /// A count of persons or events, subject to disclosure control.
    Count(u64),
    /// A number shown with a fixed number of decimals.
    Number {
        value: f64,
        decimals: usize,
    },
    /// An estimate: full precision in CSV (the shortest text that reads back to the
    /// same number), `decimals` in Markdown.
    Estimate {
        value: f64,
        decimals: usize,
    },
    Missing,
    /// A count hidden by complementary suppression (so that a small count cannot be
    /// recovered from the totals).
    Hidden,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn number(value: f64, decimals: usize) -> Cell {
        if value.is_finite() {
            Cell::Number { value, decimals }
        } else {
            Cell::Missing
        }
    }

    /// An estimate cell; non-finite values are blank.
    pub fn estimate(value: f64, decimals: usize) -> Cell {
        if value.is_finite() {
            Cell::Estimate { value, decimals }
        } else {
            Cell::Missing
        }
    }

    /// An optional estimate cell.
    pub fn maybe(value: Option<f64>, decimals: usize) -> Cell {
        value.map_or(Cell::Missing, |v| Cell::estimate(v, decimals))
    }

    fn render_csv(&self, rule: Rule) -> String {
        match self {
            Cell::Estimate { value, .. } => value.to_string(),
            other => other.render(rule),
        }
    }

    fn render(&self, rule: Rule) -> String {
        match self {
            Cell::Estimate { value, decimals } => format!("{value:.decimals$}"),
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => rule.count_text(*n),
            Cell::Number { value, decimals } => format!("{value:.decimals$}"),
            Cell::Missing => String::new(),
            Cell::Hidden => disclosure::COMPLEMENTARY_MARKER.to_string(),
        }
    }
}

/// A table for export: a file stem, a title, a header and rows.
#[derive(Debug, Clone, Serialize)]
pub struct ResultTable {
    pub name: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Notes printed under the Markdown table (sources, definitions, suppression).
    pub notes: Vec<String>,
    /// Cells that add up, for complementary suppression.
    #[serde(skip)]
    pub sums: Vec<disclosure::SumRelation>,
}

impl ResultTable {
    pub fn new(name: &str, title: &str, columns: &[&str]) -> ResultTable {
        ResultTable {
            name: name.to_string(),
            title: title.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
            sums: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    fn has_suppressed(&self, threshold: u64) -> bool {
        self.rows
            .iter()
            .flatten()
            .any(|c| matches!(c, Cell::Count(n) if disclosure::must_suppress(*n, threshold)))
    }

    /// The table with the counts that complementary suppression hides replaced by
    /// [`Cell::Hidden`].
    pub fn protected(&self, threshold: u64) -> ResultTable {
        let count = |(r, c): (usize, usize)| match self.rows.get(r).and_then(|row| row.get(c)) {
            Some(Cell::Count(n)) => Some(*n),
            _ => None,
        };
        let mut out = self.clone();
        for (r, c) in disclosure::complementary_cells(&self.sums, count, threshold) {
            if let Some(cell) = out.rows.get_mut(r).and_then(|row| row.get_mut(c)) {
                *cell = Cell::Hidden;
            }
        }
        out
    }

    /// The table's notes with those on suppressed and rounded counts, if any.
    pub fn notes_after_disclosure(&self, rule: impl Into<Rule>) -> Vec<String> {
        let rule = rule.into();
        let threshold = rule.threshold;
        let mut notes = self.notes.clone();
        if self.has_suppressed(threshold) {
            notes.push(format!(
                "{} marks a count of 1 to {} suppressed under the disclosure rule.",
                disclosure::marker(threshold),
                threshold - 1
            ));
        }
        if self.rows.iter().flatten().any(|c| *c == Cell::Hidden) {
            notes.push(format!(
                "{} marks a count hidden so that a suppressed count cannot be recovered from the totals.",
                disclosure::COMPLEMENTARY_MARKER
            ));
        }
        let has_counts = self
            .rows
            .iter()
            .flatten()
            .any(|c| matches!(c, Cell::Count(_)));
        if rule.rounds() && has_counts {
            notes.push(format!(
                "Counts are rounded to the nearest multiple of {} (each cell and total on its own, so parts need not add up to their total).",
                rule.round_to
            ));
        }
        notes
    }

    /// The text of every cell after disclosure control (Markdown precision).
    pub fn rendered(&self, rule: impl Into<Rule>) -> Vec<Vec<String>> {
        let rule = rule.into();
        let t = self.protected(rule.threshold);
        t.rows
            .iter()
            .map(|row| row.iter().map(|c| c.render(rule)).collect())
            .collect()
    }

    pub fn to_csv(&self, rule: impl Into<Rule>) -> String {
        let rule = rule.into();
        if !self.sums.is_empty() {
            let mut t = self.protected(rule.threshold);
            t.sums.clear();
            return t.to_csv(rule);
        }
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let _ = w.write_record(&self.columns);
        for row in &self.rows {
            let _ = w.write_record(row.iter().map(|c| c.render_csv(rule)));
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    pub fn to_markdown(&self, rule: impl Into<Rule>) -> String {
        let rule = rule.into();
        if !self.sums.is_empty() {
            let mut t = self.protected(rule.threshold);
            t.sums.clear();
            return t.to_markdown(rule);
        }
        let mut out = format!("### {}\n\n", self.title);
        let _ = writeln!(out, "| {} |", self.columns.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(self.columns.len()));
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| c.render(rule).replace('|', "\\|"))
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        let notes = self.notes_after_disclosure(rule);
        if !notes.is_empty() {
            out.push('\n');
            for n in notes {
                let _ = writeln!(out, "{n}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
