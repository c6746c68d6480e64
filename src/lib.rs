//! `shine`: evaluation of a social-prescribing programme from Danish register and survey
//! extracts — matching, difference-in-differences, mixed models, tables and a report.
//!
//! Layers, from the outside in: [`cli`] (arguments and dispatch), [`pipeline`] (the
//! stages of `analyse` and the generic fits), [`plan`] (the analysis plan) and
//! [`results`] (the structs the pipeline returns), [`data`] (dictionary, extracts,
//! derived tables), [`stats`] (pure numerics) and [`report`] (tables, figures, the
//! report, manifest). Data flows one way: extracts → `data` → `stats` → `pipeline` →
//! `results` → `report`; `report` reads `results` and `plan`, never `pipeline`.

pub mod cli;
pub mod data;
pub mod memory;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod results;
pub mod stats;

#[cfg(test)]
pub(crate) mod test_support;

pub use cli::run;

/// Bad usage or bad input: the command exits with code 2. The message names the file,
/// row and column where there is one.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// The exit code for an error: 2 for bad usage or bad input, 1 for an analysis that
/// could not be completed.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    let input = error.chain().any(|e| {
        e.is::<InputError>() || e.is::<clap::Error>() || e.is::<data::dictionary::DictionaryError>()
    });
    if input {
        2
    } else {
        1
    }
}

/// The message for an error and its causes, each said once: a cause whose text the
/// messages above it already hold (a `{path}: {source}` message over its OS error) is not
/// repeated.
pub fn error_message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// Whether the error is a closed pipe on stdout (`shine ... | head`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
