//! The event log in sled: one committer thread appends with group commit and
//! fsync, keeps the hash chain and the gap-free sequence, and writes the
//! projections in the same atomic batch. See `keys` for the layout.

mod error;
mod format;
mod read;
mod sled;
mod write;

// Short paths for the store's own modules, wherever they live.
pub use format::chain;
use format::{checkpoint, envelope, event_ids, sealed};
use read::{fold, subscribe};
use sled::{import, import_batch, offline, open, packing, release};
pub use sled::{keys, mirror, reader};
use write::{committer, latest, plan, request, syncer};

pub use checkpoint::{Checkpoint, SCHEMA_VERSION};
pub use envelope::{BadEnvelope, Envelope};
pub use error::StoreError;
pub use fold::Folded;
pub use import::{Batcher, ImportBatch, Importer, MirrorCopy, BATCH_EVENTS};
pub use offline::Log;
pub use reader::EventIter;
pub use reader::{Filter, RawEvent};
pub use request::{Idempotency, Outcome};
pub use sealed::decode_sealed;
pub use subscribe::{Durable, Subscription, TooManyFollowers};
pub use syncer::OpenTally;

use crate::domain::{Command, Policy, Share};
use crate::projection::Shares;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

/// A handle to the open log. Cheap to clone; the committer stops when the last handle drops.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` once closed: `close` lets go of sled at once, even while other
    /// handles to this store (an HTTP worker's state) live on.
    db: RwLock<Option<::sled::Db>>,
    dir: PathBuf,
    shares: Arc<RwLock<Shares>>,
    tx: Mutex<Option<mpsc::Sender<request::Request>>>,
    /// The committer returns the export mirror when it stopped cleanly (see `mirror`).
    thread: Mutex<Option<JoinHandle<syncer::CleanStop>>>,
    poisoned: Arc<AtomicBool>,
    /// The durable tail, for followers of the audit feed.
    feed: Arc<subscribe::Feed>,
}

impl Store {
    /// Opens (or creates) the log in `dir`, loads the projections (O(shares)) and starts the committer.
    pub fn open(dir: &Path, policy: Policy) -> Result<Store, StoreError> {
        let (db, shares, checkpoint) = open::open(dir)?;
        let shares = Arc::new(RwLock::new(shares));
        let poisoned = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel(4096);
        let stages = match committer::Committer::new(
            db.clone(),
            dir,
            shares.clone(),
            policy,
            checkpoint,
            poisoned.clone(),
            rx,
        ) {
            Ok(stages) => stages,
            Err(e) => {
                release::release(db, dir);
                return Err(e);
            }
        };
        let feed = stages.1.feed.clone();
        let thread = committer::spawn(stages)?;
        Ok(Store {
            inner: Arc::new(Inner {
                db: RwLock::new(Some(db)),
                dir: dir.to_path_buf(),
                shares,
                tx: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
                poisoned,
                feed,
            }),
        })
    }

    /// A handle on sled for one read; `Closed` after `close`.
    fn db(&self) -> Result<::sled::Db, StoreError> {
        let guard = self.inner.db.read().unwrap_or_else(|e| e.into_inner());
        guard.clone().ok_or(StoreError::Closed)
    }

    fn sender(&self) -> Result<mpsc::Sender<request::Request>, StoreError> {
        let guard = self.inner.tx.lock().map_err(|_| StoreError::Closed)?;
        guard.clone().ok_or(StoreError::Closed)
    }

    /// Decides and appends `cmd`; resolves once its events are on disk.
    pub async fn execute(
        &self,
        cmd: Command,
        idem: Option<Idempotency>,
    ) -> Result<Outcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        let reply = request::Reply::Outcome(reply);
        self.sender()?
            .send(request::Request::Execute { cmd, idem, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Appends a visit or a preview; resolves once it is on disk. Like `execute`,
    /// without copying the share back (the public page does not need it).
    pub async fn visit(&self, visit: crate::domain::VisitShare) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        let request = request::Request::Execute {
            cmd: Command::Visit(visit),
            idem: None,
            reply: request::Reply::Ack(reply),
        };
        self.sender()?
            .send(request)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// `execute` for threads outside an async runtime (benchmarks, tools, tests).
    pub fn execute_blocking(
        &self,
        cmd: Command,
        idem: Option<Idempotency>,
    ) -> Result<Outcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        let reply = request::Reply::Outcome(reply);
        self.sender()?
            .blocking_send(request::Request::Execute { cmd, idem, reply })
            .map_err(|_| StoreError::Closed)?;
        rx.blocking_recv().map_err(|_| StoreError::Closed)?
    }

    /// The projections, as of the last durable commit.
    pub fn shares(&self) -> RwLockReadGuard<'_, Shares> {
        // A poisoned lock only means a reader panicked; the data is still consistent.
        self.inner.shares.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Events from `from_seq` on, read lazily in seq order.
    pub fn events(&self, from_seq: u64) -> EventIter {
        match self.db() {
            Ok(db) => reader::decoded(&db, from_seq),
            Err(e) => EventIter::failed(e),
        }
    }

    /// Stored export lines that `filter` selects, in seq order, read lazily (blocking: run off the async runtime).
    pub fn audit(
        &self,
        filter: Filter,
    ) -> Box<dyn Iterator<Item = Result<RawEvent, StoreError>> + Send> {
        match self.db() {
            Ok(db) => reader::filtered(&db, filter),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    /// One share's stored export lines, oldest first, read lazily (blocking).
    pub fn history(
        &self,
        id: &crate::domain::ShareId,
    ) -> Box<dyn Iterator<Item = Result<RawEvent, StoreError>> + Send> {
        match self.db() {
            Ok(db) => Box::new(reader::stream(&db, id)),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    /// The first result of a create already made with this `Idempotency-Key`, if any,
    /// by the one rule of a repeat (`IdempotencyRow::repeat`), asked of the committer:
    /// it alone knows keys whose create is still on its way to the disk, and it answers
    /// in batch order, so a repeat of such a create waits for it and gets its share.
    /// Nothing is appended; a retry is answered before the music server is asked (it
    /// may be why the client retries).
    pub async fn stored_repeat(&self, idem: &Idempotency) -> Result<Option<Share>, StoreError> {
        let (reply, rx) = oneshot::channel();
        let request = request::Request::Repeat {
            idem: idem.clone(),
            reply,
        };
        self.sender()?
            .send(request)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        open::read_checkpoint(&self.db()?)
    }

    /// False after a write failed: the store refuses writes until restarted.
    pub fn is_healthy(&self) -> bool {
        !self.inner.poisoned.load(Ordering::SeqCst)
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
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
        let clean = self.stop_threads();
        let Some(db) = self.db.write().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        match db.flush() {
            Err(e) => {
                // Seen by `is_healthy`: the process must not report a clean stop.
                self.poisoned.store(true, Ordering::SeqCst);
                log::error!("final flush failed: {e}")
            }
            Ok(_) => {
                if let Some((mirror, last_seq)) = clean {
                    if let Err(e) = mirror.close_clean(&self.dir, last_seq) {
                        log::warn!("closing the export mirror failed ({e}); offline exports read sled until the next start");
                    }
                }
            }
        }
        release::release(db, &self.dir);
    }

    /// Ends the queue and joins the committer, which joins the syncer: both drop
    /// their sled handles as they return.
    fn stop_threads(&self) -> syncer::CleanStop {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take())?;
        match thread.join() {
            Ok(stopped) => stopped,
            Err(_) => {
                log::error!("event committer thread panicked");
                None
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}
