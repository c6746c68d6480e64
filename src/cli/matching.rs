//! `shine match`: propensity scores, nearest-neighbour matching and balance on any table.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use polars::prelude::*;
use serde_json::{json, Value};

use super::Globals;
use crate::data::table::{read_any, to_dataset};
use crate::pipeline::propensity::{
    propensity_match, table_one_of, MatchAnalysis, MatchSpec, PropensityError,
};
use crate::report::matching as render;
use crate::report::output::ResultsFolder;
use crate::report::table_one::table_one_table;
use crate::stats::design::{ColumnData, DataSet};
use crate::stats::formula;
use crate::stats::matching::MatchOrder;
use crate::InputError;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Order {
    Largest,
    Smallest,
    Data,
    Random,
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
    #[arg(long, value_name = "C")]
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
    #[arg(long, default_value_t = 1)]
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

/// Ids as JSON values (numbers stay numbers), and a unique tie key per row (their rank).
fn ids_and_ranks(
    data: &DataSet,
    id: Option<&str>,
    file: &str,
) -> Result<(Vec<Value>, Vec<u64>), InputError> {
    let n = data.n_rows();
    let Some(name) = id else {
        return Ok(((1..=n).map(|i| json!(i)).collect(), (0..n as u64).collect()));
    };
    let (values, mut order): (Vec<Value>, Vec<usize>) = match data.get(name) {
        Some(ColumnData::Numeric(v)) => {
            if let Some(row) = v.iter().position(|x| x.is_nan()) {
                return Err(InputError(format!(
                    "{file}, row {}, column {name}: missing id",
                    row + 2
                )));
            }
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
            let values = v
                .iter()
                .map(|&x| {
                    if x.fract() == 0.0 && x.abs() < 9e15 {
                        json!(x as i64)
                    } else {
                        json!(x)
                    }
                })
                .collect();
            (values, order)
        }
        Some(ColumnData::Categorical { codes, levels }) => {
            if let Some(row) = codes.iter().position(Option::is_none) {
                return Err(InputError(format!(
                    "{file}, row {}, column {name}: missing id",
                    row + 2
                )));
            }
            let text: Vec<&str> = codes
                .iter()
                .map(|c| {
                    c.and_then(|c| levels.get(c as usize))
                        .map_or("", String::as_str)
                })
                .collect();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| natural_cmp(text[a], text[b]));
            (text.iter().map(|s| json!(s)).collect(), order)
        }
        _ => {
            return Err(InputError(format!(
                "{file}: --id {name}: the id column must hold numbers or text"
            )))
        }
    };
    for w in order.windows(2) {
        if values[w[0]] == values[w[1]] {
            let (a, b) = (w[0].min(w[1]), w[0].max(w[1]));
            return Err(InputError(format!(
                "{file}, row {}, column {name}: id {} also appears in row {}; ids must be unique",
                b + 2,
                values[b],
                a + 2
            )));
        }
    }
    let mut rank = vec![0u64; n];
    for (r, i) in order.drain(..).enumerate() {
        rank[i] = r as u64;
    }
    Ok((values, rank))
}

/// Natural order of ids: runs of digits compare by value, so `NSW2` < `NSW10`
/// (and ids numbered in row order keep that order); other text compares bytewise.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let run = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
                let (nx, ny) = (run(x), run(y));
                let (dx, dy) = (&x[..nx], &y[..ny]);
                let strip = |d: &[u8]| {
                    let zeros = d.iter().take_while(|&&b| b == b'0').count();
                    d[zeros..].to_vec()
                };
                let (sx, sy) = (strip(dx), strip(dy));
                let by_value = sx.len().cmp(&sy.len()).then_with(|| sx.cmp(&sy));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

pub fn run(args: MatchArgs, globals: Globals) -> anyhow::Result<ExitCode> {
    let file = args.data.display().to_string();
    if let Some(out) = &args.out {
        ResultsFolder::check_target(out, args.force).map_err(|e| InputError(e.to_string()))?;
    }
    let frame = read_any(&args.data).map_err(|e| InputError(e.to_string()))?;
    let formula = formula::parse(&args.formula).map_err(|e| InputError(e.to_string()))?;
    let mut columns: Vec<String> = formula.columns().into_iter().collect();
    for extra in args.id.iter().chain(&args.exact) {
        if !columns.contains(extra) {
            columns.push(extra.clone());
        }
    }
    let data = to_dataset(&frame, &columns, &file).map_err(|e| InputError(e.to_string()))?;
    let (ids, tie_key) = ids_and_ranks(&data, args.id.as_deref(), &file)?;
    let spec = MatchSpec {
        ratio: args.ratio,
        caliper: args.caliper,
        replace: args.replace,
        exact: args.exact.clone(),
        order: match args.order {
            Order::Largest => MatchOrder::Largest,
            Order::Smallest => MatchOrder::Smallest,
            Order::Data => MatchOrder::Data,
            Order::Random => MatchOrder::Random,
        },
        seed: args.seed,
    };
    let analysis = propensity_match(&formula, &data, &tie_key, &spec).map_err(|e| match e {
        PropensityError::Input(m) => anyhow::Error::new(InputError(format!("{file}: {m}"))),
        PropensityError::Analysis(m) => anyhow::anyhow!("{file}: {m}"),
    })?;
    if !globals.quiet {
        for w in &analysis.warnings {
            eprintln!("warning: {w}");
        }
    }

    if args.json {
        super::print_stdout(
            &(serde_json::to_string_pretty(&json_report(&analysis, &ids))? + "\n"),
        )?;
    } else {
        let mut text = describe(&spec, &analysis);
        for table in [
            render::counts_table(&analysis),
            render::ps_model_table(&analysis.ps_model),
            render::balance_table(&analysis.balance),
        ] {
            text.push('\n');
            text.push_str(&table.to_markdown(0));
        }
        super::print_stdout(&text)?;
    }
    if let Some(out) = &args.out {
        let mut folder = ResultsFolder::default();
        for table in [
            render::counts_table(&analysis),
            render::ps_model_table(&analysis.ps_model),
            render::balance_table(&analysis.balance),
        ] {
            folder.add(&format!("{}.csv", table.name), table.to_csv(0));
            folder.add(&format!("{}.md", table.name), table.to_markdown(0));
        }
        let (before, after) = table_one_of(
            &formula,
            &data,
            &analysis.treated,
            &analysis.matching.weights,
            &[],
        )
        .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
        let table1 = table_one_table(&before, Some(&after), ("treated", "control"), 0);
        folder.add("table1.csv", table1.to_csv(0));
        folder.add("table1.md", table1.to_markdown(0));
        folder.add("matched.csv", matched_rows(&frame, &analysis)?);
        folder.add("pairs.csv", pairs_csv(&analysis, &ids));
        for (name, figure) in render::figures(
            &analysis.balance,
            &analysis.distance,
            &analysis.treated,
            &analysis.matching.weights,
            0,
        )? {
            folder.add(&format!("{name}.svg"), figure.svg);
            folder.add(&format!("{name}.png"), figure.png);
        }
        folder.commit(out, args.force)?;
        if !globals.quiet {
            eprintln!(
                "matched rows, pairs, tables and figures written to {}",
                out.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(spec: &MatchSpec, m: &MatchAnalysis) -> String {
    let caliper = match (spec.caliper, m.matching.caliper_width) {
        (Some(c), Some(w)) => format!(", caliper {c} SD ({w:.4} on the logit scale)"),
        _ => String::new(),
    };
    let exact = if spec.exact.is_empty() {
        String::new()
    } else {
        format!(", exact on {}", spec.exact.join(", "))
    };
    format!(
        "Nearest-neighbour matching on the linear logit of the propensity score, 1:{}{caliper}{exact}, {} replacement, order {:?}.\n{} of {} treated matched to {} controls.\n",
        spec.ratio,
        if spec.replace { "with" } else { "without" },
        spec.order,
        m.matching.n_treated_matched,
        m.matching.n_treated,
        m.matching.n_controls_matched,
    )
    .replace("order Largest", "order largest")
    .replace("order Smallest", "order smallest")
    .replace("order Data", "order data")
    .replace("order Random", "order random")
}

#[derive(serde::Serialize)]
struct PairJson<'a> {
    treated: &'a Value,
    control: &'a Value,
    subclass: usize,
}

#[derive(serde::Serialize)]
struct WeightJson<'a> {
    id: &'a Value,
    weight: f64,
}

#[derive(serde::Serialize)]
struct BalanceJson<'a> {
    term: &'a str,
    smd_before: Option<f64>,
    smd_after: Option<f64>,
    variance_ratio_before: Option<f64>,
    variance_ratio_after: Option<f64>,
    ecdf_mean_after: Option<f64>,
    ecdf_max_after: Option<f64>,
}

/// The `--json` report, serialised straight from the results (no intermediate tree:
/// a million weights stay cheap).
#[derive(serde::Serialize)]
struct MatchJson<'a> {
    ps_model: &'a [crate::pipeline::propensity::PsTerm],
    pairs: Vec<PairJson<'a>>,
    weights: Vec<WeightJson<'a>>,
    balance: Vec<BalanceJson<'a>>,
    n_treated: usize,
    n_treated_matched: usize,
    n_controls_matched: usize,
    caliper_width: Option<f64>,
}

fn json_report<'a>(m: &'a MatchAnalysis, ids: &'a [Value]) -> MatchJson<'a> {
    MatchJson {
        ps_model: &m.ps_model,
        pairs: m
            .matching
            .pairs
            .iter()
            .map(|p| PairJson {
                treated: &ids[p.treated],
                control: &ids[p.control],
                subclass: p.subclass,
            })
            .collect(),
        weights: ids
            .iter()
            .zip(&m.matching.weights)
            .map(|(id, &weight)| WeightJson { id, weight })
            .collect(),
        balance: m
            .balance
            .iter()
            .map(|r| BalanceJson {
                term: &r.term,
                smd_before: r.smd_before,
                smd_after: r.smd_after,
                variance_ratio_before: r.variance_ratio_before,
                variance_ratio_after: r.variance_ratio_after,
                ecdf_mean_after: r.ecdf_mean_after,
                ecdf_max_after: r.ecdf_max_after,
            })
            .collect(),
        n_treated: m.matching.n_treated,
        n_treated_matched: m.matching.n_treated_matched,
        n_controls_matched: m.matching.n_controls_matched,
        caliper_width: m.matching.caliper_width,
    }
}

fn pairs_csv(m: &MatchAnalysis, ids: &[Value]) -> String {
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = String::from("subclass,treated,control\n");
    for p in &m.matching.pairs {
        out.push_str(&format!(
            "{},{},{}\n",
            p.subclass,
            show(&ids[p.treated]),
            show(&ids[p.control])
        ));
    }
    out
}

/// The input rows of every matched unit, with its matched set and weight (MatchIt's
/// `match.data()`); with replacement a control can be in several sets, so `subclass`
/// is left empty and `pairs.csv` holds the sets.
fn matched_rows(frame: &DataFrame, m: &MatchAnalysis) -> anyhow::Result<Vec<u8>> {
    let rows: Vec<IdxSize> = (0..m.matching.weights.len())
        .filter(|&i| m.matching.weights[i] > 0.0)
        .map(|i| i as IdxSize)
        .collect();
    let idx = IdxCa::from_vec("row".into(), rows.clone());
    let mut matched = frame.take(&idx)?;
    let subclass: Vec<Option<i64>> = rows
        .iter()
        .map(|&i| {
            m.matching
                .subclass
                .as_ref()
                .and_then(|s| s[i as usize])
                .map(|s| s as i64)
        })
        .collect();
    let weight: Vec<f64> = rows
        .iter()
        .map(|&i| m.matching.weights[i as usize])
        .collect();
    let distance: Vec<f64> = rows.iter().map(|&i| m.distance[i as usize]).collect();
    matched.with_column(Series::new("distance".into(), distance).into_column())?;
    matched.with_column(Series::new("subclass".into(), subclass).into_column())?;
    matched.with_column(Series::new("weight".into(), weight).into_column())?;
    let mut bytes = Vec::new();
    crate::data::write::write_csv(&mut matched, &mut bytes)?;
    Ok(bytes)
}
