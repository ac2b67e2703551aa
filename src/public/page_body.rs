//! The body of a `GET|HEAD /share/{id}` answer that is not a zip: raw JSON, M3U, the page
//! or its embed, rendered from the share as the visitor opened it, with the keys its links
//! carry (`Keys`), from the rendered cache when nothing in it is the visitor's own.

use super::cache::Tracks;
use super::deep_link::Start;
use super::door::Door;
use super::gate::Entry;
use super::page_formats::{m3u, raw};
use super::page_headers::{self, Framing};
use super::rendered::Body;
use super::{flatten, page_html};
use crate::domain::{Share, VisitKind};
use actix_web::http::{header, StatusCode};
use actix_web::web::Bytes;
use actix_web::HttpResponse;

/// The keys an answer's links carry: a visit's for every media link of a protected share,
/// a preview's for its cover only (`Entry::visit_key`, `Entry::cover_key`).
pub(super) struct Keys {
    media: Option<String>,
    cover: Option<String>,
}

impl Keys {
    pub(super) fn of(entry: &Entry, state: &Door, kind: VisitKind) -> Keys {
        match kind {
            VisitKind::Visit => Keys {
                media: entry.visit_key(state),
                cover: None,
            },
            VisitKind::Preview => Keys {
                media: None,
                cover: entry.cover_key(state),
            },
        }
    }
}

/// Only the embed player may be put in someone else's frame, its error pages too: a site
/// that embedded a share shows "expired" in its frame, not the browser's broken-frame icon.
pub(super) fn framing(kind: Body) -> Option<Framing> {
    match kind {
        Body::Page => Some(Framing::Nobody),
        Body::Embed => Some(Framing::Anyone),
        Body::Raw | Body::M3u => None,
    }
}

/// What one body is rendered from.
pub(super) struct Render<'a> {
    /// The share as the visitor opened it (`Entry::visible`).
    pub share: &'a Share,
    pub lists: &'a [Tracks],
    pub kind: Body,
    pub keys: &'a Keys,
    pub shown: Option<&'a str>,
    pub start: Option<Start>,
    pub password: bool,
    /// An answer of a share that is not protected carries no key: with no token and no
    /// start either, its body depends on nothing but the share and its lists, and so may
    /// come from, and go into, the rendered cache.
    pub cacheable: bool,
}

/// The body, from the rendered cache or rendered now.
pub(super) fn body(state: &Door, r: &Render) -> Bytes {
    let render = || -> Bytes {
        let tracks = flatten(r.share, r.lists);
        let settings = &state.settings;
        let base = format!("{}/share/{}", settings.public_url, r.share.id);
        let key = r.keys.media.as_deref();
        let options = |embed| page_html::Options {
            embed,
            shown_token: r.shown,
            media_key: key,
            cover_key: r.keys.cover.as_deref(),
            password: r.password,
            start: r.start,
        };
        match r.kind {
            // Serializing a Value we built cannot fail; an empty body would be the only fallback.
            Body::Raw => {
                let downloads = r.share.downloads_allowed(&settings.policy());
                serde_json::to_vec(&raw(r.share, &tracks, &base, downloads, key))
                    .unwrap_or_default()
                    .into()
            }
            Body::M3u => m3u(r.share, &tracks, &base, key).into(),
            Body::Page => page_html::render(r.share, &tracks, settings, &options(false)).into(),
            Body::Embed => page_html::render(r.share, &tracks, settings, &options(true)).into(),
        }
    };
    match r.cacheable && r.shown.is_none() && r.start.is_none() {
        true => state
            .parts
            .pages
            .get_or_render(r.share, r.kind, r.lists, render),
        false => render(),
    }
}

pub(super) fn respond(kind: Body, body: Bytes) -> HttpResponse {
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
