//! The all-levels matrix of one factor read as what it is: a level code per row.

use super::codes::CodeSlice;
use super::compact::Compact;
use super::model_rows::{ModelRows, PieceOf};

impl ModelRows {
    /// When every column is the 0/1 indicator of one level of the same factor (the
    /// matrix of a factor main effect coded by all its levels, as a balance table lists
    /// them), the factor's code per row and the level code of each column: column `k`
    /// is 1 exactly in the rows whose code is `levels[k]`. `None` for any other matrix.
    pub fn indicator_levels(&self) -> Option<(CodeSlice<'_>, Vec<u32>)> {
        let mut variable = None;
        let mut levels = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let [PieceOf::Indicator(v, level)] = column.as_slice() else {
                return None;
            };
            if variable.is_some_and(|first| first != *v) {
                return None;
            }
            variable = Some(*v);
            levels.push(*level);
        }
        match &self.variables[variable?] {
            Compact::Factor { codes, .. } => Some((codes.as_slice(), levels)),
            _ => None,
        }
    }
}
