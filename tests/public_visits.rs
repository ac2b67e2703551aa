//! Visits to public links: exact counts under concurrency, what is and is not a visit, and
//! what the ShareVisited event records (player, user agent, client IP).
use crate::support;

use serde_json::{json, Value};
use sharelog::config::{Cidr, ClientIpMode};
use sharelog::domain::{Event, Policy, VisitData};
use support::*;

fn album_share(app: &TestApp) -> String {
    let album = upstream::shared().album("Alpha");
    let v = app.create(
        &alice(),
        json!({"albums": [album.id], "downloadable": true}),
    );
    v["id"].as_str().unwrap().to_string()
}

fn visit_count(app: &TestApp, id: &str) -> u64 {
    let r = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    r.json()["visitCount"].as_u64().unwrap()
}

/// Stops the app and reads every ShareVisited from its log.
fn recorded_visits(app: &mut TestApp) -> Vec<VisitData> {
    // The temp dir goes when `_tmp` drops, after the log was read.
    let _tmp = app.stop();
    // The stop closed the log, which let go of the directory: it opens at once.
    let policy = Policy::open(true);
    let store = open_store(&app.data_dir, policy);
    let visits = store
        .events(1)
        .filter_map(|e| match e.unwrap().event {
            Event::ShareVisited(v) => Some(v),
            _ => None,
        })
        .collect();
    store.close();
    visits
}

#[test]
fn four_hundred_concurrent_visits_count_exactly_four_hundred() {
    let app = spawn_app(|_| {});
    let id = album_share(&app);
    let before = visit_count(&app, &id);

    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| {
                for _ in 0..25 {
                    let r = app.raw("GET", &format!("/share/{id}"), &[], None);
                    assert_eq!(r.status(), 200);
                }
            });
        }
    });

    assert_eq!(visit_count(&app, &id), before + 400);
    let share = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert!(share.json()["lastVisitedAt"].is_string());
}

#[test]
fn head_streams_and_track_downloads_are_not_visits() {
    let app = spawn_app(|_| {});
    let id = album_share(&app);
    let song = &upstream::shared().album("Alpha").songs[0];

    let head = app.raw("HEAD", &format!("/share/{id}"), &[], None);
    assert_eq!(head.status(), 200);
    assert!(head.0.body.is_empty());
    let stream = format!("/share/{id}/stream/{}", song.id);
    assert_eq!(app.raw("GET", &stream, &[], None).status(), 200);
    assert_eq!(app.raw("HEAD", &stream, &[], None).status(), 200);
    let download = format!("/share/{id}/download/{}", song.id);
    assert_eq!(app.raw("GET", &download, &[], None).status(), 200);
    assert_eq!(
        app.raw("GET", &format!("/share/{id}?format=bad"), &[], None)
            .status(),
        400
    );

    assert_eq!(visit_count(&app, &id), 0);
    assert_eq!(
        app.raw("GET", &format!("/share/{id}"), &[], None).status(),
        200
    );
    assert_eq!(visit_count(&app, &id), 1);
}

#[test]
fn a_visit_records_format_download_player_and_a_user_agent_cut_to_256_characters() {
    let mut app = spawn_app(|s| s.audit.client_ip = ClientIpMode::None);
    let id = album_share(&app);
    let ua = "東".repeat(300);
    let player = "p".repeat(80);

    let r = app.raw(
        "GET",
        &format!("/share/{id}?format=m3u&player={player}"),
        &[("User-Agent", &ua)],
        None,
    );
    assert_eq!(r.status(), 200);
    let zip = app.raw("GET", &format!("/share/{id}?download=true"), &[], None);
    assert_eq!(zip.status(), 200);

    let visits = recorded_visits(&mut app);
    assert_eq!(visits.len(), 2);
    let v = serde_json::to_value(&visits[0]).unwrap();
    assert_eq!(v["format"], "m3u");
    assert_eq!(v["download"], false);
    assert_eq!(v["player"], "p".repeat(64));
    assert_eq!(v["userAgent"], "東".repeat(256));
    assert_eq!(v["clientIp"], Value::Null);
    assert!(visits[1].download);
}

#[test]
fn a_spoofed_x_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let mut app = spawn_app(|s| s.audit.client_ip = ClientIpMode::Full);
    let id = album_share(&app);

    let r = app.raw(
        "GET",
        &format!("/share/{id}"),
        &[
            ("X-Forwarded-For", "203.0.113.9"),
            ("Forwarded", "for=198.51.100.7"),
        ],
        None,
    );
    assert_eq!(r.status(), 200);

    let visits = recorded_visits(&mut app);
    assert_eq!(visits[0].client_ip.as_deref(), Some("127.0.0.1"));
}

#[test]
fn behind_a_trusted_proxy_the_forwarded_client_is_recorded() {
    let mut app = spawn_app(|s| {
        s.audit.client_ip = ClientIpMode::Full;
        s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
    });
    let id = album_share(&app);

    let r = app.raw(
        "GET",
        &format!("/share/{id}"),
        &[("X-Forwarded-For", "198.51.100.1, 203.0.113.9")],
        None,
    );
    assert_eq!(r.status(), 200);

    let visits = recorded_visits(&mut app);
    assert_eq!(visits[0].client_ip.as_deref(), Some("203.0.113.9"));
}

#[test]
fn the_forwarded_client_is_the_one_denied_and_truncated() {
    let mut app = spawn_app(|s| {
        s.audit.client_ip = ClientIpMode::Truncate;
        s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
        s.public_access.deny = vec![Cidr::parse("192.0.2.0/24").unwrap()];
    });
    let id = album_share(&app);
    let path = format!("/share/{id}");
    let denied = app.raw("GET", &path, &[("X-Forwarded-For", "192.0.2.5")], None);
    assert_eq!(denied.status(), 403);
    let ok = app.raw("GET", &path, &[("X-Forwarded-For", "203.0.113.9")], None);
    assert_eq!(ok.status(), 200);

    let visits = recorded_visits(&mut app);
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].client_ip.as_deref(), Some("203.0.113.0"));
}

#[test]
fn hashed_addresses_tell_visitors_apart_without_showing_them() {
    let mut app = spawn_app(|s| {
        s.audit.client_ip = ClientIpMode::Hash;
        s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
    });
    let id = album_share(&app);
    let path = format!("/share/{id}");
    for ip in ["203.0.113.9", "203.0.113.9", "203.0.113.10"] {
        let r = app.raw("GET", &path, &[("X-Forwarded-For", ip)], None);
        assert_eq!(r.status(), 200);
    }

    let ips: Vec<String> = recorded_visits(&mut app)
        .into_iter()
        .map(|v| v.client_ip.unwrap())
        .collect();
    assert_eq!(ips[0], ips[1]);
    assert_ne!(ips[0], ips[2]);
    assert!(!ips[0].contains("203.0.113"));
}
