//! A data directory whose shares were opened over past weeks: the events are written as an
//! export with past times (sealed into a hash chain) and turned into a data directory by
//! `sharelog restore`, as a backup would be. Visits of earlier days cannot be made over HTTP;
//! this is how the owner page's chart is shown a month of them.

use super::offline::{config_for, sharelog};
use sharelog::domain::*;
use sharelog::store::{chain, Envelope};
use std::path::Path;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// A share to write: made `days_ago`, with its links and opens.
pub struct Planned {
    pub id: ShareId,
    pub days_ago: i64,
    pub created: ShareCreated,
    /// (label, visit limit, days ago) of each recipient link, in order.
    pub links: Vec<(&'static str, Option<u32>, i64)>,
    /// (days ago, visits, previews, through link number) of each day it was opened.
    pub opens: Vec<(i64, u32, u32, Option<usize>)>,
}

impl Planned {
    /// An album share by alice (`u-alice`), made `days_ago`.
    pub fn album(
        n: u8,
        days_ago: i64,
        album: &super::upstream::Album,
        description: &str,
    ) -> Planned {
        Planned {
            id: ShareId::from_random([n; 16]),
            days_ago,
            created: ShareCreated {
                owner_id: UserId("u-alice".into()),
                owner_name: "alice".into(),
                description: Some(description.into()),
                format: Format::Raw,
                max_bit_rate: 0,
                downloadable: false,
                expires_at: None,
                items: ShareItems {
                    albums: vec![AlbumItem {
                        id: album.id.clone(),
                        name: album.name.clone(),
                        artist: album.artist.clone(),
                        song_count: album.songs.len() as u32,
                    }],
                    ..Default::default()
                },
                password: None,
                max_visits: None,
            },
            links: vec![],
            opens: vec![],
        }
    }

    /// The id of link number `i`.
    pub fn link_id(&self, i: usize) -> LinkId {
        let mut bytes = [self.id.as_str().len() as u8; 16];
        bytes[0] = 200 + i as u8;
        bytes[1] = self.id.as_str().as_bytes()[0];
        LinkId::from_random(bytes)
    }
}

fn alice() -> Actor {
    Actor {
        user_id: UserId("u-alice".into()),
        username: "alice".into(),
        is_admin: false,
    }
}

/// Writes `shares` into a new data directory `dir` (panics unless the restore works).
pub fn restore(dir: &Path, shares: &[Planned]) {
    let now = OffsetDateTime::now_utc();
    // Each event at its day, at 09:00 UTC plus a second per event, so the order holds; today's
    // are put a minute before now, never in the future.
    let at = |days_ago: i64, k: i64| {
        let day = (now - Duration::days(days_ago)).date();
        let t = day.midnight().assume_utc() + Duration::hours(9) + Duration::seconds(k);
        t.min(now - Duration::minutes(1) + Duration::milliseconds(k))
    };
    let mut events: Vec<(OffsetDateTime, ShareId, Option<Actor>, Event)> = Vec::new();
    let mut k = 0;
    let mut next = || {
        k += 1;
        k
    };
    for s in shares {
        events.push((
            at(s.days_ago, next()),
            s.id.clone(),
            Some(alice()),
            Event::ShareCreated(s.created.clone()),
        ));
        for (i, (label, limit, days_ago)) in s.links.iter().enumerate() {
            let link = LinkAdded {
                link: s.link_id(i),
                label: label.to_string(),
                max_visits: *limit,
            };
            events.push((
                at(*days_ago, next()),
                s.id.clone(),
                Some(alice()),
                Event::ShareLinkAdded(link),
            ));
        }
        for (days_ago, visits, previews, link) in &s.opens {
            let data = VisitData {
                format: VisitFormat::Html,
                download: false,
                player: None,
                client_ip: None,
                user_agent: Some("Mozilla/5.0 (test)".into()),
                link: link.map(|i| s.link_id(i)),
            };
            for (kind, n) in [(VisitKind::Visit, visits), (VisitKind::Preview, previews)] {
                for _ in 0..*n {
                    let event = Event::of_counted(kind, data.clone());
                    events.push((at(*days_ago, next()), s.id.clone(), None, event));
                }
            }
        }
    }
    events.sort_by_key(|e| e.0);
    let mut versions = std::collections::HashMap::new();
    let mut prev = chain::GENESIS;
    let mut export = Vec::new();
    for (i, (when, id, actor, event)) in events.into_iter().enumerate() {
        let seq = i as u64 + 1;
        let version = versions.entry(id.clone()).or_insert(0u64);
        *version += 1;
        let env = Envelope {
            seq,
            id: format!("00000000-0000-4000-8000-{seq:012x}"),
            stream: id.into(),
            version: *version,
            at: when,
            actor,
            event,
            prev_hash: prev,
            hash: [0; 32],
        };
        let (env, line) = env.seal_to_line(&when.format(&Rfc3339).unwrap()).unwrap();
        prev = env.hash;
        export.extend_from_slice(&line);
        export.push(b'\n');
    }
    let file = dir.with_extension("jsonl");
    std::fs::write(&file, &export).unwrap();
    let out = sharelog(
        &config_for(dir),
        &["restore", "--from", file.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
