//! Wrong answers from the music server stay ours: a music server that accepts a stream,
//! download or cover and never answers gets a quick 502 (`limits.firstByteTimeout`), and a
//! login check it never answers a quick Subsonic error, not a client left hanging; and the
//! music server's own error pages never reach a visitor.

use crate::support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// A real TCP server in front of the real music server that passes calls through, except
/// the Subsonic methods it was started with: those it accepts but never answers (the
/// connections are kept open until the test ends), as a hung music server would.
struct MusicServerHungOn {
    url: String,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl MusicServerHungOn {
    fn start(real: &str, hung: &'static [&'static str]) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), real, hung)
    }

    /// The same, on a listener the test chose (a port sharelog was told before it opened).
    fn start_on(listener: TcpListener, real: &str, hung: &'static [&'static str]) -> Self {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let real = real.strip_prefix("http://").unwrap().to_string();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = held.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let (Ok(conn), real, keep) = (conn, real.clone(), keep.clone()) else {
                    continue;
                };
                std::thread::spawn(move || serve(conn, &real, hung, &keep));
            }
        });
        MusicServerHungOn { url, held }
    }

    fn held_calls(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}

fn serve(mut conn: TcpStream, real: &str, hung: &[&str], held: &Mutex<Vec<TcpStream>>) {
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
    if hung
        .iter()
        .any(|m| target.starts_with(&format!("/rest/{m}?")))
    {
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

fn with_hung(methods: &'static [&'static str]) -> (TestApp, MusicServerHungOn, tempfile::TempDir) {
    let real = upstream::shared();
    let hung = MusicServerHungOn::start(&real.url, methods);
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
    let (app, hung, _tmp) = with_hung(&["stream", "download"]);
    let (id, track) = share_of_alpha(&app, true);

    assert_quick_502(&app, "GET", &format!("/share/{id}/stream/{track}"));
    assert_quick_502(&app, "HEAD", &format!("/share/{id}/stream/{track}"));
    assert_quick_502(&app, "GET", &format!("/share/{id}/download/{track}"));
    assert!(
        hung.held_calls() >= 3,
        "the calls did reach the music server"
    );
}

#[test]
fn a_zip_from_a_hung_music_server_is_a_502_and_not_a_visit() {
    let (app, _hung, _tmp) = with_hung(&["stream", "download"]);
    let (id, _) = share_of_alpha(&app, true);

    assert_quick_502(&app, "GET", &format!("/share/{id}?download=true"));

    let share = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(share.json()["visitCount"], 0, "a failed zip is not a visit");
}

#[test]
fn a_hung_music_server_gives_a_quick_502_on_covers() {
    let (app, hung, _tmp) = with_hung(&["getCoverArt"]);
    let (id, _) = share_of_alpha(&app, false);

    assert_quick_502(&app, "GET", &format!("/share/{id}/cover"));
    assert!(
        hung.held_calls() >= 1,
        "the call did reach the music server"
    );
}

#[test]
fn a_create_the_music_server_never_answers_fails_after_one_timeout_not_one_per_id() {
    // Given a music server that accepts album lookups and never answers them
    let (app, hung, _tmp) = with_hung(&["getAlbum"]);
    let albums: Vec<String> = (0..20)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    let started = Instant::now();

    // When a share of 20 albums is created
    let r = app.req(
        "POST",
        "/api/share",
        Some(&alice()),
        Some(&json!({"albums": albums})),
    );

    // Then it fails as unavailable once the first lookups time out (5 s), not after one
    // timeout per four ids (25 s)
    let took = started.elapsed();
    assert_eq!(
        (r.status(), r.code().as_str()),
        (503, "upstream-unavailable"),
        "{}",
        r.text()
    );
    assert!(took < Duration::from_secs(12), "{took:?}");
    assert!(hung.held_calls() <= 8, "{} lookups made", hung.held_calls());
}

#[test]
fn a_login_check_the_music_server_never_answers_is_a_quick_subsonic_error() {
    let (app, hung, _tmp) = with_hung(&["ping"]);
    let started = Instant::now();

    let r = app.raw(
        "GET",
        "/rest/getShares.view?u=alice&p=alicepass&f=json&v=1.16.1&c=t",
        &[],
        None,
    );

    let took = started.elapsed();
    assert_eq!(r.status(), 503, "{}", r.text());
    assert_eq!(
        r.json()["subsonic-response"]["error"]["code"],
        0,
        "{}",
        r.text()
    );
    assert!(
        hung.held_calls() >= 1,
        "the check did reach the music server"
    );
    assert!(
        took < Duration::from_secs(8),
        "took {took:?}: a metadata call is bounded at 5 s"
    );
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

#[test]
fn the_login_check_at_start_never_delays_the_listener() {
    // Given a music server that accepts the start's login check (ping) and never answers
    let real = upstream::shared();
    let hung = MusicServerHungOn::start(&real.url, &["ping"]);
    let tmp = tempfile::tempdir().unwrap();
    let mut s = settings_for(real, tmp.path());
    s.upstream.url = hung.url.clone();

    // When sharelog starts
    let started = Instant::now();
    let app = spawn_with(s);

    // Then it serves at once, while its check waits on the music server in the background
    let live = app.req("GET", "/livez", None, None);
    let took = started.elapsed();
    assert_eq!(live.status(), 200);
    assert!(
        took < Duration::from_secs(2),
        "started and answered in {took:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while hung.held_calls() == 0 {
        assert!(Instant::now() < deadline, "the check never called ping");
        std::thread::sleep(Duration::from_millis(20));
    }
    let id = app.create_id(&alice(), json!({"albums": [real.album("Alpha").id]}));
    assert_eq!(
        app.raw("GET", &format!("/share/{id}"), &[], None).status(),
        200
    );
}

#[test]
fn a_music_server_that_comes_up_after_sharelog_is_checked_again() {
    // Given sharelog started while nothing listens at its music server's address
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let b = support::binary::Binary::start(
        dir.path(),
        &dir.path().join("data"),
        &[("SHARELOG_UPSTREAM_URL", &url)],
    );
    let said = |needle: &str, within: Duration| {
        let deadline = Instant::now() + within;
        while !b.log().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "never said {needle:?}:\n{}",
                b.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    said(
        "cannot be reached (connection failed)",
        Duration::from_secs(10),
    );

    // When the music server comes up there
    let _up = MusicServerHungOn::start_on(
        TcpListener::bind(("127.0.0.1", port)).unwrap(),
        &upstream::shared().url,
        &[],
    );

    // Then the next check (5 s after the first) finds the login working, and says so
    said("music server login checked", Duration::from_secs(20));
    assert_eq!(
        b.log().matches("cannot be reached").count(),
        1,
        "{}",
        b.log()
    );
}
