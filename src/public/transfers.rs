//! How many streams, downloads and zips may be open at once: per client
//! (`limits.transfersPerClient`, 429) and all together (`limits.transfers`, 503). Clients
//! are counted by `client_ip::client_key`, the same key as the rate limit.
//!
//! A transfer holds two slots. The client's slot lives as long as the answer's body (until
//! the visitor has it all or the connection closes), so a visitor who stops reading uses up
//! only their own allowance. The global slot lives as long as the music server is being
//! read, and a stalled transfer gives it back after `limits.stallTimeout`. A transfer that
//! must end (`transfer_end`: `limits.transferTimeout`, or access ending) gives both back then,
//! whether or not the visitor is still reading.

use super::client_ip::client_key;
use super::transfer_end::{Bound, Ends};
use super::Recheck;
use crate::config::Limits;
use crate::error::{ApiError, ErrorCode};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// Seconds a refused visitor is told to wait.
const RETRY_AFTER_SECS: u64 = 5;

pub struct Transfers {
    limits: Limits,
    counts: Arc<Mutex<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    total: u32,
    by_client: HashMap<IpAddr, u32>,
}

/// One client's share of a transfer; given back on drop.
#[derive(Debug)]
pub struct ClientSlot {
    key: IpAddr,
    counts: Arc<Mutex<Counts>>,
}

/// A transfer's share of the global limit (a music-server connection); given back on drop.
#[derive(Debug)]
pub struct UpstreamSlot {
    counts: Arc<Mutex<Counts>>,
}

/// An admitted stream, download or zip: its slots and what ends it early. A cover passes
/// through the same pipe with no slots (`Transfer::unslotted`).
pub struct Transfer {
    pub client: Option<ClientSlot>,
    pub upstream: Option<UpstreamSlot>,
    pub ends: Ends,
}

impl Transfer {
    /// A body that holds no transfer slot, ended only by `ends`.
    pub fn unslotted(ends: Ends) -> Self {
        Transfer {
            client: None,
            upstream: None,
            ends,
        }
    }
}

fn lock(counts: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    // Counts are updated in single statements: a poisoned lock still holds whole numbers.
    counts.lock().unwrap_or_else(|e| e.into_inner())
}

impl Transfers {
    pub fn new(limits: &Limits) -> Self {
        Transfers {
            limits: *limits,
            counts: Arc::default(),
        }
    }

    /// A new transfer by `ip`: both slots, `limits.transferTimeout` from now, and `access`
    /// taken again while it runs; or the answer that refuses it.
    pub fn admit(&self, ip: IpAddr, access: Recheck) -> Result<Transfer, ApiError> {
        let (client, upstream) = self.slots(ip)?;
        Ok(Transfer {
            client: Some(client),
            upstream: Some(upstream),
            ends: Ends::from_now(
                Bound::Transfer(self.limits.transfer_timeout()),
                Some(access),
            ),
        })
    }

    /// Both slots for a new transfer by `ip`, or the answer that refuses it.
    fn slots(&self, ip: IpAddr) -> Result<(ClientSlot, UpstreamSlot), ApiError> {
        let key = client_key(ip, self.limits.ipv6_prefix);
        let mut counts = lock(&self.counts);
        let mine = counts.by_client.get(&key).copied().unwrap_or(0);
        if mine >= self.limits.transfers_per_client {
            return Err(refusal(
                ErrorCode::TooManyTransfers,
                "too many streams and downloads open from this address; finish one first",
            ));
        }
        if counts.total >= self.limits.transfers {
            return Err(refusal(
                ErrorCode::TransfersBusy,
                "too many streams and downloads are open right now; try again shortly",
            ));
        }
        counts.total += 1;
        *counts.by_client.entry(key).or_default() += 1;
        drop(counts);
        Ok((
            ClientSlot {
                key,
                counts: self.counts.clone(),
            },
            UpstreamSlot {
                counts: self.counts.clone(),
            },
        ))
    }
}

fn refusal(code: ErrorCode, message: &str) -> ApiError {
    ApiError {
        retry_after: Some(RETRY_AFTER_SECS),
        ..ApiError::new(code, message)
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        if let Some(n) = counts.by_client.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.by_client.remove(&self.key);
            }
        }
    }
}

impl Drop for UpstreamSlot {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        counts.total = counts.total.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_client: u32, total: u32) -> Limits {
        Limits {
            transfers_per_client: per_client,
            transfers: total,
            ..Limits::default()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_client_past_its_allowance_gets_429_until_a_slot_is_given_back() {
        let t = Transfers::new(&limits(2, 10));
        let first = t.slots(ip("192.0.2.1")).unwrap();
        let _second = t.slots(ip("192.0.2.1")).unwrap();
        assert_eq!(t.slots(ip("192.0.2.1")).unwrap_err().status, 429);
        assert!(t.slots(ip("192.0.2.2")).is_ok(), "others are not held back");
        drop(first);
        assert!(t.slots(ip("192.0.2.1")).is_ok());
    }

    #[test]
    fn past_the_global_limit_everyone_gets_503() {
        let t = Transfers::new(&limits(5, 2));
        let (_c1, u1) = t.slots(ip("192.0.2.1")).unwrap();
        let _both = t.slots(ip("192.0.2.2")).unwrap();
        let e = t.slots(ip("192.0.2.3")).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code.as_str()),
            (503, "transfers-busy")
        );
        drop(u1); // the music-server side of a stalled transfer was dropped
        assert!(t.slots(ip("192.0.2.3")).is_ok());
    }

    #[test]
    fn one_ipv6_64_is_one_client() {
        let t = Transfers::new(&limits(1, 10));
        let _held = t.slots(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(t.slots(ip("2001:db8:1:2::99")).unwrap_err().status, 429);
        assert!(t.slots(ip("2001:db8:1:3::1")).is_ok());
    }
}
