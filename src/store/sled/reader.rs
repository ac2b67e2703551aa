//! The log as stored bytes: each line of an `E` row already is the canonical export
//! line (docs/audit.md), so exports copy it as is, and filters read only a few header
//! fields instead of decoding the whole event. Every way of reading the log is
//! here: `events` (from a seq on), `between` (a seq range), `stream` (one share),
//! `filtered` (the audit trail's filters) and `decoded` (whole envelopes).

use crate::domain::ShareId;
use crate::store::packing::{stream_seqs, LineCache, Lines};
use crate::store::{keys, Envelope, StoreError};
use serde::Deserialize;
use std::borrow::Cow;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One stored event: its seq and its canonical export line (without newline).
pub struct RawEvent {
    pub seq: u64,
    pub line: sled::IVec,
}

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
}

/// Stored events from `from_seq` to `until_seq`, in seq order, read lazily row by row.
pub struct RawIter {
    inner: sled::Iter,
    row: Option<Lines>,
    from_seq: u64,
    until_seq: u64,
}

impl Iterator for RawIter {
    type Item = Result<RawEvent, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((seq, line)) = self.row.as_mut().and_then(Iterator::next) {
                if seq > self.until_seq {
                    return None;
                }
                if seq >= self.from_seq {
                    return Some(Ok(RawEvent { seq, line }));
                }
                continue;
            }
            let (k, v) = match self.inner.next()? {
                Ok(kv) => kv,
                Err(e) => return Some(Err(e.into())),
            };
            match Lines::new(&k, v) {
                Ok(lines) => self.row = Some(lines),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Stored events from `from_seq` on.
pub fn events(db: &sled::Db, from_seq: u64) -> RawIter {
    between(db, from_seq, u64::MAX)
}

/// Stored events `from_seq..=until_seq` (those that exist).
pub fn between(db: &sled::Db, from_seq: u64, until_seq: u64) -> RawIter {
    let from_seq = from_seq.max(1);
    // Start at the row that holds `from_seq`, which may begin before it.
    let start = match db.range(keys::event(0)..=keys::event(from_seq)).next_back() {
        Some(Ok((k, _))) => k.to_vec(),
        _ => keys::event(from_seq).to_vec(),
    };
    RawIter {
        inner: db.range(start..=keys::event(u64::MAX).to_vec()),
        row: None,
        from_seq,
        until_seq,
    }
}

/// One share's stored events, oldest first, read lazily through its `S` rows.
pub fn stream(db: &sled::Db, id: &ShareId) -> impl Iterator<Item = Result<RawEvent, StoreError>> {
    let db = db.clone();
    let mut cache = LineCache::default();
    db.scan_prefix(keys::stream_prefix(id.as_str()))
        .flat_map(|kv| {
            let seqs: Vec<Result<u64, StoreError>> = match kv {
                Err(e) => vec![Err(e.into())],
                Ok((_, v)) => match stream_seqs(&v) {
                    Ok(seqs) => seqs.map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                },
            };
            seqs
        })
        .map(move |seq| {
            let seq = seq?;
            Ok(RawEvent {
                seq,
                line: cache.get(&db, seq)?,
            })
        })
}

/// The events a filter selects, using the share's own rows when one share is asked for.
pub fn filtered(
    db: &sled::Db,
    filter: Filter,
) -> Box<dyn Iterator<Item = Result<RawEvent, StoreError>> + Send> {
    let share = filter.share.clone();
    let keep = move |r: &Result<RawEvent, StoreError>| match r {
        Ok(ev) => ev.header().map(|h| filter.matches(&h)).unwrap_or(true),
        Err(_) => true,
    };
    match share {
        Some(id) => Box::new(stream(db, &id).filter(keep)),
        None => Box::new(events(db, 1).filter(keep)),
    }
}

/// Events in seq order, decoded one at a time.
pub struct EventIter {
    /// `Err` when the log could not be read at all: that error is the only item.
    inner: Result<RawIter, Option<StoreError>>,
}

impl EventIter {
    /// An iterator whose only item is `error` (a closed store).
    pub fn failed(error: StoreError) -> EventIter {
        EventIter {
            inner: Err(Some(error)),
        }
    }
}

impl Iterator for EventIter {
    type Item = Result<Envelope, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let inner = match &mut self.inner {
            Ok(inner) => inner,
            Err(error) => return error.take().map(Err),
        };
        Some(
            inner
                .next()?
                .and_then(|ev| Envelope::from_line(&ev.line).map_err(|e| StoreError::Corrupt(e.0))),
        )
    }
}

/// `events`, decoded: for replays and tests that need whole envelopes.
pub fn decoded(db: &sled::Db, from_seq: u64) -> EventIter {
    EventIter {
        inner: Ok(events(db, from_seq)),
    }
}
