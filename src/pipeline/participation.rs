//! The participation stage of `analyse`: the registered participation outcomes counted
//! by category, and each survey outcome's change from baseline by the participation
//! level reported at the same wave, with the test for linear trend.
//!
//! Why this dose-response: participation is asked at 3 and 9 months only (there is no
//! level at baseline) and can change between them, so the change from baseline at each
//! follow-up wave is related to the level reported at that wave, person by person
//! (complete pairs only), by the regression of the change on the equally spaced level
//! score — the test for linear trend across ordered groups. A mixed model with level ×
//! time would need the level at baseline and would mix the two reports. Participation
//! is chosen by the person, so the trend is an association, not an effect.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::data::participation::{
    participation_records, FINAL_WAVE, FREQUENCY_LEVELS, SERVICE_COLUMNS,
};
use crate::results::participation::{
    DoseResponseResult, DropoutCounts, FrequencyCounts, LevelChanges, ParticipationResults,
    ServiceCounts,
};
use crate::stats::participation::dose_response;

/// The follow-up waves of the participation question.
const WAVES: [i64; 2] = [3, 9];

/// The survey outcomes related to participation: name and scored column.
const OUTCOMES: [(&str, &str); 3] = [
    ("ucla3", "ucla3_total"),
    ("eq5d5l_index", "eq5d_index"),
    ("eq_vas", "eq5d_vas"),
];

/// Counts and dose-response from the participation table and the scored survey
/// (`None` without survey data: counts only).
///
/// # Errors
/// A column of the tables missing or not of its dictionary type.
pub fn participation_stage(
    participation: &DataFrame,
    scored: Option<&DataFrame>,
) -> Result<ParticipationResults, PolarsError> {
    let mut records = participation_records(participation)?;
    // Person order, so that the input's row order cannot change a bit.
    records.sort_by(|a, b| a.person_id.cmp(&b.person_id).then(a.wave.cmp(&b.wave)));

    let mut frequency: Vec<FrequencyCounts> = WAVES
        .iter()
        .map(|&wave| FrequencyCounts {
            wave,
            ..Default::default()
        })
        .collect();
    let mut services = ServiceCounts::default();
    let mut dropout = DropoutCounts::default();
    for r in &records {
        if let Some(f) = frequency.iter_mut().find(|f| f.wave == r.wave) {
            f.rows += 1;
            match r.frequency {
                Some(level) => *f.level_mut(level) += 1,
                None => f.not_answered += 1,
            }
        }
        if r.wave == FINAL_WAVE {
            services.persons += 1;
            for (j, used) in r.services.iter().enumerate() {
                if *used == Some(true) {
                    *services.service_mut(j) += 1;
                }
            }
            if let Some(reason) = r.dropout {
                dropout.total += 1;
                *dropout.reason_mut(reason) += 1;
            }
        }
    }
    debug_assert_eq!(SERVICE_COLUMNS.len(), 8);

    let mut dose = Vec::new();
    if let Some(scored) = scored {
        let ids = scored.column("person_id")?.str()?.clone();
        let waves = scored.column("wave")?.i64()?.clone();
        let scores: Vec<f64> = FREQUENCY_LEVELS.iter().map(|(_, s)| *s).collect();
        for (outcome, column) in OUTCOMES {
            let values = scored.column(column)?.f64()?.clone();
            // person → wave → score
            let mut by_person: BTreeMap<&str, BTreeMap<i64, f64>> = BTreeMap::new();
            for i in 0..scored.height() {
                if let (Some(id), Some(w), Some(v)) = (ids.get(i), waves.get(i), values.get(i)) {
                    if v.is_finite() {
                        by_person.entry(id).or_default().insert(w, v);
                    }
                }
            }
            for wave in WAVES {
                let (mut levels, mut changes) = (Vec::new(), Vec::new());
                for r in records.iter().filter(|r| r.wave == wave) {
                    let Some(level) = r.frequency else { continue };
                    let Some(s) = by_person.get(r.person_id.as_str()) else {
                        continue;
                    };
                    if let (Some(base), Some(now)) = (s.get(&0), s.get(&wave)) {
                        levels.push(level);
                        changes.push(now - base);
                    }
                }
                let mut by_level = LevelChanges::default();
                let fitted = dose_response(&levels, &scores, &changes);
                match &fitted {
                    Ok(d) => {
                        for m in &d.levels {
                            let l = by_level.level_mut(m.level);
                            l.n = m.n as u64;
                            l.mean = Some(m.mean);
                            l.conf_low = m.conf_low.is_finite().then_some(m.conf_low);
                            l.conf_high = m.conf_high.is_finite().then_some(m.conf_high);
                        }
                    }
                    Err(_) => {
                        for &l in &levels {
                            by_level.level_mut(l).n += 1;
                        }
                    }
                }
                dose.push(DoseResponseResult {
                    outcome: outcome.to_string(),
                    wave,
                    n: changes.len() as u64,
                    levels: by_level,
                    trend: fitted.as_ref().ok().map(|d| d.trend.clone()),
                    not_fitted: fitted.err().map(|e| e.to_string()),
                });
            }
        }
    }
    Ok(ParticipationResults {
        frequency,
        services,
        dropout,
        dose_response: dose,
    })
}
