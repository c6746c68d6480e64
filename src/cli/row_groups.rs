//! Writing a large table (Parquet or Stata) a row group at a time.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::data::formats::dta_write::{write_dta, DtaWriter, LayoutBuilder};

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

/// Temporary files that are removed when dropped, whether or not the writing succeeded.
struct Spool(Vec<PathBuf>);

impl Drop for Spool {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Writes `rows` rows, built a row group at a time by `part` (asked for consecutive
/// ranges, in order, as by [`write_parquet_in_groups`]), as the Stata dataset `path`.
///
/// A Stata dataset fixes each variable's storage (the widest text, the largest integer)
/// before its first row, and `part` can be asked for each range only once. So the parts
/// are first written to temporary Parquet files beside `path` while their values are
/// observed, then read back one at a time into the dataset: one part in memory at a
/// time, the disk written twice.
///
/// # Errors
/// A file that cannot be written, a value that Stata cannot hold, or the first error of
/// `part`.
pub fn write_dta_in_groups(
    path: &Path,
    rows: usize,
    part: &mut dyn FnMut(Range<usize>) -> PolarsResult<DataFrame>,
) -> anyhow::Result<()> {
    let file = path.display().to_string();
    let groups = row_groups(rows);
    if groups.len() == 1 {
        let whole = part(0..rows)?;
        write_dta(path, &whole)?;
        return Ok(());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut spool = Spool(Vec::with_capacity(groups.len()));
    let mut layout: Option<LayoutBuilder> = None;
    for (i, range) in groups.into_iter().enumerate() {
        let mut frame = part(range)?;
        let builder = match &mut layout {
            Some(builder) => builder,
            None => layout.insert(LayoutBuilder::new(&file, frame.schema())?),
        };
        builder.observe(&frame)?;
        let spooled = path.with_file_name(format!(".{name}.part{i}.tmp"));
        spool.0.push(spooled.clone());
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&spooled)?);
        ParquetWriter::new(&mut out)
            .with_compression(ParquetCompression::Uncompressed)
            .finish(&mut frame)?;
        out.flush()?;
    }
    let Some(layout) = layout else {
        return Ok(());
    };
    let mut writer = DtaWriter::create(path, layout.finish(), "")?;
    for spooled in &spool.0 {
        let frame = ParquetReader::new(File::open(spooled)?).finish()?;
        writer.write(&frame)?;
        std::fs::remove_file(spooled)?;
    }
    writer.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{row_groups, write_dta_in_groups};
    use crate::data::formats::dta_write::write_dta;
    use polars::prelude::*;

    #[test]
    fn a_stata_file_written_in_groups_is_the_bytes_of_one_written_whole() {
        // Two row groups, the second with a longer text and a larger integer than the
        // first, so that the storage chosen must come from both.
        let rows = 600_000;
        let frame = |range: std::ops::Range<usize>| {
            let codes: Vec<String> = range
                .clone()
                .map(|i| {
                    if i == rows - 1 {
                        "longest".into()
                    } else {
                        format!("{}", i % 7)
                    }
                })
                .collect();
            let counts: Vec<i64> = range.map(|i| i as i64).collect();
            df!("code" => codes, "count" => counts)
        };
        let dir = tempfile::tempdir().expect("a folder");
        let (grouped, whole) = (dir.path().join("grouped.dta"), dir.path().join("whole.dta"));
        let mut asked = Vec::new();
        write_dta_in_groups(&grouped, rows, &mut |range| {
            asked.push(range.clone());
            frame(range)
        })
        .expect("written in groups");
        assert_eq!(asked, row_groups(rows));
        write_dta(&whole, &frame(0..rows).expect("frame")).expect("written whole");
        assert!(std::fs::read(&grouped).expect("grouped") == std::fs::read(&whole).expect("whole"));
        // The temporary parts are gone.
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("folder").collect();
        assert_eq!(left.len(), 2);
    }

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
