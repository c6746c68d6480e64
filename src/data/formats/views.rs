//! Text columns of the SAS and Stata readers built directly as Arrow string views, a
//! value at a time as the decoder hands them over: a value of up to 12 bytes is held
//! inside its view, a longer one is copied once into a buffer the view points to.
//! Gathering the text first and building the column from it afterwards copied every
//! value twice and went through polars' generic builder, a fifth of the time of a SAS
//! conversion.

use polars::prelude::*;
use polars_arrow::array::{MutableBinaryViewArray, Utf8ViewArray, View};

/// Bytes of long values held in one buffer before another is started: a view's offset
/// into its buffer is 32-bit.
const BUFFER_BYTES: usize = i32::MAX as usize;

/// One text variable's values of a chunk of rows.
pub(super) struct TextViews {
    array: MutableBinaryViewArray<str>,
    /// Long values of the buffer being filled; it becomes the array's next buffer.
    long: Vec<u8>,
    /// Bytes of all present values, as the array records them.
    bytes: usize,
    rows: usize,
    /// The size of the last chunk's long values, to allocate the next one's at once.
    long_hint: usize,
}

impl TextViews {
    pub(super) fn with_capacity(rows: usize) -> TextViews {
        TextViews {
            array: MutableBinaryViewArray::with_capacity(rows),
            long: Vec::new(),
            bytes: 0,
            rows,
            long_hint: 0,
        }
    }

    pub(super) fn push_null(&mut self) {
        self.array.push_null();
    }

    /// Appends a value; an empty one is missing, and so is a blank one when `trim`
    /// removes trailing blanks and NULs (SAS pads text with them; Stata keeps them).
    pub(super) fn push(&mut self, value: &str, trim: bool) {
        let mut bytes = value.as_bytes();
        if trim {
            // Both are ASCII, so the bytes left are still whole UTF-8 characters.
            while let [rest @ .., b' ' | 0] = bytes {
                bytes = rest;
            }
        }
        if bytes.is_empty() {
            return self.array.push_null();
        }
        let view = if bytes.len() <= View::MAX_INLINE_SIZE as usize {
            inline_view(bytes)
        } else {
            if self.long.len() + bytes.len() > BUFFER_BYTES {
                self.flush();
            }
            if self.long.capacity() == 0 {
                self.long.reserve(self.long_hint.max(bytes.len()));
            }
            // `long` is pushed as the next buffer, after those already in the array.
            let buffer = self.array.completed_buffers().len() as u32;
            let offset = self.long.len() as u32;
            self.long.extend_from_slice(bytes);
            View::new_from_bytes(bytes, buffer, offset)
        };
        self.bytes += bytes.len();
        // SAFETY: the view holds its bytes, or points at them in `long`, which becomes
        // the buffer it names (`flush`) before the array is read; the bytes are UTF-8.
        unsafe { self.array.views_mut().push(view) };
        if let Some(validity) = self.array.validity() {
            validity.push(true);
        }
    }

    fn flush(&mut self) {
        if !self.long.is_empty() {
            self.long_hint = self.long_hint.max(self.long.len());
            let long = std::mem::take(&mut self.long);
            self.array.push_buffer(long.into());
        }
    }

    /// The chunk's values as a String column, the builder emptied for the next chunk.
    pub(super) fn finish(&mut self, name: &str) -> Column {
        self.flush();
        let mut array = std::mem::replace(
            &mut self.array,
            MutableBinaryViewArray::with_capacity(self.rows),
        );
        // SAFETY: `bytes` is the sum of the lengths of the views pushed.
        unsafe { array.set_total_bytes_len(std::mem::take(&mut self.bytes)) };
        let array: Utf8ViewArray = array.freeze();
        StringChunked::with_chunk(name.into(), array)
            .into_series()
            .into_column()
    }
}

/// The view holding a value of at most 12 bytes, made of word loads (polars copies the
/// value's length of bytes, a call to `memcpy` per value).
#[inline]
fn inline_view(bytes: &[u8]) -> View {
    let len = bytes.len();
    // Two loads that together cover the value (they overlap when it is shorter than
    // their sum, with the same bytes).
    let value: u128 = if len >= 8 {
        u128::from(le_u64(bytes)) | u128::from(le_u32(&bytes[len - 4..])) << ((len - 4) * 8)
    } else if len >= 4 {
        u128::from(le_u32(bytes)) | u128::from(le_u32(&bytes[len - 4..])) << ((len - 4) * 8)
    } else {
        bytes
            .iter()
            .enumerate()
            .fold(0, |value, (i, &b)| value | u128::from(b) << (8 * i))
    };
    View::from(len as u128 | value << 32)
}

fn le_u64(bytes: &[u8]) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(word)
}

fn le_u32(bytes: &[u8]) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_views_are_polars_views() {
        let text = b"0123456789ab";
        for len in 0..=12 {
            let ours = inline_view(&text[..len]).as_u128();
            assert_eq!(
                ours,
                View::new_inline(&text[..len]).as_u128(),
                "{len} bytes"
            );
        }
    }

    /// Short, long (several buffers' worth would need gigabytes; one is checked),
    /// blank, padded and missing values come back as the generic builder makes them.
    #[test]
    fn views_hold_what_the_generic_builder_holds() {
        let values: Vec<Option<String>> = (0..5_000)
            .map(|i| match i % 7 {
                0 => None,
                1 => Some("   ".to_string()),
                2 => Some(format!("kort{i}  ")),
                3 => Some(format!("{}æøå{i}\0", "lang ".repeat(i % 9))),
                4 => Some(String::new()),
                5 => Some("præcis tolv!".to_string()),
                _ => Some(format!("{i:013}")),
            })
            .collect();
        for trim in [true, false] {
            let mut views = TextViews::with_capacity(16);
            for chunk in [&values[..1], &values[1..3_000], &values[3_000..]] {
                for value in chunk {
                    match value {
                        Some(v) => views.push(v, trim),
                        None => views.push_null(),
                    }
                }
                let ours = views.finish("t");
                let expected = StringChunked::from_iter_options(
                    "t".into(),
                    chunk.iter().map(|v| {
                        v.as_deref()
                            .map(|s| {
                                if trim {
                                    s.trim_end_matches([' ', '\0'])
                                } else {
                                    s
                                }
                            })
                            .filter(|s| !s.is_empty())
                    }),
                );
                let ours = ours.str().unwrap();
                assert_eq!(ours.len(), chunk.len());
                assert_eq!(ours.null_count(), expected.null_count(), "trim {trim}");
                assert!(
                    ours.iter().eq(expected.iter()),
                    "trim {trim}: values differ"
                );
            }
        }
    }
}
