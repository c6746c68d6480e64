//! Formulas written back as R deparses them: term labels, variable labels, coefficient
//! name parts, and R's number formatting, so that names match R's.

use std::fmt;

use super::terms::{Arith, ArithOp, Expr, Formula, RandomTerm, RefValue, Term};

impl Formula {
    /// R's term labels (`attr(terms(f), "term.labels")`): `age`, `factor(wave)`, `a:b`.
    pub fn term_labels(&self) -> Vec<String> {
        self.terms.iter().map(Term::label).collect()
    }

    /// The response's label, e.g. `y` or `log(y)`.
    pub fn response_label(&self) -> Option<String> {
        self.response.as_ref().map(Expr::label)
    }
}

impl Term {
    /// R's label: the factors' labels joined by `:`.
    pub fn label(&self) -> String {
        let labels: Vec<String> = self.factors.iter().map(Expr::label).collect();
        labels.join(":")
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
