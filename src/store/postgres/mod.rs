//! The PostgreSQL engine behind the store's seam: several sharelog processes
//! (replicas) serve one database, each with its own committer.
//!
//! - One gap-free sequence and one hash chain: each batch is one transaction that
//!   holds the log's write lock (`pg_advisory_xact_lock`), so writers of every
//!   replica take turns, and a batch commits at its head or not at all.
//! - Decided against the log, not a replica's view: a batch begins, inside the
//!   lock, by reading what the others committed after this replica's head; the
//!   committer applies it before deciding, so `If-Match`, `Idempotency-Key` and
//!   counts are exact across replicas.
//! - Catching up without writing: each batch NOTIFYs; a watcher LISTENs and pokes
//!   the committer, and polls every second in case a notification is lost.
//! - Durable on commit (`synchronous_commit` on); a failed batch rolls back whole
//!   and the next one goes on (nothing poisons the log).
//!
//! Files: `connect` (the runtime, connections, redaction), `schema` (versioned
//! migrations), `load` (a replica's state at open, rebuilt when stale), `append`
//! (the committer's side), `reader` (reads in chunks), `watch` (LISTEN and poll),
//! `follow` (followers' cursors and who leads their work).

mod append;
mod connect;
mod follow;
pub mod import;
mod load;
pub mod offline;
mod reader;
mod schema;
mod secrets;
mod watch;

pub use append::PgAppend;

use crate::store::engine::{Durability, Opened, Reader};
use crate::store::StoreError;
use std::sync::atomic::AtomicI32;
use std::sync::Arc;

/// Opens the log in the database `url` names: migrates its schema, loads (or
/// rebuilds) the projections and connects the committer.
pub fn open(url: &str) -> Result<Opened<PgAppend, PgDurability>, StoreError> {
    // On a thread of its own: the caller may be on an async runtime (the server's
    // start), where waiting for the engine's runtime is not allowed.
    let url = url.to_string();
    std::thread::Builder::new()
        .name("postgres-open".into())
        .spawn(move || open_here(&url))?
        .join()
        .map_err(|_| StoreError::Failed("opening the PostgreSQL log failed (a panic)".into()))?
}

fn open_here(url: &str) -> Result<Opened<PgAppend, PgDurability>, StoreError> {
    let io = Arc::new(connect::Io::new(url)?);
    let client = io.connect()?;
    let found = schema::migrate(&io, &client)?;
    let pool = Arc::new(reader::Pool::new(io.clone()));
    let loaded = load::load(&io, &client, &pool)?;
    log::info!(
        "event log on PostgreSQL at {} (schema version {found} found), at event {}",
        io.place,
        loaded.head.last_seq
    );
    let head = Arc::new(reader::Head::new(loaded.head));
    let pid = Arc::new(AtomicI32::new(0));
    drop(client);
    let append = PgAppend::new(&io, pid.clone(), head.clone())?;
    let log: Arc<dyn Reader> = Arc::new(reader::PgLog::new(pool, head));
    Ok(Opened {
        append,
        durability: PgDurability,
        log,
        shares: loaded.shares,
        head: loaded.head,
        keys: loaded.keys,
        watch: Some(Box::new(watch::PgWatch { io, own: pid })),
    })
}

/// A committed batch is durable: nothing is left to do after `append`.
pub struct PgDurability;

impl Durability for PgDurability {
    fn sync(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn durable(&mut self, _lines: &[u8]) {}

    fn stopped_cleanly(self, _last_seq: u64) {}
}

/// Whether `url` is a connection string this engine can use; the error says why
/// not and never quotes it (it may hold a password).
pub fn check_url(url: &str) -> Result<(), String> {
    connect::parse(url).map(|_| ())
}

/// Where `url` connects (`user@host:port/database`), for messages: never the password.
pub fn place(url: &str) -> String {
    match connect::parse(url) {
        Ok(config) => connect::describe(&config),
        Err(_) => "(an unreadable connection string)".into(),
    }
}
