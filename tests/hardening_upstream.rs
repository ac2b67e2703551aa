//! Wrong answers from the music server stay ours: a music server that accepts a stream or
//! download and never answers gets a quick 502 (`limits.firstByteTimeout`), not a visitor
//! left hanging; and the music server's own error pages never reach a visitor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// A real TCP server in front of the real music server that passes metadata calls through
/// and accepts `stream` and `download` calls but never answers them (the connections are
/// kept open until the test ends): a music server hung on its file transfers.
struct MusicServerHungOnTransfers {
    url: String,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl MusicServerHungOnTransfers {
    fn start(real: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let real = real.strip_prefix("http://").unwrap().to_string();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = held.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let (Ok(conn), real, keep) = (conn, real.clone(), keep.clone()) else {
                    continue;
                };
                std::thread::spawn(move || serve(conn, &real, &keep));
            }
        });
        MusicServerHungOnTransfers { url, held }
    }

    fn held_transfers(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}

fn serve(mut conn: TcpStream, real: &str, held: &Mutex<Vec<TcpStream>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    if target.starts_with("/rest/stream") || target.starts_with("/rest/download") {
        held.lock().unwrap().push(conn);
        return;
    }
    // One request per connection, so the answer ends when the music server closes.
    let mut up = TcpStream::connect(real).unwrap();
    write!(up, "GET {target} HTTP/1.0\r\nHost: {real}\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).unwrap();
    let _ = conn.write_all(&answer);
}

fn with_hung_transfers() -> (TestApp, MusicServerHungOnTransfers, tempfile::TempDir) {
    let real = upstream::shared();
    let hung = MusicServerHungOnTransfers::start(&real.url);
    let tmp = tempfile::tempdir().unwrap();
    let mut s = settings_for(real, tmp.path());
    s.upstream.url = hung.url.clone();
    s.limits.first_byte_timeout = 1;
    (spawn_with(s), hung, tmp)
}

fn share_of_alpha(app: &TestApp, downloadable: bool) -> (String, String) {
    let album = upstream::shared().album("Alpha");
    let share = app.create(
        &alice(),
        json!({"albums": [album.id], "downloadable": downloadable}),
    );
    (
        share["id"].as_str().unwrap().to_string(),
        album.songs[0].id.clone(),
    )
}

fn assert_quick_502(app: &TestApp, method: &str, path: &str) {
    let started = Instant::now();
    let r = app.raw(method, path, &[], None);
    let took = started.elapsed();
    assert_eq!(r.status(), 502, "{method} {path}: {}", r.text());
    if method != "HEAD" {
        assert_eq!(r.code(), "upstream-error", "{method} {path}");
    }
    assert!(
        took < Duration::from_secs(4),
        "{method} {path} took {took:?} with a 1 s first-byte timeout"
    );
}

#[test]
fn a_hung_music_server_gives_a_quick_502_on_streams_and_downloads() {
    let (app, hung, _tmp) = with_hung_transfers();
    let (id, track) = share_of_alpha(&app, true);

    assert_quick_502(&app, "GET", &format!("/share/{id}/stream/{track}"));
    assert_quick_502(&app, "HEAD", &format!("/share/{id}/stream/{track}"));
    assert_quick_502(&app, "GET", &format!("/share/{id}/download/{track}"));
    assert!(
        hung.held_transfers() >= 3,
        "the calls did reach the music server"
    );
}

#[test]
fn a_zip_from_a_hung_music_server_is_a_502_and_not_a_visit() {
    let (app, _hung, _tmp) = with_hung_transfers();
    let (id, _) = share_of_alpha(&app, true);

    assert_quick_502(&app, "GET", &format!("/share/{id}?download=true"));

    let share = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(share.json()["visitCount"], 0, "a failed zip is not a visit");
}

#[test]
fn a_range_past_the_end_is_our_416_with_content_range() {
    let app = spawn_app(|_| {});
    let (id, _) = share_of_alpha(&app, true);
    let song = &upstream::shared().album("Alpha").songs[0];
    let range = format!("bytes={}-", song.size);

    for kind in ["stream", "download"] {
        let path = format!("/share/{id}/{kind}/{}", song.id);
        let r = app.raw("GET", &path, &[("Range", &range)], None);

        assert_eq!(r.status(), 416, "{kind}: {}", r.text());
        assert_eq!(r.code(), "range-not-satisfiable", "{kind}");
        assert_eq!(
            r.header("Content-Range"),
            Some(format!("bytes */{}", song.size).as_str()),
            "{kind}"
        );
        assert!(r.header("Content-Type").unwrap().contains("json"), "{kind}");
    }
}

#[test]
fn every_path_answers_a_wrong_method_or_path_as_our_json() {
    let app = spawn_app(|_| {});
    let (id, track) = share_of_alpha(&app, true);
    let cases = [
        ("POST", format!("/share/{id}")),
        ("PUT", format!("/share/{id}/stream/{track}")),
        ("DELETE", format!("/share/{id}/download/{track}")),
        ("GET", format!("/share/{id}/nothing/{track}")),
        ("GET", format!("/share/{id}/stream/{track}/more")),
        ("PATCH", "/api/share".to_string()),
        ("POST", "/livez".to_string()),
    ];
    for (method, path) in cases {
        // An empty body, so that HTTP/1.0 requests with a method that takes one are well-formed.
        let r = app.raw(method, &path, &[], Some(b""));
        assert!(r.status() >= 400, "{method} {path}: {}", r.status());
        let body: Value = serde_json::from_slice(&r.0.body)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {:?}", r.text()));
        assert!(body["code"].is_string(), "{method} {path}: {body}");
    }
}
