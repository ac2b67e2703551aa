//! `sharelog restore` into PostgreSQL (`engine::Import`): the whole restore is one
//! transaction that holds the log's write lock, so a broken export, a crash or a
//! kill leaves the database as it was (the server rolls the transaction back), and
//! no replica writes meanwhile. The database must hold no event yet. Events keep
//! their seqs, ids, versions, times and hashes; the projections the restore folded
//! on the way in are written at the end, with the head.

use super::append::{append_sealed, Columns};
use super::connect::Io;
use super::load::replace_rows;
use super::schema::{self, WRITE_LOCK};
use crate::projection::rows::{all_rows, day_rows, owner_rows};
use crate::store::engine::{CopyOut, EventSink, Import};
use crate::store::offline::{ImportBatch, ImportFold};
use crate::store::{Checkpoint, StoreError, SCHEMA_VERSION};
use std::sync::Arc;
use tokio_postgres::Client;

/// A restore into the database `url` names, which must hold no event.
pub fn create(url: &str) -> Result<Box<dyn Import>, StoreError> {
    let io = Arc::new(Io::new(url)?);
    let client = io.connect()?;
    schema::migrate(&io, &client)?;
    let begin = format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})");
    let stored: i64 = io.run("starting the restore", async {
        client.batch_execute(&begin).await?;
        client
            .query_one("SELECT count(*) FROM sharelog_events", &[])
            .await?
            .try_get(0)
    })?;
    if stored > 0 {
        return Err(StoreError::Refused(format!(
            "PostgreSQL at {} already holds an event log ({stored} events): a restore \
             fills an empty database (create a new one, or drop this one's sharelog tables)",
            io.place
        )));
    }
    Ok(Box::new(PgImport {
        io,
        client,
        last_seq: 0,
    }))
}

struct PgImport {
    io: Arc<Io>,
    /// In the restore's transaction.
    client: Client,
    last_seq: u64,
}

impl Import for PgImport {
    /// The database is the only copy: nothing to write on the reading thread.
    fn copy_out(&mut self) -> Option<Box<dyn CopyOut>> {
        None
    }

    fn push(&mut self, batch: &mut ImportBatch, fold: &ImportFold) -> Result<(), StoreError> {
        let mut columns = Columns::default();
        let mut start = 0;
        for ev in batch.events.drain(..) {
            let stream = fold.id(ev.stream).ok_or_else(|| {
                StoreError::Corrupt(format!("event {}: unknown stream number", ev.seq))
            })?;
            columns.push(
                ev.seq,
                &stream.to_string(),
                ev.version,
                &batch.text[start..ev.end],
            );
            start = ev.end + 1;
            self.last_seq = ev.seq;
        }
        batch.text.clear();
        if columns.is_empty() {
            return Ok(());
        }
        // The head follows each batch (its rows are written at the end): the
        // function's check that each batch continues the last holds here too.
        let head = Checkpoint {
            last_seq: self.last_seq,
            last_hash: batch.last_hash,
            schema_version: 0,
        };
        let after = self.last_seq - columns.len() as u64;
        append_sealed(&self.io, &self.client, after, &columns, &head)
    }

    fn finish(self: Box<Self>, fold: ImportFold) -> Result<Checkpoint, StoreError> {
        let head = Checkpoint {
            schema_version: SCHEMA_VERSION,
            ..fold.head()
        };
        let rows = all_rows(fold.shares())
            .chain(owner_rows(fold.owners()))
            .chain(day_rows(fold.days()));
        replace_rows(&self.io, &self.client, rows, &head)?;
        // With synchronous_commit on, the restore is on the server's disk once this returns.
        self.io.run(
            "committing the restore",
            self.client.batch_execute("COMMIT"),
        )?;
        Ok(head)
    }
}
