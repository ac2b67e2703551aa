//! `scripts/demo.sh`, the README's quickstart, run as a person would: it starts the
//! test music server and sharelog, creates a share and prints its link; the link
//! answers with playable tracks, and opened in a real browser its page plays the
//! first track when Play is pressed; on SIGTERM (as on Ctrl-C) it stops both servers.
use crate::support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::browser::{Browser, Viewport};
use support::http_send;

fn refuses_connections(url: &str) -> bool {
    let addr = url.trim_start_matches("http://");
    std::net::TcpStream::connect(addr).is_err()
}

#[test]
fn the_demo_prints_a_working_share_link_and_stops_both_servers() {
    // Given the demo script, on a free port, with the binary under test
    let port = support::free_port();
    let mut child = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/demo.sh"))
        .args(["--port", &port.to_string(), "--for", "600"])
        .env("DEMO_BIN", env!("CARGO_BIN_EXE_sharelog"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // When it has printed its link
    let (mut link, mut upstream) = (None, None);
    while link.is_none() || upstream.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(600))
            .expect("the demo printed no link");
        if let Some(l) = line.strip_prefix("SHARE_URL=") {
            link = Some(l.to_string());
        }
        if let Some(u) = line.strip_prefix("UPSTREAM_URL=") {
            upstream = Some(u.to_string());
        }
    }
    let (link, upstream) = (link.unwrap(), upstream.unwrap());
    assert!(
        link.starts_with(&format!("http://127.0.0.1:{port}/share/")),
        "{link}"
    );

    // Then the link answers the share, and its first track streams audio
    let r = http_send("GET", &link, &[("Accept", "application/json")], None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let share: Value = serde_json::from_slice(&r.body).unwrap();
    let tracks = share["tracks"].as_array().unwrap();
    assert!(!tracks.is_empty(), "{share}");
    let stream = tracks[0]["streamUrl"].as_str().unwrap();
    let audio = http_send("GET", stream, &[], None);
    assert_eq!(audio.status, 200);
    assert!(audio.body.len() > 1000, "{} bytes", audio.body.len());
    assert!(
        audio
            .header("content-type")
            .unwrap_or("")
            .starts_with("audio/"),
        "{:?}",
        audio.header("content-type")
    );

    // And a person who opens the link in a browser and presses Play hears the first track
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&link);
    browser.click("#play");
    let first = tracks[0]["id"].as_str().unwrap();
    browser.wait_for(
        "the first track to play",
        &format!(
            "(() => {{ const a = document.getElementById('player');
                      return a.src.endsWith('/stream/{first}') && !a.paused && a.currentTime > 0.2; }})()"
        ),
    );
    browser.screenshot("demo-link-playing");
    browser.assert_no_console_problems();
    drop(browser);

    // And SIGTERM (as Ctrl-C) stops the script and both servers
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the demo did not stop");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!status.success(), "stopped by a signal: {status:?}");
    assert!(
        refuses_connections(&format!("127.0.0.1:{port}")),
        "sharelog still listens"
    );
    assert!(
        refuses_connections(&upstream),
        "the music server still listens"
    );
}
