//! Support shared by the tests of `shine import`: a small raw simulation to work on,
//! reading and writing its Parquet files, and reading a column's values.
//!
//! A test file declares `mod common;` and `mod raw_registers;` and uses what it needs.

// Each test binary compiles this module whole and uses a part of it.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::common::{run, shine, Scratch};

/// `shine simulate --raw` of 10 referred and 400 in the pool (seed 5) into `raw/` of the
/// scratch folder.
pub fn small_raw(scratch: &Scratch) -> PathBuf {
    simulate_raw(
        scratch,
        &["--referred", "10", "--pool", "400", "--seed", "5"],
    )
}

/// `shine simulate --raw` with the size arguments `size` into `raw/` of the scratch folder.
pub fn simulate_raw(scratch: &Scratch, size: &[&str]) -> PathBuf {
    simulate_raw_as(scratch, "raw", size, "parquet")
}

/// `shine simulate --raw --raw-format FORMAT` with the size arguments `size` into the
/// folder `name` of the scratch folder.
pub fn simulate_raw_as(scratch: &Scratch, name: &str, size: &[&str], format: &str) -> PathBuf {
    let dir = scratch.join(name);
    let out = run(shine()
        .args(["simulate", "--quiet", "--raw", "--raw-format", format])
        .args(size)
        .arg("--out")
        .arg(&dir));
    assert!(out.success(), "{}", out.stderr);
    dir
}

/// The names of the files in `dir`, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A Parquet file, whole.
pub fn read_parquet(path: &Path) -> DataFrame {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(file)
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Writes `df` as a Parquet file.
pub fn write_parquet(path: &Path, mut df: DataFrame) {
    let file = File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetWriter::new(file)
        .finish(&mut df)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// A column as text values (missing as `None`).
pub fn texts(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .as_materialized_series()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

/// A column as day numbers (dates as days since 1970-01-01; missing as `None`).
pub fn days(df: &DataFrame, name: &str) -> Vec<Option<i32>> {
    df.column(name)
        .unwrap()
        .as_materialized_series()
        .cast(&DataType::Int32)
        .unwrap()
        .i32()
        .unwrap()
        .iter()
        .collect()
}
