//! Why a formula could not be parsed.

/// Why a formula could not be parsed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FormulaError {
    #[error("formula: the formula is empty")]
    Empty,
    #[error("formula: no `~` in `{text}`; write it as `y ~ x1 + x2`")]
    MissingTilde { text: String },
    #[error("formula: unexpected character `{found}` at position {position}")]
    InvalidCharacter { found: char, position: usize },
    #[error("formula: unbalanced parenthesis: `(` at position {position} is never closed")]
    UnclosedParen { position: usize },
    #[error("formula: unbalanced parenthesis: `)` at position {position} has no matching `(`")]
    UnmatchedCloseParen { position: usize },
    #[error("formula: unterminated {what} starting at position {position}")]
    Unterminated { what: &'static str, position: usize },
    #[error("formula: the formula ends where {expected} was expected")]
    UnexpectedEnd { expected: &'static str },
    #[error("formula: unexpected `{found}` at position {position}; expected {expected}")]
    UnexpectedToken {
        found: String,
        position: usize,
        expected: &'static str,
    },
    #[error(
        "formula: unknown function `{name}()` at position {position}{}",
        hint_suffix(hint)
    )]
    UnknownFunction {
        name: String,
        position: usize,
        hint: Option<String>,
    },
    #[error("formula: {message} (at position {position})")]
    Invalid { message: String, position: usize },
    #[error("formula: nested more than {limit} levels deep at position {position} (parentheses, signs, powers or function calls); write it more simply")]
    TooDeep { limit: usize, position: usize },
}

pub(super) fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!("; {h}"),
        None => String::new(),
    }
}
