//! The PostgreSQL engine for the command line (`engine::Offline`): `audit export`,
//! `verify`, `replay` and `rebuild` on the database. Replicas may go on serving
//! meanwhile: reads see what is committed, and the writes here (`rebuild`'s rows,
//! a tool's sealed events) take the log's write lock like any batch and refuse to
//! land on a log that moved since they read it.

use super::append::{append_sealed, Columns};
use super::connect::Io;
use super::follow::{self, Leads};
use super::load::{every_row, replace_rows};
use super::reader::{self, Pool};
use super::schema::{self, WRITE_LOCK};
use crate::domain::ShareId;
use crate::projection::Projection;
use crate::store::engine::{EachLine, EventSink, Offline, Reader};
use crate::store::read::raw::RawEvents;
use crate::store::{chain, Checkpoint, StoreError};
use std::sync::Arc;
use tokio_postgres::Client;

pub struct PgOffline {
    io: Arc<Io>,
    pool: Arc<Pool>,
    client: Client,
    leads: Leads,
}

impl PgOffline {
    /// Opens the log in an existing database (one a server or a restore made).
    pub fn open(url: &str) -> Result<PgOffline, StoreError> {
        let io = Arc::new(Io::new(url)?);
        let client = io.connect()?;
        if schema::found(&io, &client)? == 0 {
            return Err(StoreError::Failed(format!(
                "no event log in PostgreSQL at {}: it has no sharelog tables \
                 (check store.postgresUrl; a server or `sharelog restore` creates them)",
                io.place
            )));
        }
        schema::migrate(&io, &client)?;
        let pool = Arc::new(Pool::new(io.clone()));
        Ok(PgOffline {
            io,
            pool,
            client,
            leads: Leads::default(),
        })
    }

    /// The head as stored, read under the write lock in the caller's transaction or not.
    fn head(&self) -> Result<Checkpoint, StoreError> {
        let row = self.io.run(
            "reading the head",
            self.client
                .query_one("SELECT seq, hash, rows_version FROM sharelog_head", &[]),
        )?;
        let bad = |e: tokio_postgres::Error| StoreError::Corrupt(format!("the head: {e}"));
        let seq: i64 = row.try_get(0).map_err(bad)?;
        let hash: Vec<u8> = row.try_get(1).map_err(bad)?;
        let version: i32 = row.try_get(2).map_err(bad)?;
        Ok(Checkpoint {
            last_seq: seq as u64,
            last_hash: hash
                .try_into()
                .map_err(|_| StoreError::Corrupt("the head's hash is not 32 bytes".into()))?,
            schema_version: version as u32,
        })
    }

    /// Runs `write` in a transaction that holds the log's write lock.
    fn locked<T>(&self, write: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        let begin = format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})");
        self.io.run(
            "taking the log's write lock",
            self.client.batch_execute(&begin),
        )?;
        let result = write();
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self
            .io
            .run("ending the write", self.client.batch_execute(end));
        let value = result?;
        ended?;
        Ok(value)
    }
}

impl Reader for PgOffline {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    fn between(&self, from_seq: u64, until_seq: u64) -> RawEvents {
        reader::between(&self.pool, from_seq, until_seq)
    }

    fn stream(&self, id: &ShareId) -> RawEvents {
        reader::stream(&self.pool, id)
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let head = self.head()?;
        Ok((head.last_seq > 0).then_some(head))
    }

    fn secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        super::secrets::secret(&self.pool, name)
    }

    fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        follow::cursor(&self.pool, name)
    }

    fn set_cursor(&self, name: &str, seq: u64) -> Result<(), StoreError> {
        follow::set_cursor(&self.pool, name, seq)
    }

    /// As a server's: a tool on the database leads work only that no replica leads.
    fn leads(&self, name: &str) -> Result<bool, StoreError> {
        self.leads.leads(&self.io, name)
    }

    fn close(&self) -> bool {
        self.leads.release();
        true
    }
}

impl Offline for PgOffline {
    fn last_seq(&self) -> Result<u64, StoreError> {
        let row = self.io.run(
            "reading the last seq",
            self.client
                .query_one("SELECT coalesce(max(seq), 0) FROM sharelog_events", &[]),
        )?;
        let seq: i64 = row
            .try_get(0)
            .map_err(|e| StoreError::Corrupt(format!("the last seq: {e}")))?;
        Ok(seq as u64)
    }

    fn projections(&self) -> Result<Projection, StoreError> {
        let rows = self.io.run(
            "reading the projections",
            self.client
                .query("SELECT key, value FROM sharelog_projection", &[]),
        )?;
        let bad = |e: tokio_postgres::Error| StoreError::Corrupt(format!("a projection row: {e}"));
        crate::projection::load(
            rows.into_iter().map(|r| {
                Ok::<_, StoreError>((r.try_get(0).map_err(bad)?, r.try_get(1).map_err(bad)?))
            }),
        )
    }

    /// Refused when a replica appended after `head` was folded: the rows would be stale.
    fn replace_projections(
        &self,
        shares: &Projection,
        head: &Checkpoint,
    ) -> Result<(), StoreError> {
        self.locked(|| {
            let now = self.head()?;
            if now.last_seq != head.last_seq {
                return Err(StoreError::Refused(format!(
                    "the log moved from event {} to {} while its projections were folded \
                     (a replica is writing): run it again, or stop the replicas first",
                    head.last_seq, now.last_seq
                )));
            }
            replace_rows(&self.io, &self.client, every_row(shares), head).map(|_| ())
        })
    }

    /// Appends the events after the head, in one transaction; the head moves to the
    /// last of them and the rows are marked stale (a server rebuilds them at start,
    /// `rebuild` at once).
    fn write_sealed(&self, events: &[(u64, &str, u64, &[u8])]) -> Result<(), StoreError> {
        let Some((last_seq, _, _, last_line)) = events.last() else {
            return Ok(());
        };
        let header = crate::store::RawEvent {
            seq: *last_seq,
            line: last_line.to_vec().into(),
        };
        let hash = chain::from_hex(&header.header()?.hash)
            .ok_or_else(|| StoreError::Corrupt(format!("event {last_seq}: bad hash")))?;
        let mut columns = Columns::default();
        for (seq, stream, version, line) in events {
            columns.push(*seq, stream, *version, line);
        }
        self.locked(|| {
            let after = self.head()?.last_seq;
            if events[0].0 != after + 1 {
                return Err(StoreError::Corrupt(format!(
                    "event {} does not follow the log's head at {after}",
                    events[0].0
                )));
            }
            let head = Checkpoint {
                last_seq: *last_seq,
                last_hash: hash,
                schema_version: 0,
            };
            append_sealed(&self.io, &self.client, after, &columns, &head)
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn each_line(&self, total: &mut dyn FnMut(u64), each: EachLine<'_>) -> Result<(), StoreError> {
        // Up to the last event now: replicas may append meanwhile.
        let last = self.last_seq()?;
        total(last);
        for ev in self.between(1, last) {
            let ev = ev?;
            each(ev.seq, &ev.line)?;
        }
        Ok(())
    }
}
