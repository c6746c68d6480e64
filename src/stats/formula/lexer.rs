//! The tokens of a formula: names (bare or backticked), numbers, strings, operators and
//! punctuation, each with its position (characters from 1).

use super::error::FormulaError;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum TokKind {
    Name,
    Number(f64),
    Str(String),
    Op(Op),
    LParen,
    RParen,
    Comma,
    Equals,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Tilde,
    Bar,
    DoubleBar,
    Plus,
    Minus,
    Times,
    Divide,
    Colon,
    Power,
    Special,
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) kind: TokKind,
    /// The name (unquoted for backticked names) or the source text.
    pub(super) text: String,
    pub(super) position: usize,
}

pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let position = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let starts_number = c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()));
        if starts_number {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '.' {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let literal: String = chars[start..i].iter().collect();
            // R's integer suffix: `2L` is the number 2.
            if i < chars.len() && chars[i] == 'L' {
                i += 1;
            }
            let value = literal.parse::<f64>().map_err(|_| FormulaError::Invalid {
                message: format!("`{literal}` is not a number"),
                position,
            })?;
            tokens.push(Token {
                kind: TokKind::Number(value),
                text: literal,
                position,
            });
            continue;
        }
        if c.is_alphabetic() || c == '.' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            tokens.push(Token {
                kind: TokKind::Name,
                text: chars[start..i].iter().collect(),
                position,
            });
            continue;
        }
        if c == '`' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && chars[j] != '`' {
                j += 1;
            }
            if j >= chars.len() {
                return Err(FormulaError::Unterminated {
                    what: "backticked name",
                    position,
                });
            }
            let name: String = chars[start..j].iter().collect();
            if name.is_empty() {
                return Err(FormulaError::Invalid {
                    message: "empty backticked name".to_string(),
                    position,
                });
            }
            tokens.push(Token {
                kind: TokKind::Name,
                text: name,
                position,
            });
            i = j + 1;
            continue;
        }
        if c == '"' || c == '\'' {
            let mut j = i + 1;
            let mut value = String::new();
            let mut closed = false;
            while j < chars.len() {
                match chars[j] {
                    '\\' if j + 1 < chars.len() => {
                        value.push(chars[j + 1]);
                        j += 2;
                    }
                    q if q == c => {
                        closed = true;
                        j += 1;
                        break;
                    }
                    other => {
                        value.push(other);
                        j += 1;
                    }
                }
            }
            if !closed {
                return Err(FormulaError::Unterminated {
                    what: "string",
                    position,
                });
            }
            tokens.push(Token {
                kind: TokKind::Str(value),
                text: chars[i..j].iter().collect(),
                position,
            });
            i = j;
            continue;
        }
        if c == '%' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '%' {
                j += 1;
            }
            if j >= chars.len() {
                return Err(FormulaError::Unterminated {
                    what: "`%...%` operator",
                    position,
                });
            }
            tokens.push(Token {
                kind: TokKind::Op(Op::Special),
                text: chars[i..=j].iter().collect(),
                position,
            });
            i = j + 1;
            continue;
        }
        let (kind, len) = match c {
            '~' => (TokKind::Op(Op::Tilde), 1),
            '|' if chars.get(i + 1) == Some(&'|') => (TokKind::Op(Op::DoubleBar), 2),
            '|' => (TokKind::Op(Op::Bar), 1),
            '+' => (TokKind::Op(Op::Plus), 1),
            '-' => (TokKind::Op(Op::Minus), 1),
            '*' if chars.get(i + 1) == Some(&'*') => (TokKind::Op(Op::Power), 2),
            '*' => (TokKind::Op(Op::Times), 1),
            '/' => (TokKind::Op(Op::Divide), 1),
            ':' => (TokKind::Op(Op::Colon), 1),
            '^' => (TokKind::Op(Op::Power), 1),
            '(' => (TokKind::LParen, 1),
            ')' => (TokKind::RParen, 1),
            ',' => (TokKind::Comma, 1),
            '=' => (TokKind::Equals, 1),
            other => {
                return Err(FormulaError::InvalidCharacter {
                    found: other,
                    position,
                })
            }
        };
        tokens.push(Token {
            kind,
            text: chars[i..i + len].iter().collect(),
            position,
        });
        i += len;
    }
    Ok(tokens)
}
