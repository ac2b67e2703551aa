//! `GET|HEAD /share/{id}/stream/{trackId}` and `/download/{trackId}`: the music server's
//! bytes passed through chunk by chunk (never a whole file in memory), with `Range`
//! forwarded and the upstream's status and length headers answered. Every error is ours
//! (JSON with a code): the music server's own error pages never reach a visitor. The
//! upstream URL carries credentials, so it never appears in an answer or a log line.

use super::door::Door;
use super::transfers::{ClientSlot, UpstreamSlot};
use super::{
    admit, downloads_allowed, effective_bit_rate, live_share, pipe, tracks, upstream_error,
};
use crate::domain::{Share, Track};
use crate::error::{ApiError, ErrorCode};
use crate::upstream::{Pool, Upstream, UpstreamError};
use actix_web::body::SizedStream;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use std::net::IpAddr;

/// Headers of the upstream answer that the visitor gets as they are.
const PASSED_HEADERS: [header::HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::LAST_MODIFIED,
    header::ETAG,
];

/// Headers of the visitor's request that the music server gets.
const FORWARDED_HEADERS: [header::HeaderName; 2] = [header::RANGE, header::IF_RANGE];

pub async fn stream(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: Door,
    up: web::Data<Upstream>,
) -> Result<HttpResponse, ApiError> {
    let (share, track, ip) = requested(&req, path, &state, &up, |_| Ok(())).await?;
    let (client, upstream) = state.parts.transfers.admit(ip)?;
    let rate = effective_bit_rate(&share, &state.settings).to_string();
    let mut params = vec![("id", track.id.as_str())];
    if rate != "0" {
        params.push(("maxBitRate", rate.as_str()));
    }
    let lane = Lane::Transfer(client, upstream);
    relay(&req, &up, "stream", &params, None, lane).await
}

pub async fn download(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: Door,
    up: web::Data<Upstream>,
) -> Result<HttpResponse, ApiError> {
    let allowed = |share: &Share| downloads_allowed(share, &state.settings);
    let (_, track, ip) = requested(&req, path, &state, &up, allowed).await?;
    let (client, upstream) = state.parts.transfers.admit(ip)?;
    let disposition = attachment(&format!("{}.{}", track.title, track.suffix));
    relay(
        &req,
        &up,
        "download",
        &[("id", track.id.as_str())],
        Some(disposition),
        Lane::Transfer(client, upstream),
    )
    .await
}

/// The share and track a stream or download asks for, and the visitor's address, checked
/// on every request in this order: access rules (403/429), the share (404/410), `allowed`
/// (the download's 403, before the music server is asked), then membership (404).
async fn requested(
    req: &HttpRequest,
    path: web::Path<(String, String)>,
    state: &Door,
    up: &Upstream,
    allowed: impl FnOnce(&Share) -> Result<(), ApiError>,
) -> Result<(Share, Track, IpAddr), ApiError> {
    let ip = admit(req, state)?;
    let (id, track) = path.into_inner();
    let share = live_share(state, &id)?;
    allowed(&share)?;
    let track = tracks(state, up, &share)
        .await?
        .into_iter()
        .find(|t| t.id == track)
        .ok_or_else(ApiError::not_found)?;
    Ok((share, track, ip))
}

/// How a passed-through answer uses the music server.
pub(super) enum Lane {
    /// A stream or download: the bulk pool, holding the transfer's allowance
    /// (`transfers.rs`): the visitor's slot until the body is over, the global one until
    /// the music server has been read.
    Transfer(ClientSlot, UpstreamSlot),
    /// A cover: small, page-like traffic on the metadata pool, whole within its short bound.
    Small,
}

/// Passes one upstream call through to the visitor (streams, downloads, cover art).
pub(super) async fn relay(
    req: &HttpRequest,
    up: &Upstream,
    method: &str,
    params: &[(&str, &str)],
    disposition: Option<String>,
    lane: Lane,
) -> Result<HttpResponse, ApiError> {
    let head = req.method() == Method::HEAD;
    let forwarded = FORWARDED_HEADERS
        .iter()
        .filter_map(|name| Some((name.clone(), req.headers().get(name)?.clone())));
    let verb = if head { Method::HEAD } else { Method::GET };
    let pool = match lane {
        Lane::Transfer(..) => Pool::Bulk,
        Lane::Small => Pool::Metadata,
    };
    let mut resp = up
        .open(pool, verb, method, params, forwarded)
        .await
        .map_err(upstream_error)?;
    if resp.status().as_u16() == 416 {
        return Ok(range_not_satisfiable(&resp));
    }
    check_is_a_file(&mut resp, up, method, head).await?;
    let mut out = answer_head(&resp, disposition);
    let length = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if head {
        return Ok(match length {
            Some(len) => out.body(SizedStream::new(
                len,
                futures_util::stream::empty::<Result<web::Bytes, std::io::Error>>(),
            )),
            None => out.finish(),
        });
    }
    let body = copy_in_background(resp, up, lane);
    Ok(match length {
        Some(len) => out.body(SizedStream::new(len, body)),
        None => out.streaming(body),
    })
}

/// Refuses an answer that is not the file: an error document or page, or a status other
/// than 200/206. A Subsonic "not found" (70, or 0 for a malformed id) is our 404.
async fn check_is_a_file(
    resp: &mut awc::ClientResponse,
    up: &Upstream,
    method: &str,
    head: bool,
) -> Result<(), ApiError> {
    if let Some(kind) = error_body_kind(resp) {
        // Subsonic reports errors as HTTP 200 with a JSON/XML body; a proxy in front of it
        // may answer an HTML page. Neither is a file.
        let body = match (head, kind) {
            (false, ErrorBody::Subsonic) => {
                actix_web::rt::time::timeout(up.stall_timeout(), resp.body().limit(64 * 1024))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default()
            }
            _ => Default::default(),
        };
        return Err(match crate::upstream::protocol::body_error_code(&body) {
            Some(70 | 0) => ApiError::not_found(),
            _ => upstream_error(UpstreamError::Failed(format!("{method}: error answer"))),
        });
    }
    let status = resp.status().as_u16();
    if !matches!(status, 200 | 206) {
        return Err(upstream_error(UpstreamError::Failed(format!(
            "{method}: HTTP {status}"
        ))));
    }
    Ok(())
}

/// The visitor's answer: the upstream's status and passed headers, our disposition,
/// never cached.
fn answer_head(
    resp: &awc::ClientResponse,
    disposition: Option<String>,
) -> actix_web::HttpResponseBuilder {
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::OK);
    let mut out = HttpResponse::build(status);
    for name in PASSED_HEADERS {
        if let Some(v) = resp.headers().get(&name) {
            out.insert_header((name, v.clone()));
        }
    }
    if let Some(d) = disposition {
        out.insert_header((header::CONTENT_DISPOSITION, d));
    }
    out.insert_header((header::CACHE_CONTROL, "no-store"));
    out
}

/// Copies the upstream body into a bounded pipe whose other end is the visitor's body.
/// The transfer slots of `lane` are held until the copy ends.
fn copy_in_background(
    mut resp: awc::ClientResponse,
    up: &Upstream,
    lane: Lane,
) -> impl futures_util::Stream<Item = std::io::Result<web::Bytes>> + 'static {
    let (client_slot, upstream_slot) = match lane {
        Lane::Transfer(client, upstream) => (Some(client), Some(upstream)),
        Lane::Small => (None, None),
    };
    let (outlet, body) = pipe::pipe(up.stall_timeout(), client_slot);
    // The awc client is per worker (not Send), so the copy runs on this worker's thread.
    actix_web::rt::spawn(async move {
        let _upstream_slot = upstream_slot;
        match outlet.copy(&mut resp, |_| {}).await {
            Ok(_) => outlet.finish(),
            Err(e) => log::info!("transfer cut off: {e}"),
        }
    });
    body
}

enum ErrorBody {
    /// A Subsonic error document (JSON or XML), read for its code.
    Subsonic,
    /// Anything else that is not a file: an HTML page.
    Page,
}

/// Whether a successful-looking answer is in fact an error document.
fn error_body_kind(resp: &awc::ClientResponse) -> Option<ErrorBody> {
    if !resp.status().is_success() {
        return None;
    }
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.contains("json") || ct.contains("xml") {
        Some(ErrorBody::Subsonic)
    } else if ct.starts_with("text/html") {
        Some(ErrorBody::Page)
    } else {
        None
    }
}

/// Our 416 for a range past the end, keeping the music server's `Content-Range`
/// (`bytes */SIZE`) so the visitor learns the size; its body is never passed on.
fn range_not_satisfiable(resp: &awc::ClientResponse) -> HttpResponse {
    let mut out = ApiError::new(
        ErrorCode::RangeNotSatisfiable,
        "the requested range is outside the file",
    )
    .error_response();
    if let Some(v) = resp.headers().get(header::CONTENT_RANGE) {
        out.headers_mut().insert(header::CONTENT_RANGE, v.clone());
    }
    out
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
