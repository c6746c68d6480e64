use super::*;

#[test]
fn small_counts_never_reach_the_output() {
    let mut t = ResultTable::new("t", "T", &["group", "n", "mean"]);
    t.push(vec![
        Cell::text("a"),
        Cell::Count(3),
        Cell::number(1.234, 2),
    ]);
    t.push(vec![Cell::text("b"), Cell::Count(12), Cell::Missing]);
    let csv = t.to_csv(5);
    assert_eq!(csv, "group,n,mean\na,<5,1.23\nb,12,\n");
    let md = t.to_markdown(5);
    assert!(md.contains("| a | <5 | 1.23 |"));
    assert!(md.contains("suppressed"));
    assert!(!md.contains("| 3 |"));
}
