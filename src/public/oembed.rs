//! `GET /share/oembed?url=…`: oEmbed 1.0 (oembed.com) for our share pages, so a site or a
//! chat app that supports oEmbed can put the compact player (`?embed=true`) in an iframe.
//! Only URLs of our own share pages (under `publicUrl`, a share's own id or a recipient
//! link's) are answered. Not a visit. A password share needs proof here too, and even then
//! says nothing of itself ("Shared music", no author, no thumbnail): what a consumer is told
//! it shows to anyone. A share with a visit limit or a recipient link gets a thumbnail URL
//! with a cover key, since its covers need one.

use super::door::Door;
use super::gate::{self, Purpose};
use super::page_text::{keyed, HIDDEN_TITLE};
use super::{admit, answer, page_html};
use crate::error::{ApiError, ErrorCode};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

/// The embed player's natural size: cover and title, controls, about five tracks.
const WIDTH: u32 = 480;
const HEIGHT: u32 = 420;
/// Below this the player is unusable; a smaller `maxwidth`/`maxheight` gets this anyway.
const MIN_SIDE: u32 = 200;

#[derive(Deserialize)]
struct OEmbedQuery {
    url: Option<String>,
    maxwidth: Option<String>,
    maxheight: Option<String>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "oembed_iframe.html")]
struct Iframe<'a> {
    src: &'a str,
    width: u32,
    height: u32,
    title: &'a str,
}

pub async fn get(req: HttpRequest, state: Door) -> HttpResponse {
    let mut protected = false;
    let result = async {
        let (body, is_protected) = about(&req, &state).await?;
        protected = is_protected;
        Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(body))
    }
    .await;
    answer(result, protected)
}

/// The oEmbed JSON of the page `url` names, and whether its share is protected.
async fn about(req: &HttpRequest, state: &Door) -> Result<(serde_json::Value, bool), ApiError> {
    let ip = admit(req, state)?;
    let q = web::Query::<OEmbedQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::invalid("query", "cannot parse the query string"))?
        .into_inner();
    if !matches!(q.format.as_deref(), None | Some("") | Some("json")) {
        // What the oEmbed spec asks of a provider for a format it does not offer.
        return Err(ApiError::new(
            ErrorCode::UnsupportedFormat,
            "format: only json is offered",
        ));
    }
    let url = q
        .url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::invalid("url", "is required"))?;
    let id = share_id_in(&url, &state.settings.public_url).ok_or_else(ApiError::not_found)?;
    let entry = gate::enter(req, state, id, Purpose::About, ip).await?;
    let width = side(q.maxwidth.as_deref(), WIDTH, "maxwidth")?;
    let height = side(q.maxheight.as_deref(), HEIGHT, "maxheight")?;
    let share = entry.visible();
    let page_url = format!("{}/share/{}", state.settings.public_url, share.id);
    let hidden = entry.has_password();
    let title = match hidden {
        true => HIDDEN_TITLE.to_string(),
        false => page_html::heading(&share),
    };
    let html = Iframe {
        src: &format!("{page_url}?embed=true"),
        width,
        height,
        title: &title,
    }
    .render()
    .map_err(|_| ApiError::internal())?;
    let mut body = json!({
        "version": "1.0",
        "type": "rich",
        "provider_name": "sharelog",
        "provider_url": state.settings.public_url,
        "title": title,
        "html": html,
        "width": width,
        "height": height,
    });
    if !hidden {
        let cover = keyed(
            format!("{page_url}/cover"),
            entry.cover_key(state).as_deref(),
        );
        body["author_name"] = json!(share.owner_name);
        body["thumbnail_url"] = json!(cover);
        body["thumbnail_width"] = json!(super::cover::DEFAULT_SIZE);
        body["thumbnail_height"] = json!(super::cover::DEFAULT_SIZE);
    }
    Ok((body, entry.protected()))
}

/// The share id of a page URL under `public_url` (`{publicUrl}/share/{id}`, optionally with
/// a query or fragment); `None` for anything else.
fn share_id_in<'a>(url: &'a str, public_url: &str) -> Option<&'a str> {
    let rest = url.strip_prefix(public_url)?.strip_prefix("/share/")?;
    let id = rest.split(['?', '#']).next()?.trim_end_matches('/');
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(id)
}

/// `preferred`, made smaller to fit `max` when one is given (but never below `MIN_SIDE`).
fn side(max: Option<&str>, preferred: u32, field: &str) -> Result<u32, ApiError> {
    match max {
        None | Some("") => Ok(preferred),
        Some(m) => m
            .parse::<u32>()
            .map(|m| preferred.min(m).max(MIN_SIDE))
            .map_err(|_| ApiError::invalid(field, "must be a whole number of pixels")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://music.example.org/tunes";

    #[test]
    fn only_our_own_share_pages_are_embeddable() {
        fn ours(u: &str) -> Option<&str> {
            share_id_in(u, BASE)
        }
        assert_eq!(
            ours("https://music.example.org/tunes/share/abc123"),
            Some("abc123")
        );
        assert_eq!(
            ours("https://music.example.org/tunes/share/abc?embed=true"),
            Some("abc")
        );
        assert_eq!(
            ours("https://music.example.org/tunes/share/abc/"),
            Some("abc")
        );
        for other in [
            "https://evil.example/tunes/share/abc",
            "https://music.example.org/share/abc",
            "https://music.example.org/tunes/share/",
            "https://music.example.org/tunes/share/abc/stream/t1",
            "https://music.example.org/tunes/share/_assets",
            "https://music.example.org/tunesx/share/abc",
        ] {
            assert_eq!(ours(other), None, "{other}");
        }
    }

    #[test]
    fn max_sizes_shrink_the_player_down_to_a_usable_minimum() {
        assert_eq!(side(None, 480, "maxwidth").unwrap(), 480);
        assert_eq!(side(Some("300"), 480, "maxwidth").unwrap(), 300);
        assert_eq!(side(Some("9999"), 480, "maxwidth").unwrap(), 480);
        assert_eq!(side(Some("50"), 480, "maxwidth").unwrap(), 200);
        assert!(side(Some("wide"), 480, "maxwidth").is_err());
    }
}
