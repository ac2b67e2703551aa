//! The newest state of every share as the committer must see it.
//!
//! A share's state can be in three places while batches are in flight: what
//! readers see (the published projection), batches written to sled but not yet
//! fsynced and published, and the batch being planned. The first two sit behind
//! `LatestShares`; the batch's own changes are the plan's (see `plan.rs`).

use crate::domain::{Owner, Share, ShareId, UserId};
use crate::projection::days::DayCount;
use crate::projection::Projection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use time::Date;

pub struct LatestShares {
    published: Arc<RwLock<Projection>>,
    /// The number of the last batch the syncer has shown to readers.
    published_batch: Arc<AtomicU64>,
    /// Shares changed by batches written but not yet shown to readers, with the
    /// number of the batch that last changed each.
    unpublished: HashMap<ShareId, (Share, u64)>,
    /// The same for owners' streams.
    unpublished_owners: HashMap<UserId, (Owner, u64)>,
    /// And for shares' counts per day.
    unpublished_days: HashMap<(ShareId, Date), (DayCount, u64)>,
}

impl LatestShares {
    pub fn new(published: Arc<RwLock<Projection>>, published_batch: Arc<AtomicU64>) -> Self {
        LatestShares {
            published,
            published_batch,
            unpublished: HashMap::new(),
            unpublished_owners: HashMap::new(),
            unpublished_days: HashMap::new(),
        }
    }

    pub fn get(&self, id: &ShareId) -> Option<Share> {
        if let Some((share, _)) = self.unpublished.get(id) {
            return Some(share.clone());
        }
        let shares = self.published.read().unwrap_or_else(|e| e.into_inner());
        shares.get(id).cloned()
    }

    pub fn owner(&self, user: &UserId) -> Option<Owner> {
        if let Some((owner, _)) = self.unpublished_owners.get(user) {
            return Some(owner.clone());
        }
        let shares = self.published.read().unwrap_or_else(|e| e.into_inner());
        shares.owner(user).cloned()
    }

    pub fn day(&self, id: &ShareId, day: Date) -> DayCount {
        if let Some((count, _)) = self.unpublished_days.get(&(id.clone(), day)) {
            return *count;
        }
        let shares = self.published.read().unwrap_or_else(|e| e.into_inner());
        shares.day(id, day)
    }

    /// Drops what readers now see in the published projection (these or later states).
    pub fn forget_published(&mut self) {
        let published = self.published_batch.load(Ordering::SeqCst);
        self.unpublished.retain(|_, (_, n)| *n > published);
        self.unpublished_owners.retain(|_, (_, n)| *n > published);
        self.unpublished_days.retain(|_, (_, n)| *n > published);
    }

    /// Remembers the states a written batch leaves, until the syncer publishes it.
    pub fn remember(
        &mut self,
        batch: u64,
        shares: &HashMap<ShareId, Share>,
        owners: &HashMap<UserId, Owner>,
        days: &HashMap<(ShareId, Date), DayCount>,
    ) {
        for (key, count) in days {
            self.unpublished_days.insert(key.clone(), (*count, batch));
        }
        for (id, share) in shares {
            self.unpublished.insert(id.clone(), (share.clone(), batch));
        }
        for (user, owner) in owners {
            self.unpublished_owners
                .insert(user.clone(), (owner.clone(), batch));
        }
    }
}
