//! Loading the projection from its rows at start (O(shares), no event read).

use super::rows::{key, SHARE, VISITS};
use super::{RowsError, Shares, VisitCounter};
use crate::domain::Share;

/// Every share row, with its newer counter row laid over it.
pub fn load(db: &sled::Db) -> Result<Shares, RowsError> {
    let mut shares = Shares::default();
    let mut rows: Vec<Share> = Vec::new();
    for kv in db.scan_prefix([SHARE]) {
        let (_, v) = kv?;
        rows.push(
            serde_json::from_slice(&v)
                .map_err(|e| RowsError::Corrupt(format!("share row: {e}")))?,
        );
    }
    for mut share in rows {
        if let Some(v) = db.get(key(VISITS, &share.id))? {
            let counter: VisitCounter = serde_json::from_slice(&v)
                .map_err(|e| RowsError::Corrupt(format!("visit row: {e}")))?;
            counter.overlay(&mut share);
        }
        shares.put(share);
    }
    Ok(shares)
}
