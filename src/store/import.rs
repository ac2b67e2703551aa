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

/// Events per sled batch of `E` rows: large enough that sled's per-batch cost
/// vanishes, small enough that a batch's rows stay a few MB.
const BATCH_EVENTS: usize = 8_192;
/// Events whose `S` (share, version) entries are collected before they are written.
/// A batch of a few thousand events touches nearly every share once (visits spread
/// over all of them), so writing `S` rows per batch cost about one row per event;
/// collected over many batches, each share's run fills whole rows. ~8 bytes an event.
const STREAM_EVENTS: usize = 2_000_000;
/// A small page cache: the importer only appends.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// An empty data directory being filled, event by event, in seq order.
pub struct Importer {
    db: sled::Db,
    dir: PathBuf,
    /// `E` rows of the current batch.
    lines: Packer,
    pending: usize,
    /// `S` rows, written every `STREAM_EVENTS` events.
    versions: Packer,
    pending_versions: usize,
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
            lines: Packer::default(),
            pending: 0,
            versions: Packer::default(),
            pending_versions: 0,
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
        self.lines.push_line(env.seq, line);
        self.versions
            .push_version(env.seq, env.stream.as_str(), env.version);
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
        self.pending_versions += 1;
        if self.pending == BATCH_EVENTS {
            self.write_rows()?;
        }
        if self.pending_versions == STREAM_EVENTS {
            self.write_versions()?;
        }
        Ok(())
    }

    pub fn last_seq(&self) -> u64 {
        self.head.last_seq
    }

    fn write_rows(&mut self) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        std::mem::take(&mut self.lines).write_to(&mut batch);
        self.db.apply_batch(batch)?;
        // Written out now rather than by sled's flusher: dirty pages are what grows memory.
        self.db.flush()?;
        self.pending = 0;
        Ok(())
    }

    fn write_versions(&mut self) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        std::mem::take(&mut self.versions).write_to(&mut batch);
        self.db.apply_batch(batch)?;
        self.pending_versions = 0;
        Ok(())
    }

    /// Writes the last rows, the projections and the checkpoint, makes everything
    /// durable (sled's file, the mirror, its clean marker) and closes the database.
    pub fn finish(mut self) -> Result<Checkpoint, StoreError> {
        self.write_rows()?;
        self.write_versions()?;
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
        // sled's first open after a bulk write replays its whole log (seconds at a
        // million events) and then writes a snapshot; do it here, so that the
        // service's first start opens from that snapshot like any restart.
        drop(open::open_db_with_cache(&self.dir, CACHE_BYTES)?);
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
