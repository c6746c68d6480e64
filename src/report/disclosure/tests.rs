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
