//! Progress of the pipeline on stderr: a bar per stage when stderr is a terminal, and
//! a one-line timing summary per stage; nothing with `--quiet`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Reports the stages of one run.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    quiet: bool,
    bars: bool,
}

impl Progress {
    /// Bars only when stderr is a terminal; nothing at all when `quiet`.
    pub fn new(quiet: bool) -> Progress {
        Progress {
            quiet,
            bars: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Starts a stage of `steps` steps (0: a spinner, for a stage with no countable steps).
    pub fn stage(&self, name: &'static str, steps: u64) -> Stage {
        let bar = if self.bars {
            let bar = if steps == 0 {
                ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{spinner} {prefix:<12} {elapsed:>4} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                )
            } else {
                ProgressBar::new(steps).with_style(
                    ProgressStyle::with_template(
                        "{prefix:<12} [{bar:30}] {pos}/{len} {elapsed:>4} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                )
            };
            bar.set_prefix(name);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::hidden())
        };
        Stage {
            name,
            started: Instant::now(),
            bar,
            quiet: self.quiet,
        }
    }
}

/// One running stage; [`Stage::finish`] prints its timing line.
#[derive(Debug)]
pub struct Stage {
    name: &'static str,
    started: Instant,
    bar: ProgressBar,
    quiet: bool,
}

impl Stage {
    /// Says what the stage is doing now (e.g. the outcome being modelled).
    pub fn step(&self, message: &str) {
        self.bar.set_message(message.to_string());
    }

    /// One step done.
    pub fn advance(&self) {
        self.bar.inc(1);
    }

    /// `steps` steps done (e.g. rows converted).
    pub fn advance_by(&self, steps: u64) {
        self.bar.inc(steps);
    }

    /// Prints a line above the bar (or on stderr when there is no bar).
    pub fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// Ends the stage and prints `name  seconds`.
    pub fn finish(self) {
        self.bar.finish_and_clear();
        if !self.quiet {
            eprintln!(
                "{:<12} {:>7.2} s",
                self.name,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}
