//! Folding the log into shares fast enough for `rebuild` and `replay` on
//! millions of events. Visits and previews, the bulk of any log, change only
//! counters, so they are applied from a few header fields through
//! `domain::Counted` (the rule `domain::apply` uses for them too); other events
//! are decoded in full and go through `domain::apply`.

use crate::domain::{apply, Counted, Share, VisitKind};
use crate::projection::Shares;
use crate::store::read::raw::{Header, RawEvent, RawEvents};
use crate::store::{chain, Checkpoint, Envelope, StoreError, SCHEMA_VERSION};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Report progress every this many events.
const PROGRESS_EVERY: u64 = 65_536;

/// The shares as of the last folded event, and where that is.
pub struct Folded {
    pub shares: Shares,
    pub checkpoint: Checkpoint,
    pub events: u64,
}

/// Shares by id while folding (deleted ones as tombstones).
type ById = HashMap<Box<str>, Share>;

/// Counts opens on a share; opens of a share not (or no longer) in the map change nothing.
fn fold_counted(by_id: &mut ById, stream: &str, counted: Counted) {
    if let Some(s) = by_id.get_mut(stream) {
        counted.apply_to(s);
    }
}

/// Folds any other event in through `domain::apply`.
fn fold_event(by_id: &mut ById, env: &Envelope) {
    let state = by_id.remove(env.stream.as_str());
    if let Some(next) = apply(state, &env.stream, &env.event, env.at) {
        by_id.insert(env.stream.as_str().into(), next);
    }
}

fn into_shares(by_id: ById) -> Shares {
    let mut shares = Shares::default();
    for (_, share) in by_id {
        shares.put(share);
    }
    shares
}

/// Folds events in seq order while `take` accepts their header; stops at the first it refuses.
pub fn fold(
    events: impl Iterator<Item = Result<RawEvent, StoreError>>,
    mut take: impl FnMut(&Header<'_>) -> bool,
    progress: &mut dyn FnMut(u64),
) -> Result<Folded, StoreError> {
    let mut by_id = ById::new();
    let mut checkpoint = Checkpoint {
        last_seq: 0,
        last_hash: chain::GENESIS,
        schema_version: SCHEMA_VERSION,
    };
    let mut count = 0u64;
    for raw in events {
        let raw = raw?;
        let header = raw.header()?;
        if !take(&header) {
            break;
        }
        let corrupt = |what: &str| StoreError::Corrupt(format!("event {}: bad {what}", raw.seq));
        if let Some(kind) = VisitKind::of_type_name(&header.kind) {
            let at = OffsetDateTime::parse(&header.at, &Rfc3339).map_err(|_| corrupt("at"))?;
            fold_counted(&mut by_id, &header.stream, Counted::one(kind, at));
        } else {
            let env = Envelope::from_line(&raw.line).map_err(|e| StoreError::Corrupt(e.0))?;
            fold_event(&mut by_id, &env);
        }
        checkpoint.last_seq = raw.seq;
        checkpoint.last_hash = chain::from_hex(&header.hash).ok_or_else(|| corrupt("hash"))?;
        count += 1;
        if count.is_multiple_of(PROGRESS_EVERY) {
            progress(count);
        }
    }
    progress(count);
    Ok(Folded {
        shares: into_shares(by_id),
        checkpoint,
        events: count,
    })
}

/// Seqs per unit of parallel work.
const CHUNK: u64 = 32_768;

/// Counted opens per stream over a run of consecutive visits and previews.
type VisitRun = HashMap<Box<str>, Counted>;

/// A chunk, decoded as far as folding needs.
enum Item {
    /// A run of visits and previews with no other event between them. Within such a
    /// run no share appears or disappears, so applying each stream's counts at once is
    /// the same as applying them one by one.
    Visits(VisitRun),
    Other(Box<Envelope>),
}

/// Reads stored events `first..=last` from whatever engine keeps the log.
pub type ReadRange<'a> = &'a (dyn Fn(u64, u64) -> RawEvents + Sync);

/// Decodes the events `first..=last`, checking that none is missing.
fn decode_chunk(read: ReadRange<'_>, first: u64, last: u64) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut run = VisitRun::new();
    let mut want = first;
    for raw in read(first, last) {
        let raw = raw?;
        if raw.seq != want {
            return Err(StoreError::Corrupt(format!("event {want} is missing")));
        }
        want += 1;
        let header = raw.header()?;
        if let Some(kind) = VisitKind::of_type_name(&header.kind) {
            let at = OffsetDateTime::parse(&header.at, &Rfc3339)
                .map_err(|_| StoreError::Corrupt(format!("event {}: bad at", raw.seq)))?;
            match run.get_mut(header.stream.as_ref()) {
                Some(counted) => counted.add(kind, at),
                None => {
                    run.insert(header.stream.as_ref().into(), Counted::one(kind, at));
                }
            }
        } else {
            if !run.is_empty() {
                items.push(Item::Visits(std::mem::take(&mut run)));
            }
            items.push(Item::Other(Box::new(
                Envelope::from_line(&raw.line).map_err(|e| StoreError::Corrupt(e.0))?,
            )));
        }
    }
    if want != last + 1 {
        return Err(StoreError::Corrupt(format!("event {want} is missing")));
    }
    if !run.is_empty() {
        items.push(Item::Visits(run));
    }
    Ok(items)
}

/// The whole log `1..=last_seq` folded, decoding chunks on several threads and
/// applying them in seq order on this one: `rebuild`'s fast path.
pub fn fold_all(
    read: ReadRange<'_>,
    last_seq: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<Folded, StoreError> {
    let mut by_id = ById::new();
    let chunks = last_seq.div_ceil(CHUNK);
    let applied = decode_in_parallel(read, last_seq, |c, decoded| {
        for item in decoded {
            fold_item(&mut by_id, item);
        }
        progress(((c + 1) * CHUNK).min(last_seq));
    })?;
    if applied != chunks {
        return Err(StoreError::Corrupt("the log changed while folding".into()));
    }
    Ok(Folded {
        shares: into_shares(by_id),
        checkpoint: Checkpoint {
            last_seq,
            last_hash: hash_of(read, last_seq)?,
            schema_version: SCHEMA_VERSION,
        },
        events: last_seq,
    })
}

fn fold_item(by_id: &mut ById, item: Item) {
    match item {
        Item::Visits(run) => {
            for (stream, counted) in run {
                fold_counted(by_id, &stream, counted);
            }
        }
        Item::Other(env) => fold_event(by_id, &env),
    }
}

/// Decodes the chunks of `1..=last_seq` on worker threads and hands each to
/// `apply` in chunk order (they finish out of order); returns how many it handed
/// over. The first chunk that fails to decode ends it with that error.
fn decode_in_parallel(
    read: ReadRange<'_>,
    last_seq: u64,
    mut apply: impl FnMut(u64, Vec<Item>),
) -> Result<u64, StoreError> {
    let chunks = last_seq.div_ceil(CHUNK);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    let next = AtomicU64::new(0);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(workers * 2);
        for _ in 0..workers {
            let (tx, next) = (tx.clone(), &next);
            scope.spawn(move || loop {
                let c = next.fetch_add(1, Ordering::SeqCst);
                if c >= chunks {
                    break;
                }
                let first = c * CHUNK + 1;
                let decoded = decode_chunk(read, first, (first + CHUNK - 1).min(last_seq));
                if tx.send((c, decoded)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = 0u64;
        for (c, decoded) in rx.iter() {
            pending.insert(c, decoded);
            while let Some(decoded) = pending.remove(&want) {
                // Returning drops the receiver, which stops the workers.
                apply(want, decoded?);
                want += 1;
            }
        }
        Ok(want)
    })
}

/// The hash of event `seq` (the genesis hash for 0), from its stored line.
fn hash_of(read: ReadRange<'_>, seq: u64) -> Result<[u8; 32], StoreError> {
    if seq == 0 {
        return Ok(chain::GENESIS);
    }
    let raw = read(seq, seq)
        .next()
        .ok_or_else(|| StoreError::Corrupt(format!("event {seq} is missing")))??;
    let header = raw.header()?;
    chain::from_hex(&header.hash)
        .ok_or_else(|| StoreError::Corrupt(format!("event {seq}: bad hash")))
}
