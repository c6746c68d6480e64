//! Presentation: tables (CSV, Markdown), the manifest and the results folder. Consumes
//! result structs; computes no statistic.

pub mod cohort;
pub mod did;
pub mod disclosure;
pub mod figures;
pub mod manifest;
pub mod matching;
pub mod output;
pub mod table;
pub mod table_one;
