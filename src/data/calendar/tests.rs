use super::*;

#[test]
fn iso_dates_round_trip_and_reject_impossible_days() {
    assert_eq!(parse_iso_date("1970-01-01"), Some(0));
    assert_eq!(parse_iso_date("2000-03-01"), Some(11_017));
    assert_eq!(parse_iso_date("2024-02-29"), Some(19_782));
    assert_eq!(parse_iso_date("2023-02-29"), None);
    assert_eq!(parse_iso_date("2024-13-01"), None);
    assert_eq!(parse_iso_date("24-01-01"), None);
    assert_eq!(parse_iso_date("2024/01/01"), None);
    for days in (-40_000..60_000).step_by(37) {
        let s = format_date(days);
        assert_eq!(parse_iso_date(&s), Some(days), "{s}");
        let chrono_days = chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map(days_from_date)
            .ok();
        assert_eq!(chrono_days, Some(days));
    }
}

#[test]
fn calendar_helpers_agree_with_chrono() {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let mut d = chrono::NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
    let end = chrono::NaiveDate::from_ymd_opt(2101, 3, 1).unwrap();
    while d < end {
        use chrono::Datelike;
        let z = (d - epoch).num_days() as i32;
        let (year, month, day) = (d.year(), d.month() as i32, d.day() as i32);
        assert_eq!(days_from_civil(year, month, day), z);
        assert_eq!(civil_from_days(z), (year, month, day));
        assert_eq!(first_of_month(z), days_from_civil(year, month, 1));
        d += chrono::Duration::days(1);
    }
    let birth = days_from_civil(2006, 3, 1);
    assert_eq!(age_on(birth, days_from_civil(2024, 2, 29)), 17);
    assert_eq!(age_on(birth, days_from_civil(2024, 3, 1)), 18);
}
