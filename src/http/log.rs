//! One log line and one metrics sample per request, labelled by route pattern
//! (never the raw path, which carries share ids). Every label value comes from a closed
//! set, so no client can grow `/metrics` (or the log's vocabulary) by inventing values.

use crate::metrics::METRICS;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use std::time::Instant;

/// The route label of a request no route matched (every 404 of an unknown path).
const UNMATCHED: &str = "unmatched";

pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let res = next.call(req).await?;
    // Patterns come from our route table only: a closed set.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED.to_string());
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    METRICS
        .http_requests
        .with_label_values(&[method, &route, &status.to_string()])
        .inc();
    METRICS
        .http_duration
        .with_label_values(&[method, &route])
        .observe(elapsed.as_secs_f64());
    log::info!(
        "{method} {route} {status} {:.1}ms",
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(res)
}

/// The standard methods by name; anything a client made up is `other`.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        let made_up = Method::from_bytes(b"FROBNICATE").unwrap();
        assert_eq!(method_label(&made_up), "other");
        assert_eq!(method_label(&Method::GET), "GET");
    }
}
