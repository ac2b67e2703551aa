//! The one place where failures become HTTP answers: a status and a stable kebab-case code.

use crate::domain::DomainError;
pub use crate::error_code::ErrorCode;
use crate::store::{Refusal, StoreError};
use crate::upstream::UpstreamError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};
use std::fmt;

/// An error answer: `{"error": <for a person>, "code": <stable>, "field"?: <name>, ...extra}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub extra: Option<Box<(&'static str, Value)>>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `code`'s one status (see `ErrorCode`).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: code.status(),
            code,
            message: message.into(),
            field: None,
            extra: None,
            retry_after: None,
        }
    }

    /// 400 for a bad field, naming it.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = format!("{field}: {}", message.into());
        ApiError {
            field: Some(field),
            ..Self::new(ErrorCode::InvalidField, message)
        }
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "not found")
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// 503: the server that verifies credentials (Navidrome, the music server) did not answer.
    /// Never a pass: the request is refused until it answers again.
    pub fn auth_unavailable() -> Self {
        ApiError {
            retry_after: Some(5),
            ..Self::new(
                ErrorCode::AuthUnavailable,
                "the server that verifies logins is unreachable; try again later",
            )
        }
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::InternalError, "internal error")
    }

    pub fn with_extra(mut self, key: &'static str, value: Value) -> Self {
        self.extra = Some(Box::new((key, value)));
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({"error": self.message, "code": self.code.as_str()});
        if let Some(f) = &self.field {
            body["field"] = Value::String(f.clone());
        }
        if let Some(extra) = &self.extra {
            let (k, v) = extra.as_ref();
            body[*k] = v.clone();
        }
        let mut resp = HttpResponse::build(self.status);
        if let Some(s) = self.retry_after {
            resp.insert_header(("Retry-After", s.to_string()));
        }
        if self.code == ErrorCode::PasswordRequired {
            // What a media player or curl needs to ask for the password and send it back.
            resp.insert_header(("WWW-Authenticate", "Basic realm=\"share\""));
        }
        resp.json(body)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let msg = e.to_string();
        match e {
            DomainError::NotFound => ApiError::not_found(),
            DomainError::Expired => ApiError::new(ErrorCode::ShareExpired, "share expired"),
            DomainError::Invalid { field, message } => ApiError::invalid(field, message),
            DomainError::DownloadsDisabled => ApiError {
                field: Some("downloadable".into()),
                ..ApiError::new(ErrorCode::DownloadsDisabled, msg)
            },
            DomainError::VersionConflict { actual, .. } => {
                ApiError::new(ErrorCode::VersionConflict, msg)
                    .with_extra("currentVersion", json!(actual))
            }
            DomainError::AlreadyExists => ApiError::new(ErrorCode::AlreadyExists, msg),
            DomainError::VisitLimitReached => ApiError::new(ErrorCode::VisitLimitReached, msg),
            DomainError::LinkRevoked => ApiError::new(ErrorCode::LinkRevoked, msg),
            DomainError::SharingNotAllowed => ApiError::new(ErrorCode::SharingNotAllowed, msg),
            DomainError::ExpiryTooFar { field, max_seconds } => ApiError {
                field: Some(field.into()),
                ..ApiError::new(ErrorCode::ExpiryTooFar, msg)
            }
            .with_extra("maxExpiresIn", json!(max_seconds)),
            DomainError::PasswordPolicy => ApiError {
                field: Some("password".into()),
                ..ApiError::new(ErrorCode::PasswordPolicy, msg)
            },
            DomainError::NotifyTarget => ApiError {
                field: Some("url".into()),
                ..ApiError::new(ErrorCode::NotifyTarget, msg)
            },
        }
    }
}

/// A command the rules refused: the client's error, answered with its code.
impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Rule(d) => d.into(),
            Refusal::KeyReused => ApiError {
                field: Some("Idempotency-Key".into()),
                ..ApiError::new(ErrorCode::IdempotencyKeyReused, r.to_string())
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Closed | StoreError::Locked(_) => {
                log::error!("store unavailable: {e}");
                ApiError::new(
                    ErrorCode::StoreUnavailable,
                    "the event log is not available",
                )
            }
            StoreError::Disk { .. }
            | StoreError::Engine { .. }
            | StoreError::Failed(_)
            | StoreError::Corrupt(_)
            | StoreError::Impossible { .. }
            | StoreError::Refused(_)
            | StoreError::Unavailable(_) => {
                log::error!("store failure: {e}");
                ApiError::new(
                    ErrorCode::StoreUnavailable,
                    "the event log is not available",
                )
            }
        }
    }
}

impl ApiError {
    /// An upstream failure while creating a share (docs/api.md).
    pub fn from_upstream_on_create(e: UpstreamError) -> Self {
        log::warn!("upstream during create: {e}");
        match e {
            UpstreamError::Unavailable(_) => ApiError::new(
                ErrorCode::UpstreamUnavailable,
                "the music server is unreachable; try again later",
            ),
            _ => ApiError::new(
                ErrorCode::UpstreamError,
                "the music server answered with an error",
            ),
        }
    }
}
