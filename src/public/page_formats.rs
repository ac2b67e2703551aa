//! The share's answers for players and programs: raw JSON and an M3U playlist.

use super::page_text::keyed;
use crate::domain::{Share, Track};
use crate::timestamps;
use serde_json::json;

/// `?format=raw`: the share and its tracks as JSON, with stream (and download) links.
/// `downloads`: whether download links are given (`Share::downloads_allowed`); `key`: the
/// access key those links carry (a visit to a protected share).
pub fn raw(
    share: &Share,
    tracks: &[Track],
    base: &str,
    downloads: bool,
    key: Option<&str>,
) -> serde_json::Value {
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
                "streamUrl": keyed(format!("{base}/stream/{}", enc(&t.id)), key),
            });
            if downloads {
                v["downloadUrl"] = json!(keyed(format!("{base}/download/{}", enc(&t.id)), key));
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
        "expiresAt": timestamps::json(share.expires_at),
        "createdAt": timestamps::json(Some(share.created_at)),
        "tracks": tracks,
    })
}

/// `?format=m3u`: an extended M3U playlist of stream links (with `key`, as `raw`), so a
/// player given it plays every track with no further step.
pub fn m3u(share: &Share, tracks: &[Track], base: &str, key: Option<&str>) -> String {
    // One line per field: a line break inside a tag would start a bogus entry.
    let line = |s: &str| s.replace(['\r', '\n'], " ");
    let title = super::page_text::description(share).unwrap_or(share.id.as_str());
    let mut out = format!("#EXTM3U\n#PLAYLIST:{}\n", line(title));
    for t in tracks {
        let url = keyed(format!("{base}/stream/{}", enc(&t.id)), key);
        out.push_str(&format!(
            "#EXTINF:{},{} - {}\n{url}\n",
            t.duration,
            line(&t.artist),
            line(&t.title),
        ));
    }
    out
}

fn enc(id: &str) -> String {
    crate::upstream::percent_encode(id)
}
