//! Where a log is kept, as configured: the one place an engine is chosen for the
//! server (`Store::open_at`) and for the command line (`offline`).

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A sled database in this data directory, owned by one process.
    Sled(PathBuf),
}

impl Location {
    /// For messages: the directory or the database, never a password.
    pub fn describe(&self) -> String {
        match self {
            Location::Sled(dir) => dir.display().to_string(),
        }
    }
}
