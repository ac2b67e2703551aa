//! `/api/share`: list, get, create, update, delete (docs/api.md).

use super::list::ListQuery;
use super::principal::Principal;
use super::view::{share_json, share_response};
use super::{body, request, resolve};
use crate::domain::{
    decide, Command, CreateShare, DeleteShare, Policy, ShareId, ShareItems, SongItem, UpdateShare,
};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Idempotency;
use crate::upstream::Upstream;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

type Result<T> = std::result::Result<T, ApiError>;

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    Principal(actor): Principal,
) -> Result<HttpResponse> {
    let query = ListQuery::parse(req.query_string())?;
    let shares = state.store.shares();
    let mut visible: Vec<_> = shares.live().filter(|s| s.is_visible_to(&actor)).collect();
    let total = visible.len();
    query.sort(&mut visible);
    let page: Vec<_> = query
        .page(&visible)
        .iter()
        .map(|s| share_json(s, &state.settings.public_url))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", total.to_string()))
        .insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, "X-Total-Count"))
        .json(page))
}

pub async fn get(
    path: web::Path<String>,
    state: web::Data<AppState>,
    Principal(actor): Principal,
) -> Result<HttpResponse> {
    let id = ShareId::parse(&path).ok_or_else(ApiError::not_found)?;
    let share = state
        .store
        .shares()
        .get(&id)
        .filter(|s| s.is_visible_to(&actor))
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    Ok(share_response(
        HttpResponse::Ok(),
        &share,
        &state.settings.public_url,
    ))
}

pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    upstream: web::Data<Upstream>,
    Principal(actor): Principal,
) -> Result<HttpResponse> {
    let bytes = body::read(payload).await?;
    let idem = idempotency(&req, &actor.user_id.0, &bytes)?;
    if let Some(i) = &idem {
        // A repeat is answered without asking the music server again.
        if let Some(share) = state
            .store
            .idempotent_share(&i.user_id, &i.key, &i.fingerprint)?
        {
            return Ok(created(&share, &state, true));
        }
    }
    let parsed = request::CreateRequest::parse(&body::object(&bytes)?, OffsetDateTime::now_utc())?;
    check_before_lookup(&parsed, &actor, &state)?;
    let cmd = create_command(&upstream, actor, parsed).await?;
    let outcome = state.store.execute(cmd, idem).await?;
    Ok(created(&outcome.share, &state, outcome.replayed))
}

/// Runs the domain's rules on the request before the music server is asked, with each
/// requested id standing in for the item it names: a body the rules refuse (for example
/// `downloadable: true` while downloads are off) is a 400 even when the music server is
/// down. The real command is decided again, with the resolved items, when it is stored.
fn check_before_lookup(
    parsed: &request::CreateRequest,
    actor: &crate::domain::Actor,
    state: &AppState,
) -> Result<()> {
    let stand_in = |id: &String| SongItem {
        id: id.clone(),
        title: String::new(),
        artist: String::new(),
        album: String::new(),
    };
    let songs = parsed
        .albums
        .iter()
        .chain(&parsed.songs)
        .chain(&parsed.playlists)
        .map(stand_in)
        .collect();
    let cmd = Command::Create(CreateShare {
        id: ShareId::from_random([0; 16]),
        actor: actor.clone(),
        description: parsed.description.clone(),
        format: parsed.format,
        max_bit_rate: parsed.max_bit_rate,
        downloadable: parsed.downloadable,
        expires_at: parsed.expires_at,
        items: ShareItems {
            songs,
            ..Default::default()
        },
    });
    let policy = Policy {
        allow_downloads: state.settings.sharing.allow_downloads,
    };
    decide(None, &cmd, &policy, OffsetDateTime::now_utc())?;
    Ok(())
}

/// A create from either front door (owner API or Subsonic): every id checked against
/// the music server, a fresh id drawn, and the command built.
pub(crate) async fn create_command(
    upstream: &Upstream,
    actor: crate::domain::Actor,
    parsed: request::CreateRequest,
) -> Result<Command> {
    let items = resolve::items(upstream, &parsed).await?;
    Ok(Command::Create(CreateShare {
        id: new_share_id()?,
        actor,
        description: parsed.description,
        format: parsed.format,
        max_bit_rate: parsed.max_bit_rate,
        downloadable: parsed.downloadable,
        expires_at: parsed.expires_at,
        items,
    }))
}

fn created(share: &crate::domain::Share, state: &AppState, replayed: bool) -> HttpResponse {
    let mut b = HttpResponse::Created();
    b.insert_header((header::LOCATION, format!("/api/share/{}", share.id)));
    if replayed {
        b.insert_header(("Idempotent-Replayed", "true"));
    }
    share_response(b, share, &state.settings.public_url)
}

pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    Principal(actor): Principal,
) -> Result<HttpResponse> {
    let id = ShareId::parse(&path).ok_or_else(ApiError::not_found)?;
    let expected_version = if_match(&req)?;
    let bytes = body::read(payload).await?;
    let changes = request::changes(&body::object(&bytes)?, OffsetDateTime::now_utc())?;
    let cmd = Command::Update(UpdateShare {
        id,
        actor,
        expected_version,
        changes,
    });
    let outcome = state.store.execute(cmd, None).await?;
    Ok(share_response(
        HttpResponse::Ok(),
        &outcome.share,
        &state.settings.public_url,
    ))
}

pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    Principal(actor): Principal,
) -> Result<HttpResponse> {
    let id = ShareId::parse(&path).ok_or_else(ApiError::not_found)?;
    let expected_version = if_match(&req)?;
    let outcome = state
        .store
        .execute(
            Command::Delete(DeleteShare {
                id,
                actor,
                expected_version,
            }),
            None,
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(super::view::etag(&outcome.share))
        .json(serde_json::json!({"id": outcome.share.id.as_str()})))
}

/// `If-Match: "<version>"` (also bare or weak); `*` or absent means any version.
fn if_match(req: &HttpRequest) -> Result<Option<u64>> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim();
    if s == "*" {
        return Ok(None);
    }
    s.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<u64>()
        .map(Some)
        .map_err(|_| {
            ApiError::invalid(
                "If-Match",
                "must be a share version as sent in ETag, e.g. \"3\"",
            )
        })
}

fn idempotency(req: &HttpRequest, user_id: &str, body: &[u8]) -> Result<Option<Idempotency>> {
    let Some(v) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = v.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible characters",
        ));
    }
    let fingerprint = crate::hex::encode(&Sha256::digest(body));
    Ok(Some(Idempotency {
        user_id: user_id.to_string(),
        key: key.to_string(),
        fingerprint,
    }))
}

fn new_share_id() -> Result<ShareId> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        log::error!("OS random source failed: {e}");
        ApiError::internal()
    })?;
    Ok(ShareId::from_random(bytes))
}
