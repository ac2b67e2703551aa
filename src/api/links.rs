//! `/api/share/{id}/links`: a link per recipient (docs/api.md). The share's owner (or
//! an admin) adds, lists and revokes them; the rules are the domain's.

use super::body::{self, Fields};
use super::principal::Principal;
use super::request::max_visits;
use super::view::{etag, link_json};
use crate::domain::{LinkId, Share, ShareId};
use crate::error::ApiError;
use crate::shares::{self, Viewer};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

type Result<T> = std::result::Result<T, ApiError>;

fn share_id(raw: &str) -> Result<ShareId> {
    ShareId::parse(raw).ok_or_else(ApiError::not_found)
}

/// `GET`: every link of the share, oldest first, revoked ones included.
pub async fn list(
    path: web::Path<String>,
    state: web::Data<AppState>,
    Principal(actor): Principal,
) -> Result<HttpResponse> {
    let id = share_id(&path)?;
    let shares = state.store.projection();
    let share =
        shares::visible_one(&shares, &id, Viewer::Actor(&actor)).ok_or_else(ApiError::not_found)?;
    let links: Vec<_> = share
        .links
        .iter()
        .map(|l| link_json(l, &state.settings.public_url))
        .collect();
    Ok(HttpResponse::Ok().insert_header(etag(share)).json(links))
}

/// `POST {"label", "maxVisits"?}`: 201 with the new link.
pub async fn add(
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    Principal(actor): Principal,
) -> Result<HttpResponse> {
    let id = share_id(&path)?;
    let bytes = body::read(payload).await?;
    let m = body::object(&bytes)?;
    let f = Fields(&m);
    let label = f
        .string("label")?
        .ok_or_else(|| ApiError::invalid("label", "is required: who the link is for"))?;
    let max_visits = max_visits(&f)?.flatten();
    let outcome = shares::add_link(&state.store, actor, id, label, max_visits).await?;
    let link = newest_link(&outcome.share)?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/share/{}/links/{}", outcome.share.id, link.id),
        ))
        .insert_header(etag(&outcome.share))
        .json(link_json(link, &state.settings.public_url)))
}

/// `DELETE /{linkId}`: the link answers 410 from then on.
pub async fn revoke(
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    Principal(actor): Principal,
) -> Result<HttpResponse> {
    let (id, link) = path.into_inner();
    let id = share_id(&id)?;
    let link = LinkId::parse(&link).ok_or_else(ApiError::not_found)?;
    let outcome = shares::revoke_link(&state.store, actor, id, link.clone()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(&outcome.share))
        .json(serde_json::json!({"id": link.as_str()})))
}

/// The link an `AddLink` just appended.
fn newest_link(share: &Share) -> Result<&crate::domain::ShareLink> {
    share.links.last().ok_or_else(ApiError::internal)
}
