use std::process::ExitCode;

fn main() -> ExitCode {
    match shine::run(std::env::args_os()) {
        Ok(code) => code,
        Err(error) if shine::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(shine::exit_code(&error))
        }
    }
}
