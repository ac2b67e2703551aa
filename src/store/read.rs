//! Reading the log back: lazily, in seq order, so an export of any length runs in constant memory.

use super::{keys, Envelope, StoreError};
use crate::domain::ShareId;

/// Events in seq order, decoded one at a time.
pub struct EventIter {
    inner: sled::Iter,
}

impl Iterator for EventIter {
    type Item = Result<Envelope, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let kv = self.inner.next()?;
        Some(
            kv.map_err(StoreError::from)
                .and_then(|(_, v)| Envelope::from_line(&v).map_err(|e| StoreError::Corrupt(e.0))),
        )
    }
}

pub fn events(db: &sled::Db, from_seq: u64) -> EventIter {
    EventIter {
        inner: db.range(keys::event(from_seq.max(1))..keys::event(u64::MAX)),
    }
}

pub fn stream(db: &sled::Db, id: &ShareId) -> Result<Vec<Envelope>, StoreError> {
    let mut out = Vec::new();
    for kv in db.scan_prefix(keys::stream_prefix(id.as_str())) {
        let (_, seq) = kv?;
        let seq: [u8; 8] = seq
            .as_ref()
            .try_into()
            .map_err(|_| StoreError::Corrupt("stream row".into()))?;
        let key = keys::event(u64::from_be_bytes(seq));
        let bytes = db
            .get(key)?
            .ok_or_else(|| StoreError::Corrupt("stream row without event".into()))?;
        out.push(Envelope::from_line(&bytes).map_err(|e| StoreError::Corrupt(e.0))?);
    }
    Ok(out)
}
