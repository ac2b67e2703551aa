//! Read models folded from the log: every share's current state with its visit
//! counter. The committer keeps them current (in memory and, in the same atomic
//! write as the events, in the engine, as the rows in `rows`); every read is served
//! from here. `rows` says what to write, `load` reads them back at start. The store
//! depends on this module, never the other way round: events reach it through
//! `Logged`, shares folded by the store as `Shares`.

mod error;
mod load;
pub mod rows;

pub use error::RowsError;
pub use load::load;

use crate::domain::{apply, Event, Share, ShareId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;

/// The counter row (`V`), written on its own so a visit or a preview does not
/// rewrite the whole share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitCounter {
    pub visit_count: u64,
    /// Absent from rows written before previews existed: those read as 0.
    #[serde(default)]
    pub preview_count: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_visited_at: Option<OffsetDateTime>,
    pub version: u64,
}

impl VisitCounter {
    pub fn of(share: &Share) -> Self {
        VisitCounter {
            visit_count: share.visit_count,
            preview_count: share.preview_count,
            last_visited_at: share.last_visited_at,
            version: share.version,
        }
    }

    /// Lays a newer counter over a share row written before it.
    pub fn overlay(&self, share: &mut Share) {
        if self.version > share.version {
            share.visit_count = self.visit_count;
            share.preview_count = self.preview_count;
            share.last_visited_at = self.last_visited_at;
            share.version = self.version;
        }
    }
}

/// All shares ever created (deleted ones as tombstones), keyed by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shares {
    by_id: HashMap<ShareId, Share>,
    live: usize,
}

impl Shares {
    pub fn get(&self, id: &ShareId) -> Option<&Share> {
        self.by_id.get(id)
    }

    /// Shares that are not deleted.
    pub fn live(&self) -> impl Iterator<Item = &Share> {
        self.by_id.values().filter(|s| !s.deleted)
    }

    pub fn live_count(&self) -> usize {
        self.live
    }

    pub fn all(&self) -> impl Iterator<Item = &Share> {
        self.by_id.values()
    }

    pub fn put(&mut self, share: Share) {
        let was_live = self.by_id.get(&share.id).is_some_and(|s| !s.deleted);
        match (was_live, share.deleted) {
            (false, false) => self.live += 1,
            (true, true) => self.live -= 1,
            _ => {}
        }
        self.by_id.insert(share.id.clone(), share);
    }

    /// Folds one logged event in.
    pub fn apply(&mut self, logged: &impl Logged) {
        let (stream, event, at) = logged.parts();
        let state = self.by_id.get(stream).cloned();
        if let Some(next) = apply(state, stream, event, at) {
            self.put(next);
        }
    }

    /// The full replay: what the projection must equal.
    pub fn replay<L: Logged, E>(events: impl IntoIterator<Item = Result<L, E>>) -> Result<Self, E> {
        let mut shares = Shares::default();
        for logged in events {
            shares.apply(&logged?);
        }
        Ok(shares)
    }
}

/// An event as the log holds it: what a projection needs of it. The log's own
/// record type implements this, so projections do not depend on the store.
pub trait Logged {
    fn parts(&self) -> (&ShareId, &Event, OffsetDateTime);
}
