//! Loading a replica's state at open: the head, the projection rows and the
//! idempotency keys, read in one snapshot so they agree with each other. Rows that
//! are not as of the head (an older row schema, or events written without their
//! rows) are rebuilt from the log (`fold::fold_all`) and written back, under the
//! log's write lock so that no batch commits meanwhile and two replicas starting
//! together rebuild once.

use super::connect::Io;
use super::reader::{self, Pool};
use super::schema::WRITE_LOCK;
use crate::domain::ShareId;
use crate::projection::rows::{all_rows, day_rows, owner_rows, Row};
use crate::projection::Projection;
use crate::store::engine::IdemKey;
use crate::store::request::IdempotencyRow;
use crate::store::{fold, Checkpoint, RawEvents, StoreError, SCHEMA_VERSION};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_postgres::Client;

/// Rows per insert when a rebuild writes them back.
const ROWS_PER_INSERT: usize = 1000;

/// A replica's state as of the log's head.
pub struct Loaded {
    pub shares: Projection,
    pub head: Checkpoint,
    pub keys: HashMap<IdemKey, IdempotencyRow>,
}

/// What one snapshot holds.
struct Snapshot {
    head: Checkpoint,
    /// The last seq in the events table.
    last_event: u64,
    rows: Vec<Row>,
    keys: HashMap<IdemKey, IdempotencyRow>,
}

impl Snapshot {
    /// Whether the rows are as of the last event, in this version's schema.
    fn fits(&self) -> Result<bool, StoreError> {
        if self.head.last_seq > self.last_event {
            return Err(StoreError::Corrupt(format!(
                "the head names event {} but the log ends at {}",
                self.head.last_seq, self.last_event
            )));
        }
        let empty = self.last_event == 0;
        Ok(self.head.last_seq == self.last_event
            && (empty || self.head.schema_version == SCHEMA_VERSION))
    }

    fn load(self) -> Result<Loaded, StoreError> {
        Ok(Loaded {
            shares: crate::projection::load(self.rows.into_iter().map(Ok::<_, StoreError>))?,
            head: Checkpoint {
                schema_version: SCHEMA_VERSION,
                ..self.head
            },
            keys: self.keys,
        })
    }
}

pub fn load(io: &Io, client: &Client, pool: &Arc<Pool>) -> Result<Loaded, StoreError> {
    let snapshot = read(
        io,
        client,
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    )?;
    io.run("ending the load", client.batch_execute("COMMIT"))?;
    if snapshot.fits()? {
        return snapshot.load();
    }
    // Under the write lock, each statement sees every batch committed before it.
    let begin = format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})");
    let result = read(io, client, &begin).and_then(|snapshot| {
        if snapshot.fits()? {
            return snapshot.load();
        }
        rebuild(io, client, pool, snapshot)
    });
    let ended = io.run(
        "ending the load",
        client.batch_execute(match result {
            Ok(_) => "COMMIT",
            Err(_) => "ROLLBACK",
        }),
    );
    let loaded = result?;
    ended?;
    Ok(loaded)
}

/// The head, the last event's seq, every row and every key, after `begin`.
fn read(io: &Io, client: &Client, begin: &str) -> Result<Snapshot, StoreError> {
    let (head, last, rows, keys) = io.run("loading the projections", async {
        client.batch_execute(begin).await?;
        let head = client
            .query_one("SELECT seq, hash, rows_version FROM sharelog_head", &[])
            .await?;
        let last = client
            .query_one("SELECT coalesce(max(seq), 0) FROM sharelog_events", &[])
            .await?;
        let rows = client
            .query("SELECT key, value FROM sharelog_projection", &[])
            .await?;
        let keys = client
            .query(
                "SELECT user_id, key, share_id, fingerprint FROM sharelog_idempotency",
                &[],
            )
            .await?;
        Ok((head, last, rows, keys))
    })?;
    let bad = |e: tokio_postgres::Error| StoreError::Corrupt(format!("a stored row: {e}"));
    let seq: i64 = head.try_get(0).map_err(bad)?;
    let hash: Vec<u8> = head.try_get(1).map_err(bad)?;
    let version: i32 = head.try_get(2).map_err(bad)?;
    let last_event: i64 = last.try_get(0).map_err(bad)?;
    let mut snapshot = Snapshot {
        head: Checkpoint {
            last_seq: seq as u64,
            last_hash: hash
                .try_into()
                .map_err(|_| StoreError::Corrupt("the head's hash is not 32 bytes".into()))?,
            schema_version: version as u32,
        },
        last_event: last_event as u64,
        rows: Vec::with_capacity(rows.len()),
        keys: HashMap::with_capacity(keys.len()),
    };
    for row in rows {
        snapshot
            .rows
            .push((row.try_get(0).map_err(bad)?, row.try_get(1).map_err(bad)?));
    }
    for row in keys {
        let share: String = row.try_get(2).map_err(bad)?;
        let share_id = ShareId::parse(&share)
            .ok_or_else(|| StoreError::Corrupt(format!("idempotency key names share {share:?}")))?;
        let key = (row.try_get(0).map_err(bad)?, row.try_get(1).map_err(bad)?);
        let fingerprint = row.try_get(3).map_err(bad)?;
        snapshot.keys.insert(
            key,
            IdempotencyRow {
                share_id,
                fingerprint,
            },
        );
    }
    Ok(snapshot)
}

/// Folds the whole log and replaces every projection row, in the caller's
/// transaction (which holds the write lock), with the head they are as of.
fn rebuild(
    io: &Io,
    client: &Client,
    pool: &Arc<Pool>,
    snapshot: Snapshot,
) -> Result<Loaded, StoreError> {
    let last = snapshot.last_event;
    log::warn!(
        "PostgreSQL at {}: the projections are not as of the log (rows of schema {} at event {}, log at {last}); rebuilding them from {last} events",
        io.place, snapshot.head.schema_version, snapshot.head.last_seq
    );
    let read = |first, last| -> RawEvents { reader::between(pool, first, last) };
    let folded = fold::fold_all(&read, last, &mut |_| {})?;
    let head = folded.checkpoint;
    let rows = replace_rows(io, client, every_row(&folded.shares), &head)?;
    log::info!(
        "PostgreSQL at {}: projections rebuilt ({rows} rows)",
        io.place
    );
    Ok(Loaded {
        shares: folded.shares,
        head,
        keys: snapshot.keys,
    })
}

/// Every projection row of `shares`: each share's, owner's and day's.
pub fn every_row(shares: &Projection) -> impl Iterator<Item = Result<Row, serde_json::Error>> + '_ {
    all_rows(shares.all())
        .chain(owner_rows(shares.owners()))
        .chain(day_rows(shares.all_days()))
}

/// Replaces every projection row by `rows` (full rows, of every kind) and sets the head
/// they are as of, in the caller's transaction (which holds the write lock).
/// Returns how many rows it wrote.
pub fn replace_rows(
    io: &Io,
    client: &Client,
    rows: impl Iterator<Item = Result<Row, serde_json::Error>>,
    head: &Checkpoint,
) -> Result<usize, StoreError> {
    let rows: Vec<Row> = rows
        .collect::<Result<_, _>>()
        .map_err(|e| StoreError::engine("encoding a projection row", e))?;
    io.run("writing the projections", async {
        client
            .batch_execute("DELETE FROM sharelog_projection")
            .await?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let (keys, values): (Vec<&[u8]>, Vec<&[u8]>) = chunk
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_slice()))
                .unzip();
            client
                .execute(
                    "INSERT INTO sharelog_projection (key, value) \
                     SELECT * FROM unnest($1::bytea[], $2::bytea[])",
                    &[&keys, &values],
                )
                .await?;
        }
        let hash: &[u8] = &head.last_hash;
        client
            .execute(
                "UPDATE sharelog_head SET seq = $1, hash = $2, rows_version = $3",
                &[
                    &(head.last_seq as i64),
                    &hash,
                    &(head.schema_version as i32),
                ],
            )
            .await
    })?;
    Ok(rows.len())
}
