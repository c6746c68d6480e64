//! Presentation: tables (CSV, Markdown), figures, the HTML report, `results.json`, the
//! manifest and the results folder, under disclosure control. Reads the structs of
//! `results` and the plan; computes no statistic.

pub mod cohort;
pub mod did;
pub mod did_table;
pub mod disclosure;
pub mod docx;
pub mod figures;
pub mod forest;
pub mod html;
pub mod manifest;
pub mod matching;
pub mod mixed;
pub mod output;
pub mod participation;
pub mod print_error;
pub mod results_folder;
pub mod results_json;
pub mod robustness;
pub mod score;
pub mod sensitivity;
pub mod staging;
pub mod strobe;
pub mod survey;
pub mod table;
pub mod table_one;
