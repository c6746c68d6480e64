//! `shine match`: propensity scores, nearest-neighbour matching and balance on any table.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::Globals;
use crate::data::table::{read_any_table, read_model_table, ModelTable};
use crate::pipeline::fit_error::FitError;
use crate::pipeline::matching::{fit_match_table, MatchRequest};
use crate::report::matching::{print_match, warnings};
use crate::report::output::ResultsFolder;
use crate::results::matching::MatchSpec;
use crate::stats::formula;
use crate::stats::matching::MatchOrder;
use crate::InputError;

/// The order in which treated units choose their controls (MatchIt's `m.order`).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Order {
    /// Highest propensity score first (MatchIt's default).
    Largest,
    /// Lowest propensity score first.
    Smallest,
    /// The rows' order in the table.
    Data,
    /// A seeded random order (--seed).
    Random,
    /// The closest (treated, nearest control) pair first (MatchIt 4.6's "closest").
    Closest,
    /// The farthest (treated, nearest control) pair first (MatchIt 4.6's "farthest").
    Farthest,
}

impl From<Order> for MatchOrder {
    fn from(order: Order) -> MatchOrder {
        match order {
            Order::Largest => MatchOrder::Largest,
            Order::Smallest => MatchOrder::Smallest,
            Order::Data => MatchOrder::Data,
            Order::Random => MatchOrder::Random,
            Order::Closest => MatchOrder::Closest,
            Order::Farthest => MatchOrder::Farthest,
        }
    }
}

#[derive(Debug, Args)]
pub struct MatchArgs {
    /// The table (CSV or Parquet), one row per unit.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Propensity model, R syntax: `treat ~ age + I(age^2) + sex + factor(education)`.
    #[arg(long, value_name = "FORMULA")]
    formula: String,
    /// Column identifying units (default: the row number). Ties in distance are broken by it.
    #[arg(long, value_name = "COL")]
    id: Option<String>,
    /// Controls per treated unit (k of k:1).
    #[arg(long, default_value_t = 1, value_name = "K")]
    ratio: usize,
    /// Caliper in standard deviations of the linear logit of the propensity score.
    #[arg(long, value_name = "C", allow_negative_numbers = true)]
    caliper: Option<f64>,
    /// Match with replacement.
    #[arg(long)]
    replace: bool,
    /// Columns to match exactly on, comma-separated.
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    exact: Vec<String>,
    /// Order in which treated units are matched (MatchIt's m.order).
    #[arg(long, value_enum, default_value = "largest")]
    order: Order,
    /// Seed for --order random.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    seed: u64,
    /// Write the matched rows, pairs, tables and figures into this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace a non-empty --out folder.
    #[arg(long)]
    force: bool,
    /// Write the results as JSON to stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: MatchArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.out {
        ResultsFolder::check_target(out, args.force, std::slice::from_ref(&args.data))
            .map_err(|e| InputError(e.to_string()))?;
    }
    // Large propensity models: provisional IRLS steps on the normal equations, the last
    // one on the QR (R's estimates to about 1e-14; see `refine_large_fits`).
    crate::stats::glm::refine_large_fits(true);
    // Balance eCDFs of large columns read from decimal text from their steps on the grid,
    // without sorting the rows (the last digits may differ from the sorted walk's).
    crate::stats::balance::ecdfs_on_grids(true);
    // Columns of a million units are allocated and freed over and over: keep them.
    crate::memory::reuse_freed_memory();
    // Without a results folder only the model's columns are read (the formula is
    // parsed first to name them; a file that cannot be read is still reported first).
    let formula = formula::parse(&args.formula);
    let wanted = match (&formula, &args.out) {
        (Ok(formula), None) => Some(request_of(formula.clone(), &args).columns().0),
        _ => None,
    };
    let (table, source) = match &wanted {
        Some(columns) => read_model_table(&args.data, columns),
        None => {
            read_any_table(&args.data).map(|(frame, source)| (ModelTable::Frame(frame), source))
        }
    }
    .map_err(|e| InputError(e.to_string()))?;
    let request = request_of(formula.map_err(|e| InputError(e.to_string()))?, &args);
    let result = fit_match_table(&table, &source, &request).map_err(exit_error)?;
    // The table is not needed any more: its memory goes back before the printout.
    drop(table);
    if !globals.quiet {
        for line in warnings(&result) {
            eprintln!("{line}");
        }
    }
    let printout = print_match(&result, args.json)?;
    super::print_stdout(&printout.stdout)?;
    if let (Some(out), Some(folder)) = (&args.out, printout.folder) {
        folder.commit(out, args.force, std::slice::from_ref(&args.data))?;
        if !globals.quiet {
            eprintln!(
                "matched rows, pairs, tables and figures written to {}",
                out.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The request the options make, with the parsed `formula`.
fn request_of(formula: formula::Formula, args: &MatchArgs) -> MatchRequest {
    MatchRequest {
        formula,
        id: args.id.clone(),
        spec: MatchSpec {
            ratio: args.ratio,
            caliper: args.caliper,
            replace: args.replace,
            exact: args.exact.clone(),
            order: args.order.into(),
            seed: args.seed,
        },
        detail: args.out.is_some(),
    }
}

/// Bad input exits with code 2, a failed analysis with 1.
fn exit_error(e: FitError) -> anyhow::Error {
    if e.is_input() {
        InputError(e.to_string()).into()
    } else {
        e.into()
    }
}
