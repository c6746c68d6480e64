//! Tables of the survey: observed scores by wave and the completeness of the scores,
//! under disclosure control.

use super::disclosure::must_suppress;
use super::table::{Cell, ResultTable};
use crate::data::score::ScoreCount;
use crate::results::survey::{Moments, WaveSummary};

/// The wave summaries with the mean and SD resting on a count from 1 to threshold − 1
/// removed. The counts themselves stay: `results.json`'s disclosure control
/// (`disclosure/json.rs`) marks them `"<5"` as the tables do; a 0 in their place would
/// read as "nobody".
pub fn suppress_waves(waves: &[WaveSummary], threshold: u64) -> Vec<WaveSummary> {
    let hide = |m: Moments| {
        if must_suppress(m.n, threshold) {
            Moments {
                n: m.n,
                mean: None,
                sd: None,
            }
        } else {
            m
        }
    };
    waves
        .iter()
        .map(|w| WaveSummary {
            wave: w.wave,
            responses: w.responses,
            ucla3: hide(w.ucla3),
            ucla3_severe: w.ucla3_severe,
            eq5d_index: hide(w.eq5d_index),
            eq_vas: hide(w.eq_vas),
        })
        .collect()
}

/// `mean (SD)`, or the mean alone when there is no SD; empty for a suppressed count.
fn mean_sd(m: &Moments, threshold: u64, decimals: usize) -> Cell {
    match (m.mean, m.sd) {
        _ if must_suppress(m.n, threshold) => Cell::Missing,
        (Some(mean), Some(sd)) => Cell::text(format!("{mean:.decimals$} ({sd:.decimals$})")),
        (Some(mean), None) => Cell::number(mean, decimals),
        _ => Cell::Missing,
    }
}

/// A percentage that hides a numerator of 1 to threshold − 1 persons.
fn percent(n: u64, of: u64, threshold: u64) -> Cell {
    if of == 0 || must_suppress(n, threshold) || must_suppress(of, threshold) {
        Cell::Missing
    } else {
        Cell::number(100.0 * n as f64 / of as f64, 1)
    }
}

/// Observed survey scores by wave (referred persons), with the response rate.
pub fn survey_table(waves: &[WaveSummary], referred: u64, threshold: u64) -> ResultTable {
    let mut t = ResultTable::new(
        "survey_by_wave",
        "Survey scores by wave (observed, referred persons)",
        &[
            "wave (months)",
            "responses",
            "responses, % of referred",
            "UCLA-3 n",
            "UCLA-3 mean (SD)",
            "severe loneliness (UCLA-3 ≥ 7) n",
            "severe loneliness, %",
            "EQ-5D-5L index n",
            "EQ-5D-5L index mean (SD)",
            "EQ VAS n",
            "EQ VAS mean (SD)",
        ],
    );
    for w in waves {
        t.push(vec![
            Cell::text(w.wave.to_string()),
            Cell::Count(w.responses),
            percent(w.responses, referred, threshold),
            Cell::Count(w.ucla3.n),
            mean_sd(&w.ucla3, threshold, 2),
            Cell::Count(w.ucla3_severe),
            percent(w.ucla3_severe, w.ucla3.n, threshold),
            Cell::Count(w.eq5d_index.n),
            mean_sd(&w.eq5d_index, threshold, 3),
            Cell::Count(w.eq_vas.n),
            mean_sd(&w.eq_vas, threshold, 1),
        ]);
    }
    t.notes.push("EQ-5D-5L index with the Danish value set (Jensen et al. 2021). Means are of observed scores; model-based estimates follow from the mixed models. The share of referred persons responding shows the attrition by wave.".into());
    t
}

/// How many survey scores were computed, prorated and lost to missing items.
pub fn score_count_table(counts: &[ScoreCount]) -> ResultTable {
    let mut t = ResultTable::new(
        "score_completeness",
        "Survey scores computed and lost to missing items",
        &[
            "score",
            "survey rows",
            "scored",
            "prorated",
            "lost to missing items",
            "not answered",
        ],
    );
    for c in counts {
        t.push(vec![
            Cell::text(c.score),
            Cell::Count(c.rows as u64),
            Cell::Count(c.scored as u64),
            Cell::Count(c.prorated as u64),
            Cell::Count(c.lost_to_missing_items as u64),
            Cell::Count(c.not_answered as u64),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A regression test: a suppressed count of the survey by wave was written to
    /// `results.json` as 0, which reads as "nobody answered".
    #[test]
    fn a_suppressed_wave_count_leaves_as_the_marker_not_as_zero() {
        let moments = |n: u64| Moments {
            n,
            mean: Some(6.0),
            sd: Some(1.0),
        };
        let waves = [WaveSummary {
            wave: 9,
            responses: 3,
            ucla3: moments(3),
            ucla3_severe: 2,
            eq5d_index: moments(40),
            eq_vas: moments(2),
        }];
        let suppressed = suppress_waves(&waves, 5);
        assert_eq!(suppressed[0].ucla3.mean, None);
        assert_eq!(suppressed[0].eq5d_index.mean, Some(6.0));
        let mut json = serde_json::json!({ "survey_by_wave": suppressed });
        crate::report::disclosure::json::suppress(&mut json, 5);
        let wave = &json["survey_by_wave"][0];
        for pointer in ["/responses", "/ucla3_severe", "/ucla3/n", "/eq_vas/n"] {
            assert_eq!(
                wave.pointer(pointer),
                Some(&serde_json::json!("<5")),
                "{pointer}: {wave}"
            );
        }
        assert_eq!(wave["eq5d_index"]["n"], 40);
    }
}
