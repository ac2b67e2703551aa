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
mod links;
mod new_share;
pub mod password;
mod read;
mod resolve;

pub use before_lookup::check_before_lookup;
pub use error::ShareError;
pub use links::{add_link, revoke_link};
pub use new_share::NewShare;
pub use password::ClearPassword;
pub use read::{history_of, live, visible, visible_one, Viewer};

use crate::config::Settings;
use crate::domain::{Actor, Command, CreateShare, DeleteShare, DomainError, ShareId, UpdateShare};
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
        if let Some(first) = store.stored_repeat(i).await?? {
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
    // Hashed last: only a create that the rules and the music server accept pays for it.
    let password = match req.password {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    let cmd = Command::Create(CreateShare {
        id: new_share_id()?,
        actor,
        description: req.description,
        format: req.format,
        max_bit_rate: req.max_bit_rate,
        downloadable: req.downloadable,
        expires_at: req.expires_at,
        items,
        password,
        max_visits: req.max_visits,
    });
    Ok(store.execute(cmd, idem).await??)
}

/// Changes the fields `cmd.changes` names, and sets (`Some(Some)`) or removes
/// (`Some(None)`) the password; the domain refuses what breaks a rule. A new password
/// is hashed only for a share the actor may change.
pub async fn update(
    store: &Store,
    mut cmd: UpdateShare,
    password: Option<Option<ClearPassword>>,
) -> Result<Outcome, ShareError> {
    match password {
        None => {}
        Some(None) => cmd.changes.password = Some(None),
        Some(Some(clear)) => {
            clear.check()?;
            let visible =
                visible_one(&store.projection(), &cmd.id, Viewer::Actor(&cmd.actor)).is_some();
            if !visible {
                return Err(ShareError::Rejected(DomainError::NotFound));
            }
            cmd.changes.password = Some(Some(password::hash(clear).await?));
        }
    }
    Ok(store.execute(Command::Update(cmd), None).await??)
}

/// Deletes a share; its public link stops answering.
pub async fn delete(store: &Store, cmd: DeleteShare) -> Result<Outcome, ShareError> {
    Ok(store.execute(Command::Delete(cmd), None).await??)
}

fn new_share_id() -> Result<ShareId, ShareError> {
    Ok(ShareId::from_random(random_bytes()?))
}

/// 128 bits from the OS for a new id.
fn random_bytes() -> Result<[u8; 16], ShareError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(ShareError::NoRandom)?;
    Ok(bytes)
}
