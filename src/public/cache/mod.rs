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

type Key = (Kind, String);

struct Entry {
    fetched: Instant,
    tracks: Tracks,
    /// A request is refetching this entry; the others serve it as it is meanwhile.
    refreshing: bool,
}

pub struct MetaCache {
    ttl: Duration,
    max: usize,
    entries: Mutex<HashMap<Key, Entry>>,
    /// Keys being fetched because they were missing, each with its turn: the first
    /// holder fetches, the others wait; a failure is left in it for those waiting.
    fetching: Mutex<HashMap<Key, Gate>>,
}

type Gate = Arc<tokio::sync::Mutex<Option<UpstreamError>>>;

/// What the cache holds for a key right now.
enum Lookup {
    Fresh(Tracks),
    /// Expired, and another request is refetching it: serve this meanwhile.
    Stale(Tracks),
    /// Expired and nobody refetches it yet: this caller does (the flag is set), and
    /// serves the expired list if the music server fails meanwhile.
    Refresh(Tracks),
    Missing,
}

/// Clears an entry's `refreshing` flag when a refetch ends without storing, even when the
/// request is dropped mid-fetch (the visitor went away), so the next request tries again.
struct RefreshGuard<'a> {
    cache: &'a MetaCache,
    key: &'a Key,
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        if let Some(e) = self.cache.lock().get_mut(self.key) {
            e.refreshing = false;
        }
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
            ttl,
            max: max.max(1),
            entries: Mutex::new(HashMap::new()),
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
        let (guard, stale) = match self.lookup(&key) {
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
        self.put(key.clone(), tracks.clone());
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
            match (self.peek(&key), turn.clone()) {
                (Some(tracks), _) => Ok(tracks),
                (None, Some(failed)) => Err(failed),
                (None, None) => match fetch.await {
                    Ok(t) => Ok(self.put(key.clone(), Arc::new(t))),
                    Err(UpstreamError::NotFound) => Ok(self.put(key.clone(), Arc::default())),
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

    /// The entry's list if it is still usable, without starting a refresh.
    fn peek(&self, key: &Key) -> Option<Tracks> {
        let map = self.lock();
        let e = map.get(key)?;
        (e.fetched.elapsed() < self.ttl * 2).then(|| e.tracks.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        // A panic while holding the lock cannot leave a half-written entry behind.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lookup(&self, key: &Key) -> Lookup {
        let mut map = self.lock();
        let Some(e) = map.get_mut(key) else {
            return Lookup::Missing;
        };
        let age = e.fetched.elapsed();
        if age < self.ttl {
            Lookup::Fresh(e.tracks.clone())
        } else if age >= self.ttl * 2 {
            Lookup::Missing
        } else if e.refreshing {
            Lookup::Stale(e.tracks.clone())
        } else {
            e.refreshing = true;
            Lookup::Refresh(e.tracks.clone())
        }
    }

    fn put(&self, key: Key, tracks: Tracks) -> Tracks {
        let mut map = self.lock();
        if map.len() >= self.max && !map.contains_key(&key) {
            map.retain(|_, e| e.fetched.elapsed() < self.ttl * 2);
            if map.len() >= self.max {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, e)| e.fetched)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    map.remove(&k);
                }
            }
        }
        map.insert(
            key,
            Entry {
                fetched: Instant::now(),
                tracks: tracks.clone(),
                refreshing: false,
            },
        );
        tracks
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
    async fn one_request_refetches_an_expired_entry_while_the_others_serve_it_as_it_was() {
        let c = MetaCache::new(Duration::from_millis(50), 3);
        c.get_or_fetch(Kind::Album, "a", fetch("1")).await.unwrap();
        std::thread::sleep(Duration::from_millis(60));
        // The refetch is under way (its future polled once, then parked on the music server).
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let refetch = c.get_or_fetch(Kind::Album, "a", async {
            let _ = rx.await;
            fetch("2").await
        });
        let mut refetch = Box::pin(refetch);
        assert!(futures_util::FutureExt::now_or_never(&mut refetch).is_none());
        let meanwhile = c
            .get_or_fetch(Kind::Album, "a", async { panic!("a second fetch") })
            .await
            .unwrap();
        assert_eq!(meanwhile[0].id, "1");
        let _ = tx.send(());
        assert_eq!(refetch.await.unwrap()[0].id, "2");
        assert_eq!(
            c.get_or_fetch(Kind::Album, "a", fetch("3")).await.unwrap()[0].id,
            "2"
        );
    }

    #[actix_web::test]
    async fn a_refetch_that_is_dropped_or_fails_lets_the_next_request_try_and_serves_the_old_list()
    {
        let c = MetaCache::new(Duration::from_millis(50), 3);
        c.get_or_fetch(Kind::Song, "s", fetch("1")).await.unwrap();
        std::thread::sleep(Duration::from_millis(60));
        let mut dropped = Box::pin(c.get_or_fetch(Kind::Song, "s", std::future::pending()));
        assert!(futures_util::FutureExt::now_or_never(&mut dropped).is_none());
        drop(dropped);
        // The music server is down: the expired list is served rather than a 502.
        let failed = c
            .get_or_fetch(Kind::Song, "s", async {
                Err(UpstreamError::Unavailable("down".into()))
            })
            .await;
        assert_eq!(failed.unwrap()[0].id, "1");
        assert_eq!(
            c.get_or_fetch(Kind::Song, "s", fetch("2")).await.unwrap()[0].id,
            "2"
        );
        // Past twice the ttl an entry is gone: a failure is a failure again.
        std::thread::sleep(Duration::from_millis(110));
        let gone = c
            .get_or_fetch(Kind::Song, "s", async {
                Err(UpstreamError::Unavailable("down".into()))
            })
            .await;
        assert!(gone.is_err());
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

    #[actix_web::test]
    async fn concurrent_misses_fetch_once_and_share_the_answer_or_the_failure() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let c = MetaCache::new(Duration::from_secs(60), 10);
        let calls = AtomicUsize::new(0);
        for (outcome, id) in [(Ok(()), "a"), (Err(()), "b")] {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let rx = std::sync::Mutex::new(Some(rx));
            let one = |_| {
                c.get_or_fetch(Kind::Album, id, async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    let waiting = rx.lock().unwrap().take();
                    if let Some(rx) = waiting {
                        let _ = rx.await;
                    }
                    match outcome {
                        Ok(()) => fetch("1").await,
                        Err(()) => Err(UpstreamError::Unavailable("down".into())),
                    }
                })
            };
            let mut all: Vec<_> = (0..16).map(|i| Box::pin(one(i))).collect();
            for f in all.iter_mut() {
                assert!(futures_util::FutureExt::now_or_never(f).is_none());
            }
            let _ = tx.send(());
            let results = futures_util::future::join_all(all).await;
            assert!(results.iter().all(|r| r.is_ok() == outcome.is_ok()));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one fetch per key");
        // A shared failure is not kept: the next request fetches again.
        let again = c.get_or_fetch(Kind::Album, "b", fetch("2")).await.unwrap();
        assert_eq!(again[0].id, "2");
    }
}
