//! The durable tail of the log, for followers of the audit feed
//! (`GET /api/audit?follow=true`).
//!
//! The syncer publishes each batch here only after its fsync, so a follower never
//! sees an event that a crash could still take back (sled's `watch_prefix` fires
//! before that, and blocks writers when a watcher lags: it is not used).
//!
//! Publishing never waits. Each follower has its own bounded queue; a batch that
//! does not fit is dropped for that follower alone, and the follower is marked as
//! having missed one. The follower sees the gap in the seqs of the next batch it
//! gets, or, when its queue runs dry after a miss (the dropped batch was the last
//! one for now), the mark, and reads the missing events back from the log (they
//! are durable), then goes on with the live tail. So a slow or stalled reader costs
//! the committer one failed `try_send` and holds at most its queue's worth of
//! batches in memory.

use crate::metrics::METRICS;
use crate::store::read::raw::{Filter, RawEvent, RawEvents};
use crate::store::{Store, StoreError};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

/// One durable batch: the export lines of seqs `first_seq..=last_seq`, each followed by `\n`.
#[derive(Debug)]
pub struct Durable {
    pub first_seq: u64,
    pub last_seq: u64,
    pub lines: Vec<u8>,
}

impl Durable {
    /// The batch's lines with their seqs, each without its `\n`.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.lines
            .split(|&b| b == b'\n')
            .zip(self.first_seq..=self.last_seq)
            .map(|(line, seq)| (seq, line))
    }
}

/// The followers' side of the syncer: the last durable seq and every follower's queue.
pub struct Feed {
    durable: AtomicU64,
    followers: Mutex<Vec<Listener>>,
    next_id: AtomicU64,
}

/// One follower as the publisher sees it.
struct Listener {
    id: u64,
    queue: mpsc::Sender<Arc<Durable>>,
    /// Set when a batch did not fit the queue; taken by the follower (`Subscription`).
    missed: Arc<AtomicBool>,
}

/// Refused: `max` followers are already attached.
#[derive(Debug)]
pub struct TooManyFollowers {
    pub max: usize,
}

impl Feed {
    pub fn new(last_seq: u64) -> Feed {
        Feed {
            durable: AtomicU64::new(last_seq),
            followers: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        }
    }

    fn followers(&self) -> MutexGuard<'_, Vec<Listener>> {
        // Nothing under this lock can leave the list half-changed.
        self.followers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The highest seq that is on disk and shown to readers.
    pub fn durable_seq(&self) -> u64 {
        self.durable.load(Ordering::SeqCst)
    }

    /// Called by the syncer after the fsync of seqs `first_seq..=last_seq`, whose
    /// lines it takes only when somebody listens. Batches in seq order; never blocks.
    pub fn publish(&self, first_seq: u64, last_seq: u64, lines: &mut Vec<u8>) {
        // Raised before the batch is offered: a follower that attaches meanwhile
        // either gets the batch or reads it from the log, never neither.
        self.durable.store(last_seq, Ordering::SeqCst);
        let mut followers = self.followers();
        if followers.is_empty() {
            return;
        }
        let batch = Arc::new(Durable {
            first_seq,
            last_seq,
            lines: std::mem::take(lines),
        });
        followers.retain(|l| match l.queue.try_send(batch.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                l.missed.store(true, Ordering::SeqCst);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        METRICS.audit_followers.set(followers.len() as i64);
    }

    /// Attaches a follower whose queue holds `buffer` batches, unless `max` are attached already.
    pub fn subscribe(
        self: &Arc<Self>,
        buffer: usize,
        max: usize,
    ) -> Result<Subscription, TooManyFollowers> {
        let mut followers = self.followers();
        followers.retain(|l| !l.queue.is_closed());
        if followers.len() >= max {
            return Err(TooManyFollowers { max });
        }
        let (tx, rx) = mpsc::channel(buffer.max(1));
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let missed = Arc::new(AtomicBool::new(false));
        followers.push(Listener {
            id,
            queue: tx,
            missed: missed.clone(),
        });
        METRICS.audit_followers.set(followers.len() as i64);
        Ok(Subscription {
            feed: self.clone(),
            id,
            rx,
            missed,
        })
    }

    /// Detaches every follower: their queues end once drained (the log is closing).
    pub fn close(&self) {
        self.followers().clear();
        METRICS.audit_followers.set(0);
    }
}

/// One follower's queue of durable batches; detaches itself when dropped.
pub struct Subscription {
    feed: Arc<Feed>,
    id: u64,
    rx: mpsc::Receiver<Arc<Durable>>,
    missed: Arc<AtomicBool>,
}

impl Subscription {
    /// The next batch published after `subscribe` that fitted the queue; `None` once the log closed.
    pub async fn recv(&mut self) -> Option<Arc<Durable>> {
        self.rx.recv().await
    }

    /// Whether the queue is empty and a batch was dropped from it since this last said
    /// so. While batches are queued, the next one's gap shows a drop; once none is left,
    /// only this does (then the missing seqs are up to `durable_seq`).
    pub fn dry_after_a_miss(&self) -> bool {
        self.rx.is_empty() && self.missed.swap(false, Ordering::SeqCst)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut followers = self.feed.followers();
        followers.retain(|l| l.id != self.id);
        METRICS.audit_followers.set(followers.len() as i64);
    }
}

impl Store {
    /// The highest durable seq: what a reader may be shown.
    pub fn durable_seq(&self) -> u64 {
        self.inner.feed.durable_seq()
    }

    /// Ends every follower's queue now (the process is stopping).
    pub fn end_followers(&self) {
        self.inner.feed.close();
    }

    /// Attaches a follower to the durable tail (see the module comment).
    pub fn subscribe(&self, buffer: usize, max: usize) -> Result<Subscription, TooManyFollowers> {
        self.inner.feed.subscribe(buffer, max)
    }

    /// Stored export lines with `after < seq <= until` that `filter` selects, in seq
    /// order, read lazily (blocking: run off the async runtime).
    pub fn audit_range(&self, filter: Filter, after: u64, until: u64) -> RawEvents {
        let after_start = move |r: &Result<RawEvent, StoreError>| match r {
            Ok(ev) => ev.seq <= after,
            Err(_) => false,
        };
        let in_range = move |r: &Result<RawEvent, StoreError>| match r {
            Ok(ev) => ev.seq <= until,
            Err(_) => true,
        };
        let log = &self.inner.log;
        let events: RawEvents = match filter.share.clone() {
            // One share: its own stream, not a scan of the whole log.
            Some(id) => Box::new(log.stream(&id).skip_while(after_start).take_while(in_range)),
            None => log.between(after.saturating_add(1), until),
        };
        filter.apply(events)
    }
}

#[cfg(test)]
mod tests;
