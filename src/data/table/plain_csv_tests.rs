use std::collections::BTreeSet;

use super::super::{csv_frame, to_dataset, TableSource};
use super::*;

fn names(wanted: &[&str]) -> Vec<String> {
    wanted.iter().map(|s| s.to_string()).collect()
}

/// The columns the general route (polars' frame, then `to_dataset`) makes of `text`.
fn general(text: &str, wanted: &[&str]) -> Vec<ColumnData> {
    let (frame, _) = csv_frame(text.as_bytes(), "t.csv").expect("the general route reads it");
    let data = to_dataset(
        &frame,
        &names(wanted),
        &TableSource::new("t.csv"),
        &BTreeSet::new(),
    )
    .expect("the general route converts it");
    wanted
        .iter()
        .map(|w| data.get(w).expect("a wanted column").clone())
        .collect()
}

fn plain(text: &str, wanted: &[&str]) -> Option<Vec<ColumnData>> {
    let data = read_plain_csv(text.as_bytes(), &names(wanted))?;
    Some(
        wanted
            .iter()
            .map(|w| data.get(w).expect("a wanted column").clone())
            .collect(),
    )
}

/// Bit for bit, as `PartialEq` of floats would let −0 pass for +0.
fn same_bits(a: &[ColumnData], b: &[ColumnData]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (ColumnData::Numeric(u), ColumnData::Numeric(v)) => {
                u.len() == v.len() && u.iter().zip(v).all(|(p, q)| p.to_bits() == q.to_bits())
            }
            _ => x == y,
        })
}

fn assert_same(text: &str, wanted: &[&str]) {
    let fast = plain(text, wanted).expect("a plain file takes the fast route");
    let slow = general(text, wanted);
    assert!(
        same_bits(&fast, &slow),
        "{text}\nfast {fast:?}\ngeneral {slow:?}"
    );
}

#[test]
fn plain_files_give_the_general_routes_columns_to_the_bit() {
    assert_same(
        "id,t,x,g\n1,0,1.5,b\n2,1,-0.25,a\n3,0,7,b\n",
        &["t", "x", "g", "id"],
    );
    // Integers only (`-0` is 0 there), decimals, long decimals (the slow parse), a
    // leading dot, and no line end after the last row.
    assert_same(
        "a,b,c\n-0,.5,0.1234567890123456789\n12,-.75,2.5e0x0\n",
        &["a"],
    );
    assert_same(
        "a,b,c\n-0,.5,0.1234567890123456789\n12,-.75,3.14159265358979323846",
        &["a", "b", "c"],
    );
    assert_same("x,y\n-0.0,1\n0.1,2\n", &["x"]);
    assert_same("x,y\n123456789012345678,1\n-5,2\n", &["x", "y"]);
    // Labels in sorted byte order, one part of the file at a time.
    let mut many = String::from("id,treat,region\n");
    for i in 0..5000 {
        let region = ["north", "South", "east", "west-x", "m.n"][i * 7 % 5];
        many.push_str(&format!("{i},{},{region}\n", i % 3 % 2));
    }
    assert_same(&many, &["treat", "region", "id"]);
    // A decimal first met after 10,000 integers: polars infers again from every row.
    let mut late = String::from("x,y\n");
    for i in 0..10_050 {
        late.push_str(&format!("{i},a\n"));
    }
    late.push_str("0.5,b\n");
    assert_same(&late, &["x", "y"]);
}

#[test]
fn anything_not_plain_takes_the_general_route() {
    let declined = [
        ("x,y\n1,\"a\"\n", "a quote"),
        ("x,y\r\n1,a\r\n", "a carriage return"),
        ("x,y\n1,a\n\n2,b\n", "a blank line"),
        ("x,y\n\n1,a\n", "a blank line after the header"),
        ("x,y\n1,a\n2,b\n\n", "a blank line at the end"),
        ("x,y\n1,NA\n", "a missing value"),
        ("x,y\n1,\n", "an empty cell"),
        ("x,y\n1,a,3\n", "a field too many"),
        ("x,y\n1\n", "a field too few"),
        ("x,x\n1,2\n", "a repeated name"),
        ("x, y\n1,2\n", "a name with a space"),
        ("x,y\n1,TRUE\n", "a logical"),
        ("x,y\n1,NaN\n", "a float without digits"),
        ("x,y\n1,-inf\n", "an infinity"),
        ("x,y\n1,1e5\n", "an exponent"),
        ("x,y\n1,+5\n", "a plus sign"),
        ("x,y\n1,5.\n", "a trailing dot"),
        ("x,y\n1,a\n2,3\n", "text and numbers in one column"),
        ("x,y\n-0,1\n0.5,2\n", "an integer -0 among decimals"),
        ("x,y\n1234567890123456789,1\n", "an integer of 19 digits"),
        ("x,y\n1,é\n", "a byte that is not ASCII"),
        ("x,y\n", "no rows"),
        ("x;y\n1;2\n", "a semicolon"),
        ("x,z\n1,2\n", "a wanted column not in the header"),
    ];
    for (text, why) in declined {
        assert!(plain(text, &["x", "y"]).is_none(), "{why}: {text:?}");
    }
}

#[test]
fn many_distinct_labels_take_the_general_route() {
    let mut text = String::from("x,y\n");
    for i in 0..=MAX_LABELS {
        let label: String = (0..3)
            .map(|k| char::from(b'a' + ((i / 26usize.pow(k)) % 26) as u8))
            .collect();
        text.push_str(&format!("{i},{label}\n"));
    }
    assert!(plain(&text, &["x", "y"]).is_none());
    assert!(plain(&text, &["x"]).is_some());
}

#[test]
fn parts_end_after_line_ends_and_cover_the_data() {
    let data = b"1,a\n22,bb\n333,ccc\n4444,dddd";
    for n in 1..12 {
        let parts = line_aligned_parts(data, n);
        assert_eq!(parts.first().map(|p| p.start), Some(0));
        assert_eq!(parts.last().map(|p| p.end), Some(data.len()));
        for w in parts.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert_eq!(data[w[0].end - 1], b'\n');
        }
    }
}
