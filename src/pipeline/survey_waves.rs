//! The observed survey scores of the referred persons by wave, before any modelling:
//! responses, UCLA-3, severe loneliness, EQ-5D index and EQ VAS.

use polars::prelude::*;

use crate::results::survey::{Moments, WaveSummary};

/// The number of values, their mean and their sample standard deviation.
fn moments(values: impl Iterator<Item = f64>) -> Moments {
    let v: Vec<f64> = values.collect();
    let n = v.len();
    let mean = (n > 0).then(|| v.iter().sum::<f64>() / n as f64);
    let sd = mean
        .filter(|_| n > 1)
        .map(|m| (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
    Moments {
        n: n as u64,
        mean,
        sd,
    }
}

/// Summaries per wave of the scored survey, in wave order.
pub fn summarise_waves(scored: &DataFrame) -> Result<Vec<WaveSummary>, PolarsError> {
    let wave = scored.column("wave")?.i64()?.clone();
    let f = |name: &str| -> Result<Float64Chunked, PolarsError> {
        Ok(scored.column(name)?.f64()?.clone())
    };
    let (ucla, eq, vas) = (f("ucla3_total")?, f("eq5d_index")?, f("eq5d_vas")?);
    let severe = scored.column("ucla3_severe")?.bool()?.clone();
    let ids = scored.column("person_id")?.str()?.clone();
    let mut waves: Vec<i64> = wave.iter().flatten().collect();
    waves.sort_unstable();
    waves.dedup();
    // Sums run in person order, so the input's row order cannot change a bit.
    let mut order: Vec<usize> = (0..scored.height()).collect();
    order.sort_by(|&a, &b| {
        ids.get(a)
            .cmp(&ids.get(b))
            .then(wave.get(a).cmp(&wave.get(b)))
    });
    Ok(waves
        .iter()
        .map(|&w| {
            let rows: Vec<usize> = order
                .iter()
                .copied()
                .filter(|&i| wave.get(i) == Some(w))
                .collect();
            let pick = |c: &Float64Chunked| moments(rows.iter().filter_map(|&i| c.get(i)));
            WaveSummary {
                wave: w,
                responses: rows.len() as u64,
                ucla3: pick(&ucla),
                ucla3_severe: rows
                    .iter()
                    .filter(|&&i| severe.get(i) == Some(true))
                    .count() as u64,
                eq5d_index: pick(&eq),
                eq_vas: pick(&vas),
            }
        })
        .collect())
}
