//! Failed sign-ins, counted so that a password cannot be guessed: at most 10 failures per
//! user name per client in 15 minutes, and 100 per user name from everywhere in an hour (the
//! limits of a share's unlock form). Past either, every attempt for that name from that client
//! (or from everyone) is refused with a time to wait, even with the right password: an answer
//! that told the right password apart would let the guessing go on.
//!
//! Kept in each process's memory: a client spreading guesses over several replicas gets each
//! replica's allowance, which multiplies the limits by the number of replicas only.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A limit: `max` failures within `window`.
#[derive(Clone, Copy)]
struct Limit {
    max: usize,
    window: Duration,
}

const PER_CLIENT: Limit = Limit {
    max: 10,
    window: Duration::from_secs(15 * 60),
};
const PER_NAME: Limit = Limit {
    max: 100,
    window: Duration::from_secs(3600),
};

/// Bound on the names and clients remembered, so a flood of made-up names cannot grow
/// memory without end; past it, entries with nothing left in their window go first.
const MAX_KEYS: usize = 100_000;

/// The failure times of one key, oldest first, at most its limit's `max`.
#[derive(Default)]
struct Failures(VecDeque<Instant>);

impl Failures {
    fn prune(&mut self, limit: Limit, now: Instant) {
        while self
            .0
            .front()
            .is_some_and(|t| now.duration_since(*t) >= limit.window)
        {
            self.0.pop_front();
        }
    }

    /// How long until one more attempt is allowed, if none is now.
    fn wait(&self, limit: Limit, now: Instant) -> Option<Duration> {
        if self.0.len() < limit.max {
            return None;
        }
        self.0
            .front()
            .map(|oldest| (*oldest + limit.window).saturating_duration_since(now))
    }

    fn push(&mut self, limit: Limit, now: Instant) {
        if self.0.len() >= limit.max {
            self.0.pop_front();
        }
        self.0.push_back(now);
    }
}

#[derive(Default)]
struct Counts {
    by_client: HashMap<(String, IpAddr), Failures>,
    by_name: HashMap<String, Failures>,
}

/// Failed sign-ins of the last hour.
#[derive(Default)]
pub struct Throttle {
    counts: Mutex<Counts>,
}

/// The one spelling of a user name for counting: music servers match names without case.
fn name_key(username: &str) -> String {
    username.trim().to_lowercase()
}

impl Throttle {
    /// `Err(seconds to wait)` when `username` may not be tried from `client` now.
    pub fn check(&self, username: &str, client: IpAddr, now: Instant) -> Result<(), u64> {
        let Ok(mut counts) = self.counts.lock() else {
            return Ok(());
        };
        let name = name_key(username);
        let mut waits = Vec::new();
        if let Some(f) = counts.by_client.get_mut(&(name.clone(), client)) {
            f.prune(PER_CLIENT, now);
            waits.extend(f.wait(PER_CLIENT, now));
        }
        if let Some(f) = counts.by_name.get_mut(&name) {
            f.prune(PER_NAME, now);
            waits.extend(f.wait(PER_NAME, now));
        }
        match waits.into_iter().max() {
            // Whole seconds, rounded up, and at least one: "Retry-After: 0" invites a retry now.
            Some(wait) => Err(wait.as_secs() + 1),
            None => Ok(()),
        }
    }

    /// Counts a failed sign-in of `username` from `client`.
    pub fn failed(&self, username: &str, client: IpAddr, now: Instant) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        let counts = &mut *counts;
        let name = name_key(username);
        if counts.by_client.len() >= MAX_KEYS {
            counts.by_client.retain(|_, f| {
                f.prune(PER_CLIENT, now);
                !f.0.is_empty()
            });
            // Still full of recent failures: forget one client's rather than grow.
            if let Some(k) = (counts.by_client.len() >= MAX_KEYS)
                .then(|| counts.by_client.keys().next().cloned())
                .flatten()
            {
                counts.by_client.remove(&k);
            }
        }
        if counts.by_name.len() >= MAX_KEYS {
            counts.by_name.retain(|_, f| {
                f.prune(PER_NAME, now);
                !f.0.is_empty()
            });
            if let Some(k) = (counts.by_name.len() >= MAX_KEYS)
                .then(|| counts.by_name.keys().next().cloned())
                .flatten()
            {
                counts.by_name.remove(&k);
            }
        }
        counts
            .by_client
            .entry((name.clone(), client))
            .or_default()
            .push(PER_CLIENT, now);
        counts.by_name.entry(name).or_default().push(PER_NAME, now);
    }

    /// A right password from `client` clears that client's count for `username` (not the
    /// count from everywhere: guesses from elsewhere still count against the name).
    pub fn succeeded(&self, username: &str, client: IpAddr) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.by_client.remove(&(name_key(username), client));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ten_failures_from_a_client_stop_that_name_there_for_fifteen_minutes() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..10 {
            assert_eq!(t.check("alice", ip("10.0.0.1"), now), Ok(()), "attempt {i}");
            t.failed("alice", ip("10.0.0.1"), now);
        }
        assert_eq!(t.check("alice", ip("10.0.0.1"), now), Err(15 * 60 + 1));
        assert_eq!(t.check("ALICE ", ip("10.0.0.1"), now), Err(15 * 60 + 1));
        // Another client, and another name, are not held up
        assert_eq!(t.check("alice", ip("10.0.0.2"), now), Ok(()));
        assert_eq!(t.check("bob", ip("10.0.0.1"), now), Ok(()));
        // And the oldest failure leaving the window lets one more attempt in
        let later = now + Duration::from_secs(15 * 60);
        assert_eq!(t.check("alice", ip("10.0.0.1"), later), Ok(()));
    }

    #[test]
    fn a_right_password_clears_the_clients_count() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..9 {
            t.failed("alice", ip("10.0.0.1"), now);
        }
        t.succeeded("alice", ip("10.0.0.1"));
        for _ in 0..9 {
            t.failed("alice", ip("10.0.0.1"), now);
        }
        assert_eq!(t.check("alice", ip("10.0.0.1"), now), Ok(()));
    }

    #[test]
    fn a_hundred_failures_from_everywhere_stop_the_name_for_an_hour() {
        let t = Throttle::default();
        let start = Instant::now();
        for i in 0..100u32 {
            let client = IpAddr::from([10, 1, (i / 200) as u8, (i % 200) as u8]);
            let at = start + Duration::from_secs(u64::from(i));
            assert_eq!(t.check("alice", client, at), Ok(()), "attempt {i}");
            t.failed("alice", client, at);
        }
        let now = start + Duration::from_secs(100);
        let wait = t.check("alice", ip("192.0.2.1"), now).unwrap_err();
        assert_eq!(wait, 3600 - 100 + 1);
        assert_eq!(t.check("bob", ip("192.0.2.1"), now), Ok(()));
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_names() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..(MAX_KEYS + 10) {
            t.failed(&format!("user{i}"), ip("10.0.0.1"), now);
        }
        let counts = t.counts.lock().unwrap();
        assert!(counts.by_client.len() <= MAX_KEYS);
        assert!(counts.by_name.len() <= MAX_KEYS);
    }
}
