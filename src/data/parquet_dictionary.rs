//! Dictionaries of a row group's column for the Parquet files of `shine convert`, made in
//! one pass through a small open-addressing table keyed by the values' bits.
//!
//! polars' writer makes no dictionary of floating-point values, where pandas' (pyarrow)
//! does: a register's sex, municipality or household size are a few distinct doubles,
//! and written plain they are most of the bytes the page compressor has to work
//! through. Its dictionaries of text go through a general hash map of byte strings;
//! short text (at most 12 bytes, held whole in its view: codes, identifiers) is keyed
//! here by the view itself. The decision is polars' own (see [`worth_it`]), and the
//! dictionary lists the values in order of first appearance, as polars lists them, so
//! a text column gets the pages polars would write.

use polars_arrow::array::{Array, DictionaryArray, PrimitiveArray, Utf8ViewArray, View};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};

/// What to write of one column of a row group.
pub(super) enum Dictionary {
    /// Keys into the distinct values, listed in order of first appearance.
    Found(DictionaryArray<u32>),
    /// Too many distinct values for a dictionary to be worth it: written plain.
    NotWorth,
    /// A kind of column left to polars' writer.
    Unsupported,
}

/// Why a column has no dictionary ([`Dictionary`]'s other cases).
#[derive(Debug, Clone, Copy)]
enum NoDictionary {
    NotWorth,
    Unsupported,
}

impl From<NoDictionary> for Dictionary {
    fn from(no: NoDictionary) -> Dictionary {
        match no {
            NoDictionary::NotWorth => Dictionary::NotWorth,
            NoDictionary::Unsupported => Dictionary::Unsupported,
        }
    }
}

/// polars' rule: a dictionary unless the row group has more than 128 rows and more
/// distinct values than three quarters of its rows. The most distinct values allowed.
fn worth_it(rows: usize) -> usize {
    if rows > 128 {
        rows * 3 / 4
    } else {
        rows
    }
}

/// The dictionary of a column of doubles or of short text; see [`Dictionary`].
pub(super) fn dictionary(array: &dyn Array) -> Dictionary {
    if array.null_count() == array.len() {
        return Dictionary::Unsupported;
    }
    let any = array.as_any();
    match array.dtype() {
        ArrowDataType::Float64 => match any.downcast_ref::<PrimitiveArray<f64>>() {
            Some(doubles) => of_doubles(doubles),
            None => Dictionary::Unsupported,
        },
        ArrowDataType::Utf8View => match any.downcast_ref::<Utf8ViewArray>() {
            Some(text) => of_short_text(text),
            None => Dictionary::Unsupported,
        },
        _ => Dictionary::Unsupported,
    }
}

fn of_doubles(array: &PrimitiveArray<f64>) -> Dictionary {
    let mut table = Table::new(worth_it(array.len()));
    let values = array.values().as_slice();
    let keys = match keys(values, array.validity(), &mut table, |v| Some(v.to_bits())) {
        Ok(keys) => keys,
        Err(no) => return no.into(),
    };
    let distinct: Vec<f64> = table.distinct.into_iter().map(f64::from_bits).collect();
    found(
        keys,
        array.validity().cloned(),
        PrimitiveArray::from_vec(distinct).boxed(),
    )
}

fn of_short_text(array: &Utf8ViewArray) -> Dictionary {
    let mut table = Table::new(worth_it(array.len()));
    let views = array.views().as_slice();
    // The length and the bytes of a value held in its view; whatever follows them is
    // not part of it.
    let short = |view: &View| {
        (view.length <= View::MAX_INLINE_SIZE)
            .then(|| view.as_u128() & (u128::MAX >> (96 - 8 * view.length)))
    };
    let keys = match keys(views, array.validity(), &mut table, short) {
        Ok(keys) => keys,
        Err(no) => return no.into(),
    };
    let bytes = table.distinct.iter().map(|&v| (v as u32) as usize).sum();
    let distinct: Vec<View> = table.distinct.into_iter().map(View::from).collect();
    // SAFETY: every view holds its value (at most 12 bytes, no buffer), taken from a
    // valid UTF-8 array with what followed the value cleared.
    let values = unsafe {
        Utf8ViewArray::new_unchecked(
            ArrowDataType::Utf8View,
            distinct.into(),
            Default::default(),
            None,
            Some(bytes),
            0,
        )
    };
    found(keys, array.validity().cloned(), values.boxed())
}

/// The key of every row (0 for a missing value: never read, and a key that exists), or
/// why there is no dictionary: a value `bits` cannot key, or too many distinct values.
fn keys<T, K: Bits>(
    values: &[T],
    validity: Option<&polars_arrow::bitmap::Bitmap>,
    table: &mut Table<K>,
    bits: impl Fn(&T) -> Option<K>,
) -> Result<Vec<u32>, NoDictionary> {
    let mut keys = vec![0; values.len()];
    let mut key_of = |value: &T| match bits(value) {
        Some(bits) => table.key(bits).ok_or(NoDictionary::NotWorth),
        None => Err(NoDictionary::Unsupported),
    };
    match validity {
        None => {
            for (key, value) in keys.iter_mut().zip(values) {
                *key = key_of(value)?;
            }
        }
        Some(valid) => {
            for ((key, value), valid) in keys.iter_mut().zip(values).zip(valid.iter()) {
                if valid {
                    *key = key_of(value)?;
                }
            }
        }
    }
    Ok(keys)
}

fn found(
    keys: Vec<u32>,
    validity: Option<polars_arrow::bitmap::Bitmap>,
    values: Box<dyn Array>,
) -> Dictionary {
    let dtype =
        ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(values.dtype().clone()), false);
    let keys = PrimitiveArray::new(ArrowDataType::UInt32, keys.into(), validity);
    match DictionaryArray::try_new(dtype, keys, values) {
        Ok(dictionary) => Dictionary::Found(dictionary),
        Err(_) => Dictionary::Unsupported,
    }
}

/// A value's bits, hashed for the table.
trait Bits: Copy + Eq {
    fn hash(self) -> u64;
}

impl Bits for u64 {
    #[inline]
    fn hash(self) -> u64 {
        (self ^ (self >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

impl Bits for u128 {
    #[inline]
    fn hash(self) -> u64 {
        ((self as u64) ^ ((self >> 64) as u64).rotate_left(23)).hash()
    }
}

/// Distinct values in order of first appearance, found through slots holding their
/// position + 1 (0: empty), at most half full.
struct Table<K> {
    slots: Vec<u32>,
    shift: u32,
    distinct: Vec<K>,
    limit: usize,
}

impl<K: Bits> Table<K> {
    fn new(limit: usize) -> Table<K> {
        Table {
            slots: vec![0; 256],
            shift: 64 - 8,
            distinct: Vec::new(),
            limit,
        }
    }

    /// The key of a value, or `None` once there are more distinct values than `limit`.
    #[inline(always)]
    fn key(&mut self, value: K) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = (value.hash() >> self.shift) as usize;
        loop {
            match self.slots[i] {
                0 => return self.insert(value, i),
                slot if self.distinct[slot as usize - 1] == value => return Some(slot - 1),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Adds a value not seen before at its empty slot `i`.
    #[inline(never)]
    fn insert(&mut self, value: K, i: usize) -> Option<u32> {
        if self.distinct.len() == self.limit {
            return None;
        }
        self.distinct.push(value);
        let key = self.distinct.len() as u32;
        self.slots[i] = key;
        if 2 * self.distinct.len() > self.slots.len() {
            self.grow();
        }
        Some(key - 1)
    }

    fn grow(&mut self) {
        self.shift -= 1;
        self.slots = vec![0; 2 * self.slots.len()];
        let mask = self.slots.len() - 1;
        for (position, value) in self.distinct.iter().enumerate() {
            let mut i = (value.hash() >> self.shift) as usize;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = position as u32 + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(dictionary: &DictionaryArray<u32>) -> Vec<u32> {
        dictionary.keys().values().as_slice().to_vec()
    }

    /// Doubles are told apart by their bits (0 and -0 stay two values, as written), nulls
    /// are kept, and the values are listed in order of first appearance.
    #[test]
    fn doubles_make_a_dictionary_of_their_bits() {
        let values = [
            Some(2.0),
            Some(-0.0),
            None,
            Some(0.0),
            Some(2.0),
            Some(1.5),
            None,
        ];
        let array = PrimitiveArray::<f64>::from_iter(values);
        let Dictionary::Found(made) = dictionary(&array) else {
            panic!("no dictionary")
        };
        let distinct = made
            .values()
            .as_any()
            .downcast_ref::<PrimitiveArray<f64>>()
            .unwrap();
        let bits: Vec<u64> = distinct.values().iter().map(|v| v.to_bits()).collect();
        let expected: Vec<u64> = [2.0f64, -0.0, 0.0, 1.5]
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(bits, expected);
        let keys = keys(&made);
        for (i, value) in values.iter().enumerate() {
            assert_eq!(made.is_valid(i), value.is_some(), "row {i}");
            if let Some(v) = value {
                assert_eq!(
                    distinct.value(keys[i] as usize).to_bits(),
                    v.to_bits(),
                    "row {i}"
                );
            }
        }
    }

    /// polars' rule: more than 128 rows and more distinct values than three quarters of
    /// them is not worth a dictionary; up to 128 rows always is. Many distinct values
    /// (the table grows) are kept in order.
    #[test]
    fn a_dictionary_is_made_as_polars_decides() {
        let unique =
            |n: usize| PrimitiveArray::<f64>::from_vec((0..n).map(|i| i as f64 * 0.37).collect());
        assert!(matches!(dictionary(&unique(200)), Dictionary::NotWorth));
        assert!(matches!(dictionary(&unique(128)), Dictionary::Found(_)));
        let many =
            PrimitiveArray::<f64>::from_vec((0..40_000).map(|i| (i % 30_000) as f64).collect());
        let Dictionary::Found(made) = dictionary(&many) else {
            panic!("no dictionary")
        };
        let keys = keys(&made);
        assert_eq!(made.values().len(), 30_000);
        assert!(keys
            .iter()
            .enumerate()
            .all(|(i, &k)| k as usize == i % 30_000));
    }

    /// Short text is keyed by its views, whatever follows a value in its view; a long
    /// value leaves the column to polars.
    #[test]
    fn short_text_makes_a_dictionary_of_its_views() {
        let values = [
            Some("U"),
            Some("G"),
            None,
            Some(""),
            Some("præcis12"),
            Some("G"),
            Some("U"),
        ];
        let array = Utf8ViewArray::from_slice(values);
        let Dictionary::Found(made) = dictionary(&array) else {
            panic!("no dictionary")
        };
        let distinct = made
            .values()
            .as_any()
            .downcast_ref::<Utf8ViewArray>()
            .unwrap();
        let listed: Vec<&str> = distinct.values_iter().collect();
        assert_eq!(listed, ["U", "G", "", "præcis12"]);
        let keys = keys(&made);
        for (i, value) in values.iter().enumerate() {
            assert_eq!(made.is_valid(i), value.is_some(), "row {i}");
            if let Some(v) = value {
                assert_eq!(distinct.value(keys[i] as usize), *v, "row {i}");
            }
        }
        // The same value with other bytes after it in its view is the same value.
        let mut dirty = Utf8ViewArray::from_slice([Some("ab"), Some("ab")]);
        unsafe {
            dirty.with_views_mut(|views| {
                views[1] = View::from(views[1].as_u128() | (0xffu128 << 96))
            })
        };
        let Dictionary::Found(made) = dictionary(&dirty) else {
            panic!("no dictionary")
        };
        assert_eq!(made.values().len(), 1);
        let long = Utf8ViewArray::from_slice([Some("a value longer than twelve bytes"), Some("b")]);
        assert!(matches!(dictionary(&long), Dictionary::Unsupported));
    }
}
