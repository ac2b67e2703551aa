//! `getShares`, `createShare`, `updateShare`, `deleteShare`: the same commands, through the
//! same store, as the owner API (one domain, two front doors).

use super::login::SubsonicUser;
use super::params::Params;
use super::response::{Element, Failure, Format};
use super::view;
use crate::api::request::CreateRequest;
use crate::api::share::create_command;
use crate::domain::{
    check_requested_items, Actor, Command, DeleteShare, DomainError, Format as ShareFormat, Share,
    ShareChanges, ShareId, UpdateShare, UserId,
};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::StoreError;
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
) -> HttpResponse {
    let params = Params::parse(&req, &body);
    let format = Format::from_param(params.get("f"));
    let result = async {
        let user = state
            .logins
            .login(&upstream, &state.settings.upstream.url, &params)
            .await?;
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
fn is_visible(s: &Share, user: &SubsonicUser) -> bool {
    s.is_visible_to_username(&user.username, user.is_admin)
}

/// The actor for commands by `user`: the user id their tokens carry when known (learned from
/// verified tokens, or from their earlier shares), else the username.
fn actor(state: &AppState, user: &SubsonicUser) -> Actor {
    let user_id = state.directory.user_id(&user.username).or_else(|| {
        state
            .store
            .shares()
            .all()
            .filter(|s| s.owner_name == user.username)
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
    let shares = state.store.shares();
    let mut visible: Vec<&Share> = shares.live().filter(|s| is_visible(s, user)).collect();
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
    check_requested_items(ids.len(), "id").map_err(|e| from_store(StoreError::Rejected(e)))?;
    let now = OffsetDateTime::now_utc();
    let expires_at = expires(params, now)?.flatten();
    let mut parsed = CreateRequest {
        description: params.get("description").map(String::from),
        downloadable: false,
        expires_at,
        max_bit_rate: 0,
        format: ShareFormat::Raw,
        albums: vec![],
        songs: vec![],
        playlists: vec![],
    };
    classify(upstream, ids, &mut parsed).await?;
    let cmd = create_command(upstream, actor(state, user), parsed)
        .await
        .map_err(from_api)?;
    let outcome = state.store.execute(cmd, None).await.map_err(from_store)?;
    Ok(view::shares(
        std::iter::once(&outcome.share),
        &state.settings.public_url,
    ))
}

/// Subsonic ids do not say what they name: each is tried as an album, a song, then a playlist.
async fn classify(
    upstream: &Upstream,
    ids: Vec<String>,
    into: &mut CreateRequest,
) -> Result<(), Failure> {
    for id in ids {
        let probe = |r: Result<(), UpstreamError>| match r {
            Ok(()) => Ok(true),
            Err(UpstreamError::NotFound) => Ok(false),
            Err(e) => Err(from_upstream(e)),
        };
        if probe(upstream.album(&id).await.map(drop))? {
            into.albums.push(id);
        } else if probe(upstream.song(&id).await.map(drop))? {
            into.songs.push(id);
        } else if probe(upstream.playlist(&id).await.map(drop))? {
            into.playlists.push(id);
        } else {
            return Err(Failure::new(70, format!("unknown id: {id}")));
        }
    }
    Ok(())
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
        expires_at: expires(params, OffsetDateTime::now_utc())?,
        ..ShareChanges::default()
    };
    let cmd = Command::Update(UpdateShare {
        id: share.id.clone(),
        actor: acting_owner(state, user, &share),
        expected_version: None,
        changes,
    });
    state.store.execute(cmd, None).await.map_err(from_store)?;
    Ok(Element::default())
}

async fn delete(
    state: &AppState,
    user: &SubsonicUser,
    params: &Params,
) -> Result<Element, Failure> {
    let share = owned(state, user, params)?;
    let cmd = Command::Delete(DeleteShare {
        id: share.id.clone(),
        actor: acting_owner(state, user, &share),
        expected_version: None,
    });
    state.store.execute(cmd, None).await.map_err(from_store)?;
    Ok(Element::default())
}

/// The share named by `id`, if `user` may change it; otherwise 70, as if it did not exist.
fn owned(state: &AppState, user: &SubsonicUser, params: &Params) -> Result<Share, Failure> {
    let raw = params.get("id").ok_or_else(|| Failure::missing("id"))?;
    let id = ShareId::parse(raw).ok_or_else(Failure::not_found)?;
    state
        .store
        .shares()
        .get(&id)
        .filter(|s| is_visible(s, user))
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

/// `expires` in epoch milliseconds; 0 means none. `None`: not given.
fn expires(
    params: &Params,
    now: OffsetDateTime,
) -> Result<Option<Option<OffsetDateTime>>, Failure> {
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
    if at <= now {
        return Err(Failure::new(0, "expires: must be in the future"));
    }
    Ok(Some(Some(at)))
}

fn from_upstream(e: UpstreamError) -> Failure {
    match e {
        UpstreamError::NotFound => Failure::new(70, "not found on the music server"),
        other => {
            log::warn!("upstream during a Subsonic share call: {other}");
            Failure::unavailable("the music server is unreachable; try again later")
        }
    }
}

fn from_api(e: ApiError) -> Failure {
    match e.code {
        ErrorCode::UnknownItems => Failure::new(70, e.message),
        ErrorCode::UpstreamUnavailable | ErrorCode::UpstreamError => {
            Failure::unavailable(&e.message)
        }
        _ if e.status.is_server_error() => Failure::unavailable(&e.message),
        _ => Failure::new(0, e.message),
    }
}

fn from_store(e: StoreError) -> Failure {
    match e {
        StoreError::Rejected(DomainError::NotFound) => Failure::not_found(),
        StoreError::Rejected(DomainError::Expired) => Failure::new(70, "share expired"),
        StoreError::Rejected(d) => Failure::new(0, d.to_string()),
        other => from_api(other.into()),
    }
}
