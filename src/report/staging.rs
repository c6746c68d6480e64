//! What becomes of a results folder being written when the run is interrupted.
//!
//! A results folder is written into a hidden staging folder beside the target
//! (`.NAME.partial-PID`) and then put in place. Three promises follow:
//!
//! - SIGINT or SIGTERM (Ctrl-C, a batch system's kill) removes this process's staging
//!   folders before the process ends; an interruption that arrives while the results are
//!   being put in place waits until they are ([`Staged::hold_interruptions`]), so
//!   `--out` holds the old results or the new, never neither.
//! - Replacing an earlier results folder (`--force`) is one atomic exchange of the two
//!   folders where the file system offers it (Linux's `renameat2(RENAME_EXCHANGE)`);
//!   elsewhere the old folder is first moved aside to `.NAME.old-PID`.
//! - SIGKILL cannot be caught: what a killed run leaves is found by the next run on the
//!   same `--out` ([`recover_interrupted`]): a staging folder is removed, and an old
//!   folder moved aside is put back if `--out` is missing (the replace is rolled back) or
//!   removed if the new results are in place (the replace is completed).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// The staging folders of this process that an interruption must remove.
static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Whether the interruption handler is installed (it is, once a staging folder exists).
static HANDLER: OnceLock<bool> = OnceLock::new();

fn staged() -> MutexGuard<'static, Vec<PathBuf>> {
    STAGED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A folder this process is writing, removed by an interruption until dropped.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
}

impl Staged {
    /// Registers `path` before it is created, so that no interruption can leave it.
    pub fn register(path: PathBuf) -> Staged {
        install_handler();
        staged().push(path.clone());
        Staged { path }
    }

    /// Runs `step` with interruptions held off: a SIGINT or SIGTERM arriving meanwhile
    /// is acted on when `step` returns. For the renames that put results in place.
    pub fn hold_interruptions<T>(&self, step: impl FnOnce() -> T) -> T {
        let _held = staged();
        step()
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        staged().retain(|p| p != &self.path);
    }
}

/// Removes a folder that other threads of this process may still be writing into: a
/// file created during the removal makes it fail ("directory not empty") or leaves the
/// folder recreated, so it is removed again until it is gone (at most 100 tries; the
/// process ends right after).
#[cfg(unix)]
fn remove_while_written(folder: &Path) {
    for _ in 0..100 {
        let _ = std::fs::remove_dir_all(folder);
        if std::fs::symlink_metadata(folder).is_err() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Starts, once, the thread that waits for SIGINT and SIGTERM, removes the registered
/// folders and ends the process with the shell's code for the signal (128 + signal).
fn install_handler() {
    HANDLER.get_or_init(|| {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
                return false;
            };
            std::thread::Builder::new()
                .name("interrupt".into())
                .spawn(move || {
                    if let Some(signal) = signals.forever().next() {
                        // Waits for a replace in progress to finish.
                        let folders = staged();
                        for folder in folders.iter() {
                            remove_while_written(folder);
                        }
                        eprintln!("interrupted: nothing was written");
                        std::process::exit(128 + signal);
                    }
                })
                .is_ok()
        }
        #[cfg(not(unix))]
        {
            false
        }
    });
}

/// The staging folder of this process for `target`.
pub fn partial_path(parent: &Path, name: &str) -> PathBuf {
    parent.join(format!(".{name}.partial-{}", std::process::id()))
}

/// Where this process moves an old results folder aside when it cannot exchange them.
pub fn old_path(parent: &Path, name: &str) -> PathBuf {
    parent.join(format!(".{name}.old-{}", std::process::id()))
}

/// Puts `staging` in place of `target`. An existing `target` is exchanged with
/// `staging` in one step where the file system allows it (afterwards `staging` holds
/// the old results), otherwise moved aside to `old` first. Returns the folder that
/// holds the old results, to be removed, if any.
pub fn replace(staging: &Path, target: &Path, old: &Path) -> std::io::Result<Option<PathBuf>> {
    if !target.exists() {
        std::fs::rename(staging, target)?;
        return Ok(None);
    }
    if exchange(staging, target).is_ok() {
        return Ok(Some(staging.to_path_buf()));
    }
    std::fs::rename(target, old)?;
    if let Err(e) = std::fs::rename(staging, target) {
        // Put the old results back rather than leave `target` missing.
        let _ = std::fs::rename(old, target);
        return Err(e);
    }
    Ok(Some(old.to_path_buf()))
}

/// Swaps two paths atomically (Linux's `renameat2` with `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both arguments are NUL-terminated paths that live across the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// What a killed run left beside `target`, and what was done with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// A staging folder of an unfinished run, removed.
    StagingRemoved(PathBuf),
    /// An old results folder moved aside by a replace that did not finish, put back at
    /// `target` (the replace is rolled back).
    RolledBack(PathBuf),
    /// An old results folder whose replace did finish, removed.
    OldRemoved(PathBuf),
    /// A leftover that could not be removed, or that belongs to a process still running.
    Kept(PathBuf, String),
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Leftover::StagingRemoved(p) => write!(
                f,
                "removed {}, left by an interrupted run",
                p.display()
            ),
            Leftover::RolledBack(p) => write!(
                f,
                "put back the earlier results from {}, where an interrupted --force run had moved them",
                p.display()
            ),
            Leftover::OldRemoved(p) => write!(
                f,
                "removed {}, the earlier results an interrupted --force run had replaced",
                p.display()
            ),
            Leftover::Kept(p, why) => write!(f, "left {} in place: {why}", p.display()),
        }
    }
}

/// Finds what killed runs left beside `target` (`.NAME.partial-PID`, `.NAME.old-PID` of
/// processes no longer running) and completes or rolls back their work: staging folders
/// are removed; an old folder is put back when `target` is missing, removed otherwise.
pub fn recover_interrupted(target: &Path) -> Vec<Leftover> {
    let Some(name) = target.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&parent) else {
        return Vec::new();
    };
    let partial_prefix = format!(".{name}.partial-");
    let old_prefix = format!(".{name}.old-");
    let mut leftovers: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file_name = entry.file_name().to_str()?.to_string();
            let (pid, is_old) = if let Some(pid) = file_name.strip_prefix(&partial_prefix) {
                (pid.parse::<u32>().ok()?, false)
            } else {
                (
                    file_name.strip_prefix(&old_prefix)?.parse::<u32>().ok()?,
                    true,
                )
            };
            (!process_running(pid)).then(|| (entry.path(), is_old))
        })
        .collect();
    // Old folders first: when the target is missing, the earlier results come back
    // before any staging folder is removed.
    leftovers.sort_by_key(|(path, is_old)| (!is_old, path.clone()));
    let mut done = Vec::new();
    for (path, is_old) in leftovers {
        let outcome = if is_old && !target.exists() {
            std::fs::rename(&path, target).map(|()| Leftover::RolledBack(path.clone()))
        } else {
            std::fs::remove_dir_all(&path).map(|()| {
                if is_old {
                    Leftover::OldRemoved(path.clone())
                } else {
                    Leftover::StagingRemoved(path.clone())
                }
            })
        };
        done.push(outcome.unwrap_or_else(|e| Leftover::Kept(path, e.to_string())));
    }
    done
}

/// Whether a process with this id is running (another shine writing the same results).
fn process_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let status = unsafe { libc::kill(pid, 0) };
        status == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix("shine-staging-")
            .tempdir()
            .expect("temporary folder")
    }

    fn folder_with(path: &Path, file: &str, contents: &str) {
        std::fs::create_dir_all(path).expect("create folder");
        std::fs::write(path.join(file), contents).expect("write file");
    }

    /// An id no process has (above Linux's largest pid, 2^22).
    const DEAD_PID: u32 = 4_194_999;

    #[test]
    fn replace_exchanges_the_folders_and_returns_the_old_results() {
        let dir = scratch();
        let target = dir.path().join("out");
        let staging = partial_path(dir.path(), "out");
        let old = old_path(dir.path(), "out");
        folder_with(&target, "a.txt", "old");
        folder_with(&staging, "a.txt", "new");
        let leftover = replace(&staging, &target, &old).expect("replace");
        assert_eq!(
            std::fs::read_to_string(target.join("a.txt")).unwrap(),
            "new"
        );
        let leftover = leftover.expect("the old results are somewhere");
        assert_eq!(
            std::fs::read_to_string(leftover.join("a.txt")).unwrap(),
            "old"
        );
    }

    #[test]
    fn replace_of_a_missing_target_is_a_rename() {
        let dir = scratch();
        let target = dir.path().join("out");
        let staging = partial_path(dir.path(), "out");
        folder_with(&staging, "a.txt", "new");
        assert_eq!(
            replace(&staging, &target, &old_path(dir.path(), "out")).unwrap(),
            None
        );
        assert!(!staging.exists());
        assert_eq!(
            std::fs::read_to_string(target.join("a.txt")).unwrap(),
            "new"
        );
    }

    #[test]
    fn a_replace_killed_between_its_renames_is_rolled_back() {
        let dir = scratch();
        let target = dir.path().join("out");
        let old = dir.path().join(format!(".out.old-{DEAD_PID}"));
        let staging = dir.path().join(format!(".out.partial-{DEAD_PID}"));
        folder_with(&old, "a.txt", "old");
        folder_with(&staging, "a.txt", "new");
        let done = recover_interrupted(&target);
        assert_eq!(
            done,
            vec![
                Leftover::RolledBack(old.clone()),
                Leftover::StagingRemoved(staging.clone())
            ]
        );
        assert_eq!(
            std::fs::read_to_string(target.join("a.txt")).unwrap(),
            "old"
        );
        assert!(!old.exists() && !staging.exists());
    }

    #[test]
    fn a_replace_killed_after_its_renames_is_completed() {
        let dir = scratch();
        let target = dir.path().join("out");
        let old = dir.path().join(format!(".out.old-{DEAD_PID}"));
        folder_with(&target, "a.txt", "new");
        folder_with(&old, "a.txt", "old");
        assert_eq!(
            recover_interrupted(&target),
            vec![Leftover::OldRemoved(old.clone())]
        );
        assert_eq!(
            std::fs::read_to_string(target.join("a.txt")).unwrap(),
            "new"
        );
        assert!(!old.exists());
    }

    #[test]
    fn leftovers_of_a_running_process_and_of_other_targets_are_left_alone() {
        let dir = scratch();
        let target = dir.path().join("out");
        let ours = partial_path(dir.path(), "out");
        let other_target = dir.path().join(format!(".outer.partial-{DEAD_PID}"));
        folder_with(&ours, "a.txt", "x");
        folder_with(&other_target, "a.txt", "x");
        assert!(recover_interrupted(&target).is_empty());
        assert!(ours.exists() && other_target.exists());
    }
}
