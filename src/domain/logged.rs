//! Whether an event read from elsewhere (an export being restored) is one the rules
//! could have written: `decide` makes every event of a live log, so a log that some
//! tool re-sealed could still hold what no server would write (a visit to a share
//! that never existed, a second create, a version that jumps). `restore` passes every
//! event through here before it keeps it.

use super::decide::{check_description_length, check_expiry};
use super::event::{Event, ShareChanges};
use super::share::Share;
use time::OffsetDateTime;

/// Why a logged event could not have been written by the rules, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImpossibleEvent(pub String);

impl std::fmt::Display for ImpossibleEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImpossibleEvent {}

/// Checks `event`, logged at `at` as version `version` of its stream, against the
/// stream's state before it (`None`: nothing logged yet).
pub fn check_logged(
    state: Option<&Share>,
    version: u64,
    event: &Event,
    at: OffsetDateTime,
) -> Result<(), ImpossibleEvent> {
    let name = event.type_name();
    // Whether the stream may have this event at all first: it says more than its version.
    match event {
        Event::ShareCreated(_) if state.is_some() => {
            return impossible(format!("{name} of a share that already exists"))
        }
        Event::ShareCreated(_) => {}
        Event::ShareVisited(_) | Event::SharePreviewed(_) => check_counted(state, name, at)?,
        Event::ShareUpdated(_) | Event::ShareDeleted => {
            live(state, name)?;
        }
    }
    check_version(state, version)?;
    match event {
        Event::ShareCreated(c) => {
            if c.items.is_empty() {
                return impossible(format!("{name} with no album, song or playlist"));
            }
            check_description_length(c.description.as_deref()).map_err(refused(name))?;
            check_expiry(c.expires_at, at).map_err(refused(name))?;
            Ok(())
        }
        Event::ShareUpdated(changes) => check_changes(changes, at).map_err(refused(name)),
        Event::ShareDeleted | Event::ShareVisited(_) | Event::SharePreviewed(_) => Ok(()),
    }
}

/// The rule for a visit or a preview (the fast path of a restore checks these without
/// decoding the whole event): only a live share that has not expired can be opened.
pub fn check_counted(
    state: Option<&Share>,
    name: &str,
    at: OffsetDateTime,
) -> Result<(), ImpossibleEvent> {
    let share = live(state, name)?;
    if share.is_expired(at) {
        return impossible(format!("{name} after the share expired"));
    }
    Ok(())
}

/// The version a stream's next event must carry: one more than the last.
pub fn check_version(state: Option<&Share>, version: u64) -> Result<(), ImpossibleEvent> {
    let next = state.map_or(1, |s| s.version + 1);
    if version != next {
        return impossible(format!(
            "version {version} where the stream's next version is {next}"
        ));
    }
    Ok(())
}

fn live<'a>(state: Option<&'a Share>, name: &str) -> Result<&'a Share, ImpossibleEvent> {
    match state {
        None => impossible(format!("{name} of a share that was never created")),
        Some(s) if s.deleted => impossible(format!("{name} of a deleted share")),
        Some(s) => Ok(s),
    }
}

/// An update as `decide` writes one: something changes, and each change keeps the rules.
fn check_changes(c: &ShareChanges, at: OffsetDateTime) -> Result<(), super::DomainError> {
    if c.is_empty() {
        return Err(super::DomainError::Invalid {
            field: "data",
            message: "an update that changes nothing".into(),
        });
    }
    if let Some(d) = &c.description {
        check_description_length(d.as_deref())?;
    }
    if let Some(e) = c.expires_at {
        check_expiry(e, at)?;
    }
    Ok(())
}

fn refused(name: &str) -> impl Fn(super::DomainError) -> ImpossibleEvent + '_ {
    move |e| ImpossibleEvent(format!("{name} that the rules refuse ({e})"))
}

fn impossible<T>(message: String) -> Result<T, ImpossibleEvent> {
    Err(ImpossibleEvent(message))
}
