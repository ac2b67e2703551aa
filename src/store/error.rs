use crate::projection::RowsError;
use std::fmt;
use std::path::Path;

/// What can go wrong when appending or reading the log. A command the rules refuse
/// is not among them: that is a `Refusal`, answered as a value.
#[derive(Debug)]
pub enum StoreError {
    /// Another process holds the data directory (the path of its database file).
    Locked(String),
    /// A disk operation failed: what was being done, and the system's error.
    Disk {
        doing: String,
        source: std::io::Error,
    },
    /// The engine underneath failed (the database, an encoder): what was being done,
    /// and its error, kept whole for `source()`.
    Engine {
        doing: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Any other storage failure that has no error of its own beneath it, described;
    /// the store stops writing (poisoned) until restarted.
    Failed(String),
    /// Stored bytes that do not decode: the log is damaged.
    Corrupt(String),
    /// An event being imported that no server could have written (`domain::check_logged`).
    Impossible {
        seq: u64,
        reason: crate::domain::ImpossibleEvent,
    },
    /// The committer has stopped.
    Closed,
    /// The engine will not do what was asked (a restore into a log that is not empty).
    Refused(String),
    /// The engine cannot be reached just now (a database connection); the write
    /// was not made, and later ones may succeed.
    Unavailable(String),
}

impl StoreError {
    /// The engine's `source` failed while `doing` something.
    pub fn engine(
        doing: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StoreError::Engine {
            doing: doing.into(),
            source: source.into(),
        }
    }

    /// A held lock, named by the file locked: a sentence, not the system's error.
    pub fn locked(db_file: &Path) -> Self {
        StoreError::Locked(db_file.display().to_string())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Locked(file) => write!(
                f,
                "the data directory is in use by another process ({file} is locked); \
                 stop that process first"
            ),
            StoreError::Disk { doing, source } => {
                write!(f, "storage failure while {doing}: {source}")
            }
            StoreError::Engine { doing, source } => {
                write!(f, "storage failure while {doing}: {source}")
            }
            StoreError::Failed(m) => write!(f, "storage failure: {m}"),
            StoreError::Corrupt(m) => write!(f, "damaged event log: {m}"),
            StoreError::Impossible { seq, reason } => {
                write!(f, "event {seq} breaks the rules a server keeps: {reason}")
            }
            StoreError::Closed => write!(f, "event log is closed"),
            StoreError::Refused(m) => write!(f, "{m}"),
            StoreError::Unavailable(m) => write!(f, "the event log is unavailable: {m}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Disk { source, .. } => Some(source),
            StoreError::Engine { source, .. } => Some(source.as_ref()),
            StoreError::Impossible { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

impl From<RowsError> for StoreError {
    fn from(e: RowsError) -> Self {
        match e {
            RowsError::Corrupt(m) => StoreError::Corrupt(m),
            RowsError::Encode(e) => super::open::encoding(e),
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(source: std::io::Error) -> Self {
        StoreError::Disk {
            doing: "using the data directory".into(),
            source,
        }
    }
}

/// Names what a disk operation was doing when it failed.
pub trait Doing<T> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, StoreError>;
}

impl<T> Doing<T> for Result<T, std::io::Error> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Disk {
            doing: what(),
            source,
        })
    }
}
