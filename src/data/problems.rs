//! Problems found in extracts: what `shine validate` reports, grouped by kind.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// How many examples of each kind of problem a report keeps; the total is always counted.
pub const MAX_EXAMPLES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// The kinds of problem, in the order a report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemKind {
    FileMissing,
    FileUnreadable,
    EmptyFile,
    NoDataRows,
    NotUtf8,
    MalformedCsv,
    RaggedRow,
    DuplicateColumn,
    MissingColumn,
    WrongColumnType,
    MissingValue,
    WrongType,
    BadDate,
    OutOfRange,
    UnknownCode,
    DuplicateKey,
    DuplicateReferral,
    UnknownPerson,
    DeathBeforeBirth,
    ReferralBeforeAdulthood,
    ReferralAfterDeath,
    ReferralAfterEmigration,
    EventBeforeBirth,
    EventAfterDeath,
    OutsideExtractPeriod,
    ParticipationNotReferred,
    ParticipationWrongWave,
    // Warnings from here on.
    UnknownColumn,
    OptionalTableMissing,
    ExtractPeriodUnknown,
    EventAfterEmigration,
    ResponseBeforeReferral,
    ReferredWithoutCovariates,
    ResponseWithoutReferral,
}

impl ProblemKind {
    pub fn severity(self) -> Severity {
        use ProblemKind::*;
        match self {
            UnknownColumn
            | OptionalTableMissing
            | ExtractPeriodUnknown
            | EventAfterEmigration
            | ResponseBeforeReferral
            | ReferredWithoutCovariates
            | ResponseWithoutReferral => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// The kind's identifier, as in the JSON report.
    pub fn code(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn title(self) -> &'static str {
        use ProblemKind::*;
        match self {
            FileMissing => "table file not found",
            FileUnreadable => "file could not be read",
            EmptyFile => "file is empty (no header)",
            NoDataRows => "file has a header but no data rows",
            NotUtf8 => "text is not valid UTF-8",
            MalformedCsv => "malformed CSV",
            RaggedRow => "row has a different number of fields than the header",
            DuplicateColumn => "column appears twice in the header",
            MissingColumn => "required column missing",
            WrongColumnType => "column stored with a type that does not fit the dictionary",
            MissingValue => "required value missing",
            WrongType => "value does not have the column's type",
            BadDate => "value is not an ISO date (YYYY-MM-DD)",
            OutOfRange => "value outside the allowed range",
            UnknownCode => "value is not one of the allowed codes",
            DuplicateKey => "key is not unique",
            DuplicateReferral => "person referred more than once",
            UnknownPerson => "person_id not found in persons",
            DeathBeforeBirth => "death or emigration before birth",
            ReferralBeforeAdulthood => "referral before the 18th birthday",
            ReferralAfterDeath => "referral after death",
            ReferralAfterEmigration => "referral after emigration",
            EventBeforeBirth => "date before the person's birth",
            EventAfterDeath => "date after the person's death",
            OutsideExtractPeriod => "date outside the extract period",
            ParticipationNotReferred => "participation recorded for a person who was not referred",
            ParticipationWrongWave => "service type or dropout reason outside the 9-month wave",
            UnknownColumn => "column not in the data dictionary (ignored)",
            OptionalTableMissing => "optional table not found",
            ExtractPeriodUnknown => "extract period not given: dates not checked against it",
            EventAfterEmigration => "date after the person's emigration",
            ResponseBeforeReferral => "survey response before the referral date",
            ReferredWithoutCovariates => {
                "referred person without a covariate snapshot for the year before referral"
            }
            ResponseWithoutReferral => {
                "survey response of a person never referred (left out of the referred persons' survey tables; used by the models only if matched as a comparison person)"
            }
        }
    }
}

/// One problem: where it is and what was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub file: String,
    /// The row as a spreadsheet numbers it: the header is row 1, the first record row 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(file: &str, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_string(),
            row: None,
            column: None,
            value: None,
            message: message.into(),
        }
    }

    pub fn row(mut self, row: usize) -> Problem {
        self.row = Some(row);
        self
    }

    pub fn column(mut self, column: &str) -> Problem {
        self.column = Some(column.to_string());
        self
    }

    pub fn value(mut self, value: &str) -> Problem {
        // Keep reports readable when a field holds a whole paragraph.
        let mut v: String = value.chars().take(80).collect();
        if v.len() < value.len() {
            v.push('…');
        }
        self.value = Some(v);
        self
    }

    /// "persons.csv, row 7, column sex".
    pub fn location(&self) -> String {
        let mut s = self.file.clone();
        if let Some(r) = self.row {
            let _ = write!(s, ", row {r}");
        }
        if let Some(c) = &self.column {
            let _ = write!(s, ", column {c}");
        }
        s
    }
}

#[derive(Debug, Clone, Default)]
struct Group {
    total: usize,
    examples: Vec<Problem>,
}

/// Collects problems, keeping the total and the first [`MAX_EXAMPLES`] of each kind.
#[derive(Debug, Clone, Default)]
pub struct Problems {
    groups: BTreeMap<ProblemKind, Group>,
}

impl Problems {
    pub fn push(&mut self, kind: ProblemKind, problem: Problem) {
        let group = self.groups.entry(kind).or_default();
        group.total += 1;
        if group.examples.len() < MAX_EXAMPLES {
            group.examples.push(problem);
        }
    }

    /// Counts `n` further problems of a kind whose examples are already kept.
    pub fn count_more(&mut self, kind: ProblemKind, n: usize) {
        self.groups.entry(kind).or_default().total += n;
    }

    pub fn examples_full(&self, kind: ProblemKind) -> bool {
        self.groups
            .get(&kind)
            .is_some_and(|g| g.examples.len() >= MAX_EXAMPLES)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.groups
            .iter()
            .filter(|(k, _)| k.severity() == severity)
            .map(|(_, g)| g.total)
            .sum()
    }

    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }

    pub fn total(&self, kind: ProblemKind) -> usize {
        self.groups.get(&kind).map_or(0, |g| g.total)
    }

    /// The groups in report order (errors first, by kind).
    pub fn groups(&self) -> Vec<ProblemGroup> {
        let mut out: Vec<ProblemGroup> = self
            .groups
            .iter()
            .map(|(kind, g)| ProblemGroup {
                kind: *kind,
                severity: kind.severity(),
                title: kind.title(),
                total: g.total,
                examples: g.examples.clone(),
            })
            .collect();
        out.sort_by_key(|g| (g.severity, g.kind));
        out
    }
}

/// All problems of one kind, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemGroup {
    pub kind: ProblemKind,
    pub severity: Severity,
    pub title: &'static str,
    pub total: usize,
    pub examples: Vec<Problem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_twenty_examples_and_counts_all() {
        let mut p = Problems::default();
        for r in 0..25 {
            p.push(
                ProblemKind::OutOfRange,
                Problem::new("a.csv", "x").row(r + 2),
            );
        }
        p.push(ProblemKind::UnknownColumn, Problem::new("a.csv", "y"));
        let groups = p.groups();
        assert_eq!(groups[0].kind, ProblemKind::OutOfRange);
        assert_eq!(groups[0].total, 25);
        assert_eq!(groups[0].examples.len(), MAX_EXAMPLES);
        assert_eq!(groups[1].severity, Severity::Warning);
        assert_eq!(p.count(Severity::Error), 25);
        assert!(p.has_errors());
        assert_eq!(ProblemKind::OutOfRange.code(), "out-of-range");
    }
}
