//! The share service: create, update and delete, the same for every front door.
//!
//! The owner API (`api::share`) and Subsonic (`subsonic::handlers`) parse their own
//! requests into the types here, call these functions, and map `ShareError` to their
//! own answers. What happens in between (rules before the music server is asked, the
//! lookup, a fresh id, the append) happens here and nowhere else.
//!
//! Idempotency (`Idempotency-Key`) has one rule, the store's (`IdempotencyRow::repeat`):
//! the same key and body get the first share back, another body is refused. A create
//! asks the store first, so a retry is answered without the music server (a client
//! retries most when something failed); the commit plan applies the same rule again
//! to requests in flight together, the only place that sees them both.

mod before_lookup;
mod error;
mod new_share;
mod resolve;

pub use before_lookup::check_before_lookup;
pub use error::ShareError;
pub use new_share::NewShare;

use crate::config::Settings;
use crate::domain::{Actor, Command, CreateShare, DeleteShare, ShareId, UpdateShare};
use crate::store::{Idempotency, Outcome, Store};
use crate::upstream::Upstream;
use time::OffsetDateTime;

/// Creates a share: the domain's rules on the request as sent, then every id looked up
/// on the music server, then a fresh id and the append. `items_field` names the list
/// of ids as this front door's clients know it (`albums` for the owner API, `id` for
/// Subsonic), for a refusal of their number.
pub async fn create(
    store: &Store,
    settings: &Settings,
    upstream: &Upstream,
    actor: Actor,
    mut req: NewShare,
    items_field: &'static str,
    idem: Option<Idempotency>,
) -> Result<Outcome, ShareError> {
    if let Some(i) = &idem {
        if let Some(first) = store.stored_repeat(i).await? {
            return Ok(Outcome::replayed(first));
        }
    }
    let policy = settings.policy();
    check_before_lookup(
        &req,
        &actor,
        &policy,
        items_field,
        OffsetDateTime::now_utc(),
    )?;
    resolve::classify(upstream, &mut req).await?;
    let items = resolve::items(upstream, &req).await?;
    let cmd = Command::Create(CreateShare {
        id: new_share_id()?,
        actor,
        description: req.description,
        format: req.format,
        max_bit_rate: req.max_bit_rate,
        downloadable: req.downloadable,
        expires_at: req.expires_at,
        items,
    });
    Ok(store.execute(cmd, idem).await?)
}

/// Changes the fields `cmd.changes` names; the domain refuses what breaks a rule.
pub async fn update(store: &Store, cmd: UpdateShare) -> Result<Outcome, ShareError> {
    Ok(store.execute(Command::Update(cmd), None).await?)
}

/// Deletes a share; its public link stops answering.
pub async fn delete(store: &Store, cmd: DeleteShare) -> Result<Outcome, ShareError> {
    Ok(store.execute(Command::Delete(cmd), None).await?)
}

fn new_share_id() -> Result<ShareId, ShareError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(ShareError::NoRandom)?;
    Ok(ShareId::from_random(bytes))
}
