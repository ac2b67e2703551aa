//! `/api/share`: list, get, create, update, delete (docs/api.md).

use super::list::ListQuery;
use super::principal::Principal;
use super::view::{share_json, share_response};
use super::{body, request};
use crate::domain::{DeleteShare, ShareId, UpdateShare};
use crate::error::ApiError;
use crate::shares::{self, Viewer};
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
    let shares = state.store.projection();
    let mut visible = shares::visible(&shares, Viewer::Actor(&actor));
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
    let share = shares::visible_one(&state.store.projection(), &id, Viewer::Actor(&actor))
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
    let parsed = request::new_share(&body::object(&bytes)?, OffsetDateTime::now_utc())?;
    let outcome = shares::create(
        &state.store,
        &state.settings,
        &upstream,
        actor,
        parsed,
        "albums",
        idem,
    )
    .await?;
    Ok(created(&outcome.share, &state, outcome.replayed))
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
    let update = request::changes(&body::object(&bytes)?, OffsetDateTime::now_utc())?;
    let cmd = UpdateShare {
        id,
        actor,
        expected_version,
        changes: update.changes,
    };
    let outcome = shares::update(&state.store, cmd, update.password).await?;
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
    let cmd = DeleteShare {
        id,
        actor,
        expected_version,
    };
    let outcome = shares::delete(&state.store, cmd).await?;
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

/// The `Idempotency-Key` header, scoped to the user, with a digest of the body. Only read
/// here: whether it repeats an earlier create is decided by the store's committer (see
/// `crate::shares`). A body with a password is digested without it: the digest is kept
/// on disk, and a fast hash of a short password is one a guess can be checked against.
/// So a repeat that differs only in its password is a repeat (docs/decisions.md).
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
    let fingerprint = crate::hex::encode(&Sha256::digest(without_password(body)));
    Ok(Some(Idempotency {
        user_id: user_id.to_string(),
        key: key.to_string(),
        fingerprint,
    }))
}

/// `body` as it is digested for an idempotency key: with any `password` member dropped
/// (re-serialized then; a body that is not a JSON object is digested as it came, and is
/// refused later anyway).
fn without_password(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut m)) if m.contains_key("password") => {
            m.remove("password");
            serde_json::to_vec(&m).map_or(std::borrow::Cow::Borrowed(body), Into::into)
        }
        _ => std::borrow::Cow::Borrowed(body),
    }
}
