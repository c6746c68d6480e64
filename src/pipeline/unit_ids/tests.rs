use super::*;

#[test]
fn natural_order_compares_digit_runs_by_value() {
    assert_eq!(natural_cmp("NSW2", "NSW10"), Ordering::Less);
    assert_eq!(natural_cmp("a10b", "a9c"), Ordering::Greater);
    assert_eq!(natural_cmp("007", "7"), Ordering::Less);
    assert_eq!(natural_cmp("x", "x1"), Ordering::Less);
}
