//! Support shared by the tests of `shine import`: a small raw simulation to work on, and
//! reading and writing its Parquet files.
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
    let dir = scratch.join("raw");
    let out = run(shine()
        .args(["simulate", "--quiet", "--raw"])
        .args(size)
        .arg("--out")
        .arg(&dir));
    assert!(out.success(), "{}", out.stderr);
    dir
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
