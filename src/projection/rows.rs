//! The projection rows kept on disk next to the events, and which of them a
//! batch rewrites: a share's whole row (`P`) when anything but its counters
//! changed, else only its small counter row (`V`). A new event type changes
//! either the share (a `P` row) or only counters (a `V` row), decided by
//! `Event::counted` in the domain, never here.

use super::days::{self, DayCount, Days};
use super::VisitCounter;
use crate::domain::{Owner, Share, ShareId, UserId};
use std::collections::{HashMap, HashSet};
use time::Date;

/// Key prefix of a share's row: its state as JSON.
pub const SHARE: u8 = b'P';
/// Key prefix of a share's counter row: `VisitCounter` as JSON.
pub const VISITS: u8 = b'V';
/// Key prefix of an owner's row (`O` user id): `Owner` as JSON.
pub const OWNER: u8 = b'O';

/// An owner's row key.
pub fn owner_key(user: &UserId) -> Vec<u8> {
    let mut k = Vec::with_capacity(user.0.len() + 1);
    k.push(OWNER);
    k.extend_from_slice(user.0.as_bytes());
    k
}

/// `prefix` followed by the share id.
pub fn key(prefix: u8, id: &ShareId) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.as_str().len() + 1);
    k.push(prefix);
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

/// A row: its key and its value.
pub type Row = (Vec<u8>, Vec<u8>);

/// The shares a batch changed, with how: their new states, and which of them
/// changed beyond their counters.
#[derive(Default)]
pub struct Changed {
    pub shares: HashMap<ShareId, Share>,
    /// Owners whose stream changed, with their new state (always a whole row: rare).
    pub owners: HashMap<UserId, Owner>,
    /// Each share's counts on each day the batch opened it, as the batch leaves them.
    pub days: HashMap<(ShareId, Date), DayCount>,
    rewritten: HashSet<ShareId>,
    counted: HashSet<ShareId>,
}

impl Changed {
    /// Notes that `id` had an event; `counters_only` when it changed only counters.
    pub fn touch(&mut self, id: &ShareId, counters_only: bool) {
        let set = match counters_only {
            true => &mut self.counted,
            false => &mut self.rewritten,
        };
        // Checked first: most events are visits to a share already in the set.
        if !set.contains(id) {
            set.insert(id.clone());
        }
    }

    /// The rows to write for this batch: a whole row for each share changed beyond
    /// its counters, a counter row for each share whose counters alone changed.
    pub fn rows(&self) -> Result<Vec<Row>, serde_json::Error> {
        let mut rows = Vec::with_capacity(self.rewritten.len() + self.counted.len());
        for (user, owner) in &self.owners {
            rows.push((owner_key(user), serde_json::to_vec(owner)?));
        }
        for ((id, day), count) in &self.days {
            rows.push((days::key(id, *day), serde_json::to_vec(count)?));
        }
        for id in &self.rewritten {
            if let Some(share) = self.shares.get(id) {
                rows.push((key(SHARE, id), serde_json::to_vec(share)?));
            }
        }
        for id in self.counted.difference(&self.rewritten) {
            if let Some(share) = self.shares.get(id) {
                rows.push((
                    key(VISITS, id),
                    serde_json::to_vec(&VisitCounter::of(share))?,
                ));
            }
        }
        Ok(rows)
    }
}

/// The rows of a whole projection, as `rebuild` and `restore` write them: every
/// share's full row (its counters included, so no counter rows).
pub fn all_rows<'a>(
    shares: impl Iterator<Item = &'a Share> + 'a,
) -> impl Iterator<Item = Result<Row, serde_json::Error>> + 'a {
    shares.map(|s| Ok((key(SHARE, &s.id), serde_json::to_vec(s)?)))
}

/// The rows of every owner's stream, as `rebuild` and `restore` write them.
pub fn owner_rows<'a>(
    owners: impl Iterator<Item = &'a Owner> + 'a,
) -> impl Iterator<Item = Result<Row, serde_json::Error>> + 'a {
    owners.map(|o| Ok((owner_key(&o.user_id), serde_json::to_vec(o)?)))
}

/// The rows of every share's days, as `rebuild` and `restore` write them.
pub fn day_rows<'a>(
    days: impl Iterator<Item = (&'a ShareId, &'a Days)> + 'a,
) -> impl Iterator<Item = Result<Row, serde_json::Error>> + 'a {
    days.flat_map(|(id, days)| {
        days.iter()
            .map(move |(day, count)| Ok((days::key(id, *day), serde_json::to_vec(count)?)))
    })
}

/// Every kind of projection row, by its key's first byte.
pub const PREFIXES: [u8; 4] = [SHARE, VISITS, OWNER, days::DAYS];
