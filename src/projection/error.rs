//! Failures reading or writing the projection rows.

use std::fmt;

#[derive(Debug)]
pub enum RowsError {
    /// A row that does not decode: the projection is damaged (rebuild it).
    Corrupt(String),
    /// A share that does not encode (never expected: every field is plain data).
    Encode(serde_json::Error),
}

impl fmt::Display for RowsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowsError::Corrupt(m) => write!(f, "{m}"),
            RowsError::Encode(e) => write!(f, "encoding a projection row: {e}"),
        }
    }
}

impl std::error::Error for RowsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RowsError::Encode(e) => Some(e),
            RowsError::Corrupt(_) => None,
        }
    }
}
