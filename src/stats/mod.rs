//! Pure numerics: no polars, no files, no printing. Typed inputs (matrices, vectors,
//! group codes) in, typed result structs out.

pub mod balance;
pub mod design;
pub mod fixest;
pub mod formula;
pub mod glm;
pub mod matching;
pub mod table_one;
pub mod vcov;
