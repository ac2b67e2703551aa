//! A bounded, expiring cache of album and song track lists for public pages, shared by all
//! workers, so a popular link does not hammer the music server. The upstream client itself
//! stays per worker (awc is not `Send`); only the answers are shared.
//!
//! When an entry expires, one request refetches it while every other request keeps getting
//! the expired list, for at most another `ttl`. Without that, every visitor of a popular link
//! called the music server at once each time the entry expired (seen in the load test as
//! pauses of up to 1.3 s every minute).
//!
//! Likewise when an entry is missing: one request fetches it and the others that
//! find it missing meanwhile wait for that fetch and share its answer, success or
//! failure, so the first minute of a link posted to a busy chat makes one call to
//! the music server, not one per visitor.

mod entries;

use crate::domain::Track;
use crate::upstream::{Upstream, UpstreamError};
use entries::{Entries, Key, Kind, Lookup};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const TTL: Duration = Duration::from_secs(60);
pub const MAX_ENTRIES: usize = 4096;

/// What we know about one album or song: its tracks, or that the music server no longer has it.
pub type Tracks = Arc<Vec<Track>>;

pub struct MetaCache {
    entries: Entries,
    /// Keys being fetched because they were missing, each with its turn: the first
    /// holder fetches, the others wait; a failure is left in it for those waiting.
    fetching: Mutex<HashMap<Key, Gate>>,
}

type Gate = Arc<tokio::sync::Mutex<Option<UpstreamError>>>;

/// Clears an entry's `refreshing` flag when a refetch ends without storing, even when the
/// request is dropped mid-fetch (the visitor went away), so the next request tries again.
struct RefreshGuard<'a> {
    cache: &'a MetaCache,
    key: &'a Key,
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        self.cache.entries.refresh_ended(self.key);
    }
}

impl Default for MetaCache {
    fn default() -> Self {
        MetaCache::new(TTL, MAX_ENTRIES)
    }
}

impl MetaCache {
    pub fn new(ttl: Duration, max: usize) -> Self {
        MetaCache {
            entries: Entries::new(ttl, max),
            fetching: Mutex::new(HashMap::new()),
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
        let (guard, stale) = match self.entries.lookup(&key) {
            Lookup::Fresh(t) | Lookup::Stale(t) => return Ok(t),
            Lookup::Refresh(stale) => (
                Some(RefreshGuard {
                    cache: self,
                    key: &key,
                }),
                Some(stale),
            ),
            Lookup::Missing => return self.fetch_once(key, fetch).await,
        };
        // Failures (other than "gone") are not cached: the next visit retries.
        let tracks = match (fetch.await, stale) {
            (Ok(t), _) => Arc::new(t),
            (Err(UpstreamError::NotFound), _) => Arc::new(Vec::new()),
            (Err(e), Some(stale)) => {
                log::warn!("refreshing cached metadata failed, serving it a while longer: {e}");
                return Ok(stale);
            }
            (Err(e), None) => return Err(e),
        };
        self.entries.put(key.clone(), tracks.clone());
        drop(guard);
        Ok(tracks)
    }

    /// Fetches a missing key, or waits for the request already fetching it.
    async fn fetch_once(
        &self,
        key: Key,
        fetch: impl std::future::Future<Output = Result<Vec<Track>, UpstreamError>>,
    ) -> Result<Tracks, UpstreamError> {
        let gate = {
            let mut fetching = self.fetching.lock().unwrap_or_else(|e| e.into_inner());
            fetching.entry(key.clone()).or_default().clone()
        };
        let result = {
            let mut turn = gate.lock().await;
            match (self.entries.peek(&key), turn.clone()) {
                (Some(tracks), _) => Ok(tracks),
                (None, Some(failed)) => Err(failed),
                (None, None) => match fetch.await {
                    Ok(t) => Ok(self.entries.put(key.clone(), Arc::new(t))),
                    Err(UpstreamError::NotFound) => {
                        Ok(self.entries.put(key.clone(), Arc::default()))
                    }
                    // Not cached: those waiting now share it, the next visit retries.
                    Err(e) => {
                        *turn = Some(e.clone());
                        Err(e)
                    }
                },
            }
        };
        let mut fetching = self.fetching.lock().unwrap_or_else(|e| e.into_inner());
        // Ours and the map's: nobody else waits, so the next miss starts afresh.
        if Arc::strong_count(&gate) <= 2 {
            fetching.remove(&key);
        }
        result
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
