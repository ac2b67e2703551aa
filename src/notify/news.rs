//! What a logged event is news of for its share's owner: the kinds it counts as, and
//! what a delivery tells, kept small while it waits (the share's title and URL are
//! looked up when it is sent).

use crate::domain::{LinkId, NotifyOn, ShareId, VisitFormat};
use time::OffsetDateTime;

/// The kinds one event counts as. An owner hears of an event once, as the most telling
/// kind they asked for (`told_as`): a first visit that is also a download is one
/// notification, not two, and `X-Sharelog-Event` names the event either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Kinds(u8);

impl Kinds {
    /// Most telling first.
    const PRIORITY: [NotifyOn; 5] = [
        NotifyOn::LimitReached,
        NotifyOn::FirstVisit,
        NotifyOn::LinkRevoked,
        NotifyOn::Download,
        NotifyOn::Visit,
    ];

    fn bit(kind: NotifyOn) -> u8 {
        1 << (kind as u8)
    }

    pub fn with(self, kind: NotifyOn) -> Kinds {
        Kinds(self.0 | Kinds::bit(kind))
    }

    pub fn with_if(self, kind: NotifyOn, yes: bool) -> Kinds {
        if yes {
            self.with(kind)
        } else {
            self
        }
    }

    pub fn contains(self, kind: NotifyOn) -> bool {
        self.0 & Kinds::bit(kind) != 0
    }

    /// The kind an owner who asked for `on` hears this as, if any.
    pub fn told_as(self, on: &[NotifyOn]) -> Option<NotifyOn> {
        Kinds::PRIORITY
            .into_iter()
            .find(|k| self.contains(*k) && on.contains(k))
    }
}

/// Which visit limit a visit used up (both may be, by the same visit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    pub share: bool,
    pub link: bool,
}

/// A visit as a delivery reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub format: VisitFormat,
    pub download: bool,
    pub player: Option<Box<str>>,
}

/// One event that an owner is to hear of, waiting to be delivered. A few hundred bytes:
/// ids, the kinds, and the visit's small fields (a player name is at most 64 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct News {
    pub seq: u64,
    /// The event's id: `X-Sharelog-Event`, which a receiver can use to drop a repeat.
    pub event_id: Box<str>,
    pub at: OffsetDateTime,
    pub kinds: Kinds,
    pub spent: Spent,
    pub share: ShareId,
    pub link: Option<LinkId>,
    /// `None` for a revoked link.
    pub visit: Option<Visit>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_told_once_as_the_most_telling_kind_asked_for() {
        let k = Kinds::default()
            .with(NotifyOn::Visit)
            .with(NotifyOn::Download)
            .with(NotifyOn::FirstVisit);
        assert_eq!(
            k.told_as(&[NotifyOn::Visit, NotifyOn::Download]),
            Some(NotifyOn::Download)
        );
        assert_eq!(
            k.told_as(&NotifyOn::ALL),
            Some(NotifyOn::FirstVisit),
            "a first visit that is a download is one notification"
        );
        assert_eq!(k.told_as(&[NotifyOn::Visit]), Some(NotifyOn::Visit));
        assert_eq!(k.told_as(&[NotifyOn::LinkRevoked]), None);
        assert_eq!(Kinds::default().told_as(&NotifyOn::ALL), None);
        assert!(!k.contains(NotifyOn::LimitReached));
        assert!(k
            .with_if(NotifyOn::LimitReached, true)
            .contains(NotifyOn::LimitReached));
        assert_eq!(k.with_if(NotifyOn::LimitReached, false), k);
    }
}
