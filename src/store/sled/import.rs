//! Writing a new data directory from checked export lines (`sharelog restore`):
//! events in packed rows with their original seq, ids, versions, times and hashes,
//! the projections folded on the way in (no second pass through sled, which would
//! cost hundreds of MB at a million events), and a complete export mirror, so the
//! first start is as fast as any restart.
//!
//! The reading side fills [`ImportBatch`]es (`import_batch.rs`) and writes the
//! export mirror; this, the writing side, appends their `E` rows to sled and folds
//! their events into the projections.

use crate::domain::check_version;
use crate::domain::{
    apply, check_counted, check_logged, Counted, CountedRun, ImpossibleEvent, Share, ShareId,
};
use crate::store::import_batch::Change;
pub use crate::store::import_batch::{Batcher, ImportBatch, MirrorCopy};
use crate::store::mirror::{self, Mirror};
use crate::store::packing::{row_takes, VersionRuns};
use crate::store::{chain, keys, open, Checkpoint, StoreError, SCHEMA_VERSION};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Events per batch, and per sled batch of `E` rows: large enough that sled's
/// per-batch cost vanishes, small enough that a batch stays a few MB.
pub const BATCH_EVENTS: usize = 8_192;
/// Events whose `S` (share, version) entries are collected before they are written.
/// A batch of a few thousand events touches nearly every share once (visits spread
/// over all of them), so writing `S` rows per batch cost about one row per event;
/// collected over many batches, each share's run fills whole rows. ~8 bytes an event.
const STREAM_EVENTS: usize = 2_000_000;
/// Seqs of `S` rows per sled batch when they are written (8 bytes each).
const VERSIONS_PER_WRITE: usize = 16_384;
/// A small page cache: the importer only appends.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// A share as the importer knows it: its id, its state so far, its `S` rows to write.
struct Stream {
    id: ShareId,
    state: Option<Share>,
    versions: VersionRuns,
}

/// An empty data directory being filled, batch by batch, in seq order.
pub struct Importer {
    db: sled::Db,
    dir: PathBuf,
    /// By share number.
    streams: Vec<Stream>,
    /// Events whose `S` entries are not written yet.
    pending_versions: usize,
    head: Checkpoint,
}

impl Importer {
    /// Creates the log in `dir`, which must not hold one, and its export mirror,
    /// which the reading side fills.
    pub fn create(dir: &Path) -> Result<(Importer, MirrorCopy), StoreError> {
        if dir.join("db").exists() {
            return Err(StoreError::Io(format!(
                "{} already holds an event log",
                dir.display()
            )));
        }
        let db = open::open_db_with_cache(dir, CACHE_BYTES)?;
        let mirror = MirrorCopy::create(dir)?;
        let importer = Importer {
            db,
            dir: dir.to_path_buf(),
            streams: Vec::new(),
            pending_versions: 0,
            head: Checkpoint {
                last_seq: 0,
                last_hash: chain::GENESIS,
                schema_version: SCHEMA_VERSION,
            },
        };
        Ok((importer, mirror))
    }

    /// Appends a batch: its `E` rows in one sled batch, its events to the projections
    /// (its lines went to the mirror on the reading side). The reader checked the chain; this refuses a batch
    /// that does not continue the log's seqs.
    ///
    /// The batch is left empty, for the reader to fill again (its buffers are reused
    /// rather than freed on this thread and allocated anew on the other).
    pub fn push_batch(&mut self, batch: &mut ImportBatch) -> Result<(), StoreError> {
        let text = &batch.text;
        self.streams
            .extend(batch.new_shares.drain(..).map(|id| Stream {
                id,
                state: None,
                versions: VersionRuns::default(),
            }));
        let mut rows = sled::Batch::default();
        // The current row: text[row_start..row_end], its first seq.
        let (mut row_start, mut row_end, mut row_seq) = (0, 0, self.head.last_seq + 1);
        for ev in batch.events.drain(..) {
            if ev.seq != self.head.last_seq + 1 {
                return Err(StoreError::Corrupt(format!(
                    "event {} does not continue the log at seq {}",
                    ev.seq, self.head.last_seq
                )));
            }
            let line_start = if ev.seq == row_seq {
                row_start
            } else {
                row_end + 1
            };
            if ev.seq != row_seq && !row_takes(row_end - row_start, ev.end - line_start) {
                rows.insert(&keys::event(row_seq), &text[row_start..row_end]);
                (row_start, row_seq) = (line_start, ev.seq);
            }
            row_end = ev.end;
            let stream = self.streams.get_mut(ev.share as usize).ok_or_else(|| {
                StoreError::Corrupt(format!("event {}: unknown share number", ev.seq))
            })?;
            stream.versions.push(ev.seq, ev.version);
            // Every event through the rules a live server keeps (the chain only proves
            // that nobody changed the file since it was sealed, not that it makes sense).
            let impossible = |reason: ImpossibleEvent| StoreError::Impossible {
                seq: ev.seq,
                reason,
            };
            match ev.change {
                Change::Counted(kind, at, link) => {
                    check_counted(stream.state.as_ref(), kind, at, link.as_ref())
                        .map_err(impossible)?;
                    check_version(stream.state.as_ref(), ev.version).map_err(impossible)?;
                    if let Some(share) = stream.state.as_mut() {
                        match link {
                            None => Counted::one(kind, at).apply_to(share),
                            link => CountedRun::one(kind, at, link).apply_to(share),
                        }
                    }
                }
                // The domain's own fold, so every other event type (today's and future ones) counts.
                Change::Other(env) => {
                    check_logged(stream.state.as_ref(), ev.version, &env.event, env.at)
                        .map_err(impossible)?;
                    stream.state = apply(stream.state.take(), &env.stream, &env.event, env.at);
                }
            }
            self.head.last_seq = ev.seq;
            self.pending_versions += 1;
        }
        if self.head.last_seq >= row_seq {
            rows.insert(&keys::event(row_seq), &text[row_start..row_end]);
        }
        self.head.last_hash = batch.last_hash;
        batch.text.clear();
        self.db.apply_batch(rows)?;
        // Written out now rather than by sled's flusher: dirty pages are what grows memory.
        self.db.flush()?;
        if self.pending_versions >= STREAM_EVENTS {
            self.write_versions()?;
        }
        Ok(())
    }

    pub fn last_seq(&self) -> u64 {
        self.head.last_seq
    }

    /// Writes the collected `S` rows, ~128 KB per sled batch, each flushed:
    /// in one batch, a million events' rows raised the peak memory by ~90 MB.
    fn write_versions(&mut self) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut seqs = 0;
        for stream in &mut self.streams {
            seqs += stream.versions.write_to(stream.id.as_str(), &mut batch);
            if seqs >= VERSIONS_PER_WRITE {
                self.db.apply_batch(std::mem::take(&mut batch))?;
                self.db.flush()?;
                seqs = 0;
            }
        }
        self.db.apply_batch(batch)?;
        self.pending_versions = 0;
        Ok(())
    }

    /// Writes the last rows, the projections and the checkpoint, makes everything
    /// durable (sled's file, the mirror, its clean marker) and closes the database.
    /// `mirror` has had every batch written to it.
    pub fn finish(mut self, mirror: MirrorCopy) -> Result<Checkpoint, StoreError> {
        self.write_versions()?;
        let mut batch = sled::Batch::default();
        for row in
            crate::projection::rows::all_rows(self.streams.iter().filter_map(|s| s.state.as_ref()))
        {
            let (k, v) = row.map_err(open::encoding)?;
            batch.insert(k, v);
        }
        batch.insert(keys::CHECKPOINT, open::encode(&self.head)?);
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        // sled's flush is no fsync (docs/architecture.md): sync its file ourselves.
        File::open(self.dir.join("db"))?.sync_data()?;
        mirror.close()?;
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
        drop(self.db);
        let dir = &self.dir;
        std::thread::scope(|scope| {
            // The mirror's fsync runs beside sled's reopen: different files, both disk-bound.
            let mirror = scope.spawn(move || mirror.close_clean(dir, last_seq));
            wait_until_closed(dir)?;
            // sled's first open after a bulk write replays its whole log (seconds at a
            // million events) and then writes a snapshot; do it here, so that the
            // service's first start opens from that snapshot like any restart.
            drop(open::open_db_with_cache(dir, CACHE_BYTES)?);
            wait_until_closed(dir)?;
            mirror
                .join()
                .map_err(|_| StoreError::Io("the mirror's closing thread failed".into()))?
        })?;
        Ok(self.head)
    }
}

/// The directory is renamed only once sled has let go of it (`release` says why
/// that takes a moment after the last handle drops).
fn wait_until_closed(dir: &Path) -> Result<(), StoreError> {
    if crate::store::release::wait_until_free(dir) {
        Ok(())
    } else {
        Err(StoreError::Io(format!(
            "the new database in {} was not released",
            dir.display()
        )))
    }
}
