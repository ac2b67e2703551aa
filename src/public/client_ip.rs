//! Who is asking: the TCP peer, or (only behind a trusted proxy) the right-most untrusted
//! `X-Forwarded-For` entry; what counts as one client for limits; and how much of that
//! address the audit log may keep.
//! A client-sent `Forwarded` header is never read: only proxies we trust set the header we read.

use crate::config::{ClientIpMode, Settings};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use time::{Date, OffsetDateTime};

/// The visitor's address as we decided to believe it.
pub fn resolve(settings: &Settings, peer: Option<IpAddr>, forwarded_for: &[&str]) -> IpAddr {
    let peer = normalize(peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    if !settings.is_trusted_proxy(peer) {
        return peer;
    }
    // Right to left: each trusted hop vouches for the one before it. The first address
    // we do not trust is the client; a malformed entry ends the chain at the last good hop.
    let mut client = peer;
    for entry in forwarded_for
        .iter()
        .rev()
        .flat_map(|h| h.rsplit(','))
        .map(str::trim)
    {
        let Some(ip) = parse_entry(entry) else {
            break;
        };
        client = normalize(ip);
        if !settings.is_trusted_proxy(client) {
            break;
        }
    }
    client
}

/// What one client is, for the rate limit and the transfer limits: an IPv4 address, or the
/// IPv6 network of `v6_prefix` bits around the address. One subscriber usually gets a whole
/// /64, so keying IPv6 by address would give one visitor 2^64 allowances.
pub fn client_key(ip: IpAddr, v6_prefix: u8) -> IpAddr {
    match normalize(ip) {
        IpAddr::V6(v6) => {
            let bits = u32::from(v6_prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
        v4 => v4,
    }
}

/// `1.2.3.4`, `1.2.3.4:567`, `::1` or `[::1]:567`.
fn parse_entry(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    s.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Turns an address into what `audit.clientIp` allows the log to keep.
pub struct IpRecorder {
    mode: ClientIpMode,
    /// Random, kept by the store (the same for every replica); day keys are derived from it.
    secret: [u8; 32],
    /// The day's key, derived once per UTC day instead of once per visit.
    day_key: Mutex<Option<(Date, [u8; 32])>>,
}

/// The name of the hash secret in the store (`ip-hash.key` in a sled data dir).
pub const SECRET_NAME: &str = "ip-hash";

impl IpRecorder {
    pub fn new(mode: ClientIpMode, secret: [u8; 32]) -> Self {
        IpRecorder {
            mode,
            secret,
            day_key: Mutex::new(None),
        }
    }

    pub fn record(&self, ip: IpAddr, now: OffsetDateTime) -> Option<String> {
        match self.mode {
            ClientIpMode::Full => Some(ip.to_string()),
            ClientIpMode::Truncate => Some(truncate(ip).to_string()),
            ClientIpMode::Hash => Some(self.hash(ip, now)),
            ClientIpMode::None => None,
        }
    }

    /// A keyed hash that changes every UTC day: visits can be told apart within a day,
    /// but not followed across days, and nobody without the secret can test a guess.
    fn hash(&self, ip: IpAddr, now: OffsetDateTime) -> String {
        let day_key = self.day_key(now.date());
        let mac = hmac(&day_key, ip.to_string().as_bytes());
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        mac[..12]
            .iter()
            .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
            .map(char::from)
            .collect()
    }

    fn day_key(&self, day: Date) -> [u8; 32] {
        // A poisoned lock holds a whole (day, key) pair or None: both are usable.
        let mut cached = self.day_key.lock().unwrap_or_else(|e| e.into_inner());
        match *cached {
            Some((d, key)) if d == day => key,
            _ => {
                let key = hmac(&self.secret, day.to_string().as_bytes());
                *cached = Some((day, key));
                key
            }
        }
    }
}

/// IPv4 to its /24, IPv6 to its /48.
fn truncate(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & 0xffff_ff00)),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << (128 - 48)))),
    }
}

/// HMAC-SHA256 (RFC 2104) for a key of at most one block.
pub(super) fn hmac(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let pad = |b: u8| block.map(|k| k ^ b);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Cidr;

    fn settings(trusted: &[&str]) -> Settings {
        Settings {
            trusted_proxies: trusted.iter().map(|c| Cidr::parse(c).unwrap()).collect(),
            ..Settings::default()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let s = settings(&[]);
        assert_eq!(
            resolve(&s, Some(ip("127.0.0.1")), &["203.0.113.9"]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_entry_is_the_client() {
        let s = settings(&["10.0.0.0/8"]);
        let xff = ["6.6.6.6, 203.0.113.9", "10.1.1.1"];
        assert_eq!(resolve(&s, Some(ip("10.0.0.1")), &xff), ip("203.0.113.9"));
    }

    #[test]
    fn a_malformed_entry_stops_at_the_last_good_hop() {
        let s = settings(&["10.0.0.0/8"]);
        let xff = ["203.0.113.9, junk, 10.2.2.2"];
        assert_eq!(resolve(&s, Some(ip("10.0.0.1")), &xff), ip("10.2.2.2"));
    }

    #[test]
    fn entries_with_ports_are_understood() {
        assert_eq!(parse_entry("1.2.3.4:80"), Some(ip("1.2.3.4")));
        assert_eq!(parse_entry("[2001:db8::1]:80"), Some(ip("2001:db8::1")));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_network() {
        let key = |s| client_key(ip(s), 64);
        assert_eq!(key("2001:db8:1:2:aaaa::1"), ip("2001:db8:1:2::"));
        assert_eq!(
            key("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            ip("2001:db8:1:2::")
        );
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(client_key(ip("2001:db8::1"), 128), ip("2001:db8::1"));
        assert_eq!(client_key(ip("2001:db8::1"), 48), ip("2001:db8::"));
        assert_eq!(client_key(ip("2001:db8::1"), 1), ip("::"));
        assert_eq!(key("203.0.113.9"), ip("203.0.113.9"));
        assert_eq!(key("::ffff:203.0.113.9"), ip("203.0.113.9"));
    }

    #[test]
    fn truncation_keeps_the_network_only() {
        assert_eq!(truncate(ip("203.0.113.9")), ip("203.0.113.0"));
        assert_eq!(truncate(ip("2001:db8:1:2::3")), ip("2001:db8:1::"));
    }

    #[test]
    fn hashes_are_stable_within_a_day_and_change_across_days() {
        let secret = [9u8; 32];
        let r = IpRecorder::new(ClientIpMode::Hash, secret);
        let day1 = time::macros::datetime!(2026-01-01 10:00 UTC);
        let later = time::macros::datetime!(2026-01-01 23:00 UTC);
        let day2 = time::macros::datetime!(2026-01-02 10:00 UTC);
        let a = r.record(ip("203.0.113.9"), day1).unwrap();
        assert_eq!(Some(a.clone()), r.record(ip("203.0.113.9"), later));
        assert_ne!(Some(a.clone()), r.record(ip("203.0.113.9"), day2));
        assert_ne!(Some(a.clone()), r.record(ip("203.0.113.8"), day1));
        let reopened = IpRecorder::new(ClientIpMode::Hash, secret);
        assert_eq!(Some(a), reopened.record(ip("203.0.113.9"), day1));
    }

    #[test]
    fn the_hash_is_hmac_sha256_of_the_address_under_the_day_key() {
        // Independently: hmac(hmac(secret, "2026-11-26"), "192.0.2.7")[:12], with Python's hmac.
        let secret: [u8; 32] = std::array::from_fn(|i| i as u8);
        let r = IpRecorder::new(ClientIpMode::Hash, secret);
        let at = time::macros::datetime!(2026-11-26 12:00 UTC);
        assert_eq!(
            r.record(ip("192.0.2.7"), at).as_deref(),
            Some("9dee7934770b47dad1bffc56")
        );
    }
}
