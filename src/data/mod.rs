//! The data layer: the data dictionary, reading and validating extracts, the synthetic
//! extracts, and the analysis tables derived from them (scores, index dates, panels).

pub mod calendar;
pub mod cohort;
pub mod convert;
pub mod dictionary;
pub mod formats;
pub mod instruments;
pub mod panel;
mod parquet_chunks;
mod parquet_dictionary;
pub mod participation;
pub mod problems;
pub mod read;
pub mod registers;
pub mod rows;
pub mod score;
pub mod simulate;
pub mod table;
pub mod validate;
pub mod write;
