//! `shine analyse`: the pre-registered pipeline from extracts to results.

pub mod analyse;
pub mod demo;
pub mod did;
pub mod did_stage;
pub mod emmeans;
pub mod mixed_stage;
pub mod progress;
pub mod propensity;
pub mod risk_set;
