//! Loading the projection from its rows at start (O(shares), no event read), from
//! whatever engine keeps them.

use super::days;
use super::rows::{Row, OWNER, SHARE, VISITS};
use super::{Projection, RowsError, VisitCounter};
use crate::domain::{Owner, Share};
use std::collections::HashMap;

/// Every share row, with its newer counter row laid over it; rows in any order.
pub fn load<E: From<RowsError>>(
    rows: impl Iterator<Item = Result<Row, E>>,
) -> Result<Projection, E> {
    let mut shares: Vec<Share> = Vec::new();
    let mut counters: HashMap<Vec<u8>, VisitCounter> = HashMap::new();
    let mut owners: Vec<Owner> = Vec::new();
    let mut day_rows: Vec<(crate::domain::ShareId, time::Date, days::DayCount)> = Vec::new();
    for row in rows {
        let (key, value) = row?;
        match key.first() {
            Some(&SHARE) => shares.push(
                serde_json::from_slice(&value)
                    .map_err(|e| RowsError::Corrupt(format!("share row: {e}")))?,
            ),
            Some(&VISITS) => {
                let counter = serde_json::from_slice(&value)
                    .map_err(|e| RowsError::Corrupt(format!("visit row: {e}")))?;
                counters.insert(key[1..].to_vec(), counter);
            }
            Some(&days::DAYS) => {
                let (id, day) = days::parse_key(&key)
                    .ok_or_else(|| RowsError::Corrupt("a day row's key".into()))?;
                let count = serde_json::from_slice(&value)
                    .map_err(|e| RowsError::Corrupt(format!("day row: {e}")))?;
                day_rows.push((id, day, count));
            }
            Some(&OWNER) => owners.push(
                serde_json::from_slice(&value)
                    .map_err(|e| RowsError::Corrupt(format!("owner row: {e}")))?,
            ),
            _ => return Err(RowsError::Corrupt("a row that is no projection row".into()).into()),
        }
    }
    let mut loaded = Projection::default();
    for mut share in shares {
        if let Some(counter) = counters.get(share.id.as_str().as_bytes()) {
            counter.overlay(&mut share);
        }
        loaded.put(share);
    }
    for owner in owners {
        loaded.put_owner(owner);
    }
    for (id, day, count) in day_rows {
        loaded.put_day(&id, day, count);
    }
    Ok(loaded)
}
