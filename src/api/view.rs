//! The share object of docs/api.md, as the owner API shows it.

use crate::domain::{Share, ShareLink};
use crate::timestamps;
use actix_web::http::header;
use actix_web::HttpResponse;
use serde_json::{json, Value};

pub fn share_json(s: &Share, public_url: &str) -> Value {
    json!({
        "id": s.id.as_str(),
        "userId": s.owner_id.0,
        "username": s.owner_name,
        "url": format!("{public_url}/share/{}", s.id),
        "description": s.description,
        "contents": s.items.contents(),
        "format": s.format.as_str(),
        "maxBitRate": s.max_bit_rate,
        "visitCount": s.visit_count,
        "previewCount": s.preview_count,
        "lastVisitedAt": timestamps::json(s.last_visited_at),
        "downloadable": s.downloadable,
        "expiresAt": timestamps::json(s.expires_at),
        "createdAt": timestamps::json(Some(s.created_at)),
        "updatedAt": timestamps::json(Some(s.updated_at)),
        // The password itself is write-only: never its hash, never its text.
        "hasPassword": s.has_password(),
        "maxVisits": s.max_visits,
    })
}

/// A recipient link as the owner API shows it.
pub fn link_json(l: &ShareLink, public_url: &str) -> Value {
    json!({
        "id": l.id.as_str(),
        "label": l.label,
        "url": format!("{public_url}/share/{}", l.id),
        "maxVisits": l.max_visits,
        "visitCount": l.visit_count,
        "previewCount": l.preview_count,
        "lastVisitedAt": timestamps::json(l.last_visited_at),
        "createdAt": timestamps::json(Some(l.created_at)),
        "revokedAt": timestamps::json(l.revoked_at),
    })
}

/// `ETag: "<version>"`.
pub fn etag(s: &Share) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{}\"", s.version))
}

pub fn share_response(
    mut builder: actix_web::HttpResponseBuilder,
    s: &Share,
    public_url: &str,
) -> HttpResponse {
    builder
        .insert_header(etag(s))
        .json(share_json(s, public_url))
}
