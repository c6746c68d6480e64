use super::*;

fn parquet_bytes(mut frame: DataFrame) -> Vec<u8> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .finish(&mut frame)
        .expect("write parquet");
    bytes
}

#[test]
fn parquet_values_are_checked_with_rows_and_typed_columns_must_fit() {
    let dictionary = crate::data::dictionary::Dictionary::embedded();
    let def = dictionary.table(TableName::Persons);
    let frame = DataFrame::new(
        3,
        vec![
            Series::new("person_id".into(), ["a", "b", "c"]).into_column(),
            Series::new("sex".into(), ["F", "X", "M"]).into_column(),
            Series::new("birth_date".into(), [1000i32, 2000, -30_000])
                .cast(&DataType::Date)
                .expect("date")
                .into_column(),
            Series::new("origin".into(), ["danish", "danish", "immigrant"]).into_column(),
        ],
    )
    .expect("frame");
    let mut problems = Problems::default();
    let table = read_bytes(
        "p.parquet",
        parquet_bytes(frame),
        FileFormat::Parquet,
        TableName::Persons,
        def,
        &mut problems,
    )
    .expect("readable");
    assert_eq!(table.frame.height(), 3);
    let groups = problems.groups();
    let unknown = groups
        .iter()
        .find(|g| g.kind == ProblemKind::UnknownCode)
        .expect("unknown sex");
    assert_eq!(
        unknown.examples[0].location(),
        "p.parquet, row 3, column sex"
    );
    let range = groups
        .iter()
        .find(|g| g.kind == ProblemKind::OutOfRange)
        .expect("1887 birth");
    assert_eq!(
        range.examples[0].location(),
        "p.parquet, row 4, column birth_date"
    );

    let frame = DataFrame::new(
        1,
        vec![
            Series::new("person_id".into(), ["a"]).into_column(),
            Series::new("sex".into(), ["F"]).into_column(),
            Series::new("birth_date".into(), [1.5f64]).into_column(),
            Series::new("origin".into(), ["danish"]).into_column(),
        ],
    )
    .expect("frame");
    let mut problems = Problems::default();
    let read = read_bytes(
        "q.parquet",
        parquet_bytes(frame),
        FileFormat::Parquet,
        TableName::Persons,
        def,
        &mut problems,
    );
    assert!(read.is_none());
    assert_eq!(problems.total(ProblemKind::WrongColumnType), 1);
}

#[test]
fn decimals_accept_either_mark() {
    assert_eq!(parse_decimal("72,5"), Some(72.5));
    assert_eq!(parse_decimal("72.5"), Some(72.5));
    assert_eq!(parse_decimal("1.000,5"), None);
    assert_eq!(parse_decimal("abc"), None);
    assert_eq!(parse_decimal("inf"), None);
}

#[test]
fn delimiter_is_detected_from_the_header() {
    assert_eq!(detect_delimiter(b"a;b;c\n1,5;2;3\n"), b';');
    assert_eq!(detect_delimiter(b"a,b,c\n1;2,2,3\n"), b',');
    assert_eq!(detect_delimiter(b"\"a;x\",b\n"), b',');
}
