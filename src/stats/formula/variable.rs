//! The variables of a formula: columns, `factor(x)`, transformations with the arithmetic
//! inside them, and fixest's `i()`.

use super::error::FormulaError;
use super::interpret::reject_dot;
use super::lexer::Op;
use super::parser::{CallArg, Node};
use super::terms::{Arith, ArithOp, Expr, Func, RefValue};

const KNOWN_FUNCTIONS: &str = "factor(), I(), log(), log2(), log10(), exp(), sqrt(), abs(), i()";

/// A variable of the model frame: a column, `factor(x)`, a transformation, or `i()`.
pub(super) fn variable(node: &Node) -> Result<Expr, FormulaError> {
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
