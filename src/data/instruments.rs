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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValueSet {
    /// Danish EQ-5D-5L value set, Jensen et al. (2021), Applied Health
    /// Economics and Health Policy 19:579–591. Levels 1–5; index range
    /// −0.758 (55555) to 1 (11111).
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

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn round3(x: f64) -> f64 {
        (x * 1000.0).round() / 1000.0
    }

    /// Digits of a state written as e.g. 13224 → [1, 3, 2, 2, 4].
    fn state(code: u32) -> [u8; 5] {
        let mut out = [0u8; 5];
        let mut c = code;
        for i in (0..5).rev() {
            out[i] = (c % 10) as u8;
            c /= 10;
        }
        assert_eq!(c, 0, "state code {code} has more than five digits");
        out
    }

    fn profile(code: u32) -> Eq5dProfile {
        state(code).map(Some)
    }

    fn assert_check(vs: ValueSet, code: u32, expected: f64) {
        let v = eq5d_index(profile(code), vs).unwrap().unwrap();
        assert_eq!(round3(v), expected, "{vs} {code}: got {v}");
        assert!(
            (v - expected).abs() < 1e-12,
            "{vs} {code}: got {v}, expected {expected}"
        );
        let c = eq5d_index_complete(state(code), vs).unwrap();
        assert_eq!(c, v);
    }

    // Independent copies of the published tables, written as decimals
    // (rows MO, SC, UA, PD, AD; columns levels 2..=5 / 2..=3).
    const T5L: [[f64; 4]; 5] = [
        [0.041, 0.054, 0.157, 0.220],
        [0.035, 0.050, 0.144, 0.209],
        [0.033, 0.040, 0.139, 0.174],
        [0.048, 0.094, 0.381, 0.537],
        [0.072, 0.191, 0.430, 0.618],
    ];
    const T3L: [[f64; 2]; 5] = [
        [0.053, 0.411],
        [0.063, 0.192],
        [0.048, 0.144],
        [0.062, 0.396],
        [0.068, 0.367],
    ];
    const C3L: f64 = 0.114;

    fn expected_5l(levels: [u8; 5]) -> f64 {
        let mut v = 1.0;
        for (d, &l) in levels.iter().enumerate() {
            if l > 1 {
                v -= T5L[d][usize::from(l) - 2];
            }
        }
        v
    }

    fn expected_3l(levels: [u8; 5]) -> f64 {
        let mut v = 1.0;
        if levels.iter().any(|&l| l != 1) {
            v -= C3L;
        }
        for (d, &l) in levels.iter().enumerate() {
            if l > 1 {
                v -= T3L[d][usize::from(l) - 2];
            }
        }
        v
    }

    /// All states with `n` levels per dimension, in lexicographic order.
    fn all_states(n: u8) -> Vec<[u8; 5]> {
        let mut out = Vec::new();
        for a in 1..=n {
            for b in 1..=n {
                for c in 1..=n {
                    for d in 1..=n {
                        for e in 1..=n {
                            out.push([a, b, c, d, e]);
                        }
                    }
                }
            }
        }
        out
    }

    // ----- EQ-5D-5L ------------------------------------------------------

    #[test]
    fn dk5l_published_checks() {
        assert_check(ValueSet::Dk5L, 11111, 1.0);
        assert_check(ValueSet::Dk5L, 11112, 0.928);
        assert_check(ValueSet::Dk5L, 11123, 0.761);
        assert_check(ValueSet::Dk5L, 13224, 0.439);
        assert_check(ValueSet::Dk5L, 55555, -0.758);
    }

    #[test]
    fn dk5l_exact_literals() {
        // Summing in thousandths gives the nearest f64 to the decimal value.
        assert_eq!(
            eq5d_index(profile(11112), ValueSet::Dk5L).unwrap(),
            Some(0.928)
        );
        assert_eq!(
            eq5d_index(profile(11123), ValueSet::Dk5L).unwrap(),
            Some(0.761)
        );
        assert_eq!(
            eq5d_index(profile(13224), ValueSet::Dk5L).unwrap(),
            Some(0.439)
        );
        assert_eq!(
            eq5d_index(profile(55555), ValueSet::Dk5L).unwrap(),
            Some(-0.758)
        );
        assert_eq!(
            eq5d_index(profile(11111), ValueSet::Dk5L).unwrap(),
            Some(1.0)
        );
    }

    #[test]
    fn dk5l_all_3125_states_match_independent_formula() {
        let states = all_states(5);
        assert_eq!(states.len(), 3125);
        let mut min = (f64::INFINITY, [0u8; 5]);
        let mut max = (f64::NEG_INFINITY, [0u8; 5]);
        for s in states {
            let got = eq5d_index(s.map(Some), ValueSet::Dk5L).unwrap().unwrap();
            let want = expected_5l(s);
            assert!((got - want).abs() < 1e-12, "{s:?}: got {got}, want {want}");
            if got < min.0 {
                min = (got, s);
            }
            if got > max.0 {
                max = (got, s);
            }
        }
        assert_eq!(min.1, [5, 5, 5, 5, 5]);
        assert!((min.0 - (-0.758)).abs() < 1e-12);
        assert_eq!(max.1, [1, 1, 1, 1, 1]);
        assert_eq!(max.0, 1.0);
    }

    #[test]
    fn dk5l_worsening_a_dimension_never_raises_the_index() {
        for s in all_states(5) {
            let v = eq5d_index_complete(s, ValueSet::Dk5L).unwrap();
            for d in 0..5 {
                if s[d] < 5 {
                    let mut w = s;
                    w[d] += 1;
                    let vw = eq5d_index_complete(w, ValueSet::Dk5L).unwrap();
                    assert!(vw < v, "{s:?} -> {w:?}: {v} -> {vw}");
                }
            }
        }
    }

    #[test]
    fn dk5l_rejects_levels_outside_1_to_5() {
        let mut p = profile(11111);
        p[2] = Some(6);
        assert_eq!(
            eq5d_index(p, ValueSet::Dk5L),
            Err(ScoreError::OutOfRange {
                instrument: "EQ-5D-5L",
                item: 3,
                value: 6.0,
                min: 1.0,
                max: 5.0
            })
        );
        p[2] = Some(0);
        assert!(matches!(
            eq5d_index(p, ValueSet::Dk5L),
            Err(ScoreError::OutOfRange { item: 3, .. })
        ));
        assert!(eq5d_index_complete([1, 1, 1, 1, 0], ValueSet::Dk5L).is_err());
        assert!(eq5d_index_complete([1, 1, 1, 1, 255], ValueSet::Dk5L).is_err());
    }

    // ----- EQ-5D-3L ------------------------------------------------------

    #[test]
    fn dk3l_published_checks() {
        assert_check(ValueSet::Dk3L, 11111, 1.0);
        assert_check(ValueSet::Dk3L, 12111, 0.823);
        assert_check(ValueSet::Dk3L, 11112, 0.818);
        assert_check(ValueSet::Dk3L, 33333, -0.624);
    }

    #[test]
    fn dk3l_constant_applies_only_when_not_full_health() {
        // 11111 has no constant; every other state has exactly one.
        assert_eq!(
            eq5d_index_complete([1, 1, 1, 1, 1], ValueSet::Dk3L).unwrap(),
            1.0
        );
        let v = eq5d_index_complete([2, 1, 1, 1, 1], ValueSet::Dk3L).unwrap();
        assert!((v - (1.0 - 0.114 - 0.053)).abs() < 1e-12);
        let v = eq5d_index_complete([2, 2, 1, 1, 1], ValueSet::Dk3L).unwrap();
        assert!((v - (1.0 - 0.114 - 0.053 - 0.063)).abs() < 1e-12);
    }

    #[test]
    fn dk3l_all_243_states_match_independent_formula() {
        let states = all_states(3);
        assert_eq!(states.len(), 243);
        let mut min = (f64::INFINITY, [0u8; 5]);
        for s in states {
            let got = eq5d_index(s.map(Some), ValueSet::Dk3L).unwrap().unwrap();
            let want = expected_3l(s);
            assert!((got - want).abs() < 1e-12, "{s:?}: got {got}, want {want}");
            if got < min.0 {
                min = (got, s);
            }
        }
        assert_eq!(min.1, [3, 3, 3, 3, 3]);
        assert!((min.0 - (-0.624)).abs() < 1e-12);
    }

    #[test]
    fn dk3l_rejects_level_4() {
        let p = [Some(1), Some(1), Some(1), Some(4), Some(1)];
        assert_eq!(
            eq5d_index(p, ValueSet::Dk3L),
            Err(ScoreError::OutOfRange {
                instrument: "EQ-5D-3L",
                item: 4,
                value: 4.0,
                min: 1.0,
                max: 3.0
            })
        );
        assert!(eq5d_index_complete([4, 1, 1, 1, 1], ValueSet::Dk3L).is_err());
        assert!(eq5d_decrement(ValueSet::Dk3L, 0, 4).is_err());
        // The same profile is valid under the 5L value set.
        assert!(eq5d_index(p, ValueSet::Dk5L).unwrap().is_some());
    }

    // ----- EQ-5D missing data and decrement helper ------------------------

    #[test]
    fn eq5d_missing_dimension_is_missing_never_prorated() {
        for vs in [ValueSet::Dk5L, ValueSet::Dk3L] {
            for d in 0..5 {
                let mut p = profile(11111);
                p[d] = None;
                assert_eq!(eq5d_index(p, vs), Ok(None), "{vs} missing dim {d}");
            }
            assert_eq!(eq5d_index([None; 5], vs), Ok(None));
        }
    }

    #[test]
    fn eq5d_out_of_range_reported_even_with_missing_dimension() {
        let p = [None, Some(1), Some(9), Some(1), Some(1)];
        assert!(matches!(
            eq5d_index(p, ValueSet::Dk5L),
            Err(ScoreError::OutOfRange { item: 3, .. })
        ));
    }

    #[test]
    fn eq5d_decrement_matches_tables_and_reconstructs_index() {
        for d in 0..5 {
            assert_eq!(eq5d_decrement(ValueSet::Dk5L, d, 1).unwrap(), 0.0);
            assert_eq!(eq5d_decrement(ValueSet::Dk3L, d, 1).unwrap(), 0.0);
            for l in 2..=5u8 {
                let got = eq5d_decrement(ValueSet::Dk5L, d, l).unwrap();
                assert_eq!(got, T5L[d][usize::from(l) - 2], "5L dim {d} level {l}");
            }
            for l in 2..=3u8 {
                let got = eq5d_decrement(ValueSet::Dk3L, d, l).unwrap();
                assert_eq!(got, T3L[d][usize::from(l) - 2], "3L dim {d} level {l}");
            }
        }
        assert_eq!(ValueSet::Dk5L.constant(), 0.0);
        assert_eq!(ValueSet::Dk3L.constant(), 0.114);
        // Analytic reconstruction, as a simulator would do it.
        for vs in [ValueSet::Dk5L, ValueSet::Dk3L] {
            for s in all_states(vs.levels()) {
                let mut v = 1.0;
                if s.iter().any(|&l| l > 1) {
                    v -= vs.constant();
                }
                for (d, &l) in s.iter().enumerate() {
                    v -= eq5d_decrement(vs, d, l).unwrap();
                }
                let got = eq5d_index_complete(s, vs).unwrap();
                assert!((v - got).abs() < 1e-12, "{vs} {s:?}");
            }
        }
    }

    #[test]
    fn eq5d_decrement_rejects_bad_dimension_and_level() {
        assert_eq!(
            eq5d_decrement(ValueSet::Dk5L, 5, 2),
            Err(ScoreError::InvalidDimension(5))
        );
        assert!(eq5d_decrement(ValueSet::Dk5L, 0, 0).is_err());
        assert!(eq5d_decrement(ValueSet::Dk5L, 0, 6).is_err());
        assert!(eq5d_decrement(ValueSet::Dk5L, 4, 5).is_ok());
    }

    #[test]
    fn value_set_parse_display_and_serde() {
        assert_eq!(ValueSet::parse("dk-5l"), Ok(ValueSet::Dk5L));
        assert_eq!(ValueSet::parse("dk-3l"), Ok(ValueSet::Dk3L));
        assert_eq!("DK-5L".parse::<ValueSet>(), Ok(ValueSet::Dk5L));
        assert_eq!(" dk_3l ".parse::<ValueSet>(), Ok(ValueSet::Dk3L));
        assert_eq!(
            ValueSet::parse("uk-3l"),
            Err(ScoreError::UnknownValueSet("uk-3l".to_string()))
        );
        assert!(ValueSet::parse("").is_err());
        for vs in [ValueSet::Dk5L, ValueSet::Dk3L] {
            assert_eq!(vs.to_string().parse::<ValueSet>(), Ok(vs));
            let json = serde_json::to_string(&vs).unwrap();
            assert_eq!(json, format!("\"{}\"", vs.as_str()));
            assert_eq!(serde_json::from_str::<ValueSet>(&json).unwrap(), vs);
        }
        assert_eq!(ValueSet::Dk5L.levels(), 5);
        assert_eq!(ValueSet::Dk3L.levels(), 3);
    }

    // ----- UCLA-3 ---------------------------------------------------------

    #[test]
    fn ucla3_totals() {
        let t = |a: u8, b: u8, c: u8| ucla3_total([Some(a), Some(b), Some(c)], Prorate::None);
        assert_eq!(t(1, 1, 1), Ok(Some(3.0)));
        assert_eq!(t(3, 3, 3), Ok(Some(9.0)));
        assert_eq!(t(1, 2, 3), Ok(Some(6.0)));
        assert_eq!(t(3, 2, 2), Ok(Some(7.0)));
        // All 27 complete patterns: plain sum, within 3..=9.
        for a in 1..=3u8 {
            for b in 1..=3u8 {
                for c in 1..=3u8 {
                    let v = t(a, b, c).unwrap().unwrap();
                    assert_eq!(v, f64::from(a + b + c));
                    assert!((UCLA3_MIN_TOTAL..=UCLA3_MAX_TOTAL).contains(&v));
                }
            }
        }
    }

    #[test]
    fn ucla3_severity_threshold() {
        assert!(!ucla3_severe(6.0));
        assert!(!ucla3_severe(6.5));
        assert!(ucla3_severe(7.0));
        assert!(ucla3_severe(9.0));
        assert!(!ucla3_severe(f64::NAN));
        assert_eq!(UCLA3_SEVERE_THRESHOLD, 7.0);
        let total = ucla3_total([Some(2), Some(2), Some(3)], Prorate::None).unwrap();
        assert_eq!(severe(total), Some(true));
        let total = ucla3_total([Some(2), Some(2), Some(2)], Prorate::None).unwrap();
        assert_eq!(severe(total), Some(false));
        assert_eq!(severe(None), None);
    }

    #[test]
    fn ucla3_missing_item_is_missing_by_default() {
        assert_eq!(
            ucla3_total([Some(2), None, Some(3)], Prorate::None),
            Ok(None)
        );
        assert_eq!(
            ucla3_total([Some(2), None, Some(3)], Prorate::default()),
            Ok(None)
        );
        assert_eq!(ucla3_total([None; 3], Prorate::None), Ok(None));
        // MaxMissing(0) behaves like None.
        assert_eq!(
            ucla3_total([Some(2), None, Some(3)], Prorate::MaxMissing(0)),
            Ok(None)
        );
    }

    #[test]
    fn ucla3_prorating() {
        assert_eq!(
            ucla3_total([Some(2), None, Some(3)], Prorate::MaxMissing(1)),
            Ok(Some(7.5))
        );
        // Complete data unaffected by the policy.
        assert_eq!(
            ucla3_total([Some(2), Some(1), Some(3)], Prorate::MaxMissing(1)),
            Ok(Some(6.0))
        );
        // Two missing exceeds MaxMissing(1) ...
        assert_eq!(
            ucla3_total([None, None, Some(3)], Prorate::MaxMissing(1)),
            Ok(None)
        );
        // ... but is allowed by MaxMissing(2): mean 3 × 3 items = 9.
        assert_eq!(
            ucla3_total([None, None, Some(3)], Prorate::MaxMissing(2)),
            Ok(Some(9.0))
        );
        // Non-terminating mean: (1 + 2) / 2 × 3 = 4.5; (2) × 3 = 6.
        assert_eq!(
            ucla3_total([Some(1), Some(2), None], Prorate::MaxMissing(1)),
            Ok(Some(4.5))
        );
        assert_eq!(
            ucla3_total([None, Some(2), None], Prorate::MaxMissing(5)),
            Ok(Some(6.0))
        );
        // Nothing answered is missing whatever the policy.
        assert_eq!(ucla3_total([None; 3], Prorate::MaxMissing(3)), Ok(None));
        assert_eq!(
            ucla3_total([None; 3], Prorate::MaxMissing(usize::MAX)),
            Ok(None)
        );
    }

    #[test]
    fn ucla3_out_of_range_is_error() {
        assert_eq!(
            ucla3_total([Some(1), Some(4), Some(1)], Prorate::None),
            Err(ScoreError::OutOfRange {
                instrument: "UCLA-3",
                item: 2,
                value: 4.0,
                min: 1.0,
                max: 3.0
            })
        );
        assert!(matches!(
            ucla3_total([Some(0), Some(1), Some(1)], Prorate::None),
            Err(ScoreError::OutOfRange { item: 1, .. })
        ));
        // Error wins over missingness and over prorating.
        assert!(ucla3_total([None, Some(1), Some(9)], Prorate::None).is_err());
        assert!(ucla3_total([None, Some(1), Some(9)], Prorate::MaxMissing(1)).is_err());
    }

    #[test]
    fn error_messages_are_informative() {
        let e = ucla3_total([Some(1), Some(4), Some(1)], Prorate::None).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("UCLA-3"), "{msg}");
        assert!(msg.contains("item 2"), "{msg}");
        assert!(msg.contains('4'), "{msg}");
        let msg = ValueSet::parse("xx").unwrap_err().to_string();
        assert!(msg.contains("xx") && msg.contains("dk-5l"), "{msg}");
    }

    // ----- UCLA-20 --------------------------------------------------------

    fn all20(v: u8) -> [Option<u8>; 20] {
        [Some(v); 20]
    }

    #[test]
    fn ucla20_reversed_items() {
        let expected = [1, 5, 6, 9, 10, 15, 16, 19, 20];
        assert_eq!(UCLA20_REVERSED, expected);
        let n = (1..=20).filter(|&i| ucla20_is_reversed(i)).count();
        assert_eq!(n, 9);
        assert!(!ucla20_is_reversed(2));
        assert!(!ucla20_is_reversed(0));
        assert!(!ucla20_is_reversed(21));
        assert_eq!(ucla20_item_score(1, 1), Ok(4));
        assert_eq!(ucla20_item_score(1, 4), Ok(1));
        assert_eq!(ucla20_item_score(20, 2), Ok(3));
        assert_eq!(ucla20_item_score(2, 1), Ok(1));
        assert_eq!(ucla20_item_score(2, 4), Ok(4));
        assert!(ucla20_item_score(2, 5).is_err());
        assert!(ucla20_item_score(0, 1).is_err());
        assert!(ucla20_item_score(21, 1).is_err());
    }

    #[test]
    fn ucla20_uniform_answers() {
        // All 1: reversed items become 4 → 9×4 + 11×1 = 47.
        assert_eq!(ucla20_total(all20(1), Prorate::None), Ok(Some(47.0)));
        // All 2: 9×3 + 11×2 = 49.
        assert_eq!(ucla20_total(all20(2), Prorate::None), Ok(Some(49.0)));
        // All 3: 9×2 + 11×3 = 51.
        assert_eq!(ucla20_total(all20(3), Prorate::None), Ok(Some(51.0)));
        // All 4: 9×1 + 11×4 = 53.
        assert_eq!(ucla20_total(all20(4), Prorate::None), Ok(Some(53.0)));
    }

    #[test]
    fn ucla20_extremes() {
        // Loneliest answers: reversed items raw 1, others raw 4 → 80.
        let mut hi = [Some(4u8); 20];
        let mut lo = [Some(1u8); 20];
        for &i in &UCLA20_REVERSED {
            hi[i - 1] = Some(1);
            lo[i - 1] = Some(4);
        }
        assert_eq!(ucla20_total(hi, Prorate::None), Ok(Some(UCLA20_MAX_TOTAL)));
        assert_eq!(ucla20_total(lo, Prorate::None), Ok(Some(UCLA20_MIN_TOTAL)));
    }

    #[test]
    fn ucla20_hand_worked_mixed_case() {
        // Raw answers cycle 1,2,3,4,1,2,3,4,... (item k → ((k−1) mod 4) + 1).
        // Reversed items (raw → 5−raw): 1:1→4, 5:1→4, 6:2→3, 9:1→4, 10:2→3,
        //   15:3→2, 16:4→1, 19:3→2, 20:4→1  → 24.
        // Other items: 2:2, 3:3, 4:4, 7:3, 8:4, 11:3, 12:4, 13:1, 14:2,
        //   17:1, 18:2 → 29.
        // Total 24 + 29 = 53.
        let raw: [Option<u8>; 20] = [
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
        ];
        assert_eq!(ucla20_total(raw, Prorate::None), Ok(Some(53.0)));

        // Second case: only item 1 (reversed) and item 2 (not reversed) differ
        // from "all 2" (total 49): item 1 raw 4 → 1 (was 3, −2), item 2 raw 4
        // → 4 (was 2, +2) → 49.
        let mut raw = all20(2);
        raw[0] = Some(4);
        raw[1] = Some(4);
        assert_eq!(ucla20_total(raw, Prorate::None), Ok(Some(49.0)));
        // And item 3 raw 1 (was 2, −1) → 48.
        raw[2] = Some(1);
        assert_eq!(ucla20_total(raw, Prorate::None), Ok(Some(48.0)));
    }

    #[test]
    fn ucla20_missing_and_prorating() {
        let mut raw = all20(1);
        raw[1] = None; // item 2, not reversed
        assert_eq!(ucla20_total(raw, Prorate::None), Ok(None));
        // Answered: 9×4 + 10×1 = 46 over 19 items → 46/19 × 20.
        assert_eq!(
            ucla20_total(raw, Prorate::MaxMissing(1)),
            Ok(Some(920.0 / 19.0))
        );
        let mut raw = all20(1);
        raw[0] = None; // item 1, reversed
                       // Answered: 8×4 + 11×1 = 43 over 19 → 43/19 × 20 (reverse scoring
                       // happens before the mean).
        assert_eq!(
            ucla20_total(raw, Prorate::MaxMissing(2)),
            Ok(Some(860.0 / 19.0))
        );
        raw[1] = None;
        raw[2] = None;
        assert_eq!(ucla20_total(raw, Prorate::MaxMissing(2)), Ok(None));
        // 3 missing: 8×4 + 9×1 = 41 over 17 → 41/17 × 20.
        let v = ucla20_total(raw, Prorate::MaxMissing(3)).unwrap().unwrap();
        assert!((v - 41.0 / 17.0 * 20.0).abs() < 1e-12);
        assert_eq!(ucla20_total([None; 20], Prorate::MaxMissing(20)), Ok(None));
    }

    #[test]
    fn ucla20_out_of_range_is_error() {
        let mut raw = all20(2);
        raw[19] = Some(5);
        assert_eq!(
            ucla20_total(raw, Prorate::None),
            Err(ScoreError::OutOfRange {
                instrument: "UCLA-20",
                item: 20,
                value: 5.0,
                min: 1.0,
                max: 4.0
            })
        );
        raw[19] = Some(0);
        raw[0] = None;
        assert!(ucla20_total(raw, Prorate::MaxMissing(1)).is_err());
    }

    // ----- EQ VAS and policy ---------------------------------------------

    #[test]
    fn eq_vas_passthrough_and_validation() {
        assert_eq!(eq_vas(None), Ok(None));
        assert_eq!(eq_vas(Some(0.0)), Ok(Some(0.0)));
        assert_eq!(eq_vas(Some(100.0)), Ok(Some(100.0)));
        assert_eq!(eq_vas(Some(55.5)), Ok(Some(55.5)));
        assert_eq!(
            eq_vas(Some(-1.0)),
            Err(ScoreError::OutOfRange {
                instrument: "EQ VAS",
                item: 1,
                value: -1.0,
                min: 0.0,
                max: 100.0
            })
        );
        assert!(eq_vas(Some(100.5)).is_err());
        assert!(eq_vas(Some(f64::NAN)).is_err());
        assert!(eq_vas(Some(f64::INFINITY)).is_err());
        assert!(eq_vas(Some(f64::NEG_INFINITY)).is_err());
    }

    #[test]
    fn prorate_policy_basics() {
        assert_eq!(Prorate::default(), Prorate::None);
        assert_eq!(Prorate::None.max_missing(), 0);
        assert_eq!(Prorate::MaxMissing(3).max_missing(), 3);
        let json = serde_json::to_string(&Prorate::MaxMissing(1)).unwrap();
        assert_eq!(
            serde_json::from_str::<Prorate>(&json).unwrap(),
            Prorate::MaxMissing(1)
        );
    }
}
