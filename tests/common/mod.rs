//! Support shared by the integration tests: the named tolerances and comparisons of
//! `src/test_support.rs` (the same file the unit tests use, so each tolerance has one
//! definition), running the `shine` binary, reading reference files and scratch folders.
//!
//! Every test file declares `mod common;` and uses what it needs.

// Each test binary compiles this module whole and uses a part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[path = "../../src/test_support.rs"]
mod test_support;
#[allow(unused_imports)]
pub use test_support::*;

/// The binary under test, as cargo built it for the integration tests.
pub const SHINE: &str = env!("CARGO_BIN_EXE_shine");

/// The repository root.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A path inside the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(ROOT).join(relative)
}

/// A path inside `tests/reference/`, where the reference data and fits are kept.
pub fn reference(relative: &str) -> PathBuf {
    Path::new(ROOT).join("tests/reference").join(relative)
}

/// The example extracts of `examples/demo/`.
pub fn demo_extracts() -> PathBuf {
    repo_path("examples/demo")
}

/// A JSON file, parsed.
#[track_caller]
pub fn read_json(path: impl AsRef<Path>) -> Value {
    let path = path.as_ref();
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The `.json` files of a folder, sorted by name (so tests visit them in a fixed order).
pub fn json_files(dir: impl AsRef<Path>) -> Vec<PathBuf> {
    let dir = dir.as_ref();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// The file name of a path, for messages.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A command running the binary under test.
pub fn shine() -> Command {
    Command::new(SHINE)
}

/// What a finished run of the binary left: its exit code and its output as text.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` when a signal ended the process).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The standard output, parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs the command to its end and collects what it wrote.
#[track_caller]
pub fn run(command: &mut Command) -> Run {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the command and asserts that it succeeded, showing its stderr when it did not.
#[track_caller]
pub fn run_ok(command: &mut Command) -> Run {
    let run = run(command);
    assert!(run.success(), "{command:?} failed:\n{}", run.stderr);
    run
}

/// Runs the command, asserts that it succeeded, and parses its stdout as JSON.
#[track_caller]
pub fn run_json(command: &mut Command) -> Value {
    run_ok(command).json()
}

/// Runs a command that is expected to fail and asserts that it failed without a panic
/// (bad input ends with a message and an exit code, never a backtrace).
#[track_caller]
pub fn run_failing(command: &mut Command) -> Run {
    let run = run(command);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// A fresh, private temporary folder, removed when dropped (it derefs to its path). Tests put their inputs and
/// outputs in it, so that runs of the suite in parallel (or on a shared machine) never
/// see each other's files.
pub struct Scratch(tempfile::TempDir);

impl Scratch {
    /// A new folder named `shine-<label>-<random>` in the system's temporary folder.
    #[track_caller]
    pub fn new(label: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("shine-{label}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"));
        Scratch(dir)
    }

    /// The folder itself.
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// A path inside the folder (not created).
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes `contents` to `name` inside the folder and returns its path.
    #[track_caller]
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// A copy of every file of `source` in a new subfolder `name`, returned.
    #[track_caller]
    pub fn copy_of(&self, source: &Path, name: &str) -> PathBuf {
        let dir = self.join(name);
        std::fs::create_dir_all(&dir).expect("create folder");
        for entry in std::fs::read_dir(source).expect("read folder") {
            let entry = entry.expect("folder entry");
            if entry.file_type().expect("file type").is_file() {
                std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
            }
        }
        dir
    }
}

impl Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self.path()
    }
}

impl AsRef<OsStr> for Scratch {
    fn as_ref(&self) -> &OsStr {
        self.path().as_os_str()
    }
}
