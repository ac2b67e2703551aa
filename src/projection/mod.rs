//! Read models folded from the log: every share's current state with its visit
//! counter. The committer keeps them current (in memory and, in the same atomic
//! write as the events, in the engine, as the rows in `rows`); every read is served
//! from here. `rows` says what to write, `load` reads them back at start. The store
//! depends on this module, never the other way round: events reach it through
//! `Logged`, and what the store folds is one `Projection` (shares, owners, days), which
//! every reader gets from `Store::projection()`.

pub mod days;
mod error;
mod load;
pub mod rows;

pub use error::RowsError;
pub use load::load;

use crate::domain::{
    apply, apply_owner, Event, LinkId, Owner, Share, ShareId, ShareLink, StreamId, UserId,
};
use days::{day_of, DayCount, Days};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use time::Date;
use time::OffsetDateTime;

/// The counter row (`V`), written on its own so a visit or a preview does not
/// rewrite the whole share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitCounter {
    pub visit_count: u64,
    /// Absent from rows written before previews existed: those read as 0.
    #[serde(default)]
    pub preview_count: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_visited_at: Option<OffsetDateTime>,
    pub version: u64,
    /// The counters of each recipient link opened so far. Absent when none was, so a
    /// share without links writes (and old rows read) exactly the row it did before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkCounter>,
}

/// One link's counters in a `VisitCounter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkCounter {
    pub id: LinkId,
    pub visit_count: u64,
    pub preview_count: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_visited_at: Option<OffsetDateTime>,
}

impl VisitCounter {
    pub fn of(share: &Share) -> Self {
        VisitCounter {
            visit_count: share.visit_count,
            preview_count: share.preview_count,
            last_visited_at: share.last_visited_at,
            version: share.version,
            links: share
                .links
                .iter()
                .filter(|l| l.visit_count + l.preview_count > 0)
                .map(|l| LinkCounter {
                    id: l.id.clone(),
                    visit_count: l.visit_count,
                    preview_count: l.preview_count,
                    last_visited_at: l.last_visited_at,
                })
                .collect(),
        }
    }

    /// Lays a newer counter over a share row written before it. The row holds every
    /// link (links are added and revoked by events that rewrite it); the counter, the
    /// counts of those opened since.
    pub fn overlay(&self, share: &mut Share) {
        if self.version > share.version {
            share.visit_count = self.visit_count;
            share.preview_count = self.preview_count;
            share.last_visited_at = self.last_visited_at;
            share.version = self.version;
            for c in &self.links {
                if let Some(l) = share.links.iter_mut().find(|l| l.id == c.id) {
                    l.visit_count = c.visit_count;
                    l.preview_count = c.preview_count;
                    l.last_visited_at = c.last_visited_at;
                }
            }
        }
    }
}

/// All shares ever created (deleted ones as tombstones), keyed by id, which share
/// each recipient link opens, and every owner's own stream (notification settings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    by_id: HashMap<ShareId, Share>,
    by_link: HashMap<LinkId, ShareId>,
    /// Each owner's shares (deleted ones too), by user id and by name: an owner's list
    /// is read without walking everyone's shares. An owner never changes.
    by_owner: HashMap<UserId, BTreeSet<ShareId>>,
    by_owner_name: HashMap<String, BTreeSet<ShareId>>,
    live: usize,
    owners: HashMap<UserId, Owner>,
    /// Opens per share and UTC day (`days`).
    days: HashMap<ShareId, Days>,
}

impl Projection {
    pub fn get(&self, id: &ShareId) -> Option<&Share> {
        self.by_id.get(id)
    }

    /// The share a recipient link opens, with the link (revoked ones too: they answer
    /// 410, not 404). The share may be deleted or expired: the caller answers that.
    pub fn by_link(&self, id: &LinkId) -> Option<(&Share, &ShareLink)> {
        let share = self.by_id.get(self.by_link.get(id)?)?;
        Some((share, share.link(id)?))
    }

    /// Shares that are not deleted.
    pub fn live(&self) -> impl Iterator<Item = &Share> {
        self.by_id.values().filter(|s| !s.deleted)
    }

    pub fn live_count(&self) -> usize {
        self.live
    }

    pub fn all(&self) -> impl Iterator<Item = &Share> {
        self.by_id.values()
    }

    /// The shares of the owner with this user id, deleted ones too.
    pub fn owned_by(&self, user: &UserId) -> impl Iterator<Item = &Share> {
        self.each_of(self.by_owner.get(user))
    }

    /// The shares of the owner with this user name, deleted ones too (for a door that
    /// proves only a name: a Subsonic login).
    pub fn owned_by_name(&self, username: &str) -> impl Iterator<Item = &Share> {
        self.each_of(self.by_owner_name.get(username))
    }

    fn each_of<'a>(
        &'a self,
        ids: Option<&'a BTreeSet<ShareId>>,
    ) -> impl Iterator<Item = &'a Share> + 'a {
        ids.into_iter()
            .flatten()
            .filter_map(|id| self.by_id.get(id))
    }

    /// An owner's stream (notification settings), if they ever set one.
    pub fn owner(&self, user: &UserId) -> Option<&Owner> {
        self.owners.get(user)
    }

    pub fn owners(&self) -> impl Iterator<Item = &Owner> {
        self.owners.values()
    }

    pub fn put_owner(&mut self, owner: Owner) {
        self.owners.insert(owner.user_id.clone(), owner);
    }

    /// A share's opens per UTC day (days with none are absent).
    pub fn days(&self, id: &ShareId) -> Option<&Days> {
        self.days.get(id)
    }

    /// One share's counts on one day, as a batch leaves them.
    pub fn put_day(&mut self, id: &ShareId, day: Date, count: DayCount) {
        match self.days.get_mut(id) {
            Some(days) => {
                days.insert(day, count);
            }
            None => {
                self.days.insert(id.clone(), Days::from([(day, count)]));
            }
        }
    }

    /// A share's counts on one day (zero when it had none).
    pub fn day(&self, id: &ShareId, day: Date) -> DayCount {
        self.days
            .get(id)
            .and_then(|d| d.get(&day))
            .copied()
            .unwrap_or_default()
    }

    /// Every share's days, for writing them all again.
    pub fn all_days(&self) -> impl Iterator<Item = (&ShareId, &Days)> {
        self.days.iter()
    }

    pub fn put(&mut self, share: Share) {
        let was_live = self.by_id.get(&share.id).is_some_and(|s| !s.deleted);
        match (was_live, share.deleted) {
            (false, false) => self.live += 1,
            (true, true) => self.live -= 1,
            _ => {}
        }
        if !self.by_id.contains_key(&share.id) {
            self.by_owner
                .entry(share.owner_id.clone())
                .or_default()
                .insert(share.id.clone());
            self.by_owner_name
                .entry(share.owner_name.clone())
                .or_default()
                .insert(share.id.clone());
        }
        // Links are only ever added: a lookup each, an insert for the new one.
        for l in &share.links {
            if !self.by_link.contains_key(&l.id) {
                self.by_link.insert(l.id.clone(), share.id.clone());
            }
        }
        self.by_id.insert(share.id.clone(), share);
    }

    /// Folds one logged event in, into its share or its owner.
    pub fn apply(&mut self, logged: &impl Logged) {
        let (stream, event, at) = logged.parts();
        match stream {
            StreamId::Share(id) => {
                let state = self.by_id.get(id).cloned();
                let Some(next) = apply(state, id, event, at) else {
                    return;
                };
                if let Some((kind, _)) = event.counted() {
                    let day = day_of(at);
                    let mut count = self.day(id, day);
                    count.add(kind);
                    self.put_day(id, day, count);
                }
                self.put(next);
            }
            StreamId::Owner(user) => {
                if let Event::NotifySettingsChanged(change) = event {
                    let state = self.owners.remove(user);
                    self.put_owner(apply_owner(state, user, change, at));
                }
            }
        }
    }

    /// The full replay: what the projection must equal.
    pub fn replay<L: Logged, E>(events: impl IntoIterator<Item = Result<L, E>>) -> Result<Self, E> {
        let mut shares = Projection::default();
        for logged in events {
            shares.apply(&logged?);
        }
        Ok(shares)
    }
}

/// An event as the log holds it: what a projection needs of it. The log's own
/// record type implements this, so projections do not depend on the store.
pub trait Logged {
    fn parts(&self) -> (&StreamId, &Event, OffsetDateTime);
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn share(links: Vec<ShareLink>) -> Share {
        Share {
            links,
            ..Share::sample(
                ShareId::from_random([1; 16]),
                "u",
                datetime!(2026-01-01 00:00 UTC),
            )
        }
    }

    fn link(n: u8) -> ShareLink {
        ShareLink {
            id: LinkId::from_random([n; 16]),
            label: format!("l{n}"),
            max_visits: None,
            visit_count: 0,
            preview_count: 0,
            last_visited_at: None,
            created_at: datetime!(2026-01-01 00:00 UTC),
            revoked_at: None,
        }
    }

    #[test]
    fn a_counter_row_without_links_is_the_row_it_always_was() {
        let mut s = share(vec![link(1)]);
        s.visit_count = 3;
        s.version = 5;
        let row = serde_json::to_value(VisitCounter::of(&s)).unwrap();
        assert_eq!(
            row,
            serde_json::json!({"visitCount": 3, "previewCount": 0, "lastVisitedAt": null, "version": 5}),
            "a link never opened is not in the row"
        );
        let old: VisitCounter =
            serde_json::from_str(r#"{"visitCount":3,"lastVisitedAt":null,"version":5}"#).unwrap();
        assert!(old.links.is_empty());
        let plain = serde_json::to_value(share(vec![])).unwrap();
        for key in ["password", "passwordVersion", "maxVisits", "links"] {
            assert!(plain.get(key).is_none(), "{key} in a row without controls");
        }
    }

    #[test]
    fn a_counter_row_lays_each_opened_links_counts_over_the_share_row() {
        let row = share(vec![link(1), link(2)]);
        let mut live = row.clone();
        live.version = 4;
        live.visit_count = 3;
        live.links[1].visit_count = 2;
        live.links[1].preview_count = 1;
        live.links[1].last_visited_at = Some(datetime!(2026-01-02 00:00 UTC));
        let counter: VisitCounter =
            serde_json::from_slice(&serde_json::to_vec(&VisitCounter::of(&live)).unwrap()).unwrap();
        assert_eq!(counter.links.len(), 1);
        let mut loaded = row;
        counter.overlay(&mut loaded);
        assert_eq!(loaded, live);
    }

    #[test]
    fn a_link_finds_its_share() {
        let mut shares = Projection::default();
        let s = share(vec![link(1)]);
        shares.put(s.clone());
        let (found, l) = shares.by_link(&LinkId::from_random([1; 16])).unwrap();
        assert_eq!((found.id.clone(), l.label.as_str()), (s.id, "l1"));
        assert!(shares.by_link(&LinkId::from_random([2; 16])).is_none());
    }
}
