//! Guessing a share's password is slowed down to nothing: at most `PER_CLIENT` failed
//! attempts (the unlock form or HTTP Basic alike) per share from one client in
//! `CLIENT_WINDOW`, and `PER_SHARE` per share from everyone in `SHARE_WINDOW`. Past either,
//! every attempt is refused before its password is looked at (429 with `Retry-After`), the
//! right one too: otherwise a guesser would learn from the answer which guess was right.
//!
//! Failures are counted per share, not per link (the links open the same password), and
//! clients by `client_ip::client_key` (an IPv6 client is its /64), in this process's memory:
//! each replica counts its own, so N replicas allow N times as many guesses (docs/decisions.md).
//! Memory is bounded: a share keeps at most `PER_SHARE` times per hour, and shares whose
//! failures have all aged out are forgotten.

use super::client_ip::client_key;
use crate::domain::ShareId;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const PER_CLIENT: usize = 10;
pub const CLIENT_WINDOW: Duration = Duration::from_secs(15 * 60);
pub const PER_SHARE: usize = 100;
pub const SHARE_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Past this many shares with failures, the whole map is swept of aged-out ones.
const SWEEP_ABOVE: usize = 4096;

pub struct Throttle {
    ipv6_prefix: u8,
    shares: Mutex<HashMap<ShareId, Failures>>,
}

#[derive(Default)]
struct Failures {
    /// Every failure of the last `SHARE_WINDOW`, oldest first.
    all: VecDeque<Instant>,
    /// Each client's failures of the last `CLIENT_WINDOW`, oldest first.
    by_client: HashMap<IpAddr, VecDeque<Instant>>,
}

impl Failures {
    fn forget_older_than(&mut self, now: Instant) {
        let aged =
            |window: Duration| move |t: &Instant| now.saturating_duration_since(*t) >= window;
        while self.all.front().is_some_and(aged(SHARE_WINDOW)) {
            self.all.pop_front();
        }
        self.by_client.retain(|_, times| {
            while times.front().is_some_and(aged(CLIENT_WINDOW)) {
                times.pop_front();
            }
            !times.is_empty()
        });
    }

    /// Seconds until the next attempt of `client` may be looked at; `None` when it may now.
    fn wait(&self, client: &IpAddr, now: Instant) -> Option<u64> {
        let until = |times: &VecDeque<Instant>, limit: usize, window: Duration| {
            // The attempt that would be one too many waits for the oldest of the last `limit`.
            (times.len() >= limit)
                .then(|| times[times.len() - limit] + window)
                .map(|t| t.saturating_duration_since(now))
        };
        let mine = self
            .by_client
            .get(client)
            .and_then(|t| until(t, PER_CLIENT, CLIENT_WINDOW));
        let everyone = until(&self.all, PER_SHARE, SHARE_WINDOW);
        let wait = mine.into_iter().chain(everyone).max()?;
        // Round up: coming back after the advertised time must be allowed.
        Some((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
    }
}

impl Throttle {
    pub fn new(ipv6_prefix: u8) -> Self {
        Throttle {
            ipv6_prefix,
            shares: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ShareId, Failures>> {
        // Times are pushed and popped whole: a panic elsewhere leaves nothing half-done.
        self.shares.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `ip` may try a password of `share` now; `Err(seconds)` to wait when not.
    pub fn check(&self, share: &ShareId, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let client = client_key(ip, self.ipv6_prefix);
        let mut shares = self.lock();
        let Some(failures) = shares.get_mut(share) else {
            return Ok(());
        };
        failures.forget_older_than(now);
        match failures.wait(&client, now) {
            Some(secs) => Err(secs),
            None => Ok(()),
        }
    }

    /// Counts a wrong password of `share` from `ip`.
    pub fn failed(&self, share: &ShareId, ip: IpAddr, now: Instant) {
        let client = client_key(ip, self.ipv6_prefix);
        let mut shares = self.lock();
        if shares.len() > SWEEP_ABOVE {
            shares.retain(|_, f| {
                f.forget_older_than(now);
                !f.all.is_empty()
            });
        }
        let failures = shares.entry(share.clone()).or_default();
        failures.forget_older_than(now);
        failures.all.push_back(now);
        failures.by_client.entry(client).or_default().push_back(now);
        // Never more than the window's limit is needed to answer `wait`.
        if failures.all.len() > PER_SHARE {
            failures.all.pop_front();
        }
        if let Some(mine) = failures.by_client.get_mut(&client) {
            if mine.len() > PER_CLIENT {
                mine.pop_front();
            }
        }
    }

    #[cfg(test)]
    fn shares_held(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn share(s: &str) -> ShareId {
        ShareId::parse(s).unwrap()
    }

    #[test]
    fn ten_failures_from_one_client_close_the_share_to_it_for_fifteen_minutes() {
        let t = Throttle::new(64);
        let (s, me, start) = (share("abc"), ip("192.0.2.1"), Instant::now());
        for i in 0..PER_CLIENT as u64 {
            let at = start + Duration::from_secs(i);
            assert!(t.check(&s, me, at).is_ok(), "attempt {i}");
            t.failed(&s, me, at);
        }
        let at = start + Duration::from_secs(10);
        let wait = t.check(&s, me, at).unwrap_err();
        assert_eq!(wait, 15 * 60 - 10, "until the first failure ages out");
        assert!(t.check(&s, ip("192.0.2.2"), at).is_ok(), "others may try");
        assert!(t.check(&share("other"), me, at).is_ok(), "other shares too");
        assert!(t.check(&s, me, start + CLIENT_WINDOW).is_ok());
    }

    #[test]
    fn a_hundred_failures_from_anyone_close_the_share_for_an_hour() {
        let t = Throttle::new(64);
        let (s, start) = (share("abc"), Instant::now());
        for i in 0..PER_SHARE {
            let client = ip(&format!("198.51.100.{}", i % 50));
            t.failed(&s, client, start + Duration::from_secs(i as u64));
        }
        let at = start + Duration::from_secs(200);
        let wait = t.check(&s, ip("203.0.113.9"), at).unwrap_err();
        assert_eq!(wait, 3600 - 200);
        assert!(t.check(&s, ip("203.0.113.9"), start + SHARE_WINDOW).is_ok());
    }

    #[test]
    fn one_ipv6_64_is_one_client() {
        let t = Throttle::new(64);
        let (s, now) = (share("abc"), Instant::now());
        for i in 0..PER_CLIENT {
            t.failed(&s, ip(&format!("2001:db8:1:2::{i:x}")), now);
        }
        assert!(t.check(&s, ip("2001:db8:1:2::ffff"), now).is_err());
        assert!(t.check(&s, ip("2001:db8:1:3::1"), now).is_ok());
    }

    #[test]
    fn memory_stays_bounded() {
        let t = Throttle::new(64);
        let (s, now) = (share("abc"), Instant::now());
        for i in 0..10_000u32 {
            let client = IpAddr::from(i.to_be_bytes());
            t.failed(&s, client, now);
        }
        let shares = t.lock();
        let f = &shares[&s];
        assert_eq!(f.all.len(), PER_SHARE);
        assert!(f.by_client.values().all(|v| v.len() <= PER_CLIENT));
        drop(shares);
        // Shares whose failures have aged out are forgotten at the next sweep.
        let later = now + SHARE_WINDOW;
        for i in 0..=SWEEP_ABOVE {
            t.failed(&share(&format!("s{i}")), ip("192.0.2.1"), later);
        }
        t.failed(&share("last"), ip("192.0.2.1"), later);
        assert!(t.shares_held() <= SWEEP_ABOVE + 2);
        assert!(!t.lock().contains_key(&s));
    }
}
