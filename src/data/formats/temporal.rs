//! Which display formats make a number a date, a date-time or a time, and the epoch
//! arithmetic. The format lists are R haven's (ReadStat's), so that a variable is a
//! date in `shine` exactly when it is one in R.

use super::ValueKind;

/// Days from 1960-01-01 (SAS and Stata's epoch) to 1970-01-01.
const DAYS_1960_TO_1970: i64 = 3653;
/// Seconds from 1960-01-01T00:00:00 to 1970-01-01T00:00:00.
const SECONDS_1960_TO_1970: i64 = DAYS_1960_TO_1970 * 86_400;

const SAS_DATE_FORMATS: &[&str] = &[
    "B8601DA", "DATE", "DDMMYY", "E8601DA", "IS8601DA", "MMDDYY", "WEEKDATE", "YYMMDD",
];
/// `DATEAMPM` is a date-time format too (SAS's documentation of formats by category);
/// haven 2.5.1 reads it as a date, which gives impossible years.
const SAS_DATETIME_FORMATS: &[&str] = &["B8601DT", "DATEAMPM", "DATETIME", "E8601DT", "IS8601DT"];
const SAS_TIME_FORMATS: &[&str] = &["B8601TM", "E8601TM", "HHMM", "IS8601TM", "TIME", "TIMEAMPM"];

/// The kind of a SAS numeric variable with display format `format` (the bare name, as
/// `DATE` in `DATE9.`).
pub fn sas_numeric_kind(format: Option<&str>) -> ValueKind {
    let Some(format) = format else {
        return ValueKind::Number;
    };
    let name = format
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
        .to_ascii_uppercase();
    // DDMMYY, MMDDYY and YYMMDD take a separator letter: DDMMYYB (blank), C (colon),
    // D (dash), N (none), P (period), S (slash).
    let separated = name.len() == 7
        && name.split_at_checked(6).is_some_and(|(base, sep)| {
            ["DDMMYY", "MMDDYY", "YYMMDD"].contains(&base) && "BCDNPS".contains(sep)
        });
    if SAS_DATE_FORMATS.contains(&name.as_str()) || separated {
        ValueKind::Date
    } else if SAS_DATETIME_FORMATS.contains(&name.as_str()) {
        ValueKind::DateTime
    } else if SAS_TIME_FORMATS.contains(&name.as_str()) {
        ValueKind::Time
    } else {
        ValueKind::Number
    }
}

/// The kind of a Stata numeric variable with display format `format` (`%td`,
/// `%tdDD/NN/CCYY`, `%d`, `%tc`, `%tC`, `%-td`, ...).
pub fn stata_numeric_kind(format: &str) -> ValueKind {
    let body = format
        .trim()
        .trim_start_matches('%')
        .trim_start_matches('-');
    // `%d...` is the date format of Stata releases before 10.
    let old_date = body
        .strip_prefix('d')
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit()));
    if body.starts_with("td") || old_date {
        ValueKind::Date
    } else if body.starts_with("tc") || body.starts_with("tC") {
        ValueKind::DateTime
    } else {
        ValueKind::Number
    }
}

/// Days since 1960-01-01 → days since 1970-01-01 (the whole day a fractional value
/// falls in); `None` for values no calendar date has.
pub fn days_1960_to_unix(days: f64) -> Option<i32> {
    let day = days.floor();
    if !day.is_finite() || day.abs() > 1e8 {
        return None;
    }
    i32::try_from(day as i64 - DAYS_1960_TO_1970).ok()
}

/// Seconds since 1960-01-01T00:00:00 → microseconds since 1970-01-01T00:00:00.
pub fn seconds_1960_to_unix_micros(seconds: f64) -> Option<i64> {
    micros_1960_to_unix((seconds * 1e6).round())
}

/// Milliseconds since 1960-01-01T00:00:00 (Stata `%tc`) → microseconds since 1970.
pub fn millis_1960_to_unix_micros(millis: f64) -> Option<i64> {
    micros_1960_to_unix((millis * 1e3).round())
}

fn micros_1960_to_unix(micros: f64) -> Option<i64> {
    if !micros.is_finite() || micros.abs() > 9e18 {
        return None;
    }
    (micros as i64).checked_sub(SECONDS_1960_TO_1970 * 1_000_000)
}
