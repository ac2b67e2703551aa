//! Which cover art ids belong to a share: the `coverArt` of its albums (an artist's too) and of their songs,
//! of its songs, and its playlists' tracks (the playlist snapshot keeps track ids only, and
//! a Subsonic server takes a track id for its art). Only these are proxied, so a share link
//! cannot be used to fetch any picture of the whole library.
//!
//! The ids come from the music server's album and song answers, kept for a minute per
//! album or song (bounded), like the track lists in `cache`.

use crate::domain::Share;
use crate::upstream::{Upstream, UpstreamError};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 4096;

/// Cover ids of one album (its own first, then its songs') or one song.
type Ids = Arc<Vec<String>>;

#[derive(Default)]
pub struct CoverIds {
    entries: Mutex<HashMap<(bool, String), (Instant, Ids)>>,
}

impl CoverIds {
    /// Every cover id of `share`, in page order (the first is the share's cover), each once.
    pub async fn of(&self, up: &Upstream, share: &Share) -> Result<Vec<String>, UpstreamError> {
        let mut ids = Vec::new();
        for album in share.items.all_albums() {
            ids.extend(self.item(up, true, &album.id).await?.iter().cloned());
        }
        for song in &share.items.songs {
            ids.extend(self.item(up, false, &song.id).await?.iter().cloned());
        }
        for playlist in &share.items.playlists {
            ids.extend(playlist.tracks.iter().map(|t| t.id.clone()));
        }
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(id.clone()));
        Ok(ids)
    }

    async fn item(&self, up: &Upstream, album: bool, id: &str) -> Result<Ids, UpstreamError> {
        let key = (album, id.to_string());
        if let Some((at, ids)) = self.lock().get(&key) {
            if at.elapsed() < TTL {
                return Ok(ids.clone());
            }
        }
        let answer = if album {
            up.call("getAlbum", &[("id", id)]).await
        } else {
            up.call("getSong", &[("id", id)]).await
        };
        let ids = match answer {
            Ok(r) => Arc::new(if album {
                album_covers(&r)
            } else {
                song_covers(&r)
            }),
            // Gone from the music server: no covers (and nothing to show anyway).
            Err(UpstreamError::NotFound) => Arc::new(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), ids.clone()));
        Ok(ids)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(bool, String), (Instant, Ids)>> {
        // Entries are inserted whole; a panic elsewhere cannot leave one half-written.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn cover(v: &Value) -> Option<String> {
    match v.get("coverArt")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The album's own cover, then its songs' (servers may give songs their own art).
fn album_covers(r: &Value) -> Vec<String> {
    let Some(album) = r.get("album") else {
        return Vec::new();
    };
    let songs = match album.get("song") {
        Some(Value::Array(songs)) => songs.iter().collect(),
        Some(song @ Value::Object(_)) => vec![song],
        _ => Vec::new(),
    };
    cover(album)
        .into_iter()
        .chain(songs.into_iter().filter_map(cover))
        .collect()
}

fn song_covers(r: &Value) -> Vec<String> {
    r.get("song").and_then(cover).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_album_gives_its_own_cover_first_then_its_songs() {
        let r = json!({"album": {"id": "al-1", "coverArt": "al-1", "song": [
            {"id": "s1", "coverArt": "mf-s1"}, {"id": "s2"}, {"id": "s3", "coverArt": ""}
        ]}});
        assert_eq!(album_covers(&r), vec!["al-1", "mf-s1"]);
        let single = json!({"album": {"id": "a", "song": {"id": "s", "coverArt": 42}}});
        assert_eq!(album_covers(&single), vec!["42"]);
        assert!(album_covers(&json!({})).is_empty());
    }

    #[test]
    fn a_song_gives_its_cover_if_it_has_one() {
        assert_eq!(
            song_covers(&json!({"song": {"id": "s", "coverArt": "c"}})),
            vec!["c"]
        );
        assert!(song_covers(&json!({"song": {"id": "s"}})).is_empty());
    }
}
