//! The main result tables as one Word document (`tables/tables.docx`).
//!
//! A .docx file is a zip archive of a few XML parts (ECMA-376, Office Open XML). The
//! document needs only three: the content types, the package relationships and the
//! body, so they are written here directly rather than through a crate that would bring
//! an image and compression stack into the build; the archive entries are stored
//! uncompressed. The cells are the same text as the Markdown tables and the HTML report
//! (the same disclosure control, estimates at their reported precision), and each table
//! is set in journal style: three horizontal rules (above the header, below it, below
//! the last row) and its notes, including the suppression marks, as footnotes.

use std::fmt::Write as _;

use super::disclosure::Rule;
use super::table::ResultTable;

/// The tables written to the Word document, in order, with their table numbers: those
/// absent from a run (the participation tables without a `participation` table, the
/// wild bootstrap when it is not asked for) are left out and the numbers close up.
pub const WORD_TABLES: [&str; 8] = [
    "table_one",
    "balance",
    "did_rate_ratios",
    "survey_changes",
    "participation",
    "participation_dose_response",
    "sensitivity",
    "did_linear_bootstrap",
];

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>\
<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
</Types>\n";

const PACKAGE_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
</Relationships>\n";

/// Font sizes in half points.
const BODY_SIZE: u32 = 18;
const NOTE_SIZE: u32 = 16;
/// A rule 0.75 pt wide (eighths of a point).
const RULE: &str = "w:val=\"single\" w:sz=\"6\" w:space=\"0\" w:color=\"000000\"";

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A cell holding a number (or a suppression mark) is right-aligned.
fn is_numeric(cell: &str) -> bool {
    cell.chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '<' || c == '−')
}

fn run(out: &mut String, text: &str, size: u32, bold: bool) {
    let b = if bold { "<w:b/>" } else { "" };
    let _ = write!(
        out,
        "<w:r><w:rPr>{b}<w:sz w:val=\"{size}\"/></w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>",
        escape(text)
    );
}

fn paragraph(out: &mut String, text: &str, size: u32, bold: bool, keep_next: bool) {
    let keep = if keep_next { "<w:keepNext/>" } else { "" };
    let _ = write!(
        out,
        "<w:p><w:pPr>{keep}<w:spacing w:before=\"0\" w:after=\"60\"/></w:pPr>"
    );
    run(out, text, size, bold);
    out.push_str("</w:p>");
}

/// One table row; `rule` draws the rule below the row (header and last row).
fn row(out: &mut String, cells: &[String], header: bool, rule: bool) {
    out.push_str("<w:tr>");
    if header {
        out.push_str("<w:trPr><w:tblHeader/></w:trPr>");
    }
    for cell in cells {
        let border = if rule {
            format!("<w:tcBorders><w:bottom {RULE}/></w:tcBorders>")
        } else {
            String::new()
        };
        let align = if !header && is_numeric(cell) {
            "right"
        } else {
            "left"
        };
        let _ = write!(
            out,
            "<w:tc><w:tcPr>{border}</w:tcPr><w:p><w:pPr><w:spacing w:before=\"20\" w:after=\"20\"/><w:jc w:val=\"{align}\"/></w:pPr>"
        );
        run(out, cell, BODY_SIZE, header);
        out.push_str("</w:p></w:tc>");
    }
    out.push_str("</w:tr>");
}

/// A title without its own table number ("Table 1. Characteristics…" → "Characteristics…"),
/// since the document numbers its tables.
pub fn unnumbered(title: &str) -> &str {
    title
        .strip_prefix("Table ")
        .and_then(|rest| rest.split_once(". "))
        .filter(|(n, _)| n.chars().all(|c| c.is_ascii_alphanumeric()))
        .map_or(title, |(_, rest)| rest)
}

fn table(out: &mut String, number: usize, t: &ResultTable, rule: Rule) {
    paragraph(
        out,
        &format!("Table {number}. {}", unnumbered(&t.title)),
        BODY_SIZE + 2,
        true,
        true,
    );
    let _ = write!(
        out,
        "<w:tbl><w:tblPr><w:tblW w:w=\"5000\" w:type=\"pct\"/><w:tblBorders><w:top {RULE}/><w:bottom {RULE}/></w:tblBorders><w:tblLayout w:type=\"autofit\"/></w:tblPr><w:tblGrid>"
    );
    for _ in &t.columns {
        out.push_str("<w:gridCol/>");
    }
    out.push_str("</w:tblGrid>");
    row(out, &t.columns, true, true);
    let cells = t.rendered(rule);
    for r in &cells {
        row(out, r, false, false);
    }
    out.push_str("</w:tbl>");
    for note in t.protected(rule.threshold).notes_after_disclosure(rule) {
        paragraph(out, &note, NOTE_SIZE, false, false);
    }
    paragraph(out, "", NOTE_SIZE, false, false);
}

/// The body: a heading, then every table of [`WORD_TABLES`] present in `tables`.
fn document(tables: &[ResultTable], rule: Rule, heading: &str) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>",
    );
    paragraph(&mut out, heading, 24, true, true);
    let chosen = WORD_TABLES
        .iter()
        .filter_map(|name| tables.iter().find(|t| t.name == *name));
    for (i, t) in chosen.enumerate() {
        table(&mut out, i + 1, t, rule);
    }
    // A4 portrait, 2 cm margins (twentieths of a point).
    out.push_str("<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1134\" w:right=\"1134\" w:bottom=\"1134\" w:left=\"1134\" w:header=\"567\" w:footer=\"567\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>\n");
    out
}

/// The Word document holding the tables of [`WORD_TABLES`] found in `tables`, after
/// disclosure control by `rule`.
pub fn tables_docx(tables: &[ResultTable], rule: impl Into<Rule>, heading: &str) -> Vec<u8> {
    let rule = rule.into();
    let mut zip = StoredZip::default();
    zip.add("[Content_Types].xml", CONTENT_TYPES.as_bytes());
    zip.add("_rels/.rels", PACKAGE_RELS.as_bytes());
    zip.add(
        "word/document.xml",
        document(tables, rule, heading).as_bytes(),
    );
    zip.finish()
}

/// CRC-32 (ISO 3309, the polynomial of zip and PNG), bit by bit: the parts are small.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

/// A zip archive with stored (uncompressed) entries and a fixed time stamp
/// (1980-01-01 00:00), so the same parts give the same bytes.
#[derive(Default)]
struct StoredZip {
    bytes: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

/// Version 2.0 of the zip format; names in UTF-8 (flag bit 11).
const VERSION: u16 = 20;
const UTF8_NAMES: u16 = 1 << 11;
const DOS_DATE: u16 = (1 << 5) | 1;

impl StoredZip {
    fn add(&mut self, name: &str, data: &[u8]) {
        let offset = self.bytes.len() as u32;
        let crc = crc32(data);
        let size = data.len() as u32;
        let name_len = name.len() as u16;
        let put16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
        let put32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
        let b = &mut self.bytes;
        put32(b, 0x0403_4b50);
        for x in [VERSION, UTF8_NAMES, 0, 0, DOS_DATE] {
            put16(b, x);
        }
        for x in [crc, size, size] {
            put32(b, x);
        }
        put16(b, name_len);
        put16(b, 0);
        b.extend_from_slice(name.as_bytes());
        b.extend_from_slice(data);
        let c = &mut self.central;
        put32(c, 0x0201_4b50);
        for x in [VERSION, VERSION, UTF8_NAMES, 0, 0, DOS_DATE] {
            put16(c, x);
        }
        for x in [crc, size, size] {
            put32(c, x);
        }
        for x in [name_len, 0, 0, 0, 0] {
            put16(c, x);
        }
        put32(c, 0);
        put32(c, offset);
        c.extend_from_slice(name.as_bytes());
        self.entries += 1;
    }

    fn finish(mut self) -> Vec<u8> {
        let offset = self.bytes.len() as u32;
        let size = self.central.len() as u32;
        self.bytes.append(&mut self.central);
        let b = &mut self.bytes;
        b.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        for x in [0u16, 0, self.entries, self.entries] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        b.extend_from_slice(&size.to_le_bytes());
        b.extend_from_slice(&offset.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::Cell;

    #[test]
    fn a_numbered_title_loses_its_number() {
        assert_eq!(unnumbered("Table 1. Characteristics"), "Characteristics");
        assert_eq!(unnumbered("Covariate balance"), "Covariate balance");
        assert_eq!(unnumbered("Table of contents. x"), "Table of contents. x");
    }

    #[test]
    fn crc32_matches_the_check_value() {
        // The standard check value of CRC-32 for the ASCII digits 1 to 9.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn a_table_becomes_a_word_table_with_suppressed_counts() {
        let mut t = ResultTable::new("table_one", "Baseline", &["variable", "n"]);
        t.push(vec![Cell::text("women"), Cell::Count(3)]);
        t.push(vec![Cell::text("men & others"), Cell::Count(120)]);
        let docx = tables_docx(&[t], 5, "Tables");
        assert_eq!(&docx[..4], b"PK\x03\x04");
        let text = String::from_utf8_lossy(&docx);
        assert!(text.contains("Table 1. Baseline"));
        assert!(text.contains(">men &amp; others<"));
        assert!(text.contains(">120<"));
        assert!(
            !text.contains(">3<"),
            "a count below 5 reached the document"
        );
        assert!(text.contains("suppressed under the disclosure rule"));
        // Three rules: the table's top and bottom borders and one below the header.
        assert_eq!(text.matches("<w:tblBorders><w:top").count(), 1);
        assert_eq!(text.matches("<w:tcBorders><w:bottom").count(), 2);
        // The end of the central directory counts the three parts.
        let end = &docx[docx.len() - 22..];
        assert_eq!(&end[..4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([end[10], end[11]]), 3);
    }
}
