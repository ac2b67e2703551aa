//! The committer's side of the mirror: appending durable batches, and the clean close.

use super::reconcile::reconcile;
use super::writeback::Writeback;
use super::{marker_path, path, remove_marker, Marker};
use crate::store::StoreError;
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// How many bytes of lines the committer collects before one `write`: appending
/// every batch made each of sled's fsyncs also flush the mirror's new blocks
/// (ext4 `data=ordered`), which cost a single appender ~15% of its throughput.
const WRITE_EVERY: usize = 1024 * 1024;

/// The committer's append handle. `file` is `None` once the mirror is dirty
/// (a failed write or reconciliation): nothing more is appended and no marker is
/// written, so the export falls back to sled until the next open repairs it.
/// Lines not yet written are lost in a crash, which the next open repairs too.
pub struct Mirror {
    file: Option<File>,
    pending: Vec<u8>,
    writeback: Option<Writeback>,
}

impl Mirror {
    /// Removes the marker (failing the open if it cannot), then brings the
    /// mirror up to sled's `last_seq`. A failed reconciliation only leaves the mirror dirty.
    pub fn open(dir: &Path, db: &sled::Db, last_seq: u64) -> Result<Mirror, StoreError> {
        remove_marker(dir)?;
        let attempt = match reconcile(&path(dir), db, last_seq) {
            Err(StoreError::Corrupt(e)) => {
                log::warn!("the export mirror is damaged ({e}); recreating it from the log");
                std::fs::remove_file(path(dir))
                    .map_err(StoreError::from)
                    .and_then(|_| reconcile(&path(dir), db, last_seq))
            }
            other => other,
        };
        let file = match attempt {
            Ok(file) => Some(file),
            Err(e) => {
                log::warn!(
                    "the export mirror {} could not be reconciled ({e}); offline exports read sled until the next start",
                    path(dir).display()
                );
                None
            }
        };
        let writeback = file.as_ref().and_then(Writeback::start);
        Ok(Mirror {
            file,
            pending: Vec::new(),
            writeback,
        })
    }

    pub fn is_live(&self) -> bool {
        self.file.is_some()
    }

    /// Adds a durable batch's lines (each followed by `\n`), writing them out once
    /// there are many. Never fails the caller.
    pub fn append(&mut self, lines: &[u8]) {
        if self.file.is_none() {
            return;
        }
        self.pending.extend_from_slice(lines);
        if self.pending.len() >= WRITE_EVERY {
            self.write_pending();
        }
    }

    fn write_pending(&mut self) {
        let Some(file) = self.file.as_mut() else {
            self.pending.clear();
            return;
        };
        if let Err(e) = file.write_all(&self.pending) {
            log::error!(
                "writing the export mirror failed ({e}); it is repaired at the next start, offline exports read sled until then"
            );
            self.file = None;
        } else if let Some(wb) = &self.writeback {
            wb.poke();
        }
        self.pending.clear();
    }

    /// The clean close: fsyncs the mirror, then writes the marker naming `last_seq`
    /// (temp file, fsync, rename, fsync of the directory). Call only after sled's final flush and fsync.
    pub fn close_clean(mut self, dir: &Path, last_seq: u64) -> Result<(), StoreError> {
        self.write_pending();
        if let Some(wb) = self.writeback.take() {
            let made = wb.stop();
            log::debug!("the export mirror was written out {made} times while the log was open");
        }
        let Some(file) = self.file else {
            return Ok(());
        };
        file.sync_all()?;
        drop(file);
        let body = serde_json::to_vec(&Marker { last_seq })
            .map_err(|e| StoreError::engine("encoding the mirror marker", e))?;
        crate::fsutil::write_atomic(&marker_path(dir), &body)?;
        Ok(())
    }
}
