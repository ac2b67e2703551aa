//! The event log: one committer thread per process appends with group commit,
//! keeps the hash chain and the gap-free sequence, and has the projections written
//! with the events. Where the log is kept is an engine behind one seam (`engine`):
//! sled (`sled/`, one process), PostgreSQL (`postgres/`, several replicas on one
//! database), memory for tests (`memory/`). Nothing outside this module names an
//! engine.
//!
//! - `engine`: the seam (append, make durable, read)
//! - `format/`: the export line, its hash chain, event ids, the checkpoint
//! - `write/`: requests, the plan (decide, chain, apply), the committer and the syncer
//! - `read/`: stored lines and filters, fast folds, the live feed of durable batches
//! - `sled/`, `postgres/`, `memory/`: the engines

mod engine;
mod error;
mod format;
mod location;
mod memory;
pub mod offline;
mod postgres;
mod read;
mod sled;
mod write;

// Short paths for the store's own modules, wherever they live.
pub use format::chain;
use format::{checkpoint, envelope, event_ids, sealed};
use read::{fold, subscribe};
use sled::{import, open, packing};
pub use sled::{keys, mirror, reader};
use write::{committer, latest, plan, refusal, request, syncer};

pub use checkpoint::{Checkpoint, SCHEMA_VERSION};
pub use engine::{CopyOut, EachLine, Import};
pub use envelope::{BadEnvelope, Envelope};
pub use error::StoreError;
pub use fold::Folded;
pub use import::BATCH_EVENTS;
pub use location::{DatabaseUrl, Location};
pub use offline::{Batcher, ImportBatch, ImportFold, Log};
pub use read::raw::{EventIter, Filter, Header, Line, RawEvent, RawEvents};
pub use refusal::Refusal;
pub use request::{Idempotency, Outcome};
pub use sealed::decode_sealed;
pub use subscribe::{Durable, Subscription, TooManyFollowers};
pub use syncer::OpenTally;

use crate::domain::{Command, Policy, Share};

/// What an acknowledged command's caller gets: on disk, or refused, or a failure.
type Acked = Result<Result<(), Refusal>, StoreError>;
/// What an answered command's caller gets: the share after it, or refused, or a failure.
type Answer = Result<Result<Outcome, Refusal>, StoreError>;
use crate::projection::Projection;
use engine::{Append, Durability, Opened, Reader};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

/// Whether `url` is a PostgreSQL connection string the engine can use; the error
/// says why not, without quoting it.
pub fn check_postgres_url(url: &str) -> Result<(), String> {
    postgres::check_url(url)
}

/// A handle to the open log. Cheap to clone; the committer stops when the last handle drops.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// The engine's reading side.
    log: Arc<dyn Reader>,
    shares: Arc<RwLock<Projection>>,
    tx: Mutex<Option<mpsc::Sender<request::Request>>>,
    /// The committer's thread, which joins the syncer's.
    thread: Mutex<Option<JoinHandle<()>>>,
    poisoned: Arc<AtomicBool>,
    /// The durable tail, for followers of the audit feed.
    feed: Arc<subscribe::Feed>,
}

impl Store {
    /// Opens (or creates) the sled log in `dir`, loads the projections (O(shares))
    /// and starts the committer.
    pub fn open(dir: &Path, policy: Policy) -> Result<Store, StoreError> {
        Store::start(sled::engine::open(dir)?, policy)
    }

    /// Opens the configured log and starts the committer.
    pub fn open_at(location: &Location, policy: Policy) -> Result<Store, StoreError> {
        match location {
            Location::Sled(dir) => Store::open(dir, policy),
            Location::Postgres(url) => Store::start(postgres::open(url.expose())?, policy),
        }
    }

    /// A log kept in memory only, for tests of everything above the engine.
    pub fn in_memory(policy: Policy) -> Store {
        Store::in_memory_replicas(1, policy).remove(0)
    }

    /// `n` stores on one log in memory, as replicas on one database: for tests of
    /// several writers.
    pub fn in_memory_replicas(n: usize, policy: Policy) -> Vec<Store> {
        let log = Arc::new(memory::MemoryLog::default());
        (0..n.max(1))
            .map(|_| {
                match memory::open(log.clone()).and_then(|o| Store::start(o, policy.clone())) {
                    Ok(store) => store,
                    // Only thread creation can fail on an empty log; a test cannot go on without threads.
                    Err(e) => panic!("starting an in-memory store: {e}"),
                }
            })
            .collect()
    }

    /// Starts the committer and the syncer on an opened engine.
    fn start<A: Append, D: Durability>(
        opened: Opened<A, D>,
        policy: Policy,
    ) -> Result<Store, StoreError> {
        let log = opened.log.clone();
        let (tx, rx) = mpsc::channel(4096);
        let (committer, syncer, shared) = committer::Committer::new(opened, policy, (&tx, rx));
        let thread = match committer::spawn(committer, syncer) {
            Ok(thread) => thread,
            Err(e) => {
                log.close();
                return Err(e);
            }
        };
        Ok(Store {
            inner: Arc::new(Inner {
                log,
                shares: shared.shares,
                tx: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
                poisoned: shared.poisoned,
                feed: shared.feed,
            }),
        })
    }

    /// Secret `name`, the same for every process on this log (`engine::Reader::secret`).
    pub fn secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        self.inner.log.secret(name)
    }

    /// Where follower `name` of the log has done its work up to (`engine::Reader::cursor`).
    pub fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        self.inner.log.cursor(name)
    }

    /// Moves follower `name`'s cursor to `seq`, durably.
    pub fn set_cursor(&self, name: &str, seq: u64) -> Result<(), StoreError> {
        self.inner.log.set_cursor(name, seq)
    }

    /// Whether this process does the work named `name` now (`engine::Reader::leads`).
    pub fn leads(&self, name: &str) -> Result<bool, StoreError> {
        self.inner.log.leads(name)
    }

    /// `sled`, `postgres` or `memory`.
    pub fn engine(&self) -> &'static str {
        self.inner.log.engine()
    }

    fn sender(&self) -> Result<mpsc::Sender<request::Request>, StoreError> {
        let guard = self.inner.tx.lock().map_err(|_| StoreError::Closed)?;
        guard.clone().ok_or(StoreError::Closed)
    }

    /// Hands `request` to the committer and waits for its answer: the one way every call
    /// below talks to the committer.
    async fn ask<T>(
        &self,
        request: request::Request,
        rx: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.sender()?
            .send(request)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// `ask` for threads outside an async runtime.
    fn ask_blocking<T>(
        &self,
        request: request::Request,
        rx: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.sender()?
            .blocking_send(request)
            .map_err(|_| StoreError::Closed)?;
        rx.blocking_recv().map_err(|_| StoreError::Closed)?
    }

    /// A command answered only with "on disk" (no copy of the share back), and its reply.
    fn acked(cmd: Command) -> (request::Request, oneshot::Receiver<Acked>) {
        let (reply, rx) = oneshot::channel();
        let request = request::Request::Execute {
            cmd,
            idem: None,
            reply: request::Reply::Ack(reply),
        };
        (request, rx)
    }

    /// A command answered with the share's state after it, and its reply.
    fn answered(
        cmd: Command,
        idem: Option<Idempotency>,
    ) -> (request::Request, oneshot::Receiver<Answer>) {
        let (reply, rx) = oneshot::channel();
        let reply = request::Reply::Outcome(reply);
        (request::Request::Execute { cmd, idem, reply }, rx)
    }

    /// Decides and appends `cmd`; resolves once its events are on disk. A command the
    /// rules refuse is `Ok(Err(refusal))`: nothing was appended, and the log is fine.
    pub async fn execute(
        &self,
        cmd: Command,
        idem: Option<Idempotency>,
    ) -> Result<Result<Outcome, Refusal>, StoreError> {
        let (request, rx) = Self::answered(cmd, idem);
        self.ask(request, rx).await
    }

    /// `execute` for threads outside an async runtime (benchmarks, tools, tests).
    pub fn execute_blocking(
        &self,
        cmd: Command,
        idem: Option<Idempotency>,
    ) -> Result<Result<Outcome, Refusal>, StoreError> {
        let (request, rx) = Self::answered(cmd, idem);
        self.ask_blocking(request, rx)
    }

    /// Appends a visit or a preview; resolves once it is on disk. Like `execute`,
    /// without copying the share back (the public page does not need it).
    pub async fn visit(
        &self,
        visit: crate::domain::VisitShare,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let (request, rx) = Self::acked(Command::Visit(visit));
        self.ask(request, rx).await
    }

    /// Sets (or turns off) the actor's notifications, on their own stream; resolves once
    /// it is on disk. The new state is then in the projection (`projection().owner`): it
    /// is published before the answer.
    pub async fn set_notifications(
        &self,
        set: crate::domain::SetNotifications,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let (request, rx) = Self::acked(Command::Notify(set));
        self.ask(request, rx).await
    }

    /// `set_notifications` for threads outside an async runtime.
    pub fn set_notifications_blocking(
        &self,
        set: crate::domain::SetNotifications,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let (request, rx) = Self::acked(Command::Notify(set));
        self.ask_blocking(request, rx)
    }

    /// The projections, as of the last durable commit.
    pub fn projection(&self) -> RwLockReadGuard<'_, Projection> {
        // A poisoned lock only means a reader panicked; the data is still consistent.
        self.inner.shares.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Events from `from_seq` on, read lazily in seq order.
    pub fn events(&self, from_seq: u64) -> EventIter {
        EventIter::new(self.inner.log.between(from_seq, u64::MAX))
    }

    /// Stored export lines that `filter` selects, in seq order, read lazily (blocking: run off the async runtime).
    pub fn audit(&self, filter: Filter) -> RawEvents {
        let events = match &filter.share {
            // One share: its own stream, not a scan of the whole log.
            Some(id) => self.inner.log.stream(id),
            None => self.inner.log.between(1, u64::MAX),
        };
        filter.apply(events)
    }

    /// One share's stored export lines, oldest first, read lazily (blocking).
    pub fn history(&self, id: &crate::domain::ShareId) -> RawEvents {
        self.inner.log.stream(id)
    }

    /// The first result of a create already made with this `Idempotency-Key`, if any,
    /// by the one rule of a repeat (`IdempotencyRow::repeat`), asked of the committer:
    /// it alone knows keys whose create is still on its way to the disk, and it answers
    /// in batch order, so a repeat of such a create waits for it and gets its share.
    /// Nothing is appended; a retry is answered before the music server is asked (it
    /// may be why the client retries).
    pub async fn stored_repeat(
        &self,
        idem: &Idempotency,
    ) -> Result<Result<Option<Share>, Refusal>, StoreError> {
        let (reply, rx) = oneshot::channel();
        let request = request::Request::Repeat {
            idem: idem.clone(),
            reply,
        };
        self.ask(request, rx).await
    }

    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.inner.log.checkpoint()
    }

    /// False after a write failed: the store refuses writes until restarted.
    pub fn is_healthy(&self) -> bool {
        !self.inner.poisoned.load(Ordering::SeqCst)
    }

    /// Stops the committer after it has committed everything already sent, flushes,
    /// and lets go of sled: once it returns, the data directory opens again at once,
    /// here or in another process. Reads through any handle then answer `Closed`.
    pub fn close(&self) {
        self.inner.shutdown();
    }
}

impl Inner {
    fn shutdown(&self) {
        self.stop_threads();
        if !self.log.close() {
            // Seen by `is_healthy`: the process must not report a clean stop.
            self.poisoned.store(true, Ordering::SeqCst);
        }
    }

    /// Ends the queue and joins the committer, which joins the syncer: both drop
    /// their sides of the engine as they return.
    fn stop_threads(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) else {
            return;
        };
        if thread.join().is_err() {
            log::error!("event committer thread panicked");
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}
