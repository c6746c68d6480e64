//! Results of `shine matching`.
