//! The rules of docs/audit.md for one export line and for how it links to the
//! ones before it: what `audit verify`, `restore` and `backup` check.

use super::CommandError;
use crate::store::{chain, Envelope};
use serde_json::Value;

const KEYS: [&str; 11] = [
    "seq",
    "id",
    "stream",
    "version",
    "type",
    "typeVersion",
    "at",
    "actor",
    "data",
    "prevHash",
    "hash",
];

/// One checked event: its seq, its JSON object without `hash`, and its hash.
pub struct Checked {
    pub seq: u64,
    pub unhashed: Value,
    /// The canonical bytes that were hashed, and where `"hash":"…",` goes in them
    /// (keys are in byte order: after `data`, before `id`).
    hashed: Vec<u8>,
    splice: usize,
    pub hash: [u8; 32],
}

impl Checked {
    /// The canonical export line (what `audit export` writes for this event) and the
    /// event decoded by the domain's rules, which know every event type.
    pub fn into_event(self) -> Result<(Vec<u8>, Envelope), CommandError> {
        let Value::Object(mut map) = self.unhashed else {
            return Err(CommandError::Broken(format!(
                "seq {}: not an object",
                self.seq
            )));
        };
        let hex = chain::to_hex(&self.hash);
        // The stored line is the hashed bytes with `hash` inserted, as the committer writes it.
        let mut line = Vec::with_capacity(self.hashed.len() + 76);
        line.extend_from_slice(&self.hashed[..self.splice]);
        line.extend_from_slice(b"\"hash\":\"");
        line.extend_from_slice(hex.as_bytes());
        line.extend_from_slice(b"\",");
        line.extend_from_slice(&self.hashed[self.splice..]);
        map.insert("hash".into(), Value::String(hex));
        let env = Envelope::from_json(Value::Object(map)).map_err(|e| {
            CommandError::Broken(format!("seq {}: not a sharelog event: {e}", self.seq))
        })?;
        Ok((line, env))
    }
}

/// The state of a verification: the last event checked.
pub struct Chain {
    partial: bool,
    count: u64,
    last_seq: u64,
    head: [u8; 32],
}

impl Chain {
    pub fn new(partial: bool) -> Self {
        Chain {
            partial,
            count: 0,
            last_seq: 0,
            head: chain::GENESIS,
        }
    }

    /// A chain that continues after the event `last_seq` whose hash is `head`.
    pub fn resume(last_seq: u64, head: [u8; 32]) -> Self {
        Chain {
            partial: false,
            count: 0,
            last_seq,
            head,
        }
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// What was checked: the event count, the last seq and the head hash.
    pub fn summary(&self) -> String {
        format!(
            "{} events, last seq {}, head {}",
            self.count,
            self.last_seq,
            chain::to_hex(&self.head)
        )
    }

    /// Checks one line; `key_seq` is the seq under which the database stores it.
    pub fn check(
        &mut self,
        line_no: u64,
        line: &[u8],
        key_seq: Option<u64>,
    ) -> Result<Checked, CommandError> {
        let (mut value, seq) = self.parse(line_no, line)?;
        let fail = |reason: &str| CommandError::Broken(format!("seq {seq}: {reason}"));
        check_shape(&value, seq)?;
        let Value::Object(map) = &mut value else {
            return Err(fail("not a JSON object"));
        };
        let hash = hex_field(map, "hash", seq)?;
        let prev = hex_field(map, "prevHash", seq)?;
        if key_seq.is_some_and(|k| k != seq) {
            return Err(fail("stored under another seq"));
        }
        self.check_link(seq, &prev)?;
        map.remove("hash");
        let (hashed, splice) = canonical_with_splice(map);
        if chain::link(&prev, &hashed) != hash {
            return Err(fail("hash does not match the event's content"));
        }
        self.advance(seq, hash);
        Ok(Checked {
            seq,
            unhashed: value,
            hashed,
            splice,
            hash,
        })
    }

    /// The line as JSON and its seq. In a complete export line N must be seq N, so
    /// a line that cannot be read still names the seq it should have had.
    fn parse(&self, line_no: u64, line: &[u8]) -> Result<(Value, u64), CommandError> {
        let expected = (!self.partial).then_some(self.last_seq + 1);
        let at_line = |reason: String| match expected {
            Some(seq) => CommandError::Broken(format!("seq {seq} (line {line_no}): {reason}")),
            None => CommandError::Broken(format!("line {line_no}: {reason}")),
        };
        let value: Value =
            serde_json::from_slice(line).map_err(|e| at_line(format!("not a JSON event: {e}")))?;
        let Value::Object(map) = &value else {
            return Err(at_line("not a JSON object".into()));
        };
        let seq = map
            .get("seq")
            .and_then(Value::as_u64)
            .filter(|s| *s >= 1)
            .ok_or_else(|| at_line("missing or bad seq".into()))?;
        Ok((value, seq))
    }

    /// Takes an event whose hash is known to seal its content (`store::decode_sealed`):
    /// checks only how it links to the chain so far.
    pub fn follow(
        &mut self,
        seq: u64,
        prev: &[u8; 32],
        hash: [u8; 32],
    ) -> Result<(), CommandError> {
        self.check_link(seq, prev)?;
        self.advance(seq, hash);
        Ok(())
    }

    /// The rules that tie an event to the ones before it (docs/audit.md).
    fn check_link(&self, seq: u64, prev: &[u8; 32]) -> Result<(), CommandError> {
        let fail = |reason: &str| CommandError::Broken(format!("seq {seq}: {reason}"));
        if (seq == 1) != (*prev == chain::GENESIS) {
            return Err(fail("prevHash is the zero hash exactly when seq is 1"));
        }
        if self.count > 0 && seq <= self.last_seq {
            return Err(fail(&format!(
                "seq does not increase (after {})",
                self.last_seq
            )));
        }
        if !self.partial && seq != self.last_seq + 1 {
            return Err(CommandError::Broken(format!(
                "seq {}: missing (the next line has seq {seq})",
                self.last_seq + 1
            )));
        }
        if (self.count > 0 || !self.partial) && seq == self.last_seq + 1 && *prev != self.head {
            return Err(fail("prevHash does not match the previous event's hash"));
        }
        Ok(())
    }

    fn advance(&mut self, seq: u64, hash: [u8; 32]) {
        self.count += 1;
        self.last_seq = seq;
        self.head = hash;
    }
}

/// Exactly the eleven export keys, and no floating-point number anywhere.
fn check_shape(value: &Value, seq: u64) -> Result<(), CommandError> {
    let fail = |reason: &str| CommandError::Broken(format!("seq {seq}: {reason}"));
    let Value::Object(map) = value else {
        return Err(fail("not a JSON object"));
    };
    if map.len() != KEYS.len() || KEYS.iter().any(|k| !map.contains_key(*k)) {
        return Err(fail(
            "the event does not have exactly the eleven export keys",
        ));
    }
    if has_float(value) {
        return Err(fail("floating-point number"));
    }
    Ok(())
}

/// A hash field: 64 lowercase hex digits.
fn hex_field(
    map: &serde_json::Map<String, Value>,
    key: &str,
    seq: u64,
) -> Result<[u8; 32], CommandError> {
    map.get(key)
        .and_then(Value::as_str)
        .and_then(chain::from_hex)
        .ok_or_else(|| {
            CommandError::Broken(format!("seq {seq}: {key} is not 64 lowercase hex digits"))
        })
}

/// The canonical bytes of an event object without `hash` (as `chain::canonical_bytes`
/// writes them), and the offset of its first key that sorts after `hash`.
fn canonical_with_splice(map: &serde_json::Map<String, Value>) -> (Vec<u8>, usize) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut out = String::with_capacity(512);
    let mut splice = None;
    out.push('{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if splice.is_none() && k.as_bytes() > b"hash".as_slice() {
            splice = Some(out.len());
        }
        chain::write_string(&mut out, k);
        out.push(':');
        if let Some(v) = map.get(k) {
            chain::write_value(&mut out, v);
        }
    }
    out.push('}');
    // Every checked event has `id`, which sorts after `hash`.
    let splice = splice.unwrap_or(out.len() - 1);
    (out.into_bytes(), splice)
}

fn has_float(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(m) => m.values().any(has_float),
        _ => false,
    }
}
