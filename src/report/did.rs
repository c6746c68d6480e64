//! Tables and figures of the difference-in-differences stage.

use crate::results::outcomes::OutcomeDid;
use crate::results::survey::SurveyOutcome;

use super::figures::{self, EventEstimate, Figure, FigureError};
use super::table::{Cell, ResultTable};

/// How an outcome is named in tables, figures and the report.
pub fn label(outcome: &str) -> &str {
    match outcome {
        "general_practice" => "contacts with general practice",
        "unplanned_hospital" => "unplanned hospital contacts",
        "helpline" => "calls to the 1813 helpline",
        "planned_admission" => "planned admissions",
        "outpatient" => "hospital outpatient visits",
        "ucla3" => "loneliness (UCLA-3, 3–9)",
        "eq5d5l_index" => "quality of life (EQ-5D-5L index)",
        "eq_vas" => "self-rated health (EQ VAS, 0–100)",
        other => other,
    }
}

/// The 2×2 DiD rate ratio per outcome, with the pre-trend test of its event study.
pub fn rate_ratio_table(did: &[OutcomeDid]) -> ResultTable {
    let mut t = ResultTable::new(
        "did_rate_ratios",
        "Change in healthcare use after referral: difference-in-differences rate ratios",
        &[
            "outcome",
            "rate_ratio",
            "conf_low",
            "conf_high",
            "p_value",
            "pretrend_p_value",
            "person_periods",
        ],
    );
    for o in did {
        let r = &o.rate_ratio;
        t.push(vec![
            Cell::text(label(&o.outcome)),
            Cell::maybe(r.rate_ratio, 3),
            Cell::maybe(r.rate_ratio_conf_low, 3),
            Cell::maybe(r.rate_ratio_conf_high, 3),
            Cell::estimate(r.coefficient.p_value, 4),
            Cell::maybe(o.pretrend_test.as_ref().map(|p| p.p_value), 4),
            Cell::Count(o.n_obs as u64),
        ]);
    }
    t.notes.push(
        "Poisson regression of contacts per 30-day period with person and period fixed effects and log exposure as offset; the rate ratio compares the change after referral in referred persons with the change in their matched comparison persons. 95% intervals from standard errors clustered by matched set, and two-way by matched set and person when a comparison person is in more than one matched set (reused in a later risk set; Cameron, Gelbach & Miller 2011). Pre-trend: joint Wald test (F) that all event-study coefficients before period −1 are zero."
            .into(),
    );
    t
}

/// Event-study rate ratios per period and outcome.
pub fn event_study_table(did: &[OutcomeDid]) -> ResultTable {
    let mut t = ResultTable::new(
        "event_study",
        "Event study: rate ratio per 30-day period relative to the index date (reference: period −1)",
        &["outcome", "period", "rate_ratio", "conf_low", "conf_high"],
    );
    for o in did {
        for p in &o.event_study {
            t.push(vec![
                Cell::text(o.outcome.clone()),
                Cell::text(p.period.to_string()),
                Cell::estimate(p.rate_ratio, 3),
                Cell::estimate(p.conf_low, 3),
                Cell::estimate(p.conf_high, 3),
            ]);
        }
    }
    t
}

/// The linear DiD: change in contacts per person per 30 days.
pub fn linear_table(did: &[OutcomeDid]) -> ResultTable {
    let mut t = ResultTable::new(
        "did_linear",
        "Change in contacts per person per 30 days after referral (linear difference-in-differences)",
        &["outcome", "estimate", "std_error", "conf_low", "conf_high", "p_value"],
    );
    for o in did {
        let l = &o.linear.coefficient;
        t.push(vec![
            Cell::text(label(&o.outcome)),
            Cell::estimate(l.estimate, 4),
            Cell::estimate(l.std_error, 4),
            Cell::estimate(l.conf_low, 4),
            Cell::estimate(l.conf_high, 4),
            Cell::estimate(l.p_value, 4),
        ]);
    }
    t.notes.push("Least squares on the rate per period with person and period fixed effects, weighted by exposure; standard errors clustered by matched set, and two-way by matched set and person when a comparison person is in more than one matched set.".into());
    t
}

pub fn event_study_figure(o: &OutcomeDid) -> Result<Figure, FigureError> {
    let points: Vec<EventEstimate> = o
        .event_study
        .iter()
        .map(|p| EventEstimate {
            period: p.period,
            rate_ratio: p.rate_ratio,
            conf_low: p.conf_low,
            conf_high: p.conf_high,
        })
        .collect();
    figures::event_study(&format!("Event study: {}", label(&o.outcome)), &points, -1)
}

pub fn raw_rate_figure(o: &OutcomeDid) -> Result<Figure, FigureError> {
    let periods: Vec<i32> = o.raw_rates.iter().map(|r| r.period).collect();
    let referred: Vec<f64> = o.raw_rates.iter().map(|r| r.referred).collect();
    let comparison: Vec<f64> = o.raw_rates.iter().map(|r| r.comparison).collect();
    figures::raw_rates(
        &format!("Raw rates: {}", label(&o.outcome)),
        &periods,
        &referred,
        &comparison,
    )
}

/// Survey outcomes: change from baseline per wave, and the trajectory figure.
pub fn survey_change_table(outcomes: &[SurveyOutcome]) -> ResultTable {
    let mut t = ResultTable::new(
        "survey_changes",
        "Survey outcomes: change from baseline (linear mixed models)",
        &[
            "outcome",
            "wave",
            "estimate",
            "value",
            "conf_low",
            "conf_high",
            "df",
            "p_value",
            "responses",
            "persons",
        ],
    );
    for o in outcomes {
        let rows = o
            .change
            .iter()
            .map(|c| ("change from baseline, referred", c))
            .chain(
                o.difference_in_change
                    .iter()
                    .map(|c| ("difference in change, referred − comparison", c)),
            );
        for (what, c) in rows {
            t.push(vec![
                Cell::text(o.outcome.clone()),
                Cell::text(c.wave.to_string()),
                Cell::text(what),
                Cell::estimate(c.estimate, 3),
                Cell::estimate(c.conf_low, 3),
                Cell::estimate(c.conf_high, 3),
                Cell::estimate(c.df, 1),
                Cell::estimate(c.p_value, 4),
                Cell::Count(o.n_obs as u64),
                Cell::Count(o.n_persons as u64),
            ]);
        }
    }
    if let Some(o) = outcomes.first() {
        t.notes.push(format!(
            "REML fit of {} on every available response (missing waves allowed, missing at random); standard errors and 95% intervals: {}.",
            o.formula.replacen("score", "the score", 1),
            o.standard_errors
        ));
    }
    t
}

pub fn trajectory_figure(o: &SurveyOutcome) -> Result<Figure, FigureError> {
    let (title, y) = match o.outcome.as_str() {
        "ucla3" => (
            "Loneliness (UCLA-3), model-based mean",
            "UCLA-3 total (3–9)",
        ),
        "eq5d5l_index" => (
            "Quality of life (EQ-5D-5L index), model-based mean",
            "EQ-5D-5L index (Danish value set)",
        ),
        "eq_vas" => (
            "Self-rated health (EQ VAS), model-based mean",
            "EQ VAS (0–100)",
        ),
        other => (other, other),
    };
    let points: Vec<(i64, f64, f64, f64)> = o
        .means
        .iter()
        .map(|m| (m.wave, m.estimate, m.conf_low, m.conf_high))
        .collect();
    figures::trajectory(title, y, &points)
}
