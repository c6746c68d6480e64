//! Command-line arguments (clap) and dispatch: one module per subcommand, each with one
//! entry function taking its parsed arguments.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::data::dictionary::TableName;
use crate::data::read::parse_iso_date;
use crate::data::validate::{ExtractPaths, ExtractPeriod};
use crate::InputError;

mod analyse;
mod audit;
mod convert;
mod dictionary;
mod did;
mod import;
mod matching;
mod mixed;
mod plan;
mod row_groups;
mod score;
mod simulate;
mod simulate_raw;
mod validate;

#[derive(Debug, Parser)]
#[command(name = "shine", version, about = "Evaluate a social-prescribing programme from Danish register and survey extracts", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Silence progress bars and timing lines on stderr.
    #[arg(long, global = true)]
    quiet: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the pre-registered analysis from extracts to a results folder.
    Analyse(analyse::AnalyseArgs),
    /// Write a synthetic set of extracts with known true effects (truth.json).
    Simulate(simulate::SimulateArgs),
    /// Check extracts against the data dictionary and across tables.
    Validate(validate::ValidateArgs),
    /// Print the data dictionary.
    Dictionary(dictionary::DictionaryArgs),
    /// Score UCLA and EQ-5D responses.
    Score(score::ScoreArgs),
    /// Propensity scores, nearest-neighbour matching and balance on any table.
    Match(matching::MatchArgs),
    /// Difference-in-differences and event studies on any panel (fixest syntax).
    Did(did::DidArgs),
    /// Linear mixed models on any table (lme4 syntax, REML/ML, Satterthwaite df).
    Mixed(mixed::MixedArgs),
    /// Print the default analysis plan (TOML, every setting commented).
    Plan(plan::PlanArgs),
    /// Convert SAS (.sas7bdat) and Stata (.dta) files to Parquet or CSV, streaming.
    Convert(convert::ConvertArgs),
    /// Build the extracts from raw registers (BEF, DOD, VNDS, UDDA, IND, DREAM, SSSY, LPR, ...).
    Import(import::ImportArgs),
    /// Audit a results folder for cells disclosing fewer persons than the threshold.
    Audit(audit::AuditArgs),
}

/// Global settings every command gets.
#[derive(Debug, Clone, Copy)]
pub struct Globals {
    pub quiet: bool,
    /// Worker threads, resolved once from `--threads` (default: the available cores).
    pub threads: usize,
}

/// The `--threads` the arguments ask for, if they parse; the binary uses it to size
/// polars' thread pool before the command starts (see `main.rs`).
pub fn requested_threads<I, T>(args: I) -> Option<usize>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    Cli::try_parse_from(args).ok()?.threads
}

/// Parses the arguments and runs the command.
pub fn run<I, T>(args: I) -> anyhow::Result<ExitCode>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(ExitCode::from(code));
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = match cli.threads {
        Some(0) => return Err(InputError("--threads must be at least 1".into()).into()),
        Some(n) if n > MAX_THREADS_PER_CORE * cores => {
            return Err(InputError(format!(
                "--threads {n} is more than {MAX_THREADS_PER_CORE} per logical CPU of this machine ({cores}); use at most {}",
                MAX_THREADS_PER_CORE * cores
            ))
            .into())
        }
        Some(n) => n,
        None => cores,
    };
    let globals = Globals {
        quiet: cli.quiet,
        threads,
    };
    // Every parallel loop in `stats` and `data` runs on this pool, so `--threads` bounds
    // them all; results do not depend on its size.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(WORKER_STACK_BYTES)
        .build()?;
    pool.install(|| dispatch(cli.command, globals))
}

/// More threads than this per logical CPU only cost memory (each worker has an 8 MiB
/// stack) and time.
const MAX_THREADS_PER_CORE: usize = 4;

/// The command runs on a worker of the pool: give workers a main thread's stack.
const WORKER_STACK_BYTES: usize = 8 << 20;

fn dispatch(command: Command, globals: Globals) -> anyhow::Result<ExitCode> {
    match command {
        Command::Analyse(args) => analyse::run(args, globals),
        Command::Simulate(args) => simulate::run(args, globals),
        Command::Validate(args) => validate::run(args, globals),
        Command::Dictionary(args) => dictionary::run(args),
        Command::Score(args) => score::run(args, globals),
        Command::Match(args) => matching::run(args, globals),
        Command::Did(args) => did::run(args, globals),
        Command::Mixed(args) => mixed::run(args, globals),
        Command::Plan(args) => plan::run(args),
        Command::Convert(args) => convert::run(args, globals),
        Command::Audit(args) => audit::run(args),
        Command::Import(args) => import::run(args, globals),
    }
}

/// Where the extracts are: a folder and/or a file per table.
#[derive(Debug, Clone, Args)]
pub struct ExtractArgs {
    /// Folder holding persons, covariates, referrals, contacts and proms (.csv or .parquet).
    #[arg(value_name = "DIR")]
    pub folder: Option<PathBuf>,
    /// The persons table (overrides the folder's).
    #[arg(long, value_name = "FILE")]
    pub persons: Option<PathBuf>,
    /// The covariates table.
    #[arg(long, value_name = "FILE")]
    pub covariates: Option<PathBuf>,
    /// The referrals table.
    #[arg(long, value_name = "FILE")]
    pub referrals: Option<PathBuf>,
    /// The contacts table.
    #[arg(long, value_name = "FILE")]
    pub contacts: Option<PathBuf>,
    /// The proms (survey) table.
    #[arg(long, value_name = "FILE")]
    pub proms: Option<PathBuf>,
    /// The participation table (optional: participation frequency, services, dropout).
    #[arg(long, value_name = "FILE")]
    pub participation: Option<PathBuf>,
    /// First day of the extract period (ISO date); default from extract.toml in the folder.
    #[arg(long, value_name = "DATE", requires = "extract_end")]
    pub extract_start: Option<String>,
    /// Last day of the extract period (ISO date).
    #[arg(long, value_name = "DATE", requires = "extract_start")]
    pub extract_end: Option<String>,
}

impl ExtractArgs {
    pub fn paths(&self) -> Result<ExtractPaths, InputError> {
        let mut paths = ExtractPaths {
            folder: self.folder.clone(),
            ..Default::default()
        };
        if let Some(folder) = &self.folder {
            if !folder.is_dir() {
                return Err(InputError(format!("{}: no such folder", folder.display())));
            }
        }
        for (table, file) in [
            (TableName::Persons, &self.persons),
            (TableName::Covariates, &self.covariates),
            (TableName::Referrals, &self.referrals),
            (TableName::Contacts, &self.contacts),
            (TableName::Proms, &self.proms),
            (TableName::Participation, &self.participation),
        ] {
            if let Some(f) = file {
                paths.files.insert(table, f.clone());
            }
        }
        if paths.folder.is_none() && paths.files.is_empty() {
            return Err(InputError(
                "no extracts given: name a folder, or the files with --persons, --covariates, ..."
                    .into(),
            ));
        }
        Ok(paths)
    }

    pub fn period(&self) -> Result<Option<ExtractPeriod>, InputError> {
        let (Some(start), Some(end)) = (&self.extract_start, &self.extract_end) else {
            return Ok(None);
        };
        let day = |flag: &str, s: &str| {
            parse_iso_date(s)
                .ok_or_else(|| InputError(format!("{flag} {s:?}: expected an ISO date YYYY-MM-DD")))
        };
        let period = ExtractPeriod {
            start: day("--extract-start", start)?,
            end: day("--extract-end", end)?,
        };
        if period.end < period.start {
            return Err(InputError("--extract-end is before --extract-start".into()));
        }
        Ok(Some(period))
    }
}

/// Writes to stdout; a closed pipe surfaces as an io::Error the caller ignores.
pub fn print_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
