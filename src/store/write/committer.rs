//! The single writer. It drains queued commands in batches, has each batch
//! planned (`plan.rs`: decide, chain, apply), writes the plan's event and
//! projection rows as one sled batch and flushes it to sled's file. The syncer
//! (`syncer.rs`) then fsyncs, publishes the new state and answers every caller:
//! one fsync for every batch waiting (group commit), while this thread already
//! works on the next.

use crate::domain::Policy;
use crate::metrics::METRICS;
use crate::projection::Shares;
use crate::store::error::Doing;
use crate::store::latest::LatestShares;
use crate::store::mirror::Mirror;
use crate::store::open::{encode, encoding};
use crate::store::plan::{plan, BatchPlan, Planner};
use crate::store::request::{IdempotencyRow, Request};
use crate::store::subscribe::Feed;
use crate::store::syncer::{Applied, CleanStop, Syncer};
use crate::store::{keys, Checkpoint, StoreError, SCHEMA_VERSION};
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Most requests drained into one batch.
const MAX_BATCH: usize = 1024;

pub struct Committer {
    db: sled::Db,
    policy: Policy,
    last_seq: u64,
    last_hash: [u8; 32],
    poisoned: Arc<AtomicBool>,
    rx: mpsc::Receiver<Request>,
    idempotency: HashMap<(String, String), IdempotencyRow>,
    latest: LatestShares,
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
        let data_file =
            File::open(dir.join("db")).doing(|| format!("opening {}", dir.join("db").display()))?;
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
            latest: LatestShares::new(shares, published),
            policy,
            last_seq: checkpoint.last_seq,
            last_hash: checkpoint.last_hash,
            poisoned,
            rx,
            idempotency,
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

    fn commit(&mut self, batch: Vec<Request>) {
        self.batch_number += 1;
        self.latest.forget_published();
        if self.poisoned.load(Ordering::SeqCst) {
            return refuse(batch, || {
                StoreError::Io("the log stopped after a write failure".into())
            });
        }
        let started = Instant::now();
        let now = OffsetDateTime::now_utc();
        // The clock cannot give a time RFC 3339 cannot write; if it did, no event gets a blank time.
        let at = match now.format(&Rfc3339) {
            Ok(at) => at,
            Err(e) => {
                return refuse(batch, || {
                    StoreError::Io(format!("cannot write the time {now}: {e}"))
                })
            }
        };
        let planner = Planner {
            policy: &self.policy,
            now,
            at: &at,
            latest: &self.latest,
            idempotency: &self.idempotency,
        };
        let mut plan = plan(batch, &planner, self.last_seq, self.last_hash);
        let wrote = plan.last_seq != self.last_seq;
        if wrote {
            if let Err(e) = self.write(&mut plan) {
                log::error!("event log write failed; refusing further writes until restart: {e}");
                self.poisoned.store(true, Ordering::SeqCst);
                for answer in plan.answers {
                    answer
                        .into_failed(StoreError::Io("the event log could not be written".into()))
                        .send();
                }
                return;
            }
            (self.last_seq, self.last_hash) = (plan.last_seq, plan.last_hash);
            self.idempotency.extend(std::mem::take(&mut plan.new_keys));
            self.latest
                .remember(self.batch_number, &plan.changed.shares);
        }
        self.hand_over(plan, wrote, started);
    }

    /// Hands a written (or wholly refused) batch to the syncer, which answers it once durable.
    fn hand_over(&self, plan: BatchPlan, wrote: bool, started: Instant) {
        let applied = Applied {
            number: self.batch_number,
            started,
            last_seq: if wrote { self.last_seq } else { 0 },
            types: plan.types,
            opens: plan.opens,
            lines: plan.lines,
            shares: match wrote {
                true => plan.changed.shares,
                false => HashMap::new(),
            },
            answers: plan.answers,
        };
        if let Err(std::sync::mpsc::SendError(applied)) = self.syncer.send(applied) {
            // The syncer is gone (it only stops after us, so this means it panicked).
            self.poisoned.store(true, Ordering::SeqCst);
            for answer in applied.answers {
                answer.into_failed(StoreError::Closed).send();
            }
        }
    }

    /// Writes the plan's rows and the new checkpoint to sled's file; the syncer fsyncs them.
    fn write(&self, plan: &mut BatchPlan) -> Result<(), StoreError> {
        let mut writes = sled::Batch::default();
        std::mem::take(&mut plan.packer).write_to(&mut writes);
        for (k, v) in plan.changed.rows().map_err(encoding)? {
            writes.insert(k, v);
        }
        for ((user, key), row) in &plan.new_keys {
            writes.insert(keys::idempotency(user, key), encode(row)?);
        }
        let checkpoint = Checkpoint {
            last_seq: plan.last_seq,
            last_hash: plan.last_hash,
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

/// Answers every request of a batch that is not planned at all with an error.
fn refuse(batch: Vec<Request>, error: impl Fn() -> StoreError) {
    for r in batch {
        r.failed(error()).send();
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
