//! `GET /api/share/{id}/visits?days=N`: a share's visits and previews per UTC day for
//! the last N days (today included), oldest first, every day present (docs/api.md).
//! Read from the per-day projection, never by scanning the log.

use super::principal::Principal;
use crate::domain::ShareId;
use crate::error::ApiError;
use crate::projection::days;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use time::{Duration, OffsetDateTime};

/// Days asked for when `days` is absent, and at most.
pub const DEFAULT_DAYS: u32 = 30;
pub const MAX_DAYS: u32 = 366;

pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    Principal(actor): Principal,
) -> Result<HttpResponse, ApiError> {
    let wanted = days_asked(&req)?;
    let id = ShareId::parse(&path).ok_or_else(ApiError::not_found)?;
    let shares = state.store.projection();
    // The owner or an admin, also after a delete: the history outlives the share.
    let share = crate::shares::history_of(&shares, &id, &actor).ok_or_else(ApiError::not_found)?;
    let counts = shares.days(&share.id);
    let today = days::day_of(OffsetDateTime::now_utc());
    let answer: Vec<_> = (0..wanted)
        .rev()
        .filter_map(|back| today.checked_sub(Duration::days(i64::from(back))))
        .map(|day| {
            let count = counts
                .and_then(|c| c.get(&day))
                .copied()
                .unwrap_or_default();
            json!({"day": days::text(day), "visits": count.visits, "previews": count.previews})
        })
        .collect();
    Ok(HttpResponse::Ok().json(answer))
}

/// `days` from the query: 1 to `MAX_DAYS`, `DEFAULT_DAYS` when absent.
fn days_asked(req: &HttpRequest) -> Result<u32, ApiError> {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .map_err(|_| ApiError::invalid("days", "the query string does not parse"))?;
    let Some(raw) = query.get("days") else {
        return Ok(DEFAULT_DAYS);
    };
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_DAYS).contains(n))
        .ok_or_else(|| ApiError::invalid("days", format!("a whole number from 1 to {MAX_DAYS}")))
}
