//! `shine convert`: SAS and Stata datasets to Parquet or CSV, a chunk of rows at a time,
//! so that a year of a large register converts in fixed memory.
//!
//! Where the output goes: with one input and an output path ending in `.parquet` or
//! `.csv`, that file. Otherwise the output is a folder, and a file named as Statistics
//! Denmark names its yearly (or quarterly, monthly) register files — letters, an
//! optional `_`, then a year and optionally two more digits (`bef2019`, `BEF201912`,
//! `lpr_adm2018`) — goes to a Hive-style year partition, which Arrow, polars, DuckDB
//! and R's arrow read as one table with a `year` column:
//!
//! ```text
//! bef2018.sas7bdat    → OUT/bef/year=2018/bef2018.parquet
//! bef201912.sas7bdat  → OUT/bef/year=2019/bef201912.parquet
//! survey.sas7bdat     → OUT/survey.parquet
//! ```
//!
//! Each output is written under a temporary name and renamed when complete, so a failed
//! conversion never leaves a file that looks finished.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::formats::{self, FormatError, PackageFile, PackageFormat, ReadOptions};
use super::parquet_dictionary::{dictionary, Dictionary};

/// The format of the converted files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Parquet, one row group per chunk of rows.
    Parquet,
    /// Comma-separated, a header line, `.` decimals, ISO dates, missing values empty.
    Csv,
}

impl OutputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Parquet => "parquet",
            OutputFormat::Csv => "csv",
        }
    }

    fn from_path(path: &Path) -> Option<OutputFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "parquet" | "pq" => Some(OutputFormat::Parquet),
            "csv" => Some(OutputFormat::Csv),
            _ => None,
        }
    }
}

/// How Parquet pages are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Fast to write and read, and read by every Parquet reader (pandas' default).
    Snappy,
    /// Zstandard (level 3): files about a third smaller than Snappy's, written at half
    /// the speed.
    Zstd,
    /// LZ4 (raw): the fastest; needs a reader from 2022 or later.
    Lz4,
    Uncompressed,
}

impl Compression {
    fn parquet(self) -> ParquetCompression {
        match self {
            Compression::Snappy => ParquetCompression::Snappy,
            Compression::Zstd => ParquetCompression::Zstd(None),
            Compression::Lz4 => ParquetCompression::Lz4Raw,
            Compression::Uncompressed => ParquetCompression::Uncompressed,
        }
    }
}

/// How to convert.
#[derive(Debug, Clone, Copy)]
pub struct ConvertOptions {
    pub format: OutputFormat,
    /// Parquet only.
    pub compression: Compression,
    /// Lower-case the variable names (`PNR` → `pnr`).
    pub lower_case: bool,
    /// Rows decoded and written at a time: memory is proportional to it.
    pub chunk_rows: usize,
    pub read: ReadOptions,
}

/// A conversion that cannot be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The inputs or the output path do not make sense together.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Read(#[from] FormatError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: String,
        #[source]
        source: PolarsError,
    },
}

impl ConvertError {
    /// Whether the error is the input's fault (a bad file or bad arguments), as opposed
    /// to the machine's (a disk that is full).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, ConvertError::Usage(_) | ConvertError::Read(_))
    }
}

/// One file to convert and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub input: PathBuf,
    pub output: PathBuf,
}

/// What one conversion did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Converted {
    pub input: String,
    pub output: String,
    pub rows: u64,
    pub variables: usize,
}

/// The register and year of a file named like `bef2019` or `lpr_adm201912`.
pub fn register_year(stem: &str) -> Option<(String, u16)> {
    let stem = stem.to_ascii_lowercase();
    let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits != 4 && digits != 6 {
        return None;
    }
    let (register, number) = stem.split_at(stem.len() - digits);
    let register = register.trim_end_matches('_');
    if register.is_empty() || !register.chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let year: u16 = number[..4].parse().ok()?;
    (1900..=2100)
        .contains(&year)
        .then(|| (register.to_string(), year))
}

/// The `.sas7bdat` and `.dta` files of the inputs (a folder stands for its files, in
/// name order).
///
/// # Errors
/// An input that does not exist, a file of another kind, or no file at all.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, ConvertError> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input).map_err(|source| ConvertError::Io {
                path: input.display().to_string(),
                source,
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && PackageFormat::from_path(p).is_some())
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(ConvertError::Usage(format!(
                    "{}: no .sas7bdat or .dta files in this folder",
                    input.display()
                )));
            }
            files.extend(found);
        } else if !input.exists() {
            return Err(ConvertError::Usage(format!(
                "{}: no such file",
                input.display()
            )));
        } else if PackageFormat::from_path(input).is_none() {
            return Err(ConvertError::Usage(format!(
                "{}: not a SAS (.sas7bdat) or Stata (.dta) file",
                input.display()
            )));
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// Where each file goes (see the module documentation).
///
/// # Errors
/// Several inputs with one output file, a format that contradicts the output's
/// extension, or two inputs that would be written to the same file.
pub fn plan_targets(
    files: &[PathBuf],
    out: &Path,
    format: OutputFormat,
) -> Result<Vec<Target>, ConvertError> {
    if let Some(named) = OutputFormat::from_path(out) {
        if files.len() != 1 {
            return Err(ConvertError::Usage(format!(
                "--out {} names one file, but {} files are to be converted; give a folder",
                out.display(),
                files.len()
            )));
        }
        if named != format {
            return Err(ConvertError::Usage(format!(
                "--out {} does not end in .{} as --format {} asks",
                out.display(),
                format.extension(),
                format.extension()
            )));
        }
        return Ok(vec![Target {
            input: files[0].clone(),
            output: out.to_path_buf(),
        }]);
    }
    let mut targets: Vec<Target> = Vec::with_capacity(files.len());
    for input in files {
        let stem = input
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("table")
            .to_string();
        let name = format!("{}.{}", stem.to_ascii_lowercase(), format.extension());
        let output = match register_year(&stem) {
            Some((register, year)) => out.join(register).join(format!("year={year}")).join(name),
            None => out.join(name),
        };
        if let Some(earlier) = targets.iter().find(|t| t.output == output) {
            return Err(ConvertError::Usage(format!(
                "{} and {} would both be written to {}",
                earlier.input.display(),
                input.display(),
                output.display()
            )));
        }
        targets.push(Target {
            input: input.clone(),
            output,
        });
    }
    Ok(targets)
}

/// Opens every input (reading only headers), so that a bad file is found before any
/// output is written, and so that the total row count is known for a progress bar.
///
/// # Errors
/// The first input that cannot be opened.
pub fn open_all(
    targets: &[Target],
    read: ReadOptions,
) -> Result<Vec<Box<dyn PackageFile>>, ConvertError> {
    targets
        .iter()
        .map(|t| formats::open(&t.input, read).map_err(ConvertError::from))
        .collect()
}

/// Converts one opened file to `target.output`; `progress` is called with the rows of
/// each chunk written.
///
/// # Errors
/// A damaged input (naming the file, the row and, where one is to blame, the
/// variable), or an output that cannot be written.
pub fn convert_file(
    source: &dyn PackageFile,
    target: &Target,
    options: &ConvertOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Converted, ConvertError> {
    let shown = target.output.display().to_string();
    let names = column_names(source, options.lower_case)?;
    if let Some(parent) = target.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| ConvertError::Io {
            path: parent.display().to_string(),
            source,
        })?;
    }
    let partial = partial_path(&target.output);
    let io = |source| ConvertError::Io {
        path: shown.clone(),
        source,
    };
    let file = File::create(&partial).map_err(io)?;
    let mut schema_frame = source.empty_frame();
    schema_frame
        .set_column_names(&names)
        .map_err(|e| write_error(&shown, e))?;
    let schema = schema_frame.schema().as_ref().clone();
    let mut writer = ChunkWriter::new(BufWriter::with_capacity(1 << 20, file), &schema, options)
        .map_err(|e| write_error(&shown, e))?;
    // The next chunk is decoded while the last is written; at most two wait between
    // the two, so memory stays a few chunks whatever the file's size.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<DataFrame>(2);
    let mut rows = 0u64;
    let (read, written) = std::thread::scope(|scope| {
        let writing = scope.spawn(move || -> PolarsResult<ChunkWriter<BufWriter<File>>> {
            for chunk in receiver {
                writer.write(&chunk)?;
            }
            Ok(writer)
        });
        let read = source.read_chunks(options.chunk_rows, &mut |mut chunk| {
            let height = chunk.height() as u64;
            let sink_error = |source: Box<dyn std::error::Error + Send + Sync>| FormatError::Sink {
                file: shown.clone(),
                source,
            };
            chunk
                .set_column_names(&names)
                .map_err(|e| sink_error(Box::new(e)))?;
            // A closed channel means the writer failed; its error is reported below.
            sender
                .send(chunk)
                .map_err(|_| sink_error("the writer stopped".into()))?;
            rows += height;
            progress(height);
            Ok(())
        });
        drop(sender);
        let written = writing.join().unwrap_or_else(|_| {
            Err(PolarsError::ComputeError(
                "the writer stopped unexpectedly".into(),
            ))
        });
        (read, written)
    });
    let finished = match (read, written) {
        (_, Err(e)) => Err(write_error(&shown, e)),
        (Err(e), Ok(_)) => Err(ConvertError::from(e)),
        (Ok(()), Ok(writer)) => writer.finish().map_err(|e| write_error(&shown, e)),
    };
    if let Err(e) = finished {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &target.output).map_err(io)?;
    Ok(Converted {
        input: source.file().to_string(),
        output: shown,
        rows,
        variables: names.len(),
    })
}

fn write_error(path: &str, source: PolarsError) -> ConvertError {
    ConvertError::Write {
        path: path.to_string(),
        source,
    }
}

/// `x.parquet` → `x.parquet.partial`.
fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_os_string();
    name.push(".partial");
    PathBuf::from(name)
}

/// The output's column names; lower-cased names must stay distinct.
fn column_names(source: &dyn PackageFile, lower_case: bool) -> Result<Vec<String>, ConvertError> {
    let names: Vec<String> = source
        .variables()
        .iter()
        .map(|v| {
            if lower_case {
                v.name.to_lowercase()
            } else {
                v.name.clone()
            }
        })
        .collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(ConvertError::Usage(format!(
                "{}: two variables are both named {name}{}",
                source.file(),
                if lower_case { " once lower-cased" } else { "" }
            )));
        }
    }
    Ok(names)
}

/// A Parquet or CSV file written a chunk at a time.
enum ChunkWriter<W: Write> {
    Parquet(Box<ParquetChunks<W>>),
    Csv(polars::io::csv::write::BatchedWriter<W>),
}

/// A Parquet file written a row group at a time, its pages encoded and compressed on
/// every thread (a column each) before the writer puts them in the file in order.
/// polars' own `write_batch` compresses them one after another on the writing thread,
/// which made that thread the critical path of a conversion.
///
/// The pages are those polars writes, but for the dictionaries:
/// - doubles of few distinct values (sex, municipality, household size) get one, as
///   pandas (pyarrow) gives them, where polars writes them plain; dictionaries of short
///   text are made faster, the same pages ([`super::parquet_dictionary`]).
/// - a column whose values were not worth a dictionary in a row group of more than
///   [`DICTIONARY_TRIAL_ROWS`] rows (identifiers, amounts, time stamps) is written plain
///   in the rest of the file, as Arrow C++ keeps to plain once a dictionary was given
///   up, rather than estimating every row group's cardinality again.
struct ParquetChunks<W: Write> {
    writer: polars::io::parquet::write::BatchedWriter<W>,
    types: Vec<polars_parquet::write::ParquetType>,
    /// Per column of the frame, the encoding of each of its Parquet columns.
    encodings: Vec<Vec<polars_parquet::write::Encoding>>,
    /// As polars' writer sets them for the same compression.
    options: polars_parquet::write::WriteOptions,
}

/// polars' writer always makes a dictionary of a row group of at most this many rows,
/// without estimating whether it is worth it: such a row group decides nothing.
const DICTIONARY_TRIAL_ROWS: usize = 128;

impl<W: Write> ParquetChunks<W> {
    fn new(out: W, schema: &Schema, compression: ParquetCompression) -> PolarsResult<Self> {
        let mut writer = ParquetWriter::new(out)
            .with_compression(compression)
            .batched(schema)?;
        let types = writer.parquet_schema().fields().to_vec();
        let encodings =
            polars::io::parquet::write::get_encodings(&schema.to_arrow(CompatLevel::newest()))
                .iter()
                .cloned()
                .collect();
        let options = polars_parquet::write::WriteOptions {
            statistics: polars::io::parquet::write::StatisticsOptions::default(),
            compression: compression.into(),
            version: polars_parquet::write::Version::V1,
            data_page_size: None,
        };
        Ok(ParquetChunks {
            writer,
            types,
            encodings,
            options,
        })
    }

    fn write(&mut self, chunk: &DataFrame) -> PolarsResult<()> {
        use polars_parquet::write::{array_to_columns, compress, CompressedPage, Encoding};
        use rayon::prelude::*;
        let options = self.options;
        for batch in chunk.iter_chunks(CompatLevel::newest(), false) {
            let rows = batch.len();
            if rows == 0 {
                continue;
            }
            let columns = batch
                .columns()
                .par_iter()
                .zip(&self.types)
                .zip(&self.encodings)
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
                .collect::<PolarsResult<Vec<_>>>()?;
            if rows > DICTIONARY_TRIAL_ROWS {
                for (encodings, pages) in self.encodings.iter_mut().zip(&columns) {
                    for (encoding, pages) in encodings.iter_mut().zip(pages) {
                        let dictionary = matches!(pages.first(), Some(CompressedPage::Dict(_)));
                        if *encoding == Encoding::RleDictionary && !dictionary {
                            *encoding = Encoding::Plain;
                        }
                    }
                }
            }
            let row_group: Vec<Vec<CompressedPage>> = columns.into_iter().flatten().collect();
            self.writer.write_row_group(rows as u64, &row_group)?;
        }
        Ok(())
    }
}

impl<W: Write> ChunkWriter<W> {
    fn new(out: W, schema: &Schema, options: &ConvertOptions) -> PolarsResult<ChunkWriter<W>> {
        Ok(match options.format {
            OutputFormat::Parquet => ChunkWriter::Parquet(Box::new(ParquetChunks::new(
                out,
                schema,
                options.compression.parquet(),
            )?)),
            OutputFormat::Csv => ChunkWriter::Csv(
                CsvWriter::new(out)
                    .include_header(true)
                    .with_separator(b',')
                    .with_date_format(Some("%Y-%m-%d".into()))
                    .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S%.f".into()))
                    .batched(schema)?,
            ),
        })
    }

    fn write(&mut self, chunk: &DataFrame) -> PolarsResult<()> {
        match self {
            ChunkWriter::Parquet(w) => w.write(chunk),
            ChunkWriter::Csv(w) => w.write_batch(chunk),
        }
    }

    fn finish(self) -> PolarsResult<()> {
        match self {
            ChunkWriter::Parquet(w) => w.writer.finish().map(|_| ()),
            ChunkWriter::Csv(mut w) => w.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The row groups compressed on every thread make the file that polars' own writer
    /// makes of the same chunks, byte for byte, with every compression, where the
    /// encodings chosen once per column are those polars chooses for every row group
    /// (a first row group of one row takes a dictionary of everything, and decides
    /// nothing; identifiers and time stamps are not worth one in the other two).
    #[test]
    fn parallel_row_groups_write_polars_bytes() {
        let chunks = [chunk(0, 1), chunk(1, 40_000), chunk(40_001, 25_000)];
        let schema = chunks[0].schema().as_ref().clone();
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("ours"), dir.path().join("theirs"));
        for compression in [
            ParquetCompression::Snappy,
            ParquetCompression::Zstd(None),
            ParquetCompression::Lz4Raw,
            ParquetCompression::Uncompressed,
        ] {
            let mut ours =
                ParquetChunks::new(File::create(&a).unwrap(), &schema, compression).unwrap();
            let mut theirs = ParquetWriter::new(File::create(&b).unwrap())
                .with_compression(compression)
                .batched(&schema)
                .unwrap();
            for c in &chunks {
                ours.write(c).unwrap();
                theirs.write_batch(c).unwrap();
            }
            ours.writer.finish().unwrap();
            theirs.finish().unwrap();
            drop((ours, theirs));
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
        let mut ours = ParquetChunks::new(
            File::create(&a).unwrap(),
            &schema,
            ParquetCompression::Snappy,
        )
        .unwrap();
        let mut theirs = ParquetWriter::new(File::create(&b).unwrap())
            .with_compression(ParquetCompression::Snappy)
            .batched(&schema)
            .unwrap();
        for c in &chunks {
            ours.write(c).unwrap();
            theirs.write_batch(c).unwrap();
        }
        ours.writer.finish().unwrap();
        theirs.finish().unwrap();
        drop((ours, theirs));
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

    #[test]
    fn yearly_register_files_are_recognised() {
        assert_eq!(register_year("bef2019"), Some(("bef".into(), 2019)));
        assert_eq!(register_year("BEF201912"), Some(("bef".into(), 2019)));
        assert_eq!(register_year("lpr_adm2018"), Some(("lpr_adm".into(), 2018)));
        assert_eq!(register_year("survey"), None);
        assert_eq!(register_year("2019"), None);
        assert_eq!(register_year("x12345"), None);
        assert_eq!(register_year("pop1850"), None);
    }

    #[test]
    fn a_folder_of_yearly_files_is_partitioned_by_year() {
        let files = vec![
            PathBuf::from("in/bef2018.sas7bdat"),
            PathBuf::from("in/BEF2019.sas7bdat"),
            PathBuf::from("in/survey.dta"),
        ];
        let targets = plan_targets(&files, Path::new("out"), OutputFormat::Parquet).unwrap();
        let outputs: Vec<_> = targets.iter().map(|t| t.output.clone()).collect();
        assert_eq!(
            outputs,
            vec![
                PathBuf::from("out/bef/year=2018/bef2018.parquet"),
                PathBuf::from("out/bef/year=2019/bef2019.parquet"),
                PathBuf::from("out/survey.parquet"),
            ]
        );
    }

    #[test]
    fn two_inputs_for_one_output_are_refused() {
        let files = vec![
            PathBuf::from("a/bef2019.sas7bdat"),
            PathBuf::from("b/bef2019.dta"),
        ];
        let err = plan_targets(&files, Path::new("out"), OutputFormat::Csv).unwrap_err();
        assert!(err.to_string().contains("would both be written"), "{err}");
        let err = plan_targets(&files, Path::new("out.csv"), OutputFormat::Csv).unwrap_err();
        assert!(err.to_string().contains("give a folder"), "{err}");
    }
}
