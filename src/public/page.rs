//! `GET|HEAD /share/{id}`: the share as raw JSON, an M3U playlist, or (`?download=true`) a zip.
//! Order matters: check, resolve the tracks, append the visit, then answer; so a failed
//! request is never counted and a counted one always gets its answer.

use super::cache::Tracks;
use super::{admit, downloads_allowed, flatten, live_share, track_lists, visit, zip};
use crate::api::view::time;
use crate::domain::{Format, Share, Track};
use crate::error::ApiError;
use crate::startup::AppState;
use crate::upstream::Upstream;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, Default)]
struct PageQuery {
    format: Option<String>,
    player: Option<String>,
    download: Option<String>,
}

struct Wanted {
    format: Format,
    download: bool,
    player: Option<String>,
}

fn wanted(req: &HttpRequest, share: &Share) -> Result<Wanted, ApiError> {
    let q = web::Query::<PageQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::invalid("query", "cannot parse the query string"))?
        .into_inner();
    let format = match q.format.as_deref() {
        None | Some("") => share.format,
        Some(f) => {
            Format::parse(f).ok_or_else(|| ApiError::invalid("format", "must be raw or m3u"))?
        }
    };
    let download = match q.download.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid("download", "must be true or false")),
    };
    Ok(Wanted {
        format,
        download,
        player: q.player,
    })
}

pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    up: web::Data<Upstream>,
) -> Result<HttpResponse, ApiError> {
    let ip = admit(&req, &state)?;
    let share = live_share(&state, &path)?;
    let want = wanted(&req, &share)?;
    if want.download {
        downloads_allowed(&share, &state.settings)?;
    }
    let lists = track_lists(&state, &up, &share).await?;
    // Rendered (or found), or the zip's first file opened, before the visit is appended:
    // a failure here is not a visit.
    let (body, zip) = match want.download {
        true => {
            let slots = state.public.transfers.admit(ip)?;
            let tracks = flatten(&share, &lists);
            let first = zip::open_first(&up, &tracks).await?;
            (None, Some((tracks, first, slots)))
        }
        false => (Some(body(&state, &share, &lists, want.format)), None),
    };
    visit::record(
        &state,
        &req,
        share.id.clone(),
        ip,
        want.format,
        want.download,
        want.player.as_deref(),
    )
    .await?;
    match (body, zip) {
        (Some(body), _) => Ok(respond(want.format, body)),
        (None, Some((tracks, first, slots))) => {
            Ok(zip::response(&share, tracks, up.into_inner(), first, slots))
        }
        (None, None) => Err(ApiError::internal()),
    }
}

/// Same answer as GET without the body, and not a visit.
pub async fn head(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    up: web::Data<Upstream>,
) -> Result<HttpResponse, ApiError> {
    admit(&req, &state)?;
    let share = live_share(&state, &path)?;
    let want = wanted(&req, &share)?;
    if want.download {
        downloads_allowed(&share, &state.settings)?;
        return Ok(HttpResponse::Ok()
            .content_type("application/zip")
            .insert_header((header::CONTENT_DISPOSITION, zip::disposition(&share)))
            .finish());
    }
    let lists = track_lists(&state, &up, &share).await?;
    Ok(respond(
        want.format,
        body(&state, &share, &lists, want.format),
    ))
}

/// The page body, from the rendered cache or rendered now.
fn body(state: &AppState, share: &Share, lists: &[Tracks], format: Format) -> Bytes {
    state.public.pages.get_or_render(share, format, lists, || {
        let tracks = flatten(share, lists);
        let base = format!("{}/share/{}", state.settings.public_url, share.id);
        match format {
            // Serializing a Value we built cannot fail; an empty body would be the only fallback.
            Format::Raw => serde_json::to_vec(&raw(share, &tracks, &base))
                .unwrap_or_default()
                .into(),
            Format::M3u => m3u(share, &tracks, &base).into(),
        }
    })
}

fn respond(format: Format, body: Bytes) -> HttpResponse {
    let content_type = match format {
        Format::Raw => "application/json",
        Format::M3u => "audio/x-mpegurl; charset=utf-8",
    };
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type(content_type)
        .body(body)
}

fn raw(share: &Share, tracks: &[Track], base: &str) -> serde_json::Value {
    let tracks: Vec<_> = tracks
        .iter()
        .map(|t| {
            let mut v = json!({
                "id": t.id,
                "title": t.title,
                "artist": t.artist,
                "album": t.album,
                "track": t.track,
                "duration": t.duration,
                "contentType": t.content_type,
                "suffix": t.suffix,
                "streamUrl": format!("{base}/stream/{}", enc(&t.id)),
            });
            if share.downloadable {
                v["downloadUrl"] = json!(format!("{base}/download/{}", enc(&t.id)));
            }
            v
        })
        .collect();
    json!({
        "id": share.id.as_str(),
        "description": share.description,
        "username": share.owner_name,
        "format": share.format.as_str(),
        "maxBitRate": share.max_bit_rate,
        "downloadable": share.downloadable,
        "expiresAt": time(share.expires_at),
        "createdAt": time(Some(share.created_at)),
        "tracks": tracks,
    })
}

fn m3u(share: &Share, tracks: &[Track], base: &str) -> String {
    // One line per field: a line break inside a tag would start a bogus entry.
    let line = |s: &str| s.replace(['\r', '\n'], " ");
    let title = share
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or(share.id.as_str());
    let mut out = format!("#EXTM3U\n#PLAYLIST:{}\n", line(title));
    for t in tracks {
        out.push_str(&format!(
            "#EXTINF:{},{} - {}\n{base}/stream/{}\n",
            t.duration,
            line(&t.artist),
            line(&t.title),
            enc(&t.id)
        ));
    }
    out
}

fn enc(id: &str) -> String {
    crate::upstream::percent_encode(id)
}
