//! Why a share command failed, in terms each front door maps to its own answer
//! (the owner API to `ApiError`, Subsonic to its numbered codes).

use crate::domain::DomainError;
use crate::store::{Refusal, StoreError};
use crate::upstream::UpstreamError;
use std::fmt;

#[derive(Debug)]
pub enum ShareError {
    /// A domain rule refused the command: a bad field, downloads off, not visible,
    /// a version conflict, a past expiry.
    Rejected(DomainError),
    /// Ids the music server does not know, every one of them.
    UnknownItems(Vec<String>),
    /// The music server failed or could not be reached while the items were looked up.
    Upstream(UpstreamError),
    /// The same `Idempotency-Key` came with another body.
    IdempotencyKeyReused,
    /// The event log could not take the command.
    Store(StoreError),
    /// The operating system gave no random bytes for a new id or a salt.
    NoRandom(getrandom::Error),
    /// A password could not be hashed (never expected; the text of why, never the password).
    Hashing(String),
}

impl From<StoreError> for ShareError {
    fn from(e: StoreError) -> Self {
        ShareError::Store(e)
    }
}

impl From<Refusal> for ShareError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Rule(d) => ShareError::Rejected(d),
            Refusal::KeyReused => ShareError::IdempotencyKeyReused,
        }
    }
}

impl From<DomainError> for ShareError {
    fn from(e: DomainError) -> Self {
        ShareError::Rejected(e)
    }
}

impl fmt::Display for ShareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareError::Rejected(e) => write!(f, "{e}"),
            ShareError::UnknownItems(ids) => {
                write!(f, "{} id(s) are not known to the music server", ids.len())
            }
            ShareError::Upstream(e) => write!(f, "music server: {e}"),
            ShareError::IdempotencyKeyReused => f.write_str(&Refusal::KeyReused.to_string()),
            ShareError::Store(e) => write!(f, "{e}"),
            ShareError::NoRandom(e) => write!(f, "OS random source failed: {e}"),
            ShareError::Hashing(e) => write!(f, "password hashing failed: {e}"),
        }
    }
}
