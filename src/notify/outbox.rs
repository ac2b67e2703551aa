//! The news waiting to go out, a queue per owner, and where the log is to be read next.
//! No I/O: the worker reads the log and sends; this decides what is held, what is
//! sent next, and how far the cursor may move.
//!
//! The log is the buffer. An owner holds at most `Bounds::per_owner` news in memory,
//! and everyone together at most `Bounds::total`. An owner with no room (their target
//! is down) *falls behind*: the reading goes on for everyone else, and for them only the
//! seq they had reached is remembered (`behind`). Once they have room again, the log is
//! read again from there, for them alone (`read_from`), until they have caught up. So
//! memory stays bounded however long a target is down and however many visits come,
//! and one owner's broken target delays nobody else's news.
//!
//! The cursor (`cursor`) is the seq before the oldest news not yet sent or given up:
//! every event up to it is done, for every owner. An owner's news after it that were
//! sent are remembered by the worker with a mark of their own (`set_mark`), so a restart
//! repeats only what was in flight.

use super::news::News;
use crate::domain::UserId;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// How much news is held in memory.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub per_owner: usize,
    pub total: usize,
}

/// The bounds the worker runs with (docs/operations.md, "Notifications").
pub const BOUNDS: Bounds = Bounds {
    per_owner: 256,
    total: 4096,
};

#[derive(Default)]
struct Queue {
    news: VecDeque<News>,
    /// Fell behind: every news of theirs up to this seq is held or done; later ones are
    /// only in the log.
    behind: Option<u64>,
    /// Its first news is being sent.
    sending: bool,
    /// Failed attempts at its first news.
    failures: u32,
    /// Its first news is not tried again before this.
    not_before: Option<Instant>,
}

impl Queue {
    fn is_idle(&self) -> bool {
        self.news.is_empty() && self.behind.is_none() && !self.sending
    }
}

pub struct Outbox {
    bounds: Bounds,
    /// Every event up to here has been read once.
    read_to: u64,
    queues: HashMap<UserId, Queue>,
    held: usize,
    /// Per owner: their news up to this seq were sent (or given up) before a restart.
    marks: HashMap<UserId, u64>,
}

impl Outbox {
    /// Nothing held; reading starts after `cursor`.
    pub fn new(cursor: u64, bounds: Bounds) -> Outbox {
        Outbox {
            bounds,
            read_to: cursor,
            queues: HashMap::new(),
            held: 0,
            marks: HashMap::new(),
        }
    }

    /// News held in memory, all owners together.
    pub fn held(&self) -> usize {
        self.held
    }

    /// The last seq read.
    pub fn read_to(&self) -> u64 {
        self.read_to
    }

    fn room(&self, q: &Queue) -> bool {
        q.news.len() < self.bounds.per_owner && self.held < self.bounds.total
    }

    /// The next seq to read: the oldest one an owner who fell behind has room for again,
    /// else the first not read yet. Events then come to `take` one by one from there.
    pub fn read_from(&self) -> u64 {
        let behind = self
            .queues
            .values()
            .filter(|q| self.room(q))
            .filter_map(|q| q.behind)
            .min();
        behind.map_or(self.read_to, |b| b.min(self.read_to)) + 1
    }

    /// Whether `owner`'s mark is known (the worker loads it before their first news).
    pub fn knows_mark(&self, owner: &UserId) -> bool {
        self.marks.contains_key(owner)
    }

    pub fn set_mark(&mut self, owner: &UserId, seq: u64) {
        self.marks.insert(owner.clone(), seq);
    }

    /// Takes the event at `seq` (in seq order from `read_from`), with what it tells its
    /// owner, if anything.
    pub fn take(&mut self, seq: u64, news: Option<(UserId, News)>) {
        let fresh = seq > self.read_to;
        let room = self.held < self.bounds.total;
        let per_owner = self.bounds.per_owner;
        let theirs = news.as_ref().map(|(o, _)| o.clone());
        // An owner reading again passes over the events that are not theirs.
        for (id, q) in self.queues.iter_mut() {
            let next = q.behind.is_some_and(|b| b + 1 == seq);
            if next && room && q.news.len() < per_owner && theirs.as_ref() != Some(id) {
                q.behind = Some(seq);
            }
        }
        if let Some((owner, news)) = news {
            self.offer(seq, fresh, owner, news);
        }
        if fresh {
            self.read_to = seq;
        }
        let read_to = self.read_to;
        for q in self.queues.values_mut() {
            if q.behind.is_some_and(|b| b >= read_to) {
                q.behind = None;
            }
        }
        self.queues.retain(|_, q| !q.is_idle());
    }

    fn offer(&mut self, seq: u64, fresh: bool, owner: UserId, news: News) {
        let sent_before = self.marks.get(&owner).is_some_and(|m| seq <= *m);
        let total_room = self.held < self.bounds.total;
        let per_owner = self.bounds.per_owner;
        let q = match self.queues.get_mut(&owner) {
            Some(q) => q,
            None if fresh => self.queues.entry(owner).or_default(),
            // Read again for someone else: it was offered when first read.
            None => return,
        };
        match q.behind {
            // Had it, or will read it again later, in order.
            Some(b) if b + 1 != seq => return,
            None if !fresh => return,
            _ => {}
        }
        if sent_before {
            if q.behind.is_some() {
                q.behind = Some(seq);
            }
            return;
        }
        if total_room && q.news.len() < per_owner {
            q.news.push_back(news);
            self.held += 1;
            if q.behind.is_some() {
                q.behind = Some(seq);
            }
        } else if q.behind.is_none() {
            q.behind = Some(seq - 1);
        }
    }

    /// Owners whose first news may be sent now.
    pub fn due(&self, now: Instant) -> Vec<UserId> {
        self.queues
            .iter()
            .filter(|(_, q)| !q.sending && !q.news.is_empty())
            .filter(|(_, q)| q.not_before.is_none_or(|t| t <= now))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// `owner`'s first news, from now on being sent; and how often it failed before.
    pub fn start(&mut self, owner: &UserId) -> Option<(News, u32)> {
        let q = self.queues.get_mut(owner)?;
        let news = q.news.front()?.clone();
        q.sending = true;
        Some((news, q.failures))
    }

    /// `owner`'s first news was sent, or given up: its seq.
    pub fn finish(&mut self, owner: &UserId) -> Option<u64> {
        let q = self.queues.get_mut(owner)?;
        let news = q.news.pop_front()?;
        self.held -= 1;
        q.sending = false;
        q.failures = 0;
        q.not_before = None;
        if q.is_idle() {
            self.queues.remove(owner);
        }
        Some(news.seq)
    }

    /// `owner`'s first news failed: tried again from `at` on.
    pub fn retry(&mut self, owner: &UserId, at: Instant) {
        if let Some(q) = self.queues.get_mut(owner) {
            q.sending = false;
            q.failures += 1;
            q.not_before = Some(at);
        }
    }

    /// The soonest time a failed news is tried again.
    pub fn next_retry(&self) -> Option<Instant> {
        self.queues
            .values()
            .filter(|q| !q.sending && !q.news.is_empty())
            .filter_map(|q| q.not_before)
            .min()
    }

    /// Every event up to this seq is done for every owner: the one before the oldest news
    /// held, or the oldest seq an owner who fell behind has not read again yet.
    pub fn cursor(&self) -> u64 {
        self.queues
            .values()
            .filter_map(|q| match (q.news.front(), q.behind) {
                (Some(n), _) => Some(n.seq - 1),
                (None, b) => b,
            })
            .fold(self.read_to, u64::min)
    }
}

#[cfg(test)]
mod tests;
