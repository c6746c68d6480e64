//! Formula semantics: the syntax tree read as a model formula: the response, the fixed
//! part (expanded by [`Encoder`]) and fixest's fixed effects after a top-level `|`.

use super::encode::Encoder;
use super::error::FormulaError;
use super::lexer::Op;
use super::parser::Node;
use super::terms::{Expr, Formula};
use super::variable::variable;

pub(super) fn interpret(text: &str, node: Node) -> Result<Formula, FormulaError> {
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

pub(super) fn reject_dot(name: &str, position: usize) -> Result<(), FormulaError> {
    if name == "." {
        Err(FormulaError::Invalid {
            message: "`.` (all other columns) is not supported; list the columns".to_string(),
            position,
        })
    } else {
        Ok(())
    }
}
