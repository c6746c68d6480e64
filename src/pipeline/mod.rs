//! `shine analyse` and the generic fits: the stages that call `data` and `stats` in
//! order and return the structs of `results`.

pub mod analyse;
pub mod demo;
pub mod did;
pub mod did_bootstrap;
pub mod did_stage;
pub mod emmeans;
pub mod fit_error;
pub mod matching;
pub mod mixed;
pub mod mixed_stage;
pub mod participation;
pub mod progress;
pub mod propensity;
mod propensity_start;
pub mod referred_responses;
pub mod risk_set;
pub mod robustness;
pub mod score;
pub mod survey_waves;
pub mod unit_ids;

#[cfg(test)]
mod tests_later_referred;
