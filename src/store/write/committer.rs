//! The single writer of a process. It drains queued commands in batches, begins
//! each with its engine (catching up with what other processes appended, where
//! they share the log), has the batch planned (`plan.rs`: decide, chain, apply)
//! and appended. The syncer (`syncer.rs`) then makes it durable, publishes the new
//! state and answers every caller: one sync for every batch waiting (group commit),
//! while this thread already works on the next.

use crate::domain::{apply, apply_owner, Event, Owner, Policy, Share, ShareId, StreamId, UserId};
use crate::metrics::METRICS;
use crate::projection::days::{day_of, DayCount};
use crate::projection::Projection;
use crate::store::engine::{Append, CaughtUp, Decided, Durability, IdemKey, Opened};
use crate::store::latest::LatestShares;
use crate::store::plan::{plan, BatchPlan, Planner};
use crate::store::request::{IdempotencyRow, Request};
use crate::store::subscribe::Feed;
use crate::store::syncer::{Applied, Syncer};
use crate::store::{chain, Checkpoint, StoreError, SCHEMA_VERSION};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use time::format_description::well_known::Rfc3339;
use time::Date;
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Most requests drained into one batch.
const MAX_BATCH: usize = 1024;

/// Batches applied in memory and waiting for the syncer, at most: past this the
/// committer waits, so a stalled disk holds back callers instead of growing memory.
const MAX_UNSYNCED_BATCHES: usize = 8;

pub struct Committer<A> {
    append: A,
    policy: Policy,
    last_seq: u64,
    last_hash: [u8; 32],
    poisoned: Arc<AtomicBool>,
    rx: mpsc::Receiver<Request>,
    idempotency: HashMap<IdemKey, IdempotencyRow>,
    latest: LatestShares,
    batch_number: u64,
    syncer: SyncSender<Applied>,
}

/// What the writer's two threads share with the store's handle.
pub struct Shared {
    pub shares: Arc<RwLock<Projection>>,
    pub poisoned: Arc<AtomicBool>,
    pub feed: Arc<Feed>,
}

impl<A: Append> Committer<A> {
    /// Prepares both stages from an opened engine; `spawn` starts them.
    pub fn new<D: Durability>(
        opened: Opened<A, D>,
        policy: Policy,
        (queue, rx): (&mpsc::Sender<Request>, mpsc::Receiver<Request>),
    ) -> (Self, Syncer<D>, Shared) {
        let Opened {
            append,
            durability,
            shares,
            head,
            keys,
            watch,
            ..
        } = opened;
        if let Some(watch) = watch {
            watch.start(crate::store::engine::Poke::new(queue));
        }
        METRICS.shares.set(shares.live_count() as i64);
        let shared = Shared {
            shares: Arc::new(RwLock::new(shares)),
            poisoned: Arc::new(AtomicBool::new(false)),
            feed: Arc::new(Feed::new(head.last_seq)),
        };
        let published = Arc::new(AtomicU64::new(0));
        let (syncer_tx, syncer_rx) = std::sync::mpsc::sync_channel(MAX_UNSYNCED_BATCHES);
        let syncer = Syncer {
            durability,
            shares: shared.shares.clone(),
            poisoned: shared.poisoned.clone(),
            published: published.clone(),
            feed: shared.feed.clone(),
            last_seq: head.last_seq,
            rx: syncer_rx,
        };
        let committer = Committer {
            append,
            latest: LatestShares::new(shared.shares.clone(), published),
            policy,
            last_seq: head.last_seq,
            last_hash: head.last_hash,
            poisoned: shared.poisoned.clone(),
            rx,
            idempotency: keys,
            batch_number: 0,
            syncer: syncer_tx,
        };
        (committer, syncer, shared)
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
        self.latest.forget_published();
        if self.poisoned.load(Ordering::SeqCst) {
            return refuse(batch, || {
                StoreError::Failed("the log stopped after a write failure".into())
            });
        }
        let started = Instant::now();
        let writes = batch.iter().any(Request::writes);
        let others = match self.append.begin(self.last_seq, writes) {
            Ok(others) => others,
            Err(e) => {
                log::error!("the event log could not begin a batch: {e}");
                return refuse(batch, || StoreError::Unavailable(e.to_string()));
            }
        };
        if let Err(e) = self.catch_up(others) {
            log::error!("the event log could not catch up with other writers: {e}");
            if let Err(e) = self.append.end() {
                log::error!("ending the batch failed too: {e}");
            }
            return refuse(batch, || StoreError::Unavailable(e.to_string()));
        }
        self.batch_number += 1;
        let now = OffsetDateTime::now_utc();
        // The clock cannot give a time RFC 3339 cannot write; if it did, no event gets a blank time.
        let at = match now.format(&Rfc3339) {
            Ok(at) => at,
            Err(e) => {
                let _ = self.append.end();
                return refuse(batch, || {
                    // Each caller gets its own error, and an error of the time crate is no Clone: its text.
                    StoreError::Failed(format!("cannot write the time {now}: {e}"))
                });
            }
        };
        let planner = Planner {
            policy: &self.policy,
            now,
            at: &at,
            latest: &self.latest,
            idempotency: &self.idempotency,
        };
        let mut plan: BatchPlan<A::Events> = plan(batch, &planner, self.last_seq, self.last_hash);
        let wrote = plan.last_seq != self.last_seq;
        if !wrote {
            if let Err(e) = self.append.end() {
                log::error!("ending a batch that wrote nothing failed: {e}");
            }
            return self.hand_over(plan, false, started);
        }
        if let Err(e) = self.write(&mut plan) {
            self.failed(plan, e);
            return;
        }
        (self.last_seq, self.last_hash) = (plan.last_seq, plan.last_hash);
        self.idempotency.extend(std::mem::take(&mut plan.new_keys));
        self.latest.remember(
            self.batch_number,
            &plan.changed.shares,
            &plan.changed.owners,
            &plan.changed.days,
        );
        self.hand_over(plan, true, started);
    }

    /// Has the engine append the plan's events, rows, keys and new head.
    fn write(&mut self, plan: &mut BatchPlan<A::Events>) -> Result<(), StoreError> {
        let rows = plan
            .changed
            .rows()
            .map_err(|e| StoreError::engine("encoding a projection row", e))?;
        let decided = Decided {
            events: std::mem::take(&mut plan.events),
            rows,
            keys: plan.new_keys.clone(),
            after: self.last_seq,
            head: Checkpoint {
                last_seq: plan.last_seq,
                last_hash: plan.last_hash,
                schema_version: SCHEMA_VERSION,
            },
        };
        self.append.append(decided)
    }

    /// A batch the engine could not append: nobody is told it succeeded. An engine
    /// whose failures leave an unknown state stops the log until restarted.
    fn failed(&self, plan: BatchPlan<A::Events>, e: StoreError) {
        let error = if A::FAILURE_POISONS {
            log::error!("event log write failed; refusing further writes until restart: {e}");
            self.poisoned.store(true, Ordering::SeqCst);
            || StoreError::Failed("the event log could not be written".into())
        } else {
            log::error!("event log write failed; the batch was not written: {e}");
            || StoreError::Unavailable("the event log could not be written".into())
        };
        for answer in plan.answers {
            answer.into_failed(error()).send();
        }
    }

    /// Applies, in seq order, what other writers appended after this process's head,
    /// and hands it to the syncer to be shown like a batch of our own.
    fn catch_up(&mut self, others: CaughtUp) -> Result<(), StoreError> {
        self.idempotency.extend(others.keys);
        if others.events.is_empty() {
            return Ok(());
        }
        let first_seq = self.last_seq + 1;
        let mut shares: HashMap<ShareId, Share> = HashMap::new();
        let mut owners: HashMap<UserId, Owner> = HashMap::new();
        let mut days: HashMap<(ShareId, Date), DayCount> = HashMap::new();
        let mut lines = Vec::new();
        for raw in &others.events {
            if raw.seq != self.last_seq + 1 {
                return Err(StoreError::Corrupt(format!(
                    "event {} does not follow seq {}",
                    raw.seq, self.last_seq
                )));
            }
            let env = raw.decode()?;
            if env.prev_hash != self.last_hash {
                return Err(StoreError::Corrupt(format!(
                    "event {}: prevHash does not match the previous event's hash",
                    raw.seq
                )));
            }
            match (&env.stream, &env.event) {
                (StreamId::Share(id), event) => {
                    let state = shares.remove(id).or_else(|| self.latest.get(id));
                    if let Some(next) = apply(state, id, event, env.at) {
                        shares.insert(id.clone(), next);
                        if let Some((kind, _)) = event.counted() {
                            let key = (id.clone(), day_of(env.at));
                            let base = || self.latest.day(&key.0, key.1);
                            days.entry(key.clone()).or_insert_with(base).add(kind);
                        }
                    }
                }
                (StreamId::Owner(user), Event::NotifySettingsChanged(change)) => {
                    let state = owners.remove(user).or_else(|| self.latest.owner(user));
                    owners.insert(user.clone(), apply_owner(state, user, change, env.at));
                }
                (StreamId::Owner(_), _) => {}
            }
            lines.extend_from_slice(&raw.line);
            lines.push(b'\n');
            (self.last_seq, self.last_hash) = (raw.seq, env.hash);
        }
        // A batch number of its own: the syncer publishes it apart from ours.
        self.batch_number += 1;
        self.latest
            .remember(self.batch_number, &shares, &owners, &days);
        self.send(Applied {
            number: self.batch_number,
            started: Instant::now(),
            own: false,
            first_seq,
            last_seq: self.last_seq,
            types: Vec::new(),
            opens: Default::default(),
            lines,
            shares,
            owners,
            days,
            answers: Vec::new(),
        });
        Ok(())
    }

    /// Hands a written (or wholly refused) batch to the syncer, which answers it once durable.
    fn hand_over(&self, plan: BatchPlan<A::Events>, wrote: bool, started: Instant) {
        let events: u64 = plan.types.iter().map(|(_, n)| n).sum();
        self.send(Applied {
            number: self.batch_number,
            started,
            own: wrote,
            first_seq: match wrote {
                true => self.last_seq + 1 - events,
                false => 0,
            },
            last_seq: if wrote { self.last_seq } else { 0 },
            types: plan.types,
            opens: plan.opens,
            lines: plan.lines,
            shares: match wrote {
                true => plan.changed.shares,
                false => HashMap::new(),
            },
            owners: match wrote {
                true => plan.changed.owners,
                false => HashMap::new(),
            },
            days: match wrote {
                true => plan.changed.days,
                false => HashMap::new(),
            },
            answers: plan.answers,
        });
    }

    fn send(&self, applied: Applied) {
        if let Err(std::sync::mpsc::SendError(applied)) = self.syncer.send(applied) {
            // The syncer is gone (it only stops after us, so this means it panicked).
            self.poisoned.store(true, Ordering::SeqCst);
            for answer in applied.answers {
                answer.into_failed(StoreError::Closed).send();
            }
        }
    }
}

/// Answers every request of a batch that is not planned at all with an error.
fn refuse(batch: Vec<Request>, error: impl Fn() -> StoreError) {
    for r in batch {
        r.failed(error()).send();
    }
}

/// Starts the committer and the syncer; the handle returns once both stopped.
pub fn spawn<A: Append, D: Durability>(
    committer: Committer<A>,
    syncer: Syncer<D>,
) -> Result<std::thread::JoinHandle<()>, StoreError> {
    let syncer = std::thread::Builder::new()
        .name("event-syncer".into())
        .spawn(move || syncer.run())?;
    std::thread::Builder::new()
        .name("event-committer".into())
        .spawn(move || {
            committer.run();
            // The committer dropped its sender: the syncer finishes what is queued and stops.
            if syncer.join().is_err() {
                log::error!("event syncer thread panicked");
            }
        })
        .map_err(StoreError::from)
}

/// The chain's start, for an empty log.
pub fn empty_head() -> Checkpoint {
    Checkpoint {
        last_seq: 0,
        last_hash: chain::GENESIS,
        schema_version: SCHEMA_VERSION,
    }
}
