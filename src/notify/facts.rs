//! What the log before a visit says about it that the visit alone does not: whether it
//! was the first of its share or of its recipient link, and whether it used up a visit
//! limit. Exact, from the share's own stream folded with the domain's `apply` (the one
//! rule of counting), never from the projection (which is "now", not "then") and never
//! a scan of the whole log.
//!
//! A fold per share, kept for at most `MAX_SHARES` shares (the oldest goes first). The
//! worker hands every event it reads for the first time to `advance`, so a kept fold
//! stays current at no cost; an event older than a fold is looked up among the fold's
//! notable versions (firsts, used-up limits: a few per share); a share not kept is
//! folded from its stream up to the event asked about, once.

use super::news::Spent;
use crate::domain::{apply, Event, LinkId, Share, ShareId, ShareItems};
use crate::store::{Envelope, Store, StoreError};
use std::collections::{HashMap, VecDeque};
use time::OffsetDateTime;

/// Shares whose fold is kept. A fold is the share without its items (about 1 KiB, and
/// about 200 bytes more per recipient link, of which a share has at most 100).
pub const MAX_SHARES: usize = 1024;

/// What one visit was, as its share's stream before it says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitFacts {
    /// The first visit through the share's own link, or the first through the recipient
    /// link it came by: each link the owner handed out tells its first opening once.
    pub first: bool,
    pub spent: Spent,
}

impl VisitFacts {
    fn is_notable(self) -> bool {
        self.first || self.spent.share || self.spent.link
    }
}

/// One share's stream folded up to a version, and the notable visits up to it.
#[derive(Default)]
struct Fold {
    share: Option<Share>,
    notable: Vec<(u64, VisitFacts)>,
}

impl Fold {
    fn version(&self) -> u64 {
        self.share.as_ref().map_or(0, |s| s.version)
    }

    fn facts_at(&self, version: u64) -> VisitFacts {
        self.notable
            .iter()
            .find(|(v, _)| *v == version)
            .map_or(VisitFacts::default(), |(_, f)| *f)
    }

    /// Folds in the event at `version` (the next one), noting what a visit was.
    fn apply(&mut self, id: &ShareId, version: u64, event: &Event, at: OffsetDateTime) {
        let facts = match (&self.share, event) {
            (Some(before), Event::ShareVisited(v)) => Some(Before::of(before, v.link.as_ref())),
            _ => None,
        };
        self.share = apply(self.share.take(), id, event, at).map(|mut s| {
            // Nothing later reads them, and a playlist's snapshot can be long.
            s.items = ShareItems::default();
            s
        });
        let (Some(before), Some(after), Event::ShareVisited(v)) = (facts, &self.share, event)
        else {
            return;
        };
        let now = Before::of(after, v.link.as_ref());
        let found = VisitFacts {
            // Not `share.visit_count == 0`: a recipient's visit would then stand for the
            // share's own link too, and its first opening would never be told.
            first: match before.link_visits {
                Some(n) => n == 0,
                None => v.link.is_none() && before.own_visits == 0,
            },
            spent: Spent {
                share: !before.share_spent && now.share_spent,
                link: !before.link_spent && now.link_spent,
            },
        };
        if found.is_notable() {
            self.notable.push((version, found));
        }
    }
}

/// The counts a visit's facts compare, before and after it.
struct Before {
    /// Visits through the share's own link: the share's count holds its links' too.
    own_visits: u64,
    share_spent: bool,
    link_visits: Option<u64>,
    link_spent: bool,
}

impl Before {
    fn of(share: &Share, link: Option<&LinkId>) -> Before {
        let link = link.and_then(|l| share.link(l));
        let through_links: u64 = share.links.iter().map(|l| l.visit_count).sum();
        Before {
            own_visits: share.visit_count.saturating_sub(through_links),
            share_spent: share.is_spent(),
            link_visits: link.map(|l| l.visit_count),
            link_spent: link.is_some_and(|l| l.is_spent()),
        }
    }
}

/// The folds kept, oldest first in `order`.
#[derive(Default)]
pub struct Facts {
    folds: HashMap<ShareId, Fold>,
    order: VecDeque<ShareId>,
}

impl Facts {
    /// Takes in an event read for the first time, in seq order: a kept fold that is
    /// just before it moves on (the others are folded again when asked about).
    pub fn advance(&mut self, id: &ShareId, env: &Envelope) {
        if let Some(fold) = self.folds.get_mut(id) {
            if fold.version() + 1 == env.version {
                fold.apply(id, env.version, &env.event, env.at);
            }
        }
    }

    /// What the visit at `version` of share `id` was (blocking: it may read the stream).
    pub fn visit(
        &mut self,
        store: &Store,
        id: &ShareId,
        version: u64,
    ) -> Result<VisitFacts, StoreError> {
        if !self.folds.contains_key(id) {
            self.keep(id.clone());
        }
        let Some(fold) = self.folds.get_mut(id) else {
            return Ok(VisitFacts::default());
        };
        if fold.version() < version {
            fold_stream(store, id, fold, version)?;
        }
        Ok(fold.facts_at(version))
    }

    fn keep(&mut self, id: ShareId) {
        while self.order.len() >= MAX_SHARES {
            if let Some(old) = self.order.pop_front() {
                self.folds.remove(&old);
            }
        }
        self.order.push_back(id.clone());
        self.folds.insert(id, Fold::default());
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.folds.len()
    }
}

/// Folds the share's stream on from where `fold` is, up to `until` (its events up to
/// there are durable: the event asked about is).
fn fold_stream(store: &Store, id: &ShareId, fold: &mut Fold, until: u64) -> Result<(), StoreError> {
    for raw in store.history(id) {
        let raw = raw?;
        let version = raw.header()?.version;
        if version <= fold.version() {
            continue;
        }
        if version > until {
            break;
        }
        let env = raw.decode()?;
        fold.apply(id, env.version, &env.event, env.at);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
