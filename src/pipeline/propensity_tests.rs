//! The largest SMD after matching without the balance table equals the table's.

use super::*;
use crate::stats::formula::parse;

/// A data set of `n` rows from a small linear congruential generator: a numeric
/// covariate, a count, a three-level factor and a treatment that depends on them.
fn data(n: usize) -> DataSet {
    let mut state: u64 = 7;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut age, mut count, mut group, mut treat) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let a = 20.0 + 60.0 * next();
        let c = (4.0 * next()).floor();
        let g = ["a", "b", "c"][(3.0 * next()) as usize % 3];
        let p = 1.0 / (1.0 + (-(-4.0 + 0.03 * a + 0.3 * c)).exp());
        age.push(a);
        count.push(c);
        group.push(Some(g));
        treat.push(if next() < p { 1.0 } else { 0.0 });
    }
    let mut d = DataSet::new();
    d.push("treat", ColumnData::Numeric(treat)).expect("treat");
    d.push("age", ColumnData::Numeric(age)).expect("age");
    d.push("count", ColumnData::Numeric(count)).expect("count");
    d.push("group", ColumnData::from_strings(&group))
        .expect("group");
    d
}

#[test]
fn the_largest_smd_after_equals_the_balance_tables_to_the_bit() {
    let data = data(3000);
    let formula = parse("treat ~ age + count + group").expect("formula");
    let ps = fit_propensity(&formula, &data).expect("fit");
    // Weights as matching leaves them: most rows 0, the kept ones positive and unequal,
    // for two different samples (one where a mean difference is tiny).
    for stride in [3usize, 7] {
        let weights: Vec<f64> = (0..ps.treated.len())
            .map(|i| match (ps.treated[i], i % stride) {
                (true, _) => 1.0,
                (false, 0) => 0.5 + (i % 5) as f64 / 4.0,
                _ => 0.0,
            })
            .collect();
        let (balance, _) = balance_of(&formula, &data, &ps, &weights, &[]).expect("table");
        let from_table = balance
            .iter()
            .filter(|r| r.term != "distance")
            .filter_map(|r| r.smd_after.map(f64::abs))
            .fold(0.0, f64::max);
        let fast = max_abs_smd_after(&formula, &data, &ps, &weights).expect("fast");
        assert!(from_table > 0.0);
        assert_eq!(fast.to_bits(), from_table.to_bits(), "stride {stride}");
    }
}
