//! `getShares`, `createShare`, `updateShare`, `deleteShare`: the same commands, through the
//! same store, as the owner API (one domain, two front doors).

use super::login::{Logins, SubsonicUser};
use super::params::Params;
use super::response::{Element, Failure, Format};
use super::view;
use crate::domain::{
    Actor, DeleteShare, DomainError, Format as ShareFormat, Share, ShareChanges, ShareId,
    UpdateShare, UserId,
};
use crate::shares::{self, NewShare, ShareError, Viewer};
use crate::state::AppState;
use crate::upstream::{Upstream, UpstreamError};
use actix_web::{web, HttpRequest, HttpResponse};
use time::OffsetDateTime;

#[derive(Clone, Copy)]
pub enum Op {
    List,
    Create,
    Update,
    Delete,
}

/// Parses, logs in, runs `op`, and answers in the format the client asked for.
pub async fn serve(
    op: Op,
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    upstream: web::Data<Upstream>,
    logins: web::Data<Logins>,
) -> HttpResponse {
    let params = Params::parse(&req, &body);
    let format = Format::from_param(params.get("f"));
    let result = async {
        let user = logins.login(&upstream, &params).await?;
        match op {
            Op::List => Ok(list(&state, &user)),
            Op::Create => create(&state, &upstream, &user, &params).await,
            Op::Update => update(&state, &user, &params).await,
            Op::Delete => delete(&state, &user, &params).await,
        }
    }
    .await;
    match result {
        Ok(body) => format.ok(body),
        Err(f) => format.fail(f),
    }
}

/// Ownership is matched by username on this door: a Subsonic login proves a username, not
/// Navidrome's user id (docs/subsonic.md, "Ownership").
/// How a Subsonic login is seen by the one read path: by name (Subsonic has no user ids).
fn viewer(user: &SubsonicUser) -> Viewer<'_> {
    Viewer::Named {
        username: &user.username,
        is_admin: user.is_admin,
    }
}

/// The actor for commands by `user`: the user id their tokens carry when known (learned from
/// verified tokens, or from their earlier shares), else the username. Also the owner page's
/// rule for a session that proved only a username (`api::principal`).
pub(crate) fn actor(state: &AppState, user: &SubsonicUser) -> Actor {
    let user_id = state.directory.user_id(&user.username).or_else(|| {
        state
            .store
            .projection()
            .owned_by_name(&user.username)
            .max_by_key(|s| s.created_at)
            .map(|s| s.owner_id.clone())
    });
    Actor {
        user_id: user_id.unwrap_or_else(|| UserId(user.username.clone())),
        username: user.username.clone(),
        is_admin: user.is_admin,
    }
}

fn list(state: &AppState, user: &SubsonicUser) -> Element {
    let shares = state.store.projection();
    let mut visible = shares::visible(&shares, viewer(user));
    visible.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    view::shares(visible.into_iter(), &state.settings.public_url)
}

async fn create(
    state: &AppState,
    upstream: &Upstream,
    user: &SubsonicUser,
    params: &Params,
) -> Result<Element, Failure> {
    let ids = params.all("id");
    if ids.is_empty() {
        return Err(Failure::missing("id"));
    }
    let req = NewShare {
        description: params.get("description").map(String::from),
        // Subsonic names neither: the policy's defaults (`sharing.defaultDownloadable`).
        downloadable: None,
        expires_at: expires(params)?.flatten(),
        max_bit_rate: 0,
        format: ShareFormat::Raw,
        password: None,
        max_visits: None,
        albums: vec![],
        songs: vec![],
        playlists: vec![],
        artists: vec![],
        unsorted: ids,
    };
    let outcome = shares::create(
        &state.store,
        &state.settings,
        upstream,
        actor(state, user),
        req,
        "id",
        None,
    )
    .await
    .map_err(failure)?;
    Ok(view::shares(
        std::iter::once(&outcome.share),
        &state.settings.public_url,
    ))
}

async fn update(
    state: &AppState,
    user: &SubsonicUser,
    params: &Params,
) -> Result<Element, Failure> {
    let share = owned(state, user, params)?;
    let description = params
        .has("description")
        .then(|| params.get("description").map(String::from));
    let changes = ShareChanges {
        description,
        expires_at: expires(params)?,
        ..ShareChanges::default()
    };
    let cmd = UpdateShare {
        id: share.id.clone(),
        actor: acting_owner(state, user, &share),
        expected_version: None,
        changes,
    };
    shares::update(&state.store, cmd, None)
        .await
        .map_err(failure)?;
    Ok(Element::default())
}

async fn delete(
    state: &AppState,
    user: &SubsonicUser,
    params: &Params,
) -> Result<Element, Failure> {
    let share = owned(state, user, params)?;
    let cmd = DeleteShare {
        id: share.id.clone(),
        actor: acting_owner(state, user, &share),
        expected_version: None,
    };
    shares::delete(&state.store, cmd).await.map_err(failure)?;
    Ok(Element::default())
}

/// The share named by `id`, if `user` may change it; otherwise 70, as if it did not exist.
fn owned(state: &AppState, user: &SubsonicUser, params: &Params) -> Result<Share, Failure> {
    let raw = params.get("id").ok_or_else(|| Failure::missing("id"))?;
    let id = ShareId::parse(raw).ok_or_else(Failure::not_found)?;
    shares::visible_one(&state.store.projection(), &id, viewer(user))
        .cloned()
        .ok_or_else(Failure::not_found)
}

/// The owner acts under the share's recorded user id, so the domain's ownership rule holds.
fn acting_owner(state: &AppState, user: &SubsonicUser, share: &Share) -> Actor {
    if share.owner_name == user.username {
        Actor {
            user_id: share.owner_id.clone(),
            username: user.username.clone(),
            is_admin: user.is_admin,
        }
    } else {
        actor(state, user)
    }
}

/// `expires` in epoch milliseconds; 0 means none. `None`: not given. Whether it lies in
/// the future is the domain's rule, run by the share service.
fn expires(params: &Params) -> Result<Option<Option<OffsetDateTime>>, Failure> {
    let Some(raw) = params.get("expires") else {
        return Ok(None);
    };
    let ms: i64 = raw
        .trim()
        .parse()
        .map_err(|_| Failure::new(0, "expires: epoch milliseconds expected"))?;
    if ms == 0 {
        return Ok(Some(None));
    }
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| Failure::new(0, "expires: out of range"))?;
    Ok(Some(Some(at)))
}

/// A share service failure as a Subsonic error: 70 for what does not exist, 50 for a
/// user the policy does not let share, 0 for a request the rules refuse, and
/// "unavailable" for the music server or the log.
fn failure(e: ShareError) -> Failure {
    match e {
        ShareError::Rejected(DomainError::NotFound) => Failure::not_found(),
        ShareError::Rejected(DomainError::SharingNotAllowed) => {
            Failure::new(50, DomainError::SharingNotAllowed.to_string())
        }
        ShareError::Rejected(DomainError::Expired) => Failure::new(70, "share expired"),
        ShareError::Rejected(d) => Failure::new(0, d.to_string()),
        ShareError::UnknownItems(ids) => {
            Failure::new(70, format!("unknown id: {}", ids.join(", ")))
        }
        ShareError::IdempotencyKeyReused => Failure::new(0, e.to_string()),
        // sharelog's own login refused: a setting to fix, named with its fix.
        ShareError::Upstream(u @ UpstreamError::Refused(_)) => {
            log::warn!("upstream during a Subsonic share call: {u}");
            Failure::misconfigured(u.to_string())
        }
        ShareError::Upstream(u) => {
            log::warn!("upstream during a Subsonic share call: {u}");
            Failure::unavailable("the music server is unreachable; try again later")
        }
        ShareError::Store(_) => {
            log::error!("store during a Subsonic share call: {e}");
            Failure::unavailable("the event log is not available")
        }
        ShareError::NoRandom(_) | ShareError::Hashing(_) => {
            log::error!("{e}");
            Failure::unavailable("internal error")
        }
    }
}
