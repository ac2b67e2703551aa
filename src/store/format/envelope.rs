//! The stored and exported form of an event: one JSON object per event, hashed into the chain.

use crate::domain::{Actor, Event, StreamId, UnwritableEvent, UserId, VisitData};
use crate::store::chain;
use serde_json::{json, Map, Value};
use std::fmt::Write;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An event as the log keeps it (docs/audit.md export format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub seq: u64,
    pub id: String,
    pub stream: StreamId,
    pub version: u64,
    pub at: OffsetDateTime,
    pub actor: Option<Actor>,
    pub event: Event,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

impl crate::projection::Logged for Envelope {
    fn parts(&self) -> (&StreamId, &Event, OffsetDateTime) {
        (&self.stream, &self.event, self.at)
    }
}

/// Why stored bytes are not a valid envelope.
#[derive(Debug)]
pub struct BadEnvelope(pub String);

impl std::fmt::Display for BadEnvelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Envelope {
    /// The JSON object without `hash`: what the chain hashes.
    pub fn unhashed_json(&self) -> Result<Value, UnwritableEvent> {
        let actor = self
            .actor
            .as_ref()
            .map(|a| json!({"userId": a.user_id.0, "username": a.username}))
            .unwrap_or(Value::Null);
        let at = self
            .at
            .format(&Rfc3339)
            .map_err(|e| UnwritableEvent(format!("time {}: {e}", self.at)))?;
        Ok(json!({
            "seq": self.seq,
            "id": self.id,
            "stream": self.stream.to_string(),
            "version": self.version,
            "type": self.event.type_name(),
            "typeVersion": self.event.type_version(),
            "at": at,
            "actor": actor,
            "data": self.event.to_data()?,
            "prevHash": chain::to_hex(&self.prev_hash),
        }))
    }

    /// Computes `hash` from the other fields.
    pub fn seal(mut self) -> Result<Self, UnwritableEvent> {
        self.hash = chain::link(
            &self.prev_hash,
            &chain::canonical_bytes(&self.unhashed_json()?),
        );
        Ok(self)
    }

    /// Whether `hash` matches the content and `prev_hash`.
    pub fn is_sealed(&self) -> bool {
        self.clone().seal().is_ok_and(|s| s.hash == self.hash)
    }

    /// One export line (without the newline): canonical JSON including `hash`.
    pub fn to_line(&self) -> Result<Vec<u8>, UnwritableEvent> {
        Ok(line_of(&self.unhashed_json()?, &self.hash))
    }

    /// `seal` and `to_line` in one pass, writing the canonical bytes directly instead
    /// of through a `Value` tree: the committer's hot path. The fields are written in
    /// canonical (byte-sorted) key order; `hash` sorts between `data` and `id`, so the
    /// line is the hashed bytes with `"hash":"…",` spliced in at that point.
    /// `at_rfc3339` is `at` formatted, which a whole batch shares.
    pub fn seal_to_line(mut self, at_rfc3339: &str) -> Result<(Self, Vec<u8>), UnwritableEvent> {
        let mut out = String::with_capacity(640);
        out.push_str("{\"actor\":");
        match &self.actor {
            Some(a) => {
                out.push_str("{\"userId\":");
                chain::write_string(&mut out, &a.user_id.0);
                out.push_str(",\"username\":");
                chain::write_string(&mut out, &a.username);
                out.push('}');
            }
            None => out.push_str("null"),
        }
        out.push_str(",\"at\":");
        chain::write_string(&mut out, at_rfc3339);
        out.push_str(",\"data\":");
        write_data(&mut out, &self.event)?;
        out.push(',');
        let splice = out.len();
        out.push_str("\"id\":");
        chain::write_string(&mut out, &self.id);
        out.push_str(",\"prevHash\":\"");
        out.push_str(&chain::to_hex(&self.prev_hash));
        let _ = write!(out, "\",\"seq\":{},\"stream\":", self.seq);
        match &self.stream {
            // Nearly every event: a share's, written without a copy.
            StreamId::Share(id) => chain::write_string(&mut out, id.as_str()),
            owner => chain::write_string(&mut out, &owner.to_string()),
        }
        out.push_str(",\"type\":");
        chain::write_string(&mut out, self.event.type_name());
        let _ = write!(
            out,
            ",\"typeVersion\":{},\"version\":{}}}",
            self.event.type_version(),
            self.version
        );
        self.hash = chain::link(&self.prev_hash, out.as_bytes());
        let mut line = Vec::with_capacity(out.len() + 76);
        line.extend_from_slice(&out.as_bytes()[..splice]);
        line.extend_from_slice(b"\"hash\":\"");
        line.extend_from_slice(chain::to_hex(&self.hash).as_bytes());
        line.extend_from_slice(b"\",");
        line.extend_from_slice(&out.as_bytes()[splice..]);
        Ok((self, line))
    }

    pub fn from_line(bytes: &[u8]) -> Result<Self, BadEnvelope> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| BadEnvelope(e.to_string()))?;
        Self::from_json(v)
    }

    pub fn from_json(v: Value) -> Result<Self, BadEnvelope> {
        let Value::Object(mut m) = v else {
            return Err(BadEnvelope("not an object".into()));
        };
        let seq = take_u64(&m, "seq")?;
        let bad = |what: &str| BadEnvelope(format!("seq {seq}: bad {what}"));
        let str_field = |m: &Map<String, Value>, k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(k))
        };
        let stream = StreamId::parse(&str_field(&m, "stream")?).ok_or_else(|| bad("stream"))?;
        let at = OffsetDateTime::parse(&str_field(&m, "at")?, &Rfc3339).map_err(|_| bad("at"))?;
        let actor = match m.get("actor") {
            Some(Value::Object(a)) => Some(Actor {
                user_id: UserId(str_field(a, "userId")?),
                username: str_field(a, "username")?,
                is_admin: false,
            }),
            Some(Value::Null) => None,
            _ => return Err(bad("actor")),
        };
        let type_version =
            u32::try_from(take_u64(&m, "typeVersion")?).map_err(|_| bad("typeVersion"))?;
        let data = m.remove("data").ok_or_else(|| bad("data"))?;
        let event = Event::from_data(&str_field(&m, "type")?, type_version, data)
            .map_err(|e| BadEnvelope(format!("seq {seq}: {}", e.0)))?;
        let hex = |k: &str| chain::from_hex(&str_field(&m, k)?).ok_or_else(|| bad(k));
        Ok(Envelope {
            seq,
            id: str_field(&m, "id")?,
            stream,
            version: take_u64(&m, "version")?,
            at,
            actor,
            event,
            prev_hash: hex("prevHash")?,
            hash: hex("hash")?,
        })
    }
}

/// The canonical bytes of an event's `data`. Visits and previews, nearly every event,
/// are written field by field (keys in byte order, as `chain::write_value` would sort
/// them); the rest go through `to_data`. The test below holds the two ways equal.
fn write_data(out: &mut String, event: &Event) -> Result<(), UnwritableEvent> {
    let Some((
        _,
        VisitData {
            format,
            download,
            player,
            client_ip,
            user_agent,
            link,
        },
    )) = event.counted()
    else {
        chain::write_value(out, &event.to_data()?);
        return Ok(());
    };
    let opt = |out: &mut String, v: &Option<String>| match v {
        Some(s) => chain::write_string(out, s),
        None => out.push_str("null"),
    };
    out.push_str("{\"clientIp\":");
    opt(out, client_ip);
    out.push_str(if *download {
        ",\"download\":true"
    } else {
        ",\"download\":false"
    });
    out.push_str(",\"format\":");
    chain::write_string(out, format.as_str());
    // Only through a recipient link: other visits keep the bytes they had before links.
    if let Some(link) = link {
        out.push_str(",\"link\":");
        chain::write_string(out, link.as_str());
    }
    out.push_str(",\"player\":");
    opt(out, player);
    out.push_str(",\"userAgent\":");
    opt(out, user_agent);
    out.push('}');
    Ok(())
}

fn line_of(unhashed: &Value, hash: &[u8; 32]) -> Vec<u8> {
    match unhashed {
        Value::Object(m) => chain::canonical_bytes_with(m, "hash", &chain::to_hex(hash)),
        other => chain::canonical_bytes(other),
    }
}

fn take_u64(m: &Map<String, Value>, k: &str) -> Result<u64, BadEnvelope> {
    m.get(k)
        .and_then(Value::as_u64)
        .ok_or_else(|| BadEnvelope(format!("missing or bad {k}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::VisitFormat;

    fn envelope(event: Event, actor: Option<Actor>) -> Envelope {
        Envelope {
            seq: 42,
            id: "0b9a6c1e-8f1d-4a4e-9d55-1d5c1f6d7e01".into(),
            stream: crate::domain::ShareId::parse("AbCdEfGhIjKlMnOpQrStUv")
                .unwrap()
                .into(),
            version: 7,
            at: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            actor,
            event,
            prev_hash: [0xab; 32],
            hash: [0; 32],
        }
    }

    #[test]
    fn the_direct_writer_gives_the_bytes_of_the_generic_canonical_form() {
        let visit = Event::ShareVisited(VisitData {
            format: VisitFormat::M3u,
            download: false,
            player: Some("vlc \"quoted\"\n".into()),
            client_ip: Some("192.0.2.1".into()),
            user_agent: Some("Mozilla/5.0 é東".into()),
            link: None,
        });
        let actor = Actor {
            user_id: UserId("u-1".into()),
            username: "ann\\".into(),
            is_admin: false,
        };
        let bare = Event::ShareVisited(VisitData {
            format: VisitFormat::Raw,
            download: true,
            player: None,
            client_ip: None,
            user_agent: None,
            link: None,
        });
        let preview = Event::SharePreviewed(VisitData {
            format: VisitFormat::Html,
            download: false,
            player: None,
            client_ip: Some("h:1".into()),
            user_agent: Some("Slackbot-LinkExpanding 1.0".into()),
            link: None,
        });
        let other = Event::ShareDeleted;
        let via_link = |e: &Event| match e.clone() {
            Event::ShareVisited(mut v) => {
                v.link = crate::domain::LinkId::parse("L1nkL1nkL1nkL1nkL1nkL1");
                Event::ShareVisited(v)
            }
            Event::SharePreviewed(mut v) => {
                v.link = crate::domain::LinkId::parse("L1nkL1nkL1nkL1nkL1nkL1");
                Event::SharePreviewed(v)
            }
            other => other,
        };
        let linked_visit = via_link(&visit);
        let linked_preview = via_link(&preview);
        for env in [
            envelope(visit.clone(), None),
            envelope(visit, Some(actor)),
            envelope(bare, None),
            envelope(preview, None),
            envelope(other, None),
            envelope(linked_visit, None),
            envelope(linked_preview, None),
        ] {
            let slow = env.clone().seal().unwrap();
            let at = env.at.format(&Rfc3339).unwrap();
            let (fast, line) = env.seal_to_line(&at).unwrap();
            assert_eq!(fast.hash, slow.hash);
            assert_eq!(line, slow.to_line().unwrap());
            assert_eq!(Envelope::from_line(&line).unwrap(), fast);
        }
    }
}
