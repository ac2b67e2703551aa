//! Public share links, no login (docs/public-access.md): `/share/{id}` as raw JSON, M3U or a zip,
//! and the per-track stream and download proxies.
//!
//! - `access`: allow/deny lists and the per-IP rate limit
//! - `client_ip`: which address to believe, and how much of it the log keeps
//! - `cache`: album and song metadata shared across workers, bounded and expiring
//! - `page`: `GET|HEAD /share/{id}` (raw, m3u, the HTML page, zip)
//! - `negotiate`: whether a request prefers the HTML page (`Accept`)
//! - `page_html`: the page and its error pages, rendered from templates/
//! - `page_text`: the page's title, durations and link prefix (also for previews)
//! - `page_formats`: the raw JSON and M3U answers
//! - `page_headers`: the page's CSP, framing, caching and robots headers
//! - `assets`: the page's CSS, JS and icon under content-hashed names
//! - `cover`, `cover_ids`: `/share/{id}/cover[/{coverArtId}]`, only covers of the share
//! - `oembed`: `/share/oembed?url=` for our own share pages
//! - `preview`: link-preview bots and prefetches, told apart from people
//! - `shown`, `shown_token`: a prefetched or prerendered page, once shown, becomes one visit
//! - `rendered`: raw and m3u bodies kept while the share and its metadata are unchanged
//! - `visit`: the ShareVisited append
//! - `proxy`: `/share/{id}/stream/{trackId}` and `/download/{trackId}`
//! - `zip`: a stored (uncompressed) zip written as the bytes arrive
//! - `transfers`: how many streams, downloads and zips a client, and everyone, may hold
//! - `pipe`: the body of a transfer, cut off when either side stalls or when it must end
//! - `transfer_end`: what ends a transfer however it progresses (its deadline, access ending)
//! - `proxied`: the headers of every body passed through (its type, never one a browser runs)

mod access;
pub(crate) mod assets;
mod cache;
pub mod client_ip;
pub(crate) mod cover;
mod cover_ids;
mod door;
mod negotiate;
pub(crate) mod oembed;
pub(crate) mod page;
mod page_error;
mod page_formats;
mod page_headers;
mod page_html;
pub(crate) mod page_text;
mod pipe;
mod preview;
mod proxied;
pub(crate) mod proxy;
mod rendered;
pub(crate) mod shown;
mod shown_token;
mod transfer_end;
mod transfers;
mod visit;
mod zip;

pub use cache::MetaCache;

/// The handlers `routes.rs` sends public paths to.
pub(crate) mod handlers {
    pub(crate) use super::{assets, cover, oembed, page, proxy, shown};
}

use crate::config::Settings;
use crate::domain::{Share, ShareId, Track};
use crate::error::{ApiError, ErrorCode};
use crate::store::StoreError;
use crate::upstream::{Upstream, UpstreamError};
use actix_web::HttpRequest;
use door::Door;
use std::collections::HashSet;
use std::net::IpAddr;
use time::OffsetDateTime;

/// State the public handlers share across workers.
pub struct Public {
    access: access::Access,
    ip_recorder: client_ip::IpRecorder,
    cache: MetaCache,
    pages: rendered::Rendered,
    transfers: transfers::Transfers,
    covers: cover_ids::CoverIds,
    previews: preview::PreviewAgents,
    shown: shown_token::ShownTokens,
}

impl Public {
    /// Takes its secrets (the IP hash key, the page tokens' key) from the store, so that
    /// every replica on one log hashes and signs alike.
    pub fn new(settings: &Settings, store: &crate::store::Store) -> Result<Self, StoreError> {
        let ip_secret = store.secret(client_ip::SECRET_NAME)?;
        Ok(Public {
            access: access::Access::new(&settings.public_access, settings.limits.ipv6_prefix),
            ip_recorder: client_ip::IpRecorder::new(settings.audit.client_ip, ip_secret),
            cache: MetaCache::default(),
            pages: rendered::Rendered::default(),
            transfers: transfers::Transfers::new(&settings.limits),
            covers: cover_ids::CoverIds::default(),
            previews: preview::PreviewAgents::new(&settings.public_access.preview_agents),
            shown: shown_token::ShownTokens::new(store.secret(shown_token::SECRET_NAME)?),
        })
    }
}

/// Access rules first (403/429), then the visitor's address as we believe it.
fn admit(req: &HttpRequest, state: &Door) -> Result<IpAddr, ApiError> {
    let xff: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let ip = client_ip::resolve(&state.settings, req.peer_addr().map(|a| a.ip()), &xff);
    state.parts.access.check(ip)?;
    Ok(ip)
}

/// The share as a visitor may see it: 404 unknown or deleted, 410 expired.
fn live_share(state: &Door, id: &str) -> Result<Share, ApiError> {
    let id = ShareId::parse(id).ok_or_else(ApiError::not_found)?;
    let share = state
        .store
        .shares()
        .get(&id)
        .filter(|s| !s.deleted)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    if share.is_expired(OffsetDateTime::now_utc()) {
        return Err(crate::domain::DomainError::Expired.into());
    }
    Ok(share)
}

/// The access decision of `live_share`, taken again by a transfer while it runs (every
/// second, `transfer_end`): what the request presented is kept here, so that whatever
/// `live_share` comes to refuse also ends the streams, downloads and zips it allowed. A new
/// input to `live_share` (something the request carries) is captured here with it.
#[derive(Clone)]
pub(crate) struct Recheck {
    door: Door,
    id: String,
    /// A download or zip also needs downloads still allowed (`downloads_allowed`).
    download: bool,
}

impl Recheck {
    fn check(&self) -> Result<(), ApiError> {
        let share = live_share(&self.door, &self.id)?;
        if self.download {
            downloads_allowed(&share, &self.door.settings)?;
        }
        Ok(())
    }
}

/// A stream, download (`download`) or zip of `share` for `ip`: its transfer slots (429/503
/// when none is free), its deadline, and the access decision it takes again while it runs.
fn start_transfer(
    state: &Door,
    ip: IpAddr,
    share: &Share,
    download: bool,
) -> Result<transfers::Transfer, ApiError> {
    let recheck = Recheck {
        door: state.clone(),
        id: share.id.as_str().to_string(),
        download,
    };
    state.parts.transfers.admit(ip, recheck)
}

/// The album and song track lists of a share, in order, as the metadata cache holds them.
async fn track_lists(
    state: &Door,
    up: &Upstream,
    share: &Share,
) -> Result<Vec<cache::Tracks>, ApiError> {
    let cache = &state.parts.cache;
    let (albums, songs) = futures_util::future::join(
        futures_util::future::try_join_all(
            share.items.albums.iter().map(|a| cache.album(up, &a.id)),
        ),
        futures_util::future::try_join_all(share.items.songs.iter().map(|s| cache.song(up, &s.id))),
    )
    .await;
    let mut lists = albums.map_err(upstream_error)?;
    lists.extend(songs.map_err(upstream_error)?);
    Ok(lists)
}

/// Every track of a share, in order (albums, songs, playlists), each id once. Albums and
/// songs come from the cache's `lists`; playlists from the snapshot taken when the share was made.
fn flatten(share: &Share, lists: &[cache::Tracks]) -> Vec<Track> {
    let mut seen = HashSet::new();
    lists
        .iter()
        .flat_map(|t| t.iter())
        .chain(share.items.playlists.iter().flat_map(|p| p.tracks.iter()))
        .filter(|t| seen.insert(t.id.as_str()))
        .cloned()
        .collect()
}

async fn tracks(state: &Door, up: &Upstream, share: &Share) -> Result<Vec<Track>, ApiError> {
    Ok(flatten(share, &track_lists(state, up, share).await?))
}

/// 502 `upstream-error`: the music server failed while public content was served.
fn upstream_error(e: UpstreamError) -> ApiError {
    log::warn!("upstream while serving a public link: {e}");
    ApiError::new(ErrorCode::UpstreamError, "the music server is unavailable")
}

/// The effective cap: the smaller of the share's and the server's, where set (0 = none).
fn effective_bit_rate(share: &Share, settings: &Settings) -> u32 {
    match (share.max_bit_rate, settings.sharing.max_bitrate) {
        (0, s) => s,
        (b, 0) => b,
        (b, s) => b.min(s),
    }
}

/// A download of `share`, refused unless `Share::downloads_allowed`.
fn downloads_allowed(share: &Share, settings: &Settings) -> Result<(), ApiError> {
    if share.downloads_allowed(&settings.policy()) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::DownloadNotAllowed,
            "this share cannot be downloaded",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smaller_cap_wins_and_zero_means_none() {
        let share = |b| Share {
            max_bit_rate: b,
            ..sample_share()
        };
        let mut s = Settings::default();
        assert_eq!(effective_bit_rate(&share(0), &s), 0);
        assert_eq!(effective_bit_rate(&share(96), &s), 96);
        s.sharing.max_bitrate = 64;
        assert_eq!(effective_bit_rate(&share(0), &s), 64);
        assert_eq!(effective_bit_rate(&share(96), &s), 64);
        assert_eq!(effective_bit_rate(&share(32), &s), 32);
    }

    fn sample_share() -> Share {
        let now = OffsetDateTime::now_utc();
        Share {
            id: ShareId::parse("abc").unwrap(),
            owner_id: crate::domain::UserId("u".into()),
            owner_name: "u".into(),
            description: None,
            format: crate::domain::Format::Raw,
            max_bit_rate: 0,
            downloadable: true,
            expires_at: None,
            created_at: now,
            updated_at: now,
            items: Default::default(),
            visit_count: 0,
            preview_count: 0,
            last_visited_at: None,
            version: 1,
            deleted: false,
            password: None,
            password_version: 0,
            max_visits: None,
            links: vec![],
        }
    }
}
