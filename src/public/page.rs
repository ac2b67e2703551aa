//! `GET|HEAD /share/{id}`: the share as raw JSON, an M3U playlist, the HTML page for people
//! (negotiated, see `negotiate`), or (`?download=true`) a zip. `{id}` is the share's own id
//! or one of its recipient links' (`gate`).
//! Order matters: check, resolve the tracks, append the visit, then answer; so a failed
//! request is never counted and a counted one always gets its answer.

use super::deep_link::Start;
use super::door::Door;
use super::gate::{self, Entry, Purpose};
use super::page_body::{body, framing, respond, Keys, Render};
use super::page_headers::{self, Framing};
use super::rendered::Body;
use super::{
    admit, downloads_allowed, flatten, locked, negotiate, page_error, preview, start_transfer,
    track_lists, visit, zip,
};
use crate::domain::{Format, Share, VisitFormat, VisitKind};
use crate::error::{ApiError, ErrorCode};
use crate::upstream::Upstream;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;

#[derive(Deserialize, Default)]
struct PageQuery {
    format: Option<String>,
    player: Option<String>,
    download: Option<String>,
    embed: Option<String>,
    track: Option<String>,
    t: Option<String>,
}

struct Wanted {
    /// The body asked for; `None` = the share's own format.
    body: Option<Body>,
    download: bool,
    player: Option<String>,
    /// Where the page starts playing (`?track=&t=`).
    start: Option<Start>,
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

fn query(req: &HttpRequest) -> Result<PageQuery, ApiError> {
    Ok(web::Query::<PageQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::invalid("query", "cannot parse the query string"))?
        .into_inner())
}

/// What the request asks for: `format` and `embed` first, then the `Accept` header. A
/// link-preview bot gets the page whatever it accepts: its tags are what the bot reads.
fn wanted(req: &HttpRequest, state: &Door) -> Result<Wanted, ApiError> {
    let q = query(req)?;
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
        start: Start::parse(q.track.as_deref(), q.t.as_deref())?,
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
        // A zip is a visit whoever asks: what a bot downloads has been downloaded.
        let kind = match query(&req).map(|q| q.download.as_deref() == Some("true")) {
            Ok(true) => VisitKind::Visit,
            _ => visit_kind(&req, &state),
        };
        let purpose = match kind {
            VisitKind::Visit => Purpose::Visit,
            VisitKind::Preview => Purpose::Preview,
        };
        let entry = gate::enter(&req, &state, &path, purpose, ip).await?;
        let want = wanted(&req, &state)?;
        if want.download {
            downloads_allowed(&entry.share, &state.settings)?;
        }
        let lists = track_lists(&state, &up, &entry.share).await?;
        let body_kind = want.body(&entry.share);
        let visible = entry.visible();
        // Rendered (or found), or the zip's first file opened, before the visit is appended:
        // a failure here is not a visit.
        let (body, zip) = match want.download {
            true => {
                let slots = start_transfer(&state, ip, &entry, true)?;
                let tracks = flatten(&entry.share, &lists);
                let first = zip::open_first(&up, &tracks).await?;
                (None, Some((tracks, first, slots)))
            }
            false => {
                let keys = Keys::of(&entry, &state, kind);
                let shown = shown_token(&req, &state, &entry, body_kind);
                let page = Render {
                    share: &visible,
                    lists: &lists,
                    kind: body_kind,
                    keys: &keys,
                    shown: shown.as_deref(),
                    start: want.start,
                    password: entry.has_password(),
                    cacheable: !entry.protected(),
                };
                (Some(body(&state, &page)), None)
            }
        };
        visit::record(
            &state,
            &req,
            &entry,
            ip,
            visit_format(body_kind),
            want.download,
            want.player.as_deref(),
            kind,
        )
        .await?;
        let mut resp = match (body, zip) {
            (Some(body), _) => respond(body_kind, body),
            (None, Some((tracks, first, slots))) => {
                zip::response(&visible, tracks, up.clone().into_inner(), first, slots)
            }
            (None, None) => return Err(ApiError::internal()),
        };
        protect(&mut resp, entry.protected());
        Ok(resp)
    };
    let answer = answer.await;
    finish(&req, &state, &path, answer)
}

/// Same answer as GET without the body, and not a visit.
pub async fn head(
    req: HttpRequest,
    path: web::Path<String>,
    state: Door,
    up: web::Data<Upstream>,
) -> HttpResponse {
    let answer = async {
        let ip = admit(&req, &state)?;
        let entry = gate::enter(&req, &state, &path, Purpose::Head, ip).await?;
        let want = wanted(&req, &state)?;
        let visible = entry.visible();
        if want.download {
            downloads_allowed(&entry.share, &state.settings)?;
            let mut resp = zip::head(&visible);
            protect(&mut resp, entry.protected());
            return Ok(resp);
        }
        let lists = track_lists(&state, &up, &entry.share).await?;
        let kind = want.body(&entry.share);
        // The body a visit would get, key and all (so its length is the same), then dropped.
        let keys = Keys::of(&entry, &state, VisitKind::Visit);
        let page = Render {
            share: &visible,
            lists: &lists,
            kind,
            keys: &keys,
            shown: None,
            start: want.start,
            password: entry.has_password(),
            cacheable: !entry.protected(),
        };
        let mut resp = respond(kind, body(&state, &page));
        protect(&mut resp, entry.protected());
        Ok(resp)
    };
    let answer = answer.await;
    finish(&req, &state, &path, answer)
}

/// `Cache-Control` of the answers of a protected share (`PROTECTED_CACHING`).
fn protect(resp: &mut HttpResponse, protected: bool) {
    if protected {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static(super::PROTECTED_CACHING),
        );
    }
}

/// Every answer varies with `Accept`; a browser asking for a page of a password share
/// without proof gets the password form (401), and one asking for a missing (404), expired,
/// used-up or revoked (410) share, past a limit (429, 503) or while the music server is
/// down (502, 503), gets a short page (`page_error`) instead of the JSON error the other
/// clients keep. No error answer is cached.
fn finish(
    req: &HttpRequest,
    state: &Door,
    public_id: &str,
    answer: Result<HttpResponse, ApiError>,
) -> HttpResponse {
    let mut resp = match answer {
        Ok(resp) => resp,
        Err(e) => match page_framing(req, state) {
            Some(framing) if e.code == ErrorCode::PasswordRequired => {
                let form = locked::Form {
                    public_id,
                    start: query(req)
                        .ok()
                        .and_then(|q| Start::parse(q.track.as_deref(), q.t.as_deref()).ok())
                        .flatten(),
                    embed: framing == Framing::Anyone,
                    note: locked::Note::None,
                };
                locked::form_page(&state.settings, &form, StatusCode::UNAUTHORIZED, framing)
            }
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
    if !resp.status().is_success() {
        protect(&mut resp, true);
    }
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
fn shown_token(req: &HttpRequest, state: &Door, entry: &Entry, kind: Body) -> Option<String> {
    let page = matches!(kind, Body::Page | Body::Embed);
    let prefetch = preview::is_prefetch(header_str(req, "sec-purpose"), header_str(req, "purpose"));
    let bot = state.parts.previews.is_bot(header_str(req, "user-agent"));
    (page && prefetch && !bot).then(|| state.parts.shown.issue(&entry.public_id))
}

fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Who may frame the page a browser asked for; `None` when it asked for no page.
fn page_framing(req: &HttpRequest, state: &Door) -> Option<Framing> {
    wanted(req, state).ok()?.body.and_then(framing)
}
