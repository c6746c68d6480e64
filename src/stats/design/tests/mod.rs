use super::*;
use crate::stats::formula::{parse, Formula};

fn formula(text: &str) -> Formula {
    match parse(text) {
        Ok(f) => f,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn design(text: &str, data: &DataSet) -> Design {
    match model_matrix(&formula(text), data) {
        Ok(d) => d,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn design_err(text: &str, data: &DataSet) -> DesignError {
    match model_matrix(&formula(text), data) {
        Ok(d) => panic!("{text} built {:?}", d.column_names),
        Err(e) => e,
    }
}

fn strings(values: &[&str]) -> ColumnData {
    let v: Vec<Option<&str>> = values
        .iter()
        .map(|s| if s.is_empty() { None } else { Some(*s) })
        .collect();
    ColumnData::from_strings(&v)
}

fn column(d: &Design, name: &str) -> Vec<f64> {
    let j = d
        .column_names
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", d.column_names));
    d.x.column(j).iter().copied().collect()
}

/// y, age, sex (F/M), f (a/b/c), x.
fn small() -> DataSet {
    let mut data = DataSet::new();
    let push = |data: &mut DataSet, name: &str, col: ColumnData| {
        if let Err(e) = data.push(name, col) {
            panic!("{e}");
        }
    };
    push(
        &mut data,
        "y",
        ColumnData::Numeric(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    );
    push(
        &mut data,
        "age",
        ColumnData::Numeric(vec![20.0, 30.0, 40.0, 50.0, 60.0, 70.0]),
    );
    push(&mut data, "sex", strings(&["F", "M", "M", "F", "M", "F"]));
    push(&mut data, "f", strings(&["a", "b", "c", "a", "b", "c"]));
    push(
        &mut data,
        "x",
        ColumnData::Numeric(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    );
    data
}

#[test]
fn numeric_factor_and_interaction_columns() {
    let d = design("y ~ age * sex", &small());
    assert_eq!(d.column_names, ["(Intercept)", "age", "sexM", "age:sexM"]);
    assert_eq!(d.assign, [0, 1, 2, 3]);
    assert_eq!(d.term_labels, ["age", "sex", "age:sex"]);
    assert_eq!(column(&d, "(Intercept)"), [1.0; 6]);
    assert_eq!(column(&d, "sexM"), [0.0, 1.0, 1.0, 0.0, 1.0, 0.0]);
    assert_eq!(column(&d, "age:sexM"), [0.0, 30.0, 40.0, 0.0, 60.0, 0.0]);
    assert_eq!(
        d.response.map(|r| r.iter().copied().collect::<Vec<_>>()),
        Some(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    );
    assert_eq!(d.rows, [0, 1, 2, 3, 4, 5]);
    assert_eq!(d.dropped_rows, 0);
}

#[test]
fn no_intercept_codes_the_first_factor_fully() {
    let d = design("y ~ 0 + f", &small());
    assert_eq!(d.column_names, ["fa", "fb", "fc"]);
    assert_eq!(column(&d, "fc"), [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
    // Only the first factor: sex keeps its contrasts.
    let d = design("y ~ 0 + f + sex", &small());
    assert_eq!(d.column_names, ["fa", "fb", "fc", "sexM"]);
    // A numeric first term does not count: the first factor is still f.
    let d = design("y ~ x + f - 1", &small());
    assert_eq!(d.column_names, ["x", "fa", "fb", "fc"]);
}

#[test]
fn factor_whose_margin_is_absent_gets_indicator_coding() {
    // R 4.2.2: model.matrix(y ~ x + x:f) has x:fb, x:fc (x is the margin of x:f
    // without f), while y ~ x:f and y ~ f:sex code f by all its levels.
    let d = design("y ~ x + x:f", &small());
    assert_eq!(d.column_names, ["(Intercept)", "x", "x:fb", "x:fc"]);
    let d = design("y ~ x:f", &small());
    assert_eq!(d.column_names, ["(Intercept)", "x:fa", "x:fb", "x:fc"]);
    assert_eq!(column(&d, "x:fb"), [0.0, 2.0, 0.0, 0.0, 5.0, 0.0]);
    let d = design("y ~ f:sex", &small());
    assert_eq!(
        d.column_names,
        [
            "(Intercept)",
            "fa:sexF",
            "fb:sexF",
            "fc:sexF",
            "fa:sexM",
            "fb:sexM",
            "fc:sexM"
        ]
    );
    let d = design("y ~ f + f:sex", &small());
    assert_eq!(
        d.column_names,
        ["(Intercept)", "fb", "fc", "fa:sexM", "fb:sexM", "fc:sexM"]
    );
    assert_eq!(column(&d, "fa:sexM"), [0.0; 6]);
    assert_eq!(column(&d, "fb:sexM"), [0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
}

#[test]
fn missing_values_drop_rows() {
    let mut data = DataSet::new();
    let cols = [
        ("y", ColumnData::Numeric(vec![1.0, f64::NAN, 3.0, 4.0, 5.0])),
        ("x", ColumnData::Numeric(vec![1.0, 2.0, 3.0, f64::NAN, 5.0])),
        ("g", strings(&["a", "b", "", "a", "b"])),
        ("unused", ColumnData::Numeric(vec![f64::NAN; 5])),
    ];
    for (n, c) in cols {
        data.push(n, c).unwrap_or_else(|e| panic!("{e}"));
    }
    let d = design("y ~ x + g", &data);
    assert_eq!(d.rows, [0, 4]);
    assert_eq!(d.dropped_rows, 3);
    assert_eq!(d.x.nrows(), 2);
    assert_eq!(column(&d, "x"), [1.0, 5.0]);
    assert_eq!(column(&d, "gb"), [0.0, 1.0]);
    // A column the formula does not use does not drop rows.
    let d = design("y ~ 1", &data);
    assert_eq!(d.rows, [0, 2, 3, 4]);
    let e = design_err("y ~ unused", &data);
    assert_eq!(e, DesignError::NoCompleteRows { n_rows: 5 });
}

/// Every block of rows read from [`ModelRows`], and every column, equals the stored
/// matrix: with all rows used (numeric columns shared with the data set) and with
/// rows dropped for missing values.
#[test]
fn model_rows_read_in_blocks_equal_the_matrix() {
    let mut with_missing = small();
    let _ = with_missing.push(
        "z",
        ColumnData::Numeric(vec![1.0, f64::NAN, 3.0, 4.0, 5.0, 6.0]),
    );
    let cases = [
        ("y ~ age * sex", small()),
        ("y ~ f + x:f + I(age^2)", small()),
        ("y ~ 0 + factor(x) + age", small()),
        ("y ~ age + z + f", with_missing),
        ("y ~ i(rel_period, treated, ref = -1) + arm", event_data()),
    ];
    for (text, data) in cases {
        let rows = match model_rows(&formula(text), &data) {
            Ok(d) => d.x,
            Err(e) => panic!("{text}: {e}"),
        };
        let x = design(text, &data).x;
        let (n, p) = (x.nrows(), x.ncols());
        assert_eq!((rows.nrows(), rows.ncols()), (n, p), "{text}");
        for k in 0..p {
            assert_eq!(rows.column(k).as_slice(), x.column(k).as_slice(), "{text}");
        }
        for start in 0..n {
            for len in 1..=n - start {
                let ld = len + 2;
                let mut block = vec![f64::NAN; ld * p];
                rows.rows_into(start, len, &mut block, ld);
                for k in 0..p {
                    for i in 0..len {
                        assert_eq!(block[k * ld + i], x[(start + i, k)], "{text}");
                    }
                }
            }
        }
    }
}

#[test]
fn nan_from_a_transformation_drops_the_row_and_infinity_is_an_error() {
    let mut data = DataSet::new();
    let _ = data.push("y", ColumnData::Numeric(vec![1.0, 2.0, 3.0, 4.0]));
    let _ = data.push("x", ColumnData::Numeric(vec![-1.0, 1.0, 2.0, 0.0]));
    let d = model_matrix(&formula("y ~ log(x)"), &data);
    // R: log(-1) is NaN (row dropped by na.omit); log(0) is -Inf (lm stops).
    match d {
        Err(DesignError::NonFinite {
            variable,
            row,
            value,
        }) => {
            assert_eq!(variable, "log(x)");
            assert_eq!(row, 3);
            assert_eq!(value, f64::NEG_INFINITY);
            let e = DesignError::NonFinite {
                variable,
                row,
                value,
            };
            assert!(e.to_string().contains("`log(x)` is -Inf in row 4"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let d = design("y ~ sqrt(x)", &data);
    assert_eq!(d.rows, [1, 2, 3]);
    assert_eq!(column(&d, "sqrt(x)"), [1.0, 2f64.sqrt(), 0.0]);
}

#[test]
fn logical_column_is_a_false_true_factor() {
    let mut data = small();
    let _ = data.push(
        "smoker",
        ColumnData::Logical(vec![
            Some(true),
            Some(false),
            None,
            Some(true),
            Some(false),
            Some(false),
        ]),
    );
    let _ = data.push("always", ColumnData::Logical(vec![Some(true); 6]));
    let d = design("y ~ smoker", &data);
    assert_eq!(d.column_names, ["(Intercept)", "smokerTRUE"]);
    assert_eq!(column(&d, "smokerTRUE"), [1.0, 0.0, 1.0, 0.0, 0.0]);
    assert_eq!(d.dropped_rows, 1);
    // R: both levels always exist, so an all-TRUE column still gives `alwaysTRUE`.
    let d = design("y ~ always", &data);
    assert_eq!(d.column_names, ["(Intercept)", "alwaysTRUE"]);
    let d = design("y ~ 0 + smoker", &data);
    assert_eq!(d.column_names, ["smokerFALSE", "smokerTRUE"]);
    // Arithmetic treats TRUE as 1.
    let d = design("y ~ I(always * 2)", &data);
    assert_eq!(column(&d, "I(always * 2)"), [2.0; 6]);
}

#[test]
fn factor_of_a_numeric_column_is_labelled_as_r_prints_numbers() {
    let mut data = small();
    let _ = data.push(
        "wave",
        ColumnData::Numeric(vec![3.0, 2.5, -1.0, 3.0, 100000.0, -1.0]),
    );
    let d = design("y ~ factor(wave)", &data);
    assert_eq!(
        d.column_names,
        [
            "(Intercept)",
            "factor(wave)2.5",
            "factor(wave)3",
            "factor(wave)1e+05"
        ]
    );
    assert_eq!(column(&d, "factor(wave)3"), [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
}

#[test]
fn i_of_age_squared_values() {
    let d = design("y ~ age + I(age^2) + I((age - 20)/10)", &small());
    assert_eq!(
        d.column_names,
        ["(Intercept)", "age", "I(age^2)", "I((age - 20)/10)"]
    );
    assert_eq!(
        column(&d, "I(age^2)"),
        [400.0, 900.0, 1600.0, 2500.0, 3600.0, 4900.0]
    );
    assert_eq!(
        column(&d, "I((age - 20)/10)"),
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
}

fn event_data() -> DataSet {
    let mut data = DataSet::new();
    let rel = vec![-3.0, -2.0, -1.0, 0.0, 1.0, -3.0, -2.0, -1.0, 0.0, 1.0];
    let treated = vec![1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let _ = data.push("y", ColumnData::Numeric((0..10).map(f64::from).collect()));
    let _ = data.push("rel_period", ColumnData::Numeric(rel));
    let _ = data.push("treated", ColumnData::Numeric(treated));
    let _ = data.push(
        "unit",
        ColumnData::Numeric(vec![1., 1., 1., 1., 1., 2., 2., 2., 2., 2.]),
    );
    let _ = data.push(
        "arm",
        strings(&["t", "t", "t", "t", "t", "c", "c", "c", "c", "c"]),
    );
    data
}

#[test]
fn event_study_columns_are_named_as_fixest() {
    let data = event_data();
    let d = design("y ~ i(rel_period, treated, ref = -1)", &data);
    assert_eq!(
        d.column_names,
        [
            "(Intercept)",
            "rel_period::-3:treated",
            "rel_period::-2:treated",
            "rel_period::0:treated",
            "rel_period::1:treated"
        ]
    );
    assert_eq!(d.assign, [0, 1, 1, 1, 1]);
    assert_eq!(
        column(&d, "rel_period::0:treated"),
        [0., 0., 0., 1., 0., 0., 0., 0., 0., 0.]
    );
    let d = design("y ~ i(rel_period, ref = c(-1, -3))", &data);
    assert_eq!(
        d.column_names,
        [
            "(Intercept)",
            "rel_period::-2",
            "rel_period::0",
            "rel_period::1"
        ]
    );
    assert_eq!(
        column(&d, "rel_period::1"),
        [0., 0., 0., 0., 1., 0., 0., 0., 0., 1.]
    );
    let d = design("y ~ i(arm, ref = \"c\")", &data);
    assert_eq!(d.column_names, ["(Intercept)", "arm::t"]);
}

#[test]
fn event_study_errors() {
    let data = event_data();
    let e = design_err("y ~ i(rel_period, treated, ref = -7)", &data);
    assert!(
        matches!(&e, DesignError::UnknownReference { reference, .. } if reference == "-7"),
        "{e:?}"
    );
    assert!(e.to_string().contains("-3, -2, -1, 0, 1"), "{e}");
    let e = design_err("y ~ i(arm, ref = c(\"c\", \"t\"))", &data);
    assert!(matches!(e, DesignError::AllReferences { .. }), "{e:?}");
    let e = design_err("y ~ i(rel_period, arm)", &data);
    assert!(matches!(e, DesignError::EventStudyBy { .. }), "{e:?}");
}

#[test]
fn fixed_effect_codes_are_dense_and_sorted() {
    let mut data = event_data();
    let _ = data.push(
        "region",
        strings(&["s", "n", "s", "n", "s", "e", "e", "n", "s", "e"]),
    );
    let f = formula("y ~ treated | unit + region + unit^region");
    let d = match model_matrix(&f, &data) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    // The fixed effects are not columns of the model matrix.
    assert_eq!(d.column_names, ["(Intercept)", "treated"]);
    let fe = match fixed_effect_codes(&f, &data, &d.rows) {
        Ok(fe) => fe,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        fe[0],
        ("unit".to_string(), vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    );
    // Levels e < n < s.
    assert_eq!(
        fe[1],
        ("region".to_string(), vec![2, 1, 2, 1, 2, 0, 0, 1, 2, 0])
    );
    // (1,n)=0, (1,s)=1, (2,e)=2, (2,n)=3, (2,s)=4.
    assert_eq!(
        fe[2],
        (
            "unit^region".to_string(),
            vec![1, 0, 1, 0, 1, 2, 2, 3, 4, 2]
        )
    );
    // Codes do not depend on row order.
    let reversed: Vec<usize> = d.rows.iter().rev().copied().collect();
    let fe_rev = fixed_effect_codes(&f, &data, &reversed).unwrap_or_default();
    let back: Vec<u32> = fe_rev[2].1.iter().rev().copied().collect();
    assert_eq!(back, fe[2].1);
    // Only rows passed in count.
    let fe = fixed_effect_codes(&f, &data, &[5, 6]).unwrap_or_default();
    assert_eq!(fe[1].1, [0, 0]);
    assert!(matches!(
        fixed_effect_codes(&f, &data, &[10]),
        Err(DesignError::RowOutOfRange {
            row: 10,
            n_rows: 10
        })
    ));
}

#[test]
fn random_effect_blocks() {
    let mut data = event_data();
    let _ = data.push(
        "t",
        ColumnData::Numeric(vec![0., 1., 2., 3., 4., 0., 1., 2., 3., 4.]),
    );
    let f = formula("y ~ t + (1 + t | unit) + (0 + t | arm)");
    let d = match model_matrix(&f, &data) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let blocks = match random_effect_design(&f, &data, &d.rows) {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].group_name, "unit");
    assert_eq!(blocks[0].group_levels, ["1", "2"]);
    assert_eq!(blocks[0].column_names, ["(Intercept)", "t"]);
    assert_eq!(
        blocks[0].z.column(1).iter().copied().collect::<Vec<_>>(),
        [0., 1., 2., 3., 4., 0., 1., 2., 3., 4.]
    );
    assert_eq!(blocks[0].term, "1 + t | unit");
    assert_eq!(blocks[1].column_names, ["t"]);
    assert_eq!(blocks[1].group_levels, ["c", "t"]);
    assert_eq!(blocks[1].group_codes, [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
}

#[test]
fn unknown_column_is_named_with_a_suggestion() {
    let e = design_err("y ~ agee + sex", &small());
    assert_eq!(
        e.to_string(),
        "formula: unknown column `agee` (did you mean `age`?)"
    );
    let e = design_err("y ~ Sex", &small());
    assert_eq!(
        e.to_string(),
        "formula: unknown column `Sex` (did you mean `sex`?)"
    );
    let e = design_err("y ~ income", &small());
    assert_eq!(e.to_string(), "formula: unknown column `income`");
    let e = design_err("yy ~ age", &small());
    assert!(matches!(e, DesignError::UnknownColumn { ref name, .. } if name == "yy"));
    let e = design_err("y ~ age + (1 | grp)", &small());
    assert!(matches!(e, DesignError::UnknownColumn { ref name, .. } if name == "grp"));
}

#[test]
fn type_errors() {
    let data = small();
    let e = design_err("y ~ I(sex^2)", &data);
    assert_eq!(
        e.to_string(),
        "formula: `I(sex^2)` needs a numeric column but `sex` is categorical"
    );
    let e = design_err("sex ~ age", &data);
    assert!(matches!(e, DesignError::NonNumericResponse { .. }), "{e:?}");
    let mut one = small();
    let _ = one.push("same", strings(&["a"; 6]));
    let e = design_err("y ~ same", &one);
    assert_eq!(
        e,
        DesignError::TooFewLevels {
            variable: "same".into(),
            levels: 1
        }
    );
}

#[test]
fn unused_levels_are_dropped_or_kept() {
    let mut data = small();
    let _ = data.push(
        "arm",
        ColumnData::Categorical {
            codes: vec![Some(0), Some(1), Some(0), Some(1), Some(0), Some(1)].into(),
            levels: vec!["control".into(), "treat".into(), "unused".into()],
        },
    );
    let f = formula("y ~ arm");
    let d = design("y ~ arm", &data);
    assert_eq!(d.column_names, ["(Intercept)", "armtreat"]);
    let keep = DesignOptions {
        unused_levels: UnusedLevels::Keep,
    };
    let d = model_matrix_with(&f, &data, &keep).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.column_names, ["(Intercept)", "armtreat", "armunused"]);
    assert_eq!(column(&d, "armunused"), [0.0; 6]);
}

#[test]
fn data_set_rejects_bad_columns() {
    let mut data = small();
    assert!(matches!(
        data.push("age", ColumnData::Numeric(vec![0.0; 6])),
        Err(DesignError::DuplicateColumn { .. })
    ));
    assert!(matches!(
        data.push("z", ColumnData::Numeric(vec![0.0; 5])),
        Err(DesignError::LengthMismatch {
            len: 5,
            expected: 6,
            ..
        })
    ));
    let bad = ColumnData::Categorical {
        codes: vec![Some(3); 6].into(),
        levels: vec!["a".into()],
    };
    assert!(matches!(
        data.push("c", bad),
        Err(DesignError::InvalidColumn { .. })
    ));
    assert_eq!(data.n_rows(), 6);
    assert!(data.get("age").is_some() && data.get("nope").is_none());
    // Levels of a string column are sorted by bytes: upper case first.
    match strings(&["b", "B", "a", ""]) {
        ColumnData::Categorical { codes, levels } => {
            assert_eq!(levels, ["B", "a", "b"]);
            assert_eq!(
                codes.iter().collect::<Vec<_>>(),
                [Some(2), Some(0), Some(1), None]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rows_permuted_give_permuted_matrix() {
    // Invariant: the design does not depend on row order beyond permuting its rows.
    let data = small();
    let perm = [3usize, 0, 5, 1, 4, 2];
    let mut shuffled = DataSet::new();
    for name in ["y", "age", "sex", "f", "x"] {
        let col = match data.get(name) {
            Some(ColumnData::Numeric(v)) => {
                ColumnData::Numeric(perm.iter().map(|&i| v[i]).collect())
            }
            Some(ColumnData::Categorical { codes, levels }) => ColumnData::Categorical {
                codes: perm.iter().map(|&i| codes.get(i)).collect(),
                levels: levels.clone(),
            },
            other => panic!("{other:?}"),
        };
        let _ = shuffled.push(name, col);
    }
    let a = design("y ~ age * f + sex", &data);
    let b = design("y ~ age * f + sex", &shuffled);
    assert_eq!(a.column_names, b.column_names);
    for (k, &i) in perm.iter().enumerate() {
        assert_eq!(a.x.row(i), b.x.row(k));
    }
}

// Against R 4.2.2 model.matrix and lme4 1.1-31 (tests/reference/design/).
mod reference;

/// Run with `cargo test --release -- --ignored design_one_million_rows`: prints the
/// time to build a 1,000,000 × 15 model matrix.
#[test]
#[ignore]
fn design_one_million_rows() {
    let n = 1_000_000;
    let mut data = DataSet::new();
    let num = |k: usize| {
        ColumnData::Numeric(
            (0..n)
                .map(|i| ((i * (k + 7)) % 1000) as f64 / 10.0)
                .collect(),
        )
    };
    let _ = data.push("y", num(1));
    let _ = data.push("age", num(2));
    let _ = data.push("income", num(3));
    let _ = data.push("t", num(4));
    let cat = |k: u32, levels: &[&str]| ColumnData::Categorical {
        codes: (0..n as u32)
            .map(|i| Some((i.wrapping_mul(2654435761) >> k) % levels.len() as u32))
            .collect(),
        levels: levels.iter().map(|s| s.to_string()).collect(),
    };
    let _ = data.push("sex", cat(3, &["F", "M"]));
    let _ = data.push("edu", cat(7, &["1", "2", "3", "4"]));
    let _ = data.push("region", cat(11, &["a", "b", "c", "d", "e"]));
    let f =
        formula("y ~ age + I(age^2) + income + log(income + 1) + t + sex + edu + region + age:sex");
    let start = std::time::Instant::now();
    let d = model_matrix(&f, &data).unwrap_or_else(|e| panic!("{e}"));
    let elapsed = start.elapsed();
    eprintln!("{} x {} in {:?}", d.x.nrows(), d.x.ncols(), elapsed);
    assert_eq!(d.x.ncols(), 15);
    assert!(elapsed.as_secs_f64() < 1.0, "{elapsed:?}");
}

/// Rows dropped in place from every kind of column; a column shared with another data
/// set is copied first, so that one keeps all its rows.
#[test]
fn retain_rows_keeps_the_marked_rows_of_every_column() {
    let mut data = DataSet::new();
    let _ = data.push("x", ColumnData::Numeric(vec![1.0, 2.0, 3.0, 4.0]));
    let _ = data.push("f", strings(&["a", "b", "", "a"]));
    let _ = data.push(
        "l",
        ColumnData::Logical(vec![Some(true), None, Some(false), Some(true)]),
    );
    let shared = data.clone();
    data.retain_rows(&[true, false, true, false]);
    assert_eq!(data.n_rows(), 2);
    assert_eq!(data.get("x"), Some(&ColumnData::Numeric(vec![1.0, 3.0])));
    match data.get("f") {
        Some(ColumnData::Categorical { codes, levels }) => {
            assert_eq!(codes.iter().collect::<Vec<_>>(), [Some(0), None]);
            assert_eq!(levels, &["a", "b"]);
        }
        other => panic!("f: {other:?}"),
    }
    assert_eq!(
        data.get("l"),
        Some(&ColumnData::Logical(vec![Some(true), Some(false)]))
    );
    assert_eq!(shared.n_rows(), 4);
    assert_eq!(
        shared.get("x"),
        Some(&ColumnData::Numeric(vec![1.0, 2.0, 3.0, 4.0]))
    );
}

/// A factor's codes over every row with every level kept are the data set's column (not
/// a copy); with a row dropped or a level dropped they are the factor's own, renumbered.
/// The matrix is the stored one either way.
#[test]
fn factor_codes_share_the_column_when_every_row_and_level_is_used() {
    use super::compact::{Compact, FactorCodes};
    let shared = |d: &Design<ModelRows>| -> Vec<bool> {
        d.x.variables
            .iter()
            .filter_map(|v| match v {
                Compact::Factor { codes, .. } => Some(matches!(codes, FactorCodes::Column(_))),
                _ => None,
            })
            .collect()
    };
    let rows = |text: &str, data: &DataSet, unused: UnusedLevels| {
        let options = DesignOptions {
            unused_levels: unused,
        };
        let d = model_rows_with(&formula(text), data, &options).unwrap_or_else(|e| panic!("{e}"));
        let stored =
            model_matrix_with(&formula(text), data, &options).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.x.to_matrix(), stored.x, "{text}");
        d
    };
    let mut data = small();
    assert_eq!(
        shared(&rows("y ~ sex + f", &data, UnusedLevels::Drop)),
        [true, true]
    );
    let _ = data.push(
        "z",
        ColumnData::Numeric(vec![1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0]),
    );
    assert_eq!(
        shared(&rows("y ~ sex + f + z", &data, UnusedLevels::Drop)),
        [false, false]
    );
    let _ = data.push(
        "arm",
        ColumnData::Categorical {
            codes: vec![Some(0), Some(2), Some(0), Some(2), Some(0), Some(2)].into(),
            levels: vec!["control".into(), "unused".into(), "treat".into()],
        },
    );
    let d = rows("y ~ arm", &data, UnusedLevels::Drop);
    assert_eq!(shared(&d), [false]);
    assert_eq!(d.column_names, ["(Intercept)", "armtreat"]);
    let d = rows("y ~ arm", &data, UnusedLevels::Keep);
    assert_eq!(shared(&d), [true]);
    assert_eq!(d.column_names, ["(Intercept)", "armunused", "armtreat"]);
}
