//! The Parquet files of `shine convert`, written a row group at a time: each row group's
//! pages are encoded and compressed on every thread (a column each), and the next row
//! group's while the last is put in the file. polars' own `write_batch` compresses them
//! one after another on the writing thread, which made that thread the critical path of
//! a conversion.
//!
//! The pages are those polars writes, but for the dictionaries:
//! - doubles of few distinct values (sex, municipality, household size) get one, as
//!   pandas (pyarrow) gives them, where polars writes them plain; dictionaries of short
//!   text are made faster, the same pages ([`super::parquet_dictionary`]).
//! - a column whose values were not worth a dictionary in the first row group, when it
//!   has more than [`DICTIONARY_TRIAL_ROWS`] rows (identifiers, amounts, time stamps),
//!   is written plain in the rest of the file, as Arrow C++ keeps to plain once a
//!   dictionary was given up, rather than estimating every row group's cardinality
//!   again. Decided by the first row group alone, the encodings do not depend on which
//!   row group is encoded first.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver};

use polars::prelude::*;
use polars_parquet::write::{
    array_to_columns, compress, CompressedPage, Encoding, ParquetType, WriteOptions,
};
use rayon::prelude::*;

use super::parquet_dictionary::{dictionary, Dictionary};

/// polars' writer always makes a dictionary of a row group of at most this many rows,
/// without estimating whether it is worth it: such a row group decides nothing.
const DICTIONARY_TRIAL_ROWS: usize = 128;

/// A row group's compressed pages: per column of the frame, per Parquet column.
type RowGroupPages = Vec<Vec<Vec<CompressedPage>>>;

/// A Parquet file written a chunk of rows (a row group) at a time.
pub(super) struct ParquetChunks<W: Write> {
    pub(super) writer: polars::io::parquet::write::BatchedWriter<W>,
    types: Vec<ParquetType>,
    /// Per column of the frame, the encoding of each of its Parquet columns.
    encodings: Vec<Vec<Encoding>>,
    /// Whether the first row group has fixed the encodings.
    settled: bool,
    /// As polars' writer sets them for the same compression.
    options: WriteOptions,
}

impl<W: Write> ParquetChunks<W> {
    pub(super) fn new(
        out: W,
        schema: &Schema,
        compression: ParquetCompression,
    ) -> PolarsResult<Self> {
        let mut writer = ParquetWriter::new(out)
            .with_compression(compression)
            .batched(schema)?;
        let types = writer.parquet_schema().fields().to_vec();
        let encodings =
            polars::io::parquet::write::get_encodings(&schema.to_arrow(CompatLevel::newest()))
                .iter()
                .cloned()
                .collect();
        let options = WriteOptions {
            statistics: polars::io::parquet::write::StatisticsOptions::default(),
            compression: compression.into(),
            version: polars_parquet::write::Version::V1,
            data_page_size: None,
        };
        Ok(ParquetChunks {
            writer,
            types,
            encodings,
            settled: false,
            options,
        })
    }

    /// Writes the chunks in order, a row group each (more if a chunk is in pieces).
    pub(super) fn write_all(
        &mut self,
        chunks: impl IntoIterator<Item = DataFrame>,
    ) -> PolarsResult<()> {
        let mut chunks = chunks.into_iter();
        // Until the first row group has fixed the encodings, one at a time.
        while !self.settled {
            let Some(chunk) = chunks.next() else {
                return Ok(());
            };
            for (rows, columns) in encode(&chunk, &self.types, &self.encodings, self.options)? {
                if !self.settled {
                    self.settle(rows, &columns);
                }
                write_row_group(&mut self.writer, rows, columns)?;
            }
        }
        let (types, encodings, options) = (&self.types, &self.encodings, self.options);
        let writer = &mut self.writer;
        // Two row groups in hand: while one is written (or its last columns are still
        // compressed), the threads go on with the next.
        rayon::in_place_scope(|scope| {
            let mut encoding: VecDeque<InHand> = VecDeque::with_capacity(2);
            for chunk in chunks {
                let (done, result) = sync_channel(1);
                scope.spawn(move |_| {
                    // The receiver is gone only when writing already failed.
                    let _ = done.send(encode(&chunk, types, encodings, options));
                });
                encoding.push_back(result);
                if encoding.len() == 2 {
                    write_next(writer, &mut encoding)?;
                }
            }
            while !encoding.is_empty() {
                write_next(writer, &mut encoding)?;
            }
            Ok(())
        })
    }

    /// A column not worth a dictionary in the first row group (if it has rows enough to
    /// tell) is written plain from then on.
    fn settle(&mut self, rows: u64, columns: &RowGroupPages) {
        self.settled = true;
        if rows as usize <= DICTIONARY_TRIAL_ROWS {
            return;
        }
        for (encodings, pages) in self.encodings.iter_mut().zip(columns) {
            for (encoding, pages) in encodings.iter_mut().zip(pages) {
                let dictionary = matches!(pages.first(), Some(CompressedPage::Dict(_)));
                if *encoding == Encoding::RleDictionary && !dictionary {
                    *encoding = Encoding::Plain;
                }
            }
        }
    }
}

/// A chunk's row groups being encoded on the threads: each row group's row count and
/// its columns' pages, once ready.
type InHand = Receiver<PolarsResult<Vec<(u64, RowGroupPages)>>>;

/// Writes the row groups of the oldest chunk in hand once they are encoded.
fn write_next<W: Write>(
    writer: &mut polars::io::parquet::write::BatchedWriter<W>,
    encoding: &mut VecDeque<InHand>,
) -> PolarsResult<()> {
    let row_groups = match encoding.pop_front().map(|result| result.recv()) {
        Some(Ok(row_groups)) => row_groups?,
        _ => polars_bail!(ComputeError: "a row group was not encoded"),
    };
    for (rows, columns) in row_groups {
        write_row_group(writer, rows, columns)?;
    }
    Ok(())
}

fn write_row_group<W: Write>(
    writer: &mut polars::io::parquet::write::BatchedWriter<W>,
    rows: u64,
    columns: RowGroupPages,
) -> PolarsResult<()> {
    let row_group: Vec<Vec<CompressedPage>> = columns.into_iter().flatten().collect();
    writer.write_row_group(rows, &row_group)
}

/// A chunk's row groups (one per piece of its columns, usually one), each column's
/// pages encoded and compressed on the threads.
fn encode(
    chunk: &DataFrame,
    types: &[ParquetType],
    encodings: &[Vec<Encoding>],
    options: WriteOptions,
) -> PolarsResult<Vec<(u64, RowGroupPages)>> {
    let mut row_groups = Vec::with_capacity(1);
    for batch in chunk.iter_chunks(CompatLevel::newest(), false) {
        let rows = batch.len();
        if rows == 0 {
            continue;
        }
        let columns = batch
            .columns()
            .par_iter()
            .zip(types)
            .zip(encodings)
            .map(|((array, type_), encoding)| {
                let made = match encoding.as_slice() {
                    [Encoding::RleDictionary] => dictionary(array.as_ref()),
                    _ => Dictionary::Unsupported,
                };
                match made {
                    Dictionary::Found(keys) => {
                        array_to_columns(keys.boxed(), type_.clone(), options, encoding)
                    }
                    Dictionary::NotWorth => {
                        array_to_columns(array, type_.clone(), options, &[Encoding::Plain])
                    }
                    Dictionary::Unsupported => {
                        array_to_columns(array, type_.clone(), options, encoding)
                    }
                }?
                .into_iter()
                .map(|pages| {
                    pages
                        .map(|page| {
                            compress(page?, Vec::new(), options.compression)
                                .map_err(PolarsError::from)
                        })
                        .collect::<PolarsResult<Vec<CompressedPage>>>()
                })
                .collect::<PolarsResult<Vec<_>>>()
            })
            .collect::<PolarsResult<RowGroupPages>>()?;
        row_groups.push((rows as u64, columns));
    }
    Ok(row_groups)
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::path::Path;

    use super::*;

    /// Writes `chunks` to `ours` with [`ParquetChunks`] and to `theirs` with polars'
    /// batched writer, both finished and closed.
    fn write_both(
        (ours, theirs): (&Path, &Path),
        schema: &Schema,
        chunks: &[DataFrame],
        compression: ParquetCompression,
    ) {
        let mut mine =
            ParquetChunks::new(File::create(ours).unwrap(), schema, compression).unwrap();
        let mut polars = ParquetWriter::new(File::create(theirs).unwrap())
            .with_compression(compression)
            .batched(schema)
            .unwrap();
        mine.write_all(chunks.iter().cloned()).unwrap();
        for c in chunks {
            polars.write_batch(c).unwrap();
        }
        mine.writer.finish().unwrap();
        polars.finish().unwrap();
    }

    /// Chunks of the column kinds a conversion writes but doubles (whose dictionaries
    /// polars does not make: see the next test): text with missing and long values,
    /// short codes, dates, date-times, integers.
    fn chunk(start: i64, rows: i64) -> DataFrame {
        let k: Vec<i64> = (start..start + rows).collect();
        let codes: Vec<Option<&str>> = k
            .iter()
            .map(|&i| ["E", "G", "U", "F"].get((i % 5) as usize).copied())
            .collect();
        let text: Vec<Option<String>> = k
            .iter()
            .map(|&i| (i % 5 != 0).then(|| format!("{}{}", "v".repeat((i % 40) as usize), i % 13)))
            .collect();
        let days: Vec<Option<i32>> = k
            .iter()
            .map(|&i| (i % 11 != 0).then_some((i % 20_000) as i32))
            .collect();
        let micros: Vec<Option<i64>> = k
            .iter()
            .map(|&i| (i % 3 != 0).then_some(i * 1_000_003))
            .collect();
        DataFrame::new(
            rows as usize,
            vec![
                Column::new("PNR".into(), &k),
                Column::new("C".into(), &codes),
                Column::new("T".into(), &text),
                Int32Chunked::from_iter_options("D".into(), days.into_iter())
                    .into_date()
                    .into_column(),
                Int64Chunked::from_iter_options("S".into(), micros.into_iter())
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
            ],
        )
        .unwrap()
    }

    /// The row groups compressed on every thread, two at a time, make the file that
    /// polars' own writer makes of the same chunks, byte for byte, with every
    /// compression, where no encoding is fixed by the first row group (of one row: a
    /// dictionary of everything, deciding nothing) and no column is of doubles.
    #[test]
    fn parallel_row_groups_write_polars_bytes() {
        let chunks = [
            chunk(0, 1),
            chunk(1, 40_000),
            chunk(40_001, 25_000),
            chunk(65_001, 30_000),
            chunk(95_001, 7),
        ];
        let schema = chunks[0].schema().as_ref().clone();
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("ours"), dir.path().join("theirs"));
        for compression in [
            ParquetCompression::Snappy,
            ParquetCompression::Zstd(None),
            ParquetCompression::Lz4Raw,
            ParquetCompression::Uncompressed,
        ] {
            write_both((&a, &b), &schema, &chunks, compression);
            let (ours, theirs) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
            assert!(ours.len() > 1_000, "{compression:?}: {} bytes", ours.len());
            assert!(ours == theirs, "{compression:?}: the files differ");
        }
    }

    /// Whether each row group's Parquet columns start with a dictionary page.
    fn dictionary_pages(path: &Path) -> Vec<Vec<bool>> {
        let metadata = polars_parquet::read::read_metadata(&mut File::open(path).unwrap()).unwrap();
        metadata
            .row_groups
            .iter()
            .map(|group| {
                group
                    .parquet_columns()
                    .iter()
                    .map(|column| column.dictionary_page_offset().is_some())
                    .collect()
            })
            .collect()
    }

    /// A text column not worth a dictionary in its first row group is written plain in
    /// the next, where polars' writer would make one; doubles of few distinct values get
    /// a dictionary, which polars' writer does not make, and doubles of many are plain;
    /// text of few values keeps its dictionary. Both files read back as the chunks
    /// written (the doubles with their bits).
    #[test]
    fn a_column_not_worth_a_dictionary_stays_plain() {
        let group = |start: usize, identifiers: bool| {
            let ids: Vec<String> = (start..start + 30_000)
                .map(|i| {
                    if identifiers {
                        format!("F{i:09}")
                    } else {
                        "F000000001".into()
                    }
                })
                .collect();
            let codes: Vec<Option<&str>> = (start..start + 30_000)
                .map(|i| ["E", "G", "U", "F"].get(i % 5).copied())
                .collect();
            let sexes: Vec<Option<f64>> = (start..start + 30_000)
                .map(|i| (i % 7 != 0).then_some([1.0, 2.0, -0.0, 0.0][i % 4]))
                .collect();
            let amounts: Vec<f64> = (start..start + 30_000).map(|i| i as f64 * 0.37).collect();
            DataFrame::new(
                30_000,
                vec![
                    Column::new("FAMILIE_ID".into(), &ids),
                    Column::new("CIVST".into(), &codes),
                    Column::new("KOEN".into(), &sexes),
                    Column::new("DISPON_NY".into(), &amounts),
                ],
            )
            .unwrap()
        };
        let chunks = [group(0, true), group(30_000, false), group(60_000, true)];
        let schema = chunks[0].schema().as_ref().clone();
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("ours"), dir.path().join("theirs"));
        write_both((&a, &b), &schema, &chunks, ParquetCompression::Snappy);
        assert_eq!(
            dictionary_pages(&a),
            vec![vec![false, true, true, false]; 3]
        );
        // polars' writer gives the middle row group's identifiers a dictionary, and
        // doubles none.
        let theirs = vec![false, true, false, false];
        assert_eq!(
            dictionary_pages(&b),
            vec![theirs.clone(), vec![true, true, false, false], theirs]
        );
        let mut expected = chunks[0].clone();
        for c in &chunks[1..] {
            expected.vstack_mut(c).unwrap();
        }
        let bits = |frame: &DataFrame| -> Vec<Option<u64>> {
            let sexes = frame.column("KOEN").unwrap().f64().unwrap();
            sexes.iter().map(|v| v.map(f64::to_bits)).collect()
        };
        for path in [&a, &b] {
            let read = ParquetReader::new(File::open(path).unwrap())
                .finish()
                .unwrap();
            assert!(read.equals_missing(&expected), "{}", path.display());
            assert!(bits(&read) == bits(&expected), "{}", path.display());
        }
    }
}
