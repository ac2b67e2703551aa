//! `GET /api/share/settings`: the sharing policy as it applies to the caller, so a
//! client can offer only what a create would accept.

use super::principal::Principal;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub async fn get(state: web::Data<AppState>, Principal(actor): Principal) -> HttpResponse {
    let s = &state.settings.sharing;
    let policy = state.settings.policy();
    HttpResponse::Ok().json(json!({
        "canShare": policy.may_share(&actor),
        "allowDownloads": s.allow_downloads,
        "maxBitrate": s.max_bitrate,
        "defaultExpiresIn": s.default_expires_in,
        "maxExpiresIn": s.max_expires_in,
        "defaultDownloadable": s.default_downloadable && s.allow_downloads,
        "requirePassword": s.require_password,
    }))
}
