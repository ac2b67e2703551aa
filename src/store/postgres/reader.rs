//! The reading side: a few shared connections (a tokio-postgres client serves
//! several threads at once, pipelining their requests), and ranges read in chunks
//! of `CHUNK` events by key, so that an export of a million events holds one chunk
//! in memory at a time and no connection between chunks.

use super::connect::Io;
use super::follow::{self, Leads};
use crate::domain::ShareId;
use crate::store::engine::Reader;
use crate::store::read::raw::{Line, RawEvent, RawEvents};
use crate::store::{Checkpoint, StoreError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio_postgres::{Client, Statement};

/// Events per query.
const CHUNK: i64 = 2048;
/// Connections for reading.
const SLOTS: usize = 4;

const BETWEEN: &str = "SELECT seq, line FROM sharelog_events
    WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3";
const STREAM: &str = "SELECT seq, version, line FROM sharelog_events
    WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3";

/// The log's head as this process last saw it committed (its own batches and those
/// it caught up with): `checkpoint` answers from here, without a query, because
/// `/readyz` asks for it on the async runtime.
pub struct Head(Mutex<Checkpoint>);

impl Head {
    pub fn new(head: Checkpoint) -> Head {
        Head(Mutex::new(head))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Checkpoint> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, head: Checkpoint) {
        *self.lock() = head;
    }

    pub fn advance(&self, seq: u64, hash: [u8; 32]) {
        let mut head = self.lock();
        (head.last_seq, head.last_hash) = (seq, hash);
    }

    pub fn get(&self) -> Checkpoint {
        *self.lock()
    }
}

pub struct ReadConn {
    pub client: Client,
    between: Statement,
    stream: Statement,
}

/// The reading connections, made on first use and again after a failure.
pub struct Pool {
    io: Arc<Io>,
    slots: Vec<Mutex<Option<Arc<ReadConn>>>>,
    next: AtomicUsize,
    closed: AtomicBool,
}

impl Pool {
    pub fn new(io: Arc<Io>) -> Pool {
        Pool {
            io,
            slots: (0..SLOTS).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }
    }

    pub fn io(&self) -> &Io {
        &self.io
    }

    /// A reading connection (shared: a tokio-postgres client serves several threads).
    pub fn conn(&self) -> Result<Arc<ReadConn>, StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % SLOTS];
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = slot.as_ref().filter(|c| !c.client.is_closed()) {
            return Ok(conn.clone());
        }
        let client = self.io.connect()?;
        let (between, stream) = self.io.run("preparing the readers' statements", async {
            Ok((
                client.prepare(BETWEEN).await?,
                client.prepare(STREAM).await?,
            ))
        })?;
        let conn = Arc::new(ReadConn {
            client,
            between,
            stream,
        });
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// One chunk of `range` from `next` on: (seq, position, line) rows.
    fn chunk(&self, range: &Range, next: i64) -> Result<Vec<(u64, i64, Vec<u8>)>, StoreError> {
        let conn = self.conn()?;
        match self.query(&conn, range, next) {
            // A connection the server closed (a restart, a terminated backend) is made
            // anew by `conn`: a read is tried once more before it fails.
            Err(_) if conn.client.is_closed() => self.query(&*self.conn()?, range, next),
            result => result,
        }
    }

    fn query(
        &self,
        conn: &ReadConn,
        range: &Range,
        next: i64,
    ) -> Result<Vec<(u64, i64, Vec<u8>)>, StoreError> {
        let rows = match range {
            Range::Seqs { until } => self.io.run(
                "reading events",
                conn.client.query(&conn.between, &[&next, until, &CHUNK]),
            ),
            Range::Stream { id } => self.io.run(
                "reading a share's events",
                conn.client.query(&conn.stream, &[id, &next, &CHUNK]),
            ),
        }?;
        let bad = |e: tokio_postgres::Error| StoreError::Corrupt(format!("an event row: {e}"));
        rows.into_iter()
            .map(|row| {
                let seq: i64 = row.try_get(0).map_err(bad)?;
                let (position, line) = match range {
                    Range::Seqs { .. } => (seq, row.try_get(1).map_err(bad)?),
                    Range::Stream { .. } => {
                        (row.try_get(1).map_err(bad)?, row.try_get(2).map_err(bad)?)
                    }
                };
                Ok((seq as u64, position, line))
            })
            .collect()
    }

    /// Drops every connection; later reads answer `Closed`.
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for slot in &self.slots {
            // Dropping a client only queues its goodbye on the I/O thread: never blocks.
            slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
    }
}

/// What a chunked read walks: seqs up to a bound, or one stream's versions.
enum Range {
    Seqs { until: i64 },
    Stream { id: String },
}

/// Events read chunk by chunk, each chunk one query from where the last ended.
struct Chunks {
    pool: Arc<Pool>,
    range: Range,
    /// The next seq (or version) to read.
    next: i64,
    buf: std::vec::IntoIter<RawEvent>,
    done: bool,
}

impl Iterator for Chunks {
    type Item = Result<RawEvent, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(ev) = self.buf.next() {
            return Some(Ok(ev));
        }
        if self.done {
            return None;
        }
        let rows = match self.pool.chunk(&self.range, self.next) {
            Ok(rows) => rows,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.done = (rows.len() as i64) < CHUNK;
        if let Some((_, position, _)) = rows.last() {
            self.next = position + 1;
        }
        let events: Vec<RawEvent> = rows
            .into_iter()
            .map(|(seq, _, line)| RawEvent {
                seq,
                line: Line::from(line),
            })
            .collect();
        self.buf = events.into_iter();
        self.buf.next().map(Ok)
    }
}

/// The reading side, shared by every handle of the store.
pub struct PgLog {
    pool: Arc<Pool>,
    head: Arc<Head>,
    leads: Leads,
}

impl PgLog {
    pub fn new(pool: Arc<Pool>, head: Arc<Head>) -> PgLog {
        PgLog {
            pool,
            head,
            leads: Leads::default(),
        }
    }
}

/// Stored events `from_seq..=until_seq` (those that exist), read chunk by chunk.
pub fn between(pool: &Arc<Pool>, from_seq: u64, until_seq: u64) -> RawEvents {
    let until = i64::try_from(until_seq).unwrap_or(i64::MAX);
    let from = i64::try_from(from_seq.max(1)).unwrap_or(i64::MAX);
    chunks(pool, Range::Seqs { until }, from)
}

/// One share's stored events, oldest first, read chunk by chunk.
pub fn stream(pool: &Arc<Pool>, id: &ShareId) -> RawEvents {
    let id = id.as_str().to_string();
    chunks(pool, Range::Stream { id }, 1)
}

fn chunks(pool: &Arc<Pool>, range: Range, from: i64) -> RawEvents {
    Box::new(Chunks {
        pool: pool.clone(),
        range,
        next: from,
        buf: Vec::new().into_iter(),
        done: false,
    })
}

impl Reader for PgLog {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    fn between(&self, from_seq: u64, until_seq: u64) -> RawEvents {
        between(&self.pool, from_seq, until_seq)
    }

    fn stream(&self, id: &ShareId) -> RawEvents {
        stream(&self.pool, id)
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        if self.pool.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        let head = self.head.get();
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

    fn leads(&self, name: &str) -> Result<bool, StoreError> {
        if self.pool.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        self.leads.leads(self.pool.io(), name)
    }

    fn close(&self) -> bool {
        // The leads go first: another replica can take the work over at once.
        self.leads.release();
        self.pool.close();
        true
    }
}
