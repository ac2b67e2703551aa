//! Who may open public links at all: `publicAccess.allow/deny` (403) and the per-client rate
//! limit (429 with `Retry-After`), a token bucket from the `governor` crate (MIT). Clients are
//! counted by `client_ip::client_key` (an IPv6 client is its /64 by default).

use super::client_ip::client_key;
use crate::config::PublicAccess;
use crate::error::{ApiError, ErrorCode};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// Forget idle clients every this many checks, so the limiter's map stays small.
const PRUNE_EVERY: u64 = 4096;

pub struct Access {
    rules: PublicAccess,
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    checks: AtomicU64,
    /// `limits.ipv6Prefix`.
    ipv6_prefix: u8,
}

impl Access {
    pub fn new(rules: &PublicAccess, ipv6_prefix: u8) -> Self {
        let rl = rules.rate_limit;
        let limiter = NonZeroU32::new(rl.per_minute).map(|per_minute| {
            let burst = NonZeroU32::new(rl.burst).unwrap_or(per_minute);
            governor::RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
        });
        Access {
            rules: rules.clone(),
            limiter,
            checks: AtomicU64::new(0),
            ipv6_prefix,
        }
    }

    /// Lets `ip` in, or says why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        let allowed =
            self.rules.allow.is_empty() || self.rules.allow.iter().any(|c| c.contains(ip));
        if !allowed || self.rules.deny.iter().any(|c| c.contains(ip)) {
            return Err(ApiError::new(
                ErrorCode::AccessDenied,
                "public links are not available from this address",
            ));
        }
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter
            .check_key(&client_key(ip, self.ipv6_prefix))
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                // Round up: retrying after the advertised time must succeed.
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                ApiError {
                    retry_after: Some(secs.max(1)),
                    ..ApiError::new(ErrorCode::RateLimited, "too many requests; try again later")
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Cidr, RateLimit};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn deny_wins_over_allow() {
        let a = Access::new(
            &PublicAccess {
                allow: vec![Cidr::parse("10.0.0.0/8").unwrap()],
                deny: vec![Cidr::parse("10.9.0.0/16").unwrap()],
                rate_limit: RateLimit {
                    per_minute: 0,
                    burst: 0,
                },
                ..PublicAccess::default()
            },
            64,
        );
        assert!(a.check(ip("10.1.1.1")).is_ok());
        assert_eq!(a.check(ip("10.9.1.1")).unwrap_err().status, 403);
        assert_eq!(a.check(ip("192.0.2.1")).unwrap_err().status, 403);
    }

    #[test]
    fn past_the_burst_the_answer_is_429_with_a_retry_time() {
        let a = Access::new(
            &PublicAccess {
                rate_limit: RateLimit {
                    per_minute: 1,
                    burst: 2,
                },
                ..PublicAccess::default()
            },
            64,
        );
        assert!(a.check(ip("192.0.2.1")).is_ok());
        assert!(a.check(ip("192.0.2.1")).is_ok());
        let e = a.check(ip("192.0.2.1")).unwrap_err();
        assert_eq!(e.status, 429);
        assert!(matches!(e.retry_after, Some(s) if (1..=60).contains(&s)));
        assert!(a.check(ip("192.0.2.2")).is_ok(), "limits are per address");
    }
}
