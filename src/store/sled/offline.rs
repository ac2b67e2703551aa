//! The sled engine without a server (`engine::Offline`): what the command line uses
//! on a stopped service's data directory. Opening fails with `Locked` while a server
//! holds the directory.

use super::mirror::{self, CleanMirror};
use super::packing::Packer;
use super::release::ReleaseOnDrop;
use super::{open, reader};
use crate::domain::ShareId;
use crate::projection::Projection;
use crate::store::engine::{EachLine, EventSink, Offline, Reader};
use crate::store::read::raw::RawEvents;
use crate::store::{Checkpoint, StoreError};
use std::path::{Path, PathBuf};

/// A small page cache: offline commands stream the log once, so a big cache only costs memory.
const OFFLINE_CACHE_BYTES: u64 = 8 * 1024 * 1024;

pub struct SledOffline {
    db: sled::Db,
    dir: PathBuf,
    /// Declared after `db`, so it drops after it: a dropped log has let go of the directory.
    _release: ReleaseOnDrop,
}

impl SledOffline {
    /// Opens an existing data directory.
    pub fn open(dir: &Path) -> Result<SledOffline, StoreError> {
        if !dir.join("db").exists() {
            return Err(StoreError::Failed(format!(
                "no event log in {} (check dataDir)",
                dir.display()
            )));
        }
        SledOffline::create(dir)
    }

    /// Opens or creates a data directory.
    pub fn create(dir: &Path) -> Result<SledOffline, StoreError> {
        Ok(SledOffline {
            db: open::open_db_with_cache(dir, OFFLINE_CACHE_BYTES)?,
            dir: dir.to_path_buf(),
            _release: ReleaseOnDrop(dir.to_path_buf()),
        })
    }
}

impl Reader for SledOffline {
    fn engine(&self) -> &'static str {
        "sled"
    }

    fn between(&self, from_seq: u64, until_seq: u64) -> RawEvents {
        Box::new(reader::between(&self.db, from_seq, until_seq))
    }

    fn stream(&self, id: &ShareId) -> RawEvents {
        Box::new(reader::stream(&self.db, id))
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        open::read_checkpoint(&self.db)
    }

    fn secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        super::secret::load_or_create(&self.dir, name).map_err(StoreError::from)
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

    fn close(&self) -> bool {
        self.db.flush().is_ok()
    }
}

impl Offline for SledOffline {
    fn last_seq(&self) -> Result<u64, StoreError> {
        open::last_seq_on_disk(&self.db)
    }

    fn projections(&self) -> Result<Projection, StoreError> {
        open::load_shares(&self.db)
    }

    fn replace_projections(
        &self,
        shares: &Projection,
        head: &Checkpoint,
    ) -> Result<(), StoreError> {
        open::replace_projections(&self.db, shares, head)
    }

    /// Sealed events written straight into rows (a benchmark's synthetic log). The
    /// export mirror is not written: its marker goes, so exports read sled until the
    /// next `Store::open` brings the mirror up to date.
    fn write_sealed(&self, events: &[(u64, &str, u64, &[u8])]) -> Result<(), StoreError> {
        mirror::remove_marker(&self.dir)?;
        let mut packer = Packer::default();
        for (seq, stream, version, line) in events {
            packer.push(*seq, stream, *version, line);
        }
        let mut batch = sled::Batch::default();
        packer.write_to(&mut batch);
        self.db.apply_batch(batch)?;
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn each_line(&self, total: &mut dyn FnMut(u64), each: EachLine<'_>) -> Result<(), StoreError> {
        total(self.checkpoint()?.map_or(0, |c| c.last_seq));
        for ev in reader::events(&self.db, 1) {
            let ev = ev?;
            each(ev.seq, &ev.line)?;
        }
        Ok(())
    }
}

/// Every line of a stopped service's log, from its export mirror when it was closed
/// clean (without opening sled: a shared lock keeps a server from starting meanwhile),
/// otherwise from sled. `Ok(false)` when there is no log at all.
pub fn each_line(
    dir: &Path,
    total: &mut dyn FnMut(u64),
    each: EachLine<'_>,
) -> Result<(), StoreError> {
    let lock = mirror::lock_shared(dir)?;
    if lock.is_some() {
        if let Some(mut clean) = CleanMirror::open(dir)? {
            total(clean.last_seq());
            while let Some((header, line)) = clean.next_line()? {
                each(header.seq, line)?;
            }
            drop(lock);
            return Ok(());
        }
        eprintln!(
            "sharelog: the export mirror {} is not clean (the server did not shut down cleanly, \
             or events were imported); reading the event log instead, which takes more \
             memory. Starting the server once restores the mirror.",
            mirror::path(dir).display()
        );
    }
    // sled takes its own exclusive lock: ours must go first.
    drop(lock);
    SledOffline::open(dir)?.each_line(total, each)
}
