//! Whether an event read from elsewhere (an export being restored) is one the rules
//! could have written: `decide` makes every event of a live log, so a log that some
//! tool re-sealed could still hold what no server would write (a visit to a share
//! that never existed, a second create, a version that jumps). `restore` passes every
//! event through here before it keeps it.

use super::controls::{check_label, check_max_visits, MAX_LINKS};
use super::event::{Event, ShareChanges};
use super::ids::LinkId;
use super::owner::Owner;
use super::rules::{check_description_length, check_expiry};
use super::share::Share;
use super::visit::VisitKind;
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
        Event::NotifySettingsChanged(_) => {
            return impossible(format!("{name} on a share's stream"))
        }
        Event::ShareCreated(_) if state.is_some() => {
            return impossible(format!("{name} of a share that already exists"))
        }
        Event::ShareCreated(_) => {}
        Event::ShareVisited(v) | Event::SharePreviewed(v) => {
            if let Some((kind, _)) = event.counted() {
                check_counted(state, kind, at, v.link.as_ref())?;
            }
        }
        Event::ShareUpdated(_)
        | Event::ShareDeleted
        | Event::ShareLinkAdded(_)
        | Event::ShareLinkRevoked(_) => {
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
            check_max_visits(c.max_visits, "maxVisits").map_err(refused(name))?;
            Ok(())
        }
        Event::ShareUpdated(changes) => check_changes(changes, at).map_err(refused(name)),
        Event::ShareLinkAdded(l) => {
            let share = live(state, name)?;
            check_label(&l.label).map_err(refused(name))?;
            check_max_visits(l.max_visits, "maxVisits").map_err(refused(name))?;
            if share.link(&l.link).is_some() || l.link.as_str() == share.id.as_str() {
                return impossible(format!("{name} of a link id already in use"));
            }
            if share.links.len() >= MAX_LINKS {
                return impossible(format!("{name} past {MAX_LINKS} links"));
            }
            Ok(())
        }
        Event::ShareLinkRevoked(l) => match live(state, name)?.link(&l.link) {
            None => impossible(format!("{name} of a link the share does not have")),
            Some(link) if link.is_revoked() => {
                impossible(format!("{name} of a link already revoked"))
            }
            Some(_) => Ok(()),
        },
        Event::ShareDeleted
        | Event::ShareVisited(_)
        | Event::SharePreviewed(_)
        | Event::NotifySettingsChanged(_) => Ok(()),
    }
}

/// Checks an event logged on an owner's stream (`owner:{userId}`) as its `version`:
/// only notification settings live there, as `decide_owner` writes them.
pub fn check_logged_owner(
    state: Option<&Owner>,
    version: u64,
    event: &Event,
) -> Result<(), ImpossibleEvent> {
    let Event::NotifySettingsChanged(change) = event else {
        return impossible(format!("{} on an owner's stream", event.type_name()));
    };
    let next = state.map_or(1, |o| o.version + 1);
    if version != next {
        return impossible(format!(
            "version {version} where the stream's next version is {next}"
        ));
    }
    if state.and_then(|o| o.notify.as_ref()) == change.notify.as_ref() {
        return impossible("NotifySettingsChanged that changes nothing".into());
    }
    Ok(())
}

/// The rule for a visit or a preview (the fast path of a restore checks these without
/// decoding the whole event): only a live share that has not expired can be opened,
/// only through a link it has that is not revoked, and a visit only while neither the
/// share's limit nor the link's is used up.
pub fn check_counted(
    state: Option<&Share>,
    kind: VisitKind,
    at: OffsetDateTime,
    link: Option<&LinkId>,
) -> Result<(), ImpossibleEvent> {
    let name = kind.type_name();
    let share = live(state, name)?;
    if share.is_expired(at) {
        return impossible(format!("{name} after the share expired"));
    }
    let link = match link {
        None => None,
        Some(id) => match share.link(id) {
            None => return impossible(format!("{name} through a link the share does not have")),
            Some(l) if l.is_revoked() => {
                return impossible(format!("{name} through a revoked link"))
            }
            Some(l) => Some(l),
        },
    };
    if kind == VisitKind::Visit && (share.is_spent() || link.is_some_and(|l| l.is_spent())) {
        return impossible(format!("{name} past the visit limit"));
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
    if let Some(m) = c.max_visits {
        check_max_visits(m, "maxVisits")?;
    }
    Ok(())
}

fn refused(name: &str) -> impl Fn(super::DomainError) -> ImpossibleEvent + '_ {
    move |e| ImpossibleEvent(format!("{name} that the rules refuse ({e})"))
}

fn impossible<T>(message: String) -> Result<T, ImpossibleEvent> {
    Err(ImpossibleEvent(message))
}
