use std::ffi::OsString;
use std::process::ExitCode;

/// polars sizes its reader pool from this variable once, when the pool first starts.
const POLARS_THREADS_VAR: &str = "POLARS_MAX_THREADS";

fn main() -> ExitCode {
    shine::memory::map_large_allocations();
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(code) = relaunch_with_polars_threads(&args) {
        return code;
    }
    match shine::run(args) {
        Ok(code) => code,
        Err(error) if shine::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", shine::error_message(&error));
            ExitCode::from(shine::exit_code(&error))
        }
    }
}

/// With `--threads N`, polars must see `POLARS_MAX_THREADS=N` in its environment, and a
/// running process cannot change its own environment soundly: start shine afresh with
/// the variable set (on Unix in place of this process). `None` when no relaunch is
/// needed or it could not be made (then polars keeps its default pool).
fn relaunch_with_polars_threads(args: &[OsString]) -> Option<ExitCode> {
    let threads = shine::cli::requested_threads(args.iter().cloned()).filter(|&n| n > 0)?;
    let wanted = threads.to_string();
    if std::env::var_os(POLARS_THREADS_VAR).is_some_and(|v| v == wanted.as_str()) {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let mut command = std::process::Command::new(exe);
    command.args(&args[1..]).env(POLARS_THREADS_VAR, wanted);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Returns only if the new image could not be started.
        let _ = command.exec();
        None
    }
    #[cfg(not(unix))]
    {
        let status = command.status().ok()?;
        let code = status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1);
        Some(ExitCode::from(code))
    }
}
