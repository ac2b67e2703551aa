//! A derived copy of the log for the offline export: `<dataDir>/events.jsonl`
//! holds every stored `E` row (the canonical export line) followed by `\n`, in
//! seq order from seq 1. sled stays the source of truth: the committer appends
//! a batch here only after sled made it durable, and never fsyncs this file on
//! the hot path (a thread of its own writes it out every megabyte: `writeback`).
//! `<dataDir>/events.jsonl.clean` (`{"lastSeq":N}`) is written
//! only by a clean close, after the final sled flush and fsync and an fsync of
//! the mirror, and removed at open before anything is appended: its presence
//! means the mirror holds exactly seqs `1..=N` and sled's log ends at `N`.
//! Opening reconciles the mirror with sled from its tail (O(tail), not O(events)).

mod append;
mod clean;
mod reconcile;
mod writeback;

pub use append::Mirror;
pub use clean::CleanMirror;
pub use reconcile::prev_newline;

use crate::store::StoreError;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

pub const FILE: &str = "events.jsonl";
pub const MARKER: &str = "events.jsonl.clean";

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

pub fn marker_path(dir: &Path) -> PathBuf {
    dir.join(MARKER)
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Marker {
    pub last_seq: u64,
}

/// Removes the marker: the mirror is about to change, or no longer follows sled.
pub fn remove_marker(dir: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(marker_path(dir)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Disk {
            doing: format!("removing {}", marker_path(dir).display()),
            source,
        }),
    }
}

/// A shared `flock` on `<dataDir>/db`, held while exporting from the mirror so that
/// no server starts meanwhile. `Ok(None)` when there is no `db` file; `Locked` while
/// a server (sled holds an exclusive `flock` on that file) has the directory open.
pub fn lock_shared(dir: &Path) -> Result<Option<SharedLock>, StoreError> {
    let db_file = dir.join("db");
    let file = match File::open(&db_file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(SharedLock(file))),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::locked(&db_file)),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Disk {
            doing: format!("locking {}", db_file.display()),
            source: e,
        }),
    }
}

/// A held shared lock, let go of explicitly when dropped: a copy of the descriptor in
/// a process forked meanwhile would otherwise keep it until that process execs.
pub struct SharedLock(File);

impl Drop for SharedLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
