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
use super::parquet_chunks::ParquetChunks;

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
            writer.write_all(receiver)?;
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

    fn write_all(&mut self, chunks: impl IntoIterator<Item = DataFrame>) -> PolarsResult<()> {
        match self {
            ChunkWriter::Parquet(w) => w.write_all(chunks),
            ChunkWriter::Csv(w) => chunks.into_iter().try_for_each(|c| w.write_batch(&c)),
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

    /// A conversion takes the place of an earlier output, and leaves no partial file.
    #[test]
    fn a_conversion_replaces_an_earlier_output() {
        let input = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sas7bdat/pyreadstat/sample.sas7bdat");
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("sample.parquet");
        std::fs::write(&output, b"an earlier output").unwrap();
        let source = formats::open(&input, ReadOptions::default()).unwrap();
        let target = Target {
            input,
            output: output.clone(),
        };
        let options = ConvertOptions {
            format: OutputFormat::Parquet,
            compression: Compression::Snappy,
            lower_case: false,
            chunk_rows: 2,
            read: ReadOptions::default(),
        };
        let converted = convert_file(source.as_ref(), &target, &options, &mut |_| {}).unwrap();
        let frame = ParquetReader::new(File::open(&output).unwrap())
            .finish()
            .unwrap();
        assert!(converted.rows > 2, "{} rows", converted.rows);
        assert_eq!(frame.height() as u64, converted.rows);
        assert_eq!(frame.width(), converted.variables);
        assert!(!partial_path(&output).exists());
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
