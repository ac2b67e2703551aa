//! The writing side of a restore, whatever the engine: every event of a checked
//! export taken through the rules a live server keeps (`domain::check_logged`: the
//! chain only proves nobody changed the file since it was sealed, not that it makes
//! sense) and folded into the projections on the way in, so no second pass is needed.

use super::import_batch::{Change, ImportBatch};
use crate::domain::{
    apply, check_counted, check_logged, check_version, Counted, ImpossibleEvent, Share, ShareId,
};
use crate::store::committer::empty_head;
use crate::store::{Checkpoint, StoreError};

/// Every share of the log so far, by the number the reading side gave it, and the head.
pub struct ImportFold {
    streams: Vec<(ShareId, Option<Share>)>,
    head: Checkpoint,
}

impl Default for ImportFold {
    fn default() -> Self {
        ImportFold {
            streams: Vec::new(),
            head: empty_head(),
        }
    }
}

impl ImportFold {
    /// Takes a batch's events in, refusing the first one that does not continue the
    /// log's seqs or that no server could have written.
    pub fn push(&mut self, batch: &ImportBatch) -> Result<(), StoreError> {
        self.streams
            .extend(batch.new_shares.iter().map(|id| (id.clone(), None)));
        for ev in &batch.events {
            if ev.seq != self.head.last_seq + 1 {
                return Err(StoreError::Corrupt(format!(
                    "event {} does not continue the log at seq {}",
                    ev.seq, self.head.last_seq
                )));
            }
            let (_, state) = self.streams.get_mut(ev.share as usize).ok_or_else(|| {
                StoreError::Corrupt(format!("event {}: unknown share number", ev.seq))
            })?;
            let impossible = |reason: ImpossibleEvent| StoreError::Impossible {
                seq: ev.seq,
                reason,
            };
            match &ev.change {
                Change::Counted(kind, at) => {
                    check_counted(state.as_ref(), kind.type_name(), *at).map_err(impossible)?;
                    check_version(state.as_ref(), ev.version).map_err(impossible)?;
                    if let Some(share) = state.as_mut() {
                        Counted::one(*kind, *at).apply_to(share);
                    }
                }
                // The domain's own fold, so every other event type (today's and future ones) counts.
                Change::Other(env) => {
                    check_logged(state.as_ref(), ev.version, &env.event, env.at)
                        .map_err(impossible)?;
                    *state = apply(state.take(), &env.stream, &env.event, env.at);
                }
            }
            self.head.last_seq = ev.seq;
        }
        if !batch.events.is_empty() {
            self.head.last_hash = batch.last_hash;
        }
        Ok(())
    }

    /// The id of the share numbered `n`.
    pub fn id(&self, n: u32) -> Option<&ShareId> {
        self.streams.get(n as usize).map(|(id, _)| id)
    }

    /// How many shares are numbered so far.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    pub fn shares(&self) -> impl Iterator<Item = &Share> {
        self.streams.iter().filter_map(|(_, s)| s.as_ref())
    }

    pub fn head(&self) -> Checkpoint {
        self.head
    }
}
