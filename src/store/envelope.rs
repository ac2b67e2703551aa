//! The stored and exported form of an event: one JSON object per event, hashed into the chain.

use super::chain;
use crate::domain::{Actor, Event, ShareId, UserId};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An event as the log keeps it (CONTRACT §6 export format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub seq: u64,
    pub id: String,
    pub stream: ShareId,
    pub version: u64,
    pub at: OffsetDateTime,
    pub actor: Option<Actor>,
    pub event: Event,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
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
    pub fn unhashed_json(&self) -> Value {
        let actor = self
            .actor
            .as_ref()
            .map(|a| json!({"userId": a.user_id.0, "username": a.username}))
            .unwrap_or(Value::Null);
        json!({
            "seq": self.seq,
            "id": self.id,
            "stream": self.stream.as_str(),
            "version": self.version,
            "type": self.event.type_name(),
            "typeVersion": self.event.type_version(),
            "at": self.at.format(&Rfc3339).unwrap_or_default(),
            "actor": actor,
            "data": self.event.to_data(),
            "prevHash": chain::to_hex(&self.prev_hash),
        })
    }

    /// Computes `hash` from the other fields.
    pub fn seal(mut self) -> Self {
        self.hash = chain::link(
            &self.prev_hash,
            &chain::canonical_bytes(&self.unhashed_json()),
        );
        self
    }

    /// Whether `hash` matches the content and `prev_hash`.
    pub fn is_sealed(&self) -> bool {
        self.clone().seal().hash == self.hash
    }

    /// One export line (without the newline): canonical JSON including `hash`.
    pub fn to_line(&self) -> Vec<u8> {
        line_of(&self.unhashed_json(), &self.hash)
    }

    /// `seal` and `to_line` in one pass over the fields: the committer's hot path.
    pub fn seal_to_line(mut self) -> (Self, Vec<u8>) {
        let v = self.unhashed_json();
        self.hash = chain::link(&self.prev_hash, &chain::canonical_bytes(&v));
        let line = line_of(&v, &self.hash);
        (self, line)
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
        let stream = ShareId::parse(&str_field(&m, "stream")?).ok_or_else(|| bad("stream"))?;
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
