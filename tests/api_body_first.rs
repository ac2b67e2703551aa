//! A create body is checked before the music server is asked: a request the rules
//! refuse is a 400 naming the problem even while the music server is down.
use crate::support;

use serde_json::json;
use sharelog::config::Settings;
use support::{alice, free_port, spawn_with, SECRET};

/// sharelog whose music server is down (nothing listens on its port).
fn app_without_upstream(allow_downloads: bool) -> (support::TestApp, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: tmp.path().join("data"),
        ..Default::default()
    };
    s.auth.jwt_secret = SECRET.into();
    s.upstream.url = format!("http://127.0.0.1:{}", free_port());
    s.sharing.allow_downloads = allow_downloads;
    (spawn_with(s), tmp)
}

#[test]
fn downloadable_while_downloads_are_off_is_400_even_with_the_music_server_down() {
    let (app, _tmp) = app_without_upstream(false);
    let r = app.req(
        "POST",
        "/api/share",
        Some(&alice()),
        Some(&json!({"songs": ["s1"], "downloadable": true})),
    );
    assert_eq!(r.status(), 400, "{}", r.text());
    assert_eq!(r.code(), "downloads-disabled");
}

#[test]
fn a_too_long_description_is_400_before_the_music_server_is_asked() {
    let (app, _tmp) = app_without_upstream(true);
    let long = "x".repeat(sharelog::domain::MAX_DESCRIPTION_CHARS + 1);
    let r = app.req(
        "POST",
        "/api/share",
        Some(&alice()),
        Some(&json!({"songs": ["s1"], "description": long})),
    );
    assert_eq!(r.status(), 400, "{}", r.text());
    assert_eq!(r.json()["field"], "description");
}

#[test]
fn a_valid_body_with_the_music_server_down_is_still_503() {
    let (app, _tmp) = app_without_upstream(true);
    let r = app.req(
        "POST",
        "/api/share",
        Some(&alice()),
        Some(&json!({"songs": ["s1"]})),
    );
    assert_eq!(r.status(), 503, "{}", r.text());
    assert_eq!(r.code(), "upstream-unavailable");
}
