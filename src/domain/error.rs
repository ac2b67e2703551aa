use std::fmt;

/// Why a command was refused. These are outcomes, not failures: each maps to a client error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// Unknown, deleted, or not visible to the actor (the same answer, on purpose).
    NotFound,
    /// The share's expiry has passed.
    Expired,
    /// A field's value breaks a rule; names the field.
    Invalid {
        field: &'static str,
        message: String,
    },
    /// `downloadable: true` while the server forbids downloads.
    DownloadsDisabled,
    /// `If-Match` named another version than the stream's current one.
    VersionConflict { expected: u64, actual: u64 },
    /// The id is already taken (only possible with a colliding random id).
    AlreadyExists,
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DomainError::NotFound => write!(f, "share not found"),
            DomainError::Expired => write!(f, "share expired"),
            DomainError::Invalid { field, message } => write!(f, "{field}: {message}"),
            DomainError::DownloadsDisabled => {
                write!(f, "downloadable: downloads are disabled on this server")
            }
            DomainError::VersionConflict { expected, actual } => write!(
                f,
                "version conflict: If-Match asked for version {expected}, the share is at {actual}"
            ),
            DomainError::AlreadyExists => write!(f, "share already exists"),
        }
    }
}

impl std::error::Error for DomainError {}
