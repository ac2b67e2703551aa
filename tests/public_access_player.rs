//! A real media player, Debian's mpv (`--no-video --ao=null`), plays every track of a
//! password share from its M3U with no further step: the playlist a visit answered carries
//! an access key on each stream URL, so neither a password nor a cookie is needed for the
//! tracks. Given the playlist as a file (fetched with the password, as a friend's browser
//! would save it), and given the M3U link of the share's page (which carries the key
//! itself). The same playlist with its keys taken out fails in the same player: the keys are
//! what plays it.
use crate::support;

use serde_json::json;
use std::process::Command;
use support::preflight::{self, Need};
use support::protected::*;
use support::*;

/// sharelog on a port chosen before it starts, so that `publicUrl` (the base of every URL of
/// a playlist) is where it really listens.
fn reachable_app() -> TestApp {
    let port = free_port();
    spawn_app(|s| {
        s.listen = format!("127.0.0.1:{port}").parse().unwrap();
        s.public_url = format!("http://127.0.0.1:{port}");
    })
}

/// mpv playing `target` with no video and no sound card: (exit status, its output).
fn mpv(target: &str) -> (i32, String) {
    preflight::require(&[Need::Mpv]);
    let out = Command::new("mpv")
        .args([
            "--no-config",
            "--no-video",
            "--ao=null",
            "--ao-null-untimed=yes",
            "--network-timeout=20",
            "--load-unsafe-playlists",
            "--term-status-msg=",
            target,
        ])
        .output()
        .expect("run mpv");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// How many of the share's streams mpv opened and decoded audio from.
fn played(output: &str) -> usize {
    output
        .split("Playing: http")
        .skip(1)
        .filter(|file| file.contains("/stream/") && file.contains("(+) Audio --aid=1"))
        .count()
}

#[test]
fn mpv_plays_every_track_of_a_password_shares_m3u_with_no_further_step() {
    let app = reachable_app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let auth = basic(PASSWORD);
    let m3u = app.raw(
        "GET",
        &format!("/share/{id}?format=m3u"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(m3u.status(), 200, "{}", m3u.text());
    let playlist = m3u.text();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret songs.m3u");
    std::fs::write(&file, &playlist).unwrap();

    // The playlist file alone: every track plays (mpv exits 0 only when every file did).
    let (status, output) = mpv(file.to_str().unwrap());
    assert_eq!(status, 0, "{output}\n{playlist}");
    assert_eq!(played(&output), 3, "{output}");
    assert!(!output.contains("401"), "{output}");

    // The M3U link of the share's page: mpv opens the playlist itself, then every track.
    let page = app.raw(
        "GET",
        &format!("/share/{id}"),
        &[("Authorization", &auth), ("Accept", BROWSER)],
        None,
    );
    let link = support::html::attr(&page.text(), "id=\"m3u\"", "href").replace("&#38;", "&");
    assert!(key_in(&link).is_some(), "{link}");
    let (status, output) = mpv(&format!("{}{link}", app.url));
    assert_eq!(status, 0, "{output}");
    assert_eq!(played(&output), 3, "{output}");

    // Without the keys the same player gets nowhere: they are what plays it.
    let stripped: String = playlist
        .lines()
        .map(|l| l.split("?key=").next().unwrap().to_string() + "\n")
        .collect();
    let bare = dir.path().join("without keys.m3u");
    std::fs::write(&bare, stripped).unwrap();
    let (status, output) = mpv(bare.to_str().unwrap());
    assert_ne!(status, 0, "{output}");
}
