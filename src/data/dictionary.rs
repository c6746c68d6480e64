//! The data dictionary: the machine-readable definition of the six extract tables.
//!
//! The TOML files in `data-dictionary/` are embedded in the binary, so an installed
//! `shine` needs no files beside it. The reader, the validator, the simulator and the
//! documentation (`shine dictionary`, `data-dictionary/README.md`) all read this one
//! definition.

use std::fmt::{self, Write as _};
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The six extract tables, in the order they are read and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableName {
    Persons,
    Covariates,
    Referrals,
    Contacts,
    Proms,
    /// The registered participation and dropout outcomes (optional).
    Participation,
}

impl TableName {
    pub const ALL: [TableName; 6] = [
        TableName::Persons,
        TableName::Covariates,
        TableName::Referrals,
        TableName::Contacts,
        TableName::Proms,
        TableName::Participation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TableName::Persons => "persons",
            TableName::Covariates => "covariates",
            TableName::Referrals => "referrals",
            TableName::Contacts => "contacts",
            TableName::Proms => "proms",
            TableName::Participation => "participation",
        }
    }

    pub fn parse(name: &str) -> Option<TableName> {
        TableName::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type of a column, as the dictionary names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    String,
    Integer,
    Float,
    Date,
    Boolean,
    Enumeration,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Integer => "integer",
            ColumnType::Float => "float",
            ColumnType::Date => "date",
            ColumnType::Boolean => "boolean",
            ColumnType::Enumeration => "enumeration",
        }
    }
}

/// A bound of a range: a number, or an ISO date for date columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    Integer(i64),
    Float(f64),
    Date(String),
}

impl Bound {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Bound::Integer(v) => Some(*v as f64),
            Bound::Float(v) => Some(*v),
            Bound::Date(_) => None,
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Bound::Date(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
            _ => None,
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Integer(v) => write!(f, "{v}"),
            Bound::Float(v) => write!(f, "{v}"),
            Bound::Date(v) => f.write_str(v),
        }
    }
}

/// One allowed value of an enumeration column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumValue {
    pub code: String,
    pub label: String,
}

/// One column of an extract table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    pub required: bool,
    pub description: String,
    /// The register (or source) the column comes from.
    pub register: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Bound>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Bound>,
    /// For integer columns with a short list of allowed values (e.g. survey waves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<i64>>,
    /// For enumeration columns: the allowed codes and their meaning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<EnumValue>,
    /// Codes that mean "missing" in this column, besides [`COMMON_MISSING_CODES`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_codes: Vec<String>,
}

/// Codes read as missing in every column: an empty field and R's `NA`.
pub const COMMON_MISSING_CODES: [&str; 2] = ["", "NA"];

impl Column {
    /// Whether `raw` (already trimmed) is a missing-value code in this column.
    pub fn is_missing_code(&self, raw: &str) -> bool {
        COMMON_MISSING_CODES.contains(&raw) || self.missing_codes.iter().any(|c| c == raw)
    }

    /// All missing-value codes of this column, common ones first.
    pub fn all_missing_codes(&self) -> Vec<String> {
        COMMON_MISSING_CODES
            .iter()
            .map(|s| s.to_string())
            .chain(self.missing_codes.iter().cloned())
            .collect()
    }

    /// The enumeration code's position, if it is an allowed code.
    pub fn code_index(&self, code: &str) -> Option<usize> {
        self.values.iter().position(|v| v.code == code)
    }

    /// A human description of what values are allowed ("1–3", "F, M", ...).
    pub fn allowed_description(&self) -> String {
        if let Some(allowed) = &self.allowed {
            return allowed
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ");
        }
        if !self.values.is_empty() {
            return self
                .values
                .iter()
                .map(|v| v.code.as_str())
                .collect::<Vec<_>>()
                .join(", ");
        }
        match (&self.min, &self.max) {
            (Some(lo), Some(hi)) => format!("{lo} to {hi}"),
            (Some(lo), None) => format!("from {lo}"),
            (None, Some(hi)) => format!("up to {hi}"),
            (None, None) => match self.kind {
                ColumnType::Boolean => "true/false or 1/0".to_string(),
                ColumnType::Date => "ISO date YYYY-MM-DD".to_string(),
                _ => String::new(),
            },
        }
    }
}

/// One extract table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub name: String,
    pub description: String,
    pub one_row_per: String,
    /// Columns whose combination identifies a row; empty for event tables.
    pub key: Vec<String>,
    pub columns: Vec<Column>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The whole dictionary: the six tables in [`TableName::ALL`] order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dictionary {
    pub tables: Vec<Table>,
}

const EMBEDDED: [(TableName, &str); 6] = [
    (
        TableName::Persons,
        include_str!("../../data-dictionary/persons.toml"),
    ),
    (
        TableName::Covariates,
        include_str!("../../data-dictionary/covariates.toml"),
    ),
    (
        TableName::Referrals,
        include_str!("../../data-dictionary/referrals.toml"),
    ),
    (
        TableName::Contacts,
        include_str!("../../data-dictionary/contacts.toml"),
    ),
    (
        TableName::Proms,
        include_str!("../../data-dictionary/proms.toml"),
    ),
    (
        TableName::Participation,
        include_str!("../../data-dictionary/participation.toml"),
    ),
];

/// An embedded dictionary file that does not describe a valid table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DictionaryError {
    #[error("data-dictionary/{table}.toml: {source}")]
    Parse {
        table: TableName,
        source: toml::de::Error,
    },
    #[error("data-dictionary/{table}.toml: {message}")]
    Invalid { table: TableName, message: String },
}

impl Dictionary {
    /// Parses and checks the embedded dictionary files.
    pub fn load_embedded() -> Result<Dictionary, DictionaryError> {
        let mut tables = Vec::with_capacity(EMBEDDED.len());
        for (name, text) in EMBEDDED {
            let table: Table = toml::from_str(text).map_err(|source| DictionaryError::Parse {
                table: name,
                source,
            })?;
            check_table(name, &table)?;
            tables.push(table);
        }
        Ok(Dictionary { tables })
    }

    /// The embedded dictionary, parsed once.
    ///
    /// The embedded files are compile-time constants checked by the test
    /// `embedded_dictionary_is_valid`, so no input can make this fail.
    pub fn embedded() -> &'static Dictionary {
        static DICTIONARY: OnceLock<Dictionary> = OnceLock::new();
        DICTIONARY.get_or_init(|| match Dictionary::load_embedded() {
            Ok(d) => d,
            Err(e) => panic!("the embedded data dictionary is invalid: {e}"),
        })
    }

    pub fn table(&self, name: TableName) -> &Table {
        // `load_embedded` pushes one table per `TableName::ALL` entry, in that order.
        &self.tables[name as usize]
    }

    /// The dictionary as Markdown: one section per table, one row per column.
    pub fn to_markdown(&self, only: Option<TableName>) -> String {
        let mut out = String::new();
        if only.is_none() {
            out.push_str("# shine data dictionary\n\n");
            out.push_str(
                "<!-- Generated by `shine dictionary --format markdown`; do not edit by hand. \
                 Edit the TOML files beside this one and regenerate. -->\n\n",
            );
            out.push_str(
                "The extracts are six tables, as CSV (UTF-8, with or without BOM; comma or \
                 semicolon delimiter; `.` or `,` as decimal mark; ISO dates YYYY-MM-DD) or \
                 Parquet, named `persons`, `covariates`, `referrals`, `contacts`, `proms` and \
                 `participation` (the last two optional). \
                 In every column an empty field and `NA` mean missing; some columns have further \
                 missing-value codes. Booleans are `true`/`false` or `1`/`0`.\n\n",
            );
        }
        for table in &self.tables {
            if only.is_some_and(|t| t.as_str() != table.name) {
                continue;
            }
            let _ = writeln!(out, "## `{}`\n", table.name);
            let _ = writeln!(out, "{}\n", table.description);
            let _ = writeln!(out, "- One row per: {}", table.one_row_per);
            if table.key.is_empty() {
                out.push_str("- Key: none (event table)\n\n");
            } else {
                let _ = writeln!(out, "- Key: {}\n", code_list(&table.key));
            }
            out.push_str(
                "| column | type | required | allowed values | unit | missing codes | register | description |\n",
            );
            out.push_str("|---|---|---|---|---|---|---|---|\n");
            for c in &table.columns {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
                    c.name,
                    c.kind.as_str(),
                    if c.required { "yes" } else { "no" },
                    escape_cell(&c.allowed_description()),
                    c.unit.as_deref().unwrap_or(""),
                    code_list(&c.all_missing_codes()),
                    c.register,
                    escape_cell(&c.description),
                );
            }
            out.push('\n');
            let enums: Vec<&Column> = table
                .columns
                .iter()
                .filter(|c| !c.values.is_empty())
                .collect();
            for c in enums {
                let _ = writeln!(out, "Codes of `{}`:\n", c.name);
                for v in &c.values {
                    let _ = writeln!(out, "- `{}`: {}", v.code, v.label);
                }
                out.push('\n');
            }
        }
        out
    }
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| {
            if s.is_empty() {
                "(empty)".to_string()
            } else {
                format!("`{s}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn check_table(name: TableName, table: &Table) -> Result<(), DictionaryError> {
    let invalid = |message: String| DictionaryError::Invalid {
        table: name,
        message,
    };
    if table.name != name.as_str() {
        return Err(invalid(format!("table name is {:?}", table.name)));
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in &table.columns {
        if !seen.insert(c.name.as_str()) {
            return Err(invalid(format!("column {} is defined twice", c.name)));
        }
        let bounds_ok = match c.kind {
            ColumnType::Integer | ColumnType::Float => [&c.min, &c.max]
                .into_iter()
                .flatten()
                .all(|b| b.as_f64().is_some()),
            ColumnType::Date => [&c.min, &c.max]
                .into_iter()
                .flatten()
                .all(|b| b.as_date().is_some()),
            _ => c.min.is_none() && c.max.is_none(),
        };
        if !bounds_ok {
            return Err(invalid(format!(
                "column {}: min/max do not fit its type",
                c.name
            )));
        }
        if (c.kind == ColumnType::Enumeration) == c.values.is_empty() {
            return Err(invalid(format!(
                "column {}: enumeration columns, and only they, list values",
                c.name
            )));
        }
        if c.allowed.is_some() && c.kind != ColumnType::Integer {
            return Err(invalid(format!(
                "column {}: `allowed` is for integer columns",
                c.name
            )));
        }
    }
    for k in &table.key {
        match table.column(k) {
            Some(c) if c.required => {}
            _ => return Err(invalid(format!("key column {k} is not a required column"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_dictionary_is_valid() {
        let d = Dictionary::load_embedded().expect("embedded dictionary parses");
        assert_eq!(d.tables.len(), 6);
        for (i, t) in TableName::ALL.iter().enumerate() {
            assert_eq!(d.tables[i].name, t.as_str());
            assert_eq!(d.table(*t).name, t.as_str());
        }
    }

    #[test]
    fn design_columns_are_present() {
        let d = Dictionary::embedded();
        let expect = [
            (
                TableName::Persons,
                &[
                    "person_id",
                    "sex",
                    "birth_date",
                    "origin",
                    "death_date",
                    "emigration_date",
                ][..],
            ),
            (
                TableName::Covariates,
                &[
                    "person_id",
                    "year",
                    "municipality_code",
                    "practice_id",
                    "living_alone",
                    "education",
                    "income_quintile",
                    "employment",
                    "charlson_index",
                    "psychiatric_diagnosis_5y",
                ][..],
            ),
            (
                TableName::Referrals,
                &[
                    "person_id",
                    "referral_date",
                    "practice_id",
                    "referral_source",
                ][..],
            ),
            (
                TableName::Contacts,
                &["person_id", "date", "contact_type"][..],
            ),
        ];
        for (t, cols) in expect {
            let names: Vec<&str> = d.table(t).columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, cols, "{t}");
        }
        let proms = d.table(TableName::Proms);
        assert_eq!(proms.columns.len(), 3 + 3 + 20 + 5 + 1);
        let wave = proms.column("wave").expect("wave column");
        assert_eq!(wave.allowed.as_deref(), Some(&[0, 3, 9][..]));
        let types = d
            .table(TableName::Contacts)
            .column("contact_type")
            .expect("contact_type");
        assert_eq!(types.values.len(), 9);
    }

    #[test]
    fn missing_codes_include_common_ones() {
        let d = Dictionary::embedded();
        let item = d.table(TableName::Proms).column("ucla_1").expect("ucla_1");
        assert!(item.is_missing_code(""));
        assert!(item.is_missing_code("NA"));
        assert!(item.is_missing_code("-9"));
        assert!(!item.is_missing_code("2"));
    }
}
