//! One log line and one metrics sample per request, labelled by route pattern
//! (never the raw path, which carries share ids).

use crate::metrics::METRICS;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use std::time::Instant;

pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    METRICS
        .http_requests
        .with_label_values(&[&method, &route, &status.to_string()])
        .inc();
    METRICS
        .http_duration
        .with_label_values(&[&method, &route])
        .observe(elapsed.as_secs_f64());
    log::info!(
        "{method} {route} {status} {:.1}ms",
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(res)
}
