//! Commands for the unit tests of this module, on an in-memory store.
#![allow(clippy::unwrap_used)]

use crate::domain::*;
use crate::store::Store;

pub fn alice() -> Actor {
    Actor {
        user_id: UserId("u-alice".into()),
        username: "alice".into(),
        is_admin: false,
    }
}

pub fn store() -> Store {
    Store::in_memory(Policy {
        notify_targets: vec!["http://hooks.test/".into()],
        ..Policy::open(true)
    })
}

/// A share of one song with the description `title` and an optional visit limit.
pub fn create(store: &Store, n: u128, title: &str, max_visits: Option<u32>) -> ShareId {
    let id = ShareId::from_random(n.to_be_bytes());
    let cmd = Command::Create(CreateShare {
        id: id.clone(),
        actor: alice(),
        description: Some(title.into()),
        format: Format::Raw,
        max_bit_rate: 0,
        downloadable: Some(true),
        expires_at: None,
        password: None,
        max_visits,
        items: ShareItems {
            songs: vec![SongItem {
                id: format!("song-{n}"),
                title: "Song".into(),
                artist: "A".into(),
                album: "B".into(),
            }],
            ..Default::default()
        },
    });
    store.execute_blocking(cmd, None).unwrap().unwrap();
    id
}

pub fn add_link(store: &Store, id: &ShareId, n: u128, label: &str, max: Option<u32>) -> LinkId {
    let link = LinkId::from_random((n + 1_000_000).to_be_bytes());
    let cmd = Command::AddLink(AddLink {
        id: id.clone(),
        actor: alice(),
        link: link.clone(),
        label: label.into(),
        max_visits: max,
    });
    store.execute_blocking(cmd, None).unwrap().unwrap();
    link
}

/// A visit (or a preview) through the share's own link or `link`; `Err` when refused.
pub fn open(
    store: &Store,
    id: &ShareId,
    link: Option<&LinkId>,
    kind: VisitKind,
    download: bool,
) -> Result<Result<(), crate::store::Refusal>, crate::store::StoreError> {
    let cmd = Command::Visit(VisitShare {
        id: id.clone(),
        kind,
        visit: VisitData {
            format: VisitFormat::Html,
            download,
            player: None,
            client_ip: None,
            user_agent: None,
            link: link.cloned(),
        },
    });
    store.execute_blocking(cmd, None).map(|r| r.map(|_| ()))
}

pub fn visit(store: &Store, id: &ShareId, link: Option<&LinkId>) {
    open(store, id, link, VisitKind::Visit, false)
        .unwrap()
        .unwrap();
}
