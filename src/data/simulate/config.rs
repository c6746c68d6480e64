//! What the simulator is asked for, what it returns, and why it can fail.

use polars::prelude::*;

use super::truth::Truth;

/// Size and seed of a simulated data set.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationConfig {
    /// Number of referred persons (the SHINE cohort had about 350).
    pub referred: usize,
    /// Number of persons who are not referred (the comparison pool).
    pub pool: usize,
    /// Seed of all random draws.
    pub seed: u64,
    /// Log-weight of referral per unit of log frailty: selection on the unobserved
    /// frailty as well as on observed prior use (0 = selection on observables only).
    pub frailty_selection: f64,
    /// Multiplies the log-weights of prior use in the selection into referral (1 = the
    /// default weights; 0 = referral does not depend on prior use).
    pub prior_use_selection: f64,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            referred: 350,
            pool: 20_000,
            seed: 1,
            frailty_selection: 0.0,
            prior_use_selection: 1.0,
        }
    }
}

/// The five extract tables and the parameters that generated them.
#[derive(Debug, Clone)]
pub struct SimulatedExtracts {
    pub persons: DataFrame,
    pub covariates: DataFrame,
    pub referrals: DataFrame,
    pub contacts: DataFrame,
    pub proms: DataFrame,
    /// The registered participation outcomes (own random stream: the other tables are
    /// those of the same seed without it).
    pub participation: DataFrame,
    /// True effects and data-generating parameters (written as `truth.json`).
    pub truth: Truth,
}

/// Why a simulation could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulateError {
    /// The requested sizes cannot be simulated.
    #[error("invalid simulation settings: {0}")]
    InvalidConfig(String),
    /// Fewer persons met the referral criteria than the number to be referred.
    #[error(
        "only {eligible} of {population} simulated persons were eligible for referral \
         (adult, living in Copenhagen and listed with a participating practice), \
         but {requested} referred persons were requested; increase --pool or lower --referred"
    )]
    TooFewEligible {
        eligible: usize,
        requested: usize,
        population: usize,
    },
    /// A latent shift could not be calibrated to its target.
    #[error("could not calibrate the true survey effect for {0}")]
    Calibration(String),
    /// A distribution was given invalid parameters.
    #[error("invalid distribution parameters: {0}")]
    Distribution(String),
    #[error(transparent)]
    Polars(#[from] PolarsError),
}
