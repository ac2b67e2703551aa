//! `/livez`, `/readyz`, `/metrics`.

use crate::metrics::METRICS;
use crate::startup::AppState;
use crate::upstream::Upstream;
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::time::Duration;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Resources, not bare routes: another method gets 405 with `Allow`, not 404.
    cfg.service(web::resource("/livez").route(web::get().to(livez)))
        .service(web::resource("/readyz").route(web::get().to(readyz)))
        .service(web::resource("/metrics").route(web::get().to(metrics)));
}

async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "alive"}))
}

/// Ready once the store is open and its projections loaded (done before we bind),
/// and while it still accepts writes. The upstream is reported, never required.
async fn readyz(state: web::Data<AppState>, upstream: web::Data<Upstream>) -> HttpResponse {
    let store_ok = state.store.is_healthy();
    let reachable = matches!(
        actix_web::rt::time::timeout(Duration::from_secs(1), upstream.ping()).await,
        Ok(Ok(()))
    );
    let body = json!({
        "status": if store_ok { "ready" } else { "not-ready" },
        "store": if store_ok { "ok" } else { "failed" },
        "lastSeq": state.store.checkpoint().ok().flatten().map(|c| c.last_seq),
        "upstream": if reachable { "reachable" } else { "unreachable" },
    });
    if store_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // Read at scrape time: the one place that knows is the store's own flag.
    METRICS
        .store_writable
        .set(i64::from(state.store.is_healthy()));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(METRICS.render())
}
