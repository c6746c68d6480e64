//! Hand-computed values of the formulas in the module documentation.

use super::continuous::quantile_hf7;
use super::*;
use crate::stats::balance;
use crate::stats::design::LevelCodes;
use crate::test_support::{assert_close_within, EXACT};

/// Values computed by different but exact formulas agree to [`EXACT`], relative to the
/// larger and absolutely below 1.
macro_rules! assert_close {
    ($a:expr, $b:expr) => {
        assert_close_within(
            concat!(stringify!($a), " vs ", stringify!($b)),
            $a,
            $b,
            EXACT,
            EXACT,
        )
    };
}

fn levels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn codes(c: &[i64]) -> LevelCodes {
    c.iter().map(|&v| (v >= 0).then_some(v as u32)).collect()
}

fn continuous(t: &TableOne, k: usize) -> ByGroup<Option<ContinuousStats>> {
    match &t.variables[k].summary {
        Summary::Continuous { stats, .. } => *stats,
        other => panic!("not continuous: {other:?}"),
    }
}

fn level_counts(t: &TableOne, k: usize) -> Vec<LevelStats> {
    match &t.variables[k].summary {
        Summary::Categorical { levels } => levels.clone(),
        other => panic!("not categorical: {other:?}"),
    }
}

/// Treated x = 1, 2, 3, 4, 10: mean 4, var (9 + 4 + 1 + 0 + 36) / 4 = 12.5.
/// Control x = 2, 4, 6, 8: mean 5, var (9 + 1 + 1 + 9) / 3 = 20/3.
/// Type 7 quartiles: treated positions 1, 2, 3 → 2, 3, 4; control positions 0.75,
/// 1.5, 2.25 → 3.5, 5, 6.5 (type 2 would give 3, 5, 7).
#[test]
fn continuous_mean_sd_quartiles_and_pooled_smd_by_hand() {
    let x = [1.0, 2.0, 3.0, 4.0, 10.0, 2.0, 4.0, 6.0, 8.0];
    let treated = [true, true, true, true, true, false, false, false, false];
    let vars = [Variable::Continuous {
        name: "x",
        values: &x,
        nonnormal: false,
    }];
    let t = table_one(&vars, &treated, None).expect("table");
    assert!(!t.weighted);
    assert_eq!(
        t.n.treated,
        Tally {
            persons: 5,
            weighted: 5.0
        }
    );
    assert_eq!(
        t.n.control,
        Tally {
            persons: 4,
            weighted: 4.0
        }
    );
    let s = continuous(&t, 0);
    let (st, sc) = (s.treated.expect("t"), s.control.expect("c"));
    assert_close!(st.mean, 4.0);
    assert_close!(st.sd.expect("sd"), 12.5f64.sqrt());
    assert_eq!((st.q1, st.median, st.q3), (2.0, 3.0, 4.0));
    assert_close!(sc.mean, 5.0);
    assert_close!(sc.sd.expect("sd"), (20.0f64 / 3.0).sqrt());
    assert_close!(sc.q1, 3.5);
    assert_close!(sc.median, 5.0);
    assert_close!(sc.q3, 6.5);
    // Pooled, not the treated SD (MatchIt would divide by sqrt(12.5)).
    let want = 1.0 / ((12.5 + 20.0 / 3.0) / 2.0f64).sqrt();
    assert_close!(t.variables[0].smd.expect("smd"), want);
    assert_eq!(t.variables[0].missing.treated, Tally::default());
}

/// One group x = 1, 2, 4 with weights 1, 2, 1:
/// mean = (1 + 4 + 4) / 4 = 2.25; Σ w (x − x̄)² = 1.5625 + 0.125 + 3.0625 = 4.75;
/// svyvar = 3/2 · 4.75 / 4 = 1.78125 (cov.wt's reliability variance would be
/// 1.1875 / (1 − 6/16) = 1.9).
/// hf7: C = 0, 1, 3, positions 0, 1/3, 1 → median 2 + (0.5 − 1/3)/(2/3) · 2 = 2.5,
/// Q1 = 1 + 0.75 · 1 = 1.75, Q3 = 2 + 0.625 · 2 = 3.25.
/// Other group x = 0, 2 with weights 1, 3: mean 1.5, Σ w (x − x̄)² = 2.25 + 0.75 = 3,
/// svyvar = 2 · 3 / 4 = 1.5.
#[test]
fn weighted_continuous_uses_svyvar_and_hf7_quantiles() {
    let x = [1.0, 2.0, 4.0, 0.0, 2.0];
    let w = [1.0, 2.0, 1.0, 1.0, 3.0];
    let treated = [true, true, true, false, false];
    let vars = [Variable::Continuous {
        name: "x",
        values: &x,
        nonnormal: true,
    }];
    let t = table_one(&vars, &treated, Some(&w)).expect("table");
    assert!(t.weighted);
    assert_eq!(
        t.n.treated,
        Tally {
            persons: 3,
            weighted: 4.0
        }
    );
    let s = continuous(&t, 0);
    let st = s.treated.expect("t");
    assert_close!(st.mean, 2.25);
    assert_close!(st.sd.expect("sd"), 1.78125f64.sqrt());
    assert_close!(st.median, 2.5);
    assert_close!(st.q1, 1.75);
    assert_close!(st.q3, 3.25);
    let sc = s.control.expect("c");
    assert_close!(sc.mean, 1.5);
    assert_close!(sc.sd.expect("sd"), 1.5f64.sqrt());
    let want = 0.75 / ((1.78125 + 1.5) / 2.0f64).sqrt();
    assert_close!(t.variables[0].smd.expect("smd"), want);
    // Not MatchIt's reliability-weight variance.
    let matchit = balance::weighted_variance(&x[..3], Some(&w[..3]))
        .expect("ok")
        .expect("some");
    assert_close!(matchit, 1.9);
}

/// Type 7 with unit weights at the boundaries and between order statistics:
/// 1..10 → positions 2.25, 4.5, 6.75 → 3.25, 5.5, 7.75 (R: quantile(1:10, c(.25,
/// .5, .75)) prints 3.25 5.50 7.75).
#[test]
fn unit_weight_quantiles_are_r_type_7() {
    let sorted: Vec<(f64, f64)> = (1..=10).map(|v| (f64::from(v), 1.0)).collect();
    assert_close!(quantile_hf7(&sorted, 0.25), 3.25);
    assert_close!(quantile_hf7(&sorted, 0.5), 5.5);
    assert_close!(quantile_hf7(&sorted, 0.75), 7.75);
    assert_eq!(quantile_hf7(&sorted, 0.0), 1.0);
    assert_eq!(quantile_hf7(&sorted, 1.0), 10.0);
    assert_eq!(quantile_hf7(&[(7.0, 2.0)], 0.25), 7.0);
    // Ties: 1, 2, 2, 2, 9 → position 1 and 3 fall on the tied value.
    let tied = [(1.0, 1.0), (2.0, 1.0), (2.0, 1.0), (2.0, 1.0), (9.0, 1.0)];
    assert_eq!(quantile_hf7(&tied, 0.25), 2.0);
    assert_eq!(quantile_hf7(&tied, 0.75), 2.0);
}

/// Treated 3 of 4 "yes" (p = 0.75), control 1 of 4 (p = 0.25):
/// SMD = 0.5 / sqrt((0.1875 + 0.1875) / 2) = 0.5 / sqrt(0.1875).
#[test]
fn binary_smd_and_percentages_by_hand() {
    let lv = levels(&["no", "yes"]);
    let c = codes(&[1, 1, 1, 0, 1, 0, 0, 0]);
    let treated = [true, true, true, true, false, false, false, false];
    let vars = [Variable::Categorical {
        name: "flag",
        codes: &c,
        levels: &lv,
    }];
    let t = table_one(&vars, &treated, None).expect("table");
    let l = level_counts(&t, 0);
    assert_eq!(l[1].level, "yes");
    assert_eq!(
        l[1].count.treated.n,
        Tally {
            persons: 3,
            weighted: 3.0
        }
    );
    assert_close!(l[1].count.treated.percent.expect("p"), 75.0);
    assert_close!(l[1].count.control.percent.expect("p"), 25.0);
    assert_close!(l[0].count.control.percent.expect("p"), 75.0);
    assert_close!(t.variables[0].smd.expect("smd"), 0.5 / 0.1875f64.sqrt());
}

/// Three levels a, b, c. Treated counts 1, 2, 2 (n 5): p = (0.4, 0.4) for b, c.
/// Control counts 2, 1, 1 (n 4): p = (0.25, 0.25). d = (0.15, 0.15).
/// S_T = [[0.24, −0.16], [−0.16, 0.24]], S_C = [[0.1875, −0.0625], [−0.0625, 0.1875]].
/// The inverse of the mean S is written out with the 2 × 2 formula.
#[test]
fn yang_dalton_smd_for_three_levels_by_hand() {
    let lv = levels(&["a", "b", "c"]);
    let c = codes(&[0, 1, 1, 2, 2, 0, 0, 1, 2]);
    let treated = [true, true, true, true, true, false, false, false, false];
    let vars = [Variable::Categorical {
        name: "g",
        codes: &c,
        levels: &lv,
    }];
    let t = table_one(&vars, &treated, None).expect("table");
    let (a, b): (f64, f64) = ((0.24 + 0.1875) / 2.0, (-0.16 - 0.0625) / 2.0);
    // S = [[a, b], [b, a]]; S⁻¹ = [[a, −b], [−b, a]] / (a² − b²).
    let det = a * a - b * b;
    let (i11, i12) = (a / det, -b / det);
    let d = 0.15;
    let quad = d * d * i11 + 2.0 * d * d * i12 + d * d * i11;
    assert_close!(t.variables[0].smd.expect("smd"), quad.sqrt());
    // Independent check: S has eigenvector (1, 1)/√2 with eigenvalue a + b, and d
    // lies along it, so dᵀS⁻¹d = 2 d² / (a + b).
    assert_close!(quad, 2.0 * d * d / (a + b));
}

/// An asymmetric three-level case, S⁻¹ by the explicit 2 × 2 cofactor formula.
/// Treated levels 2, 1, 1 of 4: p = (0.25, 0.25); control 1, 2, 1: p = (0.5, 0.25).
/// S = [[0.21875, −0.09375], [−0.09375, 0.1875]], d = (−0.25, 0):
/// dᵀS⁻¹d = 0.0625 · 0.1875 / (0.21875 · 0.1875 − 0.09375²) = 4/11.
#[test]
fn yang_dalton_smd_asymmetric_case() {
    let lv = levels(&["a", "b", "c"]);
    let c = codes(&[0, 0, 1, 2, 0, 1, 1, 2]);
    let treated = [true, true, true, true, false, false, false, false];
    let vars = [Variable::Categorical {
        name: "g",
        codes: &c,
        levels: &lv,
    }];
    let t = table_one(&vars, &treated, None).expect("table");
    let det = 0.21875 * 0.1875 - 0.09375 * 0.09375;
    let quad = 0.0625 * 0.1875 / det;
    assert_close!(quad, 4.0 / 11.0);
    assert_close!(t.variables[0].smd.expect("smd"), (4.0f64 / 11.0).sqrt());
}

/// With the first level absent from both groups, p_b + p_c = 1 and S is singular:
/// the generalised inverse reduces the SMD to the binary SMD of level b.
#[test]
fn singular_covariance_uses_generalised_inverse() {
    let lv = levels(&["a", "b", "c"]);
    let c = codes(&[1, 1, 1, 2, 1, 2, 2, 2]);
    let treated = [true, true, true, true, false, false, false, false];
    let vars = [Variable::Categorical {
        name: "g",
        codes: &c,
        levels: &lv,
    }];
    let t = table_one(&vars, &treated, None).expect("table");
    let want = 0.5 / ((0.1875 + 0.1875) / 2.0f64).sqrt();
    assert_close!(t.variables[0].smd.expect("smd"), want);
}

/// tableone's edge cases: constant equal → 0; continuous constant within groups at
/// different values → Inf; categorical with zero pooled covariance and different
/// proportions → NaN (None); a single level → 0; a group of one → no SD, no SMD.
#[test]
fn degenerate_smds_follow_tableone() {
    let treated = [true, true, false, false];
    let same = [3.0; 4];
    let split = [1.0, 1.0, 2.0, 2.0];
    let lv2 = levels(&["no", "yes"]);
    let lv1 = levels(&["only"]);
    let separated = codes(&[1, 1, 0, 0]);
    let single = codes(&[0, 0, 0, -1]);
    let vars = [
        Variable::Continuous {
            name: "same",
            values: &same,
            nonnormal: false,
        },
        Variable::Continuous {
            name: "split",
            values: &split,
            nonnormal: false,
        },
        Variable::Categorical {
            name: "sep",
            codes: &separated,
            levels: &lv2,
        },
        Variable::Categorical {
            name: "one",
            codes: &single,
            levels: &lv1,
        },
    ];
    let t = table_one(&vars, &treated, None).expect("table");
    assert_eq!(t.variables[0].smd, Some(0.0));
    assert_eq!(t.variables[1].smd, Some(f64::INFINITY));
    assert_eq!(t.variables[2].smd, None);
    assert_eq!(t.variables[3].smd, Some(0.0));

    let x = [1.0, 2.0, 5.0, f64::NAN];
    let vars = [Variable::Continuous {
        name: "x",
        values: &x,
        nonnormal: false,
    }];
    let t = table_one(&vars, &treated, None).expect("table");
    let s = continuous(&t, 0);
    assert_eq!(s.control.expect("c").sd, None);
    assert_eq!(t.variables[0].smd, None);

    let all_missing = [1.0, 2.0, f64::NAN, f64::NAN];
    let vars = [Variable::Continuous {
        name: "x",
        values: &all_missing,
        nonnormal: false,
    }];
    let t = table_one(&vars, &treated, None).expect("table");
    assert_eq!(continuous(&t, 0).control, None);
    assert_eq!(t.variables[0].smd, None);
}

/// Missing values are counted per group (persons and weights) and left out of every
/// statistic: the result equals the table of the non-missing rows.
#[test]
fn missing_values_are_counted_and_excluded() {
    let x = [1.0, f64::NAN, 2.0, 3.0, 5.0, f64::NAN, f64::NAN, 9.0];
    let c = codes(&[0, 1, -1, 1, 0, 1, 0, -1]);
    let w = [1.0, 2.0, 0.5, 1.5, 1.0, 3.0, 1.0, 2.0];
    let treated = [true, true, true, true, false, false, false, false];
    let lv = levels(&["a", "b"]);
    let vars = [
        Variable::Continuous {
            name: "x",
            values: &x,
            nonnormal: false,
        },
        Variable::Categorical {
            name: "c",
            codes: &c,
            levels: &lv,
        },
    ];
    let t = table_one(&vars, &treated, Some(&w)).expect("table");
    assert_eq!(
        t.variables[0].missing.treated,
        Tally {
            persons: 1,
            weighted: 2.0
        }
    );
    assert_eq!(
        t.variables[0].missing.control,
        Tally {
            persons: 2,
            weighted: 4.0
        }
    );
    assert_eq!(
        t.variables[1].missing.treated,
        Tally {
            persons: 1,
            weighted: 0.5
        }
    );
    assert_eq!(
        t.variables[1].missing.control,
        Tally {
            persons: 1,
            weighted: 2.0
        }
    );
    // Group sizes count everybody.
    assert_eq!(
        t.n.treated,
        Tally {
            persons: 4,
            weighted: 5.0
        }
    );

    // Treated x without the missing row: 1, 2, 3 with weights 1, 0.5, 1.5.
    let st = continuous(&t, 0).treated.expect("t");
    assert_eq!(
        st.n,
        Tally {
            persons: 3,
            weighted: 3.0
        }
    );
    assert_close!(st.mean, (1.0 + 1.0 + 4.5) / 3.0);
    // Treated c without the missing row: a (1), b (2 + 1.5) → 1/4.5, 3.5/4.5.
    let l = level_counts(&t, 1);
    assert_close!(l[0].count.treated.percent.expect("p"), 100.0 / 4.5);
    assert_close!(l[1].count.treated.percent.expect("p"), 350.0 / 4.5);

    // Same as computing on the complete rows of each variable.
    let keep: Vec<usize> = (0..8).filter(|&i| !x[i].is_nan()).collect();
    let xs: Vec<f64> = keep.iter().map(|&i| x[i]).collect();
    let ts: Vec<bool> = keep.iter().map(|&i| treated[i]).collect();
    let ws: Vec<f64> = keep.iter().map(|&i| w[i]).collect();
    let sub = table_one(
        &[Variable::Continuous {
            name: "x",
            values: &xs,
            nonnormal: false,
        }],
        &ts,
        Some(&ws),
    )
    .expect("table");
    assert_eq!(sub.variables[0].summary, t.variables[0].summary);
    assert_eq!(sub.variables[0].smd, t.variables[0].smd);
}

/// Persons with weight 0 are not in the matched sample: not counted, not missing.
#[test]
fn zero_weights_leave_persons_out() {
    let x = [1.0, 2.0, f64::NAN, 4.0, 6.0, 100.0];
    let w = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
    let treated = [true, true, true, false, false, false];
    let vars = [Variable::Continuous {
        name: "x",
        values: &x,
        nonnormal: false,
    }];
    let t = table_one(&vars, &treated, Some(&w)).expect("table");
    assert_eq!(
        t.n.treated,
        Tally {
            persons: 2,
            weighted: 2.0
        }
    );
    assert_eq!(t.variables[0].missing.treated, Tally::default());
    assert_close!(continuous(&t, 0).control.expect("c").mean, 5.0);
}

/// A continuous, a three-level and a two-level variable with missing values.
struct Mixed {
    x: Vec<f64>,
    three: LevelCodes,
    two: LevelCodes,
    treated: Vec<bool>,
}

impl Mixed {
    fn new() -> Mixed {
        let nan = f64::NAN;
        Mixed {
            x: vec![
                23.0, 41.5, nan, 35.0, 52.0, 61.0, 18.5, 44.0, 39.0, nan, 70.0, 29.0,
            ],
            three: codes(&[0, 1, 2, 2, -1, 1, 0, 0, 1, 2, 2, 1]),
            two: codes(&[1, 0, 1, 1, 0, -1, 0, 0, 1, 0, 1, 0]),
            treated: (0..12).map(|i| i < 6).collect(),
        }
    }

    /// Every row twice.
    fn doubled(&self) -> Mixed {
        fn twice<T: Copy>(v: &[T]) -> Vec<T> {
            v.iter().chain(v).copied().collect()
        }
        Mixed {
            x: twice(&self.x),
            three: self.three.iter().chain(&self.three).collect(),
            two: self.two.iter().chain(&self.two).collect(),
            treated: twice(&self.treated),
        }
    }

    fn table(&self, weights: Option<&[f64]>) -> TableOne {
        let (lv3, lv2) = (levels(&["a", "b", "c"]), levels(&["no", "yes"]));
        let vars = [
            Variable::Continuous {
                name: "x",
                values: &self.x,
                nonnormal: false,
            },
            Variable::Categorical {
                name: "three",
                codes: &self.three,
                levels: &lv3,
            },
            Variable::Categorical {
                name: "two",
                codes: &self.two,
                levels: &lv2,
            },
        ];
        table_one(&vars, &self.treated, weights).expect("table")
    }
}

#[test]
fn unit_weights_reproduce_the_unweighted_table() {
    let data = Mixed::new();
    let plain = data.table(None);
    let weighted = data.table(Some(&vec![1.0; data.treated.len()]));
    assert!(!plain.weighted && weighted.weighted);
    assert_eq!(plain.n, weighted.n);
    assert_eq!(plain.variables, weighted.variables);
}

/// Weights of 2 on every row against every row twice with unit weights: the same
/// means, proportions, counts and categorical SMDs. svyvar's Kish factor n/(n − 1)
/// counts rows, so the continuous variance differs by exactly
/// [n/(n − 1)] / [2n/(2n − 1)] (tableone behaves the same way).
#[test]
fn duplicated_rows_match_weights_of_two() {
    let data = Mixed::new();
    let weighted = data.table(Some(&vec![2.0; data.treated.len()]));
    let doubled = data.doubled().table(None);
    assert_eq!(weighted.n.treated.weighted, doubled.n.treated.weighted);
    let (cw, cd) = (continuous(&weighted, 0), continuous(&doubled, 0));
    for (w, d) in [(cw.treated, cd.treated), (cw.control, cd.control)] {
        let (w, d) = (w.expect("w"), d.expect("d"));
        assert_close!(w.mean, d.mean);
        assert_eq!(w.n.weighted, d.n.weighted);
        let n = w.n.persons as f64;
        let kish = (n / (n - 1.0)) / (2.0 * n / (2.0 * n - 1.0));
        assert_close!(w.sd.expect("sd").powi(2), kish * d.sd.expect("sd").powi(2));
    }
    for k in [1, 2] {
        let (lw, ld) = (level_counts(&weighted, k), level_counts(&doubled, k));
        for (a, b) in lw.iter().zip(&ld) {
            assert_eq!(a.count.treated.n.weighted, b.count.treated.n.weighted);
            assert_close!(
                a.count.control.percent.expect("p"),
                b.count.control.percent.expect("p")
            );
        }
        assert_close!(
            weighted.variables[k].smd.expect("smd"),
            doubled.variables[k].smd.expect("smd")
        );
        assert_eq!(
            weighted.variables[k].missing.treated.weighted,
            doubled.variables[k].missing.treated.weighted
        );
    }
}

/// Multiplying every weight by a constant changes only the sums of weights.
#[test]
fn rescaled_weights_give_the_same_statistics() {
    let data = Mixed::new();
    let w: Vec<f64> = (0..data.treated.len())
        .map(|i| 0.5 + (i % 3) as f64)
        .collect();
    let w3: Vec<f64> = w.iter().map(|v| 3.0 * v).collect();
    let (a, b) = (data.table(Some(&w)), data.table(Some(&w3)));
    for k in 0..3 {
        assert_close!(
            a.variables[k].smd.expect("smd"),
            b.variables[k].smd.expect("smd")
        );
    }
    let ca = continuous(&a, 0).treated.expect("a");
    let cb = continuous(&b, 0).treated.expect("b");
    assert_close!(ca.mean, cb.mean);
    assert_close!(ca.sd.expect("sd"), cb.sd.expect("sd"));
    assert_close!(ca.median, cb.median);
    assert_close!(ca.q1, cb.q1);
    assert_close!(3.0 * ca.n.weighted, cb.n.weighted);
}

#[test]
fn bad_input_is_rejected() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let treated = [true, true, false, false];
    let ok = [Variable::Continuous {
        name: "x",
        values: &x,
        nonnormal: false,
    }];
    assert!(matches!(
        table_one(&ok, &treated, Some(&[1.0; 3])),
        Err(TableOneError::LengthMismatch { .. })
    ));
    assert!(matches!(
        table_one(&ok, &treated, Some(&[1.0, f64::NAN, 1.0, 1.0])),
        Err(TableOneError::InvalidWeight { row: 1, .. })
    ));
    assert!(matches!(
        table_one(&ok, &treated, Some(&[1.0, 1.0, 0.0, 0.0])),
        Err(TableOneError::EmptyGroup { group: "control" })
    ));
    assert!(matches!(
        table_one(&ok, &[true, false, true], None),
        Err(TableOneError::LengthMismatch { .. })
    ));
    let inf = [1.0, f64::INFINITY, 3.0, 4.0];
    assert!(matches!(
        table_one(
            &[Variable::Continuous {
                name: "x",
                values: &inf,
                nonnormal: false
            }],
            &treated,
            None
        ),
        Err(TableOneError::InfiniteValue { row: 1, .. })
    ));
    let lv = levels(&["a", "b"]);
    let bad = codes(&[0, 1, 2, 0]);
    assert!(matches!(
        table_one(
            &[Variable::Categorical {
                name: "c",
                codes: &bad,
                levels: &lv
            }],
            &treated,
            None
        ),
        Err(TableOneError::UnknownLevel {
            row: 2,
            code: 2,
            levels: 2,
            ..
        })
    ));
    let none: Vec<String> = Vec::new();
    let missing = codes(&[-1, -1, -1, -1]);
    assert!(matches!(
        table_one(
            &[Variable::Categorical {
                name: "c",
                codes: &missing,
                levels: &none
            }],
            &treated,
            None
        ),
        Err(TableOneError::NoLevels { .. })
    ));
}

#[test]
fn serialises_to_json() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let treated = [true, true, false, false];
    let t = table_one(
        &[Variable::Continuous {
            name: "x",
            values: &x,
            nonnormal: true,
        }],
        &treated,
        None,
    )
    .expect("table");
    let json = serde_json::to_value(&t).expect("json");
    assert_eq!(json["variables"][0]["summary"]["type"], "continuous");
    assert_eq!(json["n"]["treated"]["persons"], 2);
}
