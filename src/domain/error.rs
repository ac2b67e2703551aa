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
    /// A visit to a share, or through a link, whose visit limit is used up.
    VisitLimitReached,
    /// A visit through a link the owner revoked.
    LinkRevoked,
    /// The policy's `allowedUsers` does not name the user.
    SharingNotAllowed,
    /// An expiry (or none) beyond the policy's `maxExpiresIn`; names the field.
    ExpiryTooFar {
        field: &'static str,
        max_seconds: u64,
    },
    /// The policy's `requirePassword`: a share without a password.
    PasswordPolicy,
    /// A notification URL outside the admin's `notify.allowedTargets`.
    NotifyTarget,
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
            DomainError::VisitLimitReached => {
                write!(
                    f,
                    "this link has been used as many times as its owner allowed"
                )
            }
            DomainError::LinkRevoked => write!(f, "this link was revoked by the share's owner"),
            DomainError::SharingNotAllowed => {
                write!(f, "sharing is not allowed for this user on this server")
            }
            DomainError::ExpiryTooFar { field, max_seconds } => write!(
                f,
                "{field}: shares on this server expire within {max_seconds} seconds at most"
            ),
            DomainError::PasswordPolicy => {
                write!(f, "password: every share on this server needs a password")
            }
            DomainError::NotifyTarget => write!(
                f,
                "url: notifications may only go to the targets this server's admin allows \
                 (notify.allowedTargets)"
            ),
        }
    }
}

impl std::error::Error for DomainError {}
