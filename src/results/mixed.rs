//! Results of `shine mixed`.
