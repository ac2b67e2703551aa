//! Delegated login: with `auth.navidromeUrl`, tokens are verified by Navidrome's keepalive
//! (here a stand-in with Navidrome's semantics, tests/support/navidrome_standin.rs).

use crate::support;
use crate::support::navidrome_standin;

use jwt_simple::prelude::Duration;
use navidrome_standin::{sign, NavidromeStandIn};
use serde_json::json;
use support::{alice, spawn_app, upstream, TestApp};

const ND_SECRET: &str = "navidrome-own-secret-never-shared";

/// A sharelog that knows no secret: it can only ask Navidrome.
fn delegated_app(nd_url: &str) -> TestApp {
    let url = nd_url.to_string();
    spawn_app(move |s| {
        s.auth.jwt_secret = String::new();
        s.auth.navidrome_url = url;
    })
}

#[test]
fn a_token_navidrome_accepts_is_let_in_with_its_claims() {
    let nd = NavidromeStandIn::start(ND_SECRET);
    let app = delegated_app(&nd.url);
    let token = nd.token("alice", "nd-uid-alice", false);
    let share = app.create(
        &token,
        json!({"albums": [upstream::shared().album("Alpha").id]}),
    );
    assert_eq!(share["userId"], "nd-uid-alice");
    assert_eq!(share["username"], "alice");
}

#[test]
fn a_token_navidrome_refuses_is_unauthorized() {
    let nd = NavidromeStandIn::start(ND_SECRET);
    let app = delegated_app(&nd.url);
    let forged = sign(
        "not-navidromes-secret-at-all",
        "alice",
        "x",
        true,
        Duration::from_hours(1),
    );
    let r = app.req("GET", "/api/share", Some(&forged), None);
    assert_eq!((r.status(), r.code().as_str()), (401, "unauthorized"));
    assert_eq!(nd.hits(), 1);
}

#[test]
fn an_expired_token_is_refused_without_asking_navidrome() {
    let nd = NavidromeStandIn::start(ND_SECRET);
    let app = delegated_app(&nd.url);
    let expired = sign(ND_SECRET, "alice", "u", false, Duration::from_secs(1));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let r = app.req("GET", "/api/share", Some(&expired), None);
    assert_eq!(r.status(), 401);
    assert_eq!(nd.hits(), 0);
}

#[test]
fn verdicts_are_cached_briefly() {
    let nd = NavidromeStandIn::start(ND_SECRET);
    let app = delegated_app(&nd.url);
    let token = nd.token("alice", "u1", false);
    for _ in 0..3 {
        assert_eq!(
            app.req("GET", "/api/share", Some(&token), None).status(),
            200
        );
    }
    assert_eq!(nd.hits(), 1);
}

#[test]
fn navidrome_unreachable_is_503_never_a_pass() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = delegated_app(&url);
    let token = sign(ND_SECRET, "alice", "u1", false, Duration::from_hours(1));
    let r = app.req("GET", "/api/share", Some(&token), None);
    assert_eq!((r.status(), r.code().as_str()), (503, "auth-unavailable"));
}

#[test]
fn navidrome_failing_is_503_and_not_cached() {
    let nd = NavidromeStandIn::start(ND_SECRET);
    let app = delegated_app(&nd.url);
    let token = nd.token("alice", "u1", false);
    nd.set_failing(true);
    let r = app.req("GET", "/api/share", Some(&token), None);
    assert_eq!((r.status(), r.code().as_str()), (503, "auth-unavailable"));
    nd.set_failing(false);
    assert_eq!(
        app.req("GET", "/api/share", Some(&token), None).status(),
        200
    );
}

#[test]
fn with_both_configured_a_local_token_never_reaches_navidrome() {
    let nd = NavidromeStandIn::start(ND_SECRET);
    let url = nd.url.clone();
    let app = spawn_app(move |s| s.auth.navidrome_url = url);
    assert_eq!(
        app.req("GET", "/api/share", Some(&alice()), None).status(),
        200
    );
    assert_eq!(nd.hits(), 0);
    let nd_token = nd.token("alice", "u-alice", false);
    assert_eq!(
        app.req("GET", "/api/share", Some(&nd_token), None).status(),
        200
    );
    assert_eq!(nd.hits(), 1);
}
