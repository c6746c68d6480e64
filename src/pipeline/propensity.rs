//! Propensity-score matching on an analysis table: the logistic propensity model, greedy
//! nearest-neighbour matching on its linear logit, and balance before and after — the
//! same method as MatchIt's `matchit(method = "nearest", distance = "glm",
//! link = "linear.logit")` with `summary()`.
//!
//! Used by `shine match` on any table and by the risk-set matching of `analyse`.

use nalgebra::DVector;

use crate::stats::balance::{
    balance_table_by_column, factor_balance_rows, finish_columns, prepare_columns, sample_sizes,
    smd_denominator, weighted_mean_of, BalanceRow, Covariate, PreparedColumn, SampleSizes,
};
use crate::stats::design::{
    model_rows, CodeSlice, ColumnData, DataSet, Design, LevelCodes, ModelRows,
};
use crate::stats::formula::{Expr, Formula};
use crate::stats::glm::{fit_glm, fit_glm_from, Family, GlmFit, GlmOptions, LeastSquares};
use crate::stats::matching::{MatchInput, MatchWarning, NearestNeighbour};
use crate::stats::table_one::{table_one, TableOne, TableOneError, Variable};

// The result types live in `results`; these paths stay for the pipeline's other users.
use crate::results::matching::{MatchAnalysis, MatchSpec};

/// Why matching could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PropensityError {
    /// The table or the options are unusable (exit code 2).
    #[error("{0}")]
    Input(String),
    /// The model or the matching failed on valid input (exit code 1).
    #[error("{0}")]
    Analysis(String),
    /// A cell of the table is unusable (exit code 2); `row` counts the data set's rows
    /// from 0, which a caller that read the table turns into the file's row.
    #[error("row {}, column {column}: {message}", row + 2)]
    Cell {
        row: usize,
        column: String,
        message: String,
    },
}

/// The treatment as 0/1 flags: a numeric 0/1 or logical column.
fn treatment(data: &DataSet, name: &str) -> Result<Vec<bool>, PropensityError> {
    let bad = |row: usize, what: String| PropensityError::Cell {
        row,
        column: name.to_string(),
        message: format!("found {what} — expected a treatment of 0/1 or TRUE/FALSE"),
    };
    match data.get(name) {
        Some(ColumnData::Numeric(v)) => v
            .iter()
            .enumerate()
            .map(|(i, &x)| match x {
                1.0 => Ok(true),
                0.0 => Ok(false),
                x if x.is_nan() => Err(bad(i, "a missing value".into())),
                x => Err(bad(i, x.to_string())),
            })
            .collect(),
        Some(ColumnData::Logical(v)) => v
            .iter()
            .enumerate()
            .map(|(i, x)| x.ok_or_else(|| bad(i, "a missing value".into())))
            .collect(),
        Some(ColumnData::Categorical { codes, levels }) => {
            let first = codes.iter().position(|c| c.is_some()).unwrap_or(0);
            let shown = codes
                .get(first)
                .and_then(|c| levels.get(c as usize))
                .cloned()
                .unwrap_or_default();
            Err(bad(first, format!("text ({shown:?})")))
        }
        None => Err(PropensityError::Input(format!(
            "no treatment column `{name}`"
        ))),
    }
}

/// MatchIt refuses missing covariates; so do we, naming the column and first row.
fn check_complete(data: &DataSet, columns: &[String]) -> Result<(), PropensityError> {
    for name in columns {
        let missing: Vec<usize> = match data.get(name) {
            Some(ColumnData::Numeric(v)) => v
                .iter()
                .enumerate()
                .filter(|(_, x)| x.is_nan())
                .map(|(i, _)| i)
                .collect(),
            Some(ColumnData::Categorical { codes, .. }) => codes.missing_rows(),
            Some(ColumnData::Logical(v)) => v
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_none())
                .map(|(i, _)| i)
                .collect(),
            None => continue,
        };
        if missing.len() == data.n_rows() {
            return Err(PropensityError::Input(format!(
                "column {name} is missing in every row: remove it from the formula"
            )));
        }
        if let Some(first) = missing.first() {
            return Err(PropensityError::Cell {
                row: *first,
                column: name.clone(),
                message: format!(
                    "a missing value ({} missing in all) — expected complete covariates, as MatchIt does: impute them or drop those rows first",
                    missing.len()
                ),
            });
        }
    }
    Ok(())
}

/// Dense codes of the combination of the exact-matching columns.
pub fn exact_strata(
    data: &DataSet,
    columns: &[String],
) -> Result<Option<Vec<u32>>, PropensityError> {
    if columns.is_empty() {
        return Ok(None);
    }
    let n = data.n_rows();
    let width = columns.len();
    // The key of row i is keys[i * width..(i + 1) * width]: one allocation, not one
    // per row (the stacked risk sets have millions of rows).
    let mut keys: Vec<u64> = vec![0; n * width];
    for (j, name) in columns.iter().enumerate() {
        let column = data
            .get(name)
            .ok_or_else(|| PropensityError::Input(format!("--exact: no column `{name}`")))?;
        for (i, key) in keys.chunks_exact_mut(width).enumerate() {
            key[j] = match column {
                ColumnData::Numeric(v) => v[i].to_bits(),
                ColumnData::Categorical { codes, .. } => codes.get(i).map_or(u64::MAX, u64::from),
                ColumnData::Logical(v) => v[i].map_or(u64::MAX, u64::from),
            };
        }
    }
    let mut sorted: Vec<&[u64]> = keys.chunks_exact(width).collect();
    sorted.sort_unstable();
    sorted.dedup();
    Ok(Some(
        keys.chunks_exact(width)
            .map(|k| sorted.binary_search(&k).map_or(0, |i| i as u32))
            .collect(),
    ))
}

/// Where a balance covariate's values come from.
enum BalanceSource {
    Distance,
    /// A column of the propensity model's matrix.
    Model(usize),
    /// Column `.1` of the all-levels matrix `.0` of a factor main effect.
    Levels(usize, usize),
}

/// The balance covariates: their names, where their values come from, and the
/// all-levels matrices of the factor main effects.
struct BalanceColumns {
    names: Vec<String>,
    sources: Vec<BalanceSource>,
    levels: Vec<ModelRows>,
}

impl BalanceColumns {
    /// The values of balance column `j`, the model's columns read from `design`.
    fn values(&self, j: usize, design: &Design<ModelRows>, distance: &[f64]) -> Vec<f64> {
        match self.sources[j] {
            BalanceSource::Distance => distance.to_vec(),
            BalanceSource::Model(k) => design.x.column(k),
            BalanceSource::Levels(m, k) => self.levels[m].column(k),
        }
    }

    /// The columns that are not among the `factors`' levels read from their codes: their
    /// indices and names.
    fn plain(&self, factors: &[FactorColumns<'_>]) -> (Vec<usize>, Vec<String>) {
        let plain: Vec<usize> = (0..self.names.len())
            .filter(|&j| !factors.iter().any(|f| f.columns.contains(&j)))
            .collect();
        let names = plain.iter().map(|&j| self.names[j].clone()).collect();
        (plain, names)
    }
}

/// Balance covariates as MatchIt's summary lists them: the distance, then per term the
/// model-matrix columns, with every level of a factor main effect.
fn balance_columns(
    formula: &Formula,
    data: &DataSet,
    design: &Design<ModelRows>,
) -> Result<BalanceColumns, PropensityError> {
    let mut names = vec!["distance".to_string()];
    let mut sources = vec![BalanceSource::Distance];
    let mut levels = Vec::new();
    for (t, term) in formula.terms.iter().enumerate() {
        let categorical_main = term.factors.len() == 1
            && match &term.factors[0] {
                Expr::Factor(_) => true,
                Expr::Column(c) => matches!(
                    data.get(c),
                    Some(ColumnData::Categorical { .. } | ColumnData::Logical(_))
                ),
                _ => false,
            };
        if categorical_main {
            let one = Formula {
                response: None,
                intercept: false,
                terms: vec![term.clone()],
                random: Vec::new(),
                fixed_effects: Vec::new(),
            };
            let full = model_rows(&one, data).map_err(|e| PropensityError::Input(e.to_string()))?;
            for (j, name) in full.column_names.iter().enumerate() {
                names.push(name.clone());
                sources.push(BalanceSource::Levels(levels.len(), j));
            }
            levels.push(full.x);
        } else {
            for (j, name) in design.column_names.iter().enumerate() {
                if design.assign.get(j) == Some(&(t + 1)) {
                    names.push(name.clone());
                    sources.push(BalanceSource::Model(j));
                }
            }
        }
    }
    Ok(BalanceColumns {
        names,
        sources,
        levels,
    })
}

/// A fitted propensity model over the rows of a data set.
#[derive(Debug, Clone)]
pub struct PropensityFit {
    pub fit: GlmFit,
    /// The model matrix, computed a block of rows at a time when read.
    pub design: Design<ModelRows>,
    pub treated: Vec<bool>,
    /// Linear logit per row.
    pub distance: Vec<f64>,
    /// Propensity score per row.
    pub propensity: Vec<f64>,
    pub warnings: Vec<String>,
}

/// Fits the logistic propensity model `treat ~ covariates`; refuses missing
/// covariates, separation and non-convergence with messages that say what to do.
pub fn fit_propensity(formula: &Formula, data: &DataSet) -> Result<PropensityFit, PropensityError> {
    fit_propensity_by(formula, data, LeastSquares::Householder)
}

/// [`fit_propensity`] with each IRLS step solved by `solver`.
pub fn fit_propensity_by(
    formula: &Formula,
    data: &DataSet,
    solver: LeastSquares,
) -> Result<PropensityFit, PropensityError> {
    let (treated, design) = propensity_design(formula, data)?;
    let (fit, warnings) = fit_on_design(formula, data, &treated, &design, solver)?;
    Ok(PropensityFit::new(fit, design, treated, warnings))
}

/// The treatment flags and the model matrix of the propensity model, checked: a
/// treatment on the left, complete covariates, both groups present.
fn propensity_design(
    formula: &Formula,
    data: &DataSet,
) -> Result<(Vec<bool>, Design<ModelRows>), PropensityError> {
    let input = |e: &dyn std::fmt::Display| PropensityError::Input(e.to_string());
    let response = formula.response_label().ok_or_else(|| {
        PropensityError::Input("the formula needs a treatment on the left: treat ~ x1 + x2".into())
    })?;
    let treated = treatment(data, &response)?;
    let covariates: Vec<String> = formula
        .columns()
        .into_iter()
        .filter(|c| *c != response)
        .collect();
    check_complete(data, &covariates)?;
    let n_treated = treated.iter().filter(|&&t| t).count();
    if n_treated == 0 {
        return Err(PropensityError::Input(format!(
            "no treated rows: `{response}` is 0 in every row"
        )));
    }
    if n_treated == treated.len() {
        return Err(PropensityError::Input(format!(
            "no control rows: `{response}` is 1 in every row"
        )));
    }
    let design = model_rows(formula, data).map_err(|e| input(&e))?;
    Ok((treated, design))
}

/// The logistic fit of `treated` on `design` and its warnings; refuses separation and
/// non-convergence with messages that say what to do.
fn fit_on_design(
    formula: &Formula,
    data: &DataSet,
    treated: &[bool],
    design: &Design<ModelRows>,
    solver: LeastSquares,
) -> Result<(GlmFit, Vec<String>), PropensityError> {
    let y = DVector::from_iterator(
        treated.len(),
        treated.iter().map(|&t| f64::from(u8::from(t))),
    );
    let options = GlmOptions {
        solver,
        ..GlmOptions::new(Family::Binomial)
    };
    let fit_from_r_start = || fit_glm(&design.x, &y, None, None, &design.column_names, &options);
    // The large fits on the normal equations (the stacked risk sets) start from a fit on
    // a subsample; anything short of a clean convergence from there is fitted again from
    // R's start, which then decides (separation, no convergence, ...).
    let start = match solver {
        LeastSquares::NormalEquations => super::propensity_start::subsample_start(
            formula,
            data,
            treated,
            &design.column_names,
            &options,
        ),
        LeastSquares::Householder => None,
    };
    let from_start = start.and_then(|start| {
        fit_glm_from(
            &design.x,
            &y,
            None,
            None,
            &design.column_names,
            &options,
            Some(&start),
        )
        .ok()
        .filter(|fit| fit.converged && fit.separation.is_none())
    });
    let fit = from_start
        .map_or_else(fit_from_r_start, Ok)
        .map_err(|e| PropensityError::Analysis(format!("propensity model: {e}")))?;
    let mut warnings = Vec::new();
    if !fit.aliased.is_empty() {
        warnings.push(format!(
            "propensity model: {} collinear with the other covariates and dropped (R reports NA)",
            fit.aliased.join(", ")
        ));
    }
    if let Some(sep) = fit.separation.as_ref().filter(|s| !s.covariates.is_empty()) {
        return Err(PropensityError::Analysis(format!(
            "propensity model: complete or quasi-complete separation — {} predict(s) treatment perfectly in {} rows; remove or coarsen {}, or match exactly on it (--exact)",
            sep.covariates.join(", "),
            sep.observations,
            if sep.covariates.len() == 1 { "it" } else { "them" }
        )));
    }
    if !fit.converged {
        return Err(PropensityError::Analysis(format!(
            "propensity model did not converge in {} iterations: rescale large covariates (e.g. income in 1000s), remove rare categories, or simplify the formula",
            fit.iterations
        )));
    }
    Ok((fit, warnings))
}

impl PropensityFit {
    fn new(
        fit: GlmFit,
        design: Design<ModelRows>,
        treated: Vec<bool>,
        warnings: Vec<String>,
    ) -> PropensityFit {
        let distance: Vec<f64> = fit.linear_predictor.iter().copied().collect();
        let propensity: Vec<f64> = fit.fitted.iter().copied().collect();
        PropensityFit {
            fit,
            design,
            treated,
            distance,
            propensity,
            warnings,
        }
    }
}

/// Balance of every covariate (and the distance) before and after, given matching
/// weights and pairs over the rows of `data`.
pub fn balance_of(
    formula: &Formula,
    data: &DataSet,
    ps: &PropensityFit,
    weights: &[f64],
    pairs: &[(usize, usize)],
) -> Result<(Vec<BalanceRow>, SampleSizes), PropensityError> {
    let input = |e: &dyn std::fmt::Display| PropensityError::Input(e.to_string());
    // One column at a time: the columns of a large model do not fit in memory together.
    let columns = balance_columns(formula, data, &ps.design)?;
    // The levels of a factor from its codes, in one pass; the other columns one at a time.
    let factors = factor_groups(&columns.sources, &columns.levels);
    let (plain, plain_names) = columns.plain(&factors);
    let plain_rows = balance_table_by_column(
        &plain_names,
        |i| columns.values(plain[i], &ps.design, &ps.distance),
        &ps.treated,
        weights,
        pairs,
    )
    .map_err(|e| input(&e))?;
    let names = &columns.names;
    let balance = with_factor_rows(names, &factors, (&plain, plain_rows), ps, weights, pairs)?;
    let sizes = sample_sizes(&ps.treated, weights).map_err(|e| input(&e))?;
    Ok((balance, sizes))
}

/// The balance table's rows in the order of `names`: the `plain` columns' rows given,
/// the factors' made from their codes.
fn with_factor_rows(
    names: &[String],
    factors: &[FactorColumns<'_>],
    (plain, plain_rows): (&[usize], Vec<BalanceRow>),
    ps: &PropensityFit,
    weights: &[f64],
    pairs: &[(usize, usize)],
) -> Result<Vec<BalanceRow>, PropensityError> {
    let mut rows: Vec<Option<BalanceRow>> = vec![None; names.len()];
    for (&j, row) in plain.iter().zip(plain_rows) {
        rows[j] = Some(row);
    }
    let factor_rows = crate::stats::map_indices(factors.len(), |f| {
        factors[f].balance_rows(names, &ps.treated, weights, pairs)
    });
    for (factor, balance) in factors.iter().zip(factor_rows) {
        let balance = balance.map_err(|e| PropensityError::Input(e.to_string()))?;
        for (&j, row) in factor.columns.iter().zip(balance) {
            rows[j] = Some(row);
        }
    }
    Ok(rows.into_iter().flatten().collect())
}

/// [`balance_of`] in two halves: what does not depend on the matching (the columns'
/// values, the statistics before matching and the orders of the values), made while the
/// matching runs; then [`PreparedBalance::finish`]. Holds every column of the table
/// until then: for one table of units, not the stacked risk sets.
pub struct PreparedBalance {
    columns: BalanceColumns,
    /// The columns that are not a factor's levels read from its codes, and their halves.
    plain: Vec<usize>,
    prepared: Vec<PreparedColumn>,
}

/// The most memory [`PreparedBalance`] may hold while the matching runs; a larger table's
/// balance is made a column at a time after it ([`balance_of`]). A million rows of 16
/// model columns take about 270 MB.
const PREPARED_BALANCE_BYTES: usize = 512 << 20;

impl PreparedBalance {
    /// About the bytes a [`PreparedBalance`] of `rows` rows holds for a model of `columns`
    /// columns: per row and column (the model's columns and the distance; a factor's
    /// levels read from its codes hold none, the levels of other factor terms one more
    /// each), the value, its place in the order and the end-of-run flag.
    fn bytes_about(rows: usize, columns: usize) -> usize {
        let per_value = std::mem::size_of::<f64>() + std::mem::size_of::<usize>() + 1;
        rows.saturating_mul(columns + 1).saturating_mul(per_value)
    }

    /// The first half of [`balance_of`]'s table for the covariates, without the distance
    /// (which needs the fitted model: [`PreparedBalance::with_distance`]).
    ///
    /// # Errors
    /// As [`balance_of`], for the columns.
    fn covariates(
        formula: &Formula,
        data: &DataSet,
        design: &Design<ModelRows>,
        treated: &[bool],
    ) -> Result<PreparedBalance, PropensityError> {
        let input = |e: &dyn std::fmt::Display| PropensityError::Input(e.to_string());
        let columns = balance_columns(formula, data, design)?;
        let (plain, plain_names) = columns.plain(&factor_groups(&columns.sources, &columns.levels));
        // The distance is the first column (and never a factor's level).
        let column = |i: usize| columns.values(plain[i + 1], design, &[]);
        let prepared =
            prepare_columns(&plain_names[1..], column, treated).map_err(|e| input(&e))?;
        Ok(PreparedBalance {
            columns,
            plain,
            prepared,
        })
    }

    /// The prepared covariates with the distance's half in front.
    ///
    /// # Errors
    /// As [`balance_of`], for the distance.
    fn with_distance(
        mut self,
        distance: &[f64],
        treated: &[bool],
    ) -> Result<PreparedBalance, PropensityError> {
        let input = |e: &dyn std::fmt::Display| PropensityError::Input(e.to_string());
        let name = &self.columns.names[self.plain[0]];
        let mut prepared =
            prepare_columns(std::slice::from_ref(name), |_| distance.to_vec(), treated)
                .map_err(|e| input(&e))?;
        prepared.append(&mut self.prepared);
        self.prepared = prepared;
        Ok(self)
    }

    /// [`balance_of`]'s table and sample sizes under the matching `weights` and `pairs`.
    ///
    /// # Errors
    /// As [`balance_of`], for the weights and pairs.
    pub fn finish(
        self,
        ps: &PropensityFit,
        weights: &[f64],
        pairs: &[(usize, usize)],
    ) -> Result<(Vec<BalanceRow>, SampleSizes), PropensityError> {
        let input = |e: &dyn std::fmt::Display| PropensityError::Input(e.to_string());
        let PreparedBalance {
            columns,
            plain,
            prepared,
        } = self;
        // The sample sizes (one pass over the weights) beside the rows.
        let (plain_rows, sizes) = rayon::join(
            || finish_columns(prepared, &ps.treated, weights, pairs),
            || sample_sizes(&ps.treated, weights),
        );
        let plain_rows = plain_rows.map_err(|e| input(&e))?;
        let factors = factor_groups(&columns.sources, &columns.levels);
        let names = &columns.names;
        let balance = with_factor_rows(names, &factors, (&plain, plain_rows), ps, weights, pairs)?;
        let sizes = sizes.map_err(|e| input(&e))?;
        Ok((balance, sizes))
    }
}

/// The balance columns of one factor main effect whose all-levels matrix is read from
/// the factor's codes ([`ModelRows::indicator_levels`]).
struct FactorColumns<'a> {
    /// Indices of its columns among the balance columns.
    columns: Vec<usize>,
    codes: CodeSlice<'a>,
    /// The level code of each column.
    levels: Vec<u32>,
}

impl FactorColumns<'_> {
    fn balance_rows(
        &self,
        names: &[String],
        treated: &[bool],
        weights: &[f64],
        pairs: &[(usize, usize)],
    ) -> Result<Vec<BalanceRow>, crate::stats::balance::BalanceError> {
        let names: Vec<String> = self.columns.iter().map(|&j| names[j].clone()).collect();
        crate::with_codes!(self.codes, |codes| factor_balance_rows(
            &names,
            codes,
            &self.levels,
            treated,
            weights,
            pairs
        ))
    }
}

/// The factor main effects among the balance columns whose levels can be read from
/// their codes.
fn factor_groups<'a>(sources: &[BalanceSource], levels: &'a [ModelRows]) -> Vec<FactorColumns<'a>> {
    levels
        .iter()
        .enumerate()
        .filter_map(|(m, matrix)| {
            let (codes, level_of_column) = matrix.indicator_levels()?;
            let (columns, levels) = sources
                .iter()
                .enumerate()
                .filter_map(|(j, source)| match source {
                    BalanceSource::Levels(mm, k) if *mm == m => Some((j, level_of_column[*k])),
                    _ => None,
                })
                .unzip();
            Some(FactorColumns {
                columns,
                codes,
                levels,
            })
        })
        .collect()
}

/// MatchIt's threshold below which a mean difference is not standardised
/// (`sqrt(.Machine$double.eps)`), as the balance table applies it.
const SQRT_EPS: f64 = 1.490_116_119_384_765_6e-8;

/// The largest absolute standardised mean difference after matching over the balance
/// covariates other than the distance: the `smd_after` column of [`balance_of`]'s table
/// reduced to its largest absolute value, without the rest of the table (the statistics
/// before matching and the eCDFs sort every row of the sample). Each covariate's
/// denominator and binary flag come from all rows, its weighted means from the rows
/// with positive weight, summed in row order as the table sums them (the rows of weight
/// 0 add only zeros there), so the value is the table's to the bit.
pub fn max_abs_smd_after(
    formula: &Formula,
    data: &DataSet,
    ps: &PropensityFit,
    weights: &[f64],
) -> Result<f64, PropensityError> {
    let input = |e: &dyn std::fmt::Display| PropensityError::Input(e.to_string());
    let BalanceColumns {
        names,
        sources,
        levels,
    } = balance_columns(formula, data, &ps.design)?;
    let treated = &ps.treated;
    if weights.len() != treated.len() {
        return Err(PropensityError::Input(format!(
            "balance: {} weights for {} rows",
            weights.len(),
            treated.len()
        )));
    }
    // The rows of each group with positive weight, in row order.
    let kept = |flag: bool| -> Vec<usize> {
        (0..treated.len())
            .filter(|&i| treated[i] == flag && weights[i] != 0.0)
            .collect()
    };
    let (kept_treated, kept_control) = (kept(true), kept(false));
    let too_small = kept_treated.len() < 2 && kept_control.len() < 2;
    let factors = factor_groups(&sources, &levels);
    let factor_smds = crate::stats::map_indices(factors.len(), |f| {
        factors[f].balance_rows(&names, treated, weights, &[])
    });
    let mut largest: f64 = 0.0;
    for rows in factor_smds {
        for row in rows.map_err(|e| input(&e))? {
            if let Some(s) = row.smd_after {
                largest = largest.max(s.abs());
            }
        }
    }
    let smds = crate::stats::map_indices(names.len(), |j| {
        if factors.iter().any(|f| f.columns.contains(&j)) {
            return Ok(None);
        }
        let values = match sources[j] {
            BalanceSource::Distance => return Ok(None),
            BalanceSource::Model(k) => ps.design.x.column(k),
            BalanceSource::Levels(m, k) => levels[m].column(k),
        };
        if let Some(row) = values.iter().position(|v| !v.is_finite()) {
            return Err(input(&format!(
                "balance: covariate `{}` is not finite in row {}",
                names[j],
                row + 1
            )));
        }
        let binary = Covariate::new(&names[j], &values).binary;
        let mean =
            |rows: &[usize]| weighted_mean_of(|| rows.iter().map(|&i| (values[i], &weights[i])));
        let mdiff = mean(&kept_treated) - mean(&kept_control);
        Ok(if mdiff.abs() <= SQRT_EPS {
            Some(mdiff)
        } else if too_small {
            None
        } else {
            Some(mdiff / smd_denominator(&values, binary, treated))
        })
    });
    for smd in smds {
        if let Some(s) = smd? {
            largest = largest.max(s.abs());
        }
    }
    Ok(largest)
}

pub fn describe_warning(w: &MatchWarning) -> String {
    match w {
        MatchWarning::FewerControlsThanTreated { n_control, n_treated } => format!(
            "fewer controls ({n_control}) than treated rows ({n_treated}): not all treated rows will get a match"
        ),
        MatchWarning::FewerControlsThanRatio { ratio } => {
            format!("not all treated rows will get {ratio} matches")
        }
    }
}

/// Fits the propensity model, matches and computes balance.
///
/// `tie_key`: a unique key per row (e.g. the rank of the id) that breaks ties in
/// distance, so the result does not depend on the row order (outside order = data).
pub fn propensity_match(
    formula: &Formula,
    data: &DataSet,
    tie_key: &[u64],
    spec: &MatchSpec,
) -> Result<MatchAnalysis, PropensityError> {
    MatchPreparation::new(formula, data, spec)?.run(tie_key)
}

/// [`propensity_match`] up to the matching: the fitted propensity model, and the half of
/// the balance table that needs neither the model nor the matching (the covariates'
/// statistics before matching and the orders of their values), made on the other
/// threads while the model is fitted when its columns fit in [`PREPARED_BALANCE_BYTES`].
/// Nothing here needs the rows' tie keys, so the ids can be ranked meanwhile.
pub struct MatchPreparation<'a> {
    formula: &'a Formula,
    data: &'a DataSet,
    spec: &'a MatchSpec,
    ps: PropensityFit,
    covariates: Option<Result<PreparedBalance, PropensityError>>,
}

impl<'a> MatchPreparation<'a> {
    /// Fits the propensity model (and prepares the covariates' balance beside it).
    ///
    /// # Errors
    /// The model's ([`fit_propensity`]); the balance columns' come from [`Self::run`],
    /// after the matching's, as when they are made after the matching.
    pub fn new(
        formula: &'a Formula,
        data: &'a DataSet,
        spec: &'a MatchSpec,
    ) -> Result<MatchPreparation<'a>, PropensityError> {
        let (treated, design) = propensity_design(formula, data)?;
        let columns = design.column_names.len();
        let prepare =
            PreparedBalance::bytes_about(data.n_rows(), columns) <= PREPARED_BALANCE_BYTES;
        let (fit, covariates) = rayon::join(
            || fit_on_design(formula, data, &treated, &design, LeastSquares::Householder),
            || prepare.then(|| PreparedBalance::covariates(formula, data, &design, &treated)),
        );
        let (fit, warnings) = fit?;
        Ok(MatchPreparation {
            formula,
            data,
            spec,
            ps: PropensityFit::new(fit, design, treated, warnings),
            covariates,
        })
    }

    /// Matches on the model's linear logit, ties broken by `tie_key`, and completes the
    /// balance table.
    ///
    /// # Errors
    /// Unusable options or exact-matching columns, no treated row matched, and the balance
    /// columns' errors.
    pub fn run(self, tie_key: &[u64]) -> Result<MatchAnalysis, PropensityError> {
        let MatchPreparation {
            formula,
            data,
            spec,
            ps,
            covariates,
        } = self;
        let input = |e: &dyn std::fmt::Display| PropensityError::Input(e.to_string());
        let mut warnings = ps.warnings.clone();
        let exact = exact_strata(data, &spec.exact)?;
        let params = NearestNeighbour {
            ratio: spec.ratio,
            caliper: spec.caliper,
            replace: spec.replace,
            order: spec.order,
            seed: spec.seed,
        }
        .validate()
        .map_err(|e| input(&e))?;
        let mut match_input = MatchInput::new(&ps.distance, &ps.treated).with_tie_key(tie_key);
        if let Some(codes) = exact.as_deref() {
            match_input = match_input.with_exact(codes);
        }
        // The greedy matching runs on one thread; the distance's half of the balance table
        // is made on the others meanwhile.
        let (matching, prepared) = rayon::join(
            || params.fit(&match_input),
            || covariates.map(|c| c?.with_distance(&ps.distance, &ps.treated)),
        );
        let matching = matching.map_err(|e| input(&e))?;
        if matching.n_treated_matched == 0 {
            let width = matching
                .caliper_width
                .map(|w| format!(" (a width of {w:.4} on the logit scale)"))
                .unwrap_or_default();
            return Err(PropensityError::Analysis(format!(
                "no treated row could be matched: the caliper of {} SD{width} leaves no control close enough{}; widen --caliper or drop it",
                spec.caliper.unwrap_or(0.0),
                if spec.exact.is_empty() { "" } else { " within the --exact strata" }
            )));
        }
        warnings.extend(matching.warnings.iter().map(describe_warning));
        let pairs = matching.pair_rows();
        let (balance, sizes) = match prepared {
            Some(prepared) => prepared?.finish(&ps, &matching.weights, &pairs)?,
            None => balance_of(formula, data, &ps, &matching.weights, &pairs)?,
        };
        Ok(MatchAnalysis {
            ps_model: ps.fit.coefficients.clone(),
            treated: ps.treated,
            distance: ps.distance,
            propensity: ps.propensity,
            ps_fit: ps.fit,
            matching,
            balance,
            sizes,
            warnings,
        })
    }
}

/// Table 1 before matching (all rows) and after (weighted by the matching weights), over
/// the columns of the formula other than the treatment. Counts and skewed variables
/// named in `nonnormal` are summarised by median [IQR].
pub fn table_one_of(
    formula: &Formula,
    data: &DataSet,
    treated: &[bool],
    weights: &[f64],
    nonnormal: &[&str],
) -> Result<(TableOne, TableOne), PropensityError> {
    let response = formula.response_label().unwrap_or_default();
    let names: Vec<String> = data
        .column_names()
        .filter(|c| formula.columns().contains(*c) && *c != response)
        .map(str::to_string)
        .collect();
    let logical_levels = vec!["FALSE".to_string(), "TRUE".to_string()];
    let logical_codes: Vec<(String, LevelCodes)> = names
        .iter()
        .filter_map(|n| match data.get(n) {
            Some(ColumnData::Logical(v)) => Some((
                n.clone(),
                LevelCodes::new(2, v.iter().map(|b| b.map(u32::from))),
            )),
            _ => None,
        })
        .collect();
    let mut variables = Vec::new();
    for name in &names {
        match data.get(name) {
            Some(ColumnData::Numeric(values)) => variables.push(Variable::Continuous {
                name,
                values,
                nonnormal: nonnormal.contains(&name.as_str()),
            }),
            Some(ColumnData::Categorical { codes, levels }) => {
                variables.push(Variable::Categorical {
                    name,
                    codes,
                    levels,
                })
            }
            Some(ColumnData::Logical(_)) => {
                if let Some((_, codes)) = logical_codes.iter().find(|(n, _)| n == name) {
                    variables.push(Variable::Categorical {
                        name,
                        codes,
                        levels: &logical_levels,
                    });
                }
            }
            None => {}
        }
    }
    let err = |e: TableOneError| PropensityError::Analysis(format!("table 1: {e}"));
    let before = table_one(&variables, treated, None).map_err(err)?;
    let after = table_one(&variables, treated, Some(weights)).map_err(err)?;
    Ok((before, after))
}

#[cfg(test)]
#[path = "propensity_tests.rs"]
mod tests;
