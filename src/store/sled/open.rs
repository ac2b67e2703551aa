//! Opening the database, loading the projections from their rows (O(shares)), and
//! having them rebuilt from the log when they do not match it.

use crate::projection::Projection;
use crate::store::error::Doing;
use crate::store::{keys, Checkpoint, StoreError, SCHEMA_VERSION};
use std::fs::{File, TryLockError};
use std::path::Path;

/// sled's page cache; its resident memory grows past this, so it is set explicitly.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

pub fn open(dir: &Path) -> Result<(sled::Db, Projection, Checkpoint), StoreError> {
    let db = open_db(dir)?;
    move_legacy_checkpoint(&db)?;
    let checkpoint = read_checkpoint(&db)?;
    let last_event = last_seq_on_disk(&db)?;
    let checkpoint = match checkpoint {
        Some(c) if c.last_seq == last_event && c.schema_version == SCHEMA_VERSION => c,
        // No checkpoint, a mismatch or an older schema: projections are rebuilt from the log.
        _ if last_event == 0 => Checkpoint {
            last_seq: 0,
            last_hash: crate::store::chain::GENESIS,
            schema_version: SCHEMA_VERSION,
        },
        Some(c) if c.last_seq == last_event => {
            log::info!(
                "the projection rows were written by an older version (schema {}, now {}); \
                 rebuilding them from {last_event} events, once",
                c.schema_version,
                SCHEMA_VERSION
            );
            rebuild(&db)?
        }
        _ => {
            log::warn!(
                "projections do not match the log; rebuilding them from {last_event} events"
            );
            rebuild(&db)?
        }
    };
    let shares = load_shares(&db)?;
    Ok((db, shares, checkpoint))
}

/// Opens the sled database alone; `Locked` when another process holds it.
pub fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    open_db_with_cache(dir, CACHE_BYTES)
}

pub fn open_db_with_cache(dir: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    std::fs::create_dir_all(dir).doing(|| format!("creating {}", dir.display()))?;
    refuse_if_held(dir)?;
    Ok(sled::Config::new()
        .path(dir)
        .cache_capacity(cache_bytes)
        .flush_every_ms(Some(500))
        .open()?)
}

/// `Locked` when another process holds the database. sled reports a held lock only
/// as text, so we ask the system ourselves first: sled locks `<dir>/db` with
/// `flock`, and a `flock` of our own on another descriptor of that file fails with
/// `WouldBlock` while anyone holds it. Our probe lock is let go of explicitly, not by
/// closing the file: a process that another thread forks meanwhile holds a copy of
/// the descriptor until it execs, and a lock goes only when its last copy closes, so a
/// close alone left sled's own lock to fail now and then. Nothing is waited for: `Store::close` and a dropped `Log` return only once sled
/// has let go (see `release`), and a process that exits loses its locks in the exit.
fn refuse_if_held(dir: &Path) -> Result<(), StoreError> {
    let db_file = dir.join("db");
    let file = match File::open(&db_file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).doing(|| format!("opening {}", db_file.display())),
    };
    match file.try_lock() {
        Ok(()) => file
            .unlock()
            .doing(|| format!("unlocking {}", db_file.display())),
        Err(TryLockError::WouldBlock) => Err(StoreError::locked(&db_file)),
        Err(TryLockError::Error(e)) => Err(e).doing(|| format!("locking {}", db_file.display())),
    }
}

/// Moves a first-schema `C` checkpoint to `Z` (see `keys`), once.
fn move_legacy_checkpoint(db: &sled::Db) -> Result<(), StoreError> {
    if let Some(old) = db.get(keys::LEGACY_CHECKPOINT)? {
        let mut batch = sled::Batch::default();
        if db.get(keys::CHECKPOINT)?.is_none() {
            batch.insert(keys::CHECKPOINT, old);
        }
        batch.remove(keys::LEGACY_CHECKPOINT);
        db.apply_batch(batch)?;
        db.flush()?;
    }
    Ok(())
}

/// The checkpoint, where this version keeps it or where the first schema did
/// (read-only tools open logs that no server has moved yet).
pub fn read_checkpoint(db: &sled::Db) -> Result<Option<Checkpoint>, StoreError> {
    let row = match db.get(keys::CHECKPOINT)? {
        Some(row) => Some(row),
        None => db.get(keys::LEGACY_CHECKPOINT)?,
    };
    match row {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("checkpoint: {e}"))),
    }
}

pub fn last_seq_on_disk(db: &sled::Db) -> Result<u64, StoreError> {
    match db.scan_prefix([keys::EVENT]).next_back() {
        None => Ok(0),
        Some(kv) => {
            let (k, v) = kv?;
            Ok(crate::store::packing::Lines::new(&k, v)?.end_seq() - 1)
        }
    }
}

pub fn load_shares(db: &sled::Db) -> Result<Projection, StoreError> {
    let rows = crate::projection::rows::PREFIXES
        .into_iter()
        .flat_map(|prefix| {
            db.scan_prefix([prefix]).map(|kv| {
                let (k, v) = kv?;
                Ok::<_, StoreError>((k.to_vec(), v.to_vec()))
            })
        });
    crate::projection::load(rows)
}

/// Recreates every projection row from the log and returns the new checkpoint.
pub fn rebuild(db: &sled::Db) -> Result<Checkpoint, StoreError> {
    rebuild_with_progress(db, &mut |_| {}).map(|(_, c)| c)
}

/// `rebuild`, reporting the number of events folded so far, and returning the shares
/// too: the log is folded here (the store reads it), the rows written by `projection`.
pub fn rebuild_with_progress(
    db: &sled::Db,
    progress: &mut dyn FnMut(u64),
) -> Result<(Projection, Checkpoint), StoreError> {
    let read = |first, last| -> crate::store::RawEvents {
        Box::new(super::reader::between(db, first, last))
    };
    let folded = crate::store::fold::fold_all(&read, last_seq_on_disk(db)?, progress)?;
    replace_projections(db, &folded.shares, &folded.checkpoint)?;
    Ok((folded.shares, folded.checkpoint))
}

/// Replaces every share and counter row by the full rows of `shares`, in one sled
/// batch with the checkpoint they were folded to (rows and the position land
/// together or not at all), then flushes.
pub fn replace_projections(
    db: &sled::Db,
    shares: &Projection,
    checkpoint: &Checkpoint,
) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    for prefix in crate::projection::rows::PREFIXES {
        for kv in db.scan_prefix([prefix]) {
            batch.remove(kv?.0);
        }
    }
    let owners = crate::projection::rows::owner_rows(shares.owners());
    let days = crate::projection::rows::day_rows(shares.all_days());
    let rows = crate::projection::rows::all_rows(shares.all());
    for row in rows.chain(owners).chain(days) {
        let (k, v) = row.map_err(encoding)?;
        batch.insert(k, v);
    }
    batch.insert(keys::CHECKPOINT, encode(checkpoint)?);
    batch.remove(keys::LEGACY_CHECKPOINT);
    db.apply_batch(batch)?;
    db.flush()?;
    Ok(())
}

pub fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(encoding)
}

pub fn encoding(e: serde_json::Error) -> StoreError {
    StoreError::engine("encoding a row", e)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_held_database_is_locked_named_by_its_file_in_a_sentence() {
        let dir = tempfile::tempdir().unwrap();
        let held = open_db(dir.path()).unwrap();
        let err = open_db(dir.path()).expect_err("a second open must fail");
        let db_file = dir.path().join("db").display().to_string();
        assert!(
            matches!(&err, StoreError::Locked(f) if *f == db_file),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("in use by another process"), "{text}");
        assert!(!text.contains("Os {"), "a raw system error leaked: {text}");
        // The probe's own lock went with its descriptor; once the first handle is
        // released, the directory opens again, with no retry here.
        super::super::release::release(held, dir.path());
        open_db(dir.path()).unwrap();
    }
}
