//! Row numbers as a spreadsheet shows them, for every reader's messages.
//!
//! The rule: every line of a CSV file is a row, counted from 1 at the top of the file,
//! blank lines included (a blank line before the header makes the header row 2); a
//! line break inside a quoted value does not start a row (a spreadsheet keeps the value
//! in one cell); `\n`, `\r\n` and a lone `\r` each end a row. A blank line is skipped:
//! it is counted but is not a record. Files without lines (Parquet, SAS, Stata) number
//! their records from row 2, as if a header were row 1.

/// The spreadsheet row of each record of a table, kept as the few places where the
/// numbering jumps (blank lines, values spanning lines), so a table of millions of rows
/// costs nothing when it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowNumbers {
    /// `(record, row)`: from record index `record` on, record `i` is on row
    /// `row + (i - record)`. Sorted by record; the first is at record 0.
    jumps: Vec<(usize, usize)>,
}

impl Default for RowNumbers {
    fn default() -> RowNumbers {
        RowNumbers::after_header()
    }
}

impl RowNumbers {
    /// Record `i` on row `i + 2`: a header on row 1, no blank lines.
    pub fn after_header() -> RowNumbers {
        RowNumbers {
            jumps: vec![(0, 2)],
        }
    }

    /// The spreadsheet row of the record at `index` (counted from 0 after the header).
    pub fn row(&self, index: usize) -> usize {
        let at = self.jumps.partition_point(|&(record, _)| record <= index);
        match at.checked_sub(1).and_then(|i| self.jumps.get(i)) {
            Some(&(record, row)) => row + (index - record),
            None => index + 2,
        }
    }

    /// Notes that record `index` is on `row` (records must come in order).
    pub fn note(&mut self, index: usize, row: usize) {
        if self.row(index) != row {
            self.jumps.push((index, row));
        }
    }
}

/// Where a row of a CSV file starts and whether it is blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvRow {
    /// The spreadsheet row, from 1.
    pub row: usize,
    /// Byte range of the row without its line ending.
    pub start: usize,
    pub end: usize,
    /// Byte offset just past the line ending.
    pub next: usize,
}

impl CsvRow {
    pub fn is_blank(&self) -> bool {
        self.start == self.end
    }
}

/// Counts spreadsheet rows through CSV bytes, reading quotes as the `csv` crate does
/// (a quote opens a quoted value only at the start of a field; `""` inside one is a
/// quote).
#[derive(Debug, Clone)]
pub struct CsvRows<'a> {
    bytes: &'a [u8],
    delimiter: u8,
    /// The next byte to scan.
    position: usize,
    /// The row the scan position is on.
    row: usize,
}

impl<'a> CsvRows<'a> {
    pub fn new(bytes: &'a [u8], delimiter: u8) -> CsvRows<'a> {
        CsvRows {
            bytes,
            delimiter,
            position: 0,
            row: 1,
        }
    }

    /// The row of the next record: the next row that is not blank (the `csv` crate
    /// skips blank lines, so its records and these rows go one to one).
    pub fn next_record_row(&mut self) -> Option<usize> {
        self.find(|row| !row.is_blank()).map(|row| row.row)
    }
}

impl Iterator for CsvRows<'_> {
    type Item = CsvRow;

    /// The next row, scanning one record's worth of bytes.
    fn next(&mut self) -> Option<CsvRow> {
        let bytes = self.bytes;
        let start = self.position;
        if start >= bytes.len() {
            return None;
        }
        #[derive(PartialEq)]
        enum State {
            FieldStart,
            Unquoted,
            Quoted,
            QuoteInQuoted,
        }
        let mut state = State::FieldStart;
        let mut i = start;
        let (end, next) = loop {
            let Some(&b) = bytes.get(i) else {
                break (i, i);
            };
            let line_end = b == b'\n' || b == b'\r';
            if line_end && state != State::Quoted {
                let next = if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    i + 2
                } else {
                    i + 1
                };
                break (i, next);
            }
            state = match (state, b) {
                (State::Quoted, b'"') => State::QuoteInQuoted,
                (State::Quoted, _) => State::Quoted,
                (State::QuoteInQuoted, b'"') => State::Quoted,
                (_, d) if d == self.delimiter => State::FieldStart,
                (State::FieldStart, b'"') => State::Quoted,
                _ => State::Unquoted,
            };
            i += 1;
        };
        let row = CsvRow {
            row: self.row,
            start,
            end,
            next,
        };
        self.position = next;
        self.row += 1;
        Some(row)
    }
}

/// The rows of CSV bytes that hold a header and records: the header's row, the record
/// rows' numbers, and the bytes without blank rows (borrowed when there are none).
pub struct CsvLayout<'a> {
    pub header_row: usize,
    pub records: RowNumbers,
    pub body: std::borrow::Cow<'a, [u8]>,
}

/// Drops blank rows (a blank line is not a record) and numbers the records that remain.
/// Rows ended by a lone `\r` are given a `\n`, which polars' reader needs.
pub fn without_blank_rows(bytes: &[u8], delimiter: u8) -> CsvLayout<'_> {
    let mut header_row = 1;
    let mut records = RowNumbers::after_header();
    let mut kept: Vec<(usize, usize)> = Vec::new();
    let mut rewrite = false;
    let mut index: Option<usize> = None;
    for row in CsvRows::new(bytes, delimiter) {
        if row.is_blank() {
            rewrite = true;
            continue;
        }
        rewrite |= row.next == row.end + 1 && bytes.get(row.end) == Some(&b'\r');
        match index {
            None => {
                header_row = row.row;
                records.jumps = vec![(0, row.row + 1)];
                index = Some(0);
            }
            Some(i) => {
                records.note(i, row.row);
                index = Some(i + 1);
            }
        }
        kept.push((row.start, row.end));
    }
    let body = if rewrite {
        let mut body = Vec::with_capacity(bytes.len());
        for (start, end) in kept {
            if let Some(slice) = bytes.get(start..end) {
                body.extend_from_slice(slice);
            }
            body.push(b'\n');
        }
        std::borrow::Cow::Owned(body)
    } else {
        std::borrow::Cow::Borrowed(bytes)
    };
    CsvLayout {
        header_row,
        records,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_rows(text: &str) -> (usize, Vec<usize>, String) {
        let layout = without_blank_rows(text.as_bytes(), b',');
        let records = String::from_utf8(layout.body.to_vec()).unwrap_or_default();
        let n = CsvRows::new(text.as_bytes(), b',')
            .filter(|row| !row.is_blank())
            .count()
            .saturating_sub(1);
        let rows = (0..n).map(|i| layout.records.row(i)).collect();
        (layout.header_row, rows, records)
    }

    #[test]
    fn blank_lines_in_the_middle_count_as_rows() {
        let (header, rows, _) = record_rows("a,b\n1,2\n\n\n3,4\n5,6\n");
        assert_eq!(header, 1);
        assert_eq!(rows, vec![2, 5, 6]);
    }

    #[test]
    fn a_blank_line_before_the_header_moves_everything_down() {
        let (header, rows, body) = record_rows("\r\na,b\r\n1,2\r\n\r\n3,4");
        assert_eq!(header, 2);
        assert_eq!(rows, vec![3, 5]);
        assert_eq!(body, "a,b\n1,2\n3,4\n");
    }

    #[test]
    fn a_value_spanning_lines_stays_on_one_row() {
        let layout = without_blank_rows(b"a,b\n\"x\ny\",2\n3,4\n", b',');
        assert_eq!(layout.records.row(0), 2);
        assert_eq!(layout.records.row(1), 3);
        assert!(matches!(layout.body, std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn lone_carriage_returns_end_rows() {
        let (_, rows, body) = record_rows("a,b\r1,2\r\r3,4\r");
        assert_eq!(rows, vec![2, 4]);
        assert_eq!(body, "a,b\n1,2\n3,4\n");
        let (_, rows, body) = record_rows("a,b\r1,2\r3,4");
        assert_eq!(rows, vec![2, 3]);
        assert_eq!(body, "a,b\n1,2\n3,4\n");
    }

    #[test]
    fn record_rows_skip_blank_lines_and_keep_quoted_line_breaks() {
        let bytes = b"\na,b\n1,2\n\n\"p\n\nq\",3\n4,\"\"\"\n\"\n";
        let mut rows = CsvRows::new(bytes, b',');
        let found: Vec<usize> = std::iter::from_fn(|| rows.next_record_row()).collect();
        assert_eq!(found, vec![2, 3, 5, 6]);
    }

    #[test]
    fn sparse_numbers_without_jumps() {
        let numbers = RowNumbers::after_header();
        assert_eq!(numbers.row(0), 2);
        assert_eq!(numbers.row(1_000_000), 1_000_002);
    }
}
