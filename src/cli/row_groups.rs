//! Writing a large Parquet table a row group at a time.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::Path;

use polars::prelude::*;

/// The row groups that polars' `ParquetWriter::finish` cuts a frame of one chunk into:
/// one group below 512² rows; otherwise `rows / 512²` groups of `rows / groups` rows,
/// the last one also taking the remainder.
fn row_groups(rows: usize) -> Vec<Range<usize>> {
    const GROUP: usize = 512 * 512;
    let groups = rows / GROUP;
    if groups <= 1 {
        return std::iter::once(0..rows).collect();
    }
    let size = rows / groups;
    (0..groups)
        .map(|g| {
            g * size..if g + 1 == groups {
                rows
            } else {
                (g + 1) * size
            }
        })
        .collect()
}

/// Writes `rows` rows, built a row group at a time by `part` (asked for consecutive
/// ranges, in order), with the options of `write_table`: the same bytes as writing the
/// whole frame with it, with one row group in memory at a time.
///
/// # Errors
/// A file that cannot be written, or the first error of `part`.
pub fn write_parquet_in_groups(
    path: &Path,
    rows: usize,
    part: &mut dyn FnMut(Range<usize>) -> PolarsResult<DataFrame>,
) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut groups = row_groups(rows).into_iter();
    let first = part(groups.next().unwrap_or(0..0))?;
    let mut writer = ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Zstd(None))
        .batched(first.schema())?;
    writer.write_batch(&first)?;
    drop(first);
    for range in groups {
        writer.write_batch(&part(range)?)?;
    }
    writer.finish()?;
    drop(writer);
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::row_groups;

    #[test]
    fn row_groups_cover_the_rows_as_polars_cuts_them() {
        assert_eq!(row_groups(0), vec![0..0]);
        assert_eq!(row_groups(262_143), vec![0..262_143]);
        assert_eq!(row_groups(524_287), vec![0..524_287]);
        // 1,000,000 rows: 3 groups of 333,333, the last with the remainder.
        assert_eq!(
            row_groups(1_000_000),
            vec![0..333_333, 333_333..666_666, 666_666..1_000_000]
        );
    }
}
