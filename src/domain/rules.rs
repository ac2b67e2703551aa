//! The rules of single values that `decide` (new commands) and `check_logged` (logged
//! events) both apply: descriptions, expiries, and the expiry the policy allows.

use super::command::Policy;
use super::error::DomainError;
use super::share::MAX_DESCRIPTION_CHARS;
use time::{Duration, OffsetDateTime, UtcOffset};

pub(super) fn check_description(d: Option<&str>) -> Result<(), DomainError> {
    check_description_length(d)?;
    match d {
        // Text for people: line breaks and tabs, but no NUL or other control characters,
        // which a page, a Subsonic XML answer or an M3U line could not show as written.
        Some(d)
            if d.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            Err(invalid(
                "description",
                "must not contain control characters other than line breaks and tabs",
            ))
        }
        _ => Ok(()),
    }
}

/// The length rule of a description, apart from the character rule: logs written
/// before control characters were refused hold some, and a restore must take them.
pub(super) fn check_description_length(d: Option<&str>) -> Result<(), DomainError> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_CHARS => Err(invalid(
            "description",
            &format!("at most {MAX_DESCRIPTION_CHARS} characters"),
        )),
        _ => Ok(()),
    }
}

/// An expiry as the log keeps it: in the future, and in UTC whatever offset the client
/// wrote it with, so every answer and every event shows the instant the same way.
pub(super) fn check_expiry(
    e: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, DomainError> {
    let Some(t) = e else { return Ok(None) };
    // `9999-12-31T23:59:59-23:59` is in the year 10000, past what a time can hold.
    let t = t
        .checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| invalid("expiresAt", "must be before the year 10000"))?;
    if t <= now {
        return Err(invalid("expiresAt", "must be in the future"));
    }
    Ok(Some(t))
}

/// The policy's `maxExpiresIn` on an expiry as decided (`None`: never expires).
pub(super) fn check_max_expiry(
    e: Option<OffsetDateTime>,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    let Some(latest) = policy_offset(policy.max_expires_in, now) else {
        return Ok(());
    };
    if e.is_none_or(|t| t > latest) {
        return Err(DomainError::ExpiryTooFar {
            field: "expiresAt",
            max_seconds: policy.max_expires_in,
        });
    }
    Ok(())
}

/// The expiry of a create that names none: `defaultExpiresIn` from now, else the
/// longest `maxExpiresIn` allows, else none.
pub(super) fn default_expiry(policy: &Policy, now: OffsetDateTime) -> Option<OffsetDateTime> {
    policy_offset(policy.default_expires_in, now)
        .or_else(|| policy_offset(policy.max_expires_in, now))
}

/// `now` plus a policy's seconds; `None` for 0 (not set). Seconds past what a time can
/// hold are refused at start (`config::sharing`), so the cap below is never reached.
fn policy_offset(seconds: u64, now: OffsetDateTime) -> Option<OffsetDateTime> {
    if seconds == 0 {
        return None;
    }
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    now.checked_add(Duration::seconds(seconds))
        .or(Some(OffsetDateTime::new_utc(
            time::Date::MAX,
            time::Time::MIDNIGHT,
        )))
}

pub(super) fn invalid(field: &'static str, message: &str) -> DomainError {
    DomainError::Invalid {
        field,
        message: message.to_string(),
    }
}
