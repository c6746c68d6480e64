//! Returning freed memory to the operating system.
//!
//! glibc's allocator takes allocations below a threshold that grows up to 32 MB from
//! its heaps, where memory freed between live allocations stays with the process. On a
//! pool of a million persons the extracts, freed once the person registry is built,
//! left about 1.4 GB of a 5 GB peak that way. Elsewhere these calls do nothing.

/// Allocations of this many bytes or more are mapped from the operating system and
/// returned to it when freed.
const MAP_FROM_BYTES: i32 = 1 << 20;

/// Maps allocations of [`MAP_FROM_BYTES`] or more from the operating system, so that
/// freeing a large buffer (a column chunk, a vector over the stacked risk sets) returns
/// it. Called once, at start-up, before any other thread runs.
pub fn map_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt sets one of the allocator's parameters; nothing else allocates
    // concurrently at start-up.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_FROM_BYTES);
    }
}

/// Lets the allocator keep and reuse the memory of a large buffer once it is freed, for
/// commands that allocate and free buffers of the same few sizes over and over (a chunk
/// of a converted file; a column of a million units in `shine match`). After
/// [`map_large_allocations`] each such buffer is mapped afresh, and its page faults and
/// zeroing were a fifth of `convert`'s CPU time and most of `match`'s system time.
/// Buffers up to 32 MB (the most glibc accepts) now come from its heaps, and up to
/// 256 MB of freed memory stays with the process.
pub fn reuse_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; any value is allowed, and a
    // refused one leaves the previous value in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// Returns the free memory of the allocator's heaps to the operating system (after a
/// large structure is dropped, e.g. the extracts once the registry is built).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `n` copies of `value`, each written: the pages of a fresh allocation are first touched
/// by a write. A zeroed allocation (what `vec![0.0; n]` asks for) maps fresh pages to the
/// shared zero page when first read, and a later write then copies each page and flushes
/// it from every core's address cache — costly for a vector updated in place
/// (`v[i] += x`) while other threads run.
pub fn written_vec<T: Clone>(n: usize, value: T) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    out.resize(n, value);
    out
}
