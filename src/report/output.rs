//! The results folder, written safely: everything goes into a temporary folder beside
//! the target, renamed into place at the end, so an interrupted run never leaves a
//! half-written results folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::manifest::OutputFile;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    #[error("{0} exists and is not empty: choose another --out, or pass --force to replace it")]
    NotEmpty(String),
    /// `--out` is an input, holds one, or lies inside an input folder: writing there
    /// could destroy the inputs.
    #[error("--out {target} {relation} the input {input}: choose an --out outside the inputs")]
    OverlapsInput {
        target: String,
        relation: &'static str,
        input: String,
    },
    /// `--force` replaces only a folder that shine wrote.
    #[error("{0} is not a folder of shine's results (it has no manifest.json written by shine): --force replaces only shine's results; choose another --out")]
    NotResults(String),
    /// `--out` names a file.
    #[error("--out {0} is a file: name a folder")]
    IsFile(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Files collected in memory, then written and renamed into place together.
#[derive(Debug, Default)]
pub struct ResultsFolder {
    files: BTreeMap<String, Vec<u8>>,
}

impl ResultsFolder {
    /// Adds a file at a relative path such as `tables/flow.csv`.
    pub fn add(&mut self, relative: &str, bytes: impl Into<Vec<u8>>) {
        self.files.insert(relative.to_string(), bytes.into());
    }

    /// Every file so far, by relative path.
    pub fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }

    /// Every file so far with its SHA-256, in path order.
    pub fn listing(&self) -> Vec<OutputFile> {
        self.files
            .iter()
            .map(|(path, bytes)| OutputFile {
                path: path.clone(),
                sha256: Sha256::digest(bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            })
            .collect()
    }

    /// Refuses, before any work starts, a target that would put the inputs at risk or
    /// replace what shine did not write: the target may not be an input, hold one, or
    /// lie inside an input folder (even with `force`); a non-empty target needs `force`,
    /// and `force` replaces only a folder with a manifest that shine wrote.
    ///
    /// What an earlier, killed run left beside `target` is cleaned up first (see
    /// [`super::staging::recover_interrupted`]), with a note on stderr.
    pub fn check_target(target: &Path, force: bool, inputs: &[PathBuf]) -> Result<(), OutputError> {
        for leftover in super::staging::recover_interrupted(target) {
            eprintln!("note: {leftover}");
        }
        let shown = || target.display().to_string();
        let resolved = resolve(target);
        for input in inputs {
            let input_resolved = resolve(input);
            let relation = if resolved == input_resolved {
                "is"
            } else if input_resolved.starts_with(&resolved) {
                "holds"
            } else if resolved.starts_with(&input_resolved) {
                "is inside"
            } else {
                continue;
            };
            return Err(OutputError::OverlapsInput {
                target: shown(),
                relation,
                input: input.display().to_string(),
            });
        }
        if target.is_file() {
            return Err(OutputError::IsFile(shown()));
        }
        if target.exists() && !is_empty_dir(target) {
            if !force {
                return Err(OutputError::NotEmpty(shown()));
            }
            if !holds_shine_manifest(target) {
                return Err(OutputError::NotResults(shown()));
            }
        }
        Ok(())
    }

    /// Writes every file into `target`: first into a hidden sibling folder, which then
    /// replaces `target`.
    pub fn commit(self, target: &Path, force: bool, inputs: &[PathBuf]) -> Result<(), OutputError> {
        Self::check_target(target, force, inputs)?;
        let io = |path: &Path| {
            let shown = path.display().to_string();
            move |source| OutputError::Io {
                path: shown,
                source,
            }
        };
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("shine-results");
        let staging = super::staging::partial_path(&parent, name);
        // Registered before it exists, so that an interruption removes it.
        let staged = super::staging::Staged::register(staging.clone());
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(target))?;
        }
        let result = (|| {
            for (relative, bytes) in &self.files {
                let path = staging.join(relative);
                // Messages name the file where the user asked for it, not the staging
                // folder it is first written to.
                let shown = target.join(relative);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io(&shown))?;
                }
                std::fs::write(&path, bytes).map_err(io(&shown))?;
            }
            // The new folder takes the old one's place in one exchange where the file
            // system allows it (else the old is moved aside first), with interruptions
            // held off, so `target` always holds the old results or the new.
            let old = super::staging::old_path(&parent, name);
            let replaced = staged
                .hold_interruptions(|| super::staging::replace(&staging, target, &old))
                .map_err(io(target))?;
            if let Some(replaced) = replaced {
                std::fs::remove_dir_all(&replaced).map_err(io(&replaced))?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        drop(staged);
        result
    }
}

/// The file every results folder of shine holds, naming shine as its writer.
pub const MANIFEST: &str = "manifest.json";

/// Whether `folder` holds a `manifest.json` that shine wrote.
fn holds_shine_manifest(folder: &Path) -> bool {
    std::fs::read(folder.join(MANIFEST))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|v| {
            v.get("shine_version")
                .is_some_and(serde_json::Value::is_string)
        })
}

/// The absolute path with symbolic links and `..` resolved as far as the path exists;
/// the part that does not exist yet is appended as written.
fn resolve(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut existing = absolute.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            return rest
                .iter()
                .rev()
                .fold(canonical, |mut p, part: &std::ffi::OsString| {
                    if part == ".." {
                        p.pop();
                    } else if part != "." {
                        p.push(part);
                    }
                    p
                });
        }
        match existing.components().next_back() {
            Some(last) if existing.parent().is_some() => {
                rest.push(last.as_os_str().to_os_string());
                existing.pop();
            }
            _ => return absolute,
        }
    }
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}
