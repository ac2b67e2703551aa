//! Offline access to the log, without a committer: what the command line uses
//! on a stopped service's data directory. Opening fails with `Locked` while a
//! server holds the directory.

use crate::projection::Shares;
use crate::store::engine::EventSink;
use crate::store::fold::{fold, Folded};
use crate::store::read::raw::{Filter, Header, RawEvent};
use crate::store::reader::{self, RawIter};
use crate::store::release::ReleaseOnDrop;
use crate::store::{chain, open, Checkpoint, Envelope, StoreError};
use std::path::{Path, PathBuf};

/// A small page cache: offline commands stream the log once, so a big cache only costs memory.
const OFFLINE_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// Events written per batch by `import`.
const IMPORT_BATCH: usize = 16_384;

pub struct Log {
    db: sled::Db,
    dir: PathBuf,
    /// Declared after `db`, so it drops after it: a dropped `Log` has let go of the directory.
    _release: ReleaseOnDrop,
}

impl Log {
    /// Opens an existing data directory.
    pub fn open(dir: &Path) -> Result<Log, StoreError> {
        if !dir.join("db").exists() {
            return Err(StoreError::Io(format!(
                "no event log in {} (check dataDir)",
                dir.display()
            )));
        }
        Ok(Log {
            db: open::open_db_with_cache(dir, OFFLINE_CACHE_BYTES)?,
            dir: dir.to_path_buf(),
            _release: ReleaseOnDrop(dir.to_path_buf()),
        })
    }

    /// Opens or creates a data directory (for `import`).
    pub fn create(dir: &Path) -> Result<Log, StoreError> {
        Ok(Log {
            db: open::open_db_with_cache(dir, OFFLINE_CACHE_BYTES)?,
            dir: dir.to_path_buf(),
            _release: ReleaseOnDrop(dir.to_path_buf()),
        })
    }

    /// Stored events from `from_seq` on, in seq order.
    pub fn events(&self, from_seq: u64) -> RawIter {
        reader::events(&self.db, from_seq)
    }

    /// The events an audit filter selects, in seq order.
    pub fn filtered(
        &self,
        filter: Filter,
    ) -> Box<dyn Iterator<Item = Result<RawEvent, StoreError>> + Send> {
        reader::filtered(&self.db, filter)
    }

    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        open::read_checkpoint(&self.db)
    }

    /// The projections as stored (what a server would load at startup).
    pub fn projections(&self) -> Result<Shares, StoreError> {
        open::load_shares(&self.db)
    }

    /// Shares as of the last event that `take` accepts (events are offered in seq order).
    pub fn fold_while(
        &self,
        take: impl FnMut(&Header<'_>) -> bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Folded, StoreError> {
        fold(self.events(1), take, progress)
    }

    /// Recreates every projection row from the log; returns the rebuilt shares.
    pub fn rebuild(
        &self,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(Shares, Checkpoint), StoreError> {
        open::rebuild_with_progress(&self.db, progress)
    }

    /// Appends sealed events that continue the chain (a restore from an export, or a
    /// benchmark's synthetic log) in large batches, then rebuilds the projections.
    /// Refuses any event whose seq, `prevHash` or hash does not fit.
    /// The export mirror is not written here: its marker goes, so exports read sled
    /// until the next `Store::open` brings the mirror up to date.
    pub fn import(
        &self,
        events: impl IntoIterator<Item = Envelope>,
    ) -> Result<Checkpoint, StoreError> {
        crate::store::mirror::remove_marker(&self.dir)?;
        let mut head = self
            .checkpoint()?
            .map_or((0, chain::GENESIS), |c| (c.last_seq, c.last_hash));
        let mut packer = crate::store::packing::Packer::default();
        let mut pending = 0;
        for env in events {
            if env.seq != head.0 + 1 || env.prev_hash != head.1 || !env.is_sealed() {
                return Err(StoreError::Corrupt(format!(
                    "import: event {} does not continue the chain at seq {}",
                    env.seq, head.0
                )));
            }
            let line = env
                .to_line()
                .map_err(|e| StoreError::Corrupt(format!("import: event {}: {e}", env.seq)))?;
            packer.push(env.seq, env.stream.as_str(), env.version, &line);
            head = (env.seq, env.hash);
            pending += 1;
            if pending == IMPORT_BATCH {
                let mut batch = sled::Batch::default();
                std::mem::take(&mut packer).write_to(&mut batch);
                self.db.apply_batch(batch)?;
                pending = 0;
            }
        }
        let mut batch = sled::Batch::default();
        packer.write_to(&mut batch);
        self.db.apply_batch(batch)?;
        self.rebuild(&mut |_| {}).map(|(_, c)| c)
    }

    /// Flushes everything written to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}
