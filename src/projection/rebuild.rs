//! Writing a whole projection again, from shares folded out of the log (the store
//! folds them: it is the one that reads the log). Used when the rows do not match
//! the log at start, and by `sharelog rebuild`.

use super::rows::{all_rows, SHARE, VISITS};
use super::{RowsError, Shares};

/// Replaces every share and counter row in `db` by the full rows of `shares`, in one
/// sled batch together with what `with_log` adds (the log's checkpoint: rows and the
/// position they were folded to land together or not at all), then flushes.
pub fn rebuild(
    db: &sled::Db,
    shares: &Shares,
    with_log: impl FnOnce(&mut sled::Batch),
) -> Result<(), RowsError> {
    let mut batch = sled::Batch::default();
    for prefix in [SHARE, VISITS] {
        for kv in db.scan_prefix([prefix]) {
            batch.remove(kv?.0);
        }
    }
    for row in all_rows(shares.all()) {
        let (k, v) = row.map_err(RowsError::Encode)?;
        batch.insert(k, v);
    }
    with_log(&mut batch);
    db.apply_batch(batch)?;
    db.flush()?;
    Ok(())
}
