//! Results of `shine did`.
