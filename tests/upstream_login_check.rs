//! Wrong music-server settings are named, with their fix: in the log at start (a warning, the
//! server still starts), in `/readyz` (`"upstream":"unauthorized"`, apart from
//! `"unreachable"`), and in a refused create, on the owner API and on Subsonic. Against the
//! real supysonic: with a wrong password (it answers error 40), and with token
//! authentication, which supysonic does not know (it answers error 10).

use crate::support;

use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};
use support::binary::Binary;
use support::*;

/// A password that must never appear in a log line or an answer.
const WRONG_PASSWORD: &str = "not-the-password-7Qx2";

/// The real binary in front of the shared supysonic, its settings changed by `env`.
fn binary_with(dir: &Path, env: &[(&str, &str)]) -> Binary {
    let data = dir.join("data");
    Binary::start(dir, &data, env)
}

/// Waits until the log holds `needle`; panics with the log after 15 s.
fn wait_for_log(b: &Binary, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let log = b.log();
        if log.contains(needle) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "the log never said {needle:?}:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn readyz(b: &Binary) -> Value {
    let (status, body) = b.send("GET", "/readyz", None).unwrap();
    assert_eq!(
        status, 200,
        "the music server never fails readiness: {body}"
    );
    body
}

/// `POST /api/share` of one song: the status and body.
fn create(b: &Binary) -> (u16, Value) {
    let song = &upstream::shared().album("Alpha").songs[0].id;
    b.send("POST", "/api/share", Some(&json!({ "songs": [song] })))
        .unwrap()
}

/// Subsonic `createShare` of one song, with the client's own (right) credentials.
fn subsonic_create(b: &Binary) -> (u16, Value) {
    let up = upstream::shared();
    let song = &up.album("Alpha").songs[0].id;
    let path = format!(
        "/rest/createShare.view?u={}&p={}&v=1.16.1&c=test&f=json&id={song}",
        up.admin.username, up.admin.password
    );
    b.send("GET", &path, None).unwrap()
}

#[test]
fn a_wrong_password_is_named_at_start_in_readyz_and_in_a_create() {
    // Given sharelog started with a password supysonic refuses
    let dir = tempfile::tempdir().unwrap();
    let b = binary_with(
        dir.path(),
        &[("SHARELOG_UPSTREAM_PASSWORD", WRONG_PASSWORD)],
    );

    // Then it started (Binary::start waited for /readyz 200) and says why in the log
    let log = wait_for_log(&b, "wrong upstream.username or upstream.password");
    let line = log
        .lines()
        .find(|l| l.contains("wrong upstream.username"))
        .unwrap();
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("SHARELOG_UPSTREAM_PASSWORD"), "{line}");

    // And /readyz tells a refused login from an unreachable server
    let ready = readyz(&b);
    assert_eq!(ready["upstream"], "unauthorized", "{ready}");
    let why = ready["upstreamError"].as_str().unwrap();
    assert!(why.contains("upstream.password"), "{why}");

    // And a create names the cause and the fix
    let (status, body) = create(&b);
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "upstream-unauthorized", "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("wrong upstream.username or upstream.password"),
        "{message}"
    );
    assert!(message.contains("Subsonic error 40"), "{message}");

    // And so does a Subsonic client's create (its own login is right; ours is not)
    let (status, body) = subsonic_create(&b);
    let answer = &body["subsonic-response"];
    assert_eq!(status, 502, "{body}");
    assert_eq!(answer["status"], "failed", "{body}");
    assert_eq!(answer["error"]["code"], 0, "{body}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("upstream.password"), "{message}");

    // And the password itself is never shown
    let everything = format!("{}{ready}{message}", b.log());
    assert!(!everything.contains(WRONG_PASSWORD), "{everything}");
}

#[test]
fn token_auth_that_supysonic_does_not_know_is_named_with_its_fix() {
    // Given sharelog started with the right password, sent as a token
    let dir = tempfile::tempdir().unwrap();
    let b = binary_with(dir.path(), &[("SHARELOG_UPSTREAM_AUTH", "token")]);

    // Then the log says to send the password instead
    let log = wait_for_log(&b, "does not accept token authentication");
    let line = log
        .lines()
        .find(|l| l.contains("does not accept token authentication"))
        .unwrap();
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("SHARELOG_UPSTREAM_AUTH=password"), "{line}");
    assert!(line.contains("upstream.auth: password"), "{line}");
    assert!(line.contains("Subsonic error 10"), "{line}");

    // And /readyz, a create and a Subsonic create say the same
    let ready = readyz(&b);
    assert_eq!(ready["upstream"], "unauthorized", "{ready}");
    assert!(
        ready["upstreamError"]
            .as_str()
            .unwrap()
            .contains("SHARELOG_UPSTREAM_AUTH=password"),
        "{ready}"
    );
    let (status, body) = create(&b);
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("upstream-unauthorized")),
        "{body}"
    );
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("SHARELOG_UPSTREAM_AUTH=password"),
        "{body}"
    );
    let (status, body) = subsonic_create(&b);
    assert_eq!(status, 502, "{body}");
    let message = body["subsonic-response"]["error"]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("SHARELOG_UPSTREAM_AUTH=password"),
        "{message}"
    );
}

#[test]
fn right_settings_are_confirmed_in_the_log_and_readyz() {
    let dir = tempfile::tempdir().unwrap();
    let b = binary_with(dir.path(), &[]);
    let log = wait_for_log(&b, "music server login checked");
    assert!(!log.contains("WARN"), "{log}");
    let ready = readyz(&b);
    assert_eq!(ready["upstream"], "reachable", "{ready}");
    assert!(ready["upstreamError"].is_null(), "{ready}");
    assert_eq!(create(&b).0, 201);
}

#[test]
fn an_unreachable_music_server_is_told_apart_from_a_refused_login() {
    let app = spawn_app(|s| s.upstream.url = format!("http://127.0.0.1:{}", free_port()));
    let ready = app.req("GET", "/readyz", None, None).json();
    assert_eq!(ready["upstream"], "unreachable", "{ready}");
    let why = ready["upstreamError"].as_str().unwrap();
    assert!(why.contains("connection failed"), "{why}");
    let refused = spawn_app(|s| s.upstream.password = WRONG_PASSWORD.into());
    let ready = refused.req("GET", "/readyz", None, None).json();
    assert_eq!(ready["upstream"], "unauthorized", "{ready}");
}
