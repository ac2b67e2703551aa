//! `GET|HEAD /share/{id}/stream/{trackId}` and `/download/{trackId}`: the music server's
//! bytes passed through chunk by chunk (never a whole file in memory), with `Range`
//! forwarded and the upstream's status and length headers answered. The upstream URL
//! carries credentials, so it never appears in an answer or a log line.

use super::{admit, downloads_allowed, effective_bit_rate, live_share, tracks, upstream_error};
use crate::domain::{Share, Track};
use crate::error::ApiError;
use crate::state::AppState;
use crate::upstream::{Upstream, UpstreamError};
use actix_web::body::SizedStream;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use std::time::Duration;

/// A whole track may take long to pass through a slow client; only a stall this long ends it.
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(3600);

/// Headers of the upstream answer that the visitor gets as they are.
const PASSED_HEADERS: [header::HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::LAST_MODIFIED,
    header::ETAG,
];

pub async fn stream(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    up: web::Data<Upstream>,
) -> Result<HttpResponse, ApiError> {
    let (share, track) = requested(&req, path, &state, &up, |_| Ok(())).await?;
    let rate = effective_bit_rate(&share, &state.settings).to_string();
    let mut params = vec![("id", track.id.as_str())];
    if rate != "0" {
        params.push(("maxBitRate", rate.as_str()));
    }
    relay(&req, &up, "stream", &params, None).await
}

pub async fn download(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    up: web::Data<Upstream>,
) -> Result<HttpResponse, ApiError> {
    let allowed = |share: &Share| downloads_allowed(share, &state.settings);
    let (_, track) = requested(&req, path, &state, &up, allowed).await?;
    let disposition = attachment(&format!("{}.{}", track.title, track.suffix));
    relay(
        &req,
        &up,
        "download",
        &[("id", track.id.as_str())],
        Some(disposition),
    )
    .await
}

/// The share and track a stream or download asks for, checked on every request in
/// this order: access rules (403/429), the share (404/410), `allowed` (the download's
/// 403, before the music server is asked), then membership (404).
async fn requested(
    req: &HttpRequest,
    path: web::Path<(String, String)>,
    state: &AppState,
    up: &Upstream,
    allowed: impl FnOnce(&Share) -> Result<(), ApiError>,
) -> Result<(Share, Track), ApiError> {
    admit(req, state)?;
    let (id, track) = path.into_inner();
    let share = live_share(state, &id)?;
    allowed(&share)?;
    let track = tracks(state, up, &share)
        .await?
        .into_iter()
        .find(|t| t.id == track)
        .ok_or_else(ApiError::not_found)?;
    Ok((share, track))
}

/// Passes one upstream call through to the visitor (also used for cover art).
pub(super) async fn relay(
    req: &HttpRequest,
    up: &Upstream,
    method: &str,
    params: &[(&str, &str)],
    disposition: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let head = req.method() == Method::HEAD;
    let mut call = up
        .http()
        .request(
            if head { Method::HEAD } else { Method::GET },
            up.url(method, params),
        )
        .timeout(TRANSFER_TIMEOUT);
    for name in [header::RANGE, header::IF_RANGE] {
        if let Some(v) = req.headers().get(&name) {
            call = call.insert_header((name, v.clone()));
        }
    }
    let mut resp = call
        .send()
        .await
        .map_err(|_| upstream_error(UpstreamError::Unavailable(format!("{method} failed"))))?;
    let status = resp.status();
    let is_error_body = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json") || ct.contains("xml"));
    if is_error_body && status.is_success() {
        // Subsonic reports errors as HTTP 200 with a JSON/XML body.
        let body = if head {
            Default::default()
        } else {
            resp.body().limit(64 * 1024).await.unwrap_or_default()
        };
        return Err(match subsonic_error_code(&body) {
            Some(70 | 0) => ApiError::not_found(),
            _ => upstream_error(UpstreamError::Failed(format!("{method}: error answer"))),
        });
    }
    if !matches!(status.as_u16(), 200 | 206 | 416) {
        return Err(upstream_error(UpstreamError::Failed(format!(
            "{method}: HTTP {}",
            status.as_u16()
        ))));
    }
    let mut out =
        HttpResponse::build(StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::OK));
    for name in PASSED_HEADERS {
        if let Some(v) = resp.headers().get(&name) {
            out.insert_header((name, v.clone()));
        }
    }
    if let Some(d) = disposition {
        out.insert_header((header::CONTENT_DISPOSITION, d));
    }
    out.insert_header((header::CACHE_CONTROL, "no-store"));
    let length = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    Ok(match (head, length) {
        (true, Some(len)) => out.body(SizedStream::new(
            len,
            futures_util::stream::empty::<Result<web::Bytes, std::io::Error>>(),
        )),
        (true, None) => out.finish(),
        (false, Some(len)) => out.body(SizedStream::new(len, resp)),
        (false, None) => out.streaming(resp),
    })
}

fn subsonic_error_code(body: &[u8]) -> Option<i64> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.pointer("/subsonic-response/error/code")?.as_i64()
}

/// `attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266).
pub fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/' | ';')) || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        crate::upstream::percent_encode(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_are_safe_in_a_header() {
        let d = attachment("Café \"東京\"/x.mp3");
        assert!(
            d.starts_with("attachment; filename=\"Caf_ _____x.mp3\""),
            "{d}"
        );
        assert!(d.contains("filename*=UTF-8''Caf%C3%A9"), "{d}");
    }
}
