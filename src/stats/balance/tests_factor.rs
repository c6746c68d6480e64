//! The balance rows of a factor's levels read from its codes equal, to the bit, the
//! rows of the levels' 0/1 columns.

use super::*;
use crate::test_support::uniform_stream;

/// A sample of `n` rows: codes below `n_codes`, treated with probability `p_treated`,
/// a matching weight for about a `p_matched` share of the rows, and pairs of matched
/// treated and control rows.
struct Sample {
    codes: Vec<u32>,
    treated: Vec<bool>,
    weights: Vec<f64>,
    pairs: Vec<(usize, usize)>,
}

fn sample(seed: u64, n: usize, n_codes: u32, p_treated: f64, p_matched: f64) -> Sample {
    let mut u = uniform_stream(seed);
    let codes: Vec<u32> = (0..n).map(|_| (u() * f64::from(n_codes)) as u32).collect();
    let treated: Vec<bool> = (0..n)
        .map(|i| i < 2 || (i >= 4 && u() < p_treated))
        .collect();
    // The first two rows are treated, the next two controls; all four matched, so that
    // both groups keep weight.
    let weights: Vec<f64> = (0..n)
        .map(|i| {
            if i < 4 || u() < p_matched {
                if treated[i] {
                    1.0
                } else {
                    0.1 + u()
                }
            } else {
                0.0
            }
        })
        .collect();
    let kept = |flag: bool| -> Vec<usize> {
        (0..n)
            .filter(|&i| treated[i] == flag && weights[i] > 0.0)
            .collect()
    };
    let (t, c) = (kept(true), kept(false));
    let pairs = (0..t.len() * 2)
        .map(|k| (t[k % t.len()], c[(k * 7) % c.len()]))
        .collect();
    Sample {
        codes,
        treated,
        weights,
        pairs,
    }
}

/// `factor_balance_rows` against `balance_table` on the indicator columns of `levels`.
fn check(s: &Sample, levels: &[u32], pairs: &[(usize, usize)]) {
    let names: Vec<String> = levels.iter().map(|l| format!("f{l}")).collect();
    let columns: Vec<Vec<f64>> = levels
        .iter()
        .map(|&l| {
            s.codes
                .iter()
                .map(|&c| if c == l { 1.0 } else { 0.0 })
                .collect()
        })
        .collect();
    let covariates: Vec<Covariate> = names
        .iter()
        .zip(&columns)
        .map(|(name, x)| Covariate::new(name, x))
        .collect();
    let want = balance_table(&covariates, &s.treated, &s.weights, pairs).unwrap();
    let got = factor_balance_rows(&names, &s.codes, levels, &s.treated, &s.weights, pairs).unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        // Debug prints every bit that matters: -0 and 0, None and Some, the unit counts.
        assert_eq!(format!("{g:?}"), format!("{w:?}"));
    }
}

#[test]
fn factor_rows_equal_the_rows_of_its_indicator_columns() {
    for seed in 1..=6 {
        let s = sample(seed, 2_000, 6, 0.15, 0.3);
        // Code 5 has no column (its rows are 0 in every column), the columns are not in
        // code order, and code 4 is a level no row has when the sample is cut below.
        check(&s, &[2, 0, 3, 1, 4], &s.pairs);
        check(&s, &[2, 0, 3, 1, 4], &[]);
    }
}

#[test]
fn factor_rows_equal_indicator_rows_in_edge_cases() {
    // A level that no treated row has: the SMD denominator falls back to the pooled SD.
    let mut s = sample(11, 400, 4, 0.2, 0.5);
    for i in 0..s.codes.len() {
        if s.treated[i] && s.codes[i] == 3 {
            s.codes[i] = 0;
        }
    }
    check(&s, &[0, 1, 2, 3], &s.pairs);
    // A level every row has (no difference to standardise), and a level no row has.
    let mut s = sample(12, 300, 1, 0.3, 0.4);
    s.codes.iter_mut().for_each(|c| *c = 0);
    check(&s, &[0, 1], &s.pairs);
    // One matched unit per group: too small for standardised differences.
    let mut s = sample(13, 200, 3, 0.3, 0.0);
    for w in &mut s.weights[1..] {
        *w = 0.0;
    }
    s.weights[2] = 0.7;
    let pairs = vec![(0, 2)];
    check(&s, &[0, 1, 2], &pairs);
}

#[test]
fn factor_rows_refuse_what_the_table_refuses() {
    let s = sample(21, 100, 3, 0.3, 0.5);
    let names: Vec<String> = vec!["a".into()];
    let bad_pair = [(2, 0)];
    assert!(matches!(
        factor_balance_rows(&names, &s.codes, &[0], &s.treated, &s.weights, &bad_pair),
        Err(BalanceError::InvalidPair { .. })
    ));
    assert!(matches!(
        factor_balance_rows(&names, &s.codes[1..], &[0], &s.treated, &s.weights, &[]),
        Err(BalanceError::LengthMismatch { .. })
    ));
}
