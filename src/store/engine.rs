//! The seam between the log and the engine that keeps it: sled (embedded, one
//! process), PostgreSQL (several processes on one database) or memory (tests).
//! Everything above it is the same whatever the engine: how a batch is decided,
//! chained and applied (`write::plan`), the projections, the live feed, every front
//! door and the command line. An engine keeps the export lines, the projection rows,
//! the idempotency keys and the checkpoint, and serialises writers.
//!
//! - Writing, on the one committer thread of a process: [`Append`]. A batch begins
//!   (taking the log's write lock where processes share it, and catching up with
//!   what the others appended since this one's head), is decided against the state
//!   after that, and is appended at its expected position, or ends with nothing.
//! - Making written batches durable, on the syncer thread: [`Durability`].
//! - Reading, from any thread: [`Reader`].

use super::offline::{ImportBatch, ImportFold};
use super::read::raw::{RawEvent, RawEvents};
use super::write::request::{IdempotencyRow, Request};
use super::{Checkpoint, StoreError};
use crate::domain::ShareId;
use crate::projection::rows::Row;
use crate::projection::Projection;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// An `Idempotency-Key` as stored: (user id, key).
pub type IdemKey = (String, String);

/// Reading the log (blocking calls: run them off the async runtime).
pub trait Reader: Send + Sync + 'static {
    /// `sled`, `postgres` or `memory`, as `/readyz` reports it.
    fn engine(&self) -> &'static str;
    /// Stored events `from_seq..=until_seq` (those that exist), in seq order.
    fn between(&self, from_seq: u64, until_seq: u64) -> RawEvents;
    /// One stream's stored events, oldest first.
    fn stream(&self, id: &ShareId) -> RawEvents;
    /// The last durable position as stored (`None` for an empty log).
    fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError>;
    /// Secret `name`: 32 random bytes made on first use and then kept, the same for
    /// every process on this log (what one replica signs or hashes, another checks).
    fn secret(&self, name: &str) -> Result<[u8; 32], StoreError>;
    /// The position a follower of the log named `name` has done its work up to (the
    /// notification worker's cursor), kept with the log: 0 before it ever moved.
    fn cursor(&self, name: &str) -> Result<u64, StoreError>;
    /// Moves cursor `name` to `seq`, durably.
    fn set_cursor(&self, name: &str, seq: u64) -> Result<(), StoreError>;
    /// Whether this process is the one that does the work named `name` now: with
    /// several processes on one log only one follows it for that work (PostgreSQL: the
    /// holder of a lock, taken over when it dies); sled and memory have one process.
    fn leads(&self, name: &str) -> Result<bool, StoreError>;
    /// Lets go of the engine (files, locks, connections) once the writer stopped;
    /// reads after it answer `Closed`. Returns false when the last flush failed.
    fn close(&self) -> bool;
}

/// Collects one batch's sealed events in the form its engine writes them
/// (sled: packed rows), as the plan seals them.
pub trait EventSink: Default + Send + 'static {
    fn push(&mut self, seq: u64, stream: &str, version: u64, line: &[u8]);
}

/// A decided batch, ready to be appended.
pub struct Decided<S> {
    pub events: S,
    /// The projection rows the batch changes (`projection::rows`).
    pub rows: Vec<Row>,
    /// Idempotency keys the batch used for the first time.
    pub keys: Vec<(IdemKey, IdempotencyRow)>,
    /// The head the batch was decided against: its first event is `after + 1`.
    pub after: u64,
    /// The head after the batch.
    pub head: Checkpoint,
}

/// What other writers appended after this process's head, in seq order.
#[derive(Default)]
pub struct CaughtUp {
    pub events: Vec<RawEvent>,
    pub keys: Vec<(IdemKey, IdempotencyRow)>,
}

/// Appending, on the committer thread.
pub trait Append: Send + 'static {
    type Events: EventSink;
    /// Whether a failed append leaves the engine in a state nobody knows, so that
    /// the log must stop writing until restarted (sled); an engine whose failed
    /// append rolls back whole (PostgreSQL) goes on with the next batch.
    const FAILURE_POISONS: bool;

    /// Begins a batch after `head`. With `write`, takes the log's write lock for
    /// the batch (held until `append` or `end`). Returns what other writers made
    /// durable after `head`: the batch is decided after those.
    fn begin(&mut self, head: u64, write: bool) -> Result<CaughtUp, StoreError>;
    /// Writes `batch` right after the head it was decided against, and ends the
    /// batch. It is durable once `Durability::sync` returns after this.
    fn append(&mut self, batch: Decided<Self::Events>) -> Result<(), StoreError>;
    /// Ends a batch that wrote nothing.
    fn end(&mut self) -> Result<(), StoreError>;
}

/// Making appended batches durable, on the syncer thread.
pub trait Durability: Send + 'static {
    /// Every batch appended so far is durable when this returns.
    fn sync(&mut self) -> Result<(), StoreError>;
    /// A durable batch's export lines, each followed by `\n` (the sled engine keeps
    /// a flat copy for offline exports).
    fn durable(&mut self, lines: &[u8]);
    /// The writer stopped cleanly after `last_seq`, all of it synced.
    fn stopped_cleanly(self, last_seq: u64);
}

/// Tells the committer that another process appended to a shared log, so that it
/// catches up now rather than at its next write. It holds the queue weakly: it
/// never keeps a closing store open.
#[derive(Clone)]
pub struct Poke(mpsc::WeakSender<Request>);

impl Poke {
    pub fn new(queue: &mpsc::Sender<Request>) -> Poke {
        Poke(queue.downgrade())
    }

    /// Whether the store is still open.
    pub fn is_open(&self) -> bool {
        self.0.upgrade().is_some()
    }

    /// False once the store has closed (the watcher should stop then).
    pub fn poke(&self) -> bool {
        let Some(queue) = self.0.upgrade() else {
            return false;
        };
        // A full queue means the committer is busy and catches up with its next batch anyway.
        !matches!(
            queue.try_send(Request::CatchUp),
            Err(mpsc::error::TrySendError::Closed(_))
        )
    }
}

/// Watches a shared log for other processes' appends and pokes the committer
/// (PostgreSQL: LISTEN/NOTIFY, with a poll in case a notification is lost).
pub trait Watch: Send + 'static {
    fn start(self: Box<Self>, poke: Poke);
}

/// An engine, opened: its three sides and what it had stored.
pub struct Opened<A, D> {
    pub append: A,
    pub durability: D,
    pub log: Arc<dyn Reader>,
    /// The projections as of `head` (loaded from their rows, or rebuilt).
    pub shares: Projection,
    pub head: Checkpoint,
    pub keys: HashMap<IdemKey, IdempotencyRow>,
    /// For engines whose log other processes append to.
    pub watch: Option<Box<dyn Watch>>,
}

/// Takes one stored line with its seq; an error stops the reading.
pub type EachLine<'a> = &'a mut dyn FnMut(u64, &[u8]) -> Result<(), StoreError>;

/// What the command line needs of a log no server is writing (sled: a stopped
/// service's data directory; PostgreSQL: the database, under its write lock).
pub trait Offline: Reader {
    /// The seq of the last event stored (which the checkpoint may not have reached).
    fn last_seq(&self) -> Result<u64, StoreError>;
    /// The projections as stored (what a server would load at start).
    fn projections(&self) -> Result<Projection, StoreError>;
    /// Replaces every projection row by `shares`, folded up to `head`, atomically.
    fn replace_projections(&self, shares: &Projection, head: &Checkpoint)
        -> Result<(), StoreError>;
    /// Appends sealed events as they are: (seq, stream, version, line). For tools and
    /// benchmarks that build a log directly; the caller checked the chain.
    fn write_sealed(&self, events: &[(u64, &str, u64, &[u8])]) -> Result<(), StoreError>;
    /// Everything written is durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// Hands every stored line in seq order, with its seq, to `each`, from the
    /// cheapest source the engine has (sled after a clean stop: its flat export
    /// mirror, in a few MB, where a pass through sled costs hundreds of MB at a
    /// million events); `total` first learns how many there are, for progress.
    fn each_line(&self, total: &mut dyn FnMut(u64), each: EachLine<'_>) -> Result<(), StoreError>;
}

/// Filling an empty log from a checked export (`sharelog restore`), batch by batch
/// on a writer thread while a reader thread checks the next.
pub trait Import: Send {
    /// Work for the reading thread on each batch before it is sent (the sled
    /// engine's export mirror, whose copies are better spent on that thread).
    fn copy_out(&mut self) -> Option<Box<dyn CopyOut>>;
    /// Writes a batch whose events the caller took through the rules
    /// (`ImportFold`), in seq order; leaves it empty for reuse.
    fn push(&mut self, batch: &mut ImportBatch, fold: &ImportFold) -> Result<(), StoreError>;
    /// Writes the projections and the head, makes everything durable and puts the
    /// new log in place.
    fn finish(self: Box<Self>, fold: ImportFold) -> Result<Checkpoint, StoreError>;
}

/// The reading thread's side of an import.
pub trait CopyOut: Send {
    fn write(&mut self, batch: &ImportBatch) -> Result<(), StoreError>;
    /// Everything written is handed to the system (the reader is done).
    fn close(self: Box<Self>) -> Result<(), StoreError>;
}
