//! Given / when / then: one behaviour per test, against `decide` and `apply` only.
//! The fixtures live here; `lifecycle` (create, update, delete), `opens` (visits and
//! previews) and `names` (formats and event type names) hold the tests.

mod controls;
mod lifecycle;
mod names;
mod opens;
mod policy;
mod versions;

use super::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);
const ALLOW: Policy = Policy::open(true);

fn alice() -> Actor {
    Actor {
        user_id: UserId("u-alice".into()),
        username: "alice".into(),
        is_admin: false,
    }
}
fn bob() -> Actor {
    Actor {
        user_id: UserId("u-bob".into()),
        username: "bob".into(),
        is_admin: false,
    }
}
fn admin() -> Actor {
    Actor {
        user_id: UserId("u-root".into()),
        username: "root".into(),
        is_admin: true,
    }
}
fn id() -> ShareId {
    ShareId::from_random([7; 16])
}
fn one_song() -> ShareItems {
    ShareItems {
        songs: vec![SongItem {
            id: "s1".into(),
            title: "T".into(),
            artist: "A".into(),
            album: "B".into(),
        }],
        ..Default::default()
    }
}
fn create_cmd() -> CreateShare {
    CreateShare {
        id: id(),
        actor: alice(),
        description: Some("mix".into()),
        format: Format::Raw,
        max_bit_rate: 0,
        downloadable: Some(false),
        expires_at: None,
        items: one_song(),
        password: None,
        max_visits: None,
    }
}

/// Given these events happened, the state they fold into.
fn given(events: &[Event]) -> Option<Share> {
    events.iter().fold(None, |s, e| apply(s, &id(), e, NOW))
}

fn created() -> Event {
    match decide(None, &Command::Create(create_cmd()), &ALLOW, NOW) {
        Ok(mut events) => events.remove(0),
        Err(e) => panic!("create refused: {e}"),
    }
}

fn when(state: &Option<Share>, cmd: Command) -> Result<Vec<Event>, DomainError> {
    decide(state.as_ref(), &cmd, &ALLOW, NOW)
}

fn update(actor: Actor, changes: ShareChanges) -> Command {
    Command::Update(UpdateShare {
        id: id(),
        actor,
        expected_version: None,
        changes,
    })
}

fn open(kind: VisitKind) -> Command {
    Command::Visit(VisitShare {
        id: id(),
        kind,
        visit: VisitData {
            format: VisitFormat::Html,
            download: false,
            player: None,
            client_ip: None,
            user_agent: None,
            link: None,
        },
    })
}

fn visit() -> Command {
    open(VisitKind::Visit)
}

fn preview() -> Command {
    open(VisitKind::Preview)
}

/// The state after `events`, applied one by one at their own times.
fn then(state: Option<Share>, events: &[(Event, OffsetDateTime)]) -> Share {
    events
        .iter()
        .fold(state, |s, (e, at)| apply(s, &id(), e, *at))
        .expect("share")
}
