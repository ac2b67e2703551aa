//! The single writer. It drains queued commands in batches, decides each against
//! the latest state, assigns seqs and extends the chain, applies events and
//! projection rows as one sled batch and flushes it to sled's file. The syncer
//! (`syncer.rs`) then fsyncs, publishes the new state and answers every caller:
//! one fsync for every batch waiting (group commit), while this thread already
//! works on the next.

use super::envelope::Envelope;
use super::mirror::Mirror;
use super::open::encode;
use super::rows::Packer;
use super::subscribe::Feed;
use super::syncer::{Applied, CleanStop, OpenTally, Syncer};
use super::{keys, Checkpoint, StoreError, SCHEMA_VERSION};
use crate::domain::{apply, decide, Command, Policy, Share, ShareId};
use crate::metrics::METRICS;
use crate::projection::{Shares, VisitCounter};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

/// Most requests drained into one batch.
const MAX_BATCH: usize = 1024;

/// An `Idempotency-Key` on a create, scoped to the user who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Idempotency {
    pub user_id: String,
    pub key: String,
    /// A digest of the request body, to refuse the same key with another body.
    pub fingerprint: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct IdempotencyRow {
    pub share_id: ShareId,
    pub fingerprint: String,
}

/// The result of a command: the share's state after it.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub share: Share,
    /// Seqs of the events appended (empty for a no-op update or an idempotent repeat).
    pub seqs: Vec<u64>,
    /// True when an `Idempotency-Key` repeat returned the first result.
    pub replayed: bool,
}

/// Where a command's result goes.
pub enum Reply {
    /// The share's state after the command (owner API, Subsonic, tools).
    Outcome(oneshot::Sender<Result<Outcome, StoreError>>),
    /// Only that it is on disk: a visit's caller needs no copy of the share, and not
    /// cloning one per visit is most of what a visit costs the committer.
    Ack(oneshot::Sender<Result<(), StoreError>>),
}

/// A result before it is sent: `Ack` replies carry no share.
pub enum Answer {
    Outcome(Box<Outcome>),
    Ack,
}

impl Reply {
    pub fn send(self, result: Result<Answer, StoreError>) {
        // A caller that went away (client disconnected) does not undo a durable write.
        match self {
            Reply::Outcome(tx) => {
                let _ = tx.send(result.and_then(|a| match a {
                    Answer::Outcome(o) => Ok(*o),
                    Answer::Ack => Err(StoreError::Io("no outcome was kept".into())),
                }));
            }
            Reply::Ack(tx) => {
                let _ = tx.send(result.map(|_| ()));
            }
        }
    }

    fn wants_outcome(&self) -> bool {
        matches!(self, Reply::Outcome(_))
    }
}

pub struct Request {
    pub cmd: Command,
    pub idem: Option<Idempotency>,
    pub reply: Reply,
}

pub struct Committer {
    db: sled::Db,
    shares: Arc<RwLock<Shares>>,
    policy: Policy,
    last_seq: u64,
    last_hash: [u8; 32],
    poisoned: Arc<AtomicBool>,
    rx: mpsc::Receiver<Request>,
    idempotency: HashMap<(String, String), IdempotencyRow>,
    /// Shares changed by batches that are applied but not yet shown to readers,
    /// with the number of the batch that last changed each.
    unpublished: HashMap<ShareId, (Share, u64)>,
    /// The last batch the syncer has shown to readers.
    published: Arc<AtomicU64>,
    batch_number: u64,
    syncer: SyncSender<Applied>,
}

/// Batches applied in memory and waiting for the syncer, at most: past this the
/// committer waits, so a stalled disk holds back callers instead of growing memory.
const MAX_UNSYNCED_BATCHES: usize = 8;

impl Committer {
    /// Prepares both stages; `spawn` starts them.
    pub fn new(
        db: sled::Db,
        dir: &Path,
        shares: Arc<RwLock<Shares>>,
        policy: Policy,
        checkpoint: Checkpoint,
        poisoned: Arc<AtomicBool>,
        rx: mpsc::Receiver<Request>,
    ) -> Result<(Self, Syncer), StoreError> {
        let data_file = File::open(dir.join("db"))?;
        // Before anything is appended: drops the clean marker and catches the mirror up with sled.
        let mirror = Mirror::open(dir, &db, checkpoint.last_seq)?;
        let mut idempotency = HashMap::new();
        for kv in db.scan_prefix([keys::IDEMPOTENCY]) {
            let (k, v) = kv?;
            let text = String::from_utf8_lossy(&k[1..]).into_owned();
            let (user, key) = text.split_once('\0').unwrap_or((&text, ""));
            let row: IdempotencyRow = serde_json::from_slice(&v)
                .map_err(|e| StoreError::Corrupt(format!("idempotency row: {e}")))?;
            idempotency.insert((user.to_string(), key.to_string()), row);
        }
        if let Ok(s) = shares.read() {
            METRICS.shares.set(s.live_count() as i64);
        }
        let published = Arc::new(AtomicU64::new(0));
        let (syncer_tx, syncer_rx) = std::sync::mpsc::sync_channel(MAX_UNSYNCED_BATCHES);
        let syncer = Syncer {
            db: db.clone(),
            data_file,
            shares: shares.clone(),
            poisoned: poisoned.clone(),
            published: published.clone(),
            mirror,
            feed: Arc::new(Feed::new(checkpoint.last_seq)),
            last_seq: checkpoint.last_seq,
            rx: syncer_rx,
        };
        let committer = Committer {
            db,
            shares,
            policy,
            last_seq: checkpoint.last_seq,
            last_hash: checkpoint.last_hash,
            poisoned,
            rx,
            idempotency,
            unpublished: HashMap::new(),
            published,
            batch_number: 0,
            syncer: syncer_tx,
        };
        Ok((committer, syncer))
    }

    /// Applies batches until every sender is gone; the syncer then stops too.
    fn run(mut self) {
        while let Some(first) = self.rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            self.commit(batch);
        }
    }

    /// The latest state of a share: this batch's, an unsynced batch's, or the published one.
    fn current(&self, id: &ShareId) -> Option<Share> {
        if let Some((share, _)) = self.unpublished.get(id) {
            return Some(share.clone());
        }
        let shares = self.shares.read().unwrap_or_else(|e| e.into_inner());
        shares.get(id).cloned()
    }

    fn commit(&mut self, batch: Vec<Request>) {
        self.batch_number += 1;
        let published = self.published.load(Ordering::SeqCst);
        // Readers now see these (or later) states in the published projection.
        self.unpublished.retain(|_, (_, n)| *n > published);
        if self.poisoned.load(Ordering::SeqCst) {
            for r in batch {
                r.reply.send(Err(StoreError::Io(
                    "the log stopped after a write failure".into(),
                )));
            }
            return;
        }
        let now = OffsetDateTime::now_utc();
        let at = now.format(&Rfc3339).unwrap_or_default();
        let started = Instant::now();
        let mut writes = sled::Batch::default();
        let mut overlay: HashMap<ShareId, Share> = HashMap::new();
        let mut rewritten: HashSet<ShareId> = HashSet::new();
        // Shares changed only by visits and previews: they get a small counter row.
        let mut counted: HashSet<ShareId> = HashSet::new();
        let mut new_keys: Vec<((String, String), IdempotencyRow)> = Vec::new();
        let mut replies = Vec::with_capacity(batch.len());
        let mut types: Vec<(&'static str, u64)> = Vec::new();
        let mut opens = OpenTally::default();
        let (seq_before, hash_before) = (self.last_seq, self.last_hash);
        let mut event_ids = EventIds::for_batch(batch.len());
        let mut lines = Vec::new();
        let mut packer = Packer::default();

        for Request { cmd, idem, reply } in batch {
            let id = cmd.share_id().clone();
            if let Some(i) = &idem {
                let k = (i.user_id.clone(), i.key.clone());
                let seen = self
                    .idempotency
                    .get(&k)
                    .or_else(|| new_keys.iter().find(|(nk, _)| *nk == k).map(|(_, r)| r));
                if let Some(row) = seen {
                    let state = overlay
                        .get(&row.share_id)
                        .cloned()
                        .or_else(|| self.current(&row.share_id));
                    let result = match state {
                        Some(share) if row.fingerprint == i.fingerprint => {
                            Ok(Answer::Outcome(Box::new(Outcome {
                                share,
                                seqs: vec![],
                                replayed: true,
                            })))
                        }
                        Some(_) => Err(StoreError::IdempotencyKeyReused),
                        None => Err(StoreError::Corrupt(
                            "idempotency key names an unknown share".into(),
                        )),
                    };
                    replies.push((reply, result));
                    continue;
                }
            }
            // Taken out of the overlay (not cloned): it goes back in below, or is refused unchanged.
            let mut state = overlay.remove(&id).or_else(|| self.current(&id));
            let events = match decide(state.as_ref(), &cmd, &self.policy, now) {
                Ok(events) => events,
                Err(e) => {
                    if let Some(s) = state {
                        overlay.insert(id, s);
                    }
                    replies.push((reply, Err(StoreError::Rejected(e))));
                    continue;
                }
            };
            let mut seqs = Vec::with_capacity(events.len());
            for event in events {
                let (env, line) = Envelope {
                    seq: self.last_seq + 1,
                    id: event_ids.next_id(),
                    stream: id.clone(),
                    version: state.as_ref().map_or(1, |s| s.version + 1),
                    at: now,
                    actor: cmd.actor().cloned(),
                    event,
                    prev_hash: self.last_hash,
                    hash: [0; 32],
                }
                .seal_to_line(&at);
                lines.extend_from_slice(&line);
                lines.push(b'\n');
                packer.push(env.seq, id.as_str(), env.version, &line);
                // Checked first: most events are visits to a share already in the set.
                let touched = match env.event.counted() {
                    Some((kind, v)) => {
                        opens[kind.index()][v.format.index()] += 1;
                        &mut counted
                    }
                    None => &mut rewritten,
                };
                if !touched.contains(&id) {
                    touched.insert(id.clone());
                }
                count(&mut types, env.event.type_name());
                self.last_seq = env.seq;
                self.last_hash = env.hash;
                seqs.push(env.seq);
                state = apply(state, &id, &env.event, env.at);
            }
            let Some(share) = state else {
                replies.push((
                    reply,
                    Err(StoreError::Rejected(crate::domain::DomainError::NotFound)),
                ));
                continue;
            };
            if let Some(i) = idem.filter(|_| !seqs.is_empty()) {
                new_keys.push((
                    (i.user_id, i.key),
                    IdempotencyRow {
                        share_id: id.clone(),
                        fingerprint: i.fingerprint,
                    },
                ));
            }
            let answer = match reply.wants_outcome() {
                true => Answer::Outcome(Box::new(Outcome {
                    share: share.clone(),
                    seqs,
                    replayed: false,
                })),
                false => Answer::Ack,
            };
            overlay.insert(id, share);
            replies.push((reply, Ok(answer)));
        }

        let wrote = self.last_seq != seq_before;
        if wrote {
            packer.write_to(&mut writes);
            if let Err(e) = self.write(writes, &overlay, &rewritten, &counted, &new_keys) {
                log::error!("event log write failed; refusing further writes until restart: {e}");
                self.poisoned.store(true, Ordering::SeqCst);
                (self.last_seq, self.last_hash) = (seq_before, hash_before);
                for (reply, _) in replies {
                    reply.send(Err(StoreError::Io(
                        "the event log could not be written".into(),
                    )));
                }
                return;
            }
            self.idempotency.extend(new_keys);
            for (id, share) in &overlay {
                self.unpublished
                    .insert(id.clone(), (share.clone(), self.batch_number));
            }
        }
        let applied = Applied {
            number: self.batch_number,
            started,
            last_seq: if wrote { self.last_seq } else { 0 },
            types,
            opens,
            lines,
            shares: if wrote { overlay } else { HashMap::new() },
            replies,
        };
        if let Err(std::sync::mpsc::SendError(applied)) = self.syncer.send(applied) {
            // The syncer is gone (it only stops after us, so this means it panicked).
            self.poisoned.store(true, Ordering::SeqCst);
            for (reply, _) in applied.replies {
                reply.send(Err(StoreError::Closed));
            }
        }
    }

    /// Applies the batch's rows and writes them to sled's file; the syncer fsyncs them.
    fn write(
        &self,
        mut writes: sled::Batch,
        overlay: &HashMap<ShareId, Share>,
        rewritten: &HashSet<ShareId>,
        counted: &HashSet<ShareId>,
        new_keys: &[((String, String), IdempotencyRow)],
    ) -> Result<(), StoreError> {
        for id in rewritten {
            if let Some(share) = overlay.get(id) {
                writes.insert(keys::prefixed(keys::SHARE, id.as_str()), encode(share)?);
            }
        }
        for id in counted.difference(rewritten) {
            if let Some(share) = overlay.get(id) {
                writes.insert(
                    keys::prefixed(keys::VISITS, id.as_str()),
                    encode(&VisitCounter::of(share))?,
                );
            }
        }
        for ((user, key), row) in new_keys {
            writes.insert(keys::idempotency(user, key), encode(row)?);
        }
        let checkpoint = Checkpoint {
            last_seq: self.last_seq,
            last_hash: self.last_hash,
            schema_version: SCHEMA_VERSION,
        };
        writes.insert(keys::CHECKPOINT, encode(&checkpoint)?);
        self.db.apply_batch(writes)?;
        // Flushed here, not by the syncer: `flush` holds sled's lock that `apply_batch`
        // needs, so a flush on the syncer made the next batch wait for it anyway, and
        // requests that arrived meanwhile waited a whole extra round.
        self.db.flush()?;
        Ok(())
    }
}

/// Adds one to `name`'s count (a handful of names: a linear scan beats hashing).
fn count(counts: &mut Vec<(&'static str, u64)>, name: &'static str) {
    match counts.iter_mut().find(|(n, _)| *n == name) {
        Some((_, c)) => *c += 1,
        None => counts.push((name, 1)),
    }
}

/// UUID v4 event ids from one OS random read per batch, instead of one per event.
struct EventIds {
    bytes: Vec<u8>,
    next: usize,
}

impl EventIds {
    fn for_batch(n: usize) -> Self {
        // Most commands yield one event; refill if a batch needs more.
        let mut bytes = vec![0u8; 16 * n.max(1)];
        Self::fill(&mut bytes);
        EventIds { bytes, next: 0 }
    }

    fn fill(bytes: &mut [u8]) {
        if getrandom::getrandom(bytes).is_err() {
            // Ids only need to be unique, not secret: fall back to uuid's own generator.
            for chunk in bytes.chunks_mut(16) {
                chunk.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..chunk.len()]);
            }
        }
    }

    fn next_id(&mut self) -> String {
        if self.next + 16 > self.bytes.len() {
            Self::fill(&mut self.bytes);
            self.next = 0;
        }
        let mut b = [0u8; 16];
        b.copy_from_slice(&self.bytes[self.next..self.next + 16]);
        self.next += 16;
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }
}

/// Starts the committer and the syncer; the handle's result is the syncer's clean stop.
pub fn spawn(
    (committer, syncer): (Committer, Syncer),
) -> Result<std::thread::JoinHandle<CleanStop>, StoreError> {
    let syncer = std::thread::Builder::new()
        .name("event-syncer".into())
        .spawn(move || syncer.run())?;
    std::thread::Builder::new()
        .name("event-committer".into())
        .spawn(move || {
            committer.run();
            // The committer dropped its sender: the syncer finishes what is queued and stops.
            syncer.join().unwrap_or_else(|_| {
                log::error!("event syncer thread panicked");
                None
            })
        })
        .map_err(StoreError::from)
}
