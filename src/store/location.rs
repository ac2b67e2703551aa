//! Where a log is kept, as configured: the one place an engine is chosen for the
//! server (`Store::open_at`) and for the command line (`offline`).

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A sled database in this data directory, owned by one process.
    Sled(PathBuf),
    /// A PostgreSQL database, shared by every replica that names it.
    Postgres(DatabaseUrl),
}

impl Location {
    /// For messages: the directory or the database, never a password.
    pub fn describe(&self) -> String {
        match self {
            Location::Sled(dir) => dir.display().to_string(),
            Location::Postgres(url) => format!("PostgreSQL at {}", super::postgres::place(&url.0)),
        }
    }
}

/// A libpq connection string, which may hold a password: shown by `Debug` only
/// as where it connects.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(url.into())
    }

    /// The string itself, for the client library alone.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", super::postgres::place(&self.0))
    }
}
