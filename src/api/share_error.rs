//! How the owner API answers a share service failure. Subsonic maps the same
//! `ShareError` to its own codes (`subsonic::handlers`); the service knows neither.

use crate::error::{ApiError, ErrorCode};
use crate::shares::ShareError;
use crate::store::Refusal;
use crate::upstream::UpstreamError;
use serde_json::json;

impl From<ShareError> for ApiError {
    fn from(e: ShareError) -> Self {
        match e {
            ShareError::Rejected(d) => d.into(),
            ShareError::UnknownItems(ids) => ApiError::new(
                ErrorCode::UnknownItems,
                ShareError::UnknownItems(ids.clone()).to_string(),
            )
            .with_extra("items", json!(ids)),
            // A setting of ours, not an outage: the answer names it and its fix.
            ShareError::Upstream(u @ UpstreamError::Refused(_)) => {
                log::warn!("upstream during create: {u}");
                ApiError::new(ErrorCode::UpstreamUnauthorized, u.to_string())
            }
            ShareError::Upstream(u) => ApiError::from_upstream_on_create(u),
            ShareError::IdempotencyKeyReused => Refusal::KeyReused.into(),
            ShareError::Store(s) => s.into(),
            ShareError::NoRandom(r) => {
                log::error!("OS random source failed: {r}");
                ApiError::internal()
            }
            ShareError::Hashing(why) => {
                log::error!("password hashing failed: {why}");
                ApiError::internal()
            }
        }
    }
}
