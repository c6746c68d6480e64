//! Seeded fuzzing of what reads input: the extract readers (CSV and Parquet), validation
//! against the dictionary and across tables, the reader of any table (`match`, `did`,
//! `mixed`) and the formula parser. The seed corpus is the head of each table of
//! `examples/demo`; each iteration applies a few random mutations (bytes flipped,
//! inserted or cut, lines doubled or dropped, fields replaced by awkward values) and
//! requires an answer — a table or a list of problems, never a panic.
//!
//! `SHINE_FUZZ_ITERATIONS` sets the iterations per target (default 200, as in CI's test
//! run; `.ci/run` runs a longer bounded pass); `SHINE_FUZZ_SEED` the first seed.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use common::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shine::data::dictionary::{Dictionary, TableName};
use shine::data::problems::Problems;
use shine::data::read::{read_bytes, FileFormat};
use shine::data::validate::{validate, ExtractPaths};

fn iterations() -> u64 {
    std::env::var("SHINE_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn first_seed() -> u64 {
    std::env::var("SHINE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// The header and the first rows of a demo table: the seed of its mutations.
fn seed_table(table: TableName) -> Vec<u8> {
    let text =
        std::fs::read_to_string(demo_extracts().join(format!("{table}.csv"))).expect("demo table");
    let mut head: String = text.lines().take(40).collect::<Vec<_>>().join("\n");
    head.push('\n');
    head.into_bytes()
}

/// Values that break readers: empty, missing codes, signs, huge and tiny numbers, other
/// scripts, quotes, delimiters, impossible dates, control characters.
const AWKWARD: &[&str] = &[
    "",
    "NA",
    "-1",
    "-0",
    "1e309",
    "NaN",
    "inf",
    "9999999999999999999999",
    "0x10",
    "１２",
    "ø",
    "\"",
    "\"\"",
    ",",
    ";",
    "\t",
    "2023-02-30",
    "0000-00-00",
    "2023-1-1",
    "99999-01-01",
    "true",
    "TRUE",
    "1.5",
    "1,5",
    " 3 ",
    "\u{feff}",
    "\r",
    "\0",
    "P00000001",
    "gp_phone",
];

/// Applies one to four random mutations.
fn mutate(bytes: &mut Vec<u8>, rng: &mut ChaCha8Rng) {
    for _ in 0..rng.random_range(1..=4) {
        let len = bytes.len();
        match rng.random_range(0..8) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                bytes[i] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                let i = rng.random_range(0..=len);
                bytes.insert(i, rng.random());
            }
            2 if len > 0 => {
                let start = rng.random_range(0..len);
                let end = (start + rng.random_range(1..64)).min(len);
                bytes.drain(start..end);
            }
            3 if len > 0 => bytes.truncate(rng.random_range(0..len)),
            4 => {
                // Double or drop a line.
                let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
                let k = rng.random_range(0..lines.len());
                let mut out: Vec<&[u8]> = lines.clone();
                if rng.random_bool(0.5) {
                    out.insert(k, lines[k]);
                } else {
                    out.remove(k);
                }
                *bytes = out.join(&b'\n');
            }
            _ => {
                // Replace a field (between delimiters) by an awkward value.
                let cuts: Vec<usize> = bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, &b)| b == b',' || b == b'\n')
                    .map(|(i, _)| i)
                    .collect();
                if cuts.len() < 2 {
                    continue;
                }
                let k = rng.random_range(0..cuts.len() - 1);
                let value = AWKWARD[rng.random_range(0..AWKWARD.len())].as_bytes();
                bytes.splice(cuts[k] + 1..cuts[k + 1], value.iter().copied());
            }
        }
    }
}

/// Runs `body` for each iteration with its own generator; a panic fails the test with
/// the seed that reproduces it.
fn fuzz(target: &str, mut body: impl FnMut(&mut ChaCha8Rng)) -> u64 {
    let n = iterations();
    for seed in first_seed()..first_seed() + n {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let outcome = catch_unwind(AssertUnwindSafe(|| body(&mut rng)));
        assert!(
            outcome.is_ok(),
            "{target}: panicked at SHINE_FUZZ_SEED={seed} (SHINE_FUZZ_ITERATIONS=1 repeats it)"
        );
    }
    eprintln!("{target}: {n} iterations, no panic");
    n
}

fn each_table(rng: &mut ChaCha8Rng) -> TableName {
    TableName::ALL[rng.random_range(0..TableName::ALL.len())]
}

#[test]
fn csv_extract_reader_answers_every_mutation() {
    let dictionary = Dictionary::embedded();
    fuzz("extract CSV reader", |rng| {
        let table = each_table(rng);
        let mut bytes = seed_table(table);
        mutate(&mut bytes, rng);
        let mut problems = Problems::default();
        let name = format!("{table}.csv");
        let read = read_bytes(
            &name,
            bytes,
            FileFormat::Csv,
            table,
            dictionary.table(table),
            &mut problems,
        );
        // Either a table or at least one problem naming the file.
        if read.is_none() {
            let text = problems_text(&problems);
            assert!(text.contains(&name), "no problem names {name}: {text}");
        }
    });
}

fn problems_text(problems: &Problems) -> String {
    serde_json::to_string(&problems.groups()).expect("problems as JSON")
}

#[test]
fn parquet_readers_answer_every_mutation() {
    let dictionary = Dictionary::embedded();
    let dir = Scratch::new("fuzz-parquet");
    // The seeds: each demo table through the typed reader and out again as Parquet.
    let seeds: Vec<(TableName, Vec<u8>)> = TableName::ALL
        .iter()
        .map(|&t| (t, parquet_seed(t, &dir)))
        .collect();
    fuzz("Parquet readers", |rng| {
        let (table, seed) = &seeds[rng.random_range(0..seeds.len())];
        let mut bytes = seed.clone();
        mutate(&mut bytes, rng);
        let mut problems = Problems::default();
        let name = format!("{table}.parquet");
        let _ = read_bytes(
            &name,
            bytes.clone(),
            FileFormat::Parquet,
            *table,
            dictionary.table(*table),
            &mut problems,
        );
        let _ = shine::data::read::parquet::read_parquet(bytes);
    });
}

/// A demo table as Parquet bytes, written by polars from the typed reader's frame.
fn parquet_seed(table: TableName, dir: &Path) -> Vec<u8> {
    use polars::prelude::*;
    let dictionary = Dictionary::embedded();
    let mut problems = Problems::default();
    let typed = read_bytes(
        "seed.csv",
        seed_table(table),
        FileFormat::Csv,
        table,
        dictionary.table(table),
        &mut problems,
    )
    .expect("the demo table reads");
    let mut frame = typed.frame.clone();
    let path = dir.join(format!("{table}.parquet"));
    let file = std::fs::File::create(&path).expect("create");
    ParquetWriter::new(file)
        .finish(&mut frame)
        .expect("write Parquet");
    std::fs::read(&path).expect("read back")
}

#[test]
fn validation_across_tables_answers_every_mutation() {
    let dir = Scratch::new("fuzz-validate");
    let extract = std::fs::read(demo_extracts().join("extract.toml")).expect("extract.toml");
    fuzz("validation", |rng| {
        let folder = dir.join(format!("set-{}", rng.random::<u32>()));
        std::fs::create_dir_all(&folder).expect("folder");
        for table in TableName::ALL {
            let mut bytes = seed_table(table);
            if rng.random_bool(0.4) {
                mutate(&mut bytes, rng);
            }
            std::fs::write(folder.join(format!("{table}.csv")), bytes).expect("write");
        }
        let mut toml = extract.clone();
        if rng.random_bool(0.1) {
            mutate(&mut toml, rng);
        }
        std::fs::write(folder.join("extract.toml"), toml).expect("write");
        let paths = ExtractPaths {
            folder: Some(folder.clone()),
            ..Default::default()
        };
        let validation = validate(&paths, None);
        let text = validation.report.to_text();
        assert!(!text.is_empty());
        std::fs::remove_dir_all(&folder).expect("clean up");
    });
}

#[test]
fn table_reader_answers_every_mutation() {
    let dir = Scratch::new("fuzz-table");
    let seed = seed_table(TableName::Covariates);
    fuzz("table reader", |rng| {
        let mut bytes = seed.clone();
        mutate(&mut bytes, rng);
        if rng.random_bool(0.3) {
            bytes = String::from_utf8_lossy(&bytes)
                .replace(',', ";")
                .into_bytes();
        }
        let path = dir.join("table.csv");
        std::fs::write(&path, &bytes).expect("write");
        if let Ok(frame) = shine::data::table::read_any(&path) {
            let columns: Vec<String> = frame
                .get_column_names()
                .iter()
                .map(|c| c.to_string())
                .collect();
            let _ = shine::data::table::to_dataset(
                &frame,
                &columns,
                &shine::data::table::TableSource::new("table.csv"),
                &Default::default(),
            );
        }
    });
}

/// Pieces of formulas: names, operators, calls, brackets, and bytes of other scripts.
const FORMULA_TOKENS: &[&str] = &[
    "y",
    "x",
    "g",
    "t",
    "id",
    "~",
    "+",
    "-",
    "*",
    ":",
    "^",
    "/",
    "|",
    "||",
    "(",
    ")",
    "1",
    "0",
    "factor(",
    "log(",
    "I(",
    "i(",
    "ref",
    "=",
    ",",
    "-1",
    "2",
    ".",
    "`",
    "\"",
    " ",
    "%in%",
    "exp(",
    "sqrt(",
    "poly(",
    "ø",
    "\u{0}",
    "1e400",
    "(1 | g)",
    "(t || id)",
    "| id + t",
];

#[test]
fn formula_parser_answers_every_string() {
    fuzz("formula parser", |rng| {
        let n = rng.random_range(0..30);
        let mut text: String = (0..n)
            .map(|_| FORMULA_TOKENS[rng.random_range(0..FORMULA_TOKENS.len())])
            .collect();
        if rng.random_bool(0.2) {
            let mut bytes = text.into_bytes();
            mutate(&mut bytes, rng);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        if rng.random_bool(0.05) {
            let depth = rng.random_range(100..30_000);
            text = format!("y ~ {}x{}", "(".repeat(depth), ")".repeat(depth));
        }
        let _ = shine::stats::formula::parse(&text);
    });
}
