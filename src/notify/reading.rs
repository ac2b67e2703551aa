//! The worker's reading side: from the log's events to the news each owner is to hear,
//! handed to the outbox in seq order.

use super::delivery::mark_name;
use super::news::{Kinds, News, Spent, Visit};
use super::worker::{Round, CHUNK, CHUNKS_PER_ROUND};
use crate::domain::{Event, NotifyOn, ShareId, StreamId, UserId};
use crate::store::{Envelope, Filter, StoreError};

impl Round {
    /// Reads the log where the outbox says, up to the durable seq, a few chunks at most.
    pub(super) fn read(&mut self) -> Result<(), StoreError> {
        let durable = self.store.durable_seq();
        for _ in 0..CHUNKS_PER_ROUND {
            let Some(outbox) = &self.outbox else {
                return Ok(());
            };
            let from = outbox.read_from();
            if from > durable {
                return Ok(());
            }
            let until = durable.min(from + CHUNK - 1);
            for raw in self.store.audit_range(Filter::default(), from - 1, until) {
                let env = raw?.decode()?;
                self.take(&env)?;
            }
        }
        Ok(())
    }

    pub(super) fn take(&mut self, env: &Envelope) -> Result<(), StoreError> {
        let fresh = self.outbox.as_ref().is_some_and(|o| env.seq > o.read_to());
        if let (true, StreamId::Share(id)) = (fresh, &env.stream) {
            self.facts.advance(id, env);
        }
        let news = self.news_of(env)?;
        if let Some((owner, _)) = &news {
            self.load_mark(owner)?;
        }
        if let Some(outbox) = &mut self.outbox {
            outbox.take(env.seq, news);
        }
        Ok(())
    }

    /// What `env` tells its share's owner, with their settings as they are now.
    pub(super) fn news_of(&mut self, env: &Envelope) -> Result<Option<(UserId, News)>, StoreError> {
        let StreamId::Share(id) = &env.stream else {
            return Ok(None);
        };
        let (link, visit, mut kinds) = match &env.event {
            Event::ShareVisited(v) => (
                v.link.clone(),
                Some(Visit {
                    format: v.format,
                    download: v.download,
                    player: v.player.as_deref().map(Box::from),
                }),
                Kinds::default()
                    .with(NotifyOn::Visit)
                    .with_if(NotifyOn::Download, v.download),
            ),
            Event::ShareLinkRevoked(l) => (
                Some(l.link.clone()),
                None,
                Kinds::default().with(NotifyOn::LinkRevoked),
            ),
            // Previews and every other event are no news.
            _ => return Ok(None),
        };
        let Some((owner, on)) = self.wants(id) else {
            return Ok(None);
        };
        let mut spent = Spent::default();
        let asks_facts = on.contains(&NotifyOn::FirstVisit) || on.contains(&NotifyOn::LimitReached);
        if visit.is_some() && asks_facts {
            let facts = self.facts.visit(&self.store, id, env.version)?;
            kinds = kinds.with_if(NotifyOn::FirstVisit, facts.first).with_if(
                NotifyOn::LimitReached,
                facts.spent.share || facts.spent.link,
            );
            spent = facts.spent;
        }
        if kinds.told_as(&on).is_none() {
            return Ok(None);
        }
        Ok(Some((
            owner,
            News {
                seq: env.seq,
                event_id: env.id.as_str().into(),
                at: env.at,
                kinds,
                spent,
                share: id.clone(),
                link,
                visit,
            },
        )))
    }

    /// The owner of share `id` and what they ask to hear of, if they have notifications on.
    pub(super) fn wants(&self, id: &ShareId) -> Option<(UserId, Vec<NotifyOn>)> {
        let shares = self.store.projection();
        let owner = shares.get(id)?.owner_id.clone();
        let on = shares.owner(&owner)?.notify.as_ref()?.on.clone();
        Some((owner, on))
    }

    pub(super) fn load_mark(&mut self, owner: &UserId) -> Result<(), StoreError> {
        let Some(outbox) = &mut self.outbox else {
            return Ok(());
        };
        if !outbox.knows_mark(owner) {
            let mark = self.store.cursor(&mark_name(owner))?;
            outbox.set_mark(owner, mark);
        }
        Ok(())
    }
}
