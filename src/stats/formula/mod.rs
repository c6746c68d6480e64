//! R model formulas: `y ~ x1 * x2 + factor(wave) + I(age^2)`, lme4 random-effect terms
//! `(1 + t | id)`, and fixest fixed effects and event-study terms
//! `y ~ i(rel_period, treated, ref = -1) | unit + period`.
//!
//! [`parse`] turns a formula into a [`Formula`]: the response, the intercept, the
//! expanded fixed-effect terms, the random-effect terms and the fixest fixed effects. The
//! expansion follows R's `terms.formula()` (R's `src/library/stats/src/model.c`):
//!
//! - `a + b` adds terms, `a - b` removes them, `a:b` is the interaction, `a*b` is
//!   `a + b + a:b`, `a/b` is `a + a:b`, `(a + b + c)^2` is every interaction up to order 2;
//! - `- 1`, `+ 0` and `0 +` remove the intercept, `1 +` or `- 0` put it back;
//! - duplicate terms are dropped (`a:a` is `a`, `b:a` is `a:b`);
//! - terms are ordered by their order (main effects, then two-way interactions, ...),
//!   and within an order by first appearance;
//! - the variables of an interaction are listed in the order in which the variables first
//!   appear in the formula, so `y ~ b:a + a` has the terms `a` and `b:a`.
//!
//! Labels are R's deparsed expressions (`I(age^2)`, `log(x + 1)`, `` `my col` ``,
//! `I(x/1e+06)`), so coefficient names match R's.
//!
//! Random-effect terms follow lme4's `findbars()`: `(t || g)` becomes `(1 | g)` and
//! `(0 + t | g)`; `(1 | a/b)` becomes `(1 | b:a)` and `(1 | a)`, in that order and with
//! those group names.
//!
//! A `|` at the top level of the right-hand side (outside parentheses) starts fixest's
//! fixed-effects part: `y ~ x | fe1 + fe2` or `y ~ x | fe1^fe2`.
//!
//! Positions in error messages count characters from 1.
//!
//! The stages, one file each: `lexer` cuts the text into tokens, `parser` builds R's
//! syntax tree by operator precedence, `interpret` reads the tree as a model formula,
//! with `encode` expanding the right-hand side into terms and `variable` reading each
//! variable; `terms` holds what a parsed formula is, and `deparse` writes its labels
//! back as R deparses them.

mod deparse;
mod encode;
mod error;
mod interpret;
mod lexer;
mod parser;
mod terms;
mod variable;

#[cfg(test)]
mod tests;

pub use deparse::{format_r_number, is_syntactic_name, quote_name};
pub use error::FormulaError;
pub use terms::{Arith, ArithOp, Expr, Formula, Func, RandomTerm, RefValue, Term};

use interpret::interpret;
use lexer::{tokenize, TokKind};
use parser::Parser;

/// Parses an R formula.
///
/// For example, `parse("y ~ a*b + (1 | id)")` gives the terms `a`, `b`, `a:b` with an
/// intercept, and one random intercept by `id`.
///
/// # Errors
/// A [`FormulaError`] that says what was wrong and where: an empty formula, a missing
/// `~`, unbalanced parentheses, an unknown function, a misplaced random-effect term, ...
pub fn parse(text: &str) -> Result<Formula, FormulaError> {
    if text.trim().is_empty() {
        return Err(FormulaError::Empty);
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        open_parens: Vec::new(),
        depth: 0,
    };
    let node = parser.parse_expr(0)?;
    if let Some(tok) = parser.peek() {
        return Err(match tok.kind {
            TokKind::RParen => FormulaError::UnmatchedCloseParen {
                position: tok.position,
            },
            _ => FormulaError::UnexpectedToken {
                found: tok.text.clone(),
                position: tok.position,
                expected: "an operator such as `+`, `:` or `*`",
            },
        });
    }
    interpret(text, node)
}
