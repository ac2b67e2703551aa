//! The sled engine behind the store's seam (`store::engine`): one process owns the
//! data directory (sled's file lock), so there are no other writers to catch up
//! with; a batch is one sled `apply_batch` plus a flush, made durable by an fsync of
//! sled's file on the syncer thread (sled's own flush ends in `sync_file_range`,
//! which is no fsync), after which the export mirror gets its lines.

use super::mirror::Mirror;
use super::packing::Packer;
use super::{keys, open, reader, release};
use crate::domain::ShareId;
use crate::store::engine::{Append, CaughtUp, Decided, Durability, IdemKey, Opened, Reader};
use crate::store::error::Doing;
use crate::store::read::raw::RawEvents;
use crate::store::request::IdempotencyRow;
use crate::store::{Checkpoint, StoreError};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Opens (or creates) the log in `dir` and loads the projections (O(shares)).
pub fn open(dir: &Path) -> Result<Opened<SledAppend, SledDurability>, StoreError> {
    let (db, shares, head) = open::open(dir)?;
    let log = Arc::new(SledLog {
        db: RwLock::new(Some(db.clone())),
        dir: dir.to_path_buf(),
    });
    match parts(&db, dir, head.last_seq) {
        Ok((durability, keys)) => Ok(Opened {
            append: SledAppend { db },
            durability,
            log,
            shares,
            head,
            keys,
            watch: None,
        }),
        Err(e) => {
            drop(db);
            log.close();
            Err(e)
        }
    }
}

/// The syncer's side and the stored idempotency keys.
fn parts(
    db: &sled::Db,
    dir: &Path,
    last_seq: u64,
) -> Result<(SledDurability, HashMap<IdemKey, IdempotencyRow>), StoreError> {
    let data_file =
        File::open(dir.join("db")).doing(|| format!("opening {}", dir.join("db").display()))?;
    // Before anything is appended: drops the clean marker and catches the mirror up with sled.
    let mirror = Mirror::open(dir, db, last_seq)?;
    let mut idempotency = HashMap::new();
    for kv in db.scan_prefix([keys::IDEMPOTENCY]) {
        let (k, v) = kv?;
        let text = String::from_utf8_lossy(&k[1..]).into_owned();
        let (user, key) = text.split_once('\0').unwrap_or((&text, ""));
        let row: IdempotencyRow = serde_json::from_slice(&v)
            .map_err(|e| StoreError::Corrupt(format!("idempotency row: {e}")))?;
        idempotency.insert((user.to_string(), key.to_string()), row);
    }
    let durability = SledDurability {
        db: db.clone(),
        data_file,
        mirror: Some(mirror),
        dir: dir.to_path_buf(),
    };
    Ok((durability, idempotency))
}

/// The committer's side: one sled batch per decided batch.
pub struct SledAppend {
    db: sled::Db,
}

impl Append for SledAppend {
    type Events = Packer;
    // A failed sled write leaves what reached its file unknown.
    const FAILURE_POISONS: bool = true;

    /// One process holds the directory: nobody else appends.
    fn begin(&mut self, _head: u64, _write: bool) -> Result<CaughtUp, StoreError> {
        Ok(CaughtUp::default())
    }

    /// Writes the batch's rows and the new checkpoint to sled's file; the syncer fsyncs them.
    fn append(&mut self, batch: Decided<Packer>) -> Result<(), StoreError> {
        let mut writes = sled::Batch::default();
        batch.events.write_to(&mut writes);
        for (k, v) in batch.rows {
            writes.insert(k, v);
        }
        for ((user, key), row) in &batch.keys {
            writes.insert(keys::idempotency(user, key), open::encode(row)?);
        }
        writes.insert(keys::CHECKPOINT, open::encode(&batch.head)?);
        self.db.apply_batch(writes)?;
        // Flushed here, not by the syncer: `flush` holds sled's lock that `apply_batch`
        // needs, so a flush on the syncer made the next batch wait for it anyway, and
        // requests that arrived meanwhile waited a whole extra round.
        self.db.flush()?;
        Ok(())
    }

    fn end(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The syncer's side: our own handle on sled's data file, and the export mirror.
pub struct SledDurability {
    db: sled::Db,
    data_file: File,
    /// `None` once handed to `stopped_cleanly`.
    mirror: Option<Mirror>,
    dir: PathBuf,
}

impl Durability for SledDurability {
    /// The committer flushed every batch before handing it over: one fsync makes them durable.
    fn sync(&mut self) -> Result<(), StoreError> {
        self.data_file
            .sync_data()
            .doing(|| "syncing the event log's file".into())
    }

    fn durable(&mut self, lines: &[u8]) {
        if let Some(mirror) = self.mirror.as_mut() {
            mirror.append(lines);
        }
    }

    /// After the last fsync: the mirror is closed clean, so offline exports may read it.
    fn stopped_cleanly(mut self, last_seq: u64) {
        if let Err(e) = self.db.flush() {
            log::error!("final flush failed: {e}");
            return;
        }
        let Some(mirror) = self.mirror.take().filter(Mirror::is_live) else {
            return;
        };
        if let Err(e) = mirror.close_clean(&self.dir, last_seq) {
            log::warn!("closing the export mirror failed ({e}); offline exports read sled until the next start");
        }
    }
}

/// The reading side, shared by every handle of the store.
pub struct SledLog {
    /// `None` once closed: `close` lets go of sled at once, even while other
    /// handles to the store (an HTTP worker's state) live on.
    db: RwLock<Option<sled::Db>>,
    dir: PathBuf,
}

impl SledLog {
    /// A handle on sled for one read; `Closed` after `close`.
    fn db(&self) -> Result<sled::Db, StoreError> {
        let guard = self.db.read().unwrap_or_else(|e| e.into_inner());
        guard.clone().ok_or(StoreError::Closed)
    }

    fn read(&self, f: impl FnOnce(&sled::Db) -> RawEvents) -> RawEvents {
        match self.db() {
            Ok(db) => f(&db),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }
}

impl Reader for SledLog {
    fn engine(&self) -> &'static str {
        "sled"
    }

    fn between(&self, from_seq: u64, until_seq: u64) -> RawEvents {
        self.read(|db| Box::new(reader::between(db, from_seq, until_seq)))
    }

    fn stream(&self, id: &ShareId) -> RawEvents {
        self.read(|db| Box::new(reader::stream(db, id)))
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        open::read_checkpoint(&self.db()?)
    }

    fn secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        super::secret::load_or_create(&self.dir, name).doing(|| {
            format!(
                "reading or creating {}",
                self.dir.join(super::secret::file_name(name)).display()
            )
        })
    }

    fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        super::cursor::read(&self.dir, name)
    }

    fn set_cursor(&self, name: &str, seq: u64) -> Result<(), StoreError> {
        super::cursor::write(&self.dir, name, seq)
    }

    fn leads(&self, _name: &str) -> Result<bool, StoreError> {
        Ok(true)
    }

    /// Flushes and lets go of sled: once it returns, the data directory opens again
    /// at once, here or in another process.
    fn close(&self) -> bool {
        let Some(db) = self.db.write().unwrap_or_else(|e| e.into_inner()).take() else {
            return true;
        };
        let flushed = match db.flush() {
            Ok(_) => true,
            Err(e) => {
                log::error!("final flush failed: {e}");
                false
            }
        };
        release::release(db, &self.dir);
        flushed
    }
}
