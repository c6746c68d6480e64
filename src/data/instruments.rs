//! Pure scoring functions for the survey instruments used in the evaluation.
//!
//! Everything in this module is a deterministic function of its arguments:
//! no I/O, no data frames, no printing. Item responses are passed as
//! `Option<u8>` (`None` = item not answered) and scores come back as
//! `Result<Option<f64>, ScoreError>`:
//!
//! * `Err(_)` — at least one *answered* item is outside the valid range of the
//!   instrument (e.g. a UCLA-3 item coded 4 or an EQ-5D-3L level 4). Invalid
//!   codes are never turned silently into a number. Range validation happens
//!   before the missing-data rule, so an out-of-range item is reported even if
//!   another item is missing.
//! * `Ok(None)` — the score is missing under the missing-data rule in force.
//! * `Ok(Some(x))` — the score.
//!
//! Instruments and sources:
//!
//! * UCLA 3-item loneliness scale — Hughes ME, Waite LJ, Hawkley LC, Cacioppo
//!   JT (2004). *A short scale for measuring loneliness in large surveys.*
//!   Research on Aging 26(6):655–672. See [`ucla3_total`].
//! * UCLA Loneliness Scale version 3 (20 items) — Russell DW (1996). *UCLA
//!   Loneliness Scale (Version 3): reliability, validity, and factor
//!   structure.* Journal of Personality Assessment 66(1):20–40. See
//!   [`ucla20_total`].
//! * EQ-5D-5L, Danish value set — Jensen CE, Sørensen SS, Gudex C, Jensen MB,
//!   Pedersen KM, Ehlers LH (2021). *The Danish EQ-5D-5L value set: a hybrid
//!   model using cTTO and DCE data.* Applied Health Economics and Health
//!   Policy 19:579–591. See [`eq5d_index`] with [`ValueSet::Dk5L`].
//! * EQ-5D-3L, Danish TTO value set — Wittrup-Jensen KU, Lauridsen J, Gudex C,
//!   Pedersen KM (2009). *Generation of a Danish TTO value set for EQ-5D
//!   health states.* Scandinavian Journal of Public Health 37(5):459–466. See
//!   [`eq5d_index`] with [`ValueSet::Dk3L`].
//! * EQ VAS (0–100), passed through after validation. See [`eq_vas`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Error returned when an input cannot be scored.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScoreError {
    /// An answered item (or the EQ VAS value) lies outside the instrument's
    /// valid range. `item` is 1-based: the item number of a UCLA scale, the
    /// EQ-5D dimension number in the order MO=1, SC=2, UA=3, PD=4, AD=5, or 1
    /// for the EQ VAS. `value`, `min` and `max` are given as `f64` so that
    /// integer item codes and the continuous EQ VAS share one variant.
    #[error("{instrument} item {item}: value {value} is outside the valid range {min}..={max}")]
    OutOfRange {
        /// Instrument name, e.g. `"UCLA-3"`, `"UCLA-20"`, `"EQ-5D-5L"`, `"EQ VAS"`.
        instrument: &'static str,
        /// 1-based item / dimension number.
        item: usize,
        /// The offending value.
        value: f64,
        /// Smallest valid value.
        min: f64,
        /// Largest valid value.
        max: f64,
    },
    /// An EQ-5D value-set name that is not recognised by [`ValueSet::parse`].
    #[error("unknown EQ-5D value set {0:?} (expected \"dk-5l\" or \"dk-3l\")")]
    UnknownValueSet(String),
    /// An EQ-5D dimension index outside `0..=4` passed to [`eq5d_decrement`].
    #[error("EQ-5D dimension index {0} is out of range (expected 0..=4: MO, SC, UA, PD, AD)")]
    InvalidDimension(usize),
}

// ---------------------------------------------------------------------------
// Missing-data policy
// ---------------------------------------------------------------------------

/// Missing-item policy for the additive UCLA loneliness scales.
///
/// * [`Prorate::None`] (the default): any missing item makes the total
///   missing.
/// * [`Prorate::MaxMissing(k)`](Prorate::MaxMissing): if at most `k` items are
///   missing (and at least one item is answered), the total is prorated as the
///   **mean of the answered (already reverse-scored) items × the number of
///   items in the scale**, as is common practice for the UCLA scales
///   (person-mean imputation). With more than `k` missing items the total is
///   missing. A prorated total need not be an integer (e.g. UCLA-3 answers
///   `[2, missing, 3]` give `2.5 × 3 = 7.5`).
///
/// Prorating never applies to EQ-5D: value sets are not additive over missing
/// dimensions, so [`eq5d_index`] takes no `Prorate` argument and an EQ-5D
/// profile with any missing dimension is always missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Prorate {
    /// No prorating: any missing item makes the score missing.
    #[default]
    None,
    /// Prorate (mean of answered items × number of items) when at most this
    /// many items are missing.
    MaxMissing(usize),
}

impl Prorate {
    /// Largest number of missing items that still yields a score
    /// (0 for [`Prorate::None`]).
    pub fn max_missing(self) -> usize {
        match self {
            Prorate::None => 0,
            Prorate::MaxMissing(k) => k,
        }
    }
}

/// Check that every answered item lies in `min..=max`. Items are reported
/// 1-based; the first offending item wins.
fn validate_items(
    instrument: &'static str,
    items: &[Option<u8>],
    min: u8,
    max: u8,
) -> Result<(), ScoreError> {
    let bad = items
        .iter()
        .enumerate()
        .find_map(|(i, item)| item.filter(|v| !(min..=max).contains(v)).map(|v| (i, v)));
    if let Some((i, v)) = bad {
        return Err(ScoreError::OutOfRange {
            instrument,
            item: i + 1,
            value: f64::from(v),
            min: f64::from(min),
            max: f64::from(max),
        });
    }
    Ok(())
}

/// Additive total of already-validated (and already reverse-scored) item
/// scores under a prorating policy. Computed as `sum × n / answered` in
/// integer arithmetic followed by a single division, so complete totals are
/// exact integers and prorated totals are correctly rounded.
fn additive_total(scores: &[Option<u8>], prorate: Prorate) -> Option<f64> {
    let n = scores.len();
    let answered = scores.iter().filter(|s| s.is_some()).count();
    let missing = n - answered;
    if answered == 0 || missing > prorate.max_missing() {
        return None;
    }
    let sum: u64 = scores.iter().flatten().map(|&s| u64::from(s)).sum();
    if missing == 0 {
        return Some(sum as f64);
    }
    Some((sum * n as u64) as f64 / answered as f64)
}

// ---------------------------------------------------------------------------
// UCLA 3-item loneliness scale
// ---------------------------------------------------------------------------

/// Instrument name used in errors for the UCLA 3-item scale.
pub const UCLA3_NAME: &str = "UCLA-3";
/// Number of items of the UCLA 3-item scale (Hughes et al. 2004).
pub const UCLA3_ITEMS: usize = 3;
/// Lowest item score of the UCLA 3-item scale ("hardly ever").
pub const UCLA3_ITEM_MIN: u8 = 1;
/// Highest item score of the UCLA 3-item scale ("often").
pub const UCLA3_ITEM_MAX: u8 = 3;
/// Lowest possible UCLA-3 total.
pub const UCLA3_MIN_TOTAL: f64 = 3.0;
/// Highest possible UCLA-3 total.
pub const UCLA3_MAX_TOTAL: f64 = 9.0;
/// Danish convention: a UCLA-3 total of at least 7 (range 3–9) is flagged as
/// severe loneliness.
pub const UCLA3_SEVERE_THRESHOLD: f64 = 7.0;

/// Total score of the UCLA 3-item loneliness scale.
///
/// Hughes ME, Waite LJ, Hawkley LC, Cacioppo JT (2004), *A short scale for
/// measuring loneliness in large surveys*, Research on Aging 26(6):655–672.
/// Items 1–3 are each scored 1 ("hardly ever") to 3 ("often"); none is
/// reversed; the total ranges 3–9.
///
/// Any answered item outside 1–3 is an error. Missing items follow `prorate`
/// (see [`Prorate`]).
pub fn ucla3_total(
    items: [Option<u8>; UCLA3_ITEMS],
    prorate: Prorate,
) -> Result<Option<f64>, ScoreError> {
    validate_items(UCLA3_NAME, &items, UCLA3_ITEM_MIN, UCLA3_ITEM_MAX)?;
    Ok(additive_total(&items, prorate))
}

/// Whether a UCLA-3 total indicates severe loneliness under the Danish
/// convention: `total >= 7` ([`UCLA3_SEVERE_THRESHOLD`]). A prorated total of
/// 6.5 is therefore *not* severe. NaN is never severe.
pub fn ucla3_severe(total: f64) -> bool {
    total >= UCLA3_SEVERE_THRESHOLD
}

/// Severe-loneliness flag for a possibly missing UCLA-3 total: `None` stays
/// `None`, otherwise [`ucla3_severe`].
pub fn severe(total: Option<f64>) -> Option<bool> {
    total.map(ucla3_severe)
}

// ---------------------------------------------------------------------------
// UCLA Loneliness Scale version 3 (20 items)
// ---------------------------------------------------------------------------

/// Instrument name used in errors for the 20-item UCLA scale.
pub const UCLA20_NAME: &str = "UCLA-20";
/// Number of items of the UCLA Loneliness Scale version 3 (Russell 1996).
pub const UCLA20_ITEMS: usize = 20;
/// Lowest item score of the UCLA-20 ("never").
pub const UCLA20_ITEM_MIN: u8 = 1;
/// Highest item score of the UCLA-20 ("often").
pub const UCLA20_ITEM_MAX: u8 = 4;
/// Lowest possible UCLA-20 total.
pub const UCLA20_MIN_TOTAL: f64 = 20.0;
/// Highest possible UCLA-20 total.
pub const UCLA20_MAX_TOTAL: f64 = 80.0;
/// 1-based numbers of the positively worded UCLA-20 items that are
/// reverse-scored (`5 − x`), Russell (1996), J Pers Assess 66(1):20–40.
pub const UCLA20_REVERSED: [usize; 9] = [1, 5, 6, 9, 10, 15, 16, 19, 20];

/// Whether the 1-based UCLA-20 item number `item` is reverse-scored
/// (member of [`UCLA20_REVERSED`]).
pub fn ucla20_is_reversed(item: usize) -> bool {
    UCLA20_REVERSED.contains(&item)
}

/// Scored value of one UCLA-20 item: `5 − raw` for the reversed items
/// ([`UCLA20_REVERSED`]), `raw` otherwise. `item` is 1-based; a raw value
/// outside 1–4 is an error (as is an item number outside 1–20).
pub fn ucla20_item_score(item: usize, raw: u8) -> Result<u8, ScoreError> {
    if !(1..=UCLA20_ITEMS).contains(&item) || !(UCLA20_ITEM_MIN..=UCLA20_ITEM_MAX).contains(&raw) {
        return Err(ScoreError::OutOfRange {
            instrument: UCLA20_NAME,
            item,
            value: f64::from(raw),
            min: f64::from(UCLA20_ITEM_MIN),
            max: f64::from(UCLA20_ITEM_MAX),
        });
    }
    Ok(if ucla20_is_reversed(item) {
        (UCLA20_ITEM_MAX + 1) - raw
    } else {
        raw
    })
}

/// Total score of the UCLA Loneliness Scale version 3 (20 items).
///
/// Russell DW (1996), *UCLA Loneliness Scale (Version 3): reliability,
/// validity, and factor structure*, Journal of Personality Assessment
/// 66(1):20–40. Items are scored 1 ("never") to 4 ("often"); items 1, 5, 6, 9,
/// 10, 15, 16, 19 and 20 are reverse-scored (`5 − x`) inside this function, so
/// pass the raw responses. The total ranges 20–80 (higher = lonelier).
///
/// Any answered item outside 1–4 is an error. Missing items follow `prorate`
/// (see [`Prorate`]); prorating uses the mean of the answered items *after*
/// reverse scoring.
pub fn ucla20_total(
    items: [Option<u8>; UCLA20_ITEMS],
    prorate: Prorate,
) -> Result<Option<f64>, ScoreError> {
    validate_items(UCLA20_NAME, &items, UCLA20_ITEM_MIN, UCLA20_ITEM_MAX)?;
    let mut scored = [None; UCLA20_ITEMS];
    for (i, (raw, out)) in items.iter().zip(scored.iter_mut()).enumerate() {
        if let Some(r) = *raw {
            *out = Some(ucla20_item_score(i + 1, r)?);
        }
    }
    Ok(additive_total(&scored, prorate))
}

// ---------------------------------------------------------------------------
// EQ-5D
// ---------------------------------------------------------------------------

/// An EQ-5D profile: levels of the five dimensions in the fixed order
/// MO (mobility), SC (self-care), UA (usual activities), PD (pain/discomfort),
/// AD (anxiety/depression); `None` = dimension not answered.
pub type Eq5dProfile = [Option<u8>; 5];

/// Number of EQ-5D dimensions.
pub const EQ5D_DIMENSIONS: usize = 5;

/// Short names of the EQ-5D dimensions in profile order.
pub const EQ5D_DIMENSION_NAMES: [&str; EQ5D_DIMENSIONS] = ["MO", "SC", "UA", "PD", "AD"];

/// Danish EQ-5D-5L decrements in thousandths, indexed `[dimension][level − 1]`
/// (dimensions MO, SC, UA, PD, AD; level 1 = 0). Jensen et al. (2021),
/// Applied Health Economics and Health Policy 19:579–591. The index is
/// `1 − Σ decrement`; there is no constant term.
pub const DK5L_DECREMENTS_MILLI: [[u32; 5]; EQ5D_DIMENSIONS] = [
    [0, 41, 54, 157, 220],  // MO
    [0, 35, 50, 144, 209],  // SC
    [0, 33, 40, 139, 174],  // UA
    [0, 48, 94, 381, 537],  // PD
    [0, 72, 191, 430, 618], // AD
];

/// Danish EQ-5D-3L TTO decrements in thousandths, indexed
/// `[dimension][level − 1]` (dimensions MO, SC, UA, PD, AD; level 1 = 0).
/// Wittrup-Jensen et al. (2009), Scand J Public Health 37(5):459–466.
pub const DK3L_DECREMENTS_MILLI: [[u32; 3]; EQ5D_DIMENSIONS] = [
    [0, 53, 411], // MO
    [0, 63, 192], // SC
    [0, 48, 144], // UA
    [0, 62, 396], // PD
    [0, 68, 367], // AD
];

/// Constant of the Danish EQ-5D-3L TTO value set in thousandths (0.114),
/// subtracted once if any dimension is above level 1. Wittrup-Jensen et al.
/// (2009), Scand J Public Health 37(5):459–466.
pub const DK3L_CONSTANT_MILLI: u32 = 114;

/// EQ-5D value set (country tariff) used to turn a profile into an index.
///
/// Parsed from / serialised as `"dk-5l"` and `"dk-3l"` (see
/// [`ValueSet::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ValueSet {
    /// Danish EQ-5D-5L value set, Jensen et al. (2021), Applied Health
    /// Economics and Health Policy 19:579–591. Levels 1–5; index range
    /// −0.758 (55555) to 1 (11111). The default.
    #[default]
    #[serde(rename = "dk-5l")]
    Dk5L,
    /// Danish EQ-5D-3L TTO value set, Wittrup-Jensen et al. (2009), Scand J
    /// Public Health 37(5):459–466. Levels 1–3; index range −0.624 (33333)
    /// to 1 (11111).
    #[serde(rename = "dk-3l")]
    Dk3L,
}

impl ValueSet {
    /// Parse a value-set name: `"dk-5l"` or `"dk-3l"` (case-insensitive,
    /// surrounding whitespace ignored, `_` accepted in place of `-`).
    pub fn parse(s: &str) -> Result<Self, ScoreError> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "dk-5l" => Ok(ValueSet::Dk5L),
            "dk-3l" => Ok(ValueSet::Dk3L),
            _ => Err(ScoreError::UnknownValueSet(s.to_string())),
        }
    }

    /// Canonical name (`"dk-5l"` / `"dk-3l"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueSet::Dk5L => "dk-5l",
            ValueSet::Dk3L => "dk-3l",
        }
    }

    /// Instrument name used in errors (`"EQ-5D-5L"` / `"EQ-5D-3L"`).
    pub fn instrument(self) -> &'static str {
        match self {
            ValueSet::Dk5L => "EQ-5D-5L",
            ValueSet::Dk3L => "EQ-5D-3L",
        }
    }

    /// Number of levels per dimension (5 or 3).
    pub fn levels(self) -> u8 {
        match self {
            ValueSet::Dk5L => 5,
            ValueSet::Dk3L => 3,
        }
    }

    /// Constant subtracted once when any dimension is above level 1
    /// (0 for the Danish 5L set, 0.114 for the Danish 3L TTO set).
    pub fn constant(self) -> f64 {
        f64::from(self.constant_milli()) / 1000.0
    }

    fn constant_milli(self) -> u32 {
        match self {
            ValueSet::Dk5L => 0,
            ValueSet::Dk3L => DK3L_CONSTANT_MILLI,
        }
    }

    /// Decrement in thousandths; `dim` and `level` must already be valid.
    fn decrement_milli(self, dim: usize, level: u8) -> u32 {
        let l = usize::from(level.saturating_sub(1));
        match self {
            ValueSet::Dk5L => DK5L_DECREMENTS_MILLI[dim][l],
            ValueSet::Dk3L => DK3L_DECREMENTS_MILLI[dim][l],
        }
    }

    fn check_level(self, dim: usize, level: u8) -> Result<(), ScoreError> {
        if (1..=self.levels()).contains(&level) {
            Ok(())
        } else {
            Err(ScoreError::OutOfRange {
                instrument: self.instrument(),
                item: dim + 1,
                value: f64::from(level),
                min: 1.0,
                max: f64::from(self.levels()),
            })
        }
    }
}

impl fmt::Display for ValueSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ValueSet {
    type Err = ScoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ValueSet::parse(s)
    }
}

/// Decrement of one EQ-5D dimension at one level under `value_set`
/// (level 1 → 0). `dimension` is the 0-based index in the order MO=0, SC=1,
/// UA=2, PD=3, AD=4 (see [`EQ5D_DIMENSION_NAMES`]).
///
/// The constant of the 3L set is *not* included; it is
/// [`ValueSet::constant`]. For a complete profile the index is
/// `1 − [constant if any level > 1] − Σ_d eq5d_decrement(vs, d, level_d)`,
/// which lets a simulator compute expected index values analytically.
/// Sources: Jensen et al. (2021) for 5L, Wittrup-Jensen et al. (2009) for 3L.
pub fn eq5d_decrement(value_set: ValueSet, dimension: usize, level: u8) -> Result<f64, ScoreError> {
    if dimension >= EQ5D_DIMENSIONS {
        return Err(ScoreError::InvalidDimension(dimension));
    }
    value_set.check_level(dimension, level)?;
    Ok(f64::from(value_set.decrement_milli(dimension, level)) / 1000.0)
}

/// EQ-5D index of a complete profile (all five levels known).
///
/// Index = `1 − [constant if any level > 1] − Σ decrements`, with the Danish
/// tables [`DK5L_DECREMENTS_MILLI`] (Jensen et al. 2021, no constant) or
/// [`DK3L_DECREMENTS_MILLI`] with constant 0.114 (Wittrup-Jensen et al.
/// 2009). The sum is formed exactly in thousandths and divided by 1000 once,
/// so the result is the `f64` nearest to the published three-decimal value
/// (e.g. 11112 under dk-5l gives exactly `0.928`).
///
/// A level outside 1–5 (5L) or 1–3 (3L) is an error.
pub fn eq5d_index_complete(
    levels: [u8; EQ5D_DIMENSIONS],
    value_set: ValueSet,
) -> Result<f64, ScoreError> {
    let mut sum: u32 = 0;
    for (dim, &level) in levels.iter().enumerate() {
        value_set.check_level(dim, level)?;
        sum += value_set.decrement_milli(dim, level);
    }
    if levels.iter().any(|&l| l > 1) {
        sum += value_set.constant_milli();
    }
    Ok((1000.0 - f64::from(sum)) / 1000.0)
}

/// EQ-5D index of a possibly incomplete profile.
///
/// Validates every answered dimension first (out-of-range level → `Err`),
/// then returns `Ok(None)` if any dimension is missing: value sets are not
/// additive over missing dimensions, so no prorating is ever applied to
/// EQ-5D. Otherwise returns [`eq5d_index_complete`]. Value sets: Danish 5L
/// (Jensen et al. 2021, Appl Health Econ Health Policy 19:579–591) and Danish
/// 3L TTO (Wittrup-Jensen et al. 2009, Scand J Public Health 37(5):459–466).
pub fn eq5d_index(profile: Eq5dProfile, value_set: ValueSet) -> Result<Option<f64>, ScoreError> {
    validate_items(value_set.instrument(), &profile, 1, value_set.levels())?;
    let mut levels = [0u8; EQ5D_DIMENSIONS];
    for (out, level) in levels.iter_mut().zip(profile.iter()) {
        match *level {
            Some(l) => *out = l,
            None => return Ok(None),
        }
    }
    eq5d_index_complete(levels, value_set).map(Some)
}

// ---------------------------------------------------------------------------
// EQ VAS
// ---------------------------------------------------------------------------

/// Instrument name used in errors for the EQ VAS.
pub const EQ_VAS_NAME: &str = "EQ VAS";
/// Lowest EQ VAS value ("worst health you can imagine").
pub const EQ_VAS_MIN: f64 = 0.0;
/// Highest EQ VAS value ("best health you can imagine").
pub const EQ_VAS_MAX: f64 = 100.0;

/// EQ visual analogue scale (EuroQol EQ-5D user guides): self-rated health
/// 0–100, passed through unchanged after validation. `None` stays `None`;
/// a value outside 0–100 or a non-finite value (NaN, ±∞) is an error.
pub fn eq_vas(v: Option<f64>) -> Result<Option<f64>, ScoreError> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && (EQ_VAS_MIN..=EQ_VAS_MAX).contains(&x) => Ok(Some(x)),
        Some(x) => Err(ScoreError::OutOfRange {
            instrument: EQ_VAS_NAME,
            item: 1,
            value: x,
            min: EQ_VAS_MIN,
            max: EQ_VAS_MAX,
        }),
    }
}

#[cfg(test)]
mod tests;
