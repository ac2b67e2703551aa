//! Loading the projection from its rows at start (O(shares), no event read).

use super::rows::{key, SHARE, VISITS};
use super::{Shares, VisitCounter};
use crate::domain::Share;
use std::fmt;

#[derive(Debug)]
pub enum LoadError {
    Db(sled::Error),
    /// A row that does not decode: the projection is damaged (rebuild it).
    Corrupt(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Db(e) => write!(f, "reading projection rows: {e}"),
            LoadError::Corrupt(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Db(e) => Some(e),
            LoadError::Corrupt(_) => None,
        }
    }
}

impl From<sled::Error> for LoadError {
    fn from(e: sled::Error) -> Self {
        LoadError::Db(e)
    }
}

/// Every share row, with its newer counter row laid over it.
pub fn load(db: &sled::Db) -> Result<Shares, LoadError> {
    let mut shares = Shares::default();
    let mut rows: Vec<Share> = Vec::new();
    for kv in db.scan_prefix([SHARE]) {
        let (_, v) = kv?;
        rows.push(
            serde_json::from_slice(&v)
                .map_err(|e| LoadError::Corrupt(format!("share row: {e}")))?,
        );
    }
    for mut share in rows {
        if let Some(v) = db.get(key(VISITS, &share.id))? {
            let counter: VisitCounter = serde_json::from_slice(&v)
                .map_err(|e| LoadError::Corrupt(format!("visit row: {e}")))?;
            counter.overlay(&mut share);
        }
        shares.put(share);
    }
    Ok(shares)
}
