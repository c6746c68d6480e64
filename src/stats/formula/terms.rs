//! What a parsed formula is: the response, the fixed-effect terms and their variables,
//! the random-effect terms, the fixest fixed effects, and the data columns they read.

use std::collections::BTreeSet;

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

impl Formula {
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

impl Formula {
    /// The columns the formula asks to be read as categories whatever they hold:
    /// `factor(x)`, the grouping factors of random effects, fixest's fixed effects and
    /// the variable of `i()`.
    pub fn categorical_columns(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let terms = self
            .terms
            .iter()
            .chain(self.random.iter().flat_map(|r| r.terms.iter()));
        for factor in terms.flat_map(|t| t.factors.iter()) {
            match factor {
                Expr::Factor(name) | Expr::EventStudy { var: name, .. } => {
                    out.insert(name.clone());
                }
                Expr::Column(_) | Expr::Call { .. } => {}
            }
        }
        out.extend(self.random.iter().flat_map(|r| r.group.iter().cloned()));
        out.extend(self.fixed_effects.iter().flatten().cloned());
        out
    }
}

impl Term {
    fn collect_columns(&self, out: &mut BTreeSet<String>) {
        for f in &self.factors {
            f.collect_columns(out);
        }
    }
}

impl Expr {
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

    pub(super) fn from_name(name: &str) -> Option<Func> {
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
