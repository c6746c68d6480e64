//! How large a model may be before it is built: a model matrix of n rows and p columns
//! takes 8·n·p bytes and every fit forms p × p cross-products, so a factor with tens of
//! thousands of levels would allocate tens of gigabytes and be killed, or run for hours.
//! The limits refuse such a model at once, naming the term that makes it large.

use super::error::DesignError;

/// The most columns a model matrix may have: a p × p cross-product of 800 MB.
pub const MAX_COLUMNS: usize = 10_000;

/// The most cells a model matrix held as an n × p array may have: 2 GiB of numbers.
pub const MAX_DENSE_CELLS: usize = 1 << 28;

/// Refuses a model of `assign.len()` columns (and, when `dense`, of `rows` × columns
/// cells) beyond the limits, naming the term with the most columns.
pub(super) fn check_size(
    assign: &[usize],
    term_labels: &[String],
    rows: usize,
    dense: bool,
) -> Result<(), DesignError> {
    let columns = assign.len();
    let too_many_cells = dense && rows.saturating_mul(columns) > MAX_DENSE_CELLS;
    if columns <= MAX_COLUMNS && !too_many_cells {
        return Ok(());
    }
    let mut per_term = vec![0usize; term_labels.len() + 1];
    for &term in assign {
        if let Some(count) = per_term.get_mut(term) {
            *count += 1;
        }
    }
    let (largest, term_columns) = per_term
        .iter()
        .enumerate()
        .skip(1)
        .max_by_key(|&(k, &c)| (c, std::cmp::Reverse(k)))
        .map_or((0, 0), |(k, &c)| (k, c));
    let term = term_labels
        .get(largest.wrapping_sub(1))
        .cloned()
        .unwrap_or_else(|| "(Intercept)".into());
    Err(DesignError::TooLarge {
        term,
        term_columns,
        columns,
        rows,
        gigabytes: 8.0 * rows as f64 * columns as f64 / 1e9,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_factor_with_fifty_thousand_levels_is_refused_by_name() {
        let mut assign = vec![0, 1];
        assign.extend(std::iter::repeat_n(2, 49_999));
        let labels = vec!["age".to_string(), "g".to_string()];
        let e = check_size(&assign, &labels, 50_000, false).expect_err("too many columns");
        let message = e.to_string();
        assert!(
            message.contains("`g`") && message.contains("49999"),
            "{message}"
        );
    }

    #[test]
    fn many_rows_are_refused_only_when_held_dense() {
        let assign = vec![0, 1, 2, 3];
        let labels = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let rows = MAX_DENSE_CELLS / 4 + 1;
        assert!(check_size(&assign, &labels, rows, false).is_ok());
        assert!(check_size(&assign, &labels, rows, true).is_err());
        assert!(check_size(&assign, &labels, rows - 1, true).is_ok());
    }
}
