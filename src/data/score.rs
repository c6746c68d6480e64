//! Scoring a `proms` table: UCLA-3 (and the severe-loneliness flag), UCLA-20 v3,
//! EQ-5D index (Danish value sets) and EQ VAS, one row per person and wave, with a
//! count of the scores lost to missing items.

use polars::prelude::*;
use serde::Serialize;

use super::instruments::{self, Prorate, ScoreError, ValueSet};

/// How to score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScoreOptions {
    pub value_set: ValueSet,
    /// Prorating for the UCLA scales; EQ-5D is never prorated.
    pub prorate: Prorate,
}

/// For one score: how many rows got a score, and why the others did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreCount {
    pub score: &'static str,
    pub rows: usize,
    pub scored: usize,
    /// Rows where some items were answered and some missing, so no score (the loss the
    /// report counts).
    pub lost_to_missing_items: usize,
    /// Rows with no item of this instrument answered.
    pub not_answered: usize,
    /// Scores computed by prorating over missing items.
    pub prorated: usize,
}

#[derive(Debug, Clone)]
pub struct ScoredProms {
    /// person_id, wave, response_date, ucla3_total, ucla3_severe, ucla20_total,
    /// eq5d_index, eq5d_vas.
    pub frame: DataFrame,
    pub counts: Vec<ScoreCount>,
    pub value_set: ValueSet,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScoreTableError {
    #[error("proms table has no column {0}")]
    MissingColumn(String),
    #[error("row {row}, column {column}: {message}")]
    Score {
        row: usize,
        column: String,
        message: String,
    },
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

fn items(
    frame: &DataFrame,
    names: &[String],
) -> Result<Vec<Option<Int64Chunked>>, ScoreTableError> {
    names
        .iter()
        .map(|n| match frame.column(n) {
            Ok(c) => Ok(Some(
                c.as_materialized_series()
                    .cast(&DataType::Int64)?
                    .i64()?
                    .clone(),
            )),
            Err(_) => Ok(None),
        })
        .collect()
}

fn item_at(columns: &[Option<Int64Chunked>], row: usize) -> Vec<Option<u8>> {
    columns
        .iter()
        .map(|c| {
            c.as_ref()
                .and_then(|c| c.get(row))
                .and_then(|v| u8::try_from(v).ok())
        })
        .collect()
}

struct Tally {
    count: ScoreCount,
}

impl Tally {
    fn new(score: &'static str, rows: usize) -> Tally {
        Tally {
            count: ScoreCount {
                score,
                rows,
                scored: 0,
                lost_to_missing_items: 0,
                not_answered: 0,
                prorated: 0,
            },
        }
    }

    fn add(&mut self, answered: usize, of: usize, scored: bool) {
        match (scored, answered) {
            (true, a) if a < of => {
                self.count.scored += 1;
                self.count.prorated += 1;
            }
            (true, _) => self.count.scored += 1,
            (false, 0) => self.count.not_answered += 1,
            (false, _) => self.count.lost_to_missing_items += 1,
        }
    }
}

/// The proms column an instrument error refers to.
fn score_error_column(error: &ScoreError) -> String {
    match error {
        ScoreError::OutOfRange {
            instrument, item, ..
        } => match *instrument {
            instruments::UCLA3_NAME => format!("ucla_{item}"),
            instruments::UCLA20_NAME => format!("ucla20_{item}"),
            instruments::EQ_VAS_NAME => "eq5d_vas".to_string(),
            _ => ["mo", "sc", "ua", "pd", "ad"]
                .get(item.saturating_sub(1))
                .map_or_else(String::new, |d| format!("eq5d_{d}")),
        },
        _ => String::new(),
    }
}

/// Scores every row of a typed `proms` frame (as read with the data dictionary).
pub fn score_proms(
    frame: &DataFrame,
    options: ScoreOptions,
) -> Result<ScoredProms, ScoreTableError> {
    let n = frame.height();
    let need = |name: &str| {
        frame
            .column(name)
            .cloned()
            .map_err(|_| ScoreTableError::MissingColumn(name.to_string()))
    };
    let ids = need("person_id")?;
    let wave = need("wave")?;
    let response_date = need("response_date")?;

    let names =
        |prefix: &str, k: usize| (1..=k).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>();
    let ucla3 = items(frame, &names("ucla_", 3))?;
    let ucla20 = items(frame, &names("ucla20_", 20))?;
    let eq5d_names: Vec<String> = ["mo", "sc", "ua", "pd", "ad"]
        .iter()
        .map(|d| format!("eq5d_{d}"))
        .collect();
    let eq5d = items(frame, &eq5d_names)?;
    let vas = match frame.column("eq5d_vas") {
        Ok(c) => Some(
            c.as_materialized_series()
                .cast(&DataType::Float64)?
                .f64()?
                .clone(),
        ),
        Err(_) => None,
    };

    let mut t_ucla3 = Tally::new("ucla3_total", n);
    let mut t_ucla20 = Tally::new("ucla20_total", n);
    let mut t_eq5d = Tally::new("eq5d_index", n);
    let mut t_vas = Tally::new("eq5d_vas", n);
    let (mut out_ucla3, mut out_severe, mut out_ucla20, mut out_eq5d, mut out_vas) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let at_row = |row: usize| {
        move |error: ScoreError| ScoreTableError::Score {
            row: row + 2,
            column: score_error_column(&error),
            message: error.to_string(),
        }
    };
    for row in 0..n {
        let answered = |v: &[Option<u8>]| v.iter().filter(|x| x.is_some()).count();

        let u3 = item_at(&ucla3, row);
        let total3 = instruments::ucla3_total([u3[0], u3[1], u3[2]], options.prorate)
            .map_err(at_row(row))?;
        t_ucla3.add(answered(&u3), 3, total3.is_some());
        out_ucla3.push(total3);
        out_severe.push(instruments::severe(total3));

        let u20 = item_at(&ucla20, row);
        let mut arr20 = [None; 20];
        arr20.copy_from_slice(&u20);
        let total20 = instruments::ucla20_total(arr20, options.prorate).map_err(at_row(row))?;
        t_ucla20.add(answered(&u20), 20, total20.is_some());
        out_ucla20.push(total20);

        let e = item_at(&eq5d, row);
        let index = instruments::eq5d_index([e[0], e[1], e[2], e[3], e[4]], options.value_set)
            .map_err(at_row(row))?;
        t_eq5d.add(answered(&e), 5, index.is_some());
        out_eq5d.push(index);

        let v = instruments::eq_vas(vas.as_ref().and_then(|c| c.get(row))).map_err(at_row(row))?;
        t_vas.add(usize::from(v.is_some()), 1, v.is_some());
        out_vas.push(v);
    }
    let scored = DataFrame::new(
        n,
        vec![
            ids,
            wave,
            response_date,
            Series::new("ucla3_total".into(), out_ucla3).into_column(),
            Series::new("ucla3_severe".into(), out_severe).into_column(),
            Series::new("ucla20_total".into(), out_ucla20).into_column(),
            Series::new("eq5d_index".into(), out_eq5d).into_column(),
            Series::new("eq5d_vas".into(), out_vas).into_column(),
        ],
    )?;
    Ok(ScoredProms {
        frame: scored,
        counts: vec![t_ucla3.count, t_ucla20.count, t_eq5d.count, t_vas.count],
        value_set: options.value_set,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proms() -> DataFrame {
        let n = 4;
        let mut cols = vec![
            Series::new("person_id".into(), ["a", "a", "b", "c"]).into_column(),
            Series::new("wave".into(), [0i64, 3, 0, 0]).into_column(),
            Series::new("response_date".into(), [19_800i32, 19_891, 19_810, 19_820])
                .cast(&DataType::Date)
                .expect("date")
                .into_column(),
            Series::new("ucla_1".into(), [Some(3i64), Some(1), None, None]).into_column(),
            Series::new("ucla_2".into(), [Some(3i64), Some(1), Some(2), None]).into_column(),
            Series::new("ucla_3".into(), [Some(1i64), Some(1), Some(3), None]).into_column(),
        ];
        for (d, levels) in [
            ("mo", [Some(1i64), Some(1), Some(5), None]),
            ("sc", [Some(3), Some(1), Some(5), None]),
            ("ua", [Some(2), Some(1), Some(5), None]),
            ("pd", [Some(2), Some(1), Some(5), None]),
            ("ad", [Some(4), Some(2), None, None]),
        ] {
            cols.push(Series::new(format!("eq5d_{d}").into(), levels).into_column());
        }
        cols.push(
            Series::new("eq5d_vas".into(), [Some(70.0), Some(80.5), None, None]).into_column(),
        );
        DataFrame::new(n, cols).expect("frame")
    }

    #[test]
    fn scores_rows_and_counts_losses() {
        let scored = score_proms(&proms(), ScoreOptions::default()).expect("scores");
        let f = &scored.frame;
        let ucla = f
            .column("ucla3_total")
            .expect("col")
            .f64()
            .expect("f64")
            .clone();
        assert_eq!(ucla.get(0), Some(7.0));
        assert_eq!(ucla.get(1), Some(3.0));
        assert_eq!(ucla.get(2), None);
        let severe = f
            .column("ucla3_severe")
            .expect("col")
            .bool()
            .expect("bool")
            .clone();
        assert_eq!(severe.get(0), Some(true));
        assert_eq!(severe.get(1), Some(false));
        // 13224 = 0.439 in the Danish 5L value set (Jensen et al. 2021).
        let eq = f
            .column("eq5d_index")
            .expect("col")
            .f64()
            .expect("f64")
            .clone();
        assert!((eq.get(0).expect("scored") - 0.439).abs() < 1e-12);
        assert_eq!(eq.get(2), None);
        let c = &scored.counts[0];
        assert_eq!(
            (
                c.scored,
                c.lost_to_missing_items,
                c.not_answered,
                c.prorated
            ),
            (2, 1, 1, 0)
        );
        let e = &scored.counts[2];
        assert_eq!(
            (e.scored, e.lost_to_missing_items, e.not_answered),
            (2, 1, 1)
        );
    }

    #[test]
    fn prorating_recovers_a_score_and_is_counted() {
        let options = ScoreOptions {
            value_set: ValueSet::Dk5L,
            prorate: Prorate::MaxMissing(1),
        };
        let scored = score_proms(&proms(), options).expect("scores");
        let ucla = scored
            .frame
            .column("ucla3_total")
            .expect("col")
            .f64()
            .expect("f64")
            .clone();
        assert_eq!(ucla.get(2), Some(7.5));
        assert_eq!(scored.counts[0].prorated, 1);
        assert_eq!(scored.counts[0].lost_to_missing_items, 0);
    }
}
