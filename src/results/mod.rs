//! The results: plain serde structs that the pipeline returns and the printers in
//! `report` read. They hold numbers, not presentation, and depend on nothing above
//! `stats` and `data`.

/// One run of `shine analyse`: the main and sensitivity analyses and their inputs.
pub mod analysis;
/// The extract's counts, the matched cohort, its flow and the naive versus matched rates.
pub mod cohort;
pub mod did;
/// The structure of `results.json`.
pub mod json;
pub mod matching;
pub mod mixed;
/// Difference-in-differences of the register outcomes (`shine analyse`).
pub mod outcomes;
pub mod participation;
/// Survey scores by wave and the survey outcomes' mixed models (`shine analyse`).
pub mod survey;
