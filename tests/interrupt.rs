//! Interrupting `shine analyse --force` at several points: SIGINT and SIGTERM leave no
//! staging folder beside `--out`; SIGKILL leaves at most one, which the next run removes;
//! `--out` always holds a complete results folder (the earlier one or the new one).
#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Folders beside `out` that a results folder leaves while it is written.
fn leftovers(parent: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(parent)
        .expect("list folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.partial-") || n.starts_with(".out.old-"))
        .collect();
    names.sort();
    names
}

/// Whether `out` is a complete results folder: its manifest lists files that are all there.
fn complete_results(out: &Path) -> bool {
    let Ok(bytes) = std::fs::read(out.join("manifest.json")) else {
        return false;
    };
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return false;
    };
    manifest["outputs"].as_array().is_some_and(|files| {
        !files.is_empty()
            && files
                .iter()
                .all(|f| f["path"].as_str().is_some_and(|p| out.join(p).is_file()))
    })
}

/// `analyse` of the extracts in `x/`, replacing the results in `out/`.
fn analyse(dir: &Path) -> Command {
    let mut command = Command::new(SHINE);
    command
        .args(["analyse", "x", "--out", "out", "--force", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::null());
    command
}

fn start(dir: &Path) -> Child {
    analyse(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shine")
}

fn signal(child: &Child, signal: i32) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: sends a signal to the child this test started.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// When to interrupt: after a fixed delay, or as soon as the staging folder appears.
#[derive(Clone, Copy, Debug)]
enum When {
    After(Duration),
    Staging,
}

/// Runs analyse, interrupts it, and returns whether the signal reached a running process.
fn interrupt(dir: &Path, when: When, sig: i32) -> bool {
    let mut child = start(dir);
    let started = Instant::now();
    let reached = loop {
        if child.try_wait().expect("wait").is_some() {
            break false;
        }
        let due = match when {
            When::After(delay) => started.elapsed() >= delay,
            When::Staging => leftovers(dir)
                .iter()
                .any(|n| n.starts_with(".out.partial-")),
        };
        if due {
            signal(&child, sig);
            break true;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "analyse did not finish"
        );
        if matches!(when, When::After(_)) {
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    reached
}

#[test]
fn an_interrupted_analyse_never_leaves_staging_folders_or_an_empty_out() {
    let dir = Scratch::new("interrupt");
    run_ok(
        shine()
            .args([
                "simulate",
                "--quiet",
                "--referred",
                "30",
                "--pool",
                "2000",
                "--seed",
                "3",
                "--out",
            ])
            .arg(dir.join("x")),
    );
    run_ok(&mut analyse(dir.path()));
    assert!(
        complete_results(&dir.join("out")),
        "the first run wrote no results"
    );
    // A second run, timed, to place the interruptions.
    let started = Instant::now();
    run_ok(&mut analyse(dir.path()));
    let whole = started.elapsed();

    // Points early enough in the run that a loaded machine's slower or faster run still
    // reaches them; the late moments (writing the report, committing) are reached by
    // waiting for the staging folder.
    let points = [
        When::After(Duration::from_millis(50)),
        When::After(whole / 4),
        When::After(whole / 2),
        When::Staging,
    ];
    let mut reached = 0;
    let mut caught_staging = 0;
    for sig in [libc::SIGINT, libc::SIGTERM] {
        for when in points {
            if interrupt(dir.path(), when, sig) {
                reached += 1;
                caught_staging += usize::from(matches!(when, When::Staging));
            }
            assert_eq!(
                leftovers(dir.path()),
                Vec::<String>::new(),
                "signal {sig} at {when:?}"
            );
            assert!(
                complete_results(&dir.join("out")),
                "signal {sig} at {when:?}: --out is not a complete results folder"
            );
        }
    }
    for when in points {
        if interrupt(dir.path(), when, libc::SIGKILL) {
            reached += 1;
        }
        let left = leftovers(dir.path());
        assert!(left.len() <= 1, "SIGKILL at {when:?} left {left:?}");
        assert!(
            complete_results(&dir.join("out")),
            "SIGKILL at {when:?}: --out is not a complete results folder"
        );
        // The next run finds what the killed one left and removes it.
        let next = run_ok(&mut analyse(dir.path()));
        assert_eq!(
            leftovers(dir.path()),
            Vec::<String>::new(),
            "after the run that followed SIGKILL at {when:?}"
        );
        if !left.is_empty() {
            assert!(next.stderr.contains("interrupted run"), "{}", next.stderr);
        }
    }
    eprintln!("{reached} interruptions reached a running analyse, {caught_staging} while its staging folder existed");
    assert!(
        reached >= 8,
        "only {reached} interruptions reached a running process"
    );
}
