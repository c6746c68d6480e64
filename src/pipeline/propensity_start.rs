//! A start for the propensity fits of the stacked risk sets: the same model fitted on a
//! subsample, from which the fit on all rows needs a few iterations.
//!
//! The stacked risk sets hold a few thousand referred persons among millions of
//! comparison rows. From R's start (every fitted value near 1/4 or 3/4) IRLS first walks
//! the intercept down to the log odds of so rare a treatment, about one unit per
//! iteration, and only then converges: about a dozen passes over every row. Fitted on
//! every treated row and every k-th comparison row (weighted by k, so that the
//! subsample's likelihood estimates the whole one), the same model lands within a few
//! standard errors of the estimates at a twentieth of the work per pass; the fit on all
//! rows then starts there (R's `glm(..., start = )`) and converges in a few iterations to
//! the same maximum-likelihood estimates, within glm's convergence tolerance.
//!
//! Starts at a constant share, or at R's start scaled to the share, were tried and fail
//! here: from there the first Newton steps overshoot the rare treated rows (fitted
//! values near 0 give working responses near 1/μ) and the iterations run off.

use nalgebra::DVector;

use crate::stats::design::{model_rows, ColumnData, DataSet};
use crate::stats::formula::Formula;
use crate::stats::glm::{fit_glm, GlmOptions};

/// About this many comparison rows go into the subsample.
pub(super) const SUBSAMPLE_CONTROL_ROWS: usize = 500_000;

/// The coefficients of the propensity model fitted on every treated row and every k-th
/// comparison row (in row order, weighted by k), with k the number of comparison rows
/// over [`SUBSAMPLE_CONTROL_ROWS`] rounded up. `None` when there are too few comparison
/// rows to gain from it (k below 2), or when the subsample's fit is not a clean one:
/// other columns than the whole data's (a level that only the left-out rows have), an
/// aliased column, separation, or no convergence. The fit on all rows then starts as R
/// does, and so decides on those itself.
pub(super) fn subsample_start(
    formula: &Formula,
    data: &DataSet,
    treated: &[bool],
    column_names: &[String],
    options: &GlmOptions,
) -> Option<DVector<f64>> {
    let controls = treated.iter().filter(|&&t| !t).count();
    let k = controls.div_ceil(SUBSAMPLE_CONTROL_ROWS);
    if k < 2 {
        return None;
    }
    let mut control = 0usize;
    let keep: Vec<bool> = treated
        .iter()
        .map(|&t| {
            t || {
                control += 1;
                (control - 1).is_multiple_of(k)
            }
        })
        .collect();
    let sample = select_rows(data, &keep)?;
    let design = model_rows(formula, &sample).ok()?;
    if design.column_names != column_names {
        return None;
    }
    let kept: Vec<bool> = treated
        .iter()
        .zip(&keep)
        .filter(|(_, &kept)| kept)
        .map(|(&t, _)| t)
        .collect();
    let y = DVector::from_iterator(kept.len(), kept.iter().map(|&t| f64::from(u8::from(t))));
    let weights = DVector::from_iterator(
        kept.len(),
        kept.iter().map(|&t| if t { 1.0 } else { k as f64 }),
    );
    let fit = fit_glm(&design.x, &y, Some(&weights), None, column_names, options).ok()?;
    let clean = fit.converged && fit.separation.is_none() && fit.aliased.is_empty();
    clean.then(|| {
        DVector::from_iterator(
            fit.coefficients.len(),
            fit.coefficients.iter().map(|c| c.estimate),
        )
    })
}

/// The rows of `data` that `keep` marks, as a new data set (the columns in their order).
fn select_rows(data: &DataSet, keep: &[bool]) -> Option<DataSet> {
    let rows: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
    let mut sample = DataSet::new();
    for name in data.column_names() {
        let column = match data.get(name)? {
            ColumnData::Numeric(v) => ColumnData::Numeric(rows.iter().map(|&i| v[i]).collect()),
            ColumnData::Categorical { codes, levels } => ColumnData::Categorical {
                codes: codes.select(&rows),
                levels: levels.clone(),
            },
            ColumnData::Logical(v) => ColumnData::Logical(rows.iter().map(|&i| v[i]).collect()),
        };
        sample.push(name, column).ok()?;
    }
    Some(sample)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::propensity::fit_propensity_by;
    use crate::stats::glm::{fit_glm_from, Family, LeastSquares};

    /// A stacked-risk-set-like table: 1.2 million rows, a rare treatment (about 1 in
    /// 500) depending on age, a count and a four-level factor.
    fn rare_treatment_table() -> (DataSet, Formula) {
        let n = 1_200_000;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let (mut age, mut prior, mut region, mut treated) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let a = 20.0 + 70.0 * uniform();
            let p = (uniform() * 6.0).floor();
            let r = (uniform() * 4.0).floor() as u32;
            let eta = -9.0 + 0.03 * a + 0.25 * p + [0.0, 0.4, -0.3, 0.8][r as usize];
            treated.push(f64::from(u8::from(uniform() < 1.0 / (1.0 + (-eta).exp()))));
            age.push(a);
            prior.push(p);
            region.push(Some(r));
        }
        let mut data = DataSet::new();
        data.push("treated", ColumnData::Numeric(treated)).unwrap();
        data.push("age", ColumnData::Numeric(age)).unwrap();
        data.push("prior", ColumnData::Numeric(prior)).unwrap();
        let levels = ["a", "b", "c", "d"].map(String::from).to_vec();
        data.push(
            "region",
            ColumnData::Categorical {
                codes: region.into(),
                levels,
            },
        )
        .unwrap();
        let formula =
            crate::stats::formula::parse("treated ~ age + I(age^2) + prior + region").unwrap();
        (data, formula)
    }

    /// The fit started from the subsample reaches the estimates of the fit from R's
    /// start (within glm's convergence tolerance) in fewer passes over all rows.
    #[test]
    fn subsample_start_reaches_the_estimates_of_r_start() {
        let (data, formula) = rare_treatment_table();
        let fit = fit_propensity_by(&formula, &data, LeastSquares::NormalEquations).unwrap();
        let options = GlmOptions {
            solver: LeastSquares::NormalEquations,
            ..GlmOptions::new(Family::Binomial)
        };
        let treated: Vec<bool> = fit.treated.clone();
        let events = treated.iter().filter(|&&t| t).count();
        assert!((1_000..5_000).contains(&events), "treated rows: {events}");
        let start = subsample_start(
            &formula,
            &data,
            &treated,
            &fit.design.column_names,
            &options,
        )
        .expect("a clean subsample fit");
        let y = DVector::from_iterator(
            treated.len(),
            treated.iter().map(|&t| f64::from(u8::from(t))),
        );
        let names = &fit.design.column_names;
        let from_r = fit_glm(&fit.design.x, &y, None, None, names, &options).unwrap();
        let from_start =
            fit_glm_from(&fit.design.x, &y, None, None, names, &options, Some(&start)).unwrap();
        // What the pipeline fitted is the fit from the subsample's start.
        assert_eq!(fit.fit.iterations, from_start.iterations);
        assert!(
            from_start.iterations + 3 <= from_r.iterations,
            "iterations: {} from the subsample's start, {} from R's",
            from_start.iterations,
            from_r.iterations
        );
        for (a, b) in from_r.coefficients.iter().zip(&fit.fit.coefficients) {
            assert!(
                (a.estimate - b.estimate).abs() <= 1e-4 * a.std_error,
                "{}: {} and {} (SE {})",
                a.term,
                a.estimate,
                b.estimate,
                a.std_error
            );
        }
        assert!((from_r.deviance - fit.fit.deviance).abs() <= 1e-8 * from_r.deviance);
    }

    /// Too few comparison rows to gain from a subsample (no more than its size): no
    /// start.
    #[test]
    fn no_subsample_of_few_comparison_rows() {
        let (data, formula) = rare_treatment_table();
        let keep: Vec<bool> = (0..data.n_rows()).map(|i| i < 480_000).collect();
        let small = select_rows(&data, &keep).unwrap();
        let fit = fit_propensity_by(&formula, &small, LeastSquares::NormalEquations).unwrap();
        let options = GlmOptions::new(Family::Binomial);
        let start = subsample_start(
            &formula,
            &small,
            &fit.treated,
            &fit.design.column_names,
            &options,
        );
        assert_eq!(start, None);
    }
}
