//! The cached lists themselves: bounded, each with its age and whether a request is
//! refetching it. `MetaCache` (the module above) decides who fetches; this decides
//! what an entry's age means.

use super::Tracks;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Album,
    Song,
}

pub type Key = (Kind, String);

struct Entry {
    fetched: Instant,
    tracks: Tracks,
    /// A request is refetching this entry; the others serve it as it is meanwhile.
    refreshing: bool,
}

/// What the cache holds for a key right now.
pub enum Lookup {
    Fresh(Tracks),
    /// Expired, and another request is refetching it: serve this meanwhile.
    Stale(Tracks),
    /// Expired and nobody refetches it yet: this caller does (the flag is set), and
    /// serves the expired list if the music server fails meanwhile.
    Refresh(Tracks),
    Missing,
}

pub struct Entries {
    ttl: Duration,
    max: usize,
    map: Mutex<HashMap<Key, Entry>>,
}

impl Entries {
    pub fn new(ttl: Duration, max: usize) -> Self {
        Entries {
            ttl,
            max: max.max(1),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The entry's list if it is still usable, without starting a refresh.
    pub fn peek(&self, key: &Key) -> Option<Tracks> {
        let map = self.lock();
        let e = map.get(key)?;
        (e.fetched.elapsed() < self.ttl * 2).then(|| e.tracks.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        // A panic while holding the lock cannot leave a half-written entry behind.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn lookup(&self, key: &Key) -> Lookup {
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

    pub fn put(&self, key: Key, tracks: Tracks) -> Tracks {
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

    /// A refetch ended without storing (failed, or its request was dropped): the next request tries again.
    pub fn refresh_ended(&self, key: &Key) {
        if let Some(e) = self.lock().get_mut(key) {
            e.refreshing = false;
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }
}
