//! A command the rules refused: the caller's mistake, not the store's.
//!
//! The store answers `Result<Result<T, Refusal>, StoreError>`: the outer error is a
//! failure of the log (the caller may retry, an operator may need to look), the inner
//! one a decision (the caller must change what it asks). Keeping them apart in the
//! type means no front door has to pick a client error out of a storage failure.

use crate::domain::DomainError;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A domain rule refused the command: a bad field, not visible, a version conflict,
    /// a limit used up.
    Rule(DomainError),
    /// The same `Idempotency-Key` came with another request body.
    KeyReused,
}

impl From<DomainError> for Refusal {
    fn from(e: DomainError) -> Self {
        Refusal::Rule(e)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Rule(e) => write!(f, "{e}"),
            Refusal::KeyReused => {
                f.write_str("Idempotency-Key was already used for a different request")
            }
        }
    }
}

impl std::error::Error for Refusal {}
