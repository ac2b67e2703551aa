//! Every stable error code a client can receive, with the HTTP status it always
//! comes with. Clients match on these strings: a code is added here or nowhere,
//! and the OpenAPI document lists exactly these (a test holds the two equal).

use actix_web::http::StatusCode;

macro_rules! error_codes {
    ($($variant:ident = $text:literal => $status:ident,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as clients see it (`"code"` in every error body).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }

            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

error_codes! {
    InvalidField = "invalid-field" => BAD_REQUEST,
    MalformedJson = "malformed-json" => BAD_REQUEST,
    DownloadsDisabled = "downloads-disabled" => BAD_REQUEST,
    ExpiryTooFar = "expiry-too-far" => BAD_REQUEST,
    PasswordPolicy = "password-policy" => BAD_REQUEST,
    NotifyTarget = "notify-target" => BAD_REQUEST,
    Unauthorized = "unauthorized" => UNAUTHORIZED,
    PasswordRequired = "password-required" => UNAUTHORIZED,
    AccessKeyRequired = "access-key-required" => UNAUTHORIZED,
    Forbidden = "forbidden" => FORBIDDEN,
    AccessDenied = "access-denied" => FORBIDDEN,
    DownloadNotAllowed = "download-not-allowed" => FORBIDDEN,
    ShownTokenInvalid = "shown-token-invalid" => FORBIDDEN,
    SharingNotAllowed = "sharing-not-allowed" => FORBIDDEN,
    CsrfRefused = "csrf-refused" => FORBIDDEN,
    NotFound = "not-found" => NOT_FOUND,
    MethodNotAllowed = "method-not-allowed" => METHOD_NOT_ALLOWED,
    BodyTimeout = "body-timeout" => REQUEST_TIMEOUT,
    VersionConflict = "version-conflict" => CONFLICT,
    AlreadyExists = "already-exists" => CONFLICT,
    ShownTokenUsed = "shown-token-used" => CONFLICT,
    ShareExpired = "share-expired" => GONE,
    ShownTokenExpired = "shown-token-expired" => GONE,
    VisitLimitReached = "visit-limit-reached" => GONE,
    LinkRevoked = "link-revoked" => GONE,
    PayloadTooLarge = "payload-too-large" => PAYLOAD_TOO_LARGE,
    RangeNotSatisfiable = "range-not-satisfiable" => RANGE_NOT_SATISFIABLE,
    UnknownItems = "unknown-items" => UNPROCESSABLE_ENTITY,
    IdempotencyKeyReused = "idempotency-key-reused" => UNPROCESSABLE_ENTITY,
    RateLimited = "rate-limited" => TOO_MANY_REQUESTS,
    TooManyTransfers = "too-many-transfers" => TOO_MANY_REQUESTS,
    InternalError = "internal-error" => INTERNAL_SERVER_ERROR,
    UnsupportedFormat = "unsupported-format" => NOT_IMPLEMENTED,
    UpstreamError = "upstream-error" => BAD_GATEWAY,
    UpstreamUnauthorized = "upstream-unauthorized" => BAD_GATEWAY,
    UpstreamUnavailable = "upstream-unavailable" => SERVICE_UNAVAILABLE,
    StoreUnavailable = "store-unavailable" => SERVICE_UNAVAILABLE,
    AuthUnavailable = "auth-unavailable" => SERVICE_UNAVAILABLE,
    TooManyFollowers = "too-many-followers" => SERVICE_UNAVAILABLE,
    TransfersBusy = "transfers-busy" => SERVICE_UNAVAILABLE,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
