//! The committer's side: one transaction per batch, under the log's write lock.
//!
//! `begin` with a write sends BEGIN and the transaction-scoped advisory lock, then
//! reads what other replicas committed after this process's head (events and
//! idempotency keys, in one statement, so one snapshot); the three are pipelined,
//! and the read runs only once the lock is held, so it sees every batch committed
//! before. The committer applies those and decides after them. `append` calls
//! `sharelog_append` (events, rows, keys, head, NOTIFY) and COMMITs, pipelined too.
//! With `synchronous_commit` on (PostgreSQL's default), COMMIT returns once the
//! batch is on the server's disk: acknowledged = committed.
//!
//! A failure rolls the whole transaction back (the connection is dropped, and the
//! server ends the transaction with it), so the next batch simply starts again on
//! a new connection. If the connection broke after COMMIT was sent, the batch may
//! have committed: the next begin then reads it back like another replica's.

use super::connect::Io;
use super::reader::Head;
use super::schema::WRITE_LOCK;
use crate::domain::ShareId;
use crate::projection::rows::Row;
use crate::store::engine::IdemKey;
use crate::store::engine::{Append, CaughtUp, Decided, EventSink};
use crate::store::read::raw::{Line, RawEvent};
use crate::store::request::IdempotencyRow;
use crate::store::{chain, Checkpoint, StoreError};
use futures_util::future::join;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement, ToStatement};

/// What other writers appended after a head: events, then the keys they used.
const CATCH_UP: &str = "
    SELECT seq, line, NULL::text, NULL::text, NULL::text, NULL::text
      FROM sharelog_events WHERE seq > $1
    UNION ALL
    SELECT seq, NULL::bytea, user_id, key, share_id, fingerprint
      FROM sharelog_idempotency WHERE seq > $1
    ORDER BY 1";

const APPEND: &str =
    "SELECT sharelog_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

/// A batch's events, column by column, as `sharelog_append` takes them.
#[derive(Default)]
pub struct Columns {
    seqs: Vec<i64>,
    streams: Vec<String>,
    versions: Vec<i64>,
    lines: Vec<Vec<u8>>,
}

impl Columns {
    pub fn len(&self) -> usize {
        self.seqs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }
}

impl EventSink for Columns {
    fn push(&mut self, seq: u64, stream: &str, version: u64, line: &[u8]) {
        self.seqs.push(seq as i64);
        self.streams.push(stream.to_string());
        self.versions.push(version as i64);
        self.lines.push(line.to_vec());
    }
}

/// The committer's connection and its prepared statements.
struct Writer {
    client: Client,
    catch_up: Statement,
    append: Statement,
}

pub struct PgAppend {
    io: Arc<Io>,
    writer: Option<Writer>,
    /// Whether a transaction is open (between a writing `begin` and its end).
    open: bool,
    /// The server process of the committer's connection: the watcher ignores its
    /// notifications (this process knows its own batches).
    pid: Arc<AtomicI32>,
    head: Arc<Head>,
}

impl PgAppend {
    /// The committer's side, with a connection of its own on a runtime of its own
    /// (`Io::local`), which the committer's thread drives.
    pub fn new(shared: &Io, pid: Arc<AtomicI32>, head: Arc<Head>) -> Result<PgAppend, StoreError> {
        let io = Arc::new(shared.local()?);
        let client = io.connect()?;
        let mut append = PgAppend {
            io,
            writer: None,
            open: false,
            pid,
            head,
        };
        append.writer = Some(append.prepare(client)?);
        Ok(append)
    }

    fn prepare(&self, client: Client) -> Result<Writer, StoreError> {
        let (catch_up, append, pid) =
            self.io.run("preparing the committer's statements", async {
                let (catch_up, append) =
                    join(client.prepare(CATCH_UP), client.prepare(APPEND)).await;
                let pid: i32 = client
                    .query_one("SELECT pg_backend_pid()", &[])
                    .await?
                    .try_get(0)?;
                Ok((catch_up?, append?, pid))
            })?;
        self.pid.store(pid, Ordering::SeqCst);
        Ok(Writer {
            client,
            catch_up,
            append,
        })
    }

    /// The committer's connection, made anew after a failure.
    fn writer(&mut self) -> Result<&Writer, StoreError> {
        if self.writer.as_ref().is_none_or(|w| w.client.is_closed()) {
            self.writer = None;
            let client = self.io.connect()?;
            self.writer = Some(self.prepare(client)?);
        }
        self.writer
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("no PostgreSQL connection".into()))
    }

    /// Gives up the connection after a failure: the server rolls back whatever the
    /// transaction held and releases the lock with it.
    fn discard(&mut self) {
        self.writer = None;
        self.open = false;
    }

    fn read_caught_up(&mut self, head: u64, write: bool) -> Result<CaughtUp, StoreError> {
        let io = self.io.clone();
        let w = self.writer()?;
        let after = head as i64;
        let rows = io.run("beginning a batch", async {
            if write {
                let begin = format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})");
                let (locked, rows) = join(
                    w.client.batch_execute(&begin),
                    w.client.query(&w.catch_up, &[&after]),
                )
                .await;
                locked?;
                rows
            } else {
                w.client.query(&w.catch_up, &[&after]).await
            }
        });
        self.open = write;
        caught_up(rows?)
    }
}

/// Splits the catch-up rows into events (with a line) and keys (without).
fn caught_up(rows: Vec<tokio_postgres::Row>) -> Result<CaughtUp, StoreError> {
    let mut out = CaughtUp::default();
    let bad = |e: tokio_postgres::Error| StoreError::Corrupt(format!("a caught-up row: {e}"));
    for row in rows {
        let seq: i64 = row.try_get(0).map_err(bad)?;
        if let Some(line) = row.try_get::<_, Option<Vec<u8>>>(1).map_err(bad)? {
            out.events.push(RawEvent {
                seq: seq as u64,
                line: Line::from(line),
            });
            continue;
        }
        let (user, key): (String, String) =
            (row.try_get(2).map_err(bad)?, row.try_get(3).map_err(bad)?);
        let share: String = row.try_get(4).map_err(bad)?;
        let share_id = ShareId::parse(&share)
            .ok_or_else(|| StoreError::Corrupt(format!("idempotency key names share {share:?}")))?;
        let row = IdempotencyRow {
            share_id,
            fingerprint: row.try_get(5).map_err(bad)?,
        };
        out.keys.push(((user, key), row));
    }
    Ok(out)
}

impl Append for PgAppend {
    type Events = Columns;
    // A failed transaction rolls back whole: the next batch goes on.
    const FAILURE_POISONS: bool = false;

    fn begin(&mut self, head: u64, write: bool) -> Result<CaughtUp, StoreError> {
        let result = match self.read_caught_up(head, write) {
            // The server closed the connection (a restart, a terminated backend):
            // nothing was written, so the batch begins again on a new one.
            Err(_) if self.writer.as_ref().is_some_and(|w| w.client.is_closed()) => {
                self.discard();
                self.read_caught_up(head, write)
            }
            result => result,
        };
        match result {
            Ok(others) => {
                if let Some(last) = others.events.last() {
                    let header = last.header()?;
                    let hash = chain::from_hex(&header.hash).ok_or_else(|| {
                        StoreError::Corrupt(format!("event {}: bad hash", last.seq))
                    })?;
                    self.head.advance(last.seq, hash);
                }
                Ok(others)
            }
            Err(e) => {
                self.discard();
                Err(e)
            }
        }
    }

    fn append(&mut self, batch: Decided<Columns>) -> Result<(), StoreError> {
        let io = self.io.clone();
        let result = match self.writer.as_ref().filter(|_| self.open) {
            None => Err(StoreError::Unavailable(
                "a batch was appended without the log's write lock".into(),
            )),
            Some(w) => io.run("appending a batch", write(w, &batch)),
        };
        self.open = false;
        match result {
            Ok(()) => {
                self.head.set(batch.head);
                Ok(())
            }
            Err(e) => {
                self.discard();
                Err(e)
            }
        }
    }

    fn end(&mut self) -> Result<(), StoreError> {
        if !std::mem::take(&mut self.open) {
            return Ok(());
        }
        let io = self.io.clone();
        let result = match self.writer.as_ref() {
            Some(w) => io.run("ending a batch", w.client.batch_execute("ROLLBACK")),
            None => Ok(()),
        };
        if result.is_err() {
            self.discard();
        }
        result
    }
}

/// `sharelog_append` and COMMIT, sent together: one round trip. A failed call
/// leaves the transaction aborted, and the COMMIT behind it then rolls it back.
async fn write(w: &Writer, batch: &Decided<Columns>) -> Result<(), tokio_postgres::Error> {
    let call = call(
        &w.client,
        &w.append,
        batch.after,
        &batch.events,
        &batch.rows,
        &batch.keys,
        &batch.head,
    );
    let (called, committed) = join(call, w.client.batch_execute("COMMIT")).await;
    called?;
    committed
}

/// Appends sealed events after `after` without rows or keys, in the caller's
/// transaction (which holds the write lock): a restore's or a tool's events.
pub fn append_sealed(
    io: &Io,
    client: &Client,
    after: u64,
    events: &Columns,
    head: &Checkpoint,
) -> Result<(), StoreError> {
    io.run(
        "appending events",
        call(client, APPEND, after, events, &[], &[], head),
    )
    .map(|_| ())
}

/// One call of `sharelog_append`: the events, the rows and keys, and the new head.
async fn call<T: ?Sized + ToStatement>(
    client: &Client,
    statement: &T,
    after: u64,
    e: &Columns,
    rows: &[Row],
    keys: &[(IdemKey, IdempotencyRow)],
    head: &Checkpoint,
) -> Result<u64, tokio_postgres::Error> {
    let (row_keys, row_values): (Vec<&[u8]>, Vec<&[u8]>) = rows
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .unzip();
    let key_users: Vec<&str> = keys.iter().map(|((u, _), _)| u.as_str()).collect();
    let key_keys: Vec<&str> = keys.iter().map(|((_, k), _)| k.as_str()).collect();
    let key_shares: Vec<&str> = keys.iter().map(|(_, r)| r.share_id.as_str()).collect();
    let key_prints: Vec<&str> = keys.iter().map(|(_, r)| r.fingerprint.as_str()).collect();
    let (after, last_seq, version) = (
        after as i64,
        head.last_seq as i64,
        head.schema_version as i32,
    );
    let hash: &[u8] = &head.last_hash;
    let params: [&(dyn ToSql + Sync); 14] = [
        &after,
        &e.seqs,
        &e.streams,
        &e.versions,
        &e.lines,
        &row_keys,
        &row_values,
        &key_users,
        &key_keys,
        &key_shares,
        &key_prints,
        &last_seq,
        &hash,
        &version,
    ];
    client.execute(statement, &params).await
}
