//! Where an error says the input is wrong, and how it says it: planted inputs through the
//! real binary.
//!
//! Row numbers are a spreadsheet's on every reading path (the README's "Row numbers"):
//! blank lines counted but not records, a blank line before the header, CRLF and lone CR
//! line endings, quoted values spanning lines, Parquet records from row 2. And every
//! refusal of bad input has one form: exit 2, stderr starting with `error: `, then
//! `FILE, row R, column C: what was found — what was expected` where a cell is to blame,
//! with an operating system's reason said once.

mod common;

use std::path::Path;

use common::*;

/// One planted input: `setup` writes it into the case's folder (the binary runs there)
/// and returns the arguments.
struct Case {
    name: &'static str,
    setup: fn(&Path, &Path) -> Vec<String>,
    /// The exit code.
    code: i32,
    /// The file named in the message.
    file: &'static str,
    /// `Some((row, column))` when a cell is to blame: the message must hold
    /// `FILE, row R, column C: ` with `—` after it.
    cell: Option<(usize, &'static str)>,
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("folder");
    }
    std::fs::write(path, contents).expect("write");
}

/// The simulated extracts copied to `dir/x`, with `table` replaced by `edit` of its text.
fn extracts_with(dir: &Path, base: &Path, table: &str, edit: impl FnOnce(&str) -> String) {
    let x = dir.join("x");
    std::fs::create_dir_all(&x).expect("folder");
    for entry in std::fs::read_dir(base).expect("base").flatten() {
        std::fs::copy(entry.path(), x.join(entry.file_name())).expect("copy");
    }
    let path = x.join(format!("{table}.csv"));
    let text = std::fs::read_to_string(&path).expect("table");
    std::fs::write(&path, edit(&text)).expect("write");
}

/// The lines of a table (without line endings).
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// Sets field `column` of line `line` (1 = the header line) to `value`.
fn set(lines: &mut [String], line: usize, column: &str, value: &str) {
    let k = lines[0]
        .split(',')
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    let mut fields: Vec<String> = lines[line - 1].split(',').map(str::to_string).collect();
    fields[k] = value.to_string();
    lines[line - 1] = fields.join(",");
}

/// Inserts `n` blank lines before line `line` (1 = the first line).
fn blank_before(lines: &mut Vec<String>, line: usize, n: usize) {
    for _ in 0..n {
        lines.insert(line - 1, String::new());
    }
}

fn join(lines: &[String], ending: &str) -> String {
    lines.join(ending) + ending
}

/// 40 units × 6 periods, as in `tests/bad_inputs.rs`, with a weight column `w`.
fn panel() -> Vec<String> {
    let mut out = vec!["unit,period,treated_post,y,x,region,w".to_string()];
    let mut state: u64 = 17;
    for unit in 0..40 {
        for period in 0..6 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let noise = (state >> 33) as f64 / (1u64 << 31) as f64;
            let treated = unit < 20;
            let post = period >= 3;
            let y = 2.0 + 0.1 * period as f64 + if treated && post { 1.5 } else { 0.0 } + noise;
            let x = (unit * 7 + period * 3) % 11;
            let region = ["north", "south", "east"][unit % 3];
            out.push(format!(
                "{unit},{period},{},{y:.4},{x},{region},1",
                u8::from(treated && post)
            ));
        }
    }
    out
}

/// 60 units, one row each, for `match`: id, treated, x, z.
fn units() -> Vec<String> {
    let mut out = vec!["id,treated,x,z".to_string()];
    for i in 0..60 {
        let treated = u8::from(i % 3 == 0);
        out.push(format!("{i},{treated},{},{}", (i * 7) % 13, (i * 5) % 11));
    }
    out
}

const DID: &str = "y ~ treated_post | unit + period";

fn cases() -> Vec<Case> {
    vec![
        // ---- the generic reader (did, mixed, match)
        Case {
            name: "did: two blank lines in the middle",
            code: 2,
            file: "panel.csv",
            cell: Some((14, "y")),
            setup: |d, _| {
                let mut l = panel();
                set(&mut l, 12, "y", "abc");
                blank_before(&mut l, 6, 2);
                write(d, "panel.csv", join(&l, "\n"));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        },
        Case {
            name: "did: blank lines right before the bad row and at the end",
            code: 2,
            file: "panel.csv",
            cell: Some((15, "y")),
            setup: |d, _| {
                let mut l = panel();
                set(&mut l, 12, "y", "abc");
                blank_before(&mut l, 12, 3);
                l.extend(["".to_string(), "".to_string()]);
                write(d, "panel.csv", join(&l, "\n"));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        },
        Case {
            name: "did: CRLF with a blank line before the header",
            code: 2,
            file: "panel.csv",
            cell: Some((13, "y")),
            setup: |d, _| {
                let mut l = panel();
                set(&mut l, 12, "y", "abc");
                blank_before(&mut l, 1, 1);
                write(d, "panel.csv", join(&l, "\r\n"));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        },
        Case {
            name: "did: a quoted value spanning lines above the bad row",
            code: 2,
            file: "panel.csv",
            cell: Some((12, "y")),
            setup: |d, _| {
                let mut l = panel();
                set(&mut l, 12, "y", "abc");
                set(&mut l, 4, "region", "\"north\nwest\"");
                write(d, "panel.csv", join(&l, "\n"));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        },
        Case {
            name: "did: lone CR line endings and a blank line",
            code: 2,
            file: "panel.csv",
            cell: Some((13, "y")),
            setup: |d, _| {
                let mut l = panel();
                set(&mut l, 12, "y", "abc");
                blank_before(&mut l, 4, 1);
                write(d, "panel.csv", join(&l, "\r"));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        },
        Case {
            name: "did: a negative weight below a blank line",
            code: 2,
            file: "panel.csv",
            cell: Some((22, "w")),
            setup: |d, _| {
                let mut l = panel();
                set(&mut l, 21, "w", "-1");
                blank_before(&mut l, 10, 1);
                write(d, "panel.csv", join(&l, "\n"));
                args(&[
                    "did",
                    "--data",
                    "panel.csv",
                    "--formula",
                    DID,
                    "--weights",
                    "w",
                ])
            },
        },
        Case {
            name: "mixed: Inf below blank lines",
            code: 2,
            file: "panel.csv",
            cell: Some((9, "y")),
            setup: |d, _| {
                let mut l = panel();
                set(&mut l, 7, "y", "Inf");
                blank_before(&mut l, 3, 2);
                write(d, "panel.csv", join(&l, "\n"));
                args(&[
                    "mixed",
                    "--data",
                    "panel.csv",
                    "--formula",
                    "y ~ period + (1 | unit)",
                ])
            },
        },
        Case {
            name: "match: a blank line is skipped, not a row of missing values",
            code: 0,
            file: "units.csv",
            cell: None,
            setup: |d, _| {
                let mut l = units();
                blank_before(&mut l, 20, 1);
                write(d, "units.csv", join(&l, "\n"));
                args(&[
                    "match",
                    "--data",
                    "units.csv",
                    "--formula",
                    "treated ~ x + z",
                    "--id",
                    "id",
                ])
            },
        },
        Case {
            name: "match: a missing covariate below a blank line",
            code: 2,
            file: "units.csv",
            cell: Some((10, "x")),
            setup: |d, _| {
                let mut l = units();
                set(&mut l, 9, "x", "");
                blank_before(&mut l, 5, 1);
                write(d, "units.csv", join(&l, "\n"));
                args(&[
                    "match",
                    "--data",
                    "units.csv",
                    "--formula",
                    "treated ~ x + z",
                    "--id",
                    "id",
                ])
            },
        },
        Case {
            name: "match: a repeated id below blank lines",
            code: 2,
            file: "units.csv",
            cell: Some((33, "id")),
            setup: |d, _| {
                let mut l = units();
                set(&mut l, 31, "id", "3");
                blank_before(&mut l, 20, 2);
                write(d, "units.csv", join(&l, "\n"));
                args(&[
                    "match",
                    "--data",
                    "units.csv",
                    "--formula",
                    "treated ~ x + z",
                    "--id",
                    "id",
                ])
            },
        },
        Case {
            name: "match: a treatment that is not 0/1, CRLF and blank lines",
            code: 2,
            file: "units.csv",
            cell: Some((8, "treated")),
            setup: |d, _| {
                let mut l = units();
                set(&mut l, 7, "treated", "2");
                blank_before(&mut l, 2, 1);
                write(d, "units.csv", join(&l, "\r\n"));
                args(&[
                    "match",
                    "--data",
                    "units.csv",
                    "--formula",
                    "treated ~ x + z",
                ])
            },
        },
        // ---- the extract reader (validate, analyse, score)
        Case {
            name: "validate: two blank lines in the middle",
            code: 2,
            file: "persons.csv",
            cell: Some((12, "sex")),
            setup: |d, base| {
                extracts_with(d, base, "persons", |t| {
                    let mut l = lines(t);
                    set(&mut l, 10, "sex", "X");
                    blank_before(&mut l, 5, 2);
                    join(&l, "\n")
                });
                args(&["validate", "x"])
            },
        },
        Case {
            name: "validate: blank lines right before the bad row",
            code: 2,
            file: "persons.csv",
            cell: Some((12, "sex")),
            setup: |d, base| {
                extracts_with(d, base, "persons", |t| {
                    let mut l = lines(t);
                    set(&mut l, 10, "sex", "X");
                    blank_before(&mut l, 10, 2);
                    join(&l, "\n")
                });
                args(&["validate", "x"])
            },
        },
        Case {
            name: "validate: CRLF with a blank line before the header",
            code: 2,
            file: "persons.csv",
            cell: Some((11, "sex")),
            setup: |d, base| {
                extracts_with(d, base, "persons", |t| {
                    let mut l = lines(t);
                    set(&mut l, 10, "sex", "X");
                    blank_before(&mut l, 1, 1);
                    join(&l, "\r\n")
                });
                args(&["validate", "x"])
            },
        },
        Case {
            name: "validate: lone CR line endings and a blank line",
            code: 2,
            file: "persons.csv",
            cell: Some((11, "sex")),
            setup: |d, base| {
                extracts_with(d, base, "persons", |t| {
                    let mut l = lines(t);
                    set(&mut l, 10, "sex", "X");
                    blank_before(&mut l, 4, 1);
                    join(&l, "\r")
                });
                args(&["validate", "x"])
            },
        },
        Case {
            name: "validate: a quoted value spanning lines above the bad row",
            code: 2,
            file: "covariates.csv",
            cell: Some((8, "charlson_index")),
            setup: |d, base| {
                extracts_with(d, base, "covariates", |t| {
                    let mut l = lines(t);
                    set(&mut l, 8, "charlson_index", "-1");
                    set(&mut l, 3, "practice_id", "\"GP\n0007\"");
                    join(&l, "\n")
                });
                args(&["validate", "x"])
            },
        },
        Case {
            name: "validate: a repeated person below a blank line (a check across rows)",
            code: 2,
            file: "persons.csv",
            cell: Some((11, "person_id")),
            setup: |d, base| {
                extracts_with(d, base, "persons", |t| {
                    let mut l = lines(t);
                    let first = l[4].split(',').next().unwrap_or_default().to_string();
                    set(&mut l, 10, "person_id", &first);
                    blank_before(&mut l, 7, 1);
                    join(&l, "\n")
                });
                args(&["validate", "x"])
            },
        },
        Case {
            name: "validate: a Parquet record at index 7 is row 9",
            code: 2,
            file: "persons.parquet",
            cell: Some((9, "sex")),
            setup: |d, base| {
                extracts_with(d, base, "persons", |t| t.to_string());
                let csv = d.join("x/persons.csv");
                let mut l = lines(&std::fs::read_to_string(&csv).expect("persons"));
                set(&mut l, 9, "sex", "X");
                write_parquet(&join(&l, "\n"), &d.join("x/persons.parquet"));
                std::fs::remove_file(csv).expect("remove");
                args(&["validate", "x"])
            },
        },
        Case {
            name: "score: blank lines before a response out of range",
            code: 2,
            file: "proms.csv",
            cell: Some((7, "ucla_1")),
            setup: |d, base| {
                let text = std::fs::read_to_string(base.join("proms.csv")).expect("proms");
                let mut l = lines(&text);
                set(&mut l, 5, "ucla_1", "7");
                blank_before(&mut l, 3, 2);
                write(d, "proms.csv", join(&l, "\n"));
                args(&["score", "--proms", "proms.csv"])
            },
        },
        // ---- the error style elsewhere
        Case {
            name: "did: a file that does not exist",
            code: 2,
            file: "absent.csv",
            cell: None,
            setup: |_, _| args(&["did", "--data", "absent.csv", "--formula", DID]),
        },
        Case {
            name: "mixed: a folder for a file",
            code: 2,
            file: "folder.csv",
            cell: None,
            setup: |d, _| {
                std::fs::create_dir_all(d.join("folder.csv")).expect("folder");
                args(&[
                    "mixed",
                    "--data",
                    "folder.csv",
                    "--formula",
                    "y ~ period + (1 | unit)",
                ])
            },
        },
        Case {
            name: "did: a repeated column name",
            code: 2,
            file: "panel.csv",
            cell: Some((1, "y")),
            setup: |d, _| {
                let mut l = panel();
                l[0] = l[0].replace("x,", "y,");
                write(d, "panel.csv", join(&l, "\n"));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        },
        Case {
            name: "did: bytes that are not UTF-8 below a blank line",
            code: 2,
            file: "panel.csv",
            cell: Some((2, "region")),
            setup: |d, _| {
                let mut l = panel();
                blank_before(&mut l, 3, 1);
                let mut bytes = join(&l, "\n").into_bytes();
                // The first "north" (line 2) begins with a Latin-1 byte.
                let at = bytes.windows(5).position(|w| w == b"north").expect("north");
                bytes[at] = 0xF8;
                write(d, "panel.csv", bytes);
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        },
        Case {
            name: "validate: a missing table file named explicitly",
            code: 2,
            file: "nowhere.csv",
            cell: None,
            setup: |d, base| {
                extracts_with(d, base, "persons", |t| t.to_string());
                args(&["validate", "x", "--persons", "nowhere.csv"])
            },
        },
    ]
}

/// Writes a comma-separated table as Parquet (every column as polars infers it).
fn write_parquet(text: &str, path: &Path) {
    use polars::prelude::*;
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .into_reader_with_file_handle(std::io::Cursor::new(text.as_bytes().to_vec()))
        .finish()
        .expect("read CSV");
    let file = std::fs::File::create(path).expect("create Parquet");
    ParquetWriter::new(file)
        .finish(&mut frame)
        .expect("write Parquet");
}

/// Runs one case; `Err` says what is wrong with its output.
fn check(case: &Case, base: &Path) -> Result<(), String> {
    let scratch = Scratch::new("error-locations");
    let arguments = (case.setup)(scratch.path(), base);
    let out = run(shine().args(&arguments).current_dir(scratch.path()));
    let shown = || format!("stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    if out.stderr.contains("panicked") {
        return Err(format!("panicked\n{}", shown()));
    }
    if out.code != Some(case.code) {
        return Err(format!(
            "exit code {:?}, expected {}\n{}",
            out.code,
            case.code,
            shown()
        ));
    }
    if case.code == 0 {
        return Ok(());
    }
    // `score` and `analyse` print the validation report on stderr before the error.
    let report_first = arguments
        .first()
        .is_some_and(|c| c == "score" || c == "analyse");
    let first = if report_first {
        out.stderr.lines().find(|l| l.starts_with("error: "))
    } else {
        out.stderr.lines().next()
    }
    .unwrap_or_default();
    if !first.starts_with("error: ") {
        return Err(format!("stderr does not start with `error: `\n{}", shown()));
    }
    if !first.contains(case.file) {
        return Err(format!(
            "the first line does not name {}\n{}",
            case.file,
            shown()
        ));
    }
    if out.stderr.matches("(os error").count() > 1 {
        return Err(format!("the OS error is said more than once\n{}", shown()));
    }
    if let Some((row, column)) = case.cell {
        let place = format!("{}, row {row}, column {column}: ", case.file);
        let Some(at) = first.find(&place) else {
            return Err(format!(
                "the first line does not hold `{place}`\n{}",
                shown()
            ));
        };
        if !first[at..].contains(" — ") {
            return Err(format!(
                "no `found — expected` after the place\n{}",
                shown()
            ));
        }
    }
    Ok(())
}

#[test]
fn rows_are_the_spreadsheets_and_every_error_has_one_style() {
    let base = Scratch::new("error-locations-base");
    run_ok(
        shine()
            .args([
                "simulate",
                "--quiet",
                "--referred",
                "12",
                "--pool",
                "300",
                "--seed",
                "5",
                "--out",
            ])
            .arg(base.join("s")),
    );
    let base = base.join("s");
    let failures: Vec<String> = cases()
        .iter()
        .filter_map(|case| {
            check(case, &base)
                .err()
                .map(|e| format!("{}: {e}", case.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
