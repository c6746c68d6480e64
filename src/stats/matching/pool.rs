//! The controls still available when matching without replacement.

/// Controls still in the pool without replacement, as two "nearest available"
/// forests over positions in the sorted control list (a disjoint-set structure with
/// path halving): a removed position points to its neighbour, so a scan over used
/// controls costs amortised near-constant time instead of O(n).
pub(super) struct Pool {
    /// Slot `i` stands for position `i − 1`; slot 0 is the "none on the left" root.
    left: Vec<usize>,
    /// Slot `i` stands for position `i`; slot `n` is the "none on the right" root.
    right: Vec<usize>,
}

impl Pool {
    pub(super) fn new(n: usize) -> Self {
        Pool {
            left: (0..=n).collect(),
            right: (0..=n).collect(),
        }
    }

    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            let grandparent = parent[parent[x]];
            parent[x] = grandparent;
            x = grandparent;
        }
        x
    }

    /// Nearest available position `< position`.
    pub(super) fn nearest_left(&mut self, position: usize) -> Option<usize> {
        match Self::root(&mut self.left, position) {
            0 => None,
            slot => Some(slot - 1),
        }
    }

    /// Nearest available position `≥ position`.
    pub(super) fn nearest_right(&mut self, position: usize) -> Option<usize> {
        let end = self.right.len() - 1;
        match Self::root(&mut self.right, position) {
            slot if slot == end => None,
            slot => Some(slot),
        }
    }

    pub(super) fn remove(&mut self, position: usize) {
        self.left[position + 1] = position;
        self.right[position] = position + 1;
    }
}
