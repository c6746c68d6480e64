//! Disclosure control: counts below the threshold are suppressed in every exported table.
//!
//! Statistics Denmark's rule for output from its research servers: no cell may show
//! fewer than 5 persons (the default threshold).

/// Statistics Denmark's minimum cell size.
pub const DEFAULT_THRESHOLD: u64 = 5;

/// The marker written in place of a suppressed count.
pub fn marker(threshold: u64) -> String {
    format!("<{threshold}")
}

/// Whether a count must be suppressed: 1 to threshold − 1 persons (0 discloses nothing).
pub fn must_suppress(count: u64, threshold: u64) -> bool {
    count > 0 && count < threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppresses_small_nonzero_counts() {
        assert!(!must_suppress(0, 5));
        assert!(must_suppress(1, 5));
        assert!(must_suppress(4, 5));
        assert!(!must_suppress(5, 5));
        assert_eq!(marker(5), "<5");
    }
}
