//! Reading an export line back fast (`sharelog restore`): its fields are decoded
//! straight into an [`Envelope`] and written again the way the committer writes
//! them ([`Envelope::seal_to_line`], which also computes the hash). When that gives
//! the very same bytes, the line is canonical and its `hash` seals its content and
//! `prevHash` (docs/audit.md), without a generic JSON tree, a key sort or a second
//! canonical form. Any other line (keys in another order, another escape, a bad
//! hash, a type this build writes differently) is not decoded here: the caller
//! checks it the general way, which also names what is wrong with it.

use crate::domain::{Actor, Event, StreamId, UserId, VisitData, VisitKind};
use crate::store::{chain, Envelope};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The eleven keys of an export line. A missing `actor` decodes as `None` here and
/// is then written as `null`, so such a line never comes out equal.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Fields<'a, D> {
    seq: u64,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    stream: Cow<'a, str>,
    version: u64,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    type_version: u32,
    #[serde(borrow)]
    at: Cow<'a, str>,
    #[serde(borrow)]
    actor: Option<ActorFields<'a>>,
    data: D,
    #[serde(borrow)]
    prev_hash: Cow<'a, str>,
    #[serde(borrow)]
    hash: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ActorFields<'a> {
    #[serde(borrow)]
    user_id: Cow<'a, str>,
    #[serde(borrow)]
    username: Cow<'a, str>,
}

/// The event of `line` if `line` is exactly the canonical, sealed export line of
/// that event; `None` otherwise (not a verdict: check such a line the general way).
pub fn decode_sealed(line: &[u8]) -> Option<Envelope> {
    // Visits and previews, nearly every line, have their `data` read as it is typed;
    // other events through a JSON value, as `Event::from_data` takes it.
    decode_with::<VisitData>(line, |kind, _, data| {
        VisitKind::of_type_name(kind).map(|kind| Event::of_counted(kind, data))
    })
    .or_else(|| {
        decode_with::<Value>(line, |kind, version, data| {
            Event::from_data(kind, version, data).ok()
        })
    })
}

/// Decodes `line` with `data` as a `D`, builds the event with `event(type,
/// typeVersion, data)`, and keeps it only if writing it again gives `line`.
fn decode_with<'a, D: Deserialize<'a>>(
    line: &'a [u8],
    event: impl FnOnce(&str, u32, D) -> Option<Event>,
) -> Option<Envelope> {
    let f: Fields<'a, D> = serde_json::from_slice(line).ok()?;
    // `hash` is compared as part of the bytes below; it only has to be read.
    let _ = &f.hash;
    if f.seq == 0 {
        return None;
    }
    let env = Envelope {
        seq: f.seq,
        id: f.id.into_owned(),
        stream: StreamId::parse(&f.stream)?,
        version: f.version,
        at: OffsetDateTime::parse(&f.at, &Rfc3339).ok()?,
        actor: f.actor.map(|a| Actor {
            user_id: UserId(a.user_id.into_owned()),
            username: a.username.into_owned(),
            is_admin: false,
        }),
        event: event(&f.kind, f.type_version, f.data)?,
        prev_hash: chain::from_hex(&f.prev_hash)?,
        hash: [0; 32],
    };
    let (env, again) = env.seal_to_line(&f.at).ok()?;
    (again == line).then_some(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::VisitFormat;

    fn visit() -> Event {
        Event::ShareVisited(VisitData {
            format: VisitFormat::M3u,
            download: false,
            player: Some("vlc \"q\"\n".into()),
            client_ip: None,
            user_agent: Some("Mozilla/5.0 é".into()),
            link: None,
        })
    }

    fn sealed_line() -> (Envelope, Vec<u8>) {
        sealed_line_of(visit(), None)
    }

    fn sealed_line_of(event: Event, actor: Option<Actor>) -> (Envelope, Vec<u8>) {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let env = Envelope {
            seq: 7,
            id: "0b9a6c1e-8f1d-4a4e-9d55-1d5c1f6d7e01".into(),
            stream: crate::domain::ShareId::parse("AbCdEfGhIjKlMnOpQrStUv")
                .unwrap()
                .into(),
            version: 3,
            at,
            actor,
            event,
            prev_hash: [0xab; 32],
            hash: [0; 32],
        };
        let text = at.format(&Rfc3339).unwrap();
        env.seal_to_line(&text).unwrap()
    }

    #[test]
    fn a_sealed_canonical_line_decodes_to_its_event() {
        let created = Event::ShareCreated(crate::domain::ShareCreated {
            password: None,
            max_visits: None,
            owner_id: UserId("u-1".into()),
            owner_name: "ann".into(),
            description: Some("a \\ b".into()),
            format: crate::domain::Format::Raw,
            max_bit_rate: 128,
            downloadable: true,
            expires_at: None,
            items: crate::domain::ShareItems::default(),
        });
        let preview = Event::SharePreviewed(VisitData {
            format: VisitFormat::Html,
            download: false,
            player: None,
            client_ip: Some("h:1".into()),
            user_agent: None,
            link: None,
        });
        let actor = Actor {
            user_id: UserId("u-1".into()),
            username: "ann".into(),
            is_admin: false,
        };
        let link = crate::domain::LinkId::parse("L1nkL1nkL1nkL1nkL1nkL1").unwrap();
        let Event::ShareVisited(mut via) = visit() else {
            unreachable!()
        };
        via.link = Some(link.clone());
        let Event::ShareCreated(mut guarded) = created.clone() else {
            unreachable!()
        };
        guarded.password = crate::domain::PasswordHash::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        );
        guarded.max_visits = Some(7);
        let added = Event::ShareLinkAdded(crate::domain::LinkAdded {
            link: link.clone(),
            label: "Bob \"B\"".into(),
            max_visits: None,
        });
        let revoked = Event::ShareLinkRevoked(crate::domain::LinkRevoked { link });
        for (event, actor) in [
            (visit(), None),
            (preview, None),
            (created, Some(actor.clone())),
            (Event::ShareDeleted, None),
            (Event::ShareVisited(via), None),
            (Event::ShareCreated(guarded), Some(actor.clone())),
            (added, Some(actor.clone())),
            (revoked, Some(actor)),
        ] {
            let (env, line) = sealed_line_of(event, actor);
            assert_eq!(decode_sealed(&line), Some(env));
        }
    }

    #[test]
    fn a_line_with_another_hash_or_key_order_or_escape_is_left_to_the_general_check() {
        let (env, line) = sealed_line();
        let text = String::from_utf8(line).unwrap();
        let hex = chain::to_hex(&env.hash);
        let tampered = text.replace(&hex, &"0".repeat(64));
        let content = text.replace("\"version\":3", "\"version\":4");
        let spaced = text.replacen(',', ", ", 1);
        let escaped = text.replace("é", "\\u00e9");
        let inner = &text["{\"actor\":null,".len()..text.len() - 1];
        let reordered = format!("{{{inner},\"actor\":null}}");
        for other in [tampered, content, spaced, escaped, reordered] {
            assert_ne!(other, text);
            assert_eq!(decode_sealed(other.as_bytes()), None, "{other}");
        }
    }
}
