//! Public share links, no login (docs/public-access.md): `/share/{id}` as raw JSON, M3U or a zip,
//! and the per-track stream and download proxies.
//!
//! - `access`: allow/deny lists and the per-IP rate limit
//! - `gate`: THE access decision every public path goes through (ids and links, passwords,
//!   visit limits, access keys), and `Recheck`, the same decision taken again while a
//!   transfer runs
//! - `proof`: what a request presents (an access key, the unlock cookie, HTTP Basic)
//! - `access_key`: access keys and unlock cookies, signed tokens bound to a share, a link
//!   and a password version
//! - `attempt`: one attempt at a share's password (the form or Basic): throttle, argon2, metric
//! - `throttle`: failed password attempts per share and client, and when to refuse more
//! - `unlock`: `POST /share/{id}/unlock`, the password form's target
//! - `locked`: the password form and the pages of used-up and revoked links
//! - `deep_link`: `?track=N&t=…`, where the page starts playing
//! - `client_ip`: which address to believe, and how much of it the log keeps
//! - `cache`: album and song metadata shared across workers, bounded and expiring
//! - `page`: `GET|HEAD /share/{id}` (raw, m3u, the HTML page, zip)
//! - `page_body`: the body of those answers, with the keys its links carry
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
mod access_key;
pub(crate) mod assets;
mod attempt;
mod cache;
pub mod client_ip;
pub(crate) mod cover;
mod cover_ids;
mod deep_link;
mod door;
mod gate;
mod locked;
mod negotiate;
pub(crate) mod oembed;
pub(crate) mod page;
mod page_body;
mod page_error;
mod page_formats;
mod page_headers;
mod page_html;
pub(crate) mod page_text;
mod pipe;
mod preview;
mod proof;
mod proxied;
pub(crate) mod proxy;
mod rendered;
pub(crate) mod shown;
mod shown_token;
mod throttle;
mod transfer_end;
mod transfers;
pub(crate) mod unlock;
mod visit;
mod zip;

pub use cache::MetaCache;
/// A share's title as its page heads it (notifications name shares the same way).
pub(crate) use page_text::heading as share_heading;

/// The handlers `routes.rs` sends public paths to.
pub(crate) mod handlers {
    pub(crate) use super::{assets, cover, oembed, page, proxy, shown, unlock};
}

use crate::config::Settings;
use crate::domain::{Share, Track};
use crate::error::{ApiError, ErrorCode};
use crate::store::StoreError;
use crate::upstream::{Upstream, UpstreamError};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use door::Door;
pub(crate) use gate::Recheck;
use std::collections::HashSet;
use std::net::IpAddr;

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
    keys: access_key::AccessKeys,
    throttle: throttle::Throttle,
    checked: proof::Checked,
}

impl Public {
    /// Takes its secrets (the IP hash key, the page tokens' key, the access keys' key) from
    /// the store, so that every replica on one log hashes and signs alike.
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
            keys: access_key::AccessKeys::new(
                store.secret(access_key::SECRET_NAME)?,
                settings.public_access.access_key_hours,
            ),
            throttle: throttle::Throttle::new(settings.limits.ipv6_prefix),
            checked: proof::Checked::default(),
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

/// A stream, download (`download`) or zip of the share `entry` opened, for `ip`: its transfer
/// slots (429/503 when none is free), its deadline, and the access decision it takes again
/// while it runs.
fn start_transfer(
    state: &Door,
    ip: IpAddr,
    entry: &gate::Entry,
    download: bool,
) -> Result<transfers::Transfer, ApiError> {
    state
        .parts
        .transfers
        .admit(ip, entry.recheck(state, download))
}

/// `Cache-Control` of every answer of a protected share (a password, a visit limit, a
/// recipient link): its answers carry access keys or need proof, so no cache may keep them.
const PROTECTED_CACHING: &str = "no-store, private";

/// The answer of a public handler: an error as its JSON, and, for a protected share or any
/// error, never cached (a refusal, a 401 above all, is about this request alone).
fn answer(result: Result<HttpResponse, ApiError>, protected: bool) -> HttpResponse {
    let (mut resp, uncached) = match result {
        Ok(resp) => (resp, protected),
        Err(e) => (e.error_response(), true),
    };
    if uncached {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static(PROTECTED_CACHING),
        );
    }
    resp
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
            // An artist's albums too: its snapshot, resolved live like a shared album.
            share.items.all_albums().map(|a| cache.album(up, &a.id)),
        ),
        futures_util::future::try_join_all(share.items.songs.iter().map(|s| cache.song(up, &s.id))),
    )
    .await;
    let mut lists = albums.map_err(upstream_error)?;
    lists.extend(songs.map_err(upstream_error)?);
    Ok(lists)
}

/// Every track of a share, in order (albums, the artists' albums, songs, playlists), each id once. Albums and
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
    use crate::domain::ShareId;
    use time::OffsetDateTime;

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
        Share {
            downloadable: true,
            ..Share::sample(
                ShareId::parse("abc").unwrap(),
                "u",
                OffsetDateTime::now_utc(),
            )
        }
    }
}
