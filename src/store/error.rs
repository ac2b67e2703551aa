use crate::domain::DomainError;
use std::fmt;

/// What can go wrong when appending or reading the log.
#[derive(Debug)]
pub enum StoreError {
    /// The command was refused by the domain rules: a client error.
    Rejected(DomainError),
    /// The same idempotency key arrived with a different request body.
    IdempotencyKeyReused,
    /// Another process holds the data directory.
    Locked(String),
    /// Disk or database failure; the store stops writing (poisoned) until restarted.
    Io(String),
    /// Stored bytes that do not decode: the log is damaged.
    Corrupt(String),
    /// The committer has stopped.
    Closed,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Rejected(e) => write!(f, "{e}"),
            StoreError::IdempotencyKeyReused => {
                write!(
                    f,
                    "Idempotency-Key was already used for a different request"
                )
            }
            StoreError::Locked(m) => write!(f, "data directory is in use by another process: {m}"),
            StoreError::Io(m) => write!(f, "storage failure: {m}"),
            StoreError::Corrupt(m) => write!(f, "damaged event log: {m}"),
            StoreError::Closed => write!(f, "event log is closed"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        match &e {
            sled::Error::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("lock") =>
            {
                StoreError::Locked(io.to_string())
            }
            _ => StoreError::Io(e.to_string()),
        }
    }
}

impl From<crate::projection::LoadError> for StoreError {
    fn from(e: crate::projection::LoadError) -> Self {
        match e {
            crate::projection::LoadError::Db(e) => e.into(),
            crate::projection::LoadError::Corrupt(m) => StoreError::Corrupt(m),
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Io(e.to_string())
    }
}
