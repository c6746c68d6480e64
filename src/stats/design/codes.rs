//! The level codes of a categorical column, one per row, in the narrowest width that
//! holds the column's levels: one byte up to 255 levels, two up to 65,535, four beyond,
//! the largest value of the width marking a missing value. The stacked risk sets hold
//! tens of millions of rows and a code per row of each categorical covariate, so the
//! width is most of their size.
//!
//! A pass over every row reads the typed slice ([`LevelCodes::as_slice`], then
//! [`with_codes!`](crate::stats::design::with_codes)), so that its loop is compiled once
//! per width with no branch on the width inside it.

use serde::{Serialize, Serializer};

/// One level code of a given width.
pub trait Code: Copy + PartialEq + Send + Sync + 'static {
    /// The code that marks a missing value: the largest the width holds.
    const MISSING: Self;
    /// The code as an index (a missing value gives the largest index of the width).
    fn index(self) -> usize;
    /// The code as a `u32` (a missing value gives the largest value of the width).
    fn to_u32(self) -> u32;
    /// The code in this width, if it fits and is not the missing value.
    fn narrow(code: u32) -> Option<Self>;

    fn is_missing(self) -> bool {
        self == Self::MISSING
    }

    /// The code, or `None` for a missing value.
    fn get(self) -> Option<u32> {
        (!self.is_missing()).then(|| self.to_u32())
    }
}

macro_rules! impl_code {
    ($t:ty) => {
        impl Code for $t {
            const MISSING: $t = <$t>::MAX;

            #[inline(always)]
            fn index(self) -> usize {
                self as usize
            }

            #[inline(always)]
            fn to_u32(self) -> u32 {
                u32::from(self)
            }

            #[inline(always)]
            fn narrow(code: u32) -> Option<Self> {
                <$t>::try_from(code).ok().filter(|&c| c != Self::MISSING)
            }
        }
    };
}

impl_code!(u8);
impl_code!(u16);
impl_code!(u32);

/// A code per row, in one of three widths (see the module documentation).
#[derive(Clone, Debug)]
pub enum LevelCodes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

/// The codes of a [`LevelCodes`] (or of some of its rows) as a typed slice.
#[derive(Clone, Copy, Debug)]
pub enum CodeSlice<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
}

/// Evaluates `$body` with `$v` bound to the typed slice of a [`CodeSlice`], once per
/// width: the body is compiled for `&[u8]`, `&[u16]` and `&[u32]`, and reads each code
/// through the [`Code`] trait.
#[macro_export]
#[doc(hidden)]
macro_rules! with_codes {
    ($codes:expr, |$v:ident| $body:expr) => {
        match $codes {
            $crate::stats::design::CodeSlice::U8($v) => $body,
            $crate::stats::design::CodeSlice::U16($v) => $body,
            $crate::stats::design::CodeSlice::U32($v) => $body,
        }
    };
}

/// The codes of `it` in width `T`, or, at the first code that does not fit, the codes
/// so far and that code.
fn collect_narrow<T: Code, I: Iterator<Item = Option<u32>>>(
    it: &mut I,
) -> Result<Vec<T>, (Vec<T>, u32)> {
    let mut out = Vec::with_capacity(it.size_hint().0);
    for code in it.by_ref() {
        match code {
            None => out.push(T::MISSING),
            Some(c) => match T::narrow(c) {
                Some(t) => out.push(t),
                None => return Err((out, c)),
            },
        }
    }
    Ok(out)
}

/// Four-byte codes: `first` widened, then `code`, then the rest of `it`.
fn widen<T: Code>(first: Vec<T>, code: u32, it: impl Iterator<Item = Option<u32>>) -> LevelCodes {
    let mut out = Vec::with_capacity(first.len() + 1 + it.size_hint().0);
    out.extend(first.iter().map(|c| c.get().unwrap_or(u32::MAX)));
    out.push(code);
    out.extend(it.map(|c| c.unwrap_or(u32::MAX)));
    LevelCodes::U32(out)
}

impl LevelCodes {
    /// The codes of a column of `n_levels` levels, in the narrowest width that holds
    /// them (`None` = missing). A code that does not fit that width (a code outside the
    /// levels, which [`DataSet::push`](super::DataSet::push) rejects) makes the codes
    /// four bytes wide; there the code `u32::MAX` reads as missing.
    pub fn new<I: IntoIterator<Item = Option<u32>>>(n_levels: usize, codes: I) -> LevelCodes {
        let mut it = codes.into_iter();
        if n_levels <= usize::from(u8::MAX) {
            match collect_narrow::<u8, _>(&mut it) {
                Ok(v) => LevelCodes::U8(v),
                Err((v, c)) => widen(v, c, it),
            }
        } else if n_levels <= usize::from(u16::MAX) {
            match collect_narrow::<u16, _>(&mut it) {
                Ok(v) => LevelCodes::U16(v),
                Err((v, c)) => widen(v, c, it),
            }
        } else {
            LevelCodes::U32(it.map(|c| c.unwrap_or(u32::MAX)).collect())
        }
    }

    /// The codes in the narrowest width that holds the largest of them.
    pub fn from_options(codes: &[Option<u32>]) -> LevelCodes {
        let n_levels = codes.iter().flatten().max().map_or(0, |&c| c as usize + 1);
        LevelCodes::new(n_levels, codes.iter().copied())
    }

    pub fn len(&self) -> usize {
        match self {
            LevelCodes::U8(v) => v.len(),
            LevelCodes::U16(v) => v.len(),
            LevelCodes::U32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code of `row`; `None` when it is missing or `row` is past the end.
    pub fn get(&self, row: usize) -> Option<u32> {
        self.as_slice().get(row)
    }

    /// The codes in row order (`None` = missing).
    pub fn iter(&self) -> Iter<'_> {
        self.as_slice().iter()
    }

    /// The typed slice, for a pass over every row ([`with_codes!`]).
    pub fn as_slice(&self) -> CodeSlice<'_> {
        match self {
            LevelCodes::U8(v) => CodeSlice::U8(v),
            LevelCodes::U16(v) => CodeSlice::U16(v),
            LevelCodes::U32(v) => CodeSlice::U32(v),
        }
    }

    /// The index of the first missing code.
    pub fn first_missing(&self) -> Option<usize> {
        with_codes!(self.as_slice(), |v| v.iter().position(|c| c.is_missing()))
    }

    /// The first row whose code is not below `n_levels`, with its code.
    pub fn first_outside(&self, n_levels: usize) -> Option<(usize, u32)> {
        with_codes!(self.as_slice(), |v| v.iter().enumerate().find_map(
            |(r, c)| { c.get().filter(|&c| c as usize >= n_levels).map(|c| (r, c)) }
        ))
    }

    /// The rows whose code is missing.
    pub fn missing_rows(&self) -> Vec<usize> {
        with_codes!(self.as_slice(), |v| v
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_missing())
            .map(|(r, _)| r)
            .collect())
    }

    /// Keeps the codes of the rows that `keep` marks, in place (rows past `keep` are
    /// dropped).
    pub fn retain(&mut self, keep: &[bool]) {
        fn retain_marked<T>(v: &mut Vec<T>, keep: &[bool]) {
            let mut marks = keep.iter();
            v.retain(|_| marks.next() == Some(&true));
        }
        match self {
            LevelCodes::U8(v) => retain_marked(v, keep),
            LevelCodes::U16(v) => retain_marked(v, keep),
            LevelCodes::U32(v) => retain_marked(v, keep),
        }
    }

    /// The codes of `rows`, in that order, in the same width.
    ///
    /// # Panics
    /// A row past the end.
    pub fn select(&self, rows: &[usize]) -> LevelCodes {
        match self {
            LevelCodes::U8(v) => LevelCodes::U8(rows.iter().map(|&r| v[r]).collect()),
            LevelCodes::U16(v) => LevelCodes::U16(rows.iter().map(|&r| v[r]).collect()),
            LevelCodes::U32(v) => LevelCodes::U32(rows.iter().map(|&r| v[r]).collect()),
        }
    }
}

impl CodeSlice<'_> {
    pub fn len(&self) -> usize {
        with_codes!(*self, |v| v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code of `row`; `None` when it is missing or `row` is past the end.
    pub fn get(&self, row: usize) -> Option<u32> {
        with_codes!(*self, |v| v.get(row).and_then(|c| c.get()))
    }

    /// Rows `start..end`.
    ///
    /// # Panics
    /// A range past the end.
    pub fn slice(self, start: usize, end: usize) -> Self {
        match self {
            CodeSlice::U8(v) => CodeSlice::U8(&v[start..end]),
            CodeSlice::U16(v) => CodeSlice::U16(&v[start..end]),
            CodeSlice::U32(v) => CodeSlice::U32(&v[start..end]),
        }
    }
}

impl<'a> CodeSlice<'a> {
    /// The codes in row order (`None` = missing).
    pub fn iter(self) -> Iter<'a> {
        Iter {
            codes: self,
            next: 0,
        }
    }
}

/// The codes of a [`LevelCodes`] in row order, `None` for a missing value.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    codes: CodeSlice<'a>,
    next: usize,
}

impl Iterator for Iter<'_> {
    type Item = Option<u32>;

    fn next(&mut self) -> Option<Option<u32>> {
        let i = self.next;
        let code = with_codes!(self.codes, |v| v.get(i).map(|c| c.get()));
        if code.is_some() {
            self.next += 1;
        }
        code
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.codes.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a LevelCodes {
    type Item = Option<u32>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Equal when the codes are, whatever their widths.
impl PartialEq for LevelCodes {
    fn eq(&self, other: &LevelCodes) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl From<Vec<Option<u32>>> for LevelCodes {
    fn from(codes: Vec<Option<u32>>) -> LevelCodes {
        LevelCodes::from_options(&codes)
    }
}

impl FromIterator<Option<u32>> for LevelCodes {
    /// The codes in the narrowest width that holds the largest of them (they are
    /// gathered first; [`LevelCodes::new`] takes them in one pass when the number of
    /// levels is known).
    fn from_iter<I: IntoIterator<Item = Option<u32>>>(codes: I) -> LevelCodes {
        let codes: Vec<Option<u32>> = codes.into_iter().collect();
        LevelCodes::from_options(&codes)
    }
}

/// As a sequence of codes, `null` for a missing value (as `Vec<Option<u32>>` is).
impl Serialize for LevelCodes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_width_follows_the_number_of_levels() {
        let codes = [Some(0), None, Some(3)];
        for (n_levels, width) in [(4, 1), (255, 1), (256, 2), (65_535, 2), (65_536, 4)] {
            let c = LevelCodes::new(n_levels, codes);
            let got = match c {
                LevelCodes::U8(_) => 1,
                LevelCodes::U16(_) => 2,
                LevelCodes::U32(_) => 4,
            };
            assert_eq!(got, width, "{n_levels} levels");
            assert_eq!(c.iter().collect::<Vec<_>>(), codes);
            assert_eq!(c.len(), 3);
            assert_eq!(
                (c.get(0), c.get(1), c.get(2), c.get(3)),
                (Some(0), None, Some(3), None)
            );
            assert_eq!(c.first_missing(), Some(1));
        }
    }

    /// A code that does not fit the width of the number of levels (here 255 and 300 for
    /// one-byte codes) widens the codes instead of being read as missing or cut.
    #[test]
    fn a_code_past_the_width_widens_the_codes() {
        let codes = [Some(1), None, Some(255), Some(300), None];
        let c = LevelCodes::new(3, codes);
        assert!(matches!(c, LevelCodes::U32(_)));
        assert_eq!(c.iter().collect::<Vec<_>>(), codes);
        let c = LevelCodes::from_options(&codes);
        assert!(matches!(c, LevelCodes::U16(_)));
        assert_eq!(c.iter().collect::<Vec<_>>(), codes);
    }

    #[test]
    fn retain_select_and_equality_across_widths() {
        let codes = [Some(2), None, Some(0), Some(1)];
        let mut narrow = LevelCodes::new(3, codes);
        let wide = LevelCodes::new(70_000, codes);
        assert_eq!(narrow, wide);
        assert_ne!(narrow, LevelCodes::new(3, [Some(2), None, Some(0), None]));
        assert_eq!(
            narrow.select(&[3, 0]),
            LevelCodes::new(3, [Some(1), Some(2)])
        );
        narrow.retain(&[true, false, false, true]);
        assert_eq!(narrow.iter().collect::<Vec<_>>(), [Some(2), Some(1)]);
        assert_eq!(
            serde_json::to_string(&wide).ok().as_deref(),
            Some("[2,null,0,1]")
        );
    }
}
