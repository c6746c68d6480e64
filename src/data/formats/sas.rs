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
use super::{
    date_column, datetime_column, float_column, text_column, FormatError, PackageFile, ReadOptions,
    ValueKind, Variable,
};

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
        let mut rows_done: u64 = 0;
        let mut failure: Option<FormatError> = None;
        let scan = self
            .dataset
            .scan()
            .with_ordering(OrderingMode::Stable)
            .with_parallelism(Parallelism::Threads(self.threads))
            .with_batch_hint(BatchHint::Rows(chunk_rows.max(1)))
            .with_string_options(strings);
        let result = scan.visit_batches(|batch| {
            let outcome = chunk_frame(&self.variables, batch.columns, batch.row_count)
                .map_err(|(variable, message)| FormatError::Data {
                    file: self.file.clone(),
                    row: rows_done + 2,
                    variable: format!(", column {variable}"),
                    message,
                })
                .and_then(&mut *sink);
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
        result.map_err(|e| FormatError::Data {
            file: self.file.clone(),
            row: rows_done + 2,
            variable: String::new(),
            message: format!("the page holding this row cannot be read ({e})"),
        })?;
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

/// One chunk as a frame; on failure, the variable and what is wrong with it.
fn chunk_frame(
    variables: &[Variable],
    buffers: &[ColumnBuffer<'_>],
    rows: usize,
) -> Result<DataFrame, (String, String)> {
    let mut columns = Vec::with_capacity(variables.len());
    for (variable, buffer) in variables.iter().zip(buffers) {
        let name = variable.name.as_str();
        let column = match (variable.kind, buffer) {
            (kind, ColumnBuffer::F64(b)) => {
                let values = (0..b.values.len()).map(|i| {
                    let v = b.values[i];
                    (present(b.valid, i) && !v.is_nan()).then_some(v)
                });
                match kind {
                    ValueKind::Date => {
                        date_column(name, values.map(|v| v.and_then(days_1960_to_unix)))
                    }
                    ValueKind::DateTime => datetime_column(
                        name,
                        values.map(|v| v.and_then(seconds_1960_to_unix_micros)),
                    ),
                    _ => float_column(name, values),
                }
            }
            (_, ColumnBuffer::Utf8(b)) => {
                let n = b.offsets.len().saturating_sub(1);
                let mut texts = Vec::with_capacity(n);
                for i in 0..n {
                    if !present(b.valid, i) {
                        texts.push(None);
                        continue;
                    }
                    let bytes = usize::try_from(b.offsets[i])
                        .ok()
                        .zip(usize::try_from(b.offsets[i + 1]).ok())
                        .and_then(|(start, end)| b.data.get(start..end))
                        .ok_or_else(|| {
                            (name.to_string(), "text offsets out of range".to_string())
                        })?;
                    let text = std::str::from_utf8(bytes).map_err(|_| {
                        (
                            name.to_string(),
                            "text that is not valid in the file's encoding".to_string(),
                        )
                    })?;
                    texts.push(Some(text));
                }
                text_column(name, texts.into_iter(), true)
            }
            (_, other) => {
                return Err((
                    name.to_string(),
                    format!("unexpected storage {}", storage_name(other)),
                ))
            }
        };
        if column.len() != rows {
            return Err((
                name.to_string(),
                format!("{} values in a chunk of {rows} rows", column.len()),
            ));
        }
        columns.push(column);
    }
    DataFrame::new(rows, columns).map_err(|e| (String::new(), e.to_string()))
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
