//! The second stage of a commit: making written batches durable, then answering.
//!
//! The committer decides, chains, `apply_batch`es and `flush`es a batch (sled's
//! flush writes the file but does not fsync), then hands it here and goes on with
//! the next one. This thread takes every batch waiting, fsyncs them together
//! (`sync_data` on our own handle to sled's file), and only then shows the new
//! state to readers, feeds the export mirror and answers the callers, oldest batch
//! first. So batch n+1 is decided and written while batch n's fsync runs, and a
//! batch is never acknowledged or visible before it, and every batch before it,
//! is on disk.

use crate::domain::{Share, ShareId, VisitFormat, VisitKind};
use crate::metrics::METRICS;
use crate::projection::Shares;
use crate::store::mirror::Mirror;
use crate::store::request::Answered;
use crate::store::subscribe::Feed;
use crate::store::StoreError;
use std::collections::HashMap;
use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// A batch that is in sled's memory (or refused whole) and waits to be made durable.
pub struct Applied {
    pub number: u64,
    pub started: Instant,
    /// Highest seq in the batch (0 when it appended nothing).
    pub last_seq: u64,
    /// Event counts by type name, and visits and previews by format, for the metrics.
    pub types: Vec<(&'static str, u64)>,
    pub opens: OpenTally,
    /// The batch's export lines, each followed by `\n`.
    pub lines: Vec<u8>,
    /// The new state of every share the batch changed.
    pub shares: HashMap<ShareId, Share>,
    /// Every caller's answer, sent once the batch is durable.
    pub answers: Vec<Answered>,
}

impl Applied {
    fn events(&self) -> u64 {
        self.types.iter().map(|(_, n)| n).sum()
    }
}

/// Counted opens of a batch by kind and format (`VisitKind::index`, `VisitFormat::index`):
/// a fixed array, so counting costs the commit path no allocation and no lookup.
pub type OpenTally = [[u64; VisitFormat::ALL.len()]; VisitKind::ALL.len()];

/// What the syncer returns: the mirror and the last seq after a clean stop.
pub type CleanStop = Option<(Mirror, u64)>;

pub struct Syncer {
    pub db: sled::Db,
    /// Our own handle on sled's data file: `flush` alone is no fsync.
    pub data_file: File,
    pub shares: Arc<RwLock<Shares>>,
    pub poisoned: Arc<AtomicBool>,
    /// The number of the last batch shown to readers, for the committer's overlay.
    pub published: Arc<AtomicU64>,
    pub mirror: Mirror,
    /// Followers of the audit feed get each batch here, after its fsync.
    pub feed: Arc<Feed>,
    pub last_seq: u64,
    pub rx: Receiver<Applied>,
}

impl Syncer {
    pub fn run(mut self) -> CleanStop {
        while let Ok(first) = self.rx.recv() {
            let mut batches = vec![first];
            batches.extend(self.rx.try_iter());
            self.finish(batches);
        }
        // Nothing more will be published: followers end their streams.
        self.feed.close();
        if let Err(e) = self.sync() {
            self.poisoned.store(true, Ordering::SeqCst);
            log::error!("final fsync failed: {e}");
            return None;
        }
        if self.poisoned.load(Ordering::SeqCst) || !self.mirror.is_live() {
            return None;
        }
        Some((self.mirror, self.last_seq))
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.data_file.sync_data()?;
        Ok(())
    }

    fn finish(&mut self, mut batches: Vec<Applied>) {
        let wrote = batches.iter().any(|b| b.last_seq != 0);
        let result = match self.poisoned.load(Ordering::SeqCst) {
            true => Err(StoreError::Io(
                "the log stopped after a write failure".into(),
            )),
            // The committer flushed every batch before handing it over.
            false if wrote => self.data_file.sync_data().map_err(StoreError::from),
            false => Ok(()),
        };
        if let Err(e) = result {
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
                        .into_failed(StoreError::Io("the event log could not be written".into()))
                        .send();
                }
            }
            return;
        }
        let mut shares = self.shares.write().unwrap_or_else(|e| e.into_inner());
        for b in batches.iter_mut() {
            for (_, share) in std::mem::take(&mut b.shares) {
                shares.put(share);
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
            self.mirror.append(&b.lines);
            let first_seq = b.last_seq + 1 - b.events();
            self.feed.publish(first_seq, b.last_seq, &mut b.lines);
            METRICS
                .commit_seconds
                .observe(b.started.elapsed().as_secs_f64());
            METRICS.commit_batch_size.observe(b.events() as f64);
            for (t, n) in &b.types {
                METRICS.events_appended.with_label_values(&[t]).inc_by(*n);
            }
            METRICS.count_opens(&b.opens);
            // A caller that went away (client disconnected) does not undo a durable write.
            b.answers.into_iter().for_each(Answered::send);
        }
    }
}
