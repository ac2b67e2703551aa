//! The live audit feed over real HTTP: `GET /api/audit?follow=true` on a real
//! server with a real sled store, followed through a raw socket.

use crate::support;
use crate::support::follow_client;

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

/// A description of ~1 KiB, so that events fill socket buffers quickly.
fn long_text(n: usize) -> String {
    format!("{n:06} {}", "x".repeat(1000))
}

fn new_share(app: &TestApp) -> String {
    let songs = &upstream::shared().album("Alpha").songs;
    let share = app.create(&alice(), json!({"songs": [songs[0].id]}));
    share["id"].as_str().unwrap().to_string()
}

fn rename(app: &TestApp, id: &str, text: &str) {
    let r = app.update(&alice(), id, json!({ "description": text }));
    assert_eq!(r.status(), 200, "{}", r.text());
}

/// The full export (non-follow), as the follower should have received it.
fn export(app: &TestApp) -> String {
    let r = app.req("GET", "/api/audit", Some(&admin()), None);
    assert_eq!(r.status(), 200);
    r.text()
}

fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.req("GET", "/metrics", None, None).text();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

fn follow(app: &TestApp, query: &str) -> FollowClient {
    FollowClient::open(
        &format!("127.0.0.1:{}", app.port),
        &format!("/api/audit?follow=true{query}"),
        &admin(),
    )
}

fn joined(lines: &[Vec<u8>]) -> String {
    lines
        .iter()
        .map(|l| format!("{}\n", String::from_utf8_lossy(l)))
        .collect()
}

#[test]
fn a_follower_gets_every_event_once_in_order_even_after_falling_behind() {
    let _serial = one_at_a_time();
    // Given a queue of one batch per follower, and a follower that does not read at first
    let app = spawn_app(|s| s.audit.follower_buffer = 1);
    let shares: Vec<String> = (0..4).map(|_| new_share(&app)).collect();
    let catch_ups = metric(&app, "sharelog_audit_follower_catch_ups_total");
    let mut follower = follow(&app, "&after=0");
    assert_eq!(follower.status, 200);
    assert_eq!(
        follower.header("Content-Type").as_deref(),
        Some("application/x-ndjson")
    );
    // When four writers append until the follower's queue has overflowed
    let behind = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for id in &shares {
            let (app, behind) = (&app, &behind);
            s.spawn(move || {
                for n in 0..5000 {
                    if behind.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    rename(app, id, &long_text(n));
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while metric(&app, "sharelog_audit_follower_catch_ups_total") <= catch_ups {
            assert!(Instant::now() < deadline, "the follower never fell behind");
            std::thread::sleep(Duration::from_millis(100));
        }
        behind.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    // Then it reads the very bytes of the export, each event once, in order
    let all = export(&app);
    let last = seq_of(all.lines().last().unwrap().as_bytes());
    let got = follower.lines_until(last, Duration::from_secs(60));
    assert_eq!(joined(&got), all, "the feed is the export, byte for byte");
    // And events after the catch-up still arrive live
    rename(&app, &shares[0], "after the catch-up");
    let more = follower.lines_until(last + 1, Duration::from_secs(10));
    assert_eq!(more.len(), 1);
    assert!(String::from_utf8_lossy(&more[0]).contains("after the catch-up"));
}

#[test]
fn a_follower_from_a_seq_gets_the_rest_then_live_events_filtered() {
    let _serial = one_at_a_time();
    let app = spawn_app(|_| {});
    let a = new_share(&app);
    let b = new_share(&app);
    rename(&app, &a, "one");
    // Given a follower of share a's updates from seq 1
    let mut follower = follow(&app, &format!("&after=1&share={a}&type=ShareUpdated"));
    assert_eq!(follower.status, 200);
    let first = follower.lines_until(3, Duration::from_secs(10));
    assert_eq!(first.iter().map(|l| seq_of(l)).collect::<Vec<_>>(), vec![3]);
    // When b and a change
    rename(&app, &b, "not this one");
    rename(&app, &a, "two");
    // Then only a's new update arrives, with its export bytes
    let next = follower.lines_until(5, Duration::from_secs(10));
    let all = export(&app);
    assert_eq!(joined(&next), format!("{}\n", all.lines().nth(4).unwrap()));
}

#[test]
fn a_quiet_feed_sends_heartbeats() {
    let _serial = one_at_a_time();
    let app = spawn_app(|s| s.audit.heartbeat_seconds = 1);
    let mut follower = follow(&app, "");
    assert_eq!(follower.status, 200);
    // Nothing happens: an empty line comes after a second of silence, and again
    let started = Instant::now();
    assert_eq!(follower.next(Duration::from_secs(5)), Got::Heartbeat);
    assert_eq!(follower.next(Duration::from_secs(5)), Got::Heartbeat);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1900), "{waited:?}");
    // And an event still arrives between them
    let id = new_share(&app);
    let got = follower.lines_until(1, Duration::from_secs(10));
    assert!(String::from_utf8_lossy(&got[0]).contains(&id));
}

#[test]
fn past_max_followers_the_feed_answers_503_and_frees_the_place_of_a_gone_one() {
    let _serial = one_at_a_time();
    // A hang-up is noticed at the next write to it: heartbeats come every second here.
    let app = spawn_app(|s| {
        s.audit.max_followers = 2;
        s.audit.heartbeat_seconds = 1;
    });
    let one = follow(&app, "");
    let two = follow(&app, "");
    assert_eq!((one.status, two.status), (200, 200));
    assert_eq!(metric(&app, "sharelog_audit_followers"), 2.0);
    let three = follow(&app, "");
    assert_eq!(three.status, 503);
    let body: serde_json::Value = serde_json::from_str(&three.rest()).unwrap();
    assert_eq!(body["code"], "too-many-followers");
    // A non-following export is not counted
    assert_eq!(
        app.req("GET", "/api/audit", Some(&admin()), None).status(),
        200
    );
    // When one follower hangs up, its place is free again
    drop(one);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let again = follow(&app, "");
        if again.status == 200 {
            break;
        }
        assert_eq!(again.status, 503);
        assert!(Instant::now() < deadline, "the place was not freed");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_stalled_follower_holds_back_no_writer_and_is_cut_after_its_timeout() {
    let _serial = one_at_a_time();
    // Given a follower that never reads, with a 2 s timeout and a queue of one batch
    let app = spawn_app(|s| {
        s.audit.follower_buffer = 1;
        s.audit.follower_timeout_seconds = 2;
    });
    let shares: Vec<String> = (0..4).map(|_| new_share(&app)).collect();
    let mut stalled = follow(&app, "");
    assert_eq!(stalled.status, 200);
    // When writers append far more than the socket buffers hold (~8 MB)
    std::thread::scope(|s| {
        for id in &shares {
            let app = &app;
            s.spawn(move || (0..2000).for_each(|n| rename(app, id, &long_text(n))));
        }
    });
    // Then every write was answered (above), and the follower is dropped once it has
    // read nothing for its timeout
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(&app, "sharelog_audit_followers") > 0.0 {
        assert!(
            Instant::now() < deadline,
            "the stalled follower is still attached"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // And what it had been sent ends without reaching the last event
    let last = seq_of(export(&app).lines().last().unwrap().as_bytes());
    let mut seen = 0;
    loop {
        match stalled.next(Duration::from_secs(10)) {
            Got::Line(l) => seen = seq_of(&l),
            Got::Heartbeat => {}
            Got::End => break,
            Got::Nothing => panic!("the connection of a dropped follower stays open"),
        }
    }
    assert!(
        seen < last,
        "saw {seen} of {last}: the follower was never stalled"
    );
}

#[test]
fn the_feed_is_for_admins_and_refuses_bad_parameters() {
    let _serial = one_at_a_time();
    let app = spawn_app(|_| {});
    let addr = format!("127.0.0.1:{}", app.port);
    let alice = FollowClient::open(&addr, "/api/audit?follow=true", &alice());
    assert_eq!(alice.status, 403);
    assert!(alice.rest().contains("\"forbidden\""));
    let anonymous = app.req("GET", "/api/audit?follow=true", None, None);
    assert_eq!(anonymous.status(), 401);
    for (query, field) in [
        ("follow=yes", "follow"),
        ("follow=true&until=2030-01-01T00:00:00Z", "until"),
        ("follow=true&after=x", "after"),
        ("follow=true&type=Nope", "type"),
    ] {
        let r = app.req("GET", &format!("/api/audit?{query}"), Some(&admin()), None);
        assert_eq!(r.status(), 400, "{query}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{query}");
    }
    assert_eq!(metric(&app, "sharelog_audit_followers"), 0.0);
}

#[test]
fn sigterm_ends_the_feed_at_once_instead_of_waiting_out_the_shutdown_timeout() {
    let _serial = one_at_a_time();
    // Given the real binary with a follower attached
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = tmp.path().join("sharelog.yaml");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{port}\ndataDir: {}\nauth:\n  jwtSecret: {SECRET}\n",
            tmp.path().join("data").display()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut follower = FollowClient::open(&addr, "/api/audit?follow=true", &admin());
    assert_eq!(follower.status, 200);
    // When it gets SIGTERM
    let signalled = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // Then the feed is cut and the process exits 0 well inside the 10 s limit
    assert_eq!(follower.next(Duration::from_secs(8)), Got::End);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(20),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let took = signalled.elapsed();
    assert!(took < Duration::from_secs(6), "the stop took {took:?}");
}
