//! The newest state of every share as the committer must see it.
//!
//! A share's state can be in three places while batches are in flight: what
//! readers see (the published projection), batches written to sled but not yet
//! fsynced and published, and the batch being planned. The first two sit behind
//! `LatestShares`; the batch's own changes are the plan's (see `plan.rs`).

use crate::domain::{Share, ShareId};
use crate::projection::Shares;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

pub struct LatestShares {
    published: Arc<RwLock<Shares>>,
    /// The number of the last batch the syncer has shown to readers.
    published_batch: Arc<AtomicU64>,
    /// Shares changed by batches written but not yet shown to readers, with the
    /// number of the batch that last changed each.
    unpublished: HashMap<ShareId, (Share, u64)>,
}

impl LatestShares {
    pub fn new(published: Arc<RwLock<Shares>>, published_batch: Arc<AtomicU64>) -> Self {
        LatestShares {
            published,
            published_batch,
            unpublished: HashMap::new(),
        }
    }

    pub fn get(&self, id: &ShareId) -> Option<Share> {
        if let Some((share, _)) = self.unpublished.get(id) {
            return Some(share.clone());
        }
        let shares = self.published.read().unwrap_or_else(|e| e.into_inner());
        shares.get(id).cloned()
    }

    /// Drops what readers now see in the published projection (these or later states).
    pub fn forget_published(&mut self) {
        let published = self.published_batch.load(Ordering::SeqCst);
        self.unpublished.retain(|_, (_, n)| *n > published);
    }

    /// Remembers the states a written batch leaves, until the syncer publishes it.
    pub fn remember(&mut self, batch: u64, shares: &HashMap<ShareId, Share>) {
        for (id, share) in shares {
            self.unpublished.insert(id.clone(), (share.clone(), batch));
        }
    }
}
