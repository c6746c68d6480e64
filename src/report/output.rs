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

    /// Refuses early when the target is a non-empty folder and `force` is not set.
    pub fn check_target(target: &Path, force: bool) -> Result<(), OutputError> {
        if !force && target.exists() && !is_empty_dir(target) {
            return Err(OutputError::NotEmpty(target.display().to_string()));
        }
        Ok(())
    }

    /// Writes every file into `target`: first into a hidden sibling folder, which then
    /// replaces `target`.
    pub fn commit(self, target: &Path, force: bool) -> Result<(), OutputError> {
        Self::check_target(target, force)?;
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
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        let result = (|| {
            for (relative, bytes) in &self.files {
                let path = staging.join(relative);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io(dir))?;
                }
                std::fs::write(&path, bytes).map_err(io(&path))?;
            }
            // The old folder is moved aside before the new one takes its place, so an
            // interruption leaves either the old or the new results, never a mixture.
            let old = parent.join(format!(".{name}.old-{}", std::process::id()));
            if target.exists() {
                std::fs::rename(target, &old).map_err(io(target))?;
            }
            std::fs::rename(&staging, target).map_err(io(target))?;
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(io(&old))?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result
    }
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}
