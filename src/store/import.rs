//! Writing a new data directory from checked export lines (`sharelog restore`):
//! events in packed rows with their original seq, ids, versions, times and hashes,
//! the projections folded on the way in (no second pass through sled, which would
//! cost hundreds of MB at a million events), and a complete export mirror, so the
//! first start is as fast as any restart.

use super::mirror::{self, Mirror};
use super::rows::Packer;
use super::{chain, keys, open, Checkpoint, Envelope, StoreError, SCHEMA_VERSION};
use crate::domain::{apply, Share, ShareId};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Events per sled batch: large enough that sled's per-batch cost vanishes, small
/// enough that a batch's rows stay a few MB.
const BATCH_EVENTS: usize = 8_192;
/// A small page cache: the importer only appends.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// An empty data directory being filled, event by event, in seq order.
pub struct Importer {
    db: sled::Db,
    dir: PathBuf,
    packer: Packer,
    pending: usize,
    shares: HashMap<ShareId, Share>,
    mirror: BufWriter<File>,
    head: Checkpoint,
}

impl Importer {
    /// Creates the log in `dir`, which must not hold one.
    pub fn create(dir: &Path) -> Result<Importer, StoreError> {
        if dir.join("db").exists() {
            return Err(StoreError::Io(format!(
                "{} already holds an event log",
                dir.display()
            )));
        }
        let db = open::open_db_with_cache(dir, CACHE_BYTES)?;
        let mirror = BufWriter::with_capacity(1024 * 1024, File::create(mirror::path(dir))?);
        Ok(Importer {
            db,
            dir: dir.to_path_buf(),
            packer: Packer::default(),
            pending: 0,
            shares: HashMap::new(),
            mirror,
            head: Checkpoint {
                last_seq: 0,
                last_hash: chain::GENESIS,
                schema_version: SCHEMA_VERSION,
            },
        })
    }

    /// Appends one event; `line` is its canonical export line (the caller checked that
    /// `hash` seals it). Refuses an event that does not continue the chain.
    pub fn push(&mut self, env: Envelope, line: &[u8]) -> Result<(), StoreError> {
        if env.seq != self.head.last_seq + 1 || env.prev_hash != self.head.last_hash {
            return Err(StoreError::Corrupt(format!(
                "event {} does not continue the chain at seq {}",
                env.seq, self.head.last_seq
            )));
        }
        self.packer
            .push(env.seq, env.stream.as_str(), env.version, line);
        self.mirror.write_all(line)?;
        self.mirror.write_all(b"\n")?;
        // The domain's own fold, so every event type (today's and future ones) counts.
        let state = self.shares.remove(&env.stream);
        if let Some(next) = apply(state, &env.stream, &env.event, env.at) {
            self.shares.insert(env.stream.clone(), next);
        }
        self.head.last_seq = env.seq;
        self.head.last_hash = env.hash;
        self.pending += 1;
        if self.pending == BATCH_EVENTS {
            self.write_rows()?;
        }
        Ok(())
    }

    pub fn last_seq(&self) -> u64 {
        self.head.last_seq
    }

    fn write_rows(&mut self) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        std::mem::take(&mut self.packer).write_to(&mut batch);
        self.db.apply_batch(batch)?;
        self.pending = 0;
        Ok(())
    }

    /// Writes the last rows, the projections and the checkpoint, makes everything
    /// durable (sled's file, the mirror, its clean marker) and closes the database.
    pub fn finish(mut self) -> Result<Checkpoint, StoreError> {
        self.write_rows()?;
        let mut batch = sled::Batch::default();
        for share in self.shares.values() {
            batch.insert(
                keys::prefixed(keys::SHARE, share.id.as_str()),
                open::encode(share)?,
            );
        }
        batch.insert(keys::CHECKPOINT, open::encode(&self.head)?);
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        // sled's flush is no fsync (docs/architecture.md): sync its file ourselves.
        File::open(self.dir.join("db"))?.sync_data()?;
        self.mirror.flush()?;
        drop(self.mirror);
        // Opening the mirror checks its tail against the log; the clean close fsyncs it
        // and writes the marker that lets the first start and `audit export` trust it.
        let last_seq = self.head.last_seq;
        let mirror = Mirror::open(&self.dir, &self.db, last_seq)?;
        if !mirror.is_live() {
            return Err(StoreError::Io(format!(
                "the export mirror {} could not be written",
                mirror::path(&self.dir).display()
            )));
        }
        mirror.close_clean(&self.dir, last_seq)?;
        drop(self.db);
        wait_until_closed(&self.dir)?;
        Ok(self.head)
    }
}

/// sled's background threads let go of the database a moment after the last handle
/// drops; the directory is renamed only once they have (its lock is free again).
fn wait_until_closed(dir: &Path) -> Result<(), StoreError> {
    for _ in 0..1000 {
        match mirror::lock_shared(dir) {
            Ok(_) => return Ok(()),
            Err(StoreError::Locked(_)) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Io(format!(
        "the new database in {} was not released",
        dir.display()
    )))
}
