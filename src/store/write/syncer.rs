//! The second stage of a commit: making appended batches durable, then answering.
//!
//! The committer decides, chains and appends a batch (sled: written to its file
//! but not fsynced), then hands it here and goes on with the next one. This thread
//! takes every batch waiting, makes them durable together (`Durability::sync`),
//! and only then shows the new state to readers, feeds the live audit feed and
//! answers the callers, oldest batch first. So batch n+1 is decided and written
//! while batch n's sync runs, and a batch is never acknowledged or visible before
//! it, and every batch before it, is durable.

use crate::domain::{Owner, Share, ShareId, UserId, VisitFormat, VisitKind};
use crate::metrics::METRICS;
use crate::projection::days::DayCount;
use crate::projection::Projection;
use crate::store::engine::Durability;
use crate::store::request::Answered;
use crate::store::subscribe::Feed;
use crate::store::StoreError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use time::Date;

/// A batch that is appended (or refused whole, or caught up from another writer)
/// and waits to be made durable and shown.
pub struct Applied {
    pub number: u64,
    pub started: Instant,
    /// Appended by this process (it must be synced before it is shown); false for
    /// another writer's events that the committer caught up with (already durable).
    pub own: bool,
    /// Seqs of the batch's events, `first_seq..=last_seq` (both 0 when it has none).
    pub first_seq: u64,
    pub last_seq: u64,
    /// Event counts by type name, and visits and previews by format, for the metrics.
    pub types: Vec<(&'static str, u64)>,
    pub opens: OpenTally,
    /// The batch's export lines, each followed by `\n`.
    pub lines: Vec<u8>,
    /// The new state of every share the batch changed.
    pub shares: HashMap<ShareId, Share>,
    /// The new state of every owner's stream the batch changed.
    pub owners: HashMap<UserId, Owner>,
    /// Each share's counts on each day the batch opened it.
    pub days: HashMap<(ShareId, Date), DayCount>,
    /// Every caller's answer, sent once the batch is durable.
    pub answers: Vec<Answered>,
}

/// Counted opens of a batch by kind and format (`VisitKind::index`, `VisitFormat::index`):
/// a fixed array, so counting costs the commit path no allocation and no lookup.
pub type OpenTally = [[u64; VisitFormat::ALL.len()]; VisitKind::ALL.len()];

pub struct Syncer<D> {
    pub durability: D,
    pub shares: Arc<RwLock<Projection>>,
    pub poisoned: Arc<AtomicBool>,
    /// The number of the last batch shown to readers, for the committer's overlay.
    pub published: Arc<AtomicU64>,
    /// Followers of the audit feed get each batch here, once durable.
    pub feed: Arc<Feed>,
    pub last_seq: u64,
    pub rx: Receiver<Applied>,
}

impl<D: Durability> Syncer<D> {
    pub fn run(mut self) {
        while let Ok(first) = self.rx.recv() {
            let mut batches = vec![first];
            batches.extend(self.rx.try_iter());
            self.finish(batches);
        }
        // Nothing more will be published: followers end their streams.
        self.feed.close();
        if let Err(e) = self.durability.sync() {
            self.poisoned.store(true, Ordering::SeqCst);
            log::error!("final sync of the event log failed: {e}");
            return;
        }
        if !self.poisoned.load(Ordering::SeqCst) {
            self.durability.stopped_cleanly(self.last_seq);
        }
    }

    fn finish(&mut self, batches: Vec<Applied>) {
        let wrote = batches.iter().any(|b| b.own);
        let result = match self.poisoned.load(Ordering::SeqCst) {
            true => Err(StoreError::Failed(
                "the log stopped after a write failure".into(),
            )),
            false if wrote => self.durability.sync(),
            false => Ok(()),
        };
        if let Err(e) = result {
            return self.refuse(batches, e);
        }
        self.publish(batches);
    }

    /// The sync failed: nobody waiting for it is told their write succeeded, and the
    /// log refuses every later write (what reached the disk is unknown).
    fn refuse(&self, batches: Vec<Applied>, e: StoreError) {
        if !self.poisoned.swap(true, Ordering::SeqCst) {
            let waiting: usize = batches.iter().map(|b| b.answers.len()).sum();
            log::error!(
                "event log fsync failed ({e}): the {waiting} writes waiting for it are refused \
                 (503), and every write after them is refused until restart; writes acknowledged \
                 before are on disk. Check the disk (dmesg), then restart sharelog"
            );
        }
        for b in batches {
            for answer in b.answers {
                answer
                    .into_failed(StoreError::Failed(
                        "the event log could not be written".into(),
                    ))
                    .send();
            }
        }
    }

    /// Shows durable batches to readers and followers, then answers their callers.
    fn publish(&mut self, mut batches: Vec<Applied>) {
        let mut shares = self.shares.write().unwrap_or_else(|e| e.into_inner());
        for b in batches.iter_mut() {
            for (_, share) in std::mem::take(&mut b.shares) {
                shares.put(share);
            }
            for (_, owner) in std::mem::take(&mut b.owners) {
                shares.put_owner(owner);
            }
            for ((id, day), count) in std::mem::take(&mut b.days) {
                shares.put_day(&id, day, count);
            }
        }
        METRICS.shares.set(shares.live_count() as i64);
        drop(shares);
        if let Some(last) = batches.last() {
            self.published.store(last.number, Ordering::SeqCst);
        }
        for mut b in batches {
            if b.last_seq == 0 {
                b.answers.into_iter().for_each(Answered::send);
                continue;
            }
            self.last_seq = b.last_seq;
            self.durability.durable(&b.lines);
            self.feed.publish(b.first_seq, b.last_seq, &mut b.lines);
            if b.own {
                METRICS
                    .commit_seconds
                    .observe(b.started.elapsed().as_secs_f64());
                METRICS
                    .commit_batch_size
                    .observe((b.last_seq + 1 - b.first_seq) as f64);
                for (t, n) in &b.types {
                    METRICS.events_appended.with_label_values(&[t]).inc_by(*n);
                }
                METRICS.count_opens(&b.opens);
            }
            // A caller that went away (client disconnected) does not undo a durable write.
            b.answers.into_iter().for_each(Answered::send);
        }
    }
}
