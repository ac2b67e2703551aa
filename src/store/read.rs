//! Reading the log back: lazily, in seq order, so an export of any length runs in constant memory.

use super::raw::{self, RawIter};
use super::{Envelope, StoreError};
use crate::domain::ShareId;

/// Events in seq order, decoded one at a time.
pub struct EventIter {
    inner: RawIter,
}

impl Iterator for EventIter {
    type Item = Result<Envelope, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.inner.next()?.and_then(|ev| decode(&ev.line)))
    }
}

fn decode(line: &[u8]) -> Result<Envelope, StoreError> {
    Envelope::from_line(line).map_err(|e| StoreError::Corrupt(e.0))
}

pub fn events(db: &sled::Db, from_seq: u64) -> EventIter {
    EventIter {
        inner: raw::events(db, from_seq),
    }
}

pub fn stream(db: &sled::Db, id: &ShareId) -> Result<Vec<Envelope>, StoreError> {
    raw::stream(db, id)
        .map(|ev| ev.and_then(|ev| decode(&ev.line)))
        .collect()
}
