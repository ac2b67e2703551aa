//! `GET|HEAD /share/{id}`: the share as raw JSON, an M3U playlist, the HTML page for people
//! (negotiated, see `negotiate`), or (`?download=true`) a zip.
//! Order matters: check, resolve the tracks, append the visit, then answer; so a failed
//! request is never counted and a counted one always gets its answer.

use super::cache::Tracks;
use super::door::Door;
use super::page_formats::{m3u, raw};
use super::page_headers::{self, Framing};
use super::rendered::Body;
use super::{
    admit, downloads_allowed, flatten, live_share, negotiate, page_error, page_html, preview,
    start_transfer, track_lists, visit, zip,
};
use crate::domain::{Format, Share, VisitFormat, VisitKind};
use crate::error::ApiError;
use crate::upstream::Upstream;
use actix_web::http::{header, StatusCode};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;

#[derive(Deserialize, Default)]
struct PageQuery {
    format: Option<String>,
    player: Option<String>,
    download: Option<String>,
    embed: Option<String>,
}

struct Wanted {
    /// The body asked for; `None` = the share's own format.
    body: Option<Body>,
    download: bool,
    player: Option<String>,
}

impl Wanted {
    fn body(&self, share: &Share) -> Body {
        self.body.unwrap_or_else(|| share.format.into())
    }
}

fn flag(value: Option<&str>, field: &str) -> Result<bool, ApiError> {
    match value {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid(field, "must be true or false")),
    }
}

/// What the request asks for: `format` and `embed` first, then the `Accept` header. A
/// link-preview bot gets the page whatever it accepts: its tags are what the bot reads.
fn wanted(req: &HttpRequest, state: &Door) -> Result<Wanted, ApiError> {
    let q = web::Query::<PageQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::invalid("query", "cannot parse the query string"))?
        .into_inner();
    let embed = flag(q.embed.as_deref(), "embed")?;
    let download = flag(q.download.as_deref(), "download")?;
    let html = if embed { Body::Embed } else { Body::Page };
    let body = match q.format.as_deref() {
        Some("html") => Some(html),
        Some(f) if !f.is_empty() => Some(
            Format::parse(f)
                .ok_or_else(|| ApiError::invalid("format", "must be raw, m3u or html"))?
                .into(),
        ),
        _ => {
            let accept = header_str(req, "accept");
            let bot = state.parts.previews.is_bot(header_str(req, "user-agent"));
            (embed || bot || negotiate::prefers_html(accept)).then_some(html)
        }
    };
    Ok(Wanted {
        body,
        download,
        player: q.player,
    })
}

pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: Door,
    up: web::Data<Upstream>,
) -> HttpResponse {
    let answer = async {
        let ip = admit(&req, &state)?;
        let share = live_share(&state, &path)?;
        let want = wanted(&req, &state)?;
        if want.download {
            downloads_allowed(&share, &state.settings)?;
        }
        let lists = track_lists(&state, &up, &share).await?;
        let kind = want.body(&share);
        // Rendered (or found), or the zip's first file opened, before the visit is appended:
        // a failure here is not a visit.
        let (body, zip) = match want.download {
            true => {
                let slots = start_transfer(&state, ip, &share, true)?;
                let tracks = flatten(&share, &lists);
                let first = zip::open_first(&up, &tracks).await?;
                (None, Some((tracks, first, slots)))
            }
            false => {
                let shown = shown_token(&req, &state, &share, kind);
                (Some(body(&state, &share, &lists, kind, shown)), None)
            }
        };
        visit::record(
            &state,
            &req,
            share.id.clone(),
            ip,
            visit_format(kind),
            want.download,
            want.player.as_deref(),
            visit_kind(&req, &state),
        )
        .await?;
        match (body, zip) {
            (Some(body), _) => Ok(respond(kind, body)),
            (None, Some((tracks, first, slots))) => Ok(zip::response(
                &share,
                tracks,
                up.clone().into_inner(),
                first,
                slots,
            )),
            (None, None) => Err(ApiError::internal()),
        }
    };
    let answer = answer.await;
    finish(&req, &state, answer)
}

/// Same answer as GET without the body, and not a visit.
pub async fn head(
    req: HttpRequest,
    path: web::Path<String>,
    state: Door,
    up: web::Data<Upstream>,
) -> HttpResponse {
    let answer = async {
        admit(&req, &state)?;
        let share = live_share(&state, &path)?;
        let want = wanted(&req, &state)?;
        if want.download {
            downloads_allowed(&share, &state.settings)?;
            return Ok(zip::head(&share));
        }
        let lists = track_lists(&state, &up, &share).await?;
        let body = want.body(&share);
        Ok(respond(
            body,
            self::body(&state, &share, &lists, body, None),
        ))
    };
    let answer = answer.await;
    finish(&req, &state, answer)
}

/// Every answer varies with `Accept`; a browser asking for a missing (404) or expired (410)
/// share, past a limit (429, 503) or while the music server is down (502, 503), gets a
/// short page (`page_error`) instead of the JSON error the other clients keep.
fn finish(req: &HttpRequest, state: &Door, answer: Result<HttpResponse, ApiError>) -> HttpResponse {
    let mut resp = match answer {
        Ok(resp) => resp,
        Err(e) => match page_framing(req, state) {
            Some(framing) if page_error::has_page(&e) => {
                let mut page =
                    page_headers::html(e.status, framing, page_error::render(&state.settings, &e));
                // A 429 or 503 says when to come back, on the page as in the JSON.
                if let Some(secs) = e.retry_after {
                    page.headers_mut()
                        .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
                }
                page
            }
            _ => e.error_response(),
        },
    };
    resp.headers_mut()
        .append(header::VARY, header::HeaderValue::from_static("Accept"));
    resp
}

/// The format a visit records: the page (and its embed) is `html`.
fn visit_format(kind: Body) -> VisitFormat {
    match kind {
        Body::Raw => VisitFormat::Raw,
        Body::M3u => VisitFormat::M3u,
        Body::Page | Body::Embed => VisitFormat::Html,
    }
}

/// A link-preview bot or a prefetch gets the same answer, recorded as a preview.
fn visit_kind(req: &HttpRequest, state: &Door) -> VisitKind {
    let preview = state.parts.previews.is_preview(
        header_str(req, "user-agent"),
        header_str(req, "sec-purpose"),
        header_str(req, "purpose"),
    );
    match preview {
        true => VisitKind::Preview,
        false => VisitKind::Visit,
    }
}

/// A page fetched ahead of a person (a prefetch, Chrome's prerender) is a preview, and
/// carries a single-use token: shown later, it posts the token back and becomes a visit
/// (`shown`). Raw JSON and M3U have no script to do that, and a known bot is never shown.
fn shown_token(req: &HttpRequest, state: &Door, share: &Share, kind: Body) -> Option<String> {
    let page = matches!(kind, Body::Page | Body::Embed);
    let prefetch = preview::is_prefetch(header_str(req, "sec-purpose"), header_str(req, "purpose"));
    let bot = state.parts.previews.is_bot(header_str(req, "user-agent"));
    (page && prefetch && !bot).then(|| state.parts.shown.issue(share.id.as_str()))
}

fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Who may frame the page a browser asked for; `None` when it asked for no page.
fn page_framing(req: &HttpRequest, state: &Door) -> Option<Framing> {
    wanted(req, state).ok()?.body.and_then(framing)
}

/// Only the embed player may be put in someone else's frame, its error pages too: a site
/// that embedded a share shows "expired" in its frame, not the browser's broken-frame icon.
fn framing(kind: Body) -> Option<Framing> {
    match kind {
        Body::Page => Some(Framing::Nobody),
        Body::Embed => Some(Framing::Anyone),
        Body::Raw | Body::M3u => None,
    }
}

/// The page body, from the rendered cache or rendered now; a page with a `shown` token is
/// its own (rendered each time, never cached).
fn body(state: &Door, share: &Share, lists: &[Tracks], kind: Body, shown: Option<String>) -> Bytes {
    if let Some(token) = shown {
        let tracks = flatten(share, lists);
        let embed = kind == Body::Embed;
        return page_html::render(share, &tracks, &state.settings, embed, Some(&token)).into();
    }
    state.parts.pages.get_or_render(share, kind, lists, || {
        let tracks = flatten(share, lists);
        let settings = &state.settings;
        let base = format!("{}/share/{}", settings.public_url, share.id);
        match kind {
            // Serializing a Value we built cannot fail; an empty body would be the only fallback.
            Body::Raw => {
                let downloads = share.downloads_allowed(&settings.policy());
                serde_json::to_vec(&raw(share, &tracks, &base, downloads))
                    .unwrap_or_default()
                    .into()
            }
            Body::M3u => m3u(share, &tracks, &base).into(),
            Body::Page => page_html::render(share, &tracks, settings, false, None).into(),
            Body::Embed => page_html::render(share, &tracks, settings, true, None).into(),
        }
    })
}

fn respond(kind: Body, body: Bytes) -> HttpResponse {
    let content_type = match kind {
        Body::Raw => "application/json",
        Body::M3u => "audio/x-mpegurl; charset=utf-8",
        Body::Page | Body::Embed => {
            let framing = framing(kind).unwrap_or(Framing::Nobody);
            return page_headers::html(StatusCode::OK, framing, body);
        }
    };
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type(content_type)
        .body(body)
}
