//! IPv6 visitors are rate-limited by network (`limits.ipv6Prefix`, /64 by default), not by
//! address: one /64 holds 2^64 addresses, so per-address buckets would be no limit at all.
//! The visitors' addresses come through a trusted proxy's `X-Forwarded-For`.

use crate::support;

use sharelog::config::{Cidr, Settings};
use support::*;

fn behind_a_proxy_with_a_tight_limit(s: &mut Settings) {
    s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
    s.public_access.rate_limit.per_minute = 1;
    s.public_access.rate_limit.burst = 2;
}

/// The status of a public request from `client` (any unknown share: admitted, then 404).
fn status_from(app: &TestApp, client: &str) -> u16 {
    app.raw(
        "GET",
        "/share/nosuchshare",
        &[("X-Forwarded-For", client)],
        None,
    )
    .status()
}

#[test]
fn addresses_in_one_ipv6_64_share_one_rate_limit() {
    let app = spawn_app(behind_a_proxy_with_a_tight_limit);

    assert_eq!(status_from(&app, "2001:db8:1:2::1"), 404);
    assert_eq!(status_from(&app, "[2001:db8:1:2::2]:4711"), 404);
    let third = app.raw(
        "GET",
        "/share/nosuchshare",
        &[("X-Forwarded-For", "2001:db8:1:2:ffff:ffff:ffff:ffff")],
        None,
    );

    assert_eq!(third.status(), 429, "{}", third.text());
    assert_eq!(third.code(), "rate-limited");
    assert_eq!(
        status_from(&app, "2001:db8:1:3::1"),
        404,
        "the next /64 is another client"
    );
    assert_eq!(status_from(&app, "192.0.2.1"), 404);
    assert_eq!(
        status_from(&app, "192.0.2.2"),
        404,
        "IPv4 stays per address"
    );
}

#[test]
fn the_prefix_is_configurable() {
    let app = spawn_app(|s| {
        behind_a_proxy_with_a_tight_limit(s);
        s.limits.ipv6_prefix = 128;
    });
    for i in 1..=4 {
        assert_eq!(status_from(&app, &format!("2001:db8:1:2::{i}")), 404);
    }
}
