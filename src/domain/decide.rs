use super::command::{Command, CreateShare, Policy, UpdateShare};
use super::error::DomainError;
use super::event::{Event, ShareChanges, ShareCreated};
use super::ids::ShareId;
use super::share::{Share, MAX_DESCRIPTION_CHARS};
use super::visit::Counted;
use time::{OffsetDateTime, UtcOffset};

/// Every rule of the share lifecycle: the events `cmd` produces against `state`, or why not.
/// An empty list means the command changes nothing (an update to the current values).
pub fn decide(
    state: Option<&Share>,
    cmd: &Command,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Vec<Event>, DomainError> {
    match cmd {
        Command::Create(c) => create(state, c, policy, now),
        Command::Update(c) => update(state, c, policy, now),
        Command::Delete(c) => {
            let share = visible(state, &c.actor)?;
            check_version(share, c.expected_version)?;
            Ok(vec![Event::ShareDeleted])
        }
        // Visits and previews alike: only a live share can be opened.
        Command::Visit(v) => {
            let share = state.filter(|s| !s.deleted).ok_or(DomainError::NotFound)?;
            if share.is_expired(now) {
                return Err(DomainError::Expired);
            }
            Ok(vec![Event::of_counted(v.kind, v.visit.clone())])
        }
    }
}

fn create(
    state: Option<&Share>,
    c: &CreateShare,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Vec<Event>, DomainError> {
    if state.is_some() {
        return Err(DomainError::AlreadyExists);
    }
    if c.items.is_empty() {
        return Err(invalid(
            "albums",
            "a share needs at least one album, song or playlist",
        ));
    }
    check_description(c.description.as_deref())?;
    let expires_at = check_expiry(c.expires_at, now)?;
    if c.downloadable && !policy.allow_downloads {
        return Err(DomainError::DownloadsDisabled);
    }
    Ok(vec![Event::ShareCreated(ShareCreated {
        owner_id: c.actor.user_id.clone(),
        owner_name: c.actor.username.clone(),
        description: c.description.clone().filter(|d| !d.is_empty()),
        format: c.format,
        max_bit_rate: c.max_bit_rate,
        downloadable: c.downloadable,
        expires_at,
        items: c.items.clone(),
    })])
}

fn update(
    state: Option<&Share>,
    c: &UpdateShare,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Vec<Event>, DomainError> {
    let share = visible(state, &c.actor)?;
    check_version(share, c.expected_version)?;
    let mut changes = only_real_changes(share, &c.changes);
    if let Some(d) = &changes.description {
        check_description(d.as_deref())?;
    }
    if let Some(e) = changes.expires_at {
        changes.expires_at = Some(check_expiry(e, now)?);
    }
    if changes.downloadable == Some(true) && !policy.allow_downloads {
        return Err(DomainError::DownloadsDisabled);
    }
    if changes.is_empty() {
        return Ok(vec![]);
    }
    Ok(vec![Event::ShareUpdated(changes)])
}

/// Drops fields equal to the current values, so a client that sends the whole
/// record back (as react-admin does) records only what it really changed.
fn only_real_changes(share: &Share, c: &ShareChanges) -> ShareChanges {
    let description = c
        .description
        .clone()
        .map(|d| d.filter(|d| !d.is_empty()))
        .filter(|d| *d != share.description);
    ShareChanges {
        description,
        format: c.format.filter(|f| *f != share.format),
        max_bit_rate: c.max_bit_rate.filter(|b| *b != share.max_bit_rate),
        downloadable: c.downloadable.filter(|d| *d != share.downloadable),
        expires_at: c.expires_at.filter(|e| *e != share.expires_at),
    }
}

fn visible<'a>(state: Option<&'a Share>, actor: &super::Actor) -> Result<&'a Share, DomainError> {
    state
        .filter(|s| s.is_visible_to(actor))
        .ok_or(DomainError::NotFound)
}

fn check_version(share: &Share, expected: Option<u64>) -> Result<(), DomainError> {
    match expected {
        Some(v) if v != share.version => Err(DomainError::VersionConflict {
            expected: v,
            actual: share.version,
        }),
        _ => Ok(()),
    }
}

fn check_description(d: Option<&str>) -> Result<(), DomainError> {
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

fn invalid(field: &'static str, message: &str) -> DomainError {
    DomainError::Invalid {
        field,
        message: message.to_string(),
    }
}

/// Folds one event into a share's state. Assigns only; every check happened in `decide`.
pub fn apply(
    state: Option<Share>,
    id: &ShareId,
    event: &Event,
    at: OffsetDateTime,
) -> Option<Share> {
    match (state, event) {
        (None, Event::ShareCreated(e)) => Some(created(id, e, at)),
        (Some(mut s), e) => {
            if let Some((kind, _)) = e.counted() {
                Counted::one(kind, at).apply_to(&mut s);
                return Some(s);
            }
            s.version += 1;
            match e {
                Event::ShareCreated(_) => {}
                Event::ShareUpdated(c) => updated(&mut s, c, at),
                Event::ShareDeleted => {
                    s.deleted = true;
                    s.updated_at = at;
                }
                Event::ShareVisited(_) | Event::SharePreviewed(_) => {}
            }
            Some(s)
        }
        (None, _) => None,
    }
}

/// A share as its `ShareCreated` event made it: version 1, nothing counted yet.
fn created(id: &ShareId, e: &ShareCreated, at: OffsetDateTime) -> Share {
    Share {
        id: id.clone(),
        owner_id: e.owner_id.clone(),
        owner_name: e.owner_name.clone(),
        description: e.description.clone(),
        format: e.format,
        max_bit_rate: e.max_bit_rate,
        downloadable: e.downloadable,
        expires_at: e.expires_at,
        created_at: at,
        updated_at: at,
        items: e.items.clone(),
        visit_count: 0,
        preview_count: 0,
        last_visited_at: None,
        version: 1,
        deleted: false,
    }
}

/// The fields a `ShareUpdated` names, assigned; the others stay.
fn updated(s: &mut Share, c: &ShareChanges, at: OffsetDateTime) {
    if let Some(d) = &c.description {
        s.description = d.clone();
    }
    if let Some(f) = c.format {
        s.format = f;
    }
    if let Some(b) = c.max_bit_rate {
        s.max_bit_rate = b;
    }
    if let Some(d) = c.downloadable {
        s.downloadable = d;
    }
    if let Some(e) = c.expires_at {
        s.expires_at = e;
    }
    s.updated_at = at;
}
