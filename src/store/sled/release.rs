//! Letting go of sled's file lock before returning, so that the data directory can
//! be opened again at once, by this process or another.
//!
//! sled 0.34.7 holds an exclusive `flock` on `<dataDir>/db` through an `Arc<File>`
//! inside its configuration. Every `Db`/`Tree` clone, its flusher thread and its
//! pagecache hold that configuration; the flusher is joined when the last `Db`
//! drops, but sled's I/O pool (`sled-io-*` threads) runs each buffer write as a
//! task that owns an `Arc<IoBufs>` (and so the file) and drops it only after it
//! has told the flush waiting for it that the write is done. So for a moment after
//! the last handle drops, a pool thread still holds the file and its lock. We
//! drop our handle, then probe the lock until it is free: sled offers no way to
//! wait for its pool.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a release waits for sled's pool before it gives up with a warning. The
/// pool lets go within milliseconds; only a handle still held elsewhere (a reader
/// that outlives `close`) takes longer, and then it is that handle's drop that frees it.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

/// Drops `db` and returns once its file lock is free (or after `RELEASE_WAIT`, with a warning).
pub fn release(db: sled::Db, dir: &Path) {
    drop(db);
    wait_until_free(dir);
}

/// Returns once nobody holds `<dir>/db`'s lock; true when it is free.
pub fn wait_until_free(dir: &Path) -> bool {
    let db_file = dir.join("db");
    let Ok(file) = File::open(&db_file) else {
        // No file, no lock to wait for (a directory removed under us is not ours to report).
        return true;
    };
    let deadline = Instant::now() + RELEASE_WAIT;
    loop {
        match file.try_lock() {
            // Let go of explicitly: a copy of the descriptor in a process forked meanwhile
            // would otherwise keep the lock until that process execs (see `open`).
            Ok(()) => return file.unlock().is_ok(),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(TryLockError::WouldBlock) => {
                log::warn!(
                    "{} is still locked {} s after closing: a handle to the log outlived the close",
                    db_file.display(),
                    RELEASE_WAIT.as_secs()
                );
                return false;
            }
            Err(TryLockError::Error(e)) => {
                log::warn!("probing the lock of {} failed: {e}", db_file.display());
                return false;
            }
        }
    }
}

/// Waits for the release of `<dir>/db` when dropped: declared after a `sled::Db`
/// field, it runs once that field has dropped (fields drop in declaration order).
pub struct ReleaseOnDrop(pub PathBuf);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        wait_until_free(&self.0);
    }
}
