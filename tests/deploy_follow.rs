//! The live audit feed through real nginx with the shipped `deploy/nginx.conf`:
//! each event and each heartbeat reaches the follower as soon as sharelog sends it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/follow_client.rs"]
mod follow_client;
#[path = "support/nginx.rs"]
mod nginx;
mod support;

use follow_client::{seq_of, FollowClient, Got};
use serde_json::json;
use std::time::Duration;
use support::*;

#[test]
fn a_follower_behind_nginx_gets_each_event_and_heartbeat_unbuffered() {
    // Given sharelog (heartbeat every second) behind nginx with the shipped config
    let up = upstream::shared();
    let app = spawn_app(|s| s.audit.heartbeat_seconds = 1);
    let port = free_port();
    let conf = nginx::config(&format!("127.0.0.1:{}", app.port), up.addr(), port);
    let proxy = nginx::Nginx::start(&conf, port);
    let songs = &up.album("Alpha").songs;
    let id = app.create(&alice(), json!({"songs": [songs[0].id]}))["id"]
        .as_str()
        .unwrap()
        .to_string();

    // When an admin follows the feed through the proxy
    let mut follower = FollowClient::open(&proxy.addr(), "/api/audit?follow=true", &admin());
    assert_eq!(follower.status, 200, "{}", proxy.error_log());
    assert_eq!(
        follower.header("Content-Type").as_deref(),
        Some("application/x-ndjson")
    );
    let backlog = follower.lines_until(1, Duration::from_secs(10));
    assert_eq!(seq_of(&backlog[0]), 1);

    // Then a heartbeat passes the proxy while nothing happens
    assert_eq!(follower.next(Duration::from_secs(5)), Got::Heartbeat);
    // And each new event arrives on its own, at once: nothing waits to fill a buffer
    for n in 2..=4u64 {
        let put = app.req(
            "PUT",
            &format!("/api/share/{id}"),
            Some(&alice()),
            Some(&json!({ "description": format!("update {n}") })),
        );
        assert_eq!(put.status(), 200);
        let got = follower.lines_until(n, Duration::from_secs(5));
        assert_eq!(got.len(), 1, "event {n} came alone");
    }
}
