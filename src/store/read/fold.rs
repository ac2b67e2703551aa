//! Folding the log into shares fast enough for `rebuild` and `replay` on
//! millions of events. Visits and previews, the bulk of any log, change only
//! counters, so they are applied from a few header fields (and `data.link` when
//! the line has one) through `domain::CountedRun` (the rule `domain::apply` uses
//! for them too); other events are decoded in full and go through `domain::apply`.

use crate::domain::{
    apply, apply_owner, CountedRun, Event, LinkId, Owner, Share, ShareId, StreamId, UserId,
    VisitKind,
};
use crate::projection::days::{day_of_text, DayCount, Days};
use crate::projection::Projection;
use crate::store::read::raw::{Header, RawEvent, RawEvents};
use crate::store::{chain, Checkpoint, Envelope, StoreError, SCHEMA_VERSION};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use time::format_description::well_known::Rfc3339;
use time::Date;
use time::OffsetDateTime;

/// Report progress every this many events.
const PROGRESS_EVERY: u64 = 65_536;

/// The shares as of the last folded event, and where that is.
pub struct Folded {
    pub shares: Projection,
    pub checkpoint: Checkpoint,
    pub events: u64,
}

/// Shares by id while folding (deleted ones as tombstones), owners' streams, and the
/// shares' opens per day.
#[derive(Default)]
struct ById {
    shares: HashMap<Box<str>, Share>,
    owners: HashMap<UserId, Owner>,
    days: HashMap<Box<str>, Days>,
}

/// Counts opens on a share; opens of a share not (or no longer) in the map change
/// nothing, as `apply` counts them.
fn fold_counted(by_id: &mut ById, stream: &str, counted: &CountedRun, days: &DayRun) {
    let Some(s) = by_id.shares.get_mut(stream) else {
        return;
    };
    counted.apply_to(s);
    let totals = match by_id.days.get_mut(stream) {
        Some(totals) => totals,
        None => by_id.days.entry(stream.into()).or_default(),
    };
    for (day, count) in days {
        totals.entry(*day).or_default().merge(count);
    }
}

/// One stream's opens per day over a run of counted opens.
type DayRun = Vec<(Date, DayCount)>;

fn add_day(days: &mut DayRun, day: Date, kind: VisitKind) {
    match days.iter_mut().find(|(d, _)| *d == day) {
        Some((_, count)) => count.add(kind),
        None => {
            let mut count = DayCount::default();
            count.add(kind);
            days.push((day, count));
        }
    }
}

/// Only `data.link` of a counted open's line.
#[derive(serde::Deserialize)]
struct LinkOnly {
    data: LinkData,
}

#[derive(serde::Deserialize)]
struct LinkData {
    #[serde(default)]
    link: Option<LinkId>,
}

/// The recipient link a visit or preview came through, if any. Stored lines are
/// canonical, so `"link":` with its quotes can only be the key `data.link` (a quote
/// inside a string is always escaped, and no other key is named so): most lines, which
/// have none, are read no further than that search.
fn link_of(raw: &RawEvent) -> Result<Option<LinkId>, StoreError> {
    if !raw.line.windows(7).any(|w| w == b"\"link\":") {
        return Ok(None);
    }
    serde_json::from_slice::<LinkOnly>(&raw.line)
        .map(|l| l.data.link)
        .map_err(|e| StoreError::Corrupt(format!("event {}: bad link: {e}", raw.seq)))
}

/// Folds any other event in through `domain::apply` (or `apply_owner` on an owner's stream).
fn fold_event(by_id: &mut ById, env: &Envelope) {
    match (&env.stream, &env.event) {
        (StreamId::Share(id), event) => {
            let state = by_id.shares.remove(id.as_str());
            if let Some(next) = apply(state, id, event, env.at) {
                by_id.shares.insert(id.as_str().into(), next);
            }
        }
        (StreamId::Owner(user), Event::NotifySettingsChanged(change)) => {
            let state = by_id.owners.remove(user);
            let next = apply_owner(state, user, change, env.at);
            by_id.owners.insert(user.clone(), next);
        }
        // Nothing else is written on an owner's stream (restore refuses it).
        (StreamId::Owner(_), _) => {}
    }
}

fn into_shares(by_id: ById) -> Projection {
    let mut shares = Projection::default();
    for (_, share) in by_id.shares {
        shares.put(share);
    }
    for (_, owner) in by_id.owners {
        shares.put_owner(owner);
    }
    for (id, days) in by_id.days {
        if let Some(id) = ShareId::parse(&id) {
            for (day, count) in days {
                shares.put_day(&id, day, count);
            }
        }
    }
    shares
}

/// Folds events in seq order while `take` accepts their header; stops at the first it refuses.
pub fn fold(
    events: impl Iterator<Item = Result<RawEvent, StoreError>>,
    mut take: impl FnMut(&Header<'_>) -> bool,
    progress: &mut dyn FnMut(u64),
) -> Result<Folded, StoreError> {
    let mut by_id = ById::default();
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
            let counted = CountedRun::one(kind, at, link_of(&raw)?);
            let day = day_of_text(&header.at).ok_or_else(|| corrupt("at"))?;
            let mut days = DayRun::new();
            add_day(&mut days, day, kind);
            fold_counted(&mut by_id, &header.stream, &counted, &days);
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

/// Counted opens per stream over a run of consecutive visits and previews, with the
/// stream's opens per day.
type VisitRun = HashMap<Box<str>, (CountedRun, DayRun)>;

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
            let link = link_of(&raw)?;
            let day = day_of_text(&header.at)
                .ok_or_else(|| StoreError::Corrupt(format!("event {}: bad at", raw.seq)))?;
            match run.get_mut(header.stream.as_ref()) {
                Some((counted, days)) => {
                    counted.add(kind, at, link);
                    add_day(days, day, kind);
                }
                None => {
                    let mut days = DayRun::new();
                    add_day(&mut days, day, kind);
                    run.insert(
                        header.stream.as_ref().into(),
                        (CountedRun::one(kind, at, link), days),
                    );
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
    let mut by_id = ById::default();
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
            for (stream, (counted, days)) in run {
                fold_counted(by_id, &stream, &counted, &days);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Event, ShareId, VisitData, VisitFormat};

    fn line_of(user_agent: &str, link: Option<LinkId>) -> RawEvent {
        let env = Envelope {
            seq: 9,
            id: "0b9a6c1e-8f1d-4a4e-9d55-1d5c1f6d7e01".into(),
            stream: ShareId::from_random([1; 16]).into(),
            version: 2,
            at: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            actor: None,
            event: Event::ShareVisited(VisitData {
                format: VisitFormat::Raw,
                download: false,
                player: Some("\"link\":\"x\"".into()),
                client_ip: None,
                user_agent: Some(user_agent.into()),
                link,
            }),
            prev_hash: [0; 32],
            hash: [0; 32],
        };
        let (_, line) = env.seal_to_line("2023-11-14T22:13:20Z").unwrap();
        RawEvent {
            seq: 9,
            line: line.into(),
        }
    }

    #[test]
    fn only_data_link_is_read_as_the_link_whatever_the_strings_hold() {
        let tricky = "x\",\"link\":\"AAAA";
        assert_eq!(link_of(&line_of(tricky, None)).unwrap(), None);
        let link = LinkId::from_random([2; 16]);
        assert_eq!(
            link_of(&line_of(tricky, Some(link.clone()))).unwrap(),
            Some(link)
        );
    }
}
