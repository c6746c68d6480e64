//! Fixed effects as group codes: sparse codes recoded to `0..G` over the rows used, and
//! the fixed effects in processing order with the layout of all their coefficients in
//! one flat vector.

use std::borrow::Cow;

/// The codes themselves, or, when some code is far larger than the number of rows, the
/// codes recoded to `0..G` in the same order.
pub(super) fn compact_codes(codes: &[u32]) -> Cow<'_, [u32]> {
    let max = codes.iter().copied().max().unwrap_or(0) as usize;
    if max < 4 * codes.len() + 1024 {
        return Cow::Borrowed(codes);
    }
    let mut distinct = codes.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    Cow::Owned(
        codes
            .iter()
            .map(|c| distinct.binary_search(c).map_or(0, |p| p as u32))
            .collect(),
    )
}

/// Codes of the rows kept (`keep`, `n_kept` of them), recoded to `0..G` in the order of
/// the input codes, and G. Borrows the input when every row is kept and the codes are
/// already dense.
pub(super) fn dense_codes<'a>(
    codes: &'a [u32],
    keep: &[bool],
    n_kept: usize,
) -> (Cow<'a, [u32]>, usize) {
    let kept = || codes.iter().zip(keep).filter(|(_, &k)| k).map(|(&c, _)| c);
    let slots = kept().map(|c| c as usize + 1).max().unwrap_or(0);
    if slots <= 4 * n_kept + 1024 {
        const ABSENT: u32 = u32::MAX;
        let mut map = vec![ABSENT; slots];
        for c in kept() {
            map[c as usize] = 0;
        }
        let mut g = 0u32;
        for m in map.iter_mut() {
            if *m != ABSENT {
                *m = g;
                g += 1;
            }
        }
        let size = g as usize;
        if n_kept == codes.len() && size == slots {
            return (Cow::Borrowed(codes), size);
        }
        let dense = kept().map(|c| map[c as usize]).collect();
        (Cow::Owned(dense), size)
    } else {
        let mut distinct: Vec<u32> = kept().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let dense = kept()
            .map(|c| distinct.binary_search(&c).map_or(0, |p| p as u32))
            .collect();
        (Cow::Owned(dense), distinct.len())
    }
}

/// The fixed effects over the rows used, in processing order (most levels first), with
/// the layout of their coefficients in one flat vector.
pub(super) struct FixedEffectIndex<'a> {
    pub(super) codes: Vec<Cow<'a, [u32]>>,
    pub(super) sizes: Vec<usize>,
    /// `offsets[q]..offsets[q + 1]` are the coefficients of fixed effect q.
    pub(super) offsets: Vec<usize>,
    /// `order[q]` is the input position of the q-th fixed effect processed.
    order: Vec<usize>,
    pub(super) n: usize,
}

impl<'a> FixedEffectIndex<'a> {
    pub(super) fn new(codes: Vec<Cow<'a, [u32]>>, n: usize) -> Self {
        let mut sizes_in: Vec<usize> = codes
            .iter()
            .map(|c| c.iter().map(|&v| v as usize + 1).max().unwrap_or(0))
            .collect();
        let mut order: Vec<usize> = (0..codes.len()).collect();
        // Most levels first; ties keep the input order.
        order.sort_by(|&a, &b| sizes_in[b].cmp(&sizes_in[a]).then(a.cmp(&b)));
        let mut slots: Vec<Option<Cow<'a, [u32]>>> = codes.into_iter().map(Some).collect();
        let mut ordered = Vec::with_capacity(order.len());
        let mut sizes = Vec::with_capacity(order.len());
        for &q in &order {
            if let Some(c) = slots[q].take() {
                ordered.push(c);
            }
            sizes.push(std::mem::take(&mut sizes_in[q]));
        }
        let mut offsets = vec![0];
        for s in &sizes {
            let last = offsets.last().copied().unwrap_or(0);
            offsets.push(last + s);
        }
        FixedEffectIndex {
            codes: ordered,
            sizes,
            offsets,
            order,
            n,
        }
    }

    pub(super) fn n_fe(&self) -> usize {
        self.codes.len()
    }

    pub(super) fn n_coef(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }

    /// The codes of the fixed effect given in input position `input_q`.
    pub(super) fn codes_of_input(&self, input_q: usize) -> Option<&[u32]> {
        self.order
            .iter()
            .position(|&q| q == input_q)
            .map(|p| &*self.codes[p])
    }
}
