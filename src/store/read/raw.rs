//! The log as stored bytes, whatever keeps it: each stored line already is the
//! canonical export line (docs/audit.md), so exports copy it as is, and filters read
//! only a few header fields instead of decoding the whole event.

use crate::domain::ShareId;
use crate::store::{Envelope, StoreError};
use serde::Deserialize;
use std::borrow::Cow;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The bytes of one stored line (without its newline). An engine that hands out
/// shared buffers (sled) keeps them shared; others own theirs.
#[derive(Clone)]
pub struct Line(Bytes);

#[derive(Clone)]
enum Bytes {
    Shared(::sled::IVec),
    Owned(Vec<u8>),
}

impl Line {
    pub fn shared(bytes: ::sled::IVec) -> Line {
        Line(Bytes::Shared(bytes))
    }
}

impl From<Vec<u8>> for Line {
    fn from(bytes: Vec<u8>) -> Line {
        Line(Bytes::Owned(bytes))
    }
}

impl std::ops::Deref for Line {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Bytes::Shared(b) => b,
            Bytes::Owned(b) => b,
        }
    }
}

impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

/// One stored event: its seq and its canonical export line (without newline).
#[derive(Debug, Clone)]
pub struct RawEvent {
    pub seq: u64,
    pub line: Line,
}

/// Stored events in seq order, read lazily (blocking: run off the async runtime).
pub type RawEvents = Box<dyn Iterator<Item = Result<RawEvent, StoreError>> + Send>;

/// The fields an audit filter or a fast fold needs; `data` is skipped unread.
#[derive(Debug, Deserialize)]
pub struct Header<'a> {
    pub seq: u64,
    #[serde(borrow)]
    pub stream: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    pub at: Cow<'a, str>,
    pub version: u64,
    #[serde(borrow)]
    pub hash: Cow<'a, str>,
}

impl RawEvent {
    pub fn header(&self) -> Result<Header<'_>, StoreError> {
        serde_json::from_slice(&self.line)
            .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", self.seq)))
    }

    pub fn decode(&self) -> Result<Envelope, StoreError> {
        Envelope::from_line(&self.line).map_err(|e| StoreError::Corrupt(e.0))
    }
}

/// Which events an audit export keeps. Bounds on `at` are inclusive.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub share: Option<ShareId>,
    pub kind: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

impl Filter {
    pub fn matches(&self, h: &Header<'_>) -> bool {
        if self.share.as_ref().is_some_and(|s| s.as_str() != h.stream) {
            return false;
        }
        if self.kind.as_deref().is_some_and(|k| k != h.kind) {
            return false;
        }
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        let Ok(at) = OffsetDateTime::parse(&h.at, &Rfc3339) else {
            return false;
        };
        self.since.is_none_or(|s| at >= s) && self.until.is_none_or(|u| at <= u)
    }

    /// True when no filter is set: the export is complete.
    pub fn is_empty(&self) -> bool {
        self.share.is_none() && self.kind.is_none() && self.since.is_none() && self.until.is_none()
    }

    /// Keeps the events of `events` this filter selects (an unreadable line is kept,
    /// so that whoever reads it meets the error).
    pub fn apply(self, events: RawEvents) -> RawEvents {
        if self.is_empty() {
            return events;
        }
        Box::new(events.filter(move |r| match r {
            Ok(ev) => ev.header().map(|h| self.matches(&h)).unwrap_or(true),
            Err(_) => true,
        }))
    }
}

/// Events in seq order, decoded one at a time.
pub struct EventIter(RawEvents);

impl EventIter {
    pub fn new(events: RawEvents) -> EventIter {
        EventIter(events)
    }

    /// An iterator whose only item is `error` (a closed store).
    pub fn failed(error: StoreError) -> EventIter {
        EventIter(Box::new(std::iter::once(Err(error))))
    }
}

impl Iterator for EventIter {
    type Item = Result<Envelope, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.0.next()?.and_then(|ev| ev.decode()))
    }
}
