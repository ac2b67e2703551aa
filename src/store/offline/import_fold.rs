//! The writing side of a restore, whatever the engine: every event of a checked
//! export taken through the rules a live server keeps (`domain::check_logged`: the
//! chain only proves nobody changed the file since it was sealed, not that it makes
//! sense) and folded into the projections on the way in, so no second pass is needed.

use super::import_batch::{Change, ImportBatch};
use crate::domain::{
    apply, apply_owner, check_counted, check_logged, check_logged_owner, check_version, Counted,
    CountedRun, Event, ImpossibleEvent, Owner, Share, ShareId, StreamId,
};
use crate::projection::days::{day_of, Days};
use crate::store::committer::empty_head;
use crate::store::{Checkpoint, StoreError};

/// Every stream of the log so far, by the number the reading side gave it, and the head.
pub struct ImportFold {
    streams: Vec<(StreamId, State)>,
    /// Each share's opens per day, by stream number.
    days: std::collections::HashMap<u32, Days>,
    head: Checkpoint,
}

/// A stream's state so far: a share's, or an owner's.
// Not boxed: nearly every stream is a share's, and a restore touches each state per event.
#[allow(clippy::large_enum_variant)]
enum State {
    Share(Option<Share>),
    Owner(Option<Owner>),
}

impl State {
    fn new(id: &StreamId) -> State {
        match id {
            StreamId::Share(_) => State::Share(None),
            StreamId::Owner(_) => State::Owner(None),
        }
    }
}

impl Default for ImportFold {
    fn default() -> Self {
        ImportFold {
            streams: Vec::new(),
            days: Default::default(),
            head: empty_head(),
        }
    }
}

impl ImportFold {
    /// Takes a batch's events in, refusing the first one that does not continue the
    /// log's seqs or that no server could have written.
    pub fn push(&mut self, batch: &ImportBatch) -> Result<(), StoreError> {
        self.streams
            .extend((batch.new_streams.iter()).map(|id| (id.clone(), State::new(id))));
        for ev in &batch.events {
            if ev.seq != self.head.last_seq + 1 {
                return Err(StoreError::Corrupt(format!(
                    "event {} does not continue the log at seq {}",
                    ev.seq, self.head.last_seq
                )));
            }
            let (id, state) = self.streams.get_mut(ev.stream as usize).ok_or_else(|| {
                StoreError::Corrupt(format!("event {}: unknown stream number", ev.seq))
            })?;
            let impossible = |reason: ImpossibleEvent| StoreError::Impossible {
                seq: ev.seq,
                reason,
            };
            let state = match (state, &ev.change) {
                (State::Share(state), _) => state,
                (State::Owner(owner), Change::Other(env)) => {
                    check_logged_owner(owner.as_ref(), ev.version, &env.event)
                        .map_err(impossible)?;
                    if let (StreamId::Owner(user), Event::NotifySettingsChanged(change)) =
                        (&*id, &env.event)
                    {
                        *owner = Some(apply_owner(owner.take(), user, change, env.at));
                    }
                    self.head.last_seq = ev.seq;
                    continue;
                }
                (State::Owner(_), Change::Counted(kind, ..)) => {
                    return Err(impossible(ImpossibleEvent(format!(
                        "{} on an owner's stream",
                        kind.type_name()
                    ))));
                }
            };
            match &ev.change {
                Change::Counted(kind, at, link) => {
                    check_counted(state.as_ref(), *kind, *at, link.as_ref()).map_err(impossible)?;
                    check_version(state.as_ref(), ev.version).map_err(impossible)?;
                    let days = self.days.entry(ev.stream).or_default();
                    days.entry(day_of(*at)).or_default().add(*kind);
                    if let Some(share) = state.as_mut() {
                        match link {
                            None => Counted::one(*kind, *at).apply_to(share),
                            Some(_) => CountedRun::one(*kind, *at, link.clone()).apply_to(share),
                        }
                    }
                }
                // The domain's own fold, so every other event type (today's and future ones) counts.
                Change::Other(env) => {
                    check_logged(state.as_ref(), ev.version, &env.event, env.at)
                        .map_err(impossible)?;
                    if let StreamId::Share(share) = &env.stream {
                        *state = apply(state.take(), share, &env.event, env.at);
                    }
                }
            }
            self.head.last_seq = ev.seq;
        }
        if !batch.events.is_empty() {
            self.head.last_hash = batch.last_hash;
        }
        Ok(())
    }

    /// The id of the stream numbered `n`.
    pub fn id(&self, n: u32) -> Option<&StreamId> {
        self.streams.get(n as usize).map(|(id, _)| id)
    }

    /// How many streams are numbered so far.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    pub fn shares(&self) -> impl Iterator<Item = &Share> {
        self.streams.iter().filter_map(|(_, s)| match s {
            State::Share(share) => share.as_ref(),
            State::Owner(_) => None,
        })
    }

    /// Every share's opens per day.
    pub fn days(&self) -> impl Iterator<Item = (&ShareId, &Days)> {
        self.days.iter().filter_map(|(n, days)| match self.id(*n)? {
            StreamId::Share(id) => Some((id, days)),
            StreamId::Owner(_) => None,
        })
    }

    pub fn owners(&self) -> impl Iterator<Item = &Owner> {
        self.streams.iter().filter_map(|(_, s)| match s {
            State::Owner(owner) => owner.as_ref(),
            State::Share(_) => None,
        })
    }

    pub fn head(&self) -> Checkpoint {
        self.head
    }
}
