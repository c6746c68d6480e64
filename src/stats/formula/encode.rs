//! R's expansion of a formula's right-hand side into terms (`EncodeVars`, `TrimRepeats`,
//! `InteractTerms` in R's `model.c`), and lme4's expansion of random-effect terms
//! (`findbars()`: `||` and `/`).

use super::deparse::{format_r_number, quote_name};
use super::error::FormulaError;
use super::interpret::reject_dot;
use super::lexer::Op;
use super::parser::Node;
use super::terms::{Expr, RandomTerm, Term};
use super::variable::variable;

/// A term while expanding: the sorted indices of its variables.
type TermSet = Vec<usize>;

/// R's `EncodeVars`: expands the right-hand side into terms over a list of variables.
pub(super) struct Encoder {
    variables: Vec<Expr>,
    pub(super) intercept: bool,
    /// R's `parity`: flipped on the right of `-`, so `- 1` removes the intercept.
    parity: bool,
    pub(super) random: Vec<RandomTerm>,
}

impl Encoder {
    pub(super) fn new() -> Self {
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
    pub(super) fn encode(
        &mut self,
        node: &Node,
        additive: bool,
    ) -> Result<Vec<TermSet>, FormulaError> {
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
    pub(super) fn finish(&self, sets: Vec<TermSet>) -> Vec<Term> {
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
