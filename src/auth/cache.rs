//! A short-lived verdict cache for delegated logins. Keys are SHA-256 digests of the
//! credentials, so neither a token nor a password is ever kept here.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest a verdict is trusted: a revoked login stops working within this.
pub const MAX_TTL: Duration = Duration::from_secs(30);

/// Bound on entries, so a flood of distinct bad credentials cannot grow memory without end.
const MAX_ENTRIES: usize = 10_000;

/// The SHA-256 digest of the parts, each length-prefixed so ("ab","c") and ("a","bc") differ.
pub fn key(parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

/// Verdicts (valid and invalid alike) for at most `ttl`; outages are never cached.
pub struct VerdictCache<V> {
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], (Instant, V)>>,
}

impl<V: Clone> VerdictCache<V> {
    /// `ttl` is capped at [`MAX_TTL`].
    pub fn new(ttl: Duration) -> Self {
        VerdictCache {
            ttl: ttl.min(MAX_TTL),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: [u8; 32], verdict: V) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), verdict));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_is_forgotten_after_its_ttl() {
        let c = VerdictCache::new(Duration::from_millis(20));
        c.put(key(&["t"]), true);
        assert_eq!(c.get(&key(&["t"])), Some(true));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(c.get(&key(&["t"])), None);
    }

    #[test]
    fn the_ttl_is_capped_at_thirty_seconds() {
        let c = VerdictCache::<bool>::new(Duration::from_secs(3600));
        assert_eq!(c.ttl, MAX_TTL);
    }

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
    }
}
