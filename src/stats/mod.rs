//! Pure numerics: no polars, no files, no printing. Typed inputs (matrices, vectors,
//! group codes) in, typed result structs out.

pub mod balance;
pub mod design;
pub mod fixest;
pub mod formula;
pub mod glm;
pub mod lmm;
pub mod matching;
pub mod table_one;
pub mod vcov;

/// Threads for the parallel numerics: `POLARS_MAX_THREADS` when set (`--threads`),
/// otherwise the available cores. Results never depend on it.
pub(crate) fn worker_threads() -> usize {
    std::env::var("POLARS_MAX_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .max(1)
}
