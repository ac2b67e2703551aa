//! Followers of the log on PostgreSQL: their cursors in `sharelog_cursors`, and who
//! leads each piece of work (`Reader::leads`). A replica leads work `name` while it
//! holds a session-level advisory lock for that name on a connection of its own;
//! the lock goes with that connection, so when the leader closes, dies (kill -9) or
//! loses the database, the next replica to ask takes the work over.

use super::connect::Io;
use super::reader::Pool;
use crate::store::StoreError;
use std::collections::HashSet;
use std::sync::Mutex;
use tokio_postgres::Client;

/// The first key of the two-key advisory locks of followers ("shlg"); the second is
/// `hashtext(name)`. Two-key locks never meet the one-key locks of `schema`.
const LEAD_LOCKS: i32 = 0x7368_6c67;

pub fn cursor(pool: &Pool, name: &str) -> Result<u64, StoreError> {
    off_runtime(|| {
        let conn = pool.conn()?;
        let rows = pool.io().run(
            "reading a cursor",
            conn.client
                .query("SELECT seq FROM sharelog_cursors WHERE name = $1", &[&name]),
        )?;
        match rows.first() {
            None => Ok(0),
            Some(row) => row
                .try_get::<_, i64>(0)
                .map(|seq| seq as u64)
                .map_err(|e| StoreError::Corrupt(format!("cursor {name}: {e}"))),
        }
    })
}

/// Durable when it returns: the statement commits on its own, `synchronous_commit` on.
pub fn set_cursor(pool: &Pool, name: &str, seq: u64) -> Result<(), StoreError> {
    let seq = i64::try_from(seq)
        .map_err(|_| StoreError::Failed(format!("cursor {name}: {seq} is out of range")))?;
    off_runtime(|| {
        let conn = pool.conn()?;
        pool.io().run(
            "moving a cursor",
            conn.client.execute(
                "INSERT INTO sharelog_cursors (name, seq) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq",
                &[&name, &seq],
            ),
        )?;
        Ok(())
    })
}

/// The work this replica leads, and the connection whose session holds their locks.
#[derive(Default)]
pub struct Leads(Mutex<Held>);

#[derive(Default)]
struct Held {
    client: Option<Client>,
    names: HashSet<String>,
}

impl Leads {
    /// Whether this replica leads `name`: yes while its lock's connection answers,
    /// else yes once it takes the lock, which no other replica holds then.
    pub fn leads(&self, io: &Io, name: &str) -> Result<bool, StoreError> {
        off_runtime(|| {
            let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let alive = match &held.client {
                // One round trip: a lock is only as held as its session is alive.
                Some(client) => io.run("checking a lead", client.simple_query("")).is_ok(),
                None => false,
            };
            if !alive {
                // Its session's locks went with it (or there was none yet).
                held.names.clear();
                held.client = None;
            }
            if held.names.contains(name) {
                return Ok(true);
            }
            if held.client.is_none() {
                held.client = Some(io.connect()?);
            }
            let Some(client) = &held.client else {
                return Ok(false);
            };
            let row = io.run(
                "taking a lead",
                client.query_one(
                    "SELECT pg_try_advisory_lock($1, hashtext($2))",
                    &[&LEAD_LOCKS, &name],
                ),
            )?;
            let taken: bool = row
                .try_get(0)
                .map_err(|e| StoreError::Corrupt(format!("lead {name}: {e}")))?;
            if taken {
                held.names.insert(name.to_string());
            }
            Ok(taken)
        })
    }

    /// Gives up every lead: the session ends and its locks with it.
    pub fn release(&self) {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.names.clear();
        held.client = None;
    }
}

/// Runs `f`, which waits for the engine's runtime, on a thread of its own when the
/// caller is on an async runtime (where such a wait is not allowed).
pub fn off_runtime<T: Send>(
    f: impl FnOnce() -> Result<T, StoreError> + Send,
) -> Result<T, StoreError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .map_err(|_| StoreError::Failed("a PostgreSQL call failed (a panic)".into()))?
    })
}
