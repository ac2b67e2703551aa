//! Reading sled's rows as stored events: `events` (from a seq on), `between` (a
//! seq range), `stream` (one share, through its `S` rows), `filtered` (the audit
//! trail's filters). Each line of an `E` row already is the canonical export line.

use crate::domain::ShareId;
use crate::store::packing::{stream_seqs, LineCache, Lines};
use crate::store::read::raw::{Filter, Line, RawEvent};
use crate::store::{keys, StoreError};

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
                    return Some(Ok(RawEvent {
                        seq,
                        line: Line::shared(line),
                    }));
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
                line: Line::shared(cache.get(&db, seq)?),
            })
        })
}

/// The events a filter selects, using the share's own rows when one share is asked for.
pub fn filtered(
    db: &sled::Db,
    filter: Filter,
) -> Box<dyn Iterator<Item = Result<RawEvent, StoreError>> + Send> {
    let events: Box<dyn Iterator<Item = Result<RawEvent, StoreError>> + Send> =
        match filter.share.clone() {
            Some(id) => Box::new(stream(db, &id)),
            None => Box::new(events(db, 1)),
        };
    filter.apply(events)
}
