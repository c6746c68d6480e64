//! The results: plain serde structs that the pipeline returns and the printers in
//! `report` read. They hold numbers, not presentation, and depend on nothing above
//! `stats` and `data`.

pub mod did;
pub mod matching;
pub mod mixed;
