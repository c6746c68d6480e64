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

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

/// A parsed model formula.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Formula {
    /// The left-hand side, if any (`~ x` has none).
    pub response: Option<Expr>,
    /// Whether the fixed part has an intercept (R: `attr(terms(f), "intercept")`).
    pub intercept: bool,
    /// The fixed-effect terms in R's order, without the intercept.
    pub terms: Vec<Term>,
    /// lme4 random-effect terms, with `||` and `/` expanded as lme4's `findbars()` does.
    pub random: Vec<RandomTerm>,
    /// fixest fixed effects after a top-level `|`; each is one or more columns combined
    /// with `^` (`fe1^fe2` is `["fe1", "fe2"]`).
    pub fixed_effects: Vec<Vec<String>>,
}

/// One term of the model: a main effect has one factor, `a:b` has two. The factors are
/// in the order of their first appearance in the formula, as R orders them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Term {
    pub factors: Vec<Expr>,
}

/// A variable of the model: what R calls a variable of the model frame.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Expr {
    /// A data column, used as it is: numeric columns are numeric, string columns are
    /// categorical, logical columns are factors with levels `FALSE`, `TRUE`.
    Column(String),
    /// `factor(x)`: the column as a categorical variable.
    Factor(String),
    /// A numeric transformation: `I(expr)`, `log(x)`, `exp(x)`, `sqrt(x)`, `abs(x)`, ...
    Call { func: Func, arg: Arith },
    /// fixest's `i(var, by, ref = ...)`: one indicator per level of `var` except the
    /// reference levels, each multiplied by `by` when it is given.
    EventStudy {
        var: String,
        by: Option<String>,
        refs: Vec<RefValue>,
    },
}

/// A function allowed in a formula. `I()` protects arithmetic; the others are the usual
/// transformations and may also be used bare (`log(income)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Func {
    I,
    Log,
    Log2,
    Log10,
    Exp,
    Sqrt,
    Abs,
}

/// Arithmetic inside `I()` and the transformation functions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Arith {
    Number(f64),
    Column(String),
    Neg(Box<Arith>),
    Pos(Box<Arith>),
    Binary {
        op: ArithOp,
        lhs: Box<Arith>,
        rhs: Box<Arith>,
    },
    Call {
        func: Func,
        arg: Box<Arith>,
    },
    /// Parentheses written by the user, kept so the label reads as R deparses it.
    Paren(Box<Arith>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// A reference level of fixest's `i()`: `ref = -1` or `ref = "control"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum RefValue {
    Number(f64),
    Text(String),
}

/// An lme4 random-effect term `(lhs | group)`, after `||` and `/` have been expanded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RandomTerm {
    /// Whether the term has a random intercept (`(t | g)` does, `(0 + t | g)` does not).
    pub intercept: bool,
    /// The random slopes, expanded as fixed-effect terms are.
    pub terms: Vec<Term>,
    /// The grouping factor's columns: `g` is `["g"]`, `a:b` is `["a", "b"]`; the nested
    /// `a/b` gives `["b", "a"]` (lme4's `b:a`) and `["a"]`.
    pub group: Vec<String>,
    /// The grouping factor's name as lme4 prints it: `g`, `a:b`, `b:a`, `c:(b:a)`.
    pub group_label: String,
    /// `false` for the pieces of a `||` term.
    pub correlated: bool,
}

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
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!("; {h}"),
        None => String::new(),
    }
}

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

impl Formula {
    /// R's term labels (`attr(terms(f), "term.labels")`): `age`, `factor(wave)`, `a:b`.
    pub fn term_labels(&self) -> Vec<String> {
        self.terms.iter().map(Term::label).collect()
    }

    /// The response's label, e.g. `y` or `log(y)`.
    pub fn response_label(&self) -> Option<String> {
        self.response.as_ref().map(Expr::label)
    }

    /// Every data column the formula refers to: response, terms, random-effect terms and
    /// their grouping factors, fixed effects.
    pub fn columns(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some(r) = &self.response {
            r.collect_columns(&mut out);
        }
        for t in &self.terms {
            t.collect_columns(&mut out);
        }
        for r in &self.random {
            for t in &r.terms {
                t.collect_columns(&mut out);
            }
            out.extend(r.group.iter().cloned());
        }
        for fe in &self.fixed_effects {
            out.extend(fe.iter().cloned());
        }
        out
    }
}

impl Term {
    /// R's label: the factors' labels joined by `:`.
    pub fn label(&self) -> String {
        let labels: Vec<String> = self.factors.iter().map(Expr::label).collect();
        labels.join(":")
    }

    fn collect_columns(&self, out: &mut BTreeSet<String>) {
        for f in &self.factors {
            f.collect_columns(out);
        }
    }
}

impl RandomTerm {
    /// The term as lme4 prints it: `1 + t | g`, `0 + t | g`.
    pub fn label(&self) -> String {
        let mut lhs: Vec<String> = Vec::new();
        lhs.push(if self.intercept { "1" } else { "0" }.to_string());
        lhs.extend(self.terms.iter().map(Term::label));
        format!("{} | {}", lhs.join(" + "), self.group_label)
    }
}

impl Expr {
    /// R's deparsed label: `age`, `factor(education)`, `I(age^2)`, `log(income)`,
    /// `` `my col` ``, `i(rel_period, treated, ref = -1)`.
    pub fn label(&self) -> String {
        match self {
            Expr::Column(name) => quote_name(name),
            Expr::Factor(name) => format!("factor({})", quote_name(name)),
            Expr::Call { func, arg } => format!("{}({})", func.name(), arg.deparse()),
            Expr::EventStudy { var, by, refs } => {
                let mut s = format!("i({}", quote_name(var));
                if let Some(b) = by {
                    s.push_str(", ");
                    s.push_str(&quote_name(b));
                }
                match refs.as_slice() {
                    [] => {}
                    [one] => {
                        s.push_str(", ref = ");
                        s.push_str(&one.deparse());
                    }
                    many => {
                        let parts: Vec<String> = many.iter().map(RefValue::deparse).collect();
                        s.push_str(&format!(", ref = c({})", parts.join(", ")));
                    }
                }
                s.push(')');
                s
            }
        }
    }

    /// The data columns this variable reads.
    pub fn columns(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_columns(&mut out);
        out
    }

    fn collect_columns(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::Column(n) | Expr::Factor(n) => {
                out.insert(n.clone());
            }
            Expr::Call { arg, .. } => arg.collect_columns(out),
            Expr::EventStudy { var, by, .. } => {
                out.insert(var.clone());
                if let Some(b) = by {
                    out.insert(b.clone());
                }
            }
        }
    }
}

impl Func {
    /// The function's name as written in R.
    pub fn name(self) -> &'static str {
        match self {
            Func::I => "I",
            Func::Log => "log",
            Func::Log2 => "log2",
            Func::Log10 => "log10",
            Func::Exp => "exp",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
        }
    }

    fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "I" => Func::I,
            "log" => Func::Log,
            "log2" => Func::Log2,
            "log10" => Func::Log10,
            "exp" => Func::Exp,
            "sqrt" => Func::Sqrt,
            "abs" => Func::Abs,
            _ => return None,
        })
    }

    /// Applies the function to one value (`I` is the identity).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Func::I => x,
            Func::Log => x.ln(),
            Func::Log2 => x.log2(),
            Func::Log10 => x.log10(),
            Func::Exp => x.exp(),
            Func::Sqrt => x.sqrt(),
            Func::Abs => x.abs(),
        }
    }
}

impl Arith {
    /// R's deparse: spaces around `+ - * /`, none around `^` or after a unary sign.
    pub fn deparse(&self) -> String {
        match self {
            Arith::Number(v) => format_r_number(*v),
            Arith::Column(n) => quote_name(n),
            Arith::Neg(a) => format!("-{}", a.deparse()),
            Arith::Pos(a) => format!("+{}", a.deparse()),
            Arith::Binary { op, lhs, rhs } => match op {
                ArithOp::Pow => format!("{}^{}", lhs.deparse(), rhs.deparse()),
                ArithOp::Add => format!("{} + {}", lhs.deparse(), rhs.deparse()),
                ArithOp::Sub => format!("{} - {}", lhs.deparse(), rhs.deparse()),
                ArithOp::Mul => format!("{} * {}", lhs.deparse(), rhs.deparse()),
                ArithOp::Div => format!("{}/{}", lhs.deparse(), rhs.deparse()),
            },
            Arith::Call { func, arg } => format!("{}({})", func.name(), arg.deparse()),
            Arith::Paren(a) => format!("({})", a.deparse()),
        }
    }

    fn collect_columns(&self, out: &mut BTreeSet<String>) {
        match self {
            Arith::Number(_) => {}
            Arith::Column(n) => {
                out.insert(n.clone());
            }
            Arith::Neg(a) | Arith::Pos(a) | Arith::Paren(a) | Arith::Call { arg: a, .. } => {
                a.collect_columns(out)
            }
            Arith::Binary { lhs, rhs, .. } => {
                lhs.collect_columns(out);
                rhs.collect_columns(out);
            }
        }
    }
}

impl RefValue {
    /// The label the value is matched against: R's `as.character()` of the value.
    pub fn label(&self) -> String {
        match self {
            RefValue::Number(v) => format_r_number(*v),
            RefValue::Text(s) => s.clone(),
        }
    }

    fn deparse(&self) -> String {
        match self {
            RefValue::Number(v) => format_r_number(*v),
            RefValue::Text(s) => format!("{s:?}"),
        }
    }
}

impl fmt::Display for Formula {
    /// A normalised formula: `y ~ a + b + a:b + (1 | g)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rhs: Vec<String> = Vec::new();
        if !self.intercept {
            rhs.push("0".to_string());
        } else if self.terms.is_empty() {
            rhs.push("1".to_string());
        }
        rhs.extend(self.term_labels());
        rhs.extend(self.random.iter().map(|r| format!("({})", r.label())));
        if let Some(r) = &self.response {
            write!(f, "{} ", r.label())?;
        }
        write!(f, "~ {}", rhs.join(" + "))?;
        if !self.fixed_effects.is_empty() {
            let fes: Vec<String> = self.fixed_effects.iter().map(|fe| fe.join("^")).collect();
            write!(f, " | {}", fes.join(" + "))?;
        }
        Ok(())
    }
}

/// Whether `name` is a syntactic R name (one that needs no backticks).
pub fn is_syntactic_name(name: &str) -> bool {
    const RESERVED: [&str; 19] = [
        "if",
        "else",
        "repeat",
        "while",
        "function",
        "for",
        "next",
        "break",
        "TRUE",
        "FALSE",
        "NULL",
        "Inf",
        "NaN",
        "NA",
        "NA_integer_",
        "NA_real_",
        "NA_character_",
        "in",
        "...",
    ];
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !(first.is_alphabetic() || first == '.') {
        return false;
    }
    if first == '.' && name.chars().nth(1).is_some_and(|c| c.is_ascii_digit()) {
        return false;
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '.' || c == '_')
    {
        return false;
    }
    !RESERVED.contains(&name)
}

/// A name as R deparses it: backticked unless syntactic.
pub fn quote_name(name: &str) -> String {
    if is_syntactic_name(name) {
        name.to_string()
    } else {
        format!("`{name}`")
    }
}

/// Formats a number as R's `as.character()` and `deparse()` do: at most 15 significant
/// digits, fixed notation unless scientific notation is shorter (`1e+05`, `123456`,
/// `2.5`, `-1`, `1e-04`, `0.333333333333333`).
pub fn format_r_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Inf" } else { "-Inf" }.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    // 15 significant digits, then drop trailing zeros of the mantissa.
    let sci = format!("{:.14e}", x.abs());
    let (mantissa, exponent) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let nsig = digits.len() as i32;
    let neg = i32::from(x < 0.0);
    // Digits right of the decimal point in fixed notation.
    let rgt = (nsig - exponent - 1).max(0);
    let left = (exponent + 1).max(1);
    let fixed_width = neg + left + if rgt > 0 { rgt + 1 } else { 0 };
    let exp_width = if exponent.abs() >= 100 { 5 } else { 4 };
    let sci_width = neg + if nsig > 1 { nsig + 1 } else { 1 } + exp_width;
    let sign = if x < 0.0 { "-" } else { "" };
    if fixed_width <= sci_width {
        let s = format!("{:.*}", rgt as usize, x);
        if s == "-0" {
            "0".to_string()
        } else {
            s
        }
    } else {
        let mut m = String::new();
        m.push_str(&digits[..1]);
        if nsig > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let esign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exponent.abs())
    }
}

// ---------------------------------------------------------------------------------------
// Tokens

#[derive(Clone, Debug, PartialEq)]
enum TokKind {
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
enum Op {
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
struct Token {
    kind: TokKind,
    /// The name (unquoted for backticked names) or the source text.
    text: String,
    position: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, FormulaError> {
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

// ---------------------------------------------------------------------------------------
// Syntax tree: R's parse of the formula, before any formula semantics.

#[derive(Clone, Debug)]
enum Node {
    Name {
        name: String,
        position: usize,
    },
    Number {
        value: f64,
        position: usize,
    },
    Str {
        value: String,
        position: usize,
    },
    Call {
        name: String,
        args: Vec<CallArg>,
        position: usize,
    },
    Unary {
        op: Op,
        operand: Box<Node>,
        position: usize,
    },
    Binary {
        op: Op,
        lhs: Box<Node>,
        rhs: Box<Node>,
        position: usize,
        /// The operator's text, for `%in%` and friends.
        text: String,
    },
    Paren {
        inner: Box<Node>,
        position: usize,
    },
}

#[derive(Clone, Debug)]
struct CallArg {
    name: Option<String>,
    value: Node,
}

impl Node {
    fn position(&self) -> usize {
        match self {
            Node::Name { position, .. }
            | Node::Number { position, .. }
            | Node::Str { position, .. }
            | Node::Call { position, .. }
            | Node::Unary { position, .. }
            | Node::Binary { position, .. }
            | Node::Paren { position, .. } => *position,
        }
    }
}

/// Binding powers follow R's operator precedence (`?Syntax`), from loosest to tightest:
/// `~`, `|` `||`, `+ -`, `* /`, `%any%`, `:`, unary `+ -`, `^` (right-associative).
fn infix_binding_power(op: Op) -> (u8, u8) {
    match op {
        Op::Tilde => (1, 2),
        Op::Bar | Op::DoubleBar => (3, 4),
        Op::Plus | Op::Minus => (5, 6),
        Op::Times | Op::Divide => (7, 8),
        Op::Special => (9, 10),
        Op::Colon => (11, 12),
        Op::Power => (16, 15),
    }
}

const PREFIX_SIGN_POWER: u8 = 13;
const PREFIX_TILDE_POWER: u8 = 2;

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    open_parens: Vec<usize>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&'a Token> {
        let t = self.tokens.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn end_error(&self, expected: &'static str) -> FormulaError {
        match self.open_parens.last() {
            Some(&position) => FormulaError::UnclosedParen { position },
            None => FormulaError::UnexpectedEnd { expected },
        }
    }

    fn parse_expr(&mut self, min_bp: u8) -> Result<Node, FormulaError> {
        let mut lhs = self.parse_prefix()?;
        while let Some(tok) = self.peek() {
            let op = match tok.kind {
                TokKind::Op(op) => op,
                _ => break,
            };
            let (lbp, rbp) = infix_binding_power(op);
            if lbp < min_bp {
                break;
            }
            self.pos += 1;
            let rhs = self.parse_operand(rbp, tok)?;
            lhs = Node::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                position: tok.position,
                text: tok.text.clone(),
            };
        }
        Ok(lhs)
    }

    /// The operand after an operator: a clearer error when it is missing.
    fn parse_operand(&mut self, bp: u8, op: &Token) -> Result<Node, FormulaError> {
        match self.peek() {
            None => Err(match self.open_parens.last() {
                Some(&position) => FormulaError::UnclosedParen { position },
                None if op.kind == TokKind::Op(Op::Tilde) => FormulaError::Invalid {
                    message: "nothing after `~`; add the model's terms, e.g. `y ~ x` or `y ~ 1`"
                        .to_string(),
                    position: op.position,
                },
                None => FormulaError::Invalid {
                    message: format!("nothing after `{}`", op.text),
                    position: op.position,
                },
            }),
            Some(_) => self.parse_expr(bp),
        }
    }

    fn parse_prefix(&mut self) -> Result<Node, FormulaError> {
        let Some(tok) = self.next() else {
            return Err(self.end_error("a term"));
        };
        match &tok.kind {
            TokKind::Name => {
                if self.peek().is_some_and(|t| t.kind == TokKind::LParen) {
                    self.pos += 1;
                    let args = self.parse_args(tok.position + tok.text.chars().count())?;
                    Ok(Node::Call {
                        name: tok.text.clone(),
                        args,
                        position: tok.position,
                    })
                } else {
                    Ok(Node::Name {
                        name: tok.text.clone(),
                        position: tok.position,
                    })
                }
            }
            TokKind::Number(v) => Ok(Node::Number {
                value: *v,
                position: tok.position,
            }),
            TokKind::Str(s) => Ok(Node::Str {
                value: s.clone(),
                position: tok.position,
            }),
            TokKind::LParen => {
                self.open_parens.push(tok.position);
                let inner = self.parse_expr(0)?;
                match self.next() {
                    Some(t) if t.kind == TokKind::RParen => {
                        self.open_parens.pop();
                        Ok(Node::Paren {
                            inner: Box::new(inner),
                            position: tok.position,
                        })
                    }
                    Some(t) => Err(FormulaError::UnexpectedToken {
                        found: t.text.clone(),
                        position: t.position,
                        expected: "an operator or `)`",
                    }),
                    None => Err(FormulaError::UnclosedParen {
                        position: tok.position,
                    }),
                }
            }
            TokKind::Op(op @ (Op::Minus | Op::Plus)) => {
                let operand = self.parse_operand(PREFIX_SIGN_POWER, tok)?;
                Ok(Node::Unary {
                    op: *op,
                    operand: Box::new(operand),
                    position: tok.position,
                })
            }
            TokKind::Op(Op::Tilde) => {
                let operand = self.parse_operand(PREFIX_TILDE_POWER, tok)?;
                Ok(Node::Unary {
                    op: Op::Tilde,
                    operand: Box::new(operand),
                    position: tok.position,
                })
            }
            TokKind::RParen => Err(if self.open_parens.is_empty() {
                FormulaError::UnmatchedCloseParen {
                    position: tok.position,
                }
            } else {
                FormulaError::UnexpectedToken {
                    found: tok.text.clone(),
                    position: tok.position,
                    expected: "a term before `)`",
                }
            }),
            _ => Err(FormulaError::UnexpectedToken {
                found: tok.text.clone(),
                position: tok.position,
                expected: "a term (a column, a number or a function call)",
            }),
        }
    }

    /// Arguments after `name(`; `open` is the position of the `(`.
    fn parse_args(&mut self, open: usize) -> Result<Vec<CallArg>, FormulaError> {
        self.open_parens.push(open);
        let mut args = Vec::new();
        if self.peek().is_some_and(|t| t.kind == TokKind::RParen) {
            self.pos += 1;
            self.open_parens.pop();
            return Ok(args);
        }
        loop {
            let named = matches!(
                (self.tokens.get(self.pos), self.tokens.get(self.pos + 1)),
                (Some(a), Some(b)) if a.kind == TokKind::Name && b.kind == TokKind::Equals
            );
            let name = if named {
                let n = self.tokens[self.pos].text.clone();
                self.pos += 2;
                Some(n)
            } else {
                None
            };
            let value = self.parse_expr(0)?;
            args.push(CallArg { name, value });
            match self.next() {
                Some(t) if t.kind == TokKind::Comma => continue,
                Some(t) if t.kind == TokKind::RParen => break,
                Some(t) => {
                    return Err(FormulaError::UnexpectedToken {
                        found: t.text.clone(),
                        position: t.position,
                        expected: "`,` or `)`",
                    })
                }
                None => return Err(FormulaError::UnclosedParen { position: open }),
            }
        }
        self.open_parens.pop();
        Ok(args)
    }
}

// ---------------------------------------------------------------------------------------
// Formula semantics

fn interpret(text: &str, node: Node) -> Result<Formula, FormulaError> {
    let (response, rhs) = match node {
        Node::Binary {
            op: Op::Tilde,
            lhs,
            rhs,
            ..
        } => (Some(*lhs), *rhs),
        Node::Unary {
            op: Op::Tilde,
            operand,
            ..
        } => (None, *operand),
        _ => {
            return Err(FormulaError::MissingTilde {
                text: text.trim().to_string(),
            })
        }
    };
    let response = match response {
        Some(node) => Some(response_expr(node)?),
        None => None,
    };

    // A top-level `|` starts fixest's fixed-effects part.
    let (fixed_part, fe_part) = match rhs {
        Node::Binary {
            op: Op::Bar,
            lhs,
            rhs,
            ..
        } => (*lhs, Some(*rhs)),
        Node::Binary {
            op: Op::DoubleBar,
            position,
            ..
        } => {
            return Err(FormulaError::Invalid {
                message: "`||` belongs inside a random-effect term such as `(x || g)`".to_string(),
                position,
            })
        }
        other => (other, None),
    };

    let mut enc = Encoder::new();
    let terms = enc.encode(&fixed_part, true)?;
    let mut formula_terms = enc.finish(terms);
    let intercept = enc.intercept;
    let random = std::mem::take(&mut enc.random);

    let mut fixed_effects = Vec::new();
    if let Some(fe) = fe_part {
        collect_fixed_effects(&fe, &mut fixed_effects)?;
        if !random.is_empty() {
            return Err(FormulaError::Invalid {
                message: "a formula cannot have both random-effect terms `( | )` and fixed effects after `|`".to_string(),
                position: fe.position(),
            });
        }
    }
    // R drops a response that reappears on the right-hand side only with a warning; a
    // response used as a predictor is almost always a mistake.
    if let Some(r) = &response {
        if formula_terms
            .iter()
            .any(|t| t.factors.len() == 1 && t.factors[0] == *r)
        {
            formula_terms.retain(|t| !(t.factors.len() == 1 && t.factors[0] == *r));
        }
    }
    Ok(Formula {
        response,
        intercept,
        terms: formula_terms,
        random,
        fixed_effects,
    })
}

fn response_expr(node: Node) -> Result<Expr, FormulaError> {
    match node {
        Node::Paren { inner, .. } => response_expr(*inner),
        Node::Name { .. } | Node::Call { .. } => variable(&node),
        other => Err(FormulaError::Invalid {
            message: "the response must be a column or a function of one, like `y` or `log(y)`; \
                      wrap arithmetic in I(), e.g. `I(y / 100) ~ x`"
                .to_string(),
            position: other.position(),
        }),
    }
}

fn collect_fixed_effects(node: &Node, out: &mut Vec<Vec<String>>) -> Result<(), FormulaError> {
    match node {
        Node::Binary {
            op: Op::Plus,
            lhs,
            rhs,
            ..
        } => {
            collect_fixed_effects(lhs, out)?;
            collect_fixed_effects(rhs, out)
        }
        Node::Binary {
            op: Op::Bar | Op::DoubleBar,
            position,
            ..
        } => Err(FormulaError::Invalid {
            message: "only one `|` is allowed outside parentheses (fixest's instrumental-variable part is not supported)".to_string(),
            position: *position,
        }),
        _ => {
            let mut cols = Vec::new();
            combined_fe(node, &mut cols)?;
            if !out.contains(&cols) {
                out.push(cols);
            }
            Ok(())
        }
    }
}

fn combined_fe(node: &Node, out: &mut Vec<String>) -> Result<(), FormulaError> {
    match node {
        Node::Name { name, position } => {
            reject_dot(name, *position)?;
            if !out.contains(name) {
                out.push(name.clone());
            }
            Ok(())
        }
        Node::Binary {
            op: Op::Power,
            lhs,
            rhs,
            ..
        } => {
            combined_fe(lhs, out)?;
            combined_fe(rhs, out)
        }
        Node::Paren { inner, .. } => combined_fe(inner, out),
        other => Err(FormulaError::Invalid {
            message: "fixed effects after `|` must be columns, or columns combined with `^` like `fe1^fe2`".to_string(),
            position: other.position(),
        }),
    }
}

fn reject_dot(name: &str, position: usize) -> Result<(), FormulaError> {
    if name == "." {
        Err(FormulaError::Invalid {
            message: "`.` (all other columns) is not supported; list the columns".to_string(),
            position,
        })
    } else {
        Ok(())
    }
}

/// A term while expanding: the sorted indices of its variables.
type TermSet = Vec<usize>;

/// R's `EncodeVars`: expands the right-hand side into terms over a list of variables.
struct Encoder {
    variables: Vec<Expr>,
    intercept: bool,
    /// R's `parity`: flipped on the right of `-`, so `- 1` removes the intercept.
    parity: bool,
    random: Vec<RandomTerm>,
}

impl Encoder {
    fn new() -> Self {
        Encoder {
            variables: Vec::new(),
            intercept: true,
            parity: true,
            random: Vec::new(),
        }
    }

    fn install(&mut self, expr: Expr) -> usize {
        match self.variables.iter().position(|v| *v == expr) {
            Some(i) => i,
            None => {
                self.variables.push(expr);
                self.variables.len() - 1
            }
        }
    }

    /// `additive`: whether the node is a summand of the formula (where a random-effect
    /// term may stand).
    fn encode(&mut self, node: &Node, additive: bool) -> Result<Vec<TermSet>, FormulaError> {
        match node {
            Node::Binary { op, lhs, rhs, position, text } => match op {
                Op::Plus => {
                    let mut l = self.encode(lhs, additive)?;
                    let r = self.encode(rhs, additive)?;
                    l.extend(r);
                    Ok(trim_repeats(l))
                }
                Op::Minus => {
                    let l = self.encode(lhs, additive)?;
                    self.parity = !self.parity;
                    let r = self.encode(rhs, false);
                    self.parity = !self.parity;
                    let r = r?;
                    Ok(l.into_iter().filter(|t| !r.contains(t)).collect())
                }
                Op::Colon => {
                    let l = self.encode(lhs, false)?;
                    let r = self.encode(rhs, false)?;
                    Ok(trim_repeats(interact(&l, &r)))
                }
                Op::Times => {
                    let mut l = self.encode(lhs, false)?;
                    let r = self.encode(rhs, false)?;
                    let cross = interact(&l, &r);
                    l.extend(r);
                    l.extend(cross);
                    Ok(trim_repeats(l))
                }
                Op::Divide => {
                    let mut l = self.encode(lhs, false)?;
                    let r = self.encode(rhs, false)?;
                    let mut all: TermSet = l.iter().flatten().copied().collect();
                    all.sort_unstable();
                    all.dedup();
                    let nested = interact(&[all], &r);
                    l.extend(nested);
                    Ok(trim_repeats(l))
                }
                Op::Power => {
                    let l = self.encode(lhs, false)?;
                    let n = match rhs.as_ref() {
                        Node::Number { value, .. } if *value >= 1.0 && value.fract() == 0.0 => {
                            *value as usize
                        }
                        other => {
                            return Err(FormulaError::Invalid {
                                message: "invalid power in formula: use a whole number ≥ 1, as in `(a + b)^2`; for a squared variable write `I(x^2)`".to_string(),
                                position: other.position(),
                            })
                        }
                    };
                    let mut result = l.clone();
                    for _ in 1..n {
                        result = trim_repeats(interact(&result, &l));
                    }
                    Ok(trim_repeats(result))
                }
                Op::Bar | Op::DoubleBar => Err(FormulaError::Invalid {
                    message: format!(
                        "`{text}` must be inside parentheses, as in `(1 {text} g)`; only one `|` may stand outside parentheses, before the fixed effects"
                    ),
                    position: *position,
                }),
                Op::Tilde => Err(FormulaError::Invalid {
                    message: "a formula has one `~`".to_string(),
                    position: *position,
                }),
                Op::Special => Err(FormulaError::Invalid {
                    message: format!("the operator `{text}` is not supported in formulas"),
                    position: *position,
                }),
            },
            Node::Unary { op, operand, position } => match op {
                Op::Minus => {
                    self.parity = !self.parity;
                    let r = self.encode(operand, false);
                    self.parity = !self.parity;
                    r?;
                    Ok(Vec::new())
                }
                Op::Plus => self.encode(operand, additive),
                _ => Err(FormulaError::Invalid {
                    message: "a formula has one `~`".to_string(),
                    position: *position,
                }),
            },
            Node::Paren { inner, position } => {
                if let Node::Binary { op: op @ (Op::Bar | Op::DoubleBar), lhs, rhs, .. } = inner.as_ref() {
                    if !additive {
                        return Err(FormulaError::Invalid {
                            message: "a random-effect term `( | )` must be added to the model with `+`".to_string(),
                            position: *position,
                        });
                    }
                    self.random_term(lhs, rhs, *op == Op::Bar)?;
                    return Ok(Vec::new());
                }
                self.encode(inner, additive)
            }
            Node::Number { value, position } => {
                if *value == 1.0 {
                    self.intercept = self.parity;
                    Ok(Vec::new())
                } else if *value == 0.0 {
                    self.intercept = !self.parity;
                    Ok(Vec::new())
                } else {
                    Err(FormulaError::Invalid {
                        message: format!(
                            "the number {} cannot be a term; only 0 and 1 (the intercept) can",
                            format_r_number(*value)
                        ),
                        position: *position,
                    })
                }
            }
            Node::Name { .. } | Node::Call { .. } => {
                let expr = variable(node)?;
                Ok(vec![vec![self.install(expr)]])
            }
            Node::Str { position, .. } => Err(FormulaError::Invalid {
                message: "a quoted string cannot be a term; use backticks for names with spaces, e.g. `my col`".to_string(),
                position: *position,
            }),
        }
    }

    fn random_term(
        &mut self,
        lhs: &Node,
        group: &Node,
        correlated: bool,
    ) -> Result<(), FormulaError> {
        let mut enc = Encoder::new();
        let sets = enc.encode(lhs, false)?;
        let intercept = enc.intercept;
        let terms = enc.finish(sets);
        if !intercept && terms.is_empty() {
            return Err(FormulaError::Invalid {
                message: "this random-effect term has neither an intercept nor a slope".to_string(),
                position: lhs.position(),
            });
        }
        if terms.iter().any(|t| {
            t.factors
                .iter()
                .any(|f| matches!(f, Expr::EventStudy { .. }))
        }) {
            return Err(FormulaError::Invalid {
                message: "i() cannot be used inside a random-effect term".to_string(),
                position: lhs.position(),
            });
        }
        // lme4's expandSlash: `a/b/c` is `c:(b:a)`, `b:a`, `a`.
        let mut levels: Vec<Vec<String>> = Vec::new();
        slash_levels(group, &mut levels)?;
        let mut groups: Vec<(Vec<String>, String)> = Vec::new();
        for depth in (1..=levels.len()).rev() {
            let mut cols: Vec<String> = Vec::new();
            let mut label = String::new();
            for (i, level) in levels[..depth].iter().enumerate() {
                let level_label = level
                    .iter()
                    .map(|c| quote_name(c))
                    .collect::<Vec<_>>()
                    .join(":");
                let mut new_cols = level.clone();
                new_cols.extend(cols);
                cols = new_cols;
                label = if i == 0 {
                    level_label
                } else if i == 1 && levels[0].len() == 1 {
                    format!("{level_label}:{label}")
                } else {
                    format!("{level_label}:({label})")
                };
            }
            groups.push((cols, label));
        }
        // lme4's expandDoubleVerts: `(x + z || g)` is `(1 | g) + (0 + x | g) + (0 + z | g)`.
        let pieces: Vec<(bool, Vec<Term>)> = if correlated {
            vec![(intercept, terms)]
        } else {
            let mut p = Vec::new();
            if intercept {
                p.push((true, Vec::new()));
            }
            p.extend(terms.into_iter().map(|t| (false, vec![t])));
            p
        };
        for (piece_intercept, piece_terms) in pieces {
            for (cols, label) in &groups {
                self.random.push(RandomTerm {
                    intercept: piece_intercept,
                    terms: piece_terms.clone(),
                    group: cols.clone(),
                    group_label: label.clone(),
                    correlated,
                });
            }
        }
        Ok(())
    }

    /// R's step 3: sort terms by order, keeping their order within an order, and list
    /// each term's variables in the order in which they appeared.
    fn finish(&self, sets: Vec<TermSet>) -> Vec<Term> {
        let max_order = sets.iter().map(Vec::len).max().unwrap_or(0);
        let mut out = Vec::with_capacity(sets.len());
        for order in 1..=max_order {
            for set in sets.iter().filter(|s| s.len() == order) {
                out.push(Term {
                    factors: set.iter().map(|&i| self.variables[i].clone()).collect(),
                });
            }
        }
        out
    }
}

fn slash_levels(node: &Node, out: &mut Vec<Vec<String>>) -> Result<(), FormulaError> {
    match node {
        Node::Binary {
            op: Op::Divide,
            lhs,
            rhs,
            ..
        } => {
            slash_levels(lhs, out)?;
            slash_levels(rhs, out)
        }
        Node::Paren { inner, .. } => slash_levels(inner, out),
        _ => {
            let mut cols = Vec::new();
            group_columns(node, &mut cols)?;
            out.push(cols);
            Ok(())
        }
    }
}

fn group_columns(node: &Node, out: &mut Vec<String>) -> Result<(), FormulaError> {
    match node {
        Node::Name { name, position } => {
            reject_dot(name, *position)?;
            out.push(name.clone());
            Ok(())
        }
        Node::Binary {
            op: Op::Colon,
            lhs,
            rhs,
            ..
        } => {
            group_columns(lhs, out)?;
            group_columns(rhs, out)
        }
        Node::Paren { inner, .. } => group_columns(inner, out),
        other => Err(FormulaError::Invalid {
            message: "the grouping factor after `|` must be a column, an interaction like `a:b` or a nesting like `a/b`".to_string(),
            position: other.position(),
        }),
    }
}

/// R's `TrimRepeats`: drop later duplicates.
fn trim_repeats(terms: Vec<TermSet>) -> Vec<TermSet> {
    let mut out: Vec<TermSet> = Vec::with_capacity(terms.len());
    for t in terms {
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// R's `InteractTerms`: the union of every left term with every right term.
fn interact(left: &[TermSet], right: &[TermSet]) -> Vec<TermSet> {
    let mut out = Vec::with_capacity(left.len() * right.len());
    for l in left {
        for r in right {
            let mut t: TermSet = l.iter().chain(r.iter()).copied().collect();
            t.sort_unstable();
            t.dedup();
            out.push(t);
        }
    }
    out
}

const KNOWN_FUNCTIONS: &str = "factor(), I(), log(), log2(), log10(), exp(), sqrt(), abs(), i()";

/// A variable of the model frame: a column, `factor(x)`, a transformation, or `i()`.
fn variable(node: &Node) -> Result<Expr, FormulaError> {
    match node {
        Node::Name { name, position } => {
            reject_dot(name, *position)?;
            Ok(Expr::Column(name.clone()))
        }
        Node::Call {
            name,
            args,
            position,
        } => {
            if name == "factor" || name == "as.factor" {
                if name == "as.factor" {
                    return Err(FormulaError::UnknownFunction {
                        name: name.clone(),
                        position: *position,
                        hint: Some("write factor(x)".to_string()),
                    });
                }
                return match args.as_slice() {
                    [CallArg {
                        name: None,
                        value:
                            Node::Name {
                                name: col,
                                position,
                            },
                    }] => {
                        reject_dot(col, *position)?;
                        Ok(Expr::Factor(col.clone()))
                    }
                    _ => Err(FormulaError::Invalid {
                        message: "factor() takes one column name, as in `factor(wave)`".to_string(),
                        position: *position,
                    }),
                };
            }
            if name == "i" {
                return event_study(args, *position);
            }
            if let Some(func) = Func::from_name(name) {
                let arg = single_arg(name, args, *position)?;
                return Ok(Expr::Call {
                    func,
                    arg: arith(arg)?,
                });
            }
            let hint = match name.as_str() {
                "poly" => Some("write the powers as separate terms: `x + I(x^2)`".to_string()),
                "offset" => Some("offsets are not supported in formulas".to_string()),
                "C" | "relevel" => Some("set the reference level in the data instead".to_string()),
                _ => Some(format!("supported: {KNOWN_FUNCTIONS}")),
            };
            Err(FormulaError::UnknownFunction {
                name: name.clone(),
                position: *position,
                hint,
            })
        }
        other => Err(FormulaError::Invalid {
            message: "expected a column or a function call".to_string(),
            position: other.position(),
        }),
    }
}

fn single_arg<'n>(
    name: &str,
    args: &'n [CallArg],
    position: usize,
) -> Result<&'n Node, FormulaError> {
    match args {
        [CallArg { name: None, value }] => Ok(value),
        _ => Err(FormulaError::Invalid {
            message: format!("{name}() takes exactly one argument"),
            position,
        }),
    }
}

fn arith(node: &Node) -> Result<Arith, FormulaError> {
    Ok(match node {
        Node::Number { value, .. } => Arith::Number(*value),
        Node::Name { name, position } => {
            reject_dot(name, *position)?;
            Arith::Column(name.clone())
        }
        Node::Paren { inner, .. } => Arith::Paren(Box::new(arith(inner)?)),
        Node::Unary {
            op: Op::Minus,
            operand,
            ..
        } => Arith::Neg(Box::new(arith(operand)?)),
        Node::Unary {
            op: Op::Plus,
            operand,
            ..
        } => Arith::Pos(Box::new(arith(operand)?)),
        Node::Binary {
            op,
            lhs,
            rhs,
            position,
            text,
        } => {
            let op = match op {
                Op::Plus => ArithOp::Add,
                Op::Minus => ArithOp::Sub,
                Op::Times => ArithOp::Mul,
                Op::Divide => ArithOp::Div,
                Op::Power => ArithOp::Pow,
                _ => {
                    return Err(FormulaError::Invalid {
                        message: format!(
                            "`{text}` cannot be used inside I() or a function; arithmetic allows + - * / ^"
                        ),
                        position: *position,
                    })
                }
            };
            Arith::Binary {
                op,
                lhs: Box::new(arith(lhs)?),
                rhs: Box::new(arith(rhs)?),
            }
        }
        Node::Call {
            name,
            args,
            position,
        } => match Func::from_name(name) {
            Some(func) => Arith::Call {
                func,
                arg: Box::new(arith(single_arg(name, args, *position)?)?),
            },
            None => {
                return Err(FormulaError::UnknownFunction {
                    name: name.clone(),
                    position: *position,
                    hint: Some(
                        "inside I(), use log(), log2(), log10(), exp(), sqrt(), abs()".to_string(),
                    ),
                })
            }
        },
        Node::Str { position, .. } | Node::Unary { position, .. } => {
            return Err(FormulaError::Invalid {
                message: "expected a number, a column or arithmetic".to_string(),
                position: *position,
            })
        }
    })
}

/// fixest's `i(factor_var, var, ref)`: positional or named arguments.
fn event_study(args: &[CallArg], position: usize) -> Result<Expr, FormulaError> {
    let mut var: Option<String> = None;
    let mut by: Option<String> = None;
    let mut refs: Option<Vec<RefValue>> = None;
    let mut positional = 0;
    for arg in args {
        let slot = match arg.name.as_deref() {
            Some("factor_var") | Some("f") => 0,
            Some("var") => 1,
            Some("ref") => 2,
            Some(other) => {
                return Err(FormulaError::Invalid {
                    message: format!(
                        "i(): the argument `{other}` is not supported (use factor_var, var, ref)"
                    ),
                    position: arg.value.position(),
                })
            }
            None => {
                let s = positional;
                positional += 1;
                s
            }
        };
        match slot {
            0 => {
                var = Some(column_name_arg(
                    &arg.value,
                    "i(): the first argument must be a column",
                )?)
            }
            1 => {
                // fixest: a short constant in the `var` slot is the reference (`i(period, 5)`).
                if arg.name.is_none() && !matches!(arg.value, Node::Name { .. }) && refs.is_none() {
                    refs = Some(ref_values(&arg.value)?);
                    positional += 1;
                } else {
                    by = Some(column_name_arg(&arg.value, "i(): `var` must be a column")?);
                }
            }
            2 => refs = Some(ref_values(&arg.value)?),
            _ => {
                return Err(FormulaError::Invalid {
                    message: "i() takes at most three arguments: factor_var, var, ref".to_string(),
                    position: arg.value.position(),
                })
            }
        }
    }
    let Some(var) = var else {
        return Err(FormulaError::Invalid {
            message: "i() needs a variable, as in `i(rel_period, treated, ref = -1)`".to_string(),
            position,
        });
    };
    Ok(Expr::EventStudy {
        var,
        by,
        refs: refs.unwrap_or_default(),
    })
}

fn column_name_arg(node: &Node, message: &str) -> Result<String, FormulaError> {
    match node {
        Node::Name { name, position } => {
            reject_dot(name, *position)?;
            Ok(name.clone())
        }
        other => Err(FormulaError::Invalid {
            message: message.to_string(),
            position: other.position(),
        }),
    }
}

fn ref_values(node: &Node) -> Result<Vec<RefValue>, FormulaError> {
    match node {
        Node::Call { name, args, .. } if name == "c" => {
            let mut out = Vec::new();
            for a in args {
                out.extend(ref_values(&a.value)?);
            }
            Ok(out)
        }
        Node::Number { value, .. } => Ok(vec![RefValue::Number(*value)]),
        Node::Unary {
            op: Op::Minus,
            operand,
            ..
        } => match operand.as_ref() {
            Node::Number { value, .. } => Ok(vec![RefValue::Number(-*value)]),
            other => Err(ref_error(other)),
        },
        Node::Str { value, .. } => Ok(vec![RefValue::Text(value.clone())]),
        other => Err(ref_error(other)),
    }
}

fn ref_error(node: &Node) -> FormulaError {
    FormulaError::Invalid {
        message: "i(): `ref` must be a number, a string, or c(...) of them, as in `ref = -1` or `ref = c(-1, -5)`".to_string(),
        position: node.position(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        match parse(text) {
            Ok(f) => f.term_labels(),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn err(text: &str) -> FormulaError {
        match parse(text) {
            Ok(f) => panic!("{text} parsed as {f}"),
            Err(e) => e,
        }
    }

    fn ok(text: &str) -> Formula {
        match parse(text) {
            Ok(f) => f,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    // Expected term labels below are R 4.2.2's `attr(terms(f), "term.labels")`.

    #[test]
    fn main_effects_and_implicit_intercept() {
        let f = ok("y ~ x1 + x2");
        assert_eq!(f.response, Some(Expr::Column("y".into())));
        assert!(f.intercept);
        assert_eq!(f.term_labels(), ["x1", "x2"]);
        assert!(f.random.is_empty());
        assert!(f.fixed_effects.is_empty());
    }

    #[test]
    fn intercept_removal_and_restoration() {
        assert!(!ok("y ~ x - 1").intercept);
        assert!(!ok("y ~ x + 0").intercept);
        assert!(!ok("y ~ 0 + x").intercept);
        assert!(!ok("y ~ -1 + x").intercept);
        assert!(ok("y ~ 1 + x").intercept);
        // R: attr(terms(y ~ x - 1 + 1), "intercept") is 1.
        assert!(ok("y ~ x - 1 + 1").intercept);
        assert!(ok("y ~ x - 0").intercept);
        let only = ok("y ~ 1");
        assert!(only.intercept && only.terms.is_empty());
        let none = ok("y ~ 0");
        assert!(!none.intercept && none.terms.is_empty());
        assert_eq!(ok("y ~ 0 + x").term_labels(), ["x"]);
    }

    #[test]
    fn star_expands_and_orders_by_interaction_order() {
        assert_eq!(labels("y ~ a*b"), ["a", "b", "a:b"]);
        assert_eq!(
            labels("y ~ a*b*c"),
            ["a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"]
        );
        assert_eq!(labels("y ~ a:b + a"), ["a", "a:b"]);
        assert_eq!(labels("y ~ a*b - a"), ["b", "a:b"]);
        assert_eq!(labels("y ~ a*b - a:b"), ["a", "b"]);
    }

    #[test]
    fn power_gives_interactions_up_to_the_order() {
        assert_eq!(
            labels("y ~ (a + b + c)^2"),
            ["a", "b", "c", "a:b", "a:c", "b:c"]
        );
        assert_eq!(
            labels("y ~ (a + b + c)^3"),
            ["a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"]
        );
        assert_eq!(labels("y ~ (a + b)**2"), ["a", "b", "a:b"]);
        assert!(matches!(err("y ~ (a + b)^x"), FormulaError::Invalid { .. }));
    }

    #[test]
    fn duplicates_are_removed_and_variables_keep_first_appearance_order() {
        assert_eq!(labels("y ~ x + x + x:x"), ["x"]);
        assert_eq!(labels("y ~ b:a + a"), ["a", "b:a"]);
        assert_eq!(labels("y ~ a + b + b:a"), ["a", "b", "a:b"]);
        assert_eq!(labels("y ~ a:b + b:a"), ["a:b"]);
    }

    #[test]
    fn more_expansions_match_r() {
        // Expected: R 4.2.2 attr(terms(f), "term.labels") and "intercept".
        let cases: [(&str, &[&str], bool); 9] = [
            ("y ~ a*b + c - b", &["a", "c", "a:b"], true),
            ("y ~ (a+b)^2 - a:b", &["a", "b"], true),
            ("y ~ a*(b+c)", &["a", "b", "c", "a:b", "a:c"], true),
            ("y ~ (a+b):(c+d)", &["a:c", "a:d", "b:c", "b:d"], true),
            ("y ~ a/(b+c)", &["a", "a:b", "a:c"], true),
            ("y ~ c:b + a:c + b", &["b", "c:b", "c:a"], true),
            (
                "y ~ a*b*c - a:b:c - 1",
                &["a", "b", "c", "a:b", "a:c", "b:c"],
                false,
            ),
            (
                "y ~ (a+b+c+d)^3 - b",
                &[
                    "a", "c", "d", "a:b", "a:c", "a:d", "b:c", "b:d", "c:d", "a:b:c", "a:b:d",
                    "a:c:d", "b:c:d",
                ],
                true,
            ),
            (
                "y ~ a + I(b*2):a + log(c)*a",
                &["a", "log(c)", "a:I(b * 2)", "a:log(c)"],
                true,
            ),
        ];
        for (text, want, intercept) in cases {
            let f = ok(text);
            assert_eq!(f.term_labels(), want, "{text}");
            assert_eq!(f.intercept, intercept, "{text}");
        }
    }

    #[test]
    fn nesting_slash() {
        assert_eq!(labels("y ~ a/b"), ["a", "a:b"]);
        assert_eq!(labels("y ~ (a + b)/c"), ["a", "b", "a:b:c"]);
    }

    #[test]
    fn functions_and_labels_deparse_as_r() {
        assert_eq!(
            labels("y ~ I(x^2) + I(x*y) + log(x+1) + I(-x) + I(x/1e6) + I(x^-1) + I((x+1)^2)"),
            [
                "I(x^2)",
                "I(x * y)",
                "log(x + 1)",
                "I(-x)",
                "I(x/1e+06)",
                "I(x^-1)",
                "I((x + 1)^2)"
            ]
        );
        assert_eq!(
            labels("y ~ I(x * 100000) + I(x*123456) + I(x * 0.0001)+I(x*0.001) + I(x*2L)"),
            [
                "I(x * 1e+05)",
                "I(x * 123456)",
                "I(x * 1e-04)",
                "I(x * 0.001)",
                "I(x * 2)"
            ]
        );
        assert_eq!(
            labels("y ~ factor(education) + exp(z) + sqrt(w) + abs(v) + log10(u) + log2(t)"),
            [
                "factor(education)",
                "exp(z)",
                "sqrt(w)",
                "abs(v)",
                "log10(u)",
                "log2(t)"
            ]
        );
        assert_eq!(labels("y ~ I(log(income) * 2)"), ["I(log(income) * 2)"]);
        let f = ok("log(y) ~ x");
        assert_eq!(f.response_label().as_deref(), Some("log(y)"));
    }

    #[test]
    fn backticked_names() {
        let f = ok("`my y` ~ `my col` + I(`my col` * 2) + factor(`wave no`)");
        assert_eq!(
            f.term_labels(),
            ["`my col`", "I(`my col` * 2)", "factor(`wave no`)"]
        );
        assert_eq!(f.response, Some(Expr::Column("my y".into())));
        assert!(f.columns().contains("my col"));
        assert!(f.columns().contains("wave no"));
        // A syntactic name in backticks needs no quotes.
        assert_eq!(labels("y ~ `age`"), ["age"]);
    }

    #[test]
    fn r_number_formatting() {
        let cases = [
            (100000.0, "1e+05"),
            (123456.0, "123456"),
            (0.0001, "1e-04"),
            (1e15, "1e+15"),
            (1e16, "1e+16"),
            (2.5, "2.5"),
            (-1.0, "-1"),
            (0.1 + 0.2, "0.3"),
            (1.0 / 3.0, "0.333333333333333"),
            (100000.1, "100000.1"),
            (123456789012.0, "123456789012"),
            (3.0, "3"),
            (0.0, "0"),
            (10000.0, "10000"),
            (-0.5, "-0.5"),
            (1e-20, "1e-20"),
            (1.5e300, "1.5e+300"),
        ];
        // Expected values: R 4.2.2 as.character() of the same numbers.
        for (x, want) in cases {
            assert_eq!(format_r_number(x), want, "{x}");
        }
    }

    #[test]
    fn random_effect_terms() {
        let f = ok("y ~ x + (1 | g)");
        assert_eq!(f.term_labels(), ["x"]);
        assert_eq!(f.random.len(), 1);
        let r = &f.random[0];
        assert!(r.intercept && r.terms.is_empty() && r.correlated);
        assert_eq!(r.group, ["g"]);

        let f = ok("y ~ (1 + t | g)");
        assert!(f.random[0].intercept);
        assert_eq!(f.random[0].terms[0].label(), "t");
        let f = ok("y ~ (t | g)");
        assert!(f.random[0].intercept, "intercept is implicit");
        let f = ok("y ~ (0 + t | g)");
        assert!(!f.random[0].intercept);
        assert_eq!(f.random[0].label(), "0 + t | g");
        let f = ok("y ~ (t - 1 | g)");
        assert!(!f.random[0].intercept);
        assert!(f.intercept, "the fixed part keeps its intercept");
    }

    #[test]
    fn double_bar_is_uncorrelated() {
        let f = ok("y ~ t + (t || g)");
        let labels: Vec<String> = f.random.iter().map(RandomTerm::label).collect();
        assert_eq!(labels, ["1 | g", "0 + t | g"]);
        assert!(f.random.iter().all(|r| !r.correlated));
        // lme4's test: (x1*x2 || id) = (1|id) + (0+x1|id) + (0+x2|id) + (0+x1:x2|id).
        let f = ok("y ~ (x1*x2 || id)");
        let labels: Vec<String> = f.random.iter().map(RandomTerm::label).collect();
        assert_eq!(
            labels,
            ["1 | id", "0 + x1 | id", "0 + x2 | id", "0 + x1:x2 | id"]
        );
    }

    #[test]
    fn nested_and_crossed_groups_follow_lme4() {
        // lme4::findbars(y ~ (1|a/b/c)) is list(1 | c:(b:a), 1 | b:a, 1 | a).
        let f = ok("y ~ (1 | a/b/c)");
        let labels: Vec<&str> = f.random.iter().map(|r| r.group_label.as_str()).collect();
        assert_eq!(labels, ["c:(b:a)", "b:a", "a"]);
        assert_eq!(f.random[0].group, ["c", "b", "a"]);
        assert_eq!(f.random[1].group, ["b", "a"]);
        let f = ok("y ~ (1 | practice/id)");
        assert_eq!(f.random[0].group_label, "id:practice");
        assert_eq!(f.random[1].group_label, "practice");
        let f = ok("y ~ (1 | a) + (1 | b)");
        assert_eq!(f.random.len(), 2);
        assert_eq!(f.random[1].group, ["b"]);
        let f = ok("y ~ (1 + x | a:b)");
        assert_eq!(f.random[0].group, ["a", "b"]);
        assert_eq!(f.random[0].group_label, "a:b");
        // lme4: (x || id/id2) = (1|id/id2) + (0+x|id/id2).
        let f = ok("y ~ (x || a/b)");
        let labels: Vec<String> = f.random.iter().map(RandomTerm::label).collect();
        assert_eq!(labels, ["1 | b:a", "1 | a", "0 + x | b:a", "0 + x | a"]);
    }

    #[test]
    fn fixest_fixed_effects_after_top_level_bar() {
        let f = ok("y ~ x1 + x2 | fe1 + fe2");
        assert_eq!(f.term_labels(), ["x1", "x2"]);
        assert_eq!(
            f.fixed_effects,
            vec![vec!["fe1".to_string()], vec!["fe2".to_string()]]
        );
        let f = ok("y ~ treated_post | unit + fe1^fe2");
        assert_eq!(
            f.fixed_effects,
            vec![
                vec!["unit".to_string()],
                vec!["fe1".to_string(), "fe2".to_string()]
            ]
        );
        assert!(f.random.is_empty());
        // A bar inside parentheses is a random term, not fixed effects.
        let f = ok("y ~ x + (1 | g)");
        assert!(f.fixed_effects.is_empty());
        assert_eq!(f.to_string(), "y ~ x + (1 | g)");
    }

    #[test]
    fn event_study_terms() {
        let f = ok("y ~ i(rel_period, treated, ref = -1) | unit + period");
        assert_eq!(
            f.terms[0].factors[0],
            Expr::EventStudy {
                var: "rel_period".into(),
                by: Some("treated".into()),
                refs: vec![RefValue::Number(-1.0)]
            }
        );
        assert_eq!(f.term_labels(), ["i(rel_period, treated, ref = -1)"]);
        let f = ok("y ~ i(rel_period, ref = c(-1, -2))");
        assert_eq!(f.term_labels(), ["i(rel_period, ref = c(-1, -2))"]);
        let f = ok("y ~ i(arm, ref = \"control\")");
        assert_eq!(f.term_labels(), ["i(arm, ref = \"control\")"]);
        // fixest: a constant in the second slot is the reference.
        let f = ok("y ~ i(period, 5)");
        assert_eq!(
            f.terms[0].factors[0],
            Expr::EventStudy {
                var: "period".into(),
                by: None,
                refs: vec![RefValue::Number(5.0)]
            }
        );
        let f = ok("y ~ i(period, treat, 5)");
        assert_eq!(
            f.terms[0].factors[0],
            Expr::EventStudy {
                var: "period".into(),
                by: Some("treat".into()),
                refs: vec![RefValue::Number(5.0)]
            }
        );
        assert!(matches!(
            err("y ~ i(period, keep = 3)"),
            FormulaError::Invalid { .. }
        ));
        assert!(matches!(
            err("y ~ i(period, ref = x)"),
            FormulaError::Invalid { .. }
        ));
    }

    #[test]
    fn columns_lists_every_referenced_column() {
        let f = ok("log(y) ~ I(age^2) + factor(edu) + i(rel, tr, ref = -1) + (1 + t | a/b)");
        let cols: Vec<String> = f.columns().into_iter().collect();
        assert_eq!(cols, ["a", "age", "b", "edu", "rel", "t", "tr", "y"]);
        let f = ok("y ~ x | fe1^fe2 + fe3");
        let cols: Vec<String> = f.columns().into_iter().collect();
        assert_eq!(cols, ["fe1", "fe2", "fe3", "x", "y"]);
    }

    #[test]
    fn one_sided_formula() {
        let f = ok("~ a + b");
        assert!(f.response.is_none());
        assert_eq!(f.term_labels(), ["a", "b"]);
    }

    #[test]
    fn error_empty_and_missing_parts() {
        assert_eq!(err(""), FormulaError::Empty);
        assert_eq!(err("   "), FormulaError::Empty);
        let e = err("y ~");
        assert!(e.to_string().contains("nothing after `~`"), "{e}");
        assert!(matches!(err("y + x"), FormulaError::MissingTilde { .. }));
        assert!(matches!(err("y ~ x +"), FormulaError::Invalid { .. }));
    }

    #[test]
    fn error_unbalanced_parentheses_name_the_position() {
        assert_eq!(
            err("y ~ (a + b"),
            FormulaError::UnclosedParen { position: 5 }
        );
        assert_eq!(
            err("y ~ log(a + b"),
            FormulaError::UnclosedParen { position: 8 }
        );
        assert_eq!(
            err("y ~ a + b)"),
            FormulaError::UnmatchedCloseParen { position: 10 }
        );
        assert_eq!(
            err("y ~ x + (a))").to_string(),
            "formula: unbalanced parenthesis: `)` at position 12 has no matching `(`"
        );
        assert_eq!(
            err("y ~ (a + (1 | g)").to_string(),
            "formula: unbalanced parenthesis: `(` at position 5 is never closed"
        );
    }

    #[test]
    fn error_bars_out_of_place() {
        let e = err("y ~ x | | fe");
        assert!(
            matches!(e, FormulaError::UnexpectedToken { ref found, position: 9, .. } if found == "|"),
            "{e:?}"
        );
        assert!(matches!(
            err("y ~ x | fe | z"),
            FormulaError::Invalid { .. }
        ));
        assert!(matches!(err("y ~ x || g"), FormulaError::Invalid { .. }));
        assert!(matches!(err("y ~ x:(1 | g)"), FormulaError::Invalid { .. }));
        assert!(matches!(err("y ~ (0 | g)"), FormulaError::Invalid { .. }));
        assert!(matches!(
            err("y ~ x + (1 | g) | fe"),
            FormulaError::Invalid { .. }
        ));
        assert!(matches!(
            err("y ~ (1 | log(g))"),
            FormulaError::Invalid { .. }
        ));
        assert!(matches!(
            err("y ~ x | log(fe)"),
            FormulaError::Invalid { .. }
        ));
    }

    #[test]
    fn error_unknown_function_names_it() {
        let e = err("y ~ poly(x, 2)");
        assert!(
            matches!(e, FormulaError::UnknownFunction { ref name, position: 5, .. } if name == "poly")
        );
        assert!(e.to_string().contains("poly()"), "{e}");
        let e = err("y ~ foo(x)");
        assert!(
            e.to_string()
                .contains("unknown function `foo()` at position 5"),
            "{e}"
        );
        assert!(matches!(
            err("y ~ I(bar(x))"),
            FormulaError::UnknownFunction { .. }
        ));
    }

    #[test]
    fn error_other_bad_input() {
        assert!(matches!(
            err("y ~ x $ z"),
            FormulaError::InvalidCharacter {
                found: '$',
                position: 7
            }
        ));
        assert!(matches!(err("y ~ `x"), FormulaError::Unterminated { .. }));
        assert!(matches!(err("y ~ x + 2"), FormulaError::Invalid { .. }));
        assert!(matches!(err("y ~ ."), FormulaError::Invalid { .. }));
        assert!(matches!(err("y ~ a %in% b"), FormulaError::Invalid { .. }));
        assert!(matches!(
            err("y ~ x z"),
            FormulaError::UnexpectedToken { position: 7, .. }
        ));
        assert!(matches!(
            err("y ~ factor(x + 1)"),
            FormulaError::Invalid { .. }
        ));
        assert!(matches!(err("y ~ log(x, 2)"), FormulaError::Invalid { .. }));
        assert!(matches!(err("y ~ \"x\""), FormulaError::Invalid { .. }));
        assert!(matches!(err("y ~ x ~ z"), FormulaError::Invalid { .. }));
    }

    #[test]
    fn response_repeated_on_the_right_is_dropped() {
        assert_eq!(labels("y ~ y + x"), ["x"]);
    }

    #[test]
    fn display_normalises_the_formula() {
        assert_eq!(
            ok("y ~ a*b + (t || g)").to_string(),
            "y ~ a + b + a:b + (1 | g) + (0 + t | g)"
        );
        assert_eq!(ok("y ~ x - 1 | fe1^fe2").to_string(), "y ~ 0 + x | fe1^fe2");
        assert_eq!(ok("y ~ 1").to_string(), "y ~ 1");
    }
}
