//! `GET|HEAD /share/{id}/stream/{trackId}` and `/download/{trackId}`: the music server's
//! bytes passed through chunk by chunk (never a whole file in memory), with `Range`
//! forwarded and the upstream's status and length headers answered. Every error is ours
//! (JSON with a code): the music server's own error pages never reach a visitor, and its
//! bytes always go out with a type we chose, `nosniff` and the sandbox (`proxied`). The
//! whole answer is bounded and ends when access does (`transfer_end`, through `pipe`). The
//! upstream URL carries credentials, so it never appears in an answer or a log line.

use super::door::Door;
use super::gate::{self, Entry, Purpose};
use super::transfer_end::{Bound, Ends};
use super::transfers::Transfer;
use super::{
    admit, answer, downloads_allowed, effective_bit_rate, pipe, proxied, start_transfer, tracks,
    upstream_error,
};
use crate::domain::{Share, Track};
use crate::error::{ApiError, ErrorCode};
use crate::upstream::{Pool, Upstream, UpstreamError};
use actix_web::body::SizedStream;
use actix_web::http::{header, Method, StatusCode};
use actix_web::rt::time::{timeout, Instant};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use std::net::IpAddr;

/// Headers of the upstream answer that the visitor gets as they are (never its
/// `Content-Type`: see `proxied`).
const PASSED_HEADERS: [header::HeaderName; 4] = [
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
) -> HttpResponse {
    let mut protected = false;
    let result = async {
        let (entry, track, ip) = requested(&req, path, &state, &up, |_| Ok(())).await?;
        protected = entry.protected();
        let transfer = start_transfer(&state, ip, &entry, false)?;
        let rate = effective_bit_rate(&entry.share, &state.settings).to_string();
        let mut params = vec![("id", track.id.as_str())];
        if rate != "0" {
            params.push(("maxBitRate", rate.as_str()));
        }
        let lane = Lane::Track(transfer, &track);
        relay(&req, &up, "stream", &params, None, lane).await
    }
    .await;
    answer(result, protected)
}

pub async fn download(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: Door,
    up: web::Data<Upstream>,
) -> HttpResponse {
    let mut protected = false;
    let result = async {
        let allowed = |share: &Share| downloads_allowed(share, &state.settings);
        let (entry, track, ip) = requested(&req, path, &state, &up, allowed).await?;
        protected = entry.protected();
        let transfer = start_transfer(&state, ip, &entry, true)?;
        let disposition = attachment(&format!("{}.{}", track.title, track.suffix));
        relay(
            &req,
            &up,
            "download",
            &[("id", track.id.as_str())],
            Some(disposition),
            Lane::Track(transfer, &track),
        )
        .await
    }
    .await;
    answer(result, protected)
}

/// The share and track a stream or download asks for, and the visitor's address, checked
/// on every request in this order: access rules (403/429), the access decision (404/410,
/// 401 without the proof a protected share needs), `allowed` (the download's 403, before
/// the music server is asked), then membership (404).
async fn requested(
    req: &HttpRequest,
    path: web::Path<(String, String)>,
    state: &Door,
    up: &Upstream,
    allowed: impl FnOnce(&Share) -> Result<(), ApiError>,
) -> Result<(Entry, Track, IpAddr), ApiError> {
    let ip = admit(req, state)?;
    let (id, track) = path.into_inner();
    let entry = gate::enter(req, state, &id, Purpose::Media, ip).await?;
    allowed(&entry.share)?;
    let track = tracks(state, up, &entry.share)
        .await?
        .into_iter()
        .find(|t| t.id == track)
        .ok_or_else(ApiError::not_found)?;
    Ok((entry, track, ip))
}

/// What a passed-through answer is, and so how it uses the music server and which type it
/// gets.
pub(super) enum Lane<'a> {
    /// A stream or download of a track: the bulk pool, holding the transfer (`transfers.rs`):
    /// the visitor's slot until the body is over, the global one until the music server has
    /// been read; both until the transfer has to end.
    Track(Transfer, &'a Track),
    /// A cover: small, page-like traffic on the metadata pool, whole within its short bound.
    Cover,
}

/// Passes one upstream call through to the visitor (streams, downloads, cover art).
pub(super) async fn relay(
    req: &HttpRequest,
    up: &Upstream,
    method: &str,
    params: &[(&str, &str)],
    disposition: Option<String>,
    lane: Lane<'_>,
) -> Result<HttpResponse, ApiError> {
    let head = req.method() == Method::HEAD;
    let forwarded = FORWARDED_HEADERS
        .iter()
        .filter_map(|name| Some((name.clone(), req.headers().get(name)?.clone())));
    let verb = if head { Method::HEAD } else { Method::GET };
    let (transfer, known) = match lane {
        Lane::Track(transfer, track) => (transfer, Some(track.content_type.as_str())),
        Lane::Cover => {
            let bound = Bound::Cover(up.whole_bound(Pool::Metadata));
            (Transfer::unslotted(Ends::from_now(bound, None)), None)
        }
    };
    // How the log names it, should it be cut off.
    let what = match (known, &disposition) {
        (None, _) => "cover",
        (Some(_), Some(_)) => "download",
        (Some(_), None) => "stream",
    };
    let pool = match known {
        Some(_) => Pool::Bulk,
        None => Pool::Metadata,
    };
    let deadline = transfer.ends.deadline();
    let opened = within(deadline, up.open(pool, verb, method, params, forwarded)).await;
    let mut resp = opened
        .unwrap_or_else(|| Err(too_late(method)))
        .map_err(upstream_error)?;
    if resp.status().as_u16() == 416 {
        return Ok(range_not_satisfiable(&resp));
    }
    within(deadline, check_is_a_file(&mut resp, up, method, head))
        .await
        .unwrap_or_else(|| Err(upstream_error(too_late(method))))?;
    let mut out = answer_head(&resp, disposition, known);
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
    let body = pipe::spawn(what, up.stall_timeout(), transfer, |outlet| async move {
        outlet.copy(&mut resp, |_| {}).await?;
        outlet.finish();
        Ok(())
    });
    Ok(match length {
        Some(len) => out.body(SizedStream::new(len, body)),
        None => out.streaming(body),
    })
}

/// `fut`, unless `deadline` passes first (`None`).
async fn within<F: std::future::Future>(deadline: Option<Instant>, fut: F) -> Option<F::Output> {
    match deadline {
        Some(deadline) => timeout(deadline.saturating_duration_since(Instant::now()), fut)
            .await
            .ok(),
        None => Some(fut.await),
    }
}

fn too_late(method: &str) -> UpstreamError {
    UpstreamError::Unavailable(format!(
        "{method}: no answer before the whole answer's bound passed"
    ))
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

/// The visitor's answer: the upstream's status and passed headers, the type we chose (a
/// track's when `known` is its type from the share's metadata, else a cover's), `nosniff`
/// and the sandbox, our disposition, never cached.
fn answer_head(
    resp: &awc::ClientResponse,
    disposition: Option<String>,
    known: Option<&str>,
) -> actix_web::HttpResponseBuilder {
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::OK);
    let mut out = HttpResponse::build(status);
    for name in PASSED_HEADERS {
        if let Some(v) = resp.headers().get(&name) {
            out.insert_header((name, v.clone()));
        }
    }
    let sent = resp.headers().get(header::CONTENT_TYPE);
    let content_type = match known {
        Some(known) => proxied::track_type(sent, known),
        None => proxied::cover_type(sent),
    };
    out.insert_header((header::CONTENT_TYPE, content_type));
    proxied::harden(&mut out);
    if let Some(d) = disposition {
        out.insert_header((header::CONTENT_DISPOSITION, d));
    }
    out.insert_header((header::CACHE_CONTROL, "no-store"));
    out
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
    // An image is never an error document, an SVG's `+xml` notwithstanding.
    if ct.starts_with("image/") {
        None
    } else if ct.contains("json") || ct.contains("xml") {
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
