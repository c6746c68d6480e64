//! Randomness and its split over threads.
//!
//! Every random draw comes from a ChaCha8 stream keyed by the seed and numbered by phase
//! and person, so a person's draws do not depend on who else is simulated, in which
//! order, or on which thread: work can be cut into pieces freely and the output stays
//! identical for the same seed.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rayon::prelude::*;

/// The independent random streams: one per phase and person.
#[derive(Clone, Copy)]
pub(super) enum Phase {
    Permutation = 0,
    Population = 1,
    Contacts = 2,
    Survey = 3,
    Effect = 4,
    /// The participation table, added later: its own stream leaves the others as they were.
    Participation = 5,
}

/// An independent ChaCha8 stream for one person (or the global permutation) and phase.
pub(super) fn stream_rng(key: &[u8; 32], phase: Phase, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(*key);
    rng.set_stream(((phase as u64) << 40) | index as u64);
    rng
}

pub(super) fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    rng.random::<f64>()
}

pub(super) fn bernoulli(rng: &mut ChaCha8Rng, p: f64) -> bool {
    uniform(rng) < p
}

pub(super) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// Exp(1) draw.
pub(super) fn exponential(rng: &mut ChaCha8Rng) -> f64 {
    -(1.0 - uniform(rng)).ln()
}

pub(super) fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> usize {
    match Poisson::new(lambda) {
        Ok(dist) => dist.sample(rng) as usize,
        Err(_) => 0,
    }
}

pub(super) fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Standard normal CDF.
pub(super) fn phi(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// Persons per piece of work handed to a thread. Fixed, so the pieces are the same
/// whatever the size of the pool; small enough that a 20,000-person pool keeps a few
/// threads busy, large enough that each piece amortises its buffers.
const PERSONS_PER_PIECE: usize = 2_048;

/// Runs `work` on consecutive pieces of `0..n` ([`PERSONS_PER_PIECE`] persons each) on
/// the command's rayon pool and returns the pieces' results in order. Every person draws
/// from their own stream, so the results depend neither on the pieces nor on the number
/// of threads.
pub(super) fn per_person_pieces<T, F>(n: usize, work: F) -> Vec<T>
where
    T: Send,
    F: Fn(std::ops::Range<usize>) -> T + Sync,
{
    (0..n.div_ceil(PERSONS_PER_PIECE))
        .into_par_iter()
        .map(|piece| {
            let start = piece * PERSONS_PER_PIECE;
            work(start..(start + PERSONS_PER_PIECE).min(n))
        })
        .collect()
}
