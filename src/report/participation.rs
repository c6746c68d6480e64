//! The participation tables: participation frequency, services used and reasons for
//! leaving the evaluation as n (%), and the survey changes by participation level with
//! the test for trend — counts under disclosure control, percentages and means shown
//! only beside counts that are.

use super::did::label;
use super::disclosure::{must_suppress, SumRelation};
use super::table::{Cell, ResultTable};
use crate::data::participation::{
    code_label, service_label, DROPOUT_REASONS, FREQUENCY_LEVELS, SERVICE_COLUMNS,
};
use crate::results::participation::{LevelChange, ParticipationResults};

/// The participation results as `results.json` shows them: the mean change of a level
/// with 1 to threshold − 1 persons (and its interval) left out.
pub fn suppress_small_means(p: &ParticipationResults, threshold: u64) -> ParticipationResults {
    let mut out = p.clone();
    for d in &mut out.dose_response {
        for i in 0..FREQUENCY_LEVELS.len() {
            let l = d.levels.level_mut(i);
            if must_suppress(l.n, threshold) {
                *l = LevelChange {
                    n: l.n,
                    ..Default::default()
                };
            }
        }
    }
    out
}

/// Whether the count cell at (`row`, `col`) is shown after disclosure control (not
/// suppressed, not hidden by complementary suppression).
fn shown(protected: &ResultTable, row: usize, col: usize, threshold: u64) -> bool {
    matches!(protected.rows[row][col], Cell::Count(n) if !must_suppress(n, threshold))
}

/// n (%) of the participation answers at 3 and 9 months, the services used and the
/// reasons for leaving the evaluation.
pub fn participation_table(p: &ParticipationResults, threshold: u64) -> ResultTable {
    let mut t = ResultTable::new(
        "participation",
        "Participation in the services referred to, services used and reasons for leaving the evaluation (referred persons)",
        &["item", "category", "3 months n", "3 months %", "9 months n", "9 months %"],
    );
    let at = |wave: i64| p.frequency.iter().find(|f| f.wave == wave);
    let count = |n: Option<u64>| n.map_or(Cell::Missing, Cell::Count);
    // Rows whose counts are n (% of a total): (row, count column, total row).
    let mut percent_of: Vec<(usize, usize, usize)> = Vec::new();
    let frequency_total = t.rows.len();
    t.push(vec![
        Cell::text("participation frequency"),
        Cell::text("persons asked (rows)"),
        count(at(3).map(|f| f.rows)),
        Cell::Missing,
        count(at(9).map(|f| f.rows)),
        Cell::Missing,
    ]);
    let mut parts = Vec::new();
    for (i, (code, _)) in FREQUENCY_LEVELS.iter().enumerate() {
        parts.push(t.rows.len());
        t.push(vec![
            Cell::text("participation frequency"),
            Cell::text(code_label("participation_frequency", code)),
            count(at(3).map(|f| f.level(i))),
            Cell::Missing,
            count(at(9).map(|f| f.level(i))),
            Cell::Missing,
        ]);
    }
    parts.push(t.rows.len());
    t.push(vec![
        Cell::text("participation frequency"),
        Cell::text("not answered"),
        count(at(3).map(|f| f.not_answered)),
        Cell::Missing,
        count(at(9).map(|f| f.not_answered)),
        Cell::Missing,
    ]);
    for col in [2, 4] {
        t.sums.push(SumRelation {
            total: (frequency_total, col),
            parts: parts.iter().map(|&r| (r, col)).collect(),
        });
        percent_of.extend(parts.iter().map(|&r| (r, col, frequency_total)));
    }
    let services_total = t.rows.len();
    t.push(vec![
        Cell::text("services used by 9 months"),
        Cell::text("persons with a 9-month record"),
        Cell::Missing,
        Cell::Missing,
        Cell::Count(p.services.persons),
        Cell::Missing,
    ]);
    for (j, column) in SERVICE_COLUMNS.iter().enumerate() {
        percent_of.push((t.rows.len(), 4, services_total));
        t.push(vec![
            Cell::text("services used by 9 months"),
            Cell::text(service_label(column)),
            Cell::Missing,
            Cell::Missing,
            Cell::Count(p.services.service(j)),
            Cell::Missing,
        ]);
    }
    let dropout_total = t.rows.len();
    percent_of.push((dropout_total, 4, services_total));
    t.push(vec![
        Cell::text("left the evaluation before 9 months"),
        Cell::text("all reasons"),
        Cell::Missing,
        Cell::Missing,
        Cell::Count(p.dropout.total),
        Cell::Missing,
    ]);
    let mut reasons = Vec::new();
    for (j, code) in DROPOUT_REASONS.iter().enumerate() {
        reasons.push(t.rows.len());
        percent_of.push((t.rows.len(), 4, services_total));
        t.push(vec![
            Cell::text("left the evaluation before 9 months"),
            Cell::text(code_label("dropout_reason", code)),
            Cell::Missing,
            Cell::Missing,
            Cell::Count(p.dropout.reason(j)),
            Cell::Missing,
        ]);
    }
    t.sums.push(SumRelation {
        total: (dropout_total, 4),
        parts: reasons.iter().map(|&r| (r, 4)).collect(),
    });
    let protected = t.protected(threshold);
    for (row, col, total) in percent_of {
        let (Cell::Count(n), Cell::Count(of)) = (&t.rows[row][col], &t.rows[total][col]) else {
            continue;
        };
        if *of > 0
            && shown(&protected, row, col, threshold)
            && shown(&protected, total, col, threshold)
        {
            t.rows[row][col + 1] = Cell::number(100.0 * *n as f64 / *of as f64, 1);
        }
    }
    t.notes.push(
        "Participation frequency as answered in the 3- and 9-month questionnaires (percentages of the persons asked, not-answered included); services used (several per person) and reasons for leaving the evaluation before the 9-month questionnaire as recorded at 9 months (percentages of the persons with a 9-month record). Registered secondary outcomes of NCT07029334."
            .into(),
    );
    t
}

/// Each survey outcome's change from baseline by the participation level reported at
/// the same wave, and the test for linear trend across the levels.
pub fn dose_response_table(p: &ParticipationResults, threshold: u64) -> ResultTable {
    let mut t = ResultTable::new(
        "participation_dose_response",
        "Survey changes from baseline by participation level, with the test for linear trend (referred persons)",
        &[
            "outcome",
            "months",
            "participation",
            "n",
            "estimate",
            "conf_low",
            "conf_high",
            "p_value",
        ],
    );
    // Rows of level means: (row, trend row).
    let mut means: Vec<(usize, &LevelChange)> = Vec::new();
    for d in &p.dose_response {
        let decimals = if d.outcome == "eq5d5l_index" { 3 } else { 2 };
        let mut parts = Vec::new();
        for (i, (code, _)) in FREQUENCY_LEVELS.iter().enumerate() {
            let l = d.levels.level(i);
            parts.push(t.rows.len());
            means.push((t.rows.len(), l));
            t.push(vec![
                Cell::text(label(&d.outcome)),
                Cell::text(d.wave.to_string()),
                Cell::text(code_label("participation_frequency", code)),
                Cell::Count(l.n),
                Cell::Missing,
                Cell::Missing,
                Cell::Missing,
                Cell::Missing,
            ]);
        }
        let total = t.rows.len();
        let trend = d.trend.as_ref();
        t.push(vec![
            Cell::text(label(&d.outcome)),
            Cell::text(d.wave.to_string()),
            Cell::text("trend per level step"),
            Cell::Count(d.n),
            trend.map_or(Cell::Missing, |c| Cell::estimate(c.estimate, decimals + 1)),
            trend.map_or(Cell::Missing, |c| Cell::estimate(c.conf_low, decimals + 1)),
            trend.map_or(Cell::Missing, |c| Cell::estimate(c.conf_high, decimals + 1)),
            trend.map_or(Cell::Missing, |c| Cell::estimate(c.p_value, 4)),
        ]);
        t.sums.push(SumRelation {
            total: (total, 3),
            parts: parts.iter().map(|&r| (r, 3)).collect(),
        });
        if let Some(why) = &d.not_fitted {
            t.notes.push(format!(
                "{} at {} months: no test for trend: {why}",
                label(&d.outcome),
                d.wave
            ));
        }
    }
    let protected = t.protected(threshold);
    for (row, l) in means {
        if !shown(&protected, row, 3, threshold) {
            continue;
        }
        let decimals = if t.rows[row][0] == Cell::text(label("eq5d5l_index")) {
            3
        } else {
            2
        };
        t.rows[row][4] = Cell::maybe(l.mean, decimals);
        t.rows[row][5] = Cell::maybe(l.conf_low, decimals);
        t.rows[row][6] = Cell::maybe(l.conf_high, decimals);
    }
    t.notes.push(
        "Level rows: mean change from baseline (score at the wave minus the baseline score) of the persons who reported that participation level at the same wave, with a t interval; means of fewer persons than the disclosure threshold are not shown. Trend: least-squares regression of the change on the level score (0 = not been there yet, 1 = almost never, 2 = sometimes, 3 = most of the time, 4 = every time), the test for linear trend across ordered groups; the estimate is the change per level step, t test on n − 2 degrees of freedom. Participation is chosen by the person: the trend is an association, not an effect of participating."
            .into(),
    );
    t
}
