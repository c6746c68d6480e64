//! Risk-set matching of registry comparison persons to referred persons.
//!
//! One propensity model is fitted over the stacked monthly risk sets (with index-month
//! terms). Risk sets are then matched in calendar order: the referred persons of a
//! month take their 1:K nearest neighbours on the linear logit among that month's
//! eligible comparison persons of the same sex, within a caliper of `caliper` standard
//! deviations of the logit (over all stacked rows, as MatchIt scales it). With
//! `reuse_comparisons` (the default) every risk set draws from everyone at risk that
//! month, so a comparison person may be matched again in a later month, as
//! incidence-density sampling does (Lubin & Gail 1984, Biometrics 40:63); without it a
//! comparison person matched in one risk set is not available in later ones. That
//! exclusion selects later comparison persons on not having been picked before, i.e. on
//! low prior use in the earlier months' windows, which overlap their own pre-period, and
//! biases the DiD and placebo rate ratios. A comparison person takes the index date of
//! the referred person they are matched to.
//!
//! References: Li, Propert & Rosenbaum (2001), "Balanced risk set matching", JASA
//! 96(455); Austin (2011) on calipers of 0.2 SD of the logit.

use std::cell::RefCell;
use std::rc::Rc;

use nalgebra::DVector;

use super::propensity::{
    balance_of, describe_warning, exact_strata, fit_propensity_by, max_abs_smd_after,
    PropensityError, PropensityFit,
};
use crate::data::cohort::{month_label, Registry, StackedRiskSets};
use crate::results::cohort::{
    CohortFlow, CohortMember, Group, MatchedCohort, Rate, RateComparison, RiskSetMatching,
};
use crate::stats::balance::{sample_sizes, BalanceRow};
use crate::stats::design::{Code, ColumnData, DataSet};
use crate::stats::formula::Formula;
use crate::stats::glm::LeastSquares;
use crate::stats::matching::{MatchInput, MatchOrder, NearestNeighbour};

/// Drops comparison rows whose level of some categorical covariate of the formula no
/// referred row has, repeating until none is left. The risk sets are about a gigabyte
/// per million pool persons, so they are not copied when none is dropped, and are
/// trimmed in place when the caller gave them up (no other `Rc` holds them); only risk
/// sets still shared are copied.
fn common_support(stacked: Rc<StackedRiskSets>, formula: &Formula) -> (Rc<StackedRiskSets>, usize) {
    let columns = formula.columns();
    let mut keep: Vec<bool> = vec![true; stacked.rows.len()];
    loop {
        let mut dropped = false;
        for name in stacked.data.column_names() {
            if !columns.contains(name) {
                continue;
            }
            let Some(ColumnData::Categorical { codes, levels }) = stacked.data.get(name) else {
                continue;
            };
            let mut has_treated = vec![false; levels.len()];
            crate::with_codes!(codes.as_slice(), |codes| {
                for (i, c) in codes.iter().enumerate() {
                    if let (Some(c), true, true) = (c.get(), keep[i], stacked.rows[i].treated) {
                        has_treated[c as usize] = true;
                    }
                }
                for (i, c) in codes.iter().enumerate() {
                    if keep[i] && c.get().is_some_and(|c| !has_treated[c as usize]) {
                        keep[i] = false;
                        dropped = true;
                    }
                }
            });
        }
        if !dropped {
            break;
        }
    }
    let outside = keep.iter().filter(|&&k| !k).count();
    if outside == 0 {
        return (stacked, 0);
    }
    let stacked = match Rc::try_unwrap(stacked) {
        Ok(mut owned) => {
            owned.data.retain_rows(&keep);
            let mut marks = keep.iter();
            owned.rows.retain(|_| marks.next() == Some(&true));
            return (Rc::new(owned), outside);
        }
        Err(shared) => shared,
    };
    let kept: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
    let mut data = DataSet::new();
    for name in stacked.data.column_names() {
        let column = match stacked.data.get(name) {
            Some(ColumnData::Numeric(v)) => {
                ColumnData::Numeric(kept.iter().map(|&i| v[i]).collect())
            }
            Some(ColumnData::Categorical { codes, levels }) => ColumnData::Categorical {
                codes: codes.select(&kept),
                levels: levels.clone(),
            },
            Some(ColumnData::Logical(v)) => {
                ColumnData::Logical(kept.iter().map(|&i| v[i]).collect())
            }
            None => continue,
        };
        // Same names and lengths as the input: push cannot fail.
        let _ = data.push(name, column);
    }
    let rows = kept.iter().map(|&i| stacked.rows[i]).collect();
    (
        Rc::new(StackedRiskSets {
            rows,
            data,
            flow: stacked.flow.clone(),
        }),
        outside,
    )
}

fn sd(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// The propensity model over the stacked risk sets, fitted once and matched on as
/// often as the plan's analyses ask (the main analysis and the sensitivity analyses
/// with another caliper or ratio share it).
#[derive(Debug)]
pub struct RiskSetModel {
    /// The risk-set rows the model was fitted on (within common support); the per-row
    /// vectors of the fit and of a matched cohort index these rows. Shared with the
    /// risk sets given when no row was outside common support.
    pub stacked: Rc<StackedRiskSets>,
    /// Comparison person-months dropped outside common support.
    pub outside_support: usize,
    pub formula: Formula,
    pub ps: PropensityFit,
    /// Exact-matching stratum per row, when the model was fitted for exact matching.
    strata: Option<Vec<u32>>,
    exact: Vec<String>,
    /// Per risk set (in month order), its comparison rows in the order the matching
    /// sorted them, kept from the first matching on this model so that the rematches of
    /// the sensitivity analyses (same distances, strata and tie keys) need not sort them
    /// again. Only kept when every comparison row of a month is a candidate
    /// (`reuse_comparisons`); otherwise the candidates differ between matchings.
    control_orders: RefCell<Vec<Option<Vec<usize>>>>,
}

/// Stacked risk sets of at least this many rows (a comparison pool of about 200,000
/// persons) fit the propensity model by the normal equations instead of the Householder
/// QR: a tenth of the work per iteration on these designs of indicator columns, with
/// coefficients equal to the QR's to about 1e-10 relative. Smaller risk sets keep the
/// QR, so their results are R's to the last digits.
pub const NORMAL_EQUATIONS_MIN_ROWS: usize = 2_000_000;

/// Trims the stacked risk sets to common support and fits the propensity model
/// `formula` on them; `exact` names the variables matched on exactly. Risk sets that no
/// other `Rc` holds are trimmed in place (see `common_support`).
pub fn fit_risk_set_model(
    stacked: Rc<StackedRiskSets>,
    formula: &Formula,
    exact: &[String],
) -> Result<RiskSetModel, PropensityError> {
    let formula = formula.clone();
    let (trimmed, outside_support) = common_support(stacked, &formula);
    let solver = if trimmed.rows.len() >= NORMAL_EQUATIONS_MIN_ROWS {
        LeastSquares::NormalEquations
    } else {
        LeastSquares::Householder
    };
    let mut ps = fit_propensity_by(&formula, &trimmed.data, solver)?;
    // Matching, balance and the results use the coefficients, the linear logit
    // (`distance`) and the treatment flags; the fit's own per-row vectors (fitted
    // values, linear predictor, working weights and residuals: 32 bytes per stacked
    // row) and the propensity scores are not read again, so they are freed here.
    ps.fit.fitted = DVector::zeros(0);
    ps.fit.linear_predictor = DVector::zeros(0);
    ps.fit.working_weights = DVector::zeros(0);
    ps.fit.working_residuals = DVector::zeros(0);
    ps.propensity = Vec::new();
    let strata = exact_strata(&trimmed.data, exact)?;
    Ok(RiskSetModel {
        stacked: trimmed,
        outside_support,
        formula,
        ps,
        strata,
        exact: exact.to_vec(),
        control_orders: RefCell::new(Vec::new()),
    })
}

/// How much of the balance after matching a matched cohort carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceDetail {
    /// The whole table, before and after matching (the main analysis reports it).
    Table,
    /// Only the largest absolute SMD after matching, with the balance table left
    /// empty: all a sensitivity analysis reports, at a fraction of the cost on a large
    /// pool.
    LargestSmd,
}

/// Matches the stacked risk sets on a fitted model; see the module documentation.
pub fn match_risk_sets(
    registry: &Registry,
    model: &RiskSetModel,
    options: &RiskSetMatching,
    detail: BalanceDetail,
) -> Result<MatchedCohort, PropensityError> {
    if options.exact != model.exact {
        return Err(PropensityError::Input(format!(
            "plan: matching: the model was prepared for exact matching on [{}], not [{}]",
            model.exact.join(", "),
            options.exact.join(", ")
        )));
    }
    let (stacked, ps, strata, outside) = (
        &model.stacked,
        &model.ps,
        &model.strata,
        model.outside_support,
    );
    let formula = &model.formula;
    let mut warnings = ps.warnings.clone();
    let width = options.caliper.map(|c| c.width() * sd(&ps.distance));

    let rows = &stacked.rows;
    let n = rows.len();
    let mut used = vec![false; registry.len()];
    let mut weights = vec![0.0; n];
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut members: Vec<CohortMember> = Vec::new();
    let mut flow = CohortFlow {
        risk_sets: stacked.flow.clone(),
        comparison_rows_outside_support: outside,
        ..Default::default()
    };
    let mut set_sizes: Vec<usize> = Vec::new();

    let mut start = 0;
    let mut risk_set = 0;
    while start < n {
        risk_set += 1;
        let month = rows[start].month;
        let end = start
            + rows[start..]
                .iter()
                .take_while(|r| r.month == month)
                .count();
        // This month's referred persons and its comparison persons: everyone at risk,
        // or only those not matched in an earlier month when comparisons are not reused.
        let local: Vec<usize> = (start..end)
            .filter(|&i| {
                rows[i].treated || options.reuse_comparisons || !used[rows[i].person as usize]
            })
            .collect();
        start = end;
        let distance: Vec<f64> = local.iter().map(|&i| ps.distance[i]).collect();
        let treated: Vec<bool> = local.iter().map(|&i| rows[i].treated).collect();
        if !treated.iter().any(|&t| t) {
            continue;
        }
        if treated.iter().all(|&t| t) {
            flow.referred_unmatched += treated.len();
            warnings.push(format!(
                "risk set {}: no eligible comparison person left",
                month_label(month)
            ));
            continue;
        }
        let tie_key: Vec<u64> = local.iter().map(|&i| u64::from(rows[i].person)).collect();
        let local_strata: Option<Vec<u32>> = strata
            .as_ref()
            .map(|s| local.iter().map(|&i| s[i]).collect());
        let local_sd = sd(&distance);
        let caliper = match width {
            Some(w) if local_sd > 0.0 && local_sd.is_finite() => Some(w / local_sd),
            Some(_) => Some(f64::MIN_POSITIVE),
            None => None,
        };
        let params = NearestNeighbour {
            ratio: options.ratio,
            caliper,
            replace: false,
            order: MatchOrder::Largest,
            seed: 0,
        }
        .validate()
        .map_err(|e| PropensityError::Input(format!("plan: matching: {e}")))?;
        let mut input = MatchInput::new(&distance, &treated).with_tie_key(&tie_key);
        if let Some(codes) = local_strata.as_deref() {
            input = input.with_exact(codes);
        }
        let sorted = options
            .reuse_comparisons
            .then(|| {
                model
                    .control_orders
                    .borrow_mut()
                    .get_mut(risk_set - 1)
                    .and_then(Option::take)
            })
            .flatten();
        if let Some(order) = sorted.as_deref() {
            input = input.with_control_order(order);
        }
        let (matching, order) = params
            .fit_with_order(&input)
            .map_err(|e| PropensityError::Analysis(e.to_string()))?;
        if options.reuse_comparisons {
            let mut orders = model.control_orders.borrow_mut();
            if orders.len() < risk_set {
                orders.resize(risk_set, None);
            }
            orders[risk_set - 1] = Some(order);
        }
        for w in &matching.warnings {
            warnings.push(format!(
                "risk set {}: {}",
                month_label(month),
                describe_warning(w)
            ));
        }
        // Matched sets in the order of the referred persons' ids (tie key).
        let mut by_treated: Vec<(usize, Vec<usize>)> = Vec::new();
        for p in &matching.pairs {
            let (t, c) = (local[p.treated], local[p.control]);
            match by_treated.iter_mut().find(|(tt, _)| *tt == t) {
                Some((_, cs)) => cs.push(c),
                None => by_treated.push((t, vec![c])),
            }
        }
        by_treated.sort_by_key(|(t, _)| rows[*t].person);
        let matched_here: Vec<usize> = by_treated.iter().map(|(t, _)| *t).collect();
        flow.referred_unmatched += local
            .iter()
            .filter(|&&i| rows[i].treated && !matched_here.contains(&i))
            .count();
        for (t, controls) in by_treated {
            let set = set_sizes.len() + 1;
            set_sizes.push(controls.len());
            let index_date = rows[t].index_date;
            weights[t] = 1.0;
            members.push(CohortMember {
                person: rows[t].person,
                group: Group::Referred,
                matched_set: set,
                index_date,
                weight: 1.0,
                row: t,
            });
            for c in controls {
                used[rows[c].person as usize] = true;
                weights[c] = 1.0 / set_sizes[set - 1] as f64;
                pairs.push((t, c));
                members.push(CohortMember {
                    person: rows[c].person,
                    group: Group::Comparison,
                    matched_set: set,
                    index_date,
                    weight: weights[c],
                    row: c,
                });
            }
        }
    }
    flow.referred_matched = set_sizes.len();
    flow.referred_with_fewer_than_ratio = set_sizes.iter().filter(|&&k| k < options.ratio).count();
    flow.comparison_matched = members
        .iter()
        .filter(|m| m.group == Group::Comparison)
        .count();
    if flow.referred_matched == 0 {
        return Err(PropensityError::Analysis(
            "risk-set matching matched no referred person: widen the caliper, drop exact-matching variables or widen the catchment in the plan".into(),
        ));
    }
    // MatchIt's ATT weights: each control 1/k of its set, rescaled so the control
    // weights sum to the number of matched controls.
    let total: f64 = members
        .iter()
        .filter(|m| m.group == Group::Comparison)
        .map(|m| m.weight)
        .sum();
    let scale = if total > 0.0 {
        flow.comparison_matched as f64 / total
    } else {
        1.0
    };
    for m in members.iter_mut().filter(|m| m.group == Group::Comparison) {
        m.weight *= scale;
        weights[m.row] = m.weight;
    }
    let (balance, sizes, max_abs_smd_after) = match detail {
        BalanceDetail::Table => {
            let (balance, sizes) = balance_of(formula, &stacked.data, ps, &weights, &pairs)?;
            let largest = max_abs_smd(&balance);
            (balance, sizes, largest)
        }
        BalanceDetail::LargestSmd => {
            let sizes = sample_sizes(&ps.treated, &weights)
                .map_err(|e| PropensityError::Input(e.to_string()))?;
            let largest = max_abs_smd_after(formula, &stacked.data, ps, &weights)?;
            (Vec::new(), sizes, largest)
        }
    };
    members.sort_by_key(|m| (m.matched_set, m.group, m.person));
    Ok(MatchedCohort {
        members,
        flow,
        ps_model: ps.fit.coefficients.clone(),
        max_abs_smd_after,
        balance,
        sizes,
        caliper_width: width,
        row_weights: weights,
        warnings,
    })
}

/// Weighted contacts and person-years of a set of (person, index date, weight);
/// comparison persons (`comparison`) are followed up until their own referral at the
/// latest ([`Registry::comparison_censor`]).
pub(super) fn window_rate(
    registry: &Registry,
    group: usize,
    members: &[(u32, i32, f64)],
    before: bool,
    comparison: bool,
    days: i32,
    extract_end: Option<i32>,
) -> Rate {
    let (mut events, mut years) = (0.0, 0.0);
    for &(p, index, w) in members {
        let (from, mut to) = if before {
            (index - days, index)
        } else {
            (index, index + days)
        };
        if let Some(exit) = registry.exit(p) {
            to = to.min(exit);
        }
        if comparison {
            if let Some(referral) = registry.comparison_censor(p) {
                to = to.min(referral);
            }
        }
        if let Some(end) = extract_end {
            to = to.min(end + 1);
        }
        if to <= from {
            continue;
        }
        events += w * f64::from(registry.count_contacts(group, p, from, to));
        years += w * f64::from(to - from) / 365.25;
    }
    Rate {
        persons: members.len(),
        person_years: years,
        rate: if years > 0.0 {
            events / years
        } else {
            f64::NAN
        },
    }
}

/// The largest absolute SMD after matching over the covariates (not the distance).
fn max_abs_smd(balance: &[BalanceRow]) -> f64 {
    balance
        .iter()
        .filter(|r| r.term != "distance")
        .filter_map(|r| r.smd_after.map(f64::abs))
        .fold(0.0, f64::max)
}

/// Contact rates of the referred, their matched comparison persons and the whole
/// eligible pool (every comparison row of the risk sets, at its risk-set date).
pub fn rate_comparison(
    registry: &Registry,
    stacked: &StackedRiskSets,
    cohort: &MatchedCohort,
    days_before: i32,
    days_after: i32,
    extract_end: Option<i32>,
) -> Vec<RateComparison> {
    let pick = |group: Group| -> Vec<(u32, i32, f64)> {
        cohort
            .members
            .iter()
            .filter(|m| m.group == group)
            .map(|m| (m.person, m.index_date, m.weight))
            .collect()
    };
    let referred = pick(Group::Referred);
    let matched = pick(Group::Comparison);
    let pool: Vec<(u32, i32, f64)> = stacked
        .rows
        .iter()
        .filter(|r| !r.treated)
        .map(|r| (r.person, r.index_date, 1.0))
        .collect();
    // Every outcome group and window on its own task (the pool has millions of rows);
    // each rate is summed in row order, so the figures do not depend on the thread count.
    let windows = [("before", true, days_before), ("after", false, days_after)];
    crate::stats::map_indices(registry.groups.len() * windows.len(), |task| {
        let g = task / windows.len();
        let (window, before, days) = windows[task % windows.len()];
        let rate = |members: &[(u32, i32, f64)], comparison: bool| {
            window_rate(registry, g, members, before, comparison, days, extract_end)
        };
        let (r, m, p) = (
            rate(&referred, false),
            rate(&matched, true),
            rate(&pool, true),
        );
        RateComparison {
            outcome: registry.groups[g].name.clone(),
            window,
            naive_ratio: r.rate / p.rate,
            matched_ratio: r.rate / m.rate,
            referred: r,
            matched_comparison: m,
            eligible_pool: p,
        }
    })
}
