//! The live audit trail (docs/audit.md): `GET /api/audit` (admins) streams the
//! log as JSON Lines; `GET /api/share/{id}/history` (owner or admin) returns
//! one share's events. Sled is read on a blocking thread, never on the runtime.

use super::audit_follow::{self, Pace};
use super::principal::Principal;
use crate::domain::{Event, ShareId};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::{Filter, StoreError};
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Bytes per streamed chunk; with `CHUNKS_IN_FLIGHT` this bounds the memory of one export.
const CHUNK_BYTES: usize = 64 * 1024;
const CHUNKS_IN_FLIGHT: usize = 4;

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    share: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    since: Option<String>,
    until: Option<String>,
    after: Option<String>,
    follow: Option<String>,
}

/// A parsed `GET /api/audit` query.
struct AuditRequest {
    filter: Filter,
    /// Only events with a higher seq (0: from the start).
    after: u64,
    /// Go on with new events as they become durable.
    follow: bool,
}

impl AuditQuery {
    fn parse(self) -> Result<AuditRequest, ApiError> {
        let after = match &self.after {
            None => 0,
            // A seq is documented as a signed 64-bit integer, as JSON clients can hold it.
            Some(s) => s
                .parse::<i64>()
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::invalid("after", "must be a seq: a whole number of at least 0")
                })?,
        };
        let follow = match self.follow.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(ApiError::invalid("follow", "must be true or false")),
        };
        if follow && self.until.is_some() {
            // A live feed has no end to bound: `until` would only ever hold it open idle.
            return Err(ApiError::invalid(
                "until",
                "cannot be combined with follow=true",
            ));
        }
        Ok(AuditRequest {
            filter: self.into_filter()?,
            after,
            follow,
        })
    }

    fn into_filter(self) -> Result<Filter, ApiError> {
        let time = |field: &str, v: Option<String>| {
            v.map(|s| {
                OffsetDateTime::parse(&s, &Rfc3339)
                    .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 time"))
            })
            .transpose()
        };
        let share = self
            .share
            .map(|s| ShareId::parse(&s).ok_or_else(|| ApiError::invalid("share", "not a share id")))
            .transpose()?;
        if let Some(k) = &self.kind {
            if !Event::TYPES.contains(&k.as_str()) {
                return Err(ApiError::invalid(
                    "type",
                    format!("must be one of {}", Event::TYPES.join(", ")),
                ));
            }
        }
        Ok(Filter {
            share,
            kind: self.kind,
            since: time("since", self.since)?,
            until: time("until", self.until)?,
        })
    }
}

fn forbidden() -> ApiError {
    ApiError::new(ErrorCode::Forbidden, "the audit trail is for admins")
}

/// `GET /api/audit?share=&type=&since=&until=&after=&follow=`: `application/x-ndjson`, oldest
/// first, every durable event with a seq above `after` that the filters select; with
/// `follow=true`, then every new one as it becomes durable (`audit_follow`).
pub async fn audit(
    state: web::Data<AppState>,
    Principal(actor): Principal,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !actor.is_admin {
        return Err(forbidden());
    }
    // Parsed here, not by the extractor, so a bad query string gets the JSON error shape.
    let AuditRequest {
        filter,
        after,
        follow,
    } = web::Query::<AuditQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::invalid("query", "malformed query string (a repeated key?)"))?
        .into_inner()
        .parse()?;
    if follow {
        return start_following(&state, filter, after);
    }
    // Up to what is on disk now: a backup never holds an event a crash could take back.
    let until = state.store.durable_seq();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    let store = state.store.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut chunk = Vec::with_capacity(CHUNK_BYTES + 1024);
        for ev in store.audit_range(filter, after, until) {
            match ev {
                Ok(ev) => {
                    chunk.extend_from_slice(&ev.line);
                    chunk.push(b'\n');
                }
                Err(e) => {
                    log::error!("audit export stopped: {e}");
                    let _ = tx.blocking_send(Err(std::io::Error::other("event log read failed")));
                    return;
                }
            }
            // A send fails only when the client went away: stop reading.
            if chunk.len() >= CHUNK_BYTES
                && tx
                    .blocking_send(Ok(Bytes::from(std::mem::take(&mut chunk))))
                    .is_err()
            {
                return;
            }
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(Ok(Bytes::from(chunk)));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(body))
}

/// Attaches a follower, unless `audit.maxFollowers` are attached already (503).
fn start_following(state: &AppState, filter: Filter, after: u64) -> Result<HttpResponse, ApiError> {
    let audit = &state.settings.audit;
    let subscription = state
        .store
        .subscribe(audit.follower_buffer, audit.max_followers)
        .map_err(|e| {
            let message = match e.max {
                0 => "following the audit feed is turned off (audit.maxFollowers: 0)".to_string(),
                max => format!("{max} clients already follow the audit feed (audit.maxFollowers); try again later"),
            };
            ApiError::new(ErrorCode::TooManyFollowers, message)
        })?;
    let pace = Pace {
        heartbeat: Duration::from_secs(audit.heartbeat_seconds),
        stall: Duration::from_secs(audit.follower_timeout_seconds),
    };
    Ok(audit_follow::respond(
        state.store.clone(),
        subscription,
        filter,
        after,
        pace,
    ))
}

/// `GET /api/share/{id}/history`: the share's events as export objects, oldest first.
/// Owners see their own (deleted ones too), admins every share; anyone else gets 404.
pub async fn history(
    path: web::Path<String>,
    state: web::Data<AppState>,
    Principal(actor): Principal,
) -> Result<HttpResponse, ApiError> {
    let id = ShareId::parse(&path).ok_or_else(ApiError::not_found)?;
    let allowed = crate::shares::history_of(&state.store.projection(), &id, &actor).is_some();
    if !allowed {
        return Err(ApiError::not_found());
    }
    let store = state.store.clone();
    let events = web::block(move || -> Result<Vec<Value>, StoreError> {
        store
            .history(&id)
            .map(|ev| {
                let ev = ev?;
                serde_json::from_slice(&ev.line)
                    .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", ev.seq)))
            })
            .collect()
    })
    .await
    .map_err(|_| ApiError::internal())??;
    Ok(HttpResponse::Ok().json(events))
}
