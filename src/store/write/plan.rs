//! Planning a batch: for each command in order, decide it against the latest
//! state (earlier commands of the same batch included), seal its events into
//! the hash chain and apply them. Nothing here writes: the result is a
//! `BatchPlan` that the committer has its engine append (`committer.rs`)
//! and the syncer answers once it is durable (`syncer.rs`).

use crate::domain::{
    apply, apply_owner, decide, decide_owner, Command, DomainError, Event, Policy, Share, ShareId,
    StreamId, UnwritableEvent, UserId, VisitKind,
};
use crate::projection::days::day_of;
use crate::projection::rows::Changed;
use crate::store::engine::{EventSink, IdemKey};
use crate::store::envelope::Envelope;
use crate::store::event_ids::EventIds;
use crate::store::latest::LatestShares;
use crate::store::request::{Answered, Idempotency, IdempotencyRow, Reply, Request};
use crate::store::syncer::OpenTally;
use crate::store::{Refusal, StoreError};
use std::collections::HashMap;
use std::ops::Range;
use time::Date;
use time::OffsetDateTime;

/// What a batch is planned against.
pub struct Planner<'a> {
    pub policy: &'a Policy,
    pub now: OffsetDateTime,
    /// `now` as the log writes it (RFC 3339), formatted once per batch.
    pub at: &'a str,
    pub latest: &'a LatestShares,
    pub idempotency: &'a HashMap<IdemKey, IdempotencyRow>,
}

/// A planned batch: what to write, what changed, and every caller's answer.
pub struct BatchPlan<S> {
    pub answers: Vec<Answered>,
    /// The export lines of the batch's events, each followed by `\n`.
    pub lines: Vec<u8>,
    /// The events as the engine writes them.
    pub events: S,
    pub changed: Changed,
    pub new_keys: Vec<(IdemKey, IdempotencyRow)>,
    /// Event counts by type name, and opens by kind and format, for the metrics.
    pub types: Vec<(&'static str, u64)>,
    pub opens: OpenTally,
    /// The head of the chain after the batch.
    pub last_seq: u64,
    pub last_hash: [u8; 32],
    /// One command's sealed events on their way in: kept between commands so that
    /// a visit costs no allocation for it.
    sealed: Vec<(Envelope, Vec<u8>)>,
}

/// Plans `batch` on top of the chain head `(last_seq, last_hash)`.
pub fn plan<S: EventSink>(
    batch: Vec<Request>,
    p: &Planner,
    last_seq: u64,
    last_hash: [u8; 32],
) -> BatchPlan<S> {
    let mut ids = EventIds::for_batch(batch.len());
    let mut plan = BatchPlan {
        answers: Vec::with_capacity(batch.len()),
        lines: Vec::new(),
        events: S::default(),
        changed: Changed::default(),
        new_keys: Vec::new(),
        types: Vec::new(),
        opens: OpenTally::default(),
        last_seq,
        last_hash,
        sealed: Vec::with_capacity(1),
    };
    for request in batch {
        let answer = plan.one(p, &mut ids, request);
        plan.answers.push(answer);
    }
    plan
}

impl<S: EventSink> BatchPlan<S> {
    fn one(&mut self, p: &Planner, ids: &mut EventIds, request: Request) -> Answered {
        let (cmd, idem, reply) = match request {
            Request::Execute { cmd, idem, reply } => (cmd, idem, reply),
            Request::Repeat { idem, reply } => {
                // None (no such key) → Ok(Ok(None)); a found key keeps its refusal or failure.
                let first = match self.repeat_of(p, &idem) {
                    None => Ok(Ok(None)),
                    Some(r) => r.map(|d| d.map(|s| Some(Box::new(s)))),
                };
                return Answered::Repeat(reply, first);
            }
            // The batch's begin has caught up already.
            Request::CatchUp => return Answered::Nobody,
        };
        if let Some(first) = idem.as_ref().and_then(|i| self.repeat_of(p, i)) {
            return match first {
                Ok(Ok(share)) => reply.succeeded(&share, 0..0, true),
                Ok(Err(refusal)) => reply.refused(refusal),
                Err(e) => reply.failed(e),
            };
        }
        let id = match cmd.stream() {
            StreamId::Share(id) => id,
            StreamId::Owner(user) => return self.one_owner(p, ids, cmd, user, reply),
        };
        // Taken out of the batch's changes (not cloned): it goes back in below.
        let (state, changed_here) = match self.changed.shares.remove(&id) {
            Some(s) => (Some(s), true),
            None => (p.latest.get(&id), false),
        };
        let events = match decide(state.as_ref(), &cmd, p.policy, p.now) {
            Ok(events) => events,
            Err(e) => {
                if let Some(s) = state.filter(|_| changed_here) {
                    self.changed.shares.insert(id, s);
                }
                return reply.refused(e);
            }
        };
        let version = state.as_ref().map_or(0, |s| s.version);
        // Out of `self` while `seal` reads the batch's head; put back below.
        let mut sealed = std::mem::take(&mut self.sealed);
        let stream = StreamId::Share(id.clone());
        if let Err(e) = self.seal(p, ids, &cmd, &stream, version, events, &mut sealed) {
            self.sealed = sealed;
            if let Some(s) = state.filter(|_| changed_here) {
                self.changed.shares.insert(id, s);
            }
            return reply.failed(StoreError::engine("writing an event", e));
        }
        let (state, seqs) = self.take_in(p, &id, state, &mut sealed);
        self.sealed = sealed;
        let Some(share) = state else {
            return reply.refused(DomainError::NotFound);
        };
        if let Some(i) = idem.filter(|_| !seqs.is_empty()) {
            let row = IdempotencyRow {
                share_id: id.clone(),
                fingerprint: i.fingerprint,
            };
            self.new_keys.push(((i.user_id, i.key), row));
        }
        let answer = reply.succeeded(&share, seqs, false);
        self.changed.shares.insert(id, share);
        answer
    }

    /// The first result of a create repeated with its `Idempotency-Key`, if it is one.
    fn repeat_of(
        &self,
        p: &Planner,
        i: &Idempotency,
    ) -> Option<Result<Result<Share, Refusal>, StoreError>> {
        let k = (i.user_id.clone(), i.key.clone());
        let row = p.idempotency.get(&k).or_else(|| {
            self.new_keys
                .iter()
                .find(|(nk, _)| *nk == k)
                .map(|(_, r)| r)
        })?;
        let state = match self.changed.shares.get(&row.share_id) {
            Some(s) => Some(s.clone()),
            None => p.latest.get(&row.share_id),
        };
        Some(row.repeat(&i.fingerprint, state))
    }

    /// Seals one command's events into `sealed` (empty on entry), chained after the
    /// batch's head, without adding them yet: a command whose event cannot be
    /// written leaves the batch and the chain as they were.
    #[allow(clippy::too_many_arguments)]
    fn seal(
        &self,
        p: &Planner,
        ids: &mut EventIds,
        cmd: &Command,
        stream: &StreamId,
        version: u64,
        events: Vec<Event>,
        sealed: &mut Vec<(Envelope, Vec<u8>)>,
    ) -> Result<(), UnwritableEvent> {
        sealed.clear();
        for event in events {
            let (seq, hash, version) = match sealed.last() {
                Some((e, _)) => (e.seq, e.hash, e.version),
                None => (self.last_seq, self.last_hash, version),
            };
            sealed.push(
                Envelope {
                    seq: seq + 1,
                    id: ids.next_id(),
                    stream: stream.clone(),
                    version: version + 1,
                    at: p.now,
                    actor: cmd.actor().cloned(),
                    event,
                    prev_hash: hash,
                    hash: [0; 32],
                }
                .seal_to_line(p.at)?,
            );
        }
        Ok(())
    }

    /// Adds sealed events to the batch (lines, rows, counts) and applies them,
    /// leaving `sealed` empty; returns the share's state after them and their seqs.
    fn take_in(
        &mut self,
        p: &Planner,
        id: &ShareId,
        mut state: Option<Share>,
        sealed: &mut Vec<(Envelope, Vec<u8>)>,
    ) -> (Option<Share>, Range<u64>) {
        let first = self.last_seq + 1;
        for (env, line) in sealed.drain(..) {
            self.lines.extend_from_slice(&line);
            self.lines.push(b'\n');
            self.events.push(env.seq, id.as_str(), env.version, &line);
            let counted = env.event.counted();
            if let Some((kind, v)) = counted {
                self.opens[kind.index()][v.format.index()] += 1;
                self.count_day(p, id, day_of(env.at), kind);
            }
            self.changed.touch(id, counted.is_some());
            count(&mut self.types, env.event.type_name());
            (self.last_seq, self.last_hash) = (env.seq, env.hash);
            state = apply(state, id, &env.event, env.at);
        }
        (state, first..self.last_seq + 1)
    }
}

impl<S: EventSink> BatchPlan<S> {
    /// One more open of `kind` on `day` in the share's count of that day.
    fn count_day(&mut self, p: &Planner, id: &ShareId, day: Date, kind: VisitKind) {
        let key = (id.clone(), day);
        let count = match self.changed.days.get_mut(&key) {
            Some(count) => count,
            None => self
                .changed
                .days
                .entry(key)
                .or_insert_with(|| p.latest.day(id, day)),
        };
        count.add(kind);
    }

    /// A command on an owner's own stream (their notification settings): decided by
    /// `decide_owner` against the owner's latest state, answered with an acknowledgement
    /// (the caller reads the new state from the projection, published before the answer).
    fn one_owner(
        &mut self,
        p: &Planner,
        ids: &mut EventIds,
        cmd: Command,
        user: UserId,
        reply: Reply,
    ) -> Answered {
        let Command::Notify(set) = &cmd else {
            return reply.refused(DomainError::NotFound);
        };
        if matches!(reply, Reply::Outcome(_)) {
            return reply.failed(StoreError::Failed(
                "an owner's command is acknowledged, not answered with a share".into(),
            ));
        }
        let state = match self.changed.owners.remove(&user) {
            Some(o) => Some(o),
            None => p.latest.owner(&user),
        };
        let change = match decide_owner(state.as_ref(), set, &p.policy.notify_targets) {
            Ok(Some(change)) => change,
            Ok(None) => {
                if let Some(o) = state {
                    self.changed.owners.insert(user, o);
                }
                return reply.succeeded_without_state();
            }
            Err(e) => {
                if let Some(o) = state {
                    self.changed.owners.insert(user, o);
                }
                return reply.refused(e);
            }
        };
        let version = state.as_ref().map_or(0, |o| o.version);
        let stream = StreamId::Owner(user.clone());
        let mut sealed = std::mem::take(&mut self.sealed);
        let event = Event::NotifySettingsChanged(change.clone());
        if let Err(e) = self.seal(p, ids, &cmd, &stream, version, vec![event], &mut sealed) {
            self.sealed = sealed;
            if let Some(o) = state {
                self.changed.owners.insert(user, o);
            }
            return reply.failed(StoreError::engine("writing an event", e));
        }
        let stream_key = stream.to_string();
        let mut owner = state;
        for (env, line) in sealed.drain(..) {
            self.lines.extend_from_slice(&line);
            self.lines.push(b'\n');
            self.events.push(env.seq, &stream_key, env.version, &line);
            count(&mut self.types, env.event.type_name());
            (self.last_seq, self.last_hash) = (env.seq, env.hash);
            owner = Some(apply_owner(owner, &user, &change, env.at));
        }
        self.sealed = sealed;
        if let Some(o) = owner {
            self.changed.owners.insert(user, o);
        }
        reply.succeeded_without_state()
    }
}

/// Adds one to `name`'s count (a handful of names: a linear scan beats hashing).
fn count(counts: &mut Vec<(&'static str, u64)>, name: &'static str) {
    match counts.iter_mut().find(|(n, _)| *n == name) {
        Some((_, c)) => *c += 1,
        None => counts.push((name, 1)),
    }
}
