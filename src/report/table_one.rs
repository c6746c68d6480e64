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

use super::disclosure;
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
    threshold: u64,
) -> ResultTable {
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
            n_row.push(group_size(tally, s.weighted, threshold, &mut marks));
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
                Some(v) if layout.fits(v) => sample_cells(&layout, s, v, threshold, &mut marks),
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
    threshold: u64,
    marks: &mut Marks,
) -> Vec<[Cell; 3]> {
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
                            Mark::Show => {
                                Cell::Text(count_percent_text(count.n, count.percent, weighted))
                            }
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
                (Mark::Show, true) => Cell::number(missing[g].weighted, WEIGHTED_DECIMALS),
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
fn group_size(tally: Tally, weighted: bool, threshold: u64, marks: &mut Marks) -> Cell {
    if !weighted {
        return Cell::Count(tally.persons as u64);
    }
    if small(tally.persons, threshold) {
        return marked(Mark::Primary, threshold, marks);
    }
    let whole = (tally.weighted - tally.weighted.round()).abs() <= 1e-9 * tally.weighted.max(1.0);
    Cell::number(tally.weighted, if whole { 0 } else { WEIGHTED_DECIMALS })
}

fn count_text(n: Tally, weighted: bool) -> String {
    if weighted {
        format!("{:.WEIGHTED_DECIMALS$}", n.weighted)
    } else {
        n.persons.to_string()
    }
}

fn count_percent_text(n: Tally, percent: Option<f64>, weighted: bool) -> String {
    let count = count_text(n, weighted);
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
mod tests {
    use super::*;
    use crate::stats::table_one::ByGroup;

    const THRESHOLD: u64 = disclosure::DEFAULT_THRESHOLD;

    fn persons(n: usize) -> Tally {
        Tally {
            persons: n,
            weighted: n as f64,
        }
    }

    fn pair<T>(treated: T, control: T) -> ByGroup<T> {
        ByGroup { treated, control }
    }

    fn stats(n: Tally, mean: f64, sd: f64, quartiles: [f64; 3]) -> ContinuousStats {
        ContinuousStats {
            n,
            mean,
            sd: Some(sd),
            q1: quartiles[0],
            median: quartiles[1],
            q3: quartiles[2],
        }
    }

    fn continuous(
        name: &str,
        nonnormal: bool,
        s: ByGroup<Option<ContinuousStats>>,
        missing: ByGroup<Tally>,
        smd: Option<f64>,
    ) -> VariableSummary {
        VariableSummary {
            name: name.into(),
            summary: Summary::Continuous {
                nonnormal,
                stats: s,
            },
            missing,
            smd,
        }
    }

    /// Levels as (label, treated, control) tallies; percentages of their sums.
    fn categorical(
        name: &str,
        levels: &[(&str, Tally, Tally)],
        missing: ByGroup<Tally>,
        smd: Option<f64>,
    ) -> VariableSummary {
        let total = |pick: fn(&(&str, Tally, Tally)) -> f64| levels.iter().map(pick).sum::<f64>();
        let (tt, tc) = (total(|l| l.1.weighted), total(|l| l.2.weighted));
        let levels = levels
            .iter()
            .map(|&(label, t, c)| LevelStats {
                level: label.into(),
                count: pair(
                    LevelCount {
                        n: t,
                        percent: Some(100.0 * t.weighted / tt),
                    },
                    LevelCount {
                        n: c,
                        percent: Some(100.0 * c.weighted / tc),
                    },
                ),
            })
            .collect();
        VariableSummary {
            name: name.into(),
            summary: Summary::Categorical { levels },
            missing,
            smd,
        }
    }

    fn none_missing() -> ByGroup<Tally> {
        pair(persons(0), persons(0))
    }

    fn before_table() -> TableOne {
        TableOne {
            weighted: false,
            n: pair(persons(40), persons(60)),
            variables: vec![
                continuous(
                    "age",
                    false,
                    pair(
                        Some(stats(persons(40), 54.2, 12.3456, [0.0; 3])),
                        Some(stats(persons(55), 50.0, 11.0, [0.0; 3])),
                    ),
                    pair(persons(0), persons(5)),
                    Some(0.123_456_7),
                ),
                continuous(
                    "bmi",
                    true,
                    pair(
                        Some(stats(persons(40), 0.0, 1.0, [22.25, 25.5, 28.75])),
                        Some(stats(persons(60), 0.0, 1.0, [21.0, 24.0, 27.5])),
                    ),
                    none_missing(),
                    Some(0.25),
                ),
                categorical(
                    "sex",
                    &[
                        ("male", persons(18), persons(30)),
                        ("female", persons(22), persons(30)),
                    ],
                    none_missing(),
                    Some(0.1),
                ),
                categorical(
                    "education",
                    &[
                        ("low", persons(10), persons(20)),
                        ("mid", persons(15), persons(25)),
                        ("high", persons(15), persons(15)),
                    ],
                    none_missing(),
                    None,
                ),
            ],
        }
    }

    #[test]
    fn unweighted_table_is_laid_out_as_tableone_prints_it() {
        let t = table_one_table(&before_table(), None, ("Referred", "Comparison"), THRESHOLD);
        assert_eq!(
            t.to_csv(THRESHOLD),
            "variable,level,statistic,Referred,Comparison,SMD\n\
             n,,n,40,60,\n\
             age,,mean (SD),54.20 (12.35),50.00 (11.00),0.1234567\n\
             age,missing,n,0,5,\n\
             bmi,,median [IQR],\"25.50 [22.25, 28.75]\",\"24.00 [21.00, 27.50]\",0.25\n\
             sex,female,n (%),22 (55.0),30 (50.0),0.1\n\
             education,,n (%),,,\n\
             education,low,n (%),10 (25.0),20 (33.3),\n\
             education,mid,n (%),15 (37.5),25 (41.7),\n\
             education,high,n (%),15 (37.5),15 (25.0),\n"
        );
        let md = t.to_markdown(THRESHOLD);
        assert!(
            md.contains("| age |  | mean (SD) | 54.20 (12.35) | 50.00 (11.00) | 0.123 |"),
            "{md}"
        );
        assert!(md.contains(
            "| bmi |  | median [IQR] | 25.50 [22.25, 28.75] | 24.00 [21.00, 27.50] | 0.250 |"
        ));
        assert!(md.contains("missing: persons without a value"));
        assert!(!md.contains("<5") && !md.contains(SECONDARY_MARKER));
        assert!(!md.contains("Weighted columns"));
    }

    /// After matching: sums of weights with 1 decimal, the n row without decimals
    /// when whole; the missing row appears in both samples.
    #[test]
    fn weighted_after_columns_show_sums_of_weights() {
        let before = before_table();
        let mut after = before_table();
        after.weighted = true;
        after.n = pair(
            persons(40),
            Tally {
                persons: 45,
                weighted: 39.5,
            },
        );
        after.variables[2] = categorical(
            "sex",
            &[
                (
                    "male",
                    persons(18),
                    Tally {
                        persons: 20,
                        weighted: 17.5,
                    },
                ),
                (
                    "female",
                    persons(22),
                    Tally {
                        persons: 25,
                        weighted: 22.0,
                    },
                ),
            ],
            none_missing(),
            Some(0.02),
        );
        after.variables[0].missing = pair(
            persons(0),
            Tally {
                persons: 6,
                weighted: 5.25,
            },
        );
        let t = table_one_table(&before, Some(&after), ("R", "C"), THRESHOLD);
        let csv = t.to_csv(THRESHOLD);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "variable,level,statistic,R before,C before,SMD before,R after,C after,SMD after"
        );
        assert_eq!(lines[1], "n,,n,40,60,,40,39.5,");
        assert_eq!(lines[3], "age,missing,n,0,5,,0.0,5.2,");
        assert_eq!(
            lines[5],
            "sex,female,n (%),22 (55.0),30 (50.0),0.1,22.0 (55.0),22.0 (55.7),0.02"
        );
        assert!(t.notes.iter().any(|n| n.contains("svyCreateTableOne")));
    }

    #[test]
    fn small_cells_are_suppressed_whole_and_cannot_be_derived() {
        let mut table = before_table();
        // education: 3 treated persons at "low" → "<5"; the smallest other treated
        // cell ("mid", 17) is withheld, the SMD too.
        table.variables[3] = categorical(
            "education",
            &[
                ("low", persons(3), persons(20)),
                ("mid", persons(17), persons(25)),
                ("high", persons(20), persons(15)),
            ],
            none_missing(),
            Some(0.4),
        );
        // sex: the hidden first level has 2 treated persons, so "female" (38) would
        // give it back.
        table.variables[2] = categorical(
            "sex",
            &[
                ("male", persons(2), persons(30)),
                ("female", persons(38), persons(30)),
            ],
            none_missing(),
            Some(0.9),
        );
        // age: 3 treated persons with a value; the mean is suppressed and the missing
        // count (37) would give the 3 back.
        table.variables[0] = continuous(
            "age",
            false,
            pair(
                Some(stats(persons(3), 54.2, 12.0, [0.0; 3])),
                Some(stats(persons(55), 50.0, 11.0, [0.0; 3])),
            ),
            pair(persons(37), persons(5)),
            Some(0.3),
        );
        // bmi: 2 treated missing — a count, suppressed when written; nothing to derive.
        table.variables[1].missing = pair(persons(2), persons(0));
        let t = table_one_table(&table, None, ("T", "C"), THRESHOLD);
        let csv = t.to_csv(THRESHOLD);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[2], "age,,mean (SD),<5,50.00 (11.00),[s]");
        assert_eq!(lines[3], "age,missing,n,[s],5,");
        assert_eq!(
            lines[4],
            "bmi,,median [IQR],\"25.50 [22.25, 28.75]\",\"24.00 [21.00, 27.50]\",0.25"
        );
        assert_eq!(lines[5], "bmi,missing,n,<5,0,");
        assert_eq!(lines[6], "sex,female,n (%),[s],30 (50.0),[s]");
        assert_eq!(lines[7], "education,,n (%),,,[s]");
        assert_eq!(lines[8], "education,low,n (%),<5,20 (33.3),");
        assert_eq!(lines[9], "education,mid,n (%),[s],25 (41.7),");
        assert_eq!(lines[10], "education,high,n (%),20 (50.0),15 (25.0),");
        for leaked in ["(7.5)", "38 (", "17 (", "54.20", ",37,", ",2,"] {
            assert!(!csv.contains(leaked), "{leaked} in\n{csv}");
        }
        let md = t.to_markdown(THRESHOLD);
        assert!(md.contains("<5 marks a count of 1 to 4 suppressed"), "{md}");
        assert!(md.contains("<5 also replaces a whole n (%)"), "{md}");
        assert!(md.contains("[s] marks a cell withheld"), "{md}");
    }

    /// A weighted count is suppressed on the persons behind it, whatever its weight.
    #[test]
    fn weighted_cells_are_suppressed_on_persons() {
        let before = before_table();
        let mut after = before_table();
        after.weighted = true;
        after.n = pair(
            Tally {
                persons: 3,
                weighted: 9.0,
            },
            persons(60),
        );
        after.variables[0].missing = pair(
            Tally {
                persons: 2,
                weighted: 6.5,
            },
            persons(0),
        );
        let t = table_one_table(&before, Some(&after), ("T", "C"), THRESHOLD);
        let csv = t.to_csv(THRESHOLD);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[1], "n,,n,40,60,,<5,60,");
        assert_eq!(lines[3], "age,missing,n,0,5,,<5,0.0,");
        assert!(!csv.contains("6.5") && !csv.contains(",9,"));
        assert!(t.notes.iter().any(|n| n.starts_with("<5 replaces a whole")));
    }

    #[test]
    fn infinite_and_undefined_smds() {
        let mut table = before_table();
        table.variables[0].smd = Some(f64::INFINITY);
        table.variables[1].smd = None;
        let csv = table_one_table(&table, None, ("T", "C"), THRESHOLD).to_csv(THRESHOLD);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[2].ends_with(",Inf"), "{}", lines[2]);
        assert!(
            lines[4].ends_with(",\"24.00 [21.00, 27.50]\","),
            "{}",
            lines[4]
        );
    }

    /// Two suppressed cells summing to a known total of 2 would each be 1: a further
    /// cell is withheld whenever every unknown cell of a column is small.
    #[test]
    fn secondary_suppression_rule() {
        let part = |persons, shown| Part { persons, shown };
        let marks = suppress(&[part(1, true), part(1, true), part(30, true)], true, 5);
        assert_eq!(marks, [Mark::Primary, Mark::Primary, Mark::Secondary]);
        // A hidden zero discloses nothing.
        let marks = suppress(&[part(0, false), part(40, true), part(0, true)], true, 5);
        assert_eq!(marks, [Mark::Show; 3]);
        // A large hidden cell keeps a single suppressed one from being derived.
        let marks = suppress(&[part(35, false), part(3, true), part(2, true)], true, 5);
        assert_eq!(marks, [Mark::Show, Mark::Primary, Mark::Primary]);
        // Without a known total nothing can be derived.
        let marks = suppress(&[part(3, true), part(30, true)], false, 5);
        assert_eq!(marks, [Mark::Primary, Mark::Show]);
        // The smallest non-zero other cell is chosen.
        let marks = suppress(
            &[part(3, true), part(0, true), part(9, true), part(7, true)],
            true,
            5,
        );
        assert_eq!(
            marks,
            [Mark::Primary, Mark::Show, Mark::Show, Mark::Secondary]
        );
    }

    /// A stats table computed end to end renders without suppression markers when
    /// every cell has at least 5 persons.
    #[test]
    fn renders_a_computed_table() {
        use crate::stats::table_one::{table_one, Variable};
        let n = 40;
        let treated: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
        let x: Vec<f64> = (0..n).map(|i| f64::from(i as u32 % 7) + 0.5).collect();
        let codes: Vec<Option<u32>> = (0..n).map(|i| Some((i / 2 % 3) as u32)).collect();
        let levels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let vars = [
            Variable::Continuous {
                name: "x",
                values: &x,
                nonnormal: false,
            },
            Variable::Categorical {
                name: "g",
                codes: &codes,
                levels: &levels,
            },
        ];
        let before = table_one(&vars, &treated, None).expect("table");
        let w: Vec<f64> = (0..n).map(|i| if i % 4 == 1 { 0.5 } else { 1.0 }).collect();
        let after = table_one(&vars, &treated, Some(&w)).expect("table");
        let t = table_one_table(&before, Some(&after), ("T", "C"), THRESHOLD);
        assert_eq!(t.rows.len(), 1 + 1 + 4);
        let md = t.to_markdown(THRESHOLD);
        assert!(!md.contains("<5") && !md.contains(SECONDARY_MARKER), "{md}");
        assert!(
            md.contains("| n |  | n | 20 | 20 |  | 20 | 15 |  |"),
            "{md}"
        );
    }
}
