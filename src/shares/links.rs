//! Links per recipient: a fresh id for each, added and revoked through the store like
//! every other change (the rules are the domain's: who may, label, limit, how many).

use super::{random_bytes, ShareError};
use crate::domain::{Actor, AddLink, Command, LinkId, RevokeLink, ShareId};
use crate::store::{Outcome, Store};

/// Adds a link for one recipient (`label`) to `share`; the outcome's share holds it last.
pub async fn add_link(
    store: &Store,
    actor: Actor,
    share: ShareId,
    label: String,
    max_visits: Option<u32>,
) -> Result<Outcome, ShareError> {
    let cmd = Command::AddLink(AddLink {
        id: share,
        actor,
        link: LinkId::from_random(random_bytes()?),
        label,
        max_visits,
    });
    Ok(store.execute(cmd, None).await??)
}

/// Revokes `link` of `share`: it answers 410 from then on.
pub async fn revoke_link(
    store: &Store,
    actor: Actor,
    share: ShareId,
    link: LinkId,
) -> Result<Outcome, ShareError> {
    let cmd = Command::RevokeLink(RevokeLink {
        id: share,
        actor,
        link,
    });
    Ok(store.execute(cmd, None).await??)
}
