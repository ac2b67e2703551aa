//! The one read path of "the shares this caller may see" (`visible`, `visible_one`) and
//! "the live share behind this public id" (`live`). Every front door asks here rather
//! than filtering the projection itself: the owner API, Subsonic, the owner's page and
//! the public decision (`public::gate`) see shares by the same rules.

use crate::domain::{Actor, DomainError, LinkId, Share, ShareId, ShareLink};
use crate::projection::Projection;
use time::OffsetDateTime;

/// Who is asking, as their front door proves it.
#[derive(Clone, Copy)]
pub enum Viewer<'a> {
    /// A verified token or session: a user id.
    Actor(&'a Actor),
    /// A Subsonic login: only a user name (Subsonic has no user ids).
    Named { username: &'a str, is_admin: bool },
}

impl Viewer<'_> {
    fn is_admin(&self) -> bool {
        match self {
            Viewer::Actor(a) => a.is_admin,
            Viewer::Named { is_admin, .. } => *is_admin,
        }
    }

    /// The domain's rule: a live share its owner's, or any live share for an admin.
    fn sees(&self, share: &Share) -> bool {
        match self {
            Viewer::Actor(a) => share.is_visible_to(a),
            Viewer::Named { username, is_admin } => {
                share.is_visible_to_username(username, *is_admin)
            }
        }
    }
}

/// The live shares `viewer` may see, in no particular order: every one for an admin,
/// else the owner's own, read from the projection's owner index (not every share's).
pub fn visible<'a>(shares: &'a Projection, viewer: Viewer<'_>) -> Vec<&'a Share> {
    let candidates: Box<dyn Iterator<Item = &'a Share> + 'a> = match viewer {
        _ if viewer.is_admin() => Box::new(shares.live()),
        Viewer::Actor(a) => Box::new(shares.owned_by(&a.user_id)),
        Viewer::Named { username, .. } => Box::new(shares.owned_by_name(username)),
    };
    candidates.filter(|s| viewer.sees(s)).collect()
}

/// The live share `id` if `viewer` may see it; `None` is a 404 at every door (another
/// owner's share is not told apart from one that does not exist).
pub fn visible_one<'a>(
    shares: &'a Projection,
    id: &ShareId,
    viewer: Viewer<'_>,
) -> Option<&'a Share> {
    shares.get(id).filter(|s| viewer.sees(s))
}

/// The share `id`, deleted or not, if `actor` may read its history (its owner or an
/// admin): the audit trail and the visit counts outlive the share.
pub fn history_of<'a>(shares: &'a Projection, id: &ShareId, actor: &Actor) -> Option<&'a Share> {
    shares.get(id).filter(|s| s.history_visible_to(actor))
}

/// The share behind `public_id` (its own id or a recipient link's) as a public path may
/// open it: `NotFound` unknown or deleted (for every one of its links too), `Expired`,
/// `LinkRevoked`. Passwords and limits are the public decision's, not this.
pub fn live<'a>(
    shares: &'a Projection,
    public_id: &str,
    now: OffsetDateTime,
) -> Result<(&'a Share, Option<&'a ShareLink>), DomainError> {
    let own = ShareId::parse(public_id).and_then(|id| shares.get(&id));
    let (share, link) = match own {
        Some(share) => (share, None),
        None => {
            let (share, link) = LinkId::parse(public_id)
                .and_then(|id| shares.by_link(&id))
                .ok_or(DomainError::NotFound)?;
            (share, Some(link))
        }
    };
    if share.deleted {
        return Err(DomainError::NotFound);
    }
    if share.is_expired(now) {
        return Err(DomainError::Expired);
    }
    if link.is_some_and(ShareLink::is_revoked) {
        return Err(DomainError::LinkRevoked);
    }
    Ok((share, link))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::UserId;

    fn share(n: u128, owner: &str, deleted: bool) -> Share {
        let id = ShareId::from_random(n.to_be_bytes());
        Share {
            deleted,
            ..Share::sample(id, owner, OffsetDateTime::UNIX_EPOCH)
        }
    }

    fn actor(name: &str, is_admin: bool) -> Actor {
        Actor {
            user_id: UserId(format!("u-{name}")),
            username: name.into(),
            is_admin,
        }
    }

    fn ids(mut v: Vec<&Share>) -> Vec<String> {
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v.into_iter().map(|s| s.id.as_str().to_string()).collect()
    }

    #[test]
    fn owners_see_their_live_shares_and_admins_every_live_one() {
        let mut shares = Projection::default();
        shares.put(share(1, "alice", false));
        shares.put(share(2, "alice", true));
        shares.put(share(3, "bob", false));
        let (alice, bob) = (actor("alice", false), actor("bob", false));
        let admin = actor("root", true);
        let a = ShareId::from_random(1u128.to_be_bytes());
        let b = ShareId::from_random(3u128.to_be_bytes());
        assert_eq!(
            ids(visible(&shares, Viewer::Actor(&alice))),
            vec![a.as_str()]
        );
        assert_eq!(ids(visible(&shares, Viewer::Actor(&bob))), vec![b.as_str()]);
        let named = Viewer::Named {
            username: "alice",
            is_admin: false,
        };
        assert_eq!(ids(visible(&shares, named)), vec![a.as_str()]);
        assert_eq!(visible(&shares, Viewer::Actor(&admin)).len(), 2);
        assert!(visible_one(&shares, &a, Viewer::Actor(&bob)).is_none());
        assert!(visible_one(&shares, &a, Viewer::Actor(&admin)).is_some());
        let deleted = ShareId::from_random(2u128.to_be_bytes());
        assert!(visible_one(&shares, &deleted, Viewer::Actor(&alice)).is_none());
    }

    #[test]
    fn a_public_id_opens_only_a_live_share() {
        let mut shares = Projection::default();
        shares.put(share(1, "alice", false));
        shares.put(share(2, "alice", true));
        let now = OffsetDateTime::now_utc();
        let open = ShareId::from_random(1u128.to_be_bytes());
        let gone = ShareId::from_random(2u128.to_be_bytes());
        assert!(live(&shares, open.as_str(), now).is_ok());
        assert_eq!(
            live(&shares, gone.as_str(), now).err(),
            Some(DomainError::NotFound)
        );
        assert_eq!(
            live(&shares, "nope", now).err(),
            Some(DomainError::NotFound)
        );
        let mut expired = share(3, "alice", false);
        expired.expires_at = Some(now - time::Duration::seconds(1));
        let expired_id = expired.id.clone();
        shares.put(expired);
        assert_eq!(
            live(&shares, expired_id.as_str(), now).err(),
            Some(DomainError::Expired)
        );
    }
}
