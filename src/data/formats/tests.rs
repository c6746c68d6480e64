use super::temporal::*;
use super::*;

#[test]
fn sas_formats_are_classified_as_haven_does() {
    assert_eq!(sas_numeric_kind(Some("DATE")), ValueKind::Date);
    assert_eq!(sas_numeric_kind(Some("ddmmyy")), ValueKind::Date);
    assert_eq!(sas_numeric_kind(Some("YYMMDDD10.")), ValueKind::Date);
    assert_eq!(sas_numeric_kind(Some("WEEKDATX")), ValueKind::Number);
    assert_eq!(sas_numeric_kind(Some("E8601DA")), ValueKind::Date);
    assert_eq!(sas_numeric_kind(Some("DATETIME")), ValueKind::DateTime);
    assert_eq!(sas_numeric_kind(Some("E8601DT")), ValueKind::DateTime);
    assert_eq!(sas_numeric_kind(Some("TIME")), ValueKind::Time);
    // Formats haven leaves numeric stay numbers: a month name is not a date.
    assert_eq!(sas_numeric_kind(Some("MONNAME")), ValueKind::Number);
    assert_eq!(sas_numeric_kind(Some("BEST")), ValueKind::Number);
    assert_eq!(sas_numeric_kind(None), ValueKind::Number);
}

#[test]
fn stata_formats_are_classified_as_haven_does() {
    assert_eq!(stata_numeric_kind("%td"), ValueKind::Date);
    assert_eq!(stata_numeric_kind("%tdDD/NN/CCYY"), ValueKind::Date);
    assert_eq!(stata_numeric_kind("%-td"), ValueKind::Date);
    assert_eq!(stata_numeric_kind("%d"), ValueKind::Date);
    assert_eq!(stata_numeric_kind("%tc"), ValueKind::DateTime);
    assert_eq!(stata_numeric_kind("%tC"), ValueKind::DateTime);
    assert_eq!(stata_numeric_kind("%9.0g"), ValueKind::Number);
    assert_eq!(stata_numeric_kind("%10.2f"), ValueKind::Number);
    assert_eq!(stata_numeric_kind("%tm"), ValueKind::Number);
}

#[test]
fn epochs_convert_from_1960_to_1970() {
    assert_eq!(days_1960_to_unix(0.0), Some(-3653));
    assert_eq!(days_1960_to_unix(3653.0), Some(0));
    // A fractional day belongs to the day it falls in, also before 1960.
    assert_eq!(days_1960_to_unix(-0.5), Some(-3654));
    assert_eq!(days_1960_to_unix(f64::NAN), None);
    assert_eq!(seconds_1960_to_unix_micros(315_619_200.0), Some(0));
    assert_eq!(seconds_1960_to_unix_micros(315_619_201.5), Some(1_500_000));
    assert_eq!(millis_1960_to_unix_micros(315_619_200_000.0), Some(0));
}

#[test]
fn package_formats_come_from_the_extension() {
    use std::path::Path;
    assert_eq!(
        PackageFormat::from_path(Path::new("bef2019.SAS7BDAT")),
        Some(PackageFormat::Sas7bdat)
    );
    assert_eq!(
        PackageFormat::from_path(Path::new("x.dta")),
        Some(PackageFormat::Stata)
    );
    assert_eq!(PackageFormat::from_path(Path::new("x.csv")), None);
}
