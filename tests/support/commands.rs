//! Domain commands for tests and benchmarks that drive the store directly.
//! (Benchmarks include this file with `#[path]` and each uses only some builders.)
#![allow(dead_code)]

use sharelog::domain::*;

pub const POLICY: Policy = Policy::open(true);

pub fn alice_actor() -> Actor {
    Actor {
        user_id: UserId("u-alice".into()),
        username: "alice".into(),
        is_admin: false,
    }
}

/// A song share with a distinct id for every `n`.
pub fn create(n: u128, description: &str) -> Command {
    Command::Create(CreateShare {
        id: ShareId::from_random(n.to_be_bytes()),
        actor: alice_actor(),
        description: Some(description.into()),
        format: Format::Raw,
        max_bit_rate: 0,
        downloadable: Some(false),
        expires_at: None,
        password: None,
        max_visits: None,
        items: ShareItems {
            songs: vec![SongItem {
                id: format!("song-{n}"),
                title: "Naïve \"song\"".into(),
                artist: "A".into(),
                album: "B".into(),
            }],
            ..Default::default()
        },
    })
}

pub fn rename(id: &ShareId, expected_version: Option<u64>, to: &str) -> Command {
    Command::Update(UpdateShare {
        id: id.clone(),
        actor: alice_actor(),
        expected_version,
        changes: ShareChanges {
            description: Some(Some(to.into())),
            ..Default::default()
        },
    })
}

pub fn delete(id: &ShareId) -> Command {
    Command::Delete(DeleteShare {
        id: id.clone(),
        actor: alice_actor(),
        expected_version: None,
    })
}

pub fn visit(id: &ShareId) -> Command {
    Command::Visit(VisitShare {
        id: id.clone(),
        kind: VisitKind::Visit,
        visit: VisitData {
            format: VisitFormat::M3u,
            download: false,
            player: Some("VLC".into()),
            client_ip: Some("h:3f2a9c0d1e".into()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) test/1.0".into()),
            link: None,
        },
    })
}

/// What a link-preview bot's unfurl appends: a visit's data, counted as a preview.
pub fn preview(id: &ShareId) -> Command {
    Command::Visit(VisitShare {
        id: id.clone(),
        kind: VisitKind::Preview,
        visit: VisitData {
            format: VisitFormat::Html,
            download: false,
            player: None,
            client_ip: Some("h:77aa01".into()),
            user_agent: Some("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)".into()),
            link: None,
        },
    })
}

/// A song share with a visit limit.
pub fn create_limited(n: u128, max_visits: u32) -> Command {
    let Command::Create(c) = create(n, "limited") else {
        unreachable!()
    };
    Command::Create(CreateShare {
        max_visits: Some(max_visits),
        ..c
    })
}

/// A link for a recipient, its id made from `n`.
pub fn add_link(id: &ShareId, n: u128, max_visits: Option<u32>) -> Command {
    Command::AddLink(AddLink {
        id: id.clone(),
        actor: alice_actor(),
        link: link_id(n),
        label: format!("friend {n}"),
        max_visits,
    })
}

pub fn link_id(n: u128) -> LinkId {
    LinkId::from_random((u128::MAX - n).to_be_bytes())
}

pub fn revoke_link(id: &ShareId, n: u128) -> Command {
    Command::RevokeLink(RevokeLink {
        id: id.clone(),
        actor: alice_actor(),
        link: link_id(n),
    })
}

/// `visit` or `preview` through link `n`.
pub fn via_link(cmd: Command, n: u128) -> Command {
    let Command::Visit(mut v) = cmd else {
        return cmd;
    };
    v.visit.link = Some(link_id(n));
    Command::Visit(v)
}
