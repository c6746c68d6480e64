//! Presentation: tables (CSV, Markdown), the manifest and the results folder. Consumes
//! result structs; computes no statistic.

pub mod cohort;
pub mod did;
pub mod disclosure;
pub mod figures;
pub mod html;
pub mod manifest;
pub mod matching;
pub mod output;
pub mod sensitivity;
pub mod table;
pub mod table_one;
pub mod did_table;
pub mod mixed;
pub mod print_error;
pub mod score;
