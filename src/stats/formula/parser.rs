//! The syntax tree of a formula: R's parse of the text, by operator precedence, before any
//! formula semantics.

use super::error::FormulaError;
use super::lexer::{Op, TokKind, Token};

#[derive(Clone, Debug)]
pub(super) enum Node {
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
pub(super) struct CallArg {
    pub(super) name: Option<String>,
    pub(super) value: Node,
}

impl Node {
    pub(super) fn position(&self) -> usize {
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

/// The deepest nesting of parentheses, signs, powers and calls a formula may have. Real
/// model formulas nest a handful of levels; the limit keeps the recursive parser (and
/// every pass over the tree) far from the end of the stack.
pub(super) const MAX_DEPTH: usize = 200;

const PREFIX_SIGN_POWER: u8 = 13;
const PREFIX_TILDE_POWER: u8 = 2;

pub(super) struct Parser<'a> {
    pub(super) tokens: &'a [Token],
    pub(super) pos: usize,
    pub(super) open_parens: Vec<usize>,
    /// How many `parse_expr` calls are open.
    pub(super) depth: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn peek(&self) -> Option<&'a Token> {
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

    pub(super) fn parse_expr(&mut self, min_bp: u8) -> Result<Node, FormulaError> {
        if self.depth >= MAX_DEPTH {
            return Err(FormulaError::TooDeep {
                limit: MAX_DEPTH,
                position: self.peek().map_or(0, |t| t.position),
            });
        }
        self.depth += 1;
        let node = self.parse_expr_within(min_bp);
        self.depth -= 1;
        node
    }

    fn parse_expr_within(&mut self, min_bp: u8) -> Result<Node, FormulaError> {
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
