//! The sled engine's side of `sharelog restore` (`engine::Import`): a new data
//! directory with the events in packed rows, with their original seq, ids,
//! versions, times and hashes, the projections the restore folded on the way in
//! (no second pass through sled, which would cost hundreds of MB at a million
//! events), and a complete export mirror, so the first start is as fast as any
//! restart. It is built beside the target (`restore_target`) and renamed into
//! place only when complete.
//!
//! The reading side writes the export mirror (`MirrorCopy`); this, the writing
//! side, appends the batches' `E` rows and collects their `S` rows.

use super::mirror::{self, Mirror};
use super::packing::{row_takes, VersionRuns};
use super::restore_target::Building;
use super::{keys, open};
use crate::store::engine::{CopyOut, Import};
use crate::store::offline::{ImportBatch, ImportFold};
use crate::store::{Checkpoint, StoreError};
use std::fs::File;
use std::io::{BufWriter, Write};
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

/// A restore into the sled data directory `target`, which must be absent or empty.
pub fn create(target: &Path) -> Result<Box<dyn Import>, StoreError> {
    super::restore_target::refuse_used(target)?;
    let building = Building::start(target)?;
    let importer = Importer::create(&building.dir)?;
    let mirror = MirrorCopy::create(&building.dir)?;
    Ok(Box::new(SledImport {
        importer,
        building,
        target: target.to_path_buf(),
        mirror: Some(mirror),
    }))
}

struct SledImport {
    importer: Importer,
    building: Building,
    target: PathBuf,
    /// The mirror until the reading side takes it.
    mirror: Option<MirrorCopy>,
}

impl Import for SledImport {
    fn copy_out(&mut self) -> Option<Box<dyn CopyOut>> {
        self.mirror.take().map(|m| Box::new(m) as Box<dyn CopyOut>)
    }

    fn push(&mut self, batch: &mut ImportBatch, fold: &ImportFold) -> Result<(), StoreError> {
        self.importer.push_batch(batch, fold)
    }

    fn finish(self: Box<Self>, fold: ImportFold) -> Result<Checkpoint, StoreError> {
        let SledImport {
            importer,
            building,
            target,
            ..
        } = *self;
        let head = importer.finish(&fold)?;
        building.complete(&target)?;
        Ok(head)
    }
}

/// An empty data directory being filled, batch by batch, in seq order.
pub struct Importer {
    db: sled::Db,
    dir: PathBuf,
    /// Each share's `S` rows still to write, by share number.
    versions: Vec<VersionRuns>,
    /// Events whose `S` entries are not written yet.
    pending_versions: usize,
    last_seq: u64,
}

impl Importer {
    /// Creates the log in `dir`, which must not hold one, and its export mirror,
    /// which the reading side fills (`SledImport::copy_out`).
    fn create(dir: &Path) -> Result<Importer, StoreError> {
        if dir.join("db").exists() {
            return Err(StoreError::Failed(format!(
                "{} already holds an event log",
                dir.display()
            )));
        }
        Ok(Importer {
            db: open::open_db_with_cache(dir, CACHE_BYTES)?,
            dir: dir.to_path_buf(),
            versions: Vec::new(),
            pending_versions: 0,
            last_seq: 0,
        })
    }

    /// Appends a batch's `E` rows in one sled batch and collects its `S` entries;
    /// the restore took its events through the rules and into `fold` before.
    ///
    /// The batch is left empty, for the reader to fill again (its buffers are reused
    /// rather than freed on this thread and allocated anew on the other).
    fn push_batch(&mut self, batch: &mut ImportBatch, fold: &ImportFold) -> Result<(), StoreError> {
        self.versions.resize_with(fold.len(), VersionRuns::default);
        let text = &batch.text;
        let mut rows = sled::Batch::default();
        // The current row: text[row_start..row_end], its first seq.
        let (mut row_start, mut row_end, mut row_seq) = (0, 0, self.last_seq + 1);
        for ev in batch.events.drain(..) {
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
            let versions = self.versions.get_mut(ev.stream as usize).ok_or_else(|| {
                StoreError::Corrupt(format!("event {}: unknown stream number", ev.seq))
            })?;
            versions.push(ev.seq, ev.version);
            self.last_seq = ev.seq;
            self.pending_versions += 1;
        }
        if self.last_seq >= row_seq {
            rows.insert(&keys::event(row_seq), &text[row_start..row_end]);
        }
        batch.text.clear();
        self.db.apply_batch(rows)?;
        // Written out now rather than by sled's flusher: dirty pages are what grows memory.
        self.db.flush()?;
        if self.pending_versions >= STREAM_EVENTS {
            self.write_versions(fold)?;
        }
        Ok(())
    }

    /// Writes the collected `S` rows, ~128 KB per sled batch, each flushed:
    /// in one batch, a million events' rows raised the peak memory by ~90 MB.
    fn write_versions(&mut self, fold: &ImportFold) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut seqs = 0;
        for (n, versions) in self.versions.iter_mut().enumerate() {
            let Some(id) = fold.id(n as u32) else {
                continue;
            };
            seqs += versions.write_to(&id.to_string(), &mut batch);
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
    /// The reading side has written (and closed) the mirror.
    fn finish(mut self, fold: &ImportFold) -> Result<Checkpoint, StoreError> {
        self.write_versions(fold)?;
        let head = fold.head();
        let mut batch = sled::Batch::default();
        let owners = crate::projection::rows::owner_rows(fold.owners());
        let days = crate::projection::rows::day_rows(fold.days());
        let rows = crate::projection::rows::all_rows(fold.shares());
        for row in rows.chain(owners).chain(days) {
            let (k, v) = row.map_err(open::encoding)?;
            batch.insert(k, v);
        }
        batch.insert(keys::CHECKPOINT, open::encode(&head)?);
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        // sled's flush is no fsync (docs/architecture.md): sync its file ourselves.
        File::open(self.dir.join("db"))?.sync_data()?;
        // Opening the mirror checks its tail against the log; the clean close fsyncs it
        // and writes the marker that lets the first start and `audit export` trust it.
        let last_seq = head.last_seq;
        let mirror = Mirror::open(&self.dir, &self.db, last_seq)?;
        if !mirror.is_live() {
            return Err(StoreError::Failed(format!(
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
                .map_err(|_| StoreError::Failed("the mirror's closing thread failed".into()))?
        })?;
        Ok(head)
    }
}

/// The directory is renamed only once sled has let go of it (`release` says why
/// that takes a moment after the last handle drops).
fn wait_until_closed(dir: &Path) -> Result<(), StoreError> {
    if super::release::wait_until_free(dir) {
        Ok(())
    } else {
        Err(StoreError::Failed(format!(
            "the new database in {} was not released",
            dir.display()
        )))
    }
}

/// The new directory's export mirror, written by the reading side as it sends each
/// batch: the writing side is the slower of the two (sled), and these ~500 MB of
/// kernel copies at a million events are better spent on the other thread.
pub struct MirrorCopy(BufWriter<File>);

impl MirrorCopy {
    fn create(dir: &Path) -> Result<MirrorCopy, StoreError> {
        let file = File::create(mirror::path(dir))?;
        Ok(MirrorCopy(BufWriter::with_capacity(1024 * 1024, file)))
    }
}

impl CopyOut for MirrorCopy {
    /// Appends the batch's lines; called before the batch goes to the importer.
    fn write(&mut self, batch: &ImportBatch) -> Result<(), StoreError> {
        Ok(self.0.write_all(&batch.text)?)
    }

    /// Writes out what is buffered, before the importer's `finish` checks the mirror.
    fn close(mut self: Box<Self>) -> Result<(), StoreError> {
        Ok(self.0.flush()?)
    }
}
