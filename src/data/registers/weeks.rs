//! ISO weeks: the fee weeks of the health insurance register and DREAM's weekly columns.

use crate::data::calendar::{civil_from_days, days_from_civil};

/// Day of the week, Monday = 0 (1970-01-01 was a Thursday).
pub fn weekday(day: i32) -> i32 {
    (day + 3).rem_euclid(7)
}

/// The Monday of ISO week `week` of ISO year `year`.
pub fn monday_of(year: i32, week: i32) -> i32 {
    let jan4 = days_from_civil(year, 1, 4);
    jan4 - weekday(jan4) + 7 * (week - 1)
}

/// The ISO year and week of a day.
pub fn iso_week(day: i32) -> (i32, i32) {
    let thursday = day - weekday(day) + 3;
    let (year, _, _) = civil_from_days(thursday);
    (year, (thursday - days_from_civil(year, 1, 1)) / 7 + 1)
}

/// Number of ISO weeks in a year (52 or 53).
pub fn weeks_in(year: i32) -> i32 {
    iso_week(days_from_civil(year, 12, 28)).1
}

/// The fee week YYWW as (year, week), if it names a week that exists.
pub fn fee_week(value: i64) -> Result<(i32, i32), String> {
    if !(0..10_000).contains(&value) {
        return Err(format!("{value} is not a fee week YYWW"));
    }
    let year = 2000 + (value / 100) as i32;
    let year = if year > 2090 { year - 100 } else { year };
    let week = (value % 100) as i32;
    let weeks = weeks_in(year);
    if week < 1 || week > weeks {
        return Err(format!(
            "fee week {value:04}: week {week} of {year} does not exist ({year} has {weeks} ISO weeks)"
        ));
    }
    Ok((year, week))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks_of_known_days() {
        // 2023-01-01 is a Sunday in week 52 of 2022; 2026 has 53 weeks, 2023 has 52.
        assert_eq!(iso_week(days_from_civil(2023, 1, 1)), (2022, 52));
        assert_eq!(iso_week(days_from_civil(2023, 1, 2)), (2023, 1));
        assert_eq!(iso_week(days_from_civil(2020, 12, 31)), (2020, 53));
        assert_eq!(weeks_in(2026), 53);
        assert_eq!(weeks_in(2023), 52);
        assert_eq!(monday_of(2024, 1), days_from_civil(2024, 1, 1));
        assert_eq!(monday_of(2025, 1), days_from_civil(2024, 12, 30));
        assert_eq!(fee_week(2401), Ok((2024, 1)));
        assert!(fee_week(2353).is_err());
        assert!(fee_week(2400).is_err());
        for day in days_from_civil(2019, 1, 1)..days_from_civil(2027, 1, 1) {
            let (y, w) = iso_week(day);
            assert_eq!(monday_of(y, w), day - weekday(day));
        }
    }
}
