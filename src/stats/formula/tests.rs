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
                "a", "c", "d", "a:b", "a:c", "a:d", "b:c", "b:d", "c:d", "a:b:c", "a:b:d", "a:c:d",
                "b:c:d",
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

#[test]
fn nesting_beyond_the_limit_is_an_error_not_a_stack_overflow() {
    let nested =
        |open: &str, close: &str, n: usize| format!("y ~ {}x{}", open.repeat(n), close.repeat(n));
    // Deep but within the limit: parses.
    assert_eq!(labels(&nested("(", ")", 150)), ["x"]);
    for text in [
        nested("(", ")", 20_000),
        nested("- ", "", 30_000),
        nested("log(", ")", 20_000),
        format!("y ~ x{}", "^x".repeat(20_000)),
    ] {
        assert!(
            matches!(err(&text), FormulaError::TooDeep { limit, .. } if limit == 200),
            "{}",
            &text[..40]
        );
    }
}
