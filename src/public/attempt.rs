//! One attempt at a share's password, through the unlock form or HTTP Basic alike: the one
//! path every attempt takes (`check_password`), so the throttle, the memory of passwords
//! already found right, argon2 and the failure metric apply the same to both.

use super::access_key::Binding;
use super::door::Door;
use super::gate::Entry;
use super::proof::GivenPassword;
use crate::domain::{LinkId, PasswordHash, ShareId};
use crate::error::{ApiError, ErrorCode};
use crate::metrics::METRICS;
use std::net::IpAddr;
use std::time::Instant;

/// How one attempt at a password went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Right,
    Wrong,
    /// Not looked at: too many wrong ones before (`throttle`); try again in this many seconds.
    Throttled {
        retry_after: u64,
    },
}

/// A share's password as it stands when an attempt at it is checked.
pub struct Target {
    pub share: ShareId,
    pub link: Option<LinkId>,
    pub version: u64,
    pub hash: PasswordHash,
}

impl Target {
    /// The password of the share `entry` opened, if it has one.
    pub fn of(entry: &Entry) -> Option<Target> {
        Some(Target {
            share: entry.share.id.clone(),
            link: entry.link.clone(),
            version: entry.share.password_version,
            hash: entry.share.password.clone()?,
        })
    }

    fn binding(&self) -> Binding<'_> {
        Binding {
            share: &self.share,
            link: self.link.as_ref(),
            password_version: self.version,
        }
    }
}

/// One attempt at a share's password (`via`: `form` or `basic`, the metric's label), the one
/// path for both: the throttle first (429 past it, whatever the password), then the memory
/// of passwords already found right, then argon2 on the blocking pool. A wrong one counts
/// towards the throttle and `sharelog_share_unlock_failures_total`.
pub async fn check_password(
    door: &Door,
    target: &Target,
    given: GivenPassword,
    ip: IpAddr,
    via: &'static str,
) -> Attempt {
    let parts = &door.parts;
    if let Err(retry_after) = parts.throttle.check(&target.share, ip, Instant::now()) {
        return Attempt::Throttled { retry_after };
    }
    let binding = target.binding();
    if parts.checked.is_known_right(&parts.keys, binding, &given) {
        return Attempt::Right;
    }
    let right = given.could_be_one()
        && crate::shares::password::verify(target.hash.clone(), given.clone().into_clear()).await;
    if right {
        parts.checked.remember_right(&parts.keys, binding, &given);
        Attempt::Right
    } else {
        parts.throttle.failed(&target.share, ip, Instant::now());
        METRICS.unlock_failures.with_label_values(&[via]).inc();
        Attempt::Wrong
    }
}

/// 429: this client, or everyone, guessed this share's password wrong too often.
pub fn too_many_attempts(retry_after: u64) -> ApiError {
    ApiError {
        retry_after: Some(retry_after),
        ..ApiError::new(
            ErrorCode::RateLimited,
            "too many wrong passwords for this share; try again later",
        )
    }
}
