//! Typed errors of the GLM fit and of its building blocks.

use thiserror::Error;

/// Errors of the GLM fit. Indices (`row`, `column`) are 0-based positions in the inputs.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum GlmError {
    /// Two inputs that must have matching lengths do not.
    #[error("{what} has length {found}, expected {expected}")]
    DimensionMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// The design matrix has no rows.
    #[error("no observations: the design matrix has zero rows")]
    NoObservations,
    /// The design matrix has no columns.
    #[error("the design matrix has no columns")]
    NoColumns,
    /// A value is NaN or infinite.
    #[error("{what} is not finite ({value}) at row {row}{}", column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default())]
    NonFinite {
        what: &'static str,
        row: usize,
        column: Option<String>,
        value: f64,
    },
    /// The response lies outside the family's support.
    #[error("response y = {value} at row {row} is outside the range of the {family} family: expected {expected}")]
    ResponseOutOfRange {
        family: &'static str,
        row: usize,
        value: f64,
        expected: &'static str,
    },
    /// A prior weight is negative.
    #[error("negative prior weight {value} at row {row}: weights must be >= 0")]
    NegativeWeight { row: usize, value: f64 },
    /// Every prior weight is zero.
    #[error("no observation has a positive prior weight")]
    NoPositiveWeight,
    /// Every column of the design matrix is aliased (e.g. all zero).
    #[error("no estimable coefficient: every column of the design matrix is aliased (collinear or zero)")]
    NoEstimableColumn,
    /// An option is out of its range.
    #[error("invalid option {name} = {value}: {expected}")]
    InvalidOption {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    /// The deviance of the first iteration is not finite and there is no previous
    /// solution to halve the step towards (R: "no valid set of coefficients has been
    /// found: please supply starting values").
    #[error("no valid set of coefficients has been found at IRLS iteration {iteration} (the linear predictor overflows); try rescaling the covariates")]
    NoValidCoefficients { iteration: usize },
    /// Step halving did not bring the deviance back to a finite value
    /// (R: "inner loop 1; cannot correct step size").
    #[error("step halving could not correct the step size at IRLS iteration {iteration}; try rescaling the covariates")]
    StepHalvingFailed { iteration: usize },
    /// The working weights or working response became NaN (R: "NAs in V(mu)").
    #[error("the working weights or working response are not finite at row {row}")]
    InvalidWorkingValues { row: usize },
}

/// [`GlmError::DimensionMismatch`] unless `found == expected`.
pub(super) fn check_length(
    what: &'static str,
    found: usize,
    expected: usize,
) -> Result<(), GlmError> {
    if found == expected {
        Ok(())
    } else {
        Err(GlmError::DimensionMismatch {
            what,
            expected,
            found,
        })
    }
}
