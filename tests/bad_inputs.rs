//! Planted bad inputs through the real binary, one case per row: each must end with the
//! exit code the README gives (2 for bad input or usage, 1 for an analysis that cannot be
//! completed; 0 for the few inputs that are unusual but valid), a message naming the
//! file, row and column where there is one, no panic, within 30 seconds, and without
//! changing or removing any input file.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;
use sha2::{Digest, Sha256};

/// No bad input may keep the binary busy longer than this.
const TIME_LIMIT: Duration = Duration::from_secs(30);

/// One planted input: `setup` writes it into the case's folder and returns the
/// arguments; the run must exit with `code` and its output must hold every `needle`.
struct Case {
    name: &'static str,
    setup: fn(&Folder) -> Vec<String>,
    code: i32,
    needles: &'static [&'static str],
}

const fn case(
    name: &'static str,
    code: i32,
    needles: &'static [&'static str],
    setup: fn(&Folder) -> Vec<String>,
) -> Case {
    Case {
        name,
        setup,
        code,
        needles,
    }
}

/// The arguments, as owned strings.
fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A case's working folder (the binary runs inside it, so paths are relative), and the
/// small simulated extracts the case may copy.
struct Folder {
    scratch: Scratch,
    base: PathBuf,
}

impl Folder {
    fn path(&self) -> &Path {
        self.scratch.path()
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) {
        self.scratch.write(name, contents);
    }

    /// A table of the simulated extracts, as text.
    fn simulated(&self, table: &str) -> String {
        std::fs::read_to_string(self.base.join(format!("{table}.csv"))).expect("simulated table")
    }

    /// A copy of the small simulated extracts in `x/`.
    fn extracts(&self) {
        let copy = self.scratch.copy_of(&self.base, "x");
        assert!(copy.join("persons.csv").is_file());
    }

    /// The copied extracts with `table`'s text changed by `edit`.
    fn extracts_with(&self, table: &str, edit: impl FnOnce(String) -> String) {
        self.extracts();
        let path = self.path().join("x").join(format!("{table}.csv"));
        let text = std::fs::read_to_string(&path).expect("read table");
        std::fs::write(&path, edit(text)).expect("write table");
    }

    /// The copied extracts with the field `column` of spreadsheet row `row` of `table`
    /// replaced by `value`.
    fn extracts_with_cell(&self, table: &str, row: usize, column: &str, value: &str) {
        self.extracts_with(table, |text| set_cell(&text, row, column, value));
    }

    /// A small difference-in-differences panel in `panel.csv` with `edit` applied.
    fn panel_with(&self, edit: impl FnOnce(String) -> String) {
        self.write("panel.csv", edit(panel()));
    }
}

/// `text` (a comma-separated table) with one cell replaced; rows as a spreadsheet
/// numbers them (the header is row 1).
fn set_cell(text: &str, row: usize, column: &str, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let k = lines[0]
        .split(',')
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    let mut fields: Vec<String> = lines[row - 1].split(',').map(str::to_string).collect();
    fields[k] = value.to_string();
    lines[row - 1] = fields.join(",");
    lines.join("\n") + "\n"
}

/// The value of `column` in spreadsheet row `row` of a comma-separated table.
fn cell(text: &str, row: usize, column: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let k = lines[0]
        .split(',')
        .position(|c| c == column)
        .expect("column");
    lines[row - 1].split(',').nth(k).expect("field").to_string()
}

/// 40 units × 6 periods: unit, period, treated_post, y, x, region, id; values from a
/// fixed recurrence, so every run writes the same file.
fn panel() -> String {
    let mut text = String::from("unit,period,treated_post,y,x,region,treated\n");
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
            text.push_str(&format!(
                "{unit},{period},{},{y:.4},{x},{region},{}\n",
                u8::from(treated && post),
                u8::from(treated)
            ));
        }
    }
    text
}

/// A person of the pool (never referred) in the simulated extracts.
fn pool_person(d: &Folder) -> String {
    let referrals = d.simulated("referrals");
    d.simulated("persons")
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().expect("id").to_string())
        .find(|id| !referrals.contains(id.as_str()))
        .expect("a pool person")
}

/// A formula nested `depth` levels deep in parentheses or signs.
fn deep(open: &str, close: &str, depth: usize) -> String {
    format!(
        "y ~ {}x{} + (1 | unit)",
        open.repeat(depth),
        close.repeat(depth)
    )
}

/// A table of 50,000 rows whose column `g` has 50,000 levels.
fn many_levels(dir: &Folder) {
    let mut text = String::from("id,g,y,period,treated_post\n");
    for i in 0..50_000 {
        text.push_str(&format!("{i},L{i},{},{},{}\n", i % 7, i % 2, (i / 2) % 2));
    }
    dir.write("levels.csv", text);
}

fn fixture(name: &str) -> String {
    repo_path("tests/fixtures/bad_inputs")
        .join(name)
        .display()
        .to_string()
}

const DID: &str = "y ~ treated_post | unit + period";

fn cases() -> Vec<Case> {
    vec![
        // ---- extracts: the reader
        case("tab delimiter", 2, &["persons.csv"], |d| {
            d.extracts_with("persons", |t| t.replace(',', "\t"));
            args(&["validate", "x"])
        }),
        case("byte-order mark is read", 0, &["valid"], |d| {
            d.extracts_with("persons", |t| format!("\u{feff}{t}"));
            args(&["validate", "x"])
        }),
        case(
            "ragged row, a field too many",
            2,
            &["persons.csv", "row 3"],
            |d| {
                d.extracts_with("persons", |t| {
                    let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
                    lines[2].push_str(",extra");
                    lines.join("\n") + "\n"
                });
                args(&["validate", "x"])
            },
        ),
        case(
            "ragged row, fields missing",
            2,
            &["persons.csv", "row 3"],
            |d| {
                d.extracts_with("persons", |t| {
                    let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
                    lines[2] = lines[2].split(',').take(3).collect::<Vec<_>>().join(",");
                    lines.join("\n") + "\n"
                });
                args(&["validate", "x"])
            },
        ),
        case(
            "bad date",
            2,
            &["persons.csv", "row 3", "birth_date", "1990-13-45"],
            |d| {
                d.extracts_with_cell("persons", 3, "birth_date", "1990-13-45");
                args(&["validate", "x"])
            },
        ),
        case(
            "day that does not exist",
            2,
            &["contacts.csv", "row 2", "column date", "2023-02-29"],
            |d| {
                d.extracts_with_cell("contacts", 2, "date", "2023-02-29");
                args(&["validate", "x"])
            },
        ),
        case(
            "date in another format",
            2,
            &["referrals.csv", "row 2", "referral_date"],
            |d| {
                d.extracts_with_cell("referrals", 2, "referral_date", "24/04/2024");
                args(&["validate", "x"])
            },
        ),
        case(
            "negative count",
            2,
            &["covariates.csv", "row 2", "charlson_index", "-1"],
            |d| {
                d.extracts_with_cell("covariates", 2, "charlson_index", "-1");
                args(&["validate", "x"])
            },
        ),
        case(
            "number with a fraction where a whole number belongs",
            2,
            &["covariates.csv", "row 2", "year"],
            |d| {
                d.extracts_with_cell("covariates", 2, "year", "2022.5");
                args(&["validate", "x"])
            },
        ),
        case(
            "duplicate id",
            2,
            &["persons.csv", "row 3", "person_id"],
            |d| {
                let first = cell(&d.simulated("persons"), 2, "person_id");
                d.extracts_with_cell("persons", 3, "person_id", &first);
                args(&["validate", "x"])
            },
        ),
        case("empty id", 2, &["persons.csv", "row 2", "person_id"], |d| {
            d.extracts_with_cell("persons", 2, "person_id", "");
            args(&["validate", "x"])
        }),
        case(
            "unknown code",
            2,
            &["contacts.csv", "row 2", "contact_type", "gp_visit"],
            |d| {
                d.extracts_with_cell("contacts", 2, "contact_type", "gp_visit");
                args(&["validate", "x"])
            },
        ),
        case(
            "unknown sex",
            2,
            &["persons.csv", "row 3", "column sex", "X"],
            |d| {
                d.extracts_with_cell("persons", 3, "sex", "X");
                args(&["validate", "x"])
            },
        ),
        case("empty file", 2, &["persons.csv", "empty"], |d| {
            d.extracts_with("persons", |_| String::new());
            args(&["validate", "x"])
        }),
        case("header only", 2, &["persons.csv", "no data rows"], |d| {
            d.extracts_with("persons", |t| t.lines().next().unwrap().to_string() + "\n");
            args(&["validate", "x"])
        }),
        case("not UTF-8", 2, &["persons.csv", "row 3", "UTF-8"], |d| {
            d.extracts();
            let path = d.path().join("x/persons.csv");
            let text = std::fs::read_to_string(&path).unwrap();
            let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
            let at = lines[2].len() - 2;
            lines[2].splice(at..at, [0xF8u8]);
            std::fs::write(&path, lines.join(&b"\n"[..])).unwrap();
            args(&["validate", "x"])
        }),
        case("duplicated column name", 2, &["persons.csv", "sex"], |d| {
            d.extracts_with("persons", |t| t.replacen("origin", "sex", 1));
            args(&["validate", "x"])
        }),
        case(
            "required column missing",
            2,
            &["persons.csv", "origin"],
            |d| {
                d.extracts_with("persons", |t| t.replacen("origin", "origin_2", 1));
                args(&["validate", "x"])
            },
        ),
        case("unterminated quote", 2, &["persons.csv", "row 3"], |d| {
            d.extracts_with("persons", |t| {
                let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
                lines[2] = lines[2]
                    .replacen(",danish", ",\"danish", 1)
                    .replacen(",immigrant", ",\"immigrant", 1)
                    .replacen(",descendant", ",\"descendant", 1);
                lines.join("\n") + "\n"
            });
            args(&["validate", "x"])
        }),
        case(
            "blank line counted in row numbers",
            2,
            &["persons.csv", "row 5", "column sex"],
            |d| {
                d.extracts_with("persons", |t| {
                    let text = set_cell(&t, 4, "sex", "X");
                    let mut lines: Vec<&str> = text.lines().collect();
                    lines.insert(2, "");
                    lines.join("\n") + "\n"
                });
                args(&["validate", "x"])
            },
        ),
        case(
            "wave that is not a survey wave",
            2,
            &["proms.csv", "row 2", "wave"],
            |d| {
                d.extracts_with_cell("proms", 2, "wave", "5");
                args(&["validate", "x"])
            },
        ),
        case(
            "UCLA item out of range",
            2,
            &["proms.csv", "row 2", "ucla_1", "7"],
            |d| {
                d.extracts_with_cell("proms", 2, "ucla_1", "7");
                args(&["validate", "x"])
            },
        ),
        case(
            "EQ VAS out of range",
            2,
            &["proms.csv", "row 2", "eq5d_vas", "150"],
            |d| {
                d.extracts_with_cell("proms", 2, "eq5d_vas", "150");
                args(&["validate", "x"])
            },
        ),
        case(
            "referral of an unknown person",
            2,
            &["referrals.csv", "row 2", "person_id"],
            |d| {
                d.extracts_with_cell("referrals", 2, "person_id", "P99999999");
                args(&["validate", "x"])
            },
        ),
        case(
            "death before birth",
            2,
            &["persons.csv", "row 2", "death_date"],
            |d| {
                d.extracts_with_cell("persons", 2, "death_date", "1900-01-01");
                args(&["validate", "x"])
            },
        ),
        case(
            "survey answers of a person never referred: a warning",
            0,
            &["proms.csv", "row 2", "person_id", "never referred"],
            |d| {
                let id = pool_person(d);
                d.extracts_with_cell("proms", 2, "person_id", &id);
                args(&["validate", "x"])
            },
        ),
        case(
            "extract.toml is a folder",
            2,
            &["extract.toml", "folder"],
            |d| {
                d.extracts();
                std::fs::remove_file(d.path().join("x/extract.toml")).unwrap();
                std::fs::create_dir(d.path().join("x/extract.toml")).unwrap();
                args(&["validate", "x"])
            },
        ),
        case("extract.toml not TOML", 2, &["extract.toml"], |d| {
            d.extracts();
            d.write("x/extract.toml", "start = 2023-01-01-\n");
            args(&["validate", "x"])
        }),
        case(
            "extract period ends before it starts",
            2,
            &["extract.toml", "before"],
            |d| {
                d.extracts();
                d.write(
                    "x/extract.toml",
                    "start = \"2026-01-01\"\nend = \"2023-01-01\"\n",
                );
                args(&["validate", "x"])
            },
        ),
        case("table missing", 2, &["contacts"], |d| {
            d.extracts();
            std::fs::remove_file(d.path().join("x/contacts.csv")).unwrap();
            args(&["validate", "x"])
        }),
        case(
            "Parquet file that is not Parquet",
            2,
            &["persons.parquet"],
            |d| {
                d.extracts();
                std::fs::remove_file(d.path().join("x/persons.csv")).unwrap();
                d.write("x/persons.parquet", "person_id,sex\n");
                args(&["validate", "x"])
            },
        ),
        case("folder that does not exist", 2, &["nowhere"], |_| {
            args(&["validate", "nowhere"])
        }),
        case("a file given as the folder", 2, &["persons.csv"], |d| {
            d.extracts();
            args(&["validate", "x/persons.csv"])
        }),
        // ---- analyse: bad extracts, bad options, --out that would harm the inputs
        case(
            "analyse: bad extracts",
            2,
            &["persons.csv", "row 3", "sex"],
            |d| {
                d.extracts_with_cell("persons", 3, "sex", "X");
                args(&["analyse", "x", "--out", "out"])
            },
        ),
        case(
            "analyse: --out is the input, with --force",
            2,
            &["--out", "input"],
            |d| {
                d.extracts();
                args(&["analyse", "x", "--out", "x", "--force"])
            },
        ),
        case(
            "analyse: --out inside the input",
            2,
            &["--out", "inside"],
            |d| {
                d.extracts();
                args(&["analyse", "x", "--out", "x/results", "--force"])
            },
        ),
        case(
            "analyse: --out holds the input",
            2,
            &["--out", "holds"],
            |d| {
                d.extracts();
                args(&["analyse", "x", "--out", ".", "--force"])
            },
        ),
        case("analyse: --out is a file", 2, &["--out", "file"], |d| {
            d.extracts();
            d.write("taken", "x");
            args(&["analyse", "x", "--out", "taken"])
        }),
        case(
            "analyse: --out not empty, no --force",
            2,
            &["--force"],
            |d| {
                d.extracts();
                d.write("out/notes.txt", "mine");
                args(&["analyse", "x", "--out", "out"])
            },
        ),
        case(
            "analyse: --force on a folder shine did not write",
            2,
            &["not a folder of shine's results"],
            |d| {
                d.extracts();
                d.write("out/notes.txt", "mine");
                args(&["analyse", "x", "--out", "out", "--force"])
            },
        ),
        case(
            "analyse: --out is the plan file",
            2,
            &["--out", "plan.toml"],
            |d| {
                d.extracts();
                d.write("plan.toml", "seed = 3\n");
                args(&[
                    "analyse",
                    "x",
                    "--plan",
                    "plan.toml",
                    "--out",
                    "plan.toml",
                    "--force",
                ])
            },
        ),
        case("analyse: negative seed", 2, &["--seed", "-1"], |d| {
            d.extracts();
            args(&["analyse", "x", "--out", "out", "--seed", "-1"])
        }),
        case("analyse: plan that is not TOML", 2, &["plan.toml"], |d| {
            d.extracts();
            d.write("plan.toml", "[study\n");
            args(&["analyse", "x", "--plan", "plan.toml", "--out", "out"])
        }),
        // ---- global options and simulate
        case("--threads beyond the machine", 2, &["--threads"], |_| {
            args(&["--threads", "100000", "simulate", "--out", "s"])
        }),
        case("--threads 0", 2, &["--threads"], |_| {
            args(&["--threads", "0", "simulate", "--out", "s"])
        }),
        case("simulate: negative seed", 2, &["--seed", "-1"], |_| {
            args(&["simulate", "--out", "s", "--seed", "-1"])
        }),
        case("simulate: no referred persons", 2, &["referred"], |_| {
            args(&["simulate", "--out", "s", "--referred", "0"])
        }),
        case(
            "simulate: frailty selection beyond its range",
            2,
            &["frailty"],
            |_| args(&["simulate", "--out", "s", "--frailty-selection", "-50"]),
        ),
        // ---- the plan
        case(
            "plan: window of 100,000 periods",
            2,
            &["plan.toml", "periods_before"],
            |d| {
                d.write("plan.toml", "[outcomes]\nperiods_before = 100000\n");
                args(&["plan", "--check", "plan.toml"])
            },
        ),
        case("plan: unknown key", 2, &["plan.toml", "nonsense"], |d| {
            d.write("plan.toml", "nonsense = 1\n");
            args(&["plan", "--check", "plan.toml"])
        }),
        case(
            "plan: placebo beyond the window",
            2,
            &["placebo_periods"],
            |d| {
                d.write(
                    "plan.toml",
                    "[outcomes]\nperiods_before = 4\nplacebo_periods = 6\n",
                );
                args(&["plan", "--check", "plan.toml"])
            },
        ),
        case("plan: file missing", 2, &["absent.toml"], |_| {
            args(&["plan", "--check", "absent.toml"])
        }),
        case(
            "plan: unknown covariate",
            2,
            &["plan.toml", "propensity.covariates", "nonsense"],
            |d| {
                d.write(
                    "plan.toml",
                    "[propensity]\ncovariates = [\"age\", \"nonsense\"]\n",
                );
                args(&["plan", "--check", "plan.toml"])
            },
        ),
        case(
            "plan: unknown exact-matching variable",
            2,
            &["plan.toml", "matching.exact", "shoe_size"],
            |d| {
                d.write("plan.toml", "[matching]\nexact = [\"shoe_size\"]\n");
                args(&["plan", "--check", "plan.toml"])
            },
        ),
        case(
            "analyse: a catchment where nobody lives",
            2,
            &["catchment_municipalities", "9999"],
            |d| {
                d.extracts();
                d.write("plan.toml", "[study]\ncatchment_municipalities = [9999]\n");
                args(&["analyse", "x", "--plan", "plan.toml", "--out", "out"])
            },
        ),
        // ---- did, mixed, match on any table
        case(
            "did: one word in a column of numbers",
            2,
            &["panel.csv", "column y", "row 7", "`abc`", "factor(y)"],
            |d| {
                d.panel_with(|t| set_cell(&t, 7, "y", "abc"));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        ),
        case(
            "mixed: question marks in a covariate",
            2,
            &["panel.csv", "column x", "row 3", "`?`", "row 9"],
            |d| {
                d.panel_with(|t| set_cell(&set_cell(&t, 3, "x", "?"), 9, "x", "?"));
                args(&[
                    "mixed",
                    "--data",
                    "panel.csv",
                    "--formula",
                    "y ~ x + period + (1 | unit)",
                ])
            },
        ),
        case(
            "mixed: factor(x) makes the same column categories",
            0,
            &["factor(x)"],
            |d| {
                d.panel_with(|t| set_cell(&t, 3, "x", "?"));
                args(&[
                    "mixed",
                    "--data",
                    "panel.csv",
                    "--formula",
                    "y ~ factor(x) + period + (1 | unit)",
                ])
            },
        ),
        case(
            "match: text in a covariate",
            2,
            &["panel.csv", "column x", "row 4"],
            |d| {
                d.panel_with(|t| set_cell(&t, 4, "x", "n/a"));
                args(&[
                    "match",
                    "--data",
                    "panel.csv",
                    "--formula",
                    "treated ~ x + period",
                ])
            },
        ),
        case(
            "did: infinity written as text",
            2,
            &["panel.csv", "column y", "row 5", "Inf"],
            |d| {
                d.panel_with(|t| set_cell(&t, 5, "y", "inf"));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        ),
        case(
            "did: duplicated column name",
            2,
            &["panel.csv", "row 1", "`y`"],
            |d| {
                d.panel_with(|t| t.replacen(",x,", ",y,", 1));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        ),
        case(
            "did: constant response",
            2,
            &["panel.csv", "`y`", "constant"],
            |d| {
                d.panel_with(|t| {
                    let rows = t.lines().count();
                    (2..=rows).fold(t, |t, r| set_cell(&t, r, "y", "3"))
                });
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        ),
        case("mixed: 20,000 nested parentheses", 2, &["nested"], |d| {
            d.panel_with(|t| t);
            let formula = deep("(", ")", 20_000);
            vec![
                "mixed".into(),
                "--data".into(),
                "panel.csv".into(),
                "--formula".into(),
                formula,
            ]
        }),
        case("mixed: 20,000 unary minus signs", 2, &["nested"], |d| {
            d.panel_with(|t| t);
            let formula = deep("-", "", 20_000);
            vec![
                "mixed".into(),
                "--data".into(),
                "panel.csv".into(),
                "--formula".into(),
                formula,
            ]
        }),
        case(
            "mixed: a factor with 50,000 levels",
            2,
            &["levels.csv", "`g`", "49999"],
            |d| {
                many_levels(d);
                args(&[
                    "mixed",
                    "--data",
                    "levels.csv",
                    "--formula",
                    "y ~ g + period + (1 | id)",
                ])
            },
        ),
        case(
            "did: a factor with 50,000 levels",
            2,
            &["levels.csv", "`g`", "49999"],
            |d| {
                many_levels(d);
                args(&[
                    "did",
                    "--data",
                    "levels.csv",
                    "--formula",
                    "y ~ treated_post + g | period",
                ])
            },
        ),
        case(
            "did: unknown column",
            2,
            &["panel.csv", "treatedpost", "did you mean"],
            |d| {
                d.panel_with(|t| t);
                args(&[
                    "did",
                    "--data",
                    "panel.csv",
                    "--formula",
                    "y ~ treatedpost | unit + period",
                ])
            },
        ),
        case("did: formula that does not parse", 2, &["formula"], |d| {
            d.panel_with(|t| t);
            args(&[
                "did",
                "--data",
                "panel.csv",
                "--formula",
                "y ~ treated_post + | unit",
            ])
        }),
        case(
            "match: treatment that is not 0/1",
            2,
            &["panel.csv", "x"],
            |d| {
                d.panel_with(|t| t);
                args(&["match", "--data", "panel.csv", "--formula", "x ~ period"])
            },
        ),
        case("did: data file missing", 2, &["absent.csv"], |_| {
            args(&["did", "--data", "absent.csv", "--formula", DID])
        }),
        case("did: empty data file", 2, &["panel.csv", "empty"], |d| {
            d.write("panel.csv", "");
            args(&["did", "--data", "panel.csv", "--formula", DID])
        }),
        case("mixed: header only", 2, &["panel.csv", "no rows"], |d| {
            d.panel_with(|t| t.lines().next().unwrap().to_string() + "\n");
            args(&[
                "mixed",
                "--data",
                "panel.csv",
                "--formula",
                "y ~ period + (1 | unit)",
            ])
        }),
        case("did: not UTF-8", 2, &["panel.csv", "row 3", "UTF-8"], |d| {
            let mut bytes = panel().into_bytes();
            let third_row = bytes
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .nth(2)
                .unwrap()
                .0;
            bytes.insert(third_row - 1, 0xE6);
            d.write("panel.csv", bytes);
            args(&["did", "--data", "panel.csv", "--formula", DID])
        }),
        case(
            "did: semicolons and decimal commas are read",
            0,
            &["treated_post"],
            |d| {
                d.panel_with(|t| t.replace(',', ";").replace('.', ","));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        ),
        case(
            "did: missing values as NA are read",
            0,
            &["treated_post"],
            |d| {
                d.panel_with(|t| set_cell(&t, 6, "y", "NA"));
                args(&["did", "--data", "panel.csv", "--formula", DID])
            },
        ),
        case("mixed: unknown --df", 2, &["--df"], |d| {
            d.panel_with(|t| t);
            args(&[
                "mixed",
                "--data",
                "panel.csv",
                "--formula",
                "y ~ period + (1 | unit)",
                "--df",
                "containment",
            ])
        }),
        case("match: --out holds the data", 2, &["--out"], |d| {
            d.panel_with(|t| t);
            args(&[
                "match",
                "--data",
                "panel.csv",
                "--formula",
                "treated ~ x",
                "--out",
                ".",
                "--force",
            ])
        }),
        // ---- Parquet storage types
        case(
            "Parquet int16 and uint8 are read",
            0,
            &["treated_post"],
            |_| {
                vec![
                    "did".into(),
                    "--data".into(),
                    fixture("small_integers.parquet"),
                    "--formula".into(),
                    DID.into(),
                ]
            },
        ),
        case(
            "Parquet timestamp with a zone is read",
            0,
            &["treated_post"],
            |_| {
                vec![
                    "did".into(),
                    "--data".into(),
                    fixture("timestamp_zone.parquet"),
                    "--formula".into(),
                    DID.into(),
                ]
            },
        ),
        case(
            "Parquet float16",
            2,
            &["float16.parquet", "column y", "float16"],
            |_| {
                vec![
                    "did".into(),
                    "--data".into(),
                    fixture("float16.parquet"),
                    "--formula".into(),
                    DID.into(),
                ]
            },
        ),
        case(
            "Parquet decimal128",
            2,
            &["decimal128.parquet", "column y", "decimal128"],
            |_| {
                vec![
                    "did".into(),
                    "--data".into(),
                    fixture("decimal128.parquet"),
                    "--formula".into(),
                    DID.into(),
                ]
            },
        ),
        case("Parquet file cut short", 2, &["truncated.parquet"], |_| {
            vec![
                "did".into(),
                "--data".into(),
                fixture("truncated.parquet"),
                "--formula".into(),
                DID.into(),
            ]
        }),
        // ---- score, audit, convert
        case(
            "score: item out of range",
            2,
            &["proms.csv", "row 2", "ucla_2"],
            |d| {
                d.extracts_with_cell("proms", 2, "ucla_2", "9");
                args(&["score", "--proms", "x/proms.csv"])
            },
        ),
        case("audit: folder that does not exist", 2, &["nowhere"], |_| {
            args(&["audit", "nowhere"])
        }),
        case(
            "audit: a folder that is not results",
            2,
            &["results.json"],
            |d| {
                d.write("notes/a.txt", "x");
                args(&["audit", "notes"])
            },
        ),
        case(
            "convert: a SAS file that is not SAS",
            2,
            &["broken.sas7bdat"],
            |d| {
                d.write("broken.sas7bdat", vec![0u8; 4096]);
                args(&["convert", "broken.sas7bdat", "--out", "converted"])
            },
        ),
    ]
}

/// SHA-256 of every file under `dir`, by path.
fn hashes(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let digest = Sha256::digest(&bytes);
                out.insert(path, digest.iter().map(|b| format!("{b:02x}")).collect());
            }
        }
    }
    out
}

/// Runs one case; `Err` says what went wrong.
fn check(case: &Case, base: &Path) -> Result<(), String> {
    let folder = Folder {
        scratch: Scratch::new("bad-input"),
        base: base.to_path_buf(),
    };
    let arguments = (case.setup)(&folder);
    let before = hashes(folder.path());
    let stdout = folder.path().join(".stdout");
    let stderr = folder.path().join(".stderr");
    let started = Instant::now();
    let mut child = Command::new(SHINE)
        .args(&arguments)
        .current_dir(folder.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .map_err(|e| format!("cannot start shine: {e}"))?;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {} s", TIME_LIMIT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::fs::read_to_string(&stdout).unwrap_or_default()
        + &std::fs::read_to_string(&stderr).unwrap_or_default();
    let shown = || output.chars().take(1500).collect::<String>();
    if output.contains("panicked") || output.contains("RUST_BACKTRACE") {
        return Err(format!("panicked:\n{}", shown()));
    }
    if status.code() != Some(case.code) {
        return Err(format!(
            "exit code {:?}, expected {}:\n{}",
            status.code(),
            case.code,
            shown()
        ));
    }
    let missing: Vec<&str> = case
        .needles
        .iter()
        .copied()
        .filter(|n| !output.contains(n))
        .collect();
    if !missing.is_empty() {
        return Err(format!("message lacks {missing:?}:\n{}", shown()));
    }
    let after = hashes(folder.path());
    for (path, hash) in &before {
        match after.get(path) {
            None => return Err(format!("input {} was removed", path.display())),
            Some(h) if h != hash => return Err(format!("input {} was changed", path.display())),
            Some(_) => {}
        }
    }
    Ok(())
}

#[test]
fn every_planted_bad_input_is_refused_clearly_without_harm() {
    let cases = cases();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    // One set of small simulated extracts for every case (12 referred, 500 in the pool).
    let base = Scratch::new("bad-inputs-base");
    run_ok(
        shine()
            .args([
                "simulate",
                "--quiet",
                "--referred",
                "12",
                "--pool",
                "500",
                "--seed",
                "5",
                "--out",
            ])
            .arg(base.join("s")),
    );
    let base = base.join("s");
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| loop {
                let i = {
                    let mut next = next.lock().unwrap();
                    *next += 1;
                    *next - 1
                };
                let Some(case) = cases.get(i) else { break };
                if let Err(why) = check(case, &base) {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{}: {why}", case.name));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
