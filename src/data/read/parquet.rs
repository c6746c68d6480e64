//! Reading a Parquet file whatever its writer chose for each column: the storage types
//! polars reads are read; the others (16-bit floats, decimals, nested types, ...) are
//! refused before reading, naming the column, its type and how to write it instead, so
//! that no type reaches a reader that cannot take it.

use std::io::Cursor;

use polars::prelude::*;

/// Why a Parquet file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParquetError {
    #[error("not a readable Parquet file: {0}")]
    Unreadable(String),
    #[error("column {column}: stored as {storage}, which shine cannot read — expected integers, floats (32 or 64 bits), text, booleans, dates or timestamps ({hint})")]
    UnsupportedType {
        column: String,
        storage: String,
        hint: &'static str,
    },
}

/// Reads every column of a Parquet file held in memory.
///
/// # Errors
/// [`ParquetError::UnsupportedType`] for the first column of a type that is not read,
/// [`ParquetError::Unreadable`] for a file that is not Parquet or is damaged.
pub fn read_parquet(bytes: Vec<u8>) -> Result<DataFrame, ParquetError> {
    // polars' Parquet reader trusts the file's metadata and panics on some damaged
    // files (found by tests/fuzz_inputs.rs); a damaged file is bad input, not a crash.
    let read = || {
        let unreadable = |e: PolarsError| ParquetError::Unreadable(e.to_string());
        let mut reader = ParquetReader::new(Cursor::new(bytes));
        let schema = reader.schema().map_err(unreadable)?;
        for (name, field) in schema.iter() {
            if let Some(hint) = unsupported(field.dtype()) {
                return Err(ParquetError::UnsupportedType {
                    column: name.to_string(),
                    storage: describe(field.dtype()),
                    hint,
                });
            }
        }
        reader.finish().map_err(unreadable)
    };
    quiet_panics::catch(read).unwrap_or_else(|message| {
        Err(ParquetError::Unreadable(format!(
            "the file is damaged ({message})"
        )))
    })
}

/// Running code that may panic on bad input, turning the panic into its message without
/// printing it.
mod quiet_panics {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Once;

    /// How many [`catch`] calls are running; while any is, panics are not printed.
    static RUNNING: AtomicUsize = AtomicUsize::new(0);
    static HOOK: Once = Once::new();

    /// Runs `f`; a panic inside it (on this thread or a worker it waits for) becomes
    /// `Err` with the panic's message.
    pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if RUNNING.load(Ordering::SeqCst) == 0 {
                    previous(info);
                }
            }));
        });
        RUNNING.fetch_add(1, Ordering::SeqCst);
        let outcome = catch_unwind(AssertUnwindSafe(f));
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        outcome.map_err(|payload| {
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the reader stopped".into())
        })
    }
}

/// How to write a column of this storage type instead, if it cannot be read.
fn unsupported(dtype: &ArrowDataType) -> Option<&'static str> {
    use ArrowDataType as A;
    match dtype {
        A::Null
        | A::Boolean
        | A::Int8
        | A::Int16
        | A::Int32
        | A::Int64
        | A::UInt8
        | A::UInt16
        | A::UInt32
        | A::UInt64
        | A::Float32
        | A::Float64
        | A::Utf8
        | A::LargeUtf8
        | A::Utf8View
        | A::Binary
        | A::LargeBinary
        | A::BinaryView
        | A::Date32
        | A::Date64
        | A::Timestamp(..)
        | A::Time32(_)
        | A::Time64(_) => None,
        A::Dictionary(_, values, _) => unsupported(values),
        A::Float16 => Some("write it as float32 or float64: pandas `astype('float64')`, R `as.double()`"),
        A::Decimal(..) | A::Decimal32(..) | A::Decimal64(..) | A::Decimal256(..) => {
            Some("write it as float64: pandas `astype('float64')`, R `as.double()`, arrow `cast(pa.float64())`")
        }
        A::Int128 | A::UInt128 => Some("write it as int64 or float64"),
        _ => Some("write one plain column per value"),
    }
}

/// The storage type as Arrow names it (`float16`, `decimal128(6, 2)`, ...).
fn describe(dtype: &ArrowDataType) -> String {
    use ArrowDataType as A;
    match dtype {
        A::Float16 => "float16".into(),
        A::Decimal(p, s) => format!("decimal128({p}, {s})"),
        A::Decimal32(p, s) => format!("decimal32({p}, {s})"),
        A::Decimal64(p, s) => format!("decimal64({p}, {s})"),
        A::Decimal256(p, s) => format!("decimal256({p}, {s})"),
        other => format!("{other:?}").to_lowercase(),
    }
}
