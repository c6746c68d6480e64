//! Pure numerics: no polars, no files, no printing. Typed inputs (matrices, vectors,
//! group codes) in, typed result structs out.

pub mod balance;
pub mod coefficient;
pub mod design;
pub mod evalue;
pub mod fixest;
pub mod formula;
pub mod glm;
pub mod lmm;
pub mod matching;
pub mod participation;
pub mod table_one;
pub(crate) mod tail;
pub mod vcov;

pub use coefficient::Coefficient;

use rayon::prelude::*;

/// Threads of the rayon pool the caller runs on (the command's pool, sized by
/// `--threads`). Results never depend on it.
pub(crate) fn worker_threads() -> usize {
    rayon::current_num_threads().max(1)
}

/// Work that can be cut at an index into two parts: a slice, a range of indices, or a
/// tuple of them cut at the same index.
pub(crate) trait Split: Send + Sized {
    fn split_at(self, mid: usize) -> (Self, Self);
}

impl<T: Send> Split for &mut [T] {
    fn split_at(self, mid: usize) -> (Self, Self) {
        self.split_at_mut(mid)
    }
}

impl<T: Sync> Split for &[T] {
    fn split_at(self, mid: usize) -> (Self, Self) {
        <[T]>::split_at(self, mid)
    }
}

impl Split for std::ops::Range<usize> {
    fn split_at(self, mid: usize) -> (Self, Self) {
        let cut = self.start + mid;
        (self.start..cut, cut..self.end)
    }
}

impl<A: Split, B: Split> Split for (A, B) {
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (a0, a1) = self.0.split_at(mid);
        let (b0, b1) = self.1.split_at(mid);
        ((a0, b0), (a1, b1))
    }
}

impl<A: Split, B: Split, C: Split> Split for (A, B, C) {
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (a0, a1) = self.0.split_at(mid);
        let (b0, b1) = self.1.split_at(mid);
        let (c0, c1) = self.2.split_at(mid);
        ((a0, b0, c0), (a1, b1, c1))
    }
}

/// Below this many elements the element-wise loops run on the calling thread alone.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// Runs `work(offset, part)` on contiguous parts of the `n` elements of `data`, one part
/// per worker thread, and returns the parts' results in order.
///
/// For work done element by element (or reduced in an order-free way, such as a minimum):
/// then the result does not depend on the number of threads.
pub(crate) fn for_each_part<P, R, F>(n: usize, data: P, work: F) -> Vec<R>
where
    P: Split,
    R: Send,
    F: Fn(usize, P) -> R + Sync,
{
    let threads = if n < PARALLEL_MIN_LEN {
        1
    } else {
        worker_threads().min(n)
    };
    if threads <= 1 {
        return vec![work(0, data)];
    }
    let size = n.div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    let (mut rest, mut offset) = (data, 0);
    while n - offset > size {
        let (part, tail) = rest.split_at(size);
        parts.push((offset, part));
        rest = tail;
        offset += size;
    }
    parts.push((offset, rest));
    parts
        .into_par_iter()
        .map(|(offset, part)| work(offset, part))
        .collect()
}

/// `term(i)` for every i in `0..n`, in order, computed on the worker threads (added by the
/// caller in order, they give the bits of a sequential loop's sum).
pub(crate) fn terms_in_order(n: usize, term: impl Fn(usize) -> f64 + Sync) -> Vec<f64> {
    let mut terms = vec![0.0; n];
    for_each_part(n, terms.as_mut_slice(), |start, part| {
        for (k, t) in part.iter_mut().enumerate() {
            *t = term(start + k);
        }
    });
    terms
}

/// [`terms_in_order`] of `term(a[i], b[i])` for a `term` that depends on nothing else:
/// each part of the rows remembers its last two distinct pairs of inputs (by their bits)
/// with their terms, so that inputs of few distinct values (a binary outcome with unit
/// weights) cost a call per distinct pair instead of one per row. The same terms, to the
/// bit. Over the rows both slices have.
pub(crate) fn pair_terms_in_order(
    a: &[f64],
    b: &[f64],
    term: impl Fn(f64, f64) -> f64 + Sync,
) -> Vec<f64> {
    let n = a.len().min(b.len());
    let mut terms = vec![0.0; n];
    for_each_part(n, terms.as_mut_slice(), |start, part| {
        let mut seen: [Option<((u64, u64), f64)>; 2] = [None, None];
        for (k, t) in part.iter_mut().enumerate() {
            let (x, y) = (a[start + k], b[start + k]);
            let key = (x.to_bits(), y.to_bits());
            *t = match seen {
                [Some((k0, v)), _] if k0 == key => v,
                [_, Some((k1, v))] if k1 == key => v,
                _ => {
                    let v = term(x, y);
                    seen = [Some((key, v)), seen[0]];
                    v
                }
            };
        }
    });
    terms
}

/// `work(0..n)` on the pool's threads, each taking the next index when free; the results
/// in index order (so they do not depend on the number of threads).
pub(crate) fn map_indices<R: Send>(n: usize, work: impl Fn(usize) -> R + Sync) -> Vec<R> {
    (0..n).into_par_iter().with_max_len(1).map(&work).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The remembered terms are the terms: inputs of two, three and many distinct
    /// pairs (−0 beside +0, NaN among them), on 1 and 3 threads.
    #[test]
    fn pair_terms_are_the_terms_of_each_row() {
        let n = PARALLEL_MIN_LEN * 3 + 11;
        let a: Vec<f64> = (0..n)
            .map(|i| match i % 7 {
                0 | 3 => 0.0,
                1 => -0.0,
                5 if i % 5 == 0 => f64::NAN,
                _ => (i % 3) as f64,
            })
            .collect();
        let b: Vec<f64> = (0..n)
            .map(|i| if i % 11 == 0 { 2.0 } else { 1.0 })
            .collect();
        let many: Vec<f64> = (0..n).map(|i| i as f64 * 0.37).collect();
        let term = |x: f64, y: f64| (x + 1.5).ln() * y + x.is_sign_negative() as u8 as f64;
        for (a, b) in [(&a, &b), (&many, &b), (&a, &many)] {
            let want: Vec<u64> = (0..n).map(|i| term(a[i], b[i]).to_bits()).collect();
            for threads in [1, 3] {
                let got: Vec<u64> =
                    crate::test_support::on_threads(threads, || pair_terms_in_order(a, b, term))
                        .iter()
                        .map(|t| t.to_bits())
                        .collect();
                assert_eq!(got, want, "{threads} threads");
            }
        }
    }

    #[test]
    fn parts_cover_every_element_once_with_their_offsets() {
        for n in [0, 1, 100, PARALLEL_MIN_LEN, PARALLEL_MIN_LEN * 3 + 7] {
            let input: Vec<usize> = (0..n).collect();
            let mut output = vec![0usize; n];
            let offsets = for_each_part(
                n,
                (output.as_mut_slice(), input.as_slice()),
                |offset, (out, inp)| {
                    for (i, (o, &x)) in out.iter_mut().zip(inp).enumerate() {
                        assert_eq!(x, offset + i);
                        *o = 2 * x;
                    }
                    offset
                },
            );
            assert_eq!(output, (0..n).map(|i| 2 * i).collect::<Vec<_>>());
            assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
        }
    }

    #[test]
    fn mapped_indices_come_back_in_order() {
        for n in [0, 1, 2, 57] {
            assert_eq!(
                map_indices(n, |j| j * j),
                (0..n).map(|j| j * j).collect::<Vec<_>>()
            );
        }
    }
}
