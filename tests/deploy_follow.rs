//! The live audit feed through real nginx with the shipped `deploy/nginx.conf`:
//! each event and each heartbeat reaches the follower as soon as sharelog sends it,
//! and nginx does not soak up the stream of a follower that stopped reading.

use crate::support;
use crate::support::follow_client;
use crate::support::nginx;

use follow_client::{seq_of, FollowClient, Got};
use serde_json::json;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use support::*;

/// Metrics are per process: these tests read them, so they run one at a time.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn followers(app: &TestApp) -> f64 {
    let text = app.req("GET", "/metrics", None, None).text();
    text.lines()
        .find_map(|l| {
            l.strip_prefix("sharelog_audit_followers ")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap()
}

#[test]
fn a_follower_behind_nginx_gets_each_event_and_heartbeat_unbuffered() {
    let _serial = one_at_a_time();
    // Given sharelog (heartbeat every second) behind nginx with the shipped config
    let up = upstream::shared();
    let app = spawn_app(|s| s.audit.heartbeat_seconds = 1);
    let port = free_port();
    let conf = nginx::config(&format!("127.0.0.1:{}", app.port), up.addr(), port);
    let proxy = nginx::Nginx::start(&conf, port);
    let songs = &up.album("Alpha").songs;
    let id = app.create_id(&alice(), json!({"songs": [songs[0].id]}));

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
        let put = app.update(
            &alice(),
            &id,
            json!({ "description": format!("update {n}") }),
        );
        assert_eq!(put.status(), 200);
        let got = follower.lines_until(n, Duration::from_secs(5));
        assert_eq!(got.len(), 1, "event {n} came alone");
    }
}

#[test]
fn a_stalled_follower_behind_nginx_is_cut_not_buffered_by_the_proxy() {
    let _serial = one_at_a_time();
    // Given sharelog cutting followers that read nothing for 2 s, behind nginx
    let up = upstream::shared();
    let app = spawn_app(|s| {
        s.audit.follower_timeout_seconds = 2;
        s.audit.follower_buffer = 1;
    });
    let port = free_port();
    let conf = nginx::config(&format!("127.0.0.1:{}", app.port), up.addr(), port);
    let proxy = nginx::Nginx::start(&conf, port);
    let songs = &up.album("Alpha").songs;
    let ids: Vec<String> = (0..4)
        .map(|_| app.create_id(&alice(), json!({"songs": [songs[0].id]})))
        .collect();
    // When a follower through nginx stops reading while ~16 MB of events are written
    // (more than the socket buffers on both sides of the proxy hold)
    let stalled = FollowClient::open(&proxy.addr(), "/api/audit?follow=true", &admin());
    assert_eq!(stalled.status, 200, "{}", proxy.error_log());
    std::thread::scope(|s| {
        for id in &ids {
            let app = &app;
            s.spawn(move || {
                for n in 0..3000 {
                    let text = format!("{n:06} {}", "y".repeat(1000));
                    let put = app.update(&alice(), id, json!({ "description": text }));
                    assert_eq!(put.status(), 200);
                }
            });
        }
    });
    // Then the stall reaches sharelog through the proxy (which spools nothing to disk)
    // and the follower is dropped, its place freed
    let deadline = Instant::now() + Duration::from_secs(30);
    while followers(&app) > 0.0 {
        assert!(
            Instant::now() < deadline,
            "the follower behind nginx was never cut: does the proxy soak up the stream?"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(stalled);
}
