use super::*;

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Digits of a state written as e.g. 13224 → [1, 3, 2, 2, 4].
fn state(code: u32) -> [u8; 5] {
    let mut out = [0u8; 5];
    let mut c = code;
    for i in (0..5).rev() {
        out[i] = (c % 10) as u8;
        c /= 10;
    }
    assert_eq!(c, 0, "state code {code} has more than five digits");
    out
}

fn profile(code: u32) -> Eq5dProfile {
    state(code).map(Some)
}

fn assert_check(vs: ValueSet, code: u32, expected: f64) {
    let v = eq5d_index(profile(code), vs).unwrap().unwrap();
    assert_eq!(round3(v), expected, "{vs} {code}: got {v}");
    assert!(
        (v - expected).abs() < 1e-12,
        "{vs} {code}: got {v}, expected {expected}"
    );
    let c = eq5d_index_complete(state(code), vs).unwrap();
    assert_eq!(c, v);
}

// Independent copies of the published tables, written as decimals
// (rows MO, SC, UA, PD, AD; columns levels 2..=5 / 2..=3).
const T5L: [[f64; 4]; 5] = [
    [0.041, 0.054, 0.157, 0.220],
    [0.035, 0.050, 0.144, 0.209],
    [0.033, 0.040, 0.139, 0.174],
    [0.048, 0.094, 0.381, 0.537],
    [0.072, 0.191, 0.430, 0.618],
];
const T3L: [[f64; 2]; 5] = [
    [0.053, 0.411],
    [0.063, 0.192],
    [0.048, 0.144],
    [0.062, 0.396],
    [0.068, 0.367],
];
const C3L: f64 = 0.114;

fn expected_5l(levels: [u8; 5]) -> f64 {
    let mut v = 1.0;
    for (d, &l) in levels.iter().enumerate() {
        if l > 1 {
            v -= T5L[d][usize::from(l) - 2];
        }
    }
    v
}

fn expected_3l(levels: [u8; 5]) -> f64 {
    let mut v = 1.0;
    if levels.iter().any(|&l| l != 1) {
        v -= C3L;
    }
    for (d, &l) in levels.iter().enumerate() {
        if l > 1 {
            v -= T3L[d][usize::from(l) - 2];
        }
    }
    v
}

/// All states with `n` levels per dimension, in lexicographic order.
fn all_states(n: u8) -> Vec<[u8; 5]> {
    let mut out = Vec::new();
    for a in 1..=n {
        for b in 1..=n {
            for c in 1..=n {
                for d in 1..=n {
                    for e in 1..=n {
                        out.push([a, b, c, d, e]);
                    }
                }
            }
        }
    }
    out
}

// ----- EQ-5D-5L ------------------------------------------------------

#[test]
fn dk5l_published_checks() {
    assert_check(ValueSet::Dk5L, 11111, 1.0);
    assert_check(ValueSet::Dk5L, 11112, 0.928);
    assert_check(ValueSet::Dk5L, 11123, 0.761);
    assert_check(ValueSet::Dk5L, 13224, 0.439);
    assert_check(ValueSet::Dk5L, 55555, -0.758);
}

#[test]
fn dk5l_exact_literals() {
    // Summing in thousandths gives the nearest f64 to the decimal value.
    assert_eq!(
        eq5d_index(profile(11112), ValueSet::Dk5L).unwrap(),
        Some(0.928)
    );
    assert_eq!(
        eq5d_index(profile(11123), ValueSet::Dk5L).unwrap(),
        Some(0.761)
    );
    assert_eq!(
        eq5d_index(profile(13224), ValueSet::Dk5L).unwrap(),
        Some(0.439)
    );
    assert_eq!(
        eq5d_index(profile(55555), ValueSet::Dk5L).unwrap(),
        Some(-0.758)
    );
    assert_eq!(
        eq5d_index(profile(11111), ValueSet::Dk5L).unwrap(),
        Some(1.0)
    );
}

#[test]
fn dk5l_all_3125_states_match_independent_formula() {
    let states = all_states(5);
    assert_eq!(states.len(), 3125);
    let mut min = (f64::INFINITY, [0u8; 5]);
    let mut max = (f64::NEG_INFINITY, [0u8; 5]);
    for s in states {
        let got = eq5d_index(s.map(Some), ValueSet::Dk5L).unwrap().unwrap();
        let want = expected_5l(s);
        assert!((got - want).abs() < 1e-12, "{s:?}: got {got}, want {want}");
        if got < min.0 {
            min = (got, s);
        }
        if got > max.0 {
            max = (got, s);
        }
    }
    assert_eq!(min.1, [5, 5, 5, 5, 5]);
    assert!((min.0 - (-0.758)).abs() < 1e-12);
    assert_eq!(max.1, [1, 1, 1, 1, 1]);
    assert_eq!(max.0, 1.0);
}

#[test]
fn dk5l_worsening_a_dimension_never_raises_the_index() {
    for s in all_states(5) {
        let v = eq5d_index_complete(s, ValueSet::Dk5L).unwrap();
        for d in 0..5 {
            if s[d] < 5 {
                let mut w = s;
                w[d] += 1;
                let vw = eq5d_index_complete(w, ValueSet::Dk5L).unwrap();
                assert!(vw < v, "{s:?} -> {w:?}: {v} -> {vw}");
            }
        }
    }
}

#[test]
fn dk5l_rejects_levels_outside_1_to_5() {
    let mut p = profile(11111);
    p[2] = Some(6);
    assert_eq!(
        eq5d_index(p, ValueSet::Dk5L),
        Err(ScoreError::OutOfRange {
            instrument: "EQ-5D-5L",
            item: 3,
            value: 6.0,
            min: 1.0,
            max: 5.0
        })
    );
    p[2] = Some(0);
    assert!(matches!(
        eq5d_index(p, ValueSet::Dk5L),
        Err(ScoreError::OutOfRange { item: 3, .. })
    ));
    assert!(eq5d_index_complete([1, 1, 1, 1, 0], ValueSet::Dk5L).is_err());
    assert!(eq5d_index_complete([1, 1, 1, 1, 255], ValueSet::Dk5L).is_err());
}

// ----- EQ-5D-3L ------------------------------------------------------

#[test]
fn dk3l_published_checks() {
    assert_check(ValueSet::Dk3L, 11111, 1.0);
    assert_check(ValueSet::Dk3L, 12111, 0.823);
    assert_check(ValueSet::Dk3L, 11112, 0.818);
    assert_check(ValueSet::Dk3L, 33333, -0.624);
}

#[test]
fn dk3l_constant_applies_only_when_not_full_health() {
    // 11111 has no constant; every other state has exactly one.
    assert_eq!(
        eq5d_index_complete([1, 1, 1, 1, 1], ValueSet::Dk3L).unwrap(),
        1.0
    );
    let v = eq5d_index_complete([2, 1, 1, 1, 1], ValueSet::Dk3L).unwrap();
    assert!((v - (1.0 - 0.114 - 0.053)).abs() < 1e-12);
    let v = eq5d_index_complete([2, 2, 1, 1, 1], ValueSet::Dk3L).unwrap();
    assert!((v - (1.0 - 0.114 - 0.053 - 0.063)).abs() < 1e-12);
}

#[test]
fn dk3l_all_243_states_match_independent_formula() {
    let states = all_states(3);
    assert_eq!(states.len(), 243);
    let mut min = (f64::INFINITY, [0u8; 5]);
    for s in states {
        let got = eq5d_index(s.map(Some), ValueSet::Dk3L).unwrap().unwrap();
        let want = expected_3l(s);
        assert!((got - want).abs() < 1e-12, "{s:?}: got {got}, want {want}");
        if got < min.0 {
            min = (got, s);
        }
    }
    assert_eq!(min.1, [3, 3, 3, 3, 3]);
    assert!((min.0 - (-0.624)).abs() < 1e-12);
}

#[test]
fn dk3l_rejects_level_4() {
    let p = [Some(1), Some(1), Some(1), Some(4), Some(1)];
    assert_eq!(
        eq5d_index(p, ValueSet::Dk3L),
        Err(ScoreError::OutOfRange {
            instrument: "EQ-5D-3L",
            item: 4,
            value: 4.0,
            min: 1.0,
            max: 3.0
        })
    );
    assert!(eq5d_index_complete([4, 1, 1, 1, 1], ValueSet::Dk3L).is_err());
    assert!(eq5d_decrement(ValueSet::Dk3L, 0, 4).is_err());
    // The same profile is valid under the 5L value set.
    assert!(eq5d_index(p, ValueSet::Dk5L).unwrap().is_some());
}

// ----- EQ-5D missing data and decrement helper ------------------------

#[test]
fn eq5d_missing_dimension_is_missing_never_prorated() {
    for vs in [ValueSet::Dk5L, ValueSet::Dk3L] {
        for d in 0..5 {
            let mut p = profile(11111);
            p[d] = None;
            assert_eq!(eq5d_index(p, vs), Ok(None), "{vs} missing dim {d}");
        }
        assert_eq!(eq5d_index([None; 5], vs), Ok(None));
    }
}

#[test]
fn eq5d_out_of_range_reported_even_with_missing_dimension() {
    let p = [None, Some(1), Some(9), Some(1), Some(1)];
    assert!(matches!(
        eq5d_index(p, ValueSet::Dk5L),
        Err(ScoreError::OutOfRange { item: 3, .. })
    ));
}

#[test]
fn eq5d_decrement_matches_tables_and_reconstructs_index() {
    for d in 0..5 {
        assert_eq!(eq5d_decrement(ValueSet::Dk5L, d, 1).unwrap(), 0.0);
        assert_eq!(eq5d_decrement(ValueSet::Dk3L, d, 1).unwrap(), 0.0);
        for l in 2..=5u8 {
            let got = eq5d_decrement(ValueSet::Dk5L, d, l).unwrap();
            assert_eq!(got, T5L[d][usize::from(l) - 2], "5L dim {d} level {l}");
        }
        for l in 2..=3u8 {
            let got = eq5d_decrement(ValueSet::Dk3L, d, l).unwrap();
            assert_eq!(got, T3L[d][usize::from(l) - 2], "3L dim {d} level {l}");
        }
    }
    assert_eq!(ValueSet::Dk5L.constant(), 0.0);
    assert_eq!(ValueSet::Dk3L.constant(), 0.114);
    // Analytic reconstruction, as a simulator would do it.
    for vs in [ValueSet::Dk5L, ValueSet::Dk3L] {
        for s in all_states(vs.levels()) {
            let mut v = 1.0;
            if s.iter().any(|&l| l > 1) {
                v -= vs.constant();
            }
            for (d, &l) in s.iter().enumerate() {
                v -= eq5d_decrement(vs, d, l).unwrap();
            }
            let got = eq5d_index_complete(s, vs).unwrap();
            assert!((v - got).abs() < 1e-12, "{vs} {s:?}");
        }
    }
}

#[test]
fn eq5d_decrement_rejects_bad_dimension_and_level() {
    assert_eq!(
        eq5d_decrement(ValueSet::Dk5L, 5, 2),
        Err(ScoreError::InvalidDimension(5))
    );
    assert!(eq5d_decrement(ValueSet::Dk5L, 0, 0).is_err());
    assert!(eq5d_decrement(ValueSet::Dk5L, 0, 6).is_err());
    assert!(eq5d_decrement(ValueSet::Dk5L, 4, 5).is_ok());
}

#[test]
fn value_set_parse_display_and_serde() {
    assert_eq!(ValueSet::parse("dk-5l"), Ok(ValueSet::Dk5L));
    assert_eq!(ValueSet::parse("dk-3l"), Ok(ValueSet::Dk3L));
    assert_eq!("DK-5L".parse::<ValueSet>(), Ok(ValueSet::Dk5L));
    assert_eq!(" dk_3l ".parse::<ValueSet>(), Ok(ValueSet::Dk3L));
    assert_eq!(
        ValueSet::parse("uk-3l"),
        Err(ScoreError::UnknownValueSet("uk-3l".to_string()))
    );
    assert!(ValueSet::parse("").is_err());
    for vs in [ValueSet::Dk5L, ValueSet::Dk3L] {
        assert_eq!(vs.to_string().parse::<ValueSet>(), Ok(vs));
        let json = serde_json::to_string(&vs).unwrap();
        assert_eq!(json, format!("\"{}\"", vs.as_str()));
        assert_eq!(serde_json::from_str::<ValueSet>(&json).unwrap(), vs);
    }
    assert_eq!(ValueSet::Dk5L.levels(), 5);
    assert_eq!(ValueSet::Dk3L.levels(), 3);
}

// ----- UCLA-3 ---------------------------------------------------------

#[test]
fn ucla3_totals() {
    let t = |a: u8, b: u8, c: u8| ucla3_total([Some(a), Some(b), Some(c)], Prorate::None);
    assert_eq!(t(1, 1, 1), Ok(Some(3.0)));
    assert_eq!(t(3, 3, 3), Ok(Some(9.0)));
    assert_eq!(t(1, 2, 3), Ok(Some(6.0)));
    assert_eq!(t(3, 2, 2), Ok(Some(7.0)));
    // All 27 complete patterns: plain sum, within 3..=9.
    for a in 1..=3u8 {
        for b in 1..=3u8 {
            for c in 1..=3u8 {
                let v = t(a, b, c).unwrap().unwrap();
                assert_eq!(v, f64::from(a + b + c));
                assert!((UCLA3_MIN_TOTAL..=UCLA3_MAX_TOTAL).contains(&v));
            }
        }
    }
}

#[test]
fn ucla3_severity_threshold() {
    assert!(!ucla3_severe(6.0));
    assert!(!ucla3_severe(6.5));
    assert!(ucla3_severe(7.0));
    assert!(ucla3_severe(9.0));
    assert!(!ucla3_severe(f64::NAN));
    assert_eq!(UCLA3_SEVERE_THRESHOLD, 7.0);
    let total = ucla3_total([Some(2), Some(2), Some(3)], Prorate::None).unwrap();
    assert_eq!(severe(total), Some(true));
    let total = ucla3_total([Some(2), Some(2), Some(2)], Prorate::None).unwrap();
    assert_eq!(severe(total), Some(false));
    assert_eq!(severe(None), None);
}

#[test]
fn ucla3_missing_item_is_missing_by_default() {
    assert_eq!(
        ucla3_total([Some(2), None, Some(3)], Prorate::None),
        Ok(None)
    );
    assert_eq!(
        ucla3_total([Some(2), None, Some(3)], Prorate::default()),
        Ok(None)
    );
    assert_eq!(ucla3_total([None; 3], Prorate::None), Ok(None));
    // MaxMissing(0) behaves like None.
    assert_eq!(
        ucla3_total([Some(2), None, Some(3)], Prorate::MaxMissing(0)),
        Ok(None)
    );
}

#[test]
fn ucla3_prorating() {
    assert_eq!(
        ucla3_total([Some(2), None, Some(3)], Prorate::MaxMissing(1)),
        Ok(Some(7.5))
    );
    // Complete data unaffected by the policy.
    assert_eq!(
        ucla3_total([Some(2), Some(1), Some(3)], Prorate::MaxMissing(1)),
        Ok(Some(6.0))
    );
    // Two missing exceeds MaxMissing(1) ...
    assert_eq!(
        ucla3_total([None, None, Some(3)], Prorate::MaxMissing(1)),
        Ok(None)
    );
    // ... but is allowed by MaxMissing(2): mean 3 × 3 items = 9.
    assert_eq!(
        ucla3_total([None, None, Some(3)], Prorate::MaxMissing(2)),
        Ok(Some(9.0))
    );
    // Non-terminating mean: (1 + 2) / 2 × 3 = 4.5; (2) × 3 = 6.
    assert_eq!(
        ucla3_total([Some(1), Some(2), None], Prorate::MaxMissing(1)),
        Ok(Some(4.5))
    );
    assert_eq!(
        ucla3_total([None, Some(2), None], Prorate::MaxMissing(5)),
        Ok(Some(6.0))
    );
    // Nothing answered is missing whatever the policy.
    assert_eq!(ucla3_total([None; 3], Prorate::MaxMissing(3)), Ok(None));
    assert_eq!(
        ucla3_total([None; 3], Prorate::MaxMissing(usize::MAX)),
        Ok(None)
    );
}

#[test]
fn ucla3_out_of_range_is_error() {
    assert_eq!(
        ucla3_total([Some(1), Some(4), Some(1)], Prorate::None),
        Err(ScoreError::OutOfRange {
            instrument: "UCLA-3",
            item: 2,
            value: 4.0,
            min: 1.0,
            max: 3.0
        })
    );
    assert!(matches!(
        ucla3_total([Some(0), Some(1), Some(1)], Prorate::None),
        Err(ScoreError::OutOfRange { item: 1, .. })
    ));
    // Error wins over missingness and over prorating.
    assert!(ucla3_total([None, Some(1), Some(9)], Prorate::None).is_err());
    assert!(ucla3_total([None, Some(1), Some(9)], Prorate::MaxMissing(1)).is_err());
}

#[test]
fn error_messages_are_informative() {
    let e = ucla3_total([Some(1), Some(4), Some(1)], Prorate::None).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("UCLA-3"), "{msg}");
    assert!(msg.contains("item 2"), "{msg}");
    assert!(msg.contains('4'), "{msg}");
    let msg = ValueSet::parse("xx").unwrap_err().to_string();
    assert!(msg.contains("xx") && msg.contains("dk-5l"), "{msg}");
}

// ----- UCLA-20 --------------------------------------------------------

fn all20(v: u8) -> [Option<u8>; 20] {
    [Some(v); 20]
}

#[test]
fn ucla20_reversed_items() {
    let expected = [1, 5, 6, 9, 10, 15, 16, 19, 20];
    assert_eq!(UCLA20_REVERSED, expected);
    let n = (1..=20).filter(|&i| ucla20_is_reversed(i)).count();
    assert_eq!(n, 9);
    assert!(!ucla20_is_reversed(2));
    assert!(!ucla20_is_reversed(0));
    assert!(!ucla20_is_reversed(21));
    assert_eq!(ucla20_item_score(1, 1), Ok(4));
    assert_eq!(ucla20_item_score(1, 4), Ok(1));
    assert_eq!(ucla20_item_score(20, 2), Ok(3));
    assert_eq!(ucla20_item_score(2, 1), Ok(1));
    assert_eq!(ucla20_item_score(2, 4), Ok(4));
    assert!(ucla20_item_score(2, 5).is_err());
    assert!(ucla20_item_score(0, 1).is_err());
    assert!(ucla20_item_score(21, 1).is_err());
}

#[test]
fn ucla20_uniform_answers() {
    // All 1: reversed items become 4 → 9×4 + 11×1 = 47.
    assert_eq!(ucla20_total(all20(1), Prorate::None), Ok(Some(47.0)));
    // All 2: 9×3 + 11×2 = 49.
    assert_eq!(ucla20_total(all20(2), Prorate::None), Ok(Some(49.0)));
    // All 3: 9×2 + 11×3 = 51.
    assert_eq!(ucla20_total(all20(3), Prorate::None), Ok(Some(51.0)));
    // All 4: 9×1 + 11×4 = 53.
    assert_eq!(ucla20_total(all20(4), Prorate::None), Ok(Some(53.0)));
}

#[test]
fn ucla20_extremes() {
    // Loneliest answers: reversed items raw 1, others raw 4 → 80.
    let mut hi = [Some(4u8); 20];
    let mut lo = [Some(1u8); 20];
    for &i in &UCLA20_REVERSED {
        hi[i - 1] = Some(1);
        lo[i - 1] = Some(4);
    }
    assert_eq!(ucla20_total(hi, Prorate::None), Ok(Some(UCLA20_MAX_TOTAL)));
    assert_eq!(ucla20_total(lo, Prorate::None), Ok(Some(UCLA20_MIN_TOTAL)));
}

#[test]
fn ucla20_hand_worked_mixed_case() {
    // Raw answers cycle 1,2,3,4,1,2,3,4,... (item k → ((k−1) mod 4) + 1).
    // Reversed items (raw → 5−raw): 1:1→4, 5:1→4, 6:2→3, 9:1→4, 10:2→3,
    //   15:3→2, 16:4→1, 19:3→2, 20:4→1  → 24.
    // Other items: 2:2, 3:3, 4:4, 7:3, 8:4, 11:3, 12:4, 13:1, 14:2,
    //   17:1, 18:2 → 29.
    // Total 24 + 29 = 53.
    let raw: [Option<u8>; 20] = [
        Some(1),
        Some(2),
        Some(3),
        Some(4),
        Some(1),
        Some(2),
        Some(3),
        Some(4),
        Some(1),
        Some(2),
        Some(3),
        Some(4),
        Some(1),
        Some(2),
        Some(3),
        Some(4),
        Some(1),
        Some(2),
        Some(3),
        Some(4),
    ];
    assert_eq!(ucla20_total(raw, Prorate::None), Ok(Some(53.0)));

    // Second case: only item 1 (reversed) and item 2 (not reversed) differ
    // from "all 2" (total 49): item 1 raw 4 → 1 (was 3, −2), item 2 raw 4
    // → 4 (was 2, +2) → 49.
    let mut raw = all20(2);
    raw[0] = Some(4);
    raw[1] = Some(4);
    assert_eq!(ucla20_total(raw, Prorate::None), Ok(Some(49.0)));
    // And item 3 raw 1 (was 2, −1) → 48.
    raw[2] = Some(1);
    assert_eq!(ucla20_total(raw, Prorate::None), Ok(Some(48.0)));
}

#[test]
fn ucla20_missing_and_prorating() {
    let mut raw = all20(1);
    raw[1] = None; // item 2, not reversed
    assert_eq!(ucla20_total(raw, Prorate::None), Ok(None));
    // Answered: 9×4 + 10×1 = 46 over 19 items → 46/19 × 20.
    assert_eq!(
        ucla20_total(raw, Prorate::MaxMissing(1)),
        Ok(Some(920.0 / 19.0))
    );
    let mut raw = all20(1);
    raw[0] = None; // item 1, reversed
                   // Answered: 8×4 + 11×1 = 43 over 19 → 43/19 × 20 (reverse scoring
                   // happens before the mean).
    assert_eq!(
        ucla20_total(raw, Prorate::MaxMissing(2)),
        Ok(Some(860.0 / 19.0))
    );
    raw[1] = None;
    raw[2] = None;
    assert_eq!(ucla20_total(raw, Prorate::MaxMissing(2)), Ok(None));
    // 3 missing: 8×4 + 9×1 = 41 over 17 → 41/17 × 20.
    let v = ucla20_total(raw, Prorate::MaxMissing(3)).unwrap().unwrap();
    assert!((v - 41.0 / 17.0 * 20.0).abs() < 1e-12);
    assert_eq!(ucla20_total([None; 20], Prorate::MaxMissing(20)), Ok(None));
}

#[test]
fn ucla20_out_of_range_is_error() {
    let mut raw = all20(2);
    raw[19] = Some(5);
    assert_eq!(
        ucla20_total(raw, Prorate::None),
        Err(ScoreError::OutOfRange {
            instrument: "UCLA-20",
            item: 20,
            value: 5.0,
            min: 1.0,
            max: 4.0
        })
    );
    raw[19] = Some(0);
    raw[0] = None;
    assert!(ucla20_total(raw, Prorate::MaxMissing(1)).is_err());
}

// ----- EQ VAS and policy ---------------------------------------------

#[test]
fn eq_vas_passthrough_and_validation() {
    assert_eq!(eq_vas(None), Ok(None));
    assert_eq!(eq_vas(Some(0.0)), Ok(Some(0.0)));
    assert_eq!(eq_vas(Some(100.0)), Ok(Some(100.0)));
    assert_eq!(eq_vas(Some(55.5)), Ok(Some(55.5)));
    assert_eq!(
        eq_vas(Some(-1.0)),
        Err(ScoreError::OutOfRange {
            instrument: "EQ VAS",
            item: 1,
            value: -1.0,
            min: 0.0,
            max: 100.0
        })
    );
    assert!(eq_vas(Some(100.5)).is_err());
    assert!(eq_vas(Some(f64::NAN)).is_err());
    assert!(eq_vas(Some(f64::INFINITY)).is_err());
    assert!(eq_vas(Some(f64::NEG_INFINITY)).is_err());
}

#[test]
fn prorate_policy_basics() {
    assert_eq!(Prorate::default(), Prorate::None);
    assert_eq!(Prorate::None.max_missing(), 0);
    assert_eq!(Prorate::MaxMissing(3).max_missing(), 3);
    let json = serde_json::to_string(&Prorate::MaxMissing(1)).unwrap();
    assert_eq!(
        serde_json::from_str::<Prorate>(&json).unwrap(),
        Prorate::MaxMissing(1)
    );
}
