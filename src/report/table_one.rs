//! "Table 1" before and after matching, laid out as R's tableone prints it with
//! `print(..., smd = TRUE)`: an `n` row, then per variable `mean (SD)` or
//! `median [Q1, Q3]`, or `n (%)` per level (a two-level variable as one row showing its
//! second level, `name = level (%)` in tableone), and the SMD on the variable's first
//! row. Formatting follows tableone's defaults: 2 decimals for continuous statistics,
//! 1 for percentages, 3 for the SMD; weighted counts (sums of matching weights) with
//! 1 decimal.
//!
//! Missing values: tableone prints an overall percentage-missing column
//! (`missing = TRUE`); here a `missing` row under each variable that has any gives the
//! number of persons without a value in each group (sum of weights after matching).
//! A row keeps the group columns comparable and lets the disclosure rule treat the
//! count like any other.
//!
//! Disclosure control (Statistics Denmark: no cell may rest on 1 to threshold − 1
//! persons), decided on person counts even where a cell shows a sum of weights:
//! - a count, an `n (%)` cell, or a mean/median cell whose number of persons is small
//!   is replaced as a whole by the marker (`<5`); plain person counts are
//!   [`Cell::Count`] and suppressed when the table is written, the rest here;
//! - within a group column, the levels and the missing count of a variable add up to
//!   the shown `n`; where the cells that are withheld or not shown (the first level of a
//!   two-level variable, the number with a value of a continuous variable) are all
//!   small, they could be derived, so the smallest other non-zero cell is withheld too
//!   (secondary suppression, marked [`SECONDARY_MARKER`]);
//! - the SMD of a variable with a small cell in that sample is withheld (with the
//!   other group's statistics it would give the suppressed one back).
//!
//! `threshold` must be the one the table is written with (`to_csv`, `to_markdown`).

use crate::stats::table_one::{
    ContinuousStats, LevelCount, LevelStats, Summary, TableOne, Tally, VariableSummary,
};

use super::disclosure::{self, Rule};
use super::table::{Cell, ResultTable};

/// Marks a cell withheld so that a suppressed count cannot be derived from the others.
pub const SECONDARY_MARKER: &str = "[s]";

/// Decimals of means, SDs, medians and quartiles (tableone's `digits`).
const CONTINUOUS_DECIMALS: usize = 2;
/// Decimals of percentages (tableone's `pDigits` for categorical variables).
const PERCENT_DECIMALS: usize = 1;
/// Decimals of the SMD (tableone prints 3).
const SMD_DECIMALS: usize = 3;
/// Decimals of weighted counts.
const WEIGHTED_DECIMALS: usize = 1;

/// Table 1 with one block of columns (treated, control, SMD) per sample: `before`
/// (unweighted) and, if given, `after` (weighted by the matching weights). `after` must
/// come from the same variables as `before`; a variable it lacks is left blank.
/// `labels` names the groups, e.g. `("Referred", "Comparison")`.
pub fn table_one_table(
    before: &TableOne,
    after: Option<&TableOne>,
    labels: (&str, &str),
    rule: impl Into<Rule>,
) -> ResultTable {
    let rule = rule.into();
    let threshold = rule.threshold;
    let samples: Vec<&TableOne> = std::iter::once(before).chain(after).collect();
    let (t, c) = labels;
    let mut columns = vec!["variable".to_string(), "level".into(), "statistic".into()];
    if after.is_some() {
        for when in ["before", "after"] {
            columns.extend([
                format!("{t} {when}"),
                format!("{c} {when}"),
                format!("SMD {when}"),
            ]);
        }
    } else {
        columns.extend([t.to_string(), c.to_string(), "SMD".into()]);
    }
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let title = if after.is_some() {
        "Table 1. Characteristics by group before and after matching"
    } else {
        "Table 1. Characteristics by group"
    };
    let mut table = ResultTable::new("table_one", title, &columns);
    let mut marks = Marks::default();

    let mut n_row = vec![Cell::text("n"), Cell::text(""), Cell::text("n")];
    for s in &samples {
        for tally in [s.n.treated, s.n.control] {
            n_row.push(group_size(tally, s.weighted, rule, &mut marks));
        }
        n_row.push(Cell::Missing);
    }
    table.push(n_row);

    let mut any_missing_row = false;
    for (k, variable) in before.variables.iter().enumerate() {
        let per_sample: Vec<Option<&VariableSummary>> = samples
            .iter()
            .map(|s| s.variables.get(k).filter(|v| v.name == variable.name))
            .collect();
        let layout = Layout::of(variable, &per_sample);
        any_missing_row |= layout.missing_row;
        let blocks: Vec<Vec<[Cell; 3]>> = samples
            .iter()
            .zip(&per_sample)
            .map(|(s, v)| match v {
                Some(v) if layout.fits(v) => sample_cells(&layout, s, v, rule, &mut marks),
                _ => vec![[Cell::Missing, Cell::Missing, Cell::Missing]; layout.rows.len()],
            })
            .collect();
        for (r, (level, statistic)) in layout.rows.iter().enumerate() {
            let mut row = vec![
                Cell::text(&variable.name),
                Cell::text(level),
                Cell::text(*statistic),
            ];
            for block in &blocks {
                row.extend(block[r].iter().cloned());
            }
            table.push(row);
        }
    }

    table.notes.push(
        "Continuous variables: mean (SD) or median [Q1, Q3]; categorical variables: n (%) of the persons with a value, a two-level variable showing its second level. SMD: absolute standardised mean difference as R's tableone computes it: the difference in means over the pooled SD sqrt((s_T² + s_C²) / 2), or Yang & Dalton's (2012) multivariate SMD for categorical variables."
            .into(),
    );
    if samples.iter().any(|s| s.weighted) {
        table.notes.push(
            "Weighted columns use the matching weights (tableone's svyCreateTableOne): n and counts are sums of weights, SDs use survey's svyvar, quartiles survey's hf7 rule (R's quantile type 7 when all weights are 1)."
                .into(),
        );
    }
    if any_missing_row {
        table.notes.push(
            "missing: persons without a value (sum of their weights in weighted columns); they are left out of the statistics of that variable."
                .into(),
        );
    }
    marks.notes(&mut table, threshold);
    table
}

/// Which suppressions were made here (not by [`Cell::Count`]), for the notes.
#[derive(Default)]
struct Marks {
    primary: bool,
    secondary: bool,
}

impl Marks {
    fn notes(&self, table: &mut ResultTable, threshold: u64) {
        let marker = disclosure::marker(threshold);
        let upper = threshold.saturating_sub(1);
        if self.primary {
            // ResultTable adds its own note when a Cell::Count is suppressed.
            let counts_suppressed =
                table.rows.iter().flatten().any(
                    |c| matches!(c, Cell::Count(n) if disclosure::must_suppress(*n, threshold)),
                );
            table.notes.push(if counts_suppressed {
                format!("{marker} also replaces a whole n (%), mean (SD) or median [IQR] cell, or a sum of weights, that rests on 1 to {upper} persons.")
            } else {
                format!("{marker} replaces a whole n (%), mean (SD) or median [IQR] cell, or a sum of weights, that rests on 1 to {upper} persons (disclosure rule).")
            });
        }
        if self.secondary {
            table.notes.push(format!(
                "{SECONDARY_MARKER} marks a cell withheld so that a suppressed count cannot be derived from the other cells of its column, or an SMD withheld because its variable has a cell of 1 to {upper} persons."
            ));
        }
    }
}

/// The rows of one variable, shared by every sample.
struct Layout {
    kind: Kind,
    missing_row: bool,
    /// (level, statistic) per row.
    rows: Vec<(String, &'static str)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Continuous {
        nonnormal: bool,
    },
    /// Two levels: one row, the second level.
    TwoLevels,
    /// A header row, then one row per level.
    Levels(usize),
}

impl Layout {
    fn of(variable: &VariableSummary, samples: &[Option<&VariableSummary>]) -> Layout {
        let missing_row = samples
            .iter()
            .flatten()
            .any(|v| v.missing.treated.persons + v.missing.control.persons > 0);
        let (kind, mut rows) = match &variable.summary {
            Summary::Continuous { nonnormal, .. } => {
                let statistic = if *nonnormal {
                    "median [IQR]"
                } else {
                    "mean (SD)"
                };
                (
                    Kind::Continuous {
                        nonnormal: *nonnormal,
                    },
                    vec![(String::new(), statistic)],
                )
            }
            Summary::Categorical { levels } if levels.len() == 2 => {
                (Kind::TwoLevels, vec![(levels[1].level.clone(), "n (%)")])
            }
            Summary::Categorical { levels } => {
                let rows = std::iter::once((String::new(), "n (%)"))
                    .chain(levels.iter().map(|l| (l.level.clone(), "n (%)")))
                    .collect();
                (Kind::Levels(levels.len()), rows)
            }
        };
        if missing_row {
            rows.push(("missing".into(), "n"));
        }
        Layout {
            kind,
            missing_row,
            rows,
        }
    }

    /// Whether a sample's summary of the variable has this layout's shape.
    fn fits(&self, variable: &VariableSummary) -> bool {
        match (&variable.summary, self.kind) {
            (Summary::Continuous { .. }, Kind::Continuous { .. }) => true,
            (Summary::Categorical { levels }, Kind::TwoLevels) => levels.len() == 2,
            (Summary::Categorical { levels }, Kind::Levels(k)) => levels.len() == k,
            _ => false,
        }
    }
}

/// How one count of a group column is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mark {
    Show,
    /// Rests on 1 to threshold − 1 persons.
    Primary,
    /// Withheld so that a primary one cannot be derived.
    Secondary,
}

/// One term of `n = Σ levels + missing` in a group column.
#[derive(Debug, Clone, Copy)]
struct Part {
    persons: usize,
    /// False for terms the table does not show (the first level of a two-level
    /// variable, the number with a value of a continuous variable).
    shown: bool,
}

fn small(persons: usize, threshold: u64) -> bool {
    disclosure::must_suppress(persons as u64, threshold)
}

/// Primary and secondary suppression of the parts of one group column whose total
/// is shown (`total_known`).
fn suppress(parts: &[Part], total_known: bool, threshold: u64) -> Vec<Mark> {
    let mut marks: Vec<Mark> = parts
        .iter()
        .map(|p| {
            if p.shown && small(p.persons, threshold) {
                Mark::Primary
            } else {
                Mark::Show
            }
        })
        .collect();
    let unknown: Vec<&Part> = parts
        .iter()
        .zip(&marks)
        .filter(|(p, m)| !p.shown || **m == Mark::Primary)
        .map(|(p, _)| p)
        .collect();
    let derivable =
        total_known && !unknown.is_empty() && unknown.iter().all(|p| small(p.persons, threshold));
    if derivable {
        let smallest_other = (0..parts.len())
            .filter(|&i| parts[i].shown && marks[i] == Mark::Show && parts[i].persons > 0)
            .min_by_key(|&i| parts[i].persons);
        if let Some(i) = smallest_other {
            marks[i] = Mark::Secondary;
        }
    }
    marks
}

/// The three cells (treated, control, SMD) of every row of one variable in one sample.
fn sample_cells(
    layout: &Layout,
    sample: &TableOne,
    variable: &VariableSummary,
    rule: Rule,
    marks: &mut Marks,
) -> Vec<[Cell; 3]> {
    let threshold = rule.threshold;
    let weighted = sample.weighted;
    let totals = [sample.n.treated, sample.n.control];
    let missing = [variable.missing.treated, variable.missing.control];
    // columns[g] = the cells of group g, one per row.
    let mut columns: [Vec<Cell>; 2] = [Vec::new(), Vec::new()];
    let mut smd_withheld = false;
    for g in 0..2 {
        let total_known = !small(totals[g].persons, threshold);
        // Without a missing row every group's missing count is known to be 0.
        let missing_part = Part {
            persons: missing[g].persons,
            shown: true,
        };
        let cells = &mut columns[g];
        let missing_mark = match &variable.summary {
            Summary::Continuous { stats, .. } => {
                let stats = if g == 0 { stats.treated } else { stats.control };
                let present = Part {
                    persons: stats.map_or(0, |s| s.n.persons),
                    shown: false,
                };
                let m = suppress(&[present, missing_part], total_known, threshold);
                let nonnormal = matches!(layout.kind, Kind::Continuous { nonnormal: true });
                cells.push(match stats {
                    None => Cell::Missing,
                    Some(s) if small(s.n.persons, threshold) => {
                        smd_withheld = true;
                        marks.primary = true;
                        Cell::Text(disclosure::marker(threshold))
                    }
                    Some(s) => Cell::Text(continuous_text(&s, nonnormal)),
                });
                m[1]
            }
            Summary::Categorical { levels } => {
                let mut parts: Vec<Part> = levels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| Part {
                        persons: level_of(l, g).n.persons,
                        shown: !(layout.kind == Kind::TwoLevels && i == 0),
                    })
                    .collect();
                smd_withheld |= parts.iter().any(|p| small(p.persons, threshold));
                parts.push(missing_part);
                let m = suppress(&parts, total_known, threshold);
                if matches!(layout.kind, Kind::Levels(_)) {
                    cells.push(Cell::Missing);
                }
                for (i, level) in levels.iter().enumerate() {
                    if parts[i].shown {
                        let count = level_of(level, g);
                        cells.push(match m[i] {
                            Mark::Show => Cell::Text(count_percent_text(
                                count.n,
                                count.percent,
                                weighted,
                                rule,
                            )),
                            mark => marked(mark, threshold, marks),
                        });
                    }
                }
                m[levels.len()]
            }
        };
        if layout.missing_row {
            cells.push(match (missing_mark, weighted) {
                (Mark::Secondary, _) => marked(Mark::Secondary, threshold, marks),
                (_, false) => Cell::Count(missing[g].persons as u64),
                (Mark::Primary, true) => marked(Mark::Primary, threshold, marks),
                (Mark::Show, true) => {
                    Cell::number(rule.weighted(missing[g].weighted), WEIGHTED_DECIMALS)
                }
            });
        }
    }
    let smd = match variable.smd {
        Some(_) if smd_withheld => marked(Mark::Secondary, threshold, marks),
        Some(v) if v.is_infinite() => Cell::text("Inf"),
        other => Cell::maybe(other, SMD_DECIMALS),
    };
    let [treated, control] = columns;
    treated
        .into_iter()
        .zip(control)
        .enumerate()
        .map(|(r, (t, c))| {
            let smd = if r == 0 { smd.clone() } else { Cell::Missing };
            [t, c, smd]
        })
        .collect()
}

fn level_of(level: &LevelStats, group: usize) -> LevelCount {
    if group == 0 {
        level.count.treated
    } else {
        level.count.control
    }
}

fn marked(mark: Mark, threshold: u64, marks: &mut Marks) -> Cell {
    match mark {
        Mark::Secondary => {
            marks.secondary = true;
            Cell::text(SECONDARY_MARKER)
        }
        _ => {
            marks.primary = true;
            Cell::Text(disclosure::marker(threshold))
        }
    }
}

/// The `n` row: persons (a [`Cell::Count`]) or the sum of weights, without decimals
/// when it is a whole number.
fn group_size(tally: Tally, weighted: bool, rule: Rule, marks: &mut Marks) -> Cell {
    let threshold = rule.threshold;
    if !weighted {
        return Cell::Count(tally.persons as u64);
    }
    if small(tally.persons, threshold) {
        return marked(Mark::Primary, threshold, marks);
    }
    let whole = (tally.weighted - tally.weighted.round()).abs() <= 1e-9 * tally.weighted.max(1.0);
    let sum = if whole {
        rule.weighted(tally.weighted.round())
    } else {
        tally.weighted
    };
    Cell::number(sum, if whole { 0 } else { WEIGHTED_DECIMALS })
}

/// A count as shown (rounded by `rule`; a sum of weights only when it is whole). The
/// percentage beside it stays that of the unrounded count.
fn count_text(n: Tally, weighted: bool, rule: Rule) -> String {
    if weighted {
        format!("{:.WEIGHTED_DECIMALS$}", rule.weighted(n.weighted))
    } else {
        disclosure::rounded(n.persons as u64, rule.round_to).to_string()
    }
}

fn count_percent_text(n: Tally, percent: Option<f64>, weighted: bool, rule: Rule) -> String {
    let count = count_text(n, weighted, rule);
    match percent {
        Some(p) => format!("{count} ({p:.PERCENT_DECIMALS$})"),
        None => count,
    }
}

fn continuous_text(s: &ContinuousStats, nonnormal: bool) -> String {
    const D: usize = CONTINUOUS_DECIMALS;
    if nonnormal {
        format!("{:.D$} [{:.D$}, {:.D$}]", s.median, s.q1, s.q3)
    } else {
        match s.sd {
            Some(sd) => format!("{:.D$} ({sd:.D$})", s.mean),
            None => format!("{:.D$} (NA)", s.mean),
        }
    }
}

#[cfg(test)]
mod tests;
