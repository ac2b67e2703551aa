//! Key layout of the single sled tree. One-byte prefixes keep every kind of row
//! in one tree, so one `apply_batch` writes events and projections atomically.
//!
//! | key | value |
//! |---|---|
//! | `E` seq(u64 BE) | event envelope (canonical JSON line) |
//! | `S` stream id `0x00` version(u64 BE) | seq(u64 BE) (a share's, or `owner:{userId}`) |
//! | `P` share id | projection: the share's state (JSON) |
//! | `V` share id | projection: counters `{visitCount,previewCount,lastVisitedAt,version}` (`previewCount` absent in rows written before previews) |
//! | `O` user id | projection: an owner's stream, their notification settings (JSON) |
//! | `I` user id `0x00` idempotency key | `{shareId, fingerprint}` |
//! | `Z` | checkpoint `{lastSeq, lastHash, schemaVersion}` |
//!
//! `E` and `S` rows hold several events each (see `packing`). The checkpoint sorts
//! last, next to the small `V` rows: it changes with every batch, and sled rewrites
//! a whole leaf every few changes, so its leaf must not also hold event rows (as the
//! first schema's `C` key did, next to the oldest `E` rows). Opening a log moves a `C`
//! checkpoint to `Z`.

pub const EVENT: u8 = b'E';
pub const STREAM: u8 = b'S';
/// The projection's rows (`P`, `V`, `O`) are laid out by `projection::rows`.
pub use crate::projection::rows::{OWNER, SHARE, VISITS};
pub const IDEMPOTENCY: u8 = b'I';
pub const CHECKPOINT: &[u8] = b"Z";
/// Where the checkpoint was kept before it moved to `Z`.
pub const LEGACY_CHECKPOINT: &[u8] = b"C";

pub fn event(seq: u64) -> [u8; 9] {
    let mut k = [EVENT; 9];
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

pub fn seq_of_event_key(k: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = k.get(1..9)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

pub fn stream_prefix(share: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(share.len() + 2);
    k.push(STREAM);
    k.extend_from_slice(share.as_bytes());
    k.push(0);
    k
}

pub fn stream(share: &str, version: u64) -> Vec<u8> {
    let mut k = stream_prefix(share);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

pub fn prefixed(prefix: u8, rest: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(rest.len() + 1);
    k.push(prefix);
    k.extend_from_slice(rest.as_bytes());
    k
}

pub fn idempotency(user: &str, key: &str) -> Vec<u8> {
    let mut k = prefixed(IDEMPOTENCY, user);
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}
