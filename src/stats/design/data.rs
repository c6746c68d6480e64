//! The data a formula is evaluated on: named columns of numbers, categories or logicals.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use serde::Serialize;

use super::codes::LevelCodes;
use super::error::DesignError;
use super::suggest::closest_name;

/// Up to this many distinct values, a text column's levels are found by comparing each
/// cell with the values seen so far rather than by hashing.
const FEW_LEVELS: usize = 16;

/// A fast unkeyed hash for the labels of one column (the multiply–rotate step of the
/// Firefox/rustc "Fx" hash, eight bytes at a time, then a finaliser); the labels come from the user's own
/// file, so a keyed hash's protection against chosen collisions is not needed.
#[derive(Default, Clone, Copy)]
struct LabelHasher(u64);

impl LabelHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for LabelHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(word);
            self.add(u64::from_le_bytes(buf));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    /// The state through MurmurHash3's 64-bit finaliser: the multiply–rotate steps leave
    /// the low bits depending only on the low bytes (labels such as `i000001` share
    /// those), and the table picks its bucket from the low bits.
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// One column of input data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ColumnData {
    /// Numbers; `NaN` marks a missing value.
    Numeric(Vec<f64>),
    /// A categorical column: a code per row indexing `levels` (missing codes mark
    /// missing values), with the levels in R's order (the first is the reference level).
    Categorical {
        codes: LevelCodes,
        levels: Vec<String>,
    },
    /// `TRUE`/`FALSE`; `None` = missing.
    Logical(Vec<Option<bool>>),
}

impl ColumnData {
    /// A categorical column from strings, with levels sorted by bytes (R's `sort()` in the
    /// C locale) and `None` as missing.
    pub fn from_strings<S: AsRef<str>>(values: &[Option<S>]) -> ColumnData {
        if let Some(column) = Self::from_few_strings(values) {
            return column;
        }
        // One pass gives each distinct value a code in the order first seen; the distinct
        // values alone are then sorted and the codes renumbered by rank.
        let mut index: HashMap<&str, u32, BuildHasherDefault<LabelHasher>> = HashMap::default();
        let mut seen: Vec<&str> = Vec::new();
        let codes: Vec<Option<u32>> = values
            .iter()
            .map(|v| {
                v.as_ref().map(|s| {
                    let s = s.as_ref();
                    *index.entry(s).or_insert_with(|| {
                        seen.push(s);
                        (seen.len() - 1) as u32
                    })
                })
            })
            .collect();
        let mut by_value: Vec<u32> = (0..seen.len() as u32).collect();
        by_value.sort_unstable_by_key(|&k| seen[k as usize]);
        let mut rank = vec![0u32; seen.len()];
        for (r, &k) in by_value.iter().enumerate() {
            rank[k as usize] = r as u32;
        }
        let codes = LevelCodes::new(
            seen.len(),
            codes.into_iter().map(|c| c.map(|c| rank[c as usize])),
        );
        let levels = by_value
            .iter()
            .map(|&k| seen[k as usize].to_string())
            .collect();
        ColumnData::Categorical { codes, levels }
    }

    /// [`from_strings`](Self::from_strings) for a column of at most [`FEW_LEVELS`]
    /// distinct values (labels such as a region or a level of education), in one pass
    /// that looks each cell up among the values seen so far; `None` when there are more.
    fn from_few_strings<S: AsRef<str>>(values: &[Option<S>]) -> Option<ColumnData> {
        // The code of the value in the order first seen, `u8::MAX` for a missing value.
        let mut seen: Vec<&str> = Vec::new();
        let mut first_seen: Vec<u8> = Vec::with_capacity(values.len());
        for value in values {
            let code = match value.as_ref().map(AsRef::as_ref) {
                None => u8::MAX,
                Some(s) => match seen.iter().position(|&l| l == s) {
                    Some(k) => k as u8,
                    None if seen.len() < FEW_LEVELS => {
                        seen.push(s);
                        (seen.len() - 1) as u8
                    }
                    None => return None,
                },
            };
            first_seen.push(code);
        }
        let mut by_value: Vec<usize> = (0..seen.len()).collect();
        by_value.sort_unstable_by_key(|&k| seen[k]);
        let mut sorted_code = vec![0u32; seen.len()];
        for (rank, &k) in by_value.iter().enumerate() {
            sorted_code[k] = rank as u32;
        }
        let codes = LevelCodes::new(
            seen.len(),
            first_seen
                .into_iter()
                .map(|c| sorted_code.get(usize::from(c)).copied()),
        );
        let levels = by_value.iter().map(|&k| seen[k].to_string()).collect();
        Some(ColumnData::Categorical { codes, levels })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Numeric(v) => v.len(),
            ColumnData::Categorical { codes, .. } => codes.len(),
            ColumnData::Logical(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn kind(&self) -> &'static str {
        match self {
            ColumnData::Numeric(_) => "numeric",
            ColumnData::Categorical { .. } => "categorical",
            ColumnData::Logical(_) => "logical",
        }
    }

    pub(super) fn is_missing(&self, row: usize) -> bool {
        match self {
            ColumnData::Numeric(v) => v[row].is_nan(),
            ColumnData::Categorical { codes, .. } => codes.get(row).is_none(),
            ColumnData::Logical(v) => v[row].is_none(),
        }
    }
}

/// Named columns of equal length: the data a formula is evaluated on.
///
/// Columns are shared between clones (a clone of a large data set is cheap).
#[derive(Clone, Debug, Default)]
pub struct DataSet {
    names: Vec<String>,
    columns: Vec<Arc<ColumnData>>,
    index: HashMap<String, usize>,
}

impl DataSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column.
    ///
    /// # Errors
    /// A duplicate name, a length that differs from the columns already added, or a
    /// categorical code outside its levels (or repeated levels).
    pub fn push(&mut self, name: impl Into<String>, column: ColumnData) -> Result<(), DesignError> {
        let name = name.into();
        if self.index.contains_key(&name) {
            return Err(DesignError::DuplicateColumn { name });
        }
        if let Some(first) = self.columns.first() {
            if first.len() != column.len() {
                return Err(DesignError::LengthMismatch {
                    name,
                    len: column.len(),
                    expected: first.len(),
                });
            }
        }
        if let ColumnData::Categorical { codes, levels } = &column {
            let mut sorted: Vec<&String> = levels.iter().collect();
            sorted.sort_unstable();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(DesignError::InvalidColumn {
                    name,
                    message: format!("the level `{}` appears twice", w[0]),
                });
            }
            if let Some((row, code)) = codes.first_outside(levels.len()) {
                return Err(DesignError::InvalidColumn {
                    name,
                    message: format!(
                        "row {} has level code {code} but there are only {} levels",
                        row + 1,
                        levels.len()
                    ),
                });
            }
        }
        self.index.insert(name.clone(), self.columns.len());
        self.names.push(name);
        self.columns.push(Arc::new(column));
        Ok(())
    }

    /// Keeps the rows that `keep` marks (one flag per row), in place: no copy of a
    /// column unless another data set shares it.
    pub fn retain_rows(&mut self, keep: &[bool]) {
        for column in &mut self.columns {
            match Arc::make_mut(column) {
                ColumnData::Numeric(v) => retain_marked(v, keep),
                ColumnData::Categorical { codes, .. } => codes.retain(keep),
                ColumnData::Logical(v) => retain_marked(v, keep),
            }
        }
    }

    /// The number of rows (0 for a data set without columns).
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.len())
    }

    pub fn get(&self, name: &str) -> Option<&ColumnData> {
        self.index.get(name).map(|&i| self.columns[i].as_ref())
    }

    /// Column names in the order they were added.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    pub(super) fn column(&self, name: &str) -> Result<&ColumnData, DesignError> {
        self.shared_column(name).map(|c| c.as_ref())
    }

    /// The column, as shared with the clones of the data set.
    pub(super) fn shared_column(&self, name: &str) -> Result<&Arc<ColumnData>, DesignError> {
        self.index
            .get(name)
            .map(|&i| &self.columns[i])
            .ok_or_else(|| DesignError::UnknownColumn {
                name: name.to_string(),
                suggestion: closest_name(name, &self.names),
            })
    }
}

/// Keeps `v[i]` where `keep[i]` is true, in order (rows past `keep` are dropped).
fn retain_marked<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut marks = keep.iter();
    v.retain(|_| marks.next() == Some(&true));
}

#[cfg(test)]
mod tests {
    use std::hash::Hash;

    use super::*;

    /// Labels that differ only in their high bytes (`i000001`, `i000002`, ...) must still
    /// spread over the low bits a hash table takes its bucket from.
    #[test]
    fn label_hashes_spread_over_the_low_bits() {
        let n = 1 << 16;
        let mut low: Vec<u64> = (1..=n)
            .map(|k| {
                let mut h = LabelHasher::default();
                format!("i{k:06}").as_str().hash(&mut h);
                h.finish() & 0xffff
            })
            .collect();
        low.sort_unstable();
        low.dedup();
        // Random 16-bit values for 65,536 keys leave about 63% distinct.
        assert!(low.len() > n * 55 / 100, "{} distinct of {n}", low.len());
    }

    #[test]
    fn many_labels_are_coded_in_sorted_order() {
        let values: Vec<Option<String>> = (0..5000)
            .rev()
            .map(|k| (k % 7 != 0).then(|| format!("id{k:05}")))
            .collect();
        let ColumnData::Categorical { codes, levels } = ColumnData::from_strings(&values) else {
            panic!("not categorical");
        };
        assert!(levels.windows(2).all(|w| w[0] < w[1]));
        for (v, c) in values.iter().zip(&codes) {
            assert_eq!(v.as_deref(), c.map(|c| levels[c as usize].as_str()));
        }
    }
}
