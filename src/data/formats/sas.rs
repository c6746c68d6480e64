//! SAS datasets (`.sas7bdat`): 32- and 64-bit layouts, either byte order, uncompressed
//! or compressed (`CHAR`/RLE and `BINARY`/RDC), with deleted rows skipped.
//!
//! The pages are decoded by the `sas7bdat` crate (memory-mapped, in file order); every
//! numeric is taken as the stored double and given its meaning here, from its display
//! format as R haven does (see the module above).

use std::ops::ControlFlow;
use std::path::Path;

use polars::prelude::*;
use sas7bdat::{
    BatchHint, ColumnBuffer, Dataset, IoBackendPreference, LogicalType, MojibakePolicy,
    OpenOptions, OrderingMode, Parallelism, StringDecodeOptions, TrimMode,
};

use super::temporal::{days_1960_to_unix, sas_numeric_kind, seconds_1960_to_unix_micros};
use super::views::TextViews;
use super::{FormatError, PackageFile, ReadOptions, ValueKind, Variable};

/// An open SAS dataset.
pub struct SasFile {
    file: String,
    dataset: Dataset,
    variables: Vec<Variable>,
    threads: usize,
}

impl std::fmt::Debug for SasFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SasFile")
            .field("file", &self.file)
            .field("variables", &self.variables)
            .finish_non_exhaustive()
    }
}

impl SasFile {
    /// Opens a SAS dataset and reads its header and column metadata.
    ///
    /// # Errors
    /// The file is missing or is not a readable SAS dataset.
    pub fn open(path: &Path, options: ReadOptions) -> Result<SasFile, FormatError> {
        let file = path.display().to_string();
        if let Err(source) = std::fs::metadata(path) {
            return Err(FormatError::Io { file, source });
        }
        let header = |message: String| FormatError::Header {
            file: file.clone(),
            format: "SAS7BDAT",
            message,
        };
        // Sequential reads rather than a memory map: a map's pages count against the
        // process's memory, and a year of a register can be larger than the machine's.
        let open = OpenOptions::builder()
            .io_backend(IoBackendPreference::Buffered)
            .build();
        let mut dataset = Dataset::open_with(path, open).map_err(|e| header(e.to_string()))?;
        // Every numeric comes out as the stored double; its meaning is decided below.
        let numeric: Vec<(String, LogicalType)> = dataset
            .columns()
            .iter()
            .filter(|c| c.logical_type.is_numeric())
            .map(|c| (c.name.clone(), LogicalType::Float))
            .collect();
        dataset
            .apply_schema_overrides(numeric)
            .map_err(|e| header(e.to_string()))?;
        let variables = dataset
            .columns()
            .iter()
            .map(|c| Variable {
                name: c.name.clone(),
                kind: match c.logical_type {
                    LogicalType::String | LogicalType::Bytes => ValueKind::Text,
                    _ => sas_numeric_kind(c.format.as_deref()),
                },
                format: c.format_spec(),
                label: c.label.clone().filter(|l| !l.is_empty()),
            })
            .collect();
        Ok(SasFile {
            file,
            dataset,
            variables,
            threads: options.threads.max(1),
        })
    }

    /// The encoding the file declares (e.g. `WINDOWS-1252`, `UTF-8`), if any.
    pub fn encoding(&self) -> Option<&str> {
        self.dataset.metadata().encoding.as_deref()
    }
}

impl PackageFile for SasFile {
    fn file(&self) -> &str {
        &self.file
    }

    fn variables(&self) -> &[Variable] {
        &self.variables
    }

    fn rows(&self) -> u64 {
        let metadata = self.dataset.metadata();
        metadata
            .row_count
            .saturating_sub(metadata.deleted_row_count)
    }

    fn read_chunks(
        &self,
        chunk_rows: usize,
        sink: &mut dyn FnMut(DataFrame) -> Result<(), FormatError>,
    ) -> Result<(), FormatError> {
        let strings = StringDecodeOptions::builder()
            .trim_mode(TrimMode::RTrim)
            .mojibake_fix(MojibakePolicy::Off)
            .build();
        let chunk_rows = chunk_rows.max(1);
        let mut chunk = ChunkBuilder::new(&self.file, &self.variables, chunk_rows);
        let mut rows_done: u64 = 0;
        let mut failure: Option<FormatError> = None;
        // Owned batches: with more than one thread the pages are read once, in large
        // extents, and decoded on the reader's threads (borrowed batches read every page
        // twice, a page per system call). The reader cuts batches where its extents end,
        // so they are gathered here into chunks of exactly `chunk_rows` rows: the chunks,
        // and the row groups written from them, are the same whatever the thread count.
        let scan = self
            .dataset
            .scan()
            .with_ordering(OrderingMode::Stable)
            .with_parallelism(Parallelism::Threads(self.threads))
            .with_batch_hint(BatchHint::Rows(chunk_rows))
            .with_string_options(strings);
        let result = scan.visit_owned_batches(|batch| {
            let columns = batch.borrowed_columns();
            let mut outcome = Ok(());
            let mut from = 0;
            while from < batch.row_count {
                let take = (batch.row_count - from).min(chunk_rows - chunk.rows);
                outcome = chunk
                    .append(&columns, from, take)
                    .map_err(|(row, variable, message)| FormatError::Data {
                        file: self.file.clone(),
                        row: rows_done + row as u64 + 2,
                        variable: format!(", column {variable}"),
                        message,
                    });
                if outcome.is_err() {
                    break;
                }
                from += take;
                if chunk.rows == chunk_rows {
                    outcome = chunk.finish().and_then(&mut *sink);
                    if outcome.is_err() {
                        break;
                    }
                }
            }
            rows_done += batch.row_count as u64;
            match outcome {
                Ok(()) => Ok(ControlFlow::Continue(())),
                Err(e) => {
                    failure = Some(e);
                    Ok(ControlFlow::Break(()))
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        if result.is_err() && self.threads > 1 {
            // Several threads read ahead, so the error can come before rows that are
            // readable: they are counted again by the borrowed scan, which stops at the
            // damage, so that the message names the first row that cannot be read. (With
            // one thread both scans check every page before the first row, as before.)
            let mut readable: u64 = 0;
            let _ = self
                .dataset
                .scan()
                .with_parallelism(Parallelism::Threads(self.threads))
                .visit_batches(|batch| {
                    readable += batch.row_count as u64;
                    Ok(ControlFlow::Continue(()))
                });
            rows_done = rows_done.max(readable);
        }
        result.map_err(|e| FormatError::Data {
            file: self.file.clone(),
            row: rows_done + 2,
            variable: String::new(),
            message: format!("the page holding this row cannot be read ({e})"),
        })?;
        if chunk.rows > 0 {
            chunk.finish().and_then(&mut *sink)?;
        }
        let declared = self.rows();
        if rows_done < declared {
            return Err(FormatError::Data {
                file: self.file.clone(),
                row: rows_done + 2,
                variable: String::new(),
                message: format!(
                    "the file ends here, but its header declares {declared} rows (a truncated copy?)"
                ),
            });
        }
        Ok(())
    }
}

/// Whether row `i` is present in a validity bitmap (no bitmap: all present).
fn present(valid: Option<&[u64]>, i: usize) -> bool {
    valid.is_none_or(|bits| bits.get(i / 64).is_some_and(|w| (w >> (i % 64)) & 1 == 1))
}

/// The gathered doubles as a column of `convert`ed values (`None`: missing; NaN, a SAS
/// missing value, converts to `None`), the buffer emptied. Built at once rather than a
/// value at a time through polars' builder, the same array: 0 under a missing value.
fn converted<T: PolarsNumericType>(
    name: &str,
    values: &mut Vec<f64>,
    convert: impl Fn(f64) -> Option<T::Native>,
) -> ChunkedArray<T> {
    let mut missing = false;
    let column: Vec<T::Native> = values
        .iter()
        .map(|&v| {
            convert(v).unwrap_or_else(|| {
                missing = true;
                T::Native::default()
            })
        })
        .collect();
    let validity = missing.then(|| {
        values
            .iter()
            .map(|&v| convert(v).is_some())
            .collect::<polars_arrow::bitmap::Bitmap>()
    });
    values.clear();
    ChunkedArray::from_vec_validity(name.into(), column, validity)
}

/// One variable's values of the chunk being gathered.
enum Pending {
    /// Stored doubles, a missing value as NaN (as SAS stores it).
    Numbers(Vec<f64>),
    Texts(TextViews),
}

/// Rows of the decoded batches gathered into one chunk of at most `capacity` rows, its
/// buffers reused from chunk to chunk.
struct ChunkBuilder<'v> {
    file: &'v str,
    capacity: usize,
    variables: &'v [Variable],
    columns: Vec<Pending>,
    rows: usize,
}

impl<'v> ChunkBuilder<'v> {
    fn new(file: &'v str, variables: &'v [Variable], capacity: usize) -> ChunkBuilder<'v> {
        let capacity = capacity.min(1 << 20);
        let columns = variables
            .iter()
            .map(|v| match v.kind {
                ValueKind::Text => Pending::Texts(TextViews::with_capacity(capacity)),
                _ => Pending::Numbers(Vec::with_capacity(capacity)),
            })
            .collect();
        ChunkBuilder {
            file,
            capacity,
            variables,
            columns,
            rows: 0,
        }
    }

    /// Appends rows `from..from + take` of a batch; on failure, the row of the batch,
    /// the variable and what is wrong.
    fn append(
        &mut self,
        buffers: &[ColumnBuffer<'_>],
        from: usize,
        take: usize,
    ) -> Result<(), (usize, String, String)> {
        if buffers.len() != self.variables.len() {
            return Err((
                from,
                String::new(),
                format!(
                    "{} columns decoded for {} variables",
                    buffers.len(),
                    self.variables.len()
                ),
            ));
        }
        let rows = from..from + take;
        for ((variable, pending), buffer) in
            self.variables.iter().zip(&mut self.columns).zip(buffers)
        {
            let name = variable.name.as_str();
            match (pending, buffer) {
                (Pending::Numbers(values), ColumnBuffer::F64(b)) => {
                    let stored = b.values.get(rows.clone()).ok_or_else(|| {
                        (
                            from,
                            name.to_string(),
                            format!(
                                "{} values in a batch of {} rows",
                                b.values.len(),
                                from + take
                            ),
                        )
                    })?;
                    match b.valid {
                        None => values.extend_from_slice(stored),
                        Some(_) => values.extend(stored.iter().zip(rows.clone()).map(|(&v, i)| {
                            if present(b.valid, i) {
                                v
                            } else {
                                f64::NAN
                            }
                        })),
                    }
                }
                (Pending::Texts(texts), ColumnBuffer::Utf8(b)) => {
                    if b.offsets.len() < from + take + 1 {
                        return Err((
                            from,
                            name.to_string(),
                            format!(
                                "{} values in a batch of {} rows",
                                b.offsets.len().saturating_sub(1),
                                from + take
                            ),
                        ));
                    }
                    let offset = |i: usize| usize::try_from(b.offsets[i]).ok();
                    // The rows' bytes checked at once where they are valid UTF-8 (one
                    // call, not one per value); otherwise value by value, to name the row.
                    let first = offset(from).unwrap_or(0);
                    let whole = offset(from + take)
                        .and_then(|last| b.data.get(first..last))
                        .and_then(|bytes| std::str::from_utf8(bytes).ok());
                    for i in rows.clone() {
                        if !present(b.valid, i) {
                            texts.push_null();
                            continue;
                        }
                        let out_of_range =
                            || (i, name.to_string(), "text offsets out of range".to_string());
                        let (start, end) = offset(i).zip(offset(i + 1)).ok_or_else(out_of_range)?;
                        let value = match whole {
                            Some(whole) => start
                                .checked_sub(first)
                                .zip(end.checked_sub(first))
                                .and_then(|(start, end)| whole.get(start..end))
                                .ok_or_else(out_of_range)?,
                            None => {
                                let bytes = b.data.get(start..end).ok_or_else(out_of_range)?;
                                std::str::from_utf8(bytes).map_err(|_| {
                                    (
                                        i,
                                        name.to_string(),
                                        "text that is not valid in the file's encoding".to_string(),
                                    )
                                })?
                            }
                        };
                        texts.push(value, true);
                    }
                }
                (_, other) => {
                    return Err((
                        from,
                        name.to_string(),
                        format!("unexpected storage {}", storage_name(other)),
                    ))
                }
            }
        }
        self.rows += take;
        Ok(())
    }

    /// The gathered rows as a frame, the builder emptied for the next chunk.
    fn finish(&mut self) -> Result<DataFrame, FormatError> {
        let rows = std::mem::take(&mut self.rows);
        let mut columns = Vec::with_capacity(self.variables.len());
        for (variable, pending) in self.variables.iter().zip(&mut self.columns) {
            let name = variable.name.as_str();
            let column = match pending {
                Pending::Numbers(values) => {
                    match variable.kind {
                        ValueKind::Date => converted::<Int32Type>(name, values, days_1960_to_unix)
                            .into_date()
                            .into_series()
                            .into_column(),
                        ValueKind::DateTime => {
                            converted::<Int64Type>(name, values, seconds_1960_to_unix_micros)
                                .into_datetime(TimeUnit::Microseconds, None)
                                .into_series()
                                .into_column()
                        }
                        // No missing value: the buffer becomes the column as it is.
                        _ if !values.iter().any(|v| v.is_nan()) => {
                            let full = std::mem::replace(values, Vec::with_capacity(self.capacity));
                            Float64Chunked::from_vec(name.into(), full)
                                .into_series()
                                .into_column()
                        }
                        _ => converted::<Float64Type>(name, values, |v| (!v.is_nan()).then_some(v))
                            .into_series()
                            .into_column(),
                    }
                }
                Pending::Texts(texts) => texts.finish(name),
            };
            columns.push(column);
        }
        DataFrame::new(rows, columns).map_err(|e| FormatError::Sink {
            file: self.file.to_string(),
            source: Box::new(e),
        })
    }
}

fn storage_name(buffer: &ColumnBuffer<'_>) -> &'static str {
    match buffer {
        ColumnBuffer::I32(_) => "int32",
        ColumnBuffer::I64(_) => "int64",
        ColumnBuffer::F64(_) => "double",
        ColumnBuffer::Date(_) => "date",
        ColumnBuffer::DateTime(_) => "datetime",
        ColumnBuffer::Time(_) => "time",
        ColumnBuffer::Utf8(_) => "text",
        ColumnBuffer::RawBytes(_) => "raw bytes",
    }
}
