//! A bounded, expiring cache of album and song track lists for public pages, shared by all
//! workers, so a popular link does not hammer the music server. The upstream client itself
//! stays per worker (awc is not `Send`); only the answers are shared.

use crate::domain::Track;
use crate::upstream::{Upstream, UpstreamError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(60);
pub const MAX_ENTRIES: usize = 4096;

/// What we know about one album or song: its tracks, or that the music server no longer has it.
pub type Tracks = Arc<Vec<Track>>;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Album,
    Song,
}

pub struct MetaCache {
    ttl: Duration,
    max: usize,
    entries: Mutex<HashMap<(Kind, String), (Instant, Tracks)>>,
}

impl Default for MetaCache {
    fn default() -> Self {
        MetaCache::new(TTL, MAX_ENTRIES)
    }
}

impl MetaCache {
    pub fn new(ttl: Duration, max: usize) -> Self {
        MetaCache {
            ttl,
            max: max.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// An album's tracks; an album gone from the music server has none (cached too).
    pub async fn album(&self, up: &Upstream, id: &str) -> Result<Tracks, UpstreamError> {
        self.get_or_fetch(Kind::Album, id, async {
            up.album(id).await.map(|a| a.tracks)
        })
        .await
    }

    /// A song as a one-track list; a song gone from the music server is an empty list.
    pub async fn song(&self, up: &Upstream, id: &str) -> Result<Tracks, UpstreamError> {
        self.get_or_fetch(Kind::Song, id, async { up.song(id).await.map(|t| vec![t]) })
            .await
    }

    async fn get_or_fetch(
        &self,
        kind: Kind,
        id: &str,
        fetch: impl std::future::Future<Output = Result<Vec<Track>, UpstreamError>>,
    ) -> Result<Tracks, UpstreamError> {
        let key = (kind, id.to_string());
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        // Failures (other than "gone") are not cached: the next visit retries.
        let tracks = match fetch.await {
            Ok(t) => Arc::new(t),
            Err(UpstreamError::NotFound) => Arc::new(Vec::new()),
            Err(e) => return Err(e),
        };
        self.put(key, tracks.clone());
        Ok(tracks)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Kind, String), (Instant, Tracks)>> {
        // A panic while holding the lock cannot leave a half-written entry behind.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &(Kind, String)) -> Option<Tracks> {
        let map = self.lock();
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, t)| t.clone())
    }

    fn put(&self, key: (Kind, String), tracks: Tracks) {
        let mut map = self.lock();
        if map.len() >= self.max && !map.contains_key(&key) {
            map.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if map.len() >= self.max {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    map.remove(&k);
                }
            }
        }
        map.insert(key, (Instant::now(), tracks));
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str) -> Vec<Track> {
        vec![Track {
            id: id.into(),
            title: String::new(),
            artist: String::new(),
            album: String::new(),
            track: 0,
            duration: 0,
            content_type: String::new(),
            suffix: String::new(),
        }]
    }

    async fn fetch(id: &str) -> Result<Vec<Track>, UpstreamError> {
        Ok(t(id))
    }

    #[actix_web::test]
    async fn a_hit_does_not_fetch_again() {
        let c = MetaCache::new(Duration::from_secs(60), 10);
        c.get_or_fetch(Kind::Album, "a", fetch("1")).await.unwrap();
        let again = c
            .get_or_fetch(Kind::Album, "a", async { Err(UpstreamError::NotFound) })
            .await
            .unwrap();
        assert_eq!(again[0].id, "1");
    }

    #[actix_web::test]
    async fn the_cache_never_holds_more_than_its_bound() {
        let c = MetaCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            let id = i.to_string();
            c.get_or_fetch(Kind::Song, &id, fetch(&id)).await.unwrap();
        }
        assert_eq!(c.len(), 3);
    }

    #[actix_web::test]
    async fn expired_entries_are_fetched_again_and_failures_are_not_kept() {
        let c = MetaCache::new(Duration::from_millis(0), 3);
        c.get_or_fetch(Kind::Album, "a", fetch("1")).await.unwrap();
        let r = c
            .get_or_fetch(Kind::Album, "a", async {
                Err(UpstreamError::Unavailable("down".into()))
            })
            .await;
        assert!(r.is_err());
    }
}
