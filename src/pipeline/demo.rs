//! The bundled synthetic example that `shine analyse --demo` analyses.
//!
//! The files under `examples/demo/` were written by
//! `shine simulate --out examples/demo --referred 350 --pool 5000 --seed 2026`; they are
//! embedded so that an installed binary runs the demo with nothing beside it.

use crate::data::dictionary::TableName;
use crate::data::validate::{ExtractMetadata, ExtractPaths, ExtractPeriod};

const FILES: [(TableName, &str, &[u8]); 6] = [
    (
        TableName::Persons,
        "examples/demo/persons.csv",
        include_bytes!("../../examples/demo/persons.csv"),
    ),
    (
        TableName::Covariates,
        "examples/demo/covariates.csv",
        include_bytes!("../../examples/demo/covariates.csv"),
    ),
    (
        TableName::Referrals,
        "examples/demo/referrals.csv",
        include_bytes!("../../examples/demo/referrals.csv"),
    ),
    (
        TableName::Contacts,
        "examples/demo/contacts.csv",
        include_bytes!("../../examples/demo/contacts.csv"),
    ),
    (
        TableName::Proms,
        "examples/demo/proms.csv",
        include_bytes!("../../examples/demo/proms.csv"),
    ),
    (
        TableName::Participation,
        "examples/demo/participation.csv",
        include_bytes!("../../examples/demo/participation.csv"),
    ),
];

const EXTRACT: &str = include_str!("../../examples/demo/extract.toml");

/// The demo's true effects, as `shine simulate` recorded them.
pub const TRUTH_JSON: &str = include_str!("../../examples/demo/truth.json");

/// The seed the demo was simulated with, also used for its analysis.
pub const DEMO_SEED: u64 = 2026;

/// The demo extracts, read from memory.
pub fn extract_paths() -> ExtractPaths {
    let mut paths = ExtractPaths::default();
    for (table, name, bytes) in FILES {
        paths.embedded.insert(table, (name.to_string(), bytes));
    }
    paths
}

/// The demo's extract period, from its `extract.toml`.
pub fn extract_period() -> Result<ExtractPeriod, String> {
    let meta: ExtractMetadata = toml::from_str(EXTRACT).map_err(|e| e.to_string())?;
    meta.period()
}
