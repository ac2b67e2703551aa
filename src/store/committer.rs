//! The single writer. It drains queued commands in batches, decides each against
//! the latest state, assigns seqs and extends the chain, writes events and
//! projection rows in one sled batch, flushes and fsyncs, then publishes the new
//! state and answers every caller: one fsync for the whole batch (group commit).

use super::envelope::Envelope;
use super::mirror::Mirror;
use super::open::encode;
use super::rows::Packer;
use super::{keys, Checkpoint, StoreError, SCHEMA_VERSION};
use crate::domain::{apply, decide, Command, Policy, Share, ShareId};
use crate::metrics::METRICS;
use crate::projection::{Shares, VisitCounter};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;
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

pub struct Request {
    pub cmd: Command,
    pub idem: Option<Idempotency>,
    pub reply: oneshot::Sender<Result<Outcome, StoreError>>,
}

/// What the committer thread returns: the mirror and the last seq after a clean stop.
pub type CleanStop = Option<(Mirror, u64)>;

pub struct Committer {
    db: sled::Db,
    /// Our own handle on sled's data file: `flush` alone is no fsync.
    data_file: File,
    shares: Arc<RwLock<Shares>>,
    policy: Policy,
    last_seq: u64,
    last_hash: [u8; 32],
    poisoned: Arc<AtomicBool>,
    rx: mpsc::Receiver<Request>,
    idempotency: HashMap<(String, String), IdempotencyRow>,
    /// The export mirror, given each durable batch's lines (never fsynced here).
    mirror: Mirror,
}

impl Committer {
    pub fn new(
        db: sled::Db,
        dir: &Path,
        shares: Arc<RwLock<Shares>>,
        policy: Policy,
        checkpoint: Checkpoint,
        poisoned: Arc<AtomicBool>,
        rx: mpsc::Receiver<Request>,
    ) -> Result<Self, StoreError> {
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
        Ok(Committer {
            db,
            data_file,
            shares,
            policy,
            last_seq: checkpoint.last_seq,
            last_hash: checkpoint.last_hash,
            poisoned,
            rx,
            idempotency,
            mirror,
        })
    }

    /// Commits until every sender is gone; returns the mirror and the last seq when
    /// the final flush and fsync succeeded and no write failed (a clean stop).
    fn run(mut self) -> CleanStop {
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
        if let Err(e) = self
            .db
            .flush()
            .and_then(|_| Ok(self.data_file.sync_data()?))
        {
            log::error!("final fsync failed: {e}");
            return None;
        }
        if self.poisoned.load(Ordering::SeqCst) || !self.mirror.is_live() {
            return None;
        }
        Some((self.mirror, self.last_seq))
    }

    fn current(&self, overlay: &HashMap<ShareId, Share>, id: &ShareId) -> Option<Share> {
        overlay.get(id).cloned().or_else(|| {
            let shares = self.shares.read().unwrap_or_else(|e| e.into_inner());
            shares.get(id).cloned()
        })
    }

    fn commit(&mut self, batch: Vec<Request>) {
        if self.poisoned.load(Ordering::SeqCst) {
            for r in batch {
                let _ = r.reply.send(Err(StoreError::Io(
                    "the log stopped after a write failure".into(),
                )));
            }
            return;
        }
        let now = OffsetDateTime::now_utc();
        let started = Instant::now();
        let mut writes = sled::Batch::default();
        let mut overlay: HashMap<ShareId, Share> = HashMap::new();
        let mut rewritten: HashSet<ShareId> = HashSet::new();
        let mut visited: HashSet<ShareId> = HashSet::new();
        let mut new_keys: Vec<((String, String), IdempotencyRow)> = Vec::new();
        let mut replies = Vec::with_capacity(batch.len());
        let mut appended: Vec<&'static str> = Vec::new();
        let (seq_before, hash_before) = (self.last_seq, self.last_hash);
        let mut event_ids = EventIds::for_batch(batch.len());
        let mirror_live = self.mirror.is_live();
        let mut mirror_buf = self.mirror.take_buf();
        let mirror_before = mirror_buf.len();
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
                    let result = match self.current(&overlay, &row.share_id) {
                        Some(share) if row.fingerprint == i.fingerprint => Ok(Outcome {
                            share,
                            seqs: vec![],
                            replayed: true,
                        }),
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
            let mut state = overlay.remove(&id).or_else(|| self.current(&overlay, &id));
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
                .seal_to_line();
                if mirror_live {
                    mirror_buf.extend_from_slice(&line);
                    mirror_buf.push(b'\n');
                }
                packer.push(env.seq, id.as_str(), env.version, &line);
                match env.event {
                    crate::domain::Event::ShareVisited(ref v) => {
                        visited.insert(id.clone());
                        METRICS
                            .share_visits
                            .with_label_values(&[v.format.as_str()])
                            .inc();
                    }
                    _ => {
                        rewritten.insert(id.clone());
                    }
                }
                appended.push(env.event.type_name());
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
            overlay.insert(id, share.clone());
            replies.push((
                reply,
                Ok(Outcome {
                    share,
                    seqs,
                    replayed: false,
                }),
            ));
        }

        if self.last_seq != seq_before {
            packer.write_to(&mut writes);
            if let Err(e) = self.write(writes, &overlay, &rewritten, &visited, &new_keys) {
                log::error!("event log write failed; refusing further writes until restart: {e}");
                self.poisoned.store(true, Ordering::SeqCst);
                (self.last_seq, self.last_hash) = (seq_before, hash_before);
                mirror_buf.truncate(mirror_before);
                self.mirror.put_buf(mirror_buf);
                for (reply, _) in replies {
                    let _ = reply.send(Err(StoreError::Io(
                        "the event log could not be written".into(),
                    )));
                }
                return;
            }
            // Durable in sled: now (and only now) the mirror may show these events.
            self.mirror.put_buf(mirror_buf);
            METRICS
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
            METRICS.commit_batch_size.observe(appended.len() as f64);
            for t in appended {
                METRICS.events_appended.with_label_values(&[t]).inc();
            }
            self.publish(overlay, new_keys);
        } else {
            // Nothing appended: the buffer holds only earlier batches' lines.
            self.mirror.put_buf(mirror_buf);
        }
        for (reply, result) in replies {
            // A caller that went away (client disconnected) does not undo a durable write.
            let _ = reply.send(result);
        }
    }

    fn write(
        &self,
        mut writes: sled::Batch,
        overlay: &HashMap<ShareId, Share>,
        rewritten: &HashSet<ShareId>,
        visited: &HashSet<ShareId>,
        new_keys: &[((String, String), IdempotencyRow)],
    ) -> Result<(), StoreError> {
        for id in rewritten {
            if let Some(share) = overlay.get(id) {
                writes.insert(keys::prefixed(keys::SHARE, id.as_str()), encode(share)?);
            }
        }
        for id in visited.difference(rewritten) {
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
        self.db.flush()?;
        self.data_file.sync_data()?;
        Ok(())
    }

    fn publish(
        &mut self,
        overlay: HashMap<ShareId, Share>,
        new_keys: Vec<((String, String), IdempotencyRow)>,
    ) {
        let mut shares = self.shares.write().unwrap_or_else(|e| e.into_inner());
        for (_, share) in overlay {
            shares.put(share);
        }
        METRICS.shares.set(shares.live_count() as i64);
        drop(shares);
        self.idempotency.extend(new_keys);
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

pub fn spawn(c: Committer) -> Result<std::thread::JoinHandle<CleanStop>, StoreError> {
    std::thread::Builder::new()
        .name("event-committer".into())
        .spawn(move || c.run())
        .map_err(StoreError::from)
}
