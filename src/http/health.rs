//! `/livez`, `/readyz`, `/metrics`.

use crate::metrics::METRICS;
use crate::state::AppState;
use crate::upstream::{Upstream, UpstreamError};
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::time::Duration;

/// How long `/readyz` waits for the music server's ping.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

pub(crate) async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "alive"}))
}

/// Ready once the store is open and its projections loaded (done before we bind),
/// and while it still accepts writes. The upstream is reported, never required.
pub(crate) async fn readyz(
    state: web::Data<AppState>,
    upstream: web::Data<Upstream>,
) -> HttpResponse {
    let store_ok = state.store.is_healthy();
    let (upstream, upstream_error) = upstream_report(&upstream).await;
    let body = json!({
        "status": if store_ok { "ready" } else { "not-ready" },
        "store": if store_ok { "ok" } else { "failed" },
        "engine": state.store.engine(),
        "lastSeq": state.store.checkpoint().ok().flatten().map(|c| c.last_seq),
        "upstream": upstream,
        "upstreamError": upstream_error,
    });
    if store_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// The music server as a ping with sharelog's credentials finds it: `reachable`,
/// `unauthorized` (it answers, and refuses our login: a setting to fix) or `unreachable`;
/// and, unless reachable, what went wrong, in the words of the log (never a URL).
async fn upstream_report(upstream: &Upstream) -> (&'static str, Option<String>) {
    match actix_web::rt::time::timeout(PING_TIMEOUT, upstream.ping()).await {
        Ok(Ok(())) => ("reachable", None),
        Ok(Err(e @ UpstreamError::Refused(_))) => ("unauthorized", Some(e.to_string())),
        Ok(Err(e)) => ("unreachable", Some(e.to_string())),
        Err(_) => (
            "unreachable",
            Some(format!(
                "music server unavailable: no answer within {} s",
                PING_TIMEOUT.as_secs()
            )),
        ),
    }
}

pub(crate) async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // Read at scrape time: the one place that knows is the store's own flag.
    METRICS
        .store_writable
        .set(i64::from(state.store.is_healthy()));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(METRICS.render())
}
