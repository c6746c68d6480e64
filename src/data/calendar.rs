//! The calendar of the data layer: dates as days since 1970-01-01 (the physical value of
//! a polars `Date`), converted to and from proleptic Gregorian civil dates and ISO
//! `YYYY-MM-DD` text.
//!
//! Extracts, plans and the simulator all count in days, so one set of conversions serves
//! them all; the arithmetic is H. Hinnant's "chrono-compatible low-level date
//! algorithms" (`days_from_civil`, `civil_from_days`), which are exact for every date
//! an `i32` day count can hold and agree with `chrono` (see the tests).

/// Days since 1970-01-01 of the proleptic Gregorian date `y`-`m`-`d` (Hinnant's
/// `days_from_civil`). `m` is 1–12 and `d` 1–31; a day past the month's end rolls into
/// the next month.
#[inline]
pub const fn days_from_civil(y: i32, m: i32, d: i32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
#[inline]
pub const fn civil_from_days(z: i32) -> (i32, i32, i32) {
    let z = z + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days in month `m` (1–12) of year `y`.
#[inline]
fn days_in_month(y: i32, m: i32) -> i32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of an ISO date `YYYY-MM-DD`, or `None` if it is not one (wrong
/// shape, or a day that does not exist such as 2023-02-29).
#[inline]
pub fn parse_iso_date(text: &str) -> Option<i32> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |s: &[u8]| -> Option<i32> {
        s.iter().try_fold(0i32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i32::from(c - b'0'))
        })
    };
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// The ISO date `YYYY-MM-DD` of a day count.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 of a `chrono` date.
#[inline]
pub fn days_from_date(date: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    days_from_civil(date.year(), date.month() as i32, date.day() as i32)
}

/// The `chrono` date of a day count since 1970-01-01 (`None` beyond chrono's range of
/// about ±262,000 years).
pub fn date_from_days(days: i32) -> Option<chrono::NaiveDate> {
    let (y, m, d) = civil_from_days(days);
    chrono::NaiveDate::from_ymd_opt(y, m as u32, d as u32)
}

/// Completed years of age on `day` for someone born on `birth` (the birthday counts from
/// its own day; someone born on 29 February has a birthday on 1 March in other years).
#[inline]
pub fn age_on(birth: i32, day: i32) -> i32 {
    let (by, bm, bd) = civil_from_days(birth);
    let (y, m, d) = civil_from_days(day);
    y - by - i32::from((m, d) < (bm, bd))
}

/// The first day of the calendar month that holds `day`.
#[inline]
pub const fn first_of_month(day: i32) -> i32 {
    let (y, m, _) = civil_from_days(day);
    days_from_civil(y, m, 1)
}

#[cfg(test)]
mod tests;
