use super::*;

#[test]
fn a_small_part_cannot_be_recovered_from_the_total() {
    // referred 350 = 3 without snapshot + 347 in risk sets;
    // 347 = 345 matched + 2 unmatched.
    let values = [350u64, 3, 347, 345, 2];
    let relations = [
        SumRelation {
            total: (0, 0),
            parts: vec![(1, 0), (2, 0)],
        },
        SumRelation {
            total: (2, 0),
            parts: vec![(3, 0), (4, 0)],
        },
    ];
    let hidden = complementary_cells(&relations, |(r, _)| Some(values[r]), 5);
    // 347 is hidden with the 3; then 347's relation has 347 and 2 hidden: enough.
    assert_eq!(hidden, vec![(2, 0)]);
    // Every relation now has no cell or at least two hidden cells.
    let all: Vec<usize> = vec![1, 2, 4];
    for r in &relations {
        let n = std::iter::once(&r.total)
            .chain(&r.parts)
            .filter(|c| all.contains(&c.0))
            .count();
        assert!(n != 1);
    }
}

#[test]
fn nothing_is_hidden_without_small_counts() {
    let relations = [SumRelation {
        total: (0, 0),
        parts: vec![(1, 0), (2, 0)],
    }];
    let values = [20u64, 0, 20];
    assert!(complementary_cells(&relations, |(r, _)| Some(values[r]), 5).is_empty());
}

#[test]
fn suppresses_small_nonzero_counts() {
    assert!(!must_suppress(0, 5));
    assert!(must_suppress(1, 5));
    assert!(must_suppress(4, 5));
    assert!(!must_suppress(5, 5));
    assert_eq!(marker(5), "<5");
}

/// A results.json with a flow of 30 referred: 26 matched, 4 not.
fn small_flow() -> serde_json::Value {
    serde_json::json!({
        "plan": {"disclosure": {"threshold": 5}},
        "cohort": {"persons": 2030, "referred": 30, "comparison_pool": 2000},
        "matching": {"flow": {
            "referred": 30,
            "referred_outside_study_period": 0,
            "referred_without_snapshot": 0,
            "referred_in_risk_sets": 30,
            "referred_matched": 26,
            "referred_unmatched": 4,
            "comparison_matched": 119
        }},
        "score_counts": [
            {"score": "ucla3_total", "rows": 70, "scored": 67, "lost_to_missing_items": 3, "not_answered": 0},
            {"score": "eq5d_index", "rows": 70, "scored": 60, "lost_to_missing_items": 10, "not_answered": 0}
        ]
    })
}

fn files_of(json: &serde_json::Value) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    files.insert("results.json".to_string(), json.to_string().into_bytes());
    files
}

#[test]
fn results_json_hides_small_counts_and_what_gives_them_away() {
    let mut json = small_flow();
    let before = audit::audit(&files_of(&json));
    // The 4 unmatched and the 3 lost to missing items, both below 5.
    let located: Vec<&str> = before.iter().map(|f| f.location.as_str()).collect();
    assert_eq!(
        located,
        [
            "/matching/flow/referred_unmatched",
            "/score_counts/0/lost_to_missing_items"
        ]
    );
    json::suppress(&mut json, 5);
    assert_eq!(json["matching"]["flow"]["referred_unmatched"], "<5");
    // 26 = 30 − 4 would give the 4 away: hidden too.
    assert_eq!(json["matching"]["flow"]["referred_matched"], "[s]");
    assert_eq!(json["score_counts"][0]["lost_to_missing_items"], "<5");
    assert_eq!(json["score_counts"][0]["scored"], "[s]");
    // The other score's counts and the totals stay.
    assert_eq!(json["score_counts"][1]["lost_to_missing_items"], 10);
    assert_eq!(json["matching"]["flow"]["referred"], 30);
    assert_eq!(audit::audit(&files_of(&json)), vec![]);
}

#[test]
fn the_audit_catches_a_count_derivable_by_subtraction() {
    let mut json = small_flow();
    json::suppress(&mut json, 5);
    // Planted: the complementary cell shown again, so 30 − 26 gives the hidden 4.
    json["matching"]["flow"]["referred_matched"] = serde_json::json!(26);
    let findings = audit::audit(&files_of(&json));
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].location, "/matching/flow/referred_unmatched");
    assert!(
        findings[0].problem.contains("subtraction"),
        "{}",
        findings[0]
    );
}

#[test]
fn the_audit_reads_counts_in_the_tables() {
    let mut files = files_of(&serde_json::json!({"plan": {"disclosure": {"threshold": 5}}}));
    files.insert(
        "tables/table_one.csv".into(),
        b"variable,level,statistic,referred before,SMD before\nn,,n,30,\nsex,M,n (%),3 (10.0),0.2\nage,,mean (SD),56.2 (19.8),0.3\n"
            .to_vec(),
    );
    files.insert(
        "tables/flow.csv".into(),
        b"step,n\nreferred,30\nnot matched,<5\nmatched,2\n".to_vec(),
    );
    let findings = audit::audit(&files);
    let located: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {}", f.file, f.location))
        .collect();
    assert_eq!(
        located,
        [
            "tables/flow.csv row 4, column n",
            "tables/table_one.csv row 3, column referred before"
        ]
    );
}

#[test]
fn counts_are_rounded_to_the_nearest_multiple_half_up() {
    let base5: Vec<u64> = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 347]
        .iter()
        .map(|&n| rounded(n, 5))
        .collect();
    assert_eq!(base5, [0, 0, 0, 5, 5, 5, 5, 5, 10, 10, 15, 345]);
    // An even base: the half goes up.
    assert_eq!(rounded(5, 10), 10);
    assert_eq!(rounded(14, 10), 10);
    assert_eq!(rounded(15, 10), 20);
    assert_eq!(rounded(7, 1), 7);
    let rule = Rule {
        threshold: 5,
        round_to: 5,
    };
    assert_eq!(rule.count_text(3), "<5");
    assert_eq!(rule.count_text(7), "5");
    assert_eq!(rule.count_text(0), "0");
    assert_eq!(rule.weighted(119.0), 120.0);
    assert_eq!(rule.weighted(59.5), 59.5);
    // A sum of weights of 1/3 that is 42 up to round-off is rounded as 42.
    assert_eq!(rule.weighted(126.0 * (1.0 / 3.0) - 1e-13), 40.0);
}

#[test]
fn results_json_rounds_after_suppressing_on_the_unrounded_counts() {
    let mut json = small_flow();
    json["plan"]["disclosure"]["round_to"] = serde_json::json!(5);
    let rule = Rule {
        threshold: 5,
        round_to: 5,
    };
    json::suppress(&mut json, rule);
    // The 4 is suppressed (rounded it would be a 5), and 26 hidden as before.
    assert_eq!(json["matching"]["flow"]["referred_unmatched"], "<5");
    assert_eq!(json["matching"]["flow"]["referred_matched"], "[s]");
    // 119 and 2030 are shown rounded, each on its own.
    assert_eq!(json["matching"]["flow"]["comparison_matched"], 120);
    assert_eq!(json["cohort"]["persons"], 2030);
    assert_eq!(json["score_counts"][0]["rows"], 70);
    assert_eq!(audit::audit(&files_of(&json)), vec![]);
}

#[test]
fn the_audit_finds_a_count_left_unrounded() {
    let mut json = small_flow();
    json["plan"]["disclosure"]["round_to"] = serde_json::json!(5);
    json::suppress(&mut json, 5);
    let mut files = files_of(&json);
    files.insert(
        "tables/flow.csv".into(),
        b"step,n\nreferred,30\ncomparison persons matched,119\n".to_vec(),
    );
    let located: Vec<String> = audit::audit(&files)
        .iter()
        .map(|f| format!("{} {}: {}", f.file, f.location, f.problem))
        .collect();
    assert_eq!(
        located,
        [
            "results.json /matching/flow/comparison_matched: a count of 119 persons, not rounded to a multiple of 5",
            "tables/flow.csv row 3, column n: a count of 119 persons, not rounded to a multiple of 5"
        ]
    );
}
