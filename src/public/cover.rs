//! `GET|HEAD /share/{id}/cover` (the share's first cover) and `/share/{id}/cover/{coverArtId}`
//! (any cover of what the share holds): the music server's `getCoverArt`, passed through by
//! the stream relay. Not a visit. An id outside the share is 404, whether or not the music
//! server has it. When the music server has no art for a cover of the share, a neutral
//! picture answers instead of a 404, so the page never shows a broken image. A cover is
//! always an image type or `application/octet-stream`, with `nosniff` and the sandbox
//! (`proxied`), and whole within the metadata bound (5 s), however slowly it arrives.

use super::door::Door;
use super::gate::{self, Purpose};
use super::{admit, answer, proxied, proxy, upstream_error};
use crate::error::ApiError;
use crate::upstream::Upstream;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

pub const DEFAULT_SIZE: u32 = 600;
pub const SIZES: std::ops::RangeInclusive<u32> = 32..=1200;

/// A day: art rarely changes, and a visitor's browser should not ask again on every visit.
const CACHE_ART: &str = "public, max-age=86400";
/// The stand-in is kept for an hour only: the music server may get the art meanwhile.
const CACHE_STAND_IN: &str = "public, max-age=3600";
const NO_COVER: &[u8] = include_bytes!("../../assets/share/no-cover.svg");

#[derive(Deserialize)]
struct CoverQuery {
    size: Option<String>,
}

pub async fn first(
    req: HttpRequest,
    path: web::Path<String>,
    state: Door,
    up: web::Data<Upstream>,
) -> HttpResponse {
    cover(&req, &path, None, &state, &up).await
}

pub async fn by_id(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: Door,
    up: web::Data<Upstream>,
) -> HttpResponse {
    let (id, chosen) = path.into_inner();
    cover(&req, &id, Some(&chosen), &state, &up).await
}

/// Checked in the order of every public request: access, the access decision, the query,
/// then membership. A protected share's covers are never cached: their URLs carry keys.
async fn cover(
    req: &HttpRequest,
    id: &str,
    cover: Option<&str>,
    state: &Door,
    up: &Upstream,
) -> HttpResponse {
    let mut protected = false;
    let result = async {
        let ip = admit(req, state)?;
        let entry = gate::enter(req, state, id, Purpose::Cover, ip).await?;
        protected = entry.protected();
        relay_cover(req, &entry.share, cover, state, up).await
    }
    .await;
    // A protected share's cover: `no-store, private` in place of a day's caching.
    answer(result, protected)
}

async fn relay_cover(
    req: &HttpRequest,
    share: &crate::domain::Share,
    cover: Option<&str>,
    state: &Door,
    up: &Upstream,
) -> Result<HttpResponse, ApiError> {
    let size = size(req.query_string())?;
    let ids = state
        .parts
        .covers
        .of(up, share)
        .await
        .map_err(upstream_error)?;
    let chosen = match cover {
        Some(c) if ids.iter().any(|i| i == c) => Some(c),
        Some(_) => return Err(ApiError::not_found()),
        None => ids.first().map(String::as_str),
    };
    let Some(chosen) = chosen else {
        return Ok(stand_in());
    };
    let size = size.to_string();
    match proxy::relay(
        req,
        up,
        "getCoverArt",
        &[("id", chosen), ("size", &size)],
        None,
        proxy::Lane::Cover,
    )
    .await
    {
        Ok(mut resp) => {
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static(CACHE_ART),
            );
            Ok(resp)
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => Ok(stand_in()),
        Err(e) => Err(e),
    }
}

/// `size` in pixels: 32–1200, 600 when absent (an empty `size=` is a bad size, not absent).
fn size(query: &str) -> Result<u32, ApiError> {
    let q = web::Query::<CoverQuery>::from_query(query)
        .map_err(|_| ApiError::invalid("query", "cannot parse the query string"))?;
    match q.size.as_deref() {
        None => Ok(DEFAULT_SIZE),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| SIZES.contains(n))
            .ok_or_else(|| ApiError::invalid("size", "must be a whole number from 32 to 1200")),
    }
}

/// Ours, but an SVG like a cover may be: the same headers as a passed-through one.
fn stand_in() -> HttpResponse {
    let mut out = HttpResponse::Ok();
    out.content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, CACHE_STAND_IN));
    proxied::harden(&mut out);
    out.body(NO_COVER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_outside_the_range_are_refused() {
        assert_eq!(size("").unwrap(), 600);
        assert_eq!(size("size=32").unwrap(), 32);
        assert_eq!(size("size=1200").unwrap(), 1200);
        for bad in [
            "size=",
            "size=31",
            "size=1201",
            "size=-5",
            "size=big",
            "size=1e3",
        ] {
            let e = size(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("size"), "{bad}");
        }
    }
}
