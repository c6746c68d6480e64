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
    use crate::stats::design::LevelCodes;
    use crate::stats::table_one::{table_one, Variable};
    let n = 40;
    let treated: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
    let x: Vec<f64> = (0..n).map(|i| f64::from(i as u32 % 7) + 0.5).collect();
    let codes: LevelCodes = (0..n).map(|i| Some((i / 2 % 3) as u32)).collect();
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
