//! What the music server sends is never run on our origin: a music server (or a proxy in front
//! of it) answering a stream, download or cover with an HTML page and no `Content-Type` gets
//! it passed on with a type we chose (the track's, or `application/octet-stream`),
//! `X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox`; a cover that is an
//! SVG with a script stays an image, sandboxed. Checked in the headers, and in a real headless
//! Chromium that opens those URLs and must run none of the script (a control page with the
//! same script, served as HTML from elsewhere, shows the script would be seen running).

use crate::support;

use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::browser::{Browser, Viewport};
use support::music_server_front::{MusicServerFront, Scripted};
use support::*;

/// Where a script that ran reports to: every `/ran-…` request it gets is a hit. `/control` answers
/// the hostile page itself, as HTML, to show that a script that runs is seen.
struct Beacon {
    url: String,
    hits: Arc<AtomicUsize>,
}

impl Beacon {
    fn start() -> Beacon {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let (counted, page) = (hits.clone(), hostile_page(&url));
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if conn.read(&mut byte).unwrap_or(0) == 0 {
                        break;
                    }
                    head.push(byte[0]);
                }
                let answer = if head.starts_with(b"GET /control ") {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    )
                } else {
                    // Only the script's calls count (not the browser's own, such as a favicon).
                    if head.starts_with(b"GET /ran-") {
                        counted.fetch_add(1, Ordering::SeqCst);
                    }
                    "HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n".to_string()
                };
                let _ = conn.write_all(answer.as_bytes());
            }
        });
        Beacon { url, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A page whose script, if it runs, renames the document, calls the beacon twice and, once
/// the page has loaded, opens an alert (an alert during the load would hold up the navigation).
fn hostile_page(beacon: &str) -> String {
    format!(
        "<!doctype html><html><head><title>music</title></head><body><p>not music</p><script>\
         document.title='pwned';new Image().src='{beacon}/ran-image';\
         fetch('{beacon}/ran-fetch',{{mode:'no-cors'}});\
         addEventListener('load',function(){{setTimeout(function(){{alert('pwned')}},300)}});\
         </script></body></html>"
    )
}

/// The same script in an SVG, run when the SVG is opened as a document.
fn hostile_svg(beacon: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">\
         <script>document.title='pwned';new Image().src='{beacon}/ran-svg';</script>\
         <rect width=\"10\" height=\"10\"/></svg>"
    )
}

struct Setup {
    app: TestApp,
    share: String,
    song: upstream::Song,
    front: MusicServerFront,
    _tmp: tempfile::TempDir,
}

/// sharelog in front of a music server that answers streams and downloads with `track` and
/// covers with `cover`, and a downloadable share of Alpha.
fn setup(track: Scripted, cover: Scripted) -> Setup {
    let real = upstream::shared();
    let front = MusicServerFront::start(
        real,
        vec![
            ("stream", track.clone()),
            ("download", track),
            ("getCoverArt", cover),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut s = settings_for(real, tmp.path());
    s.upstream.url = front.url.clone();
    let app = spawn_with(s);
    let alpha = real.album("Alpha");
    let share = app.create_id(
        &alice(),
        json!({"albums": [alpha.id], "downloadable": true}),
    );
    Setup {
        app,
        share,
        song: alpha.songs[0].clone(),
        front,
        _tmp: tmp,
    }
}

/// An HTML page with no `Content-Type`, as a misconfigured proxy answers.
fn untyped_page(beacon: &str) -> Scripted {
    Scripted::Answer {
        headers: vec![],
        body: hostile_page(beacon).into_bytes(),
    }
}

impl Setup {
    fn stream(&self) -> String {
        format!("/share/{}/stream/{}", self.share, self.song.id)
    }
    fn download(&self) -> String {
        format!("/share/{}/download/{}", self.share, self.song.id)
    }
    fn cover(&self) -> String {
        format!("/share/{}/cover", self.share)
    }
}

fn assert_not_runnable(r: &Resp, what: &str, content_type: &str) {
    assert_eq!(r.status(), 200, "{what}: {}", r.text());
    assert_eq!(r.header("Content-Type"), Some(content_type), "{what}");
    assert_eq!(
        r.header("X-Content-Type-Options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        r.header("Content-Security-Policy"),
        Some("sandbox"),
        "{what}"
    );
}

#[test]
fn an_untyped_html_answer_goes_out_with_our_type_nosniff_and_the_sandbox() {
    // Given a music server answering streams, downloads and covers with an untyped HTML page
    let beacon = Beacon::start();
    let s = setup(untyped_page(&beacon.url), untyped_page(&beacon.url));
    let audio = s.song.content_type.as_str();
    assert_eq!(audio, "audio/mpeg", "the share's metadata knows the type");

    // When a visitor gets (or asks for the head of) each of them
    for method in ["GET", "HEAD"] {
        let stream = s.app.raw(method, &s.stream(), &[], None);
        let download = s.app.raw(method, &s.download(), &[], None);
        let cover = s.app.raw(method, &s.cover(), &[], None);

        // Then each is typed by us, not sniffed, and sandboxed
        assert_not_runnable(&stream, &format!("{method} stream"), audio);
        assert_not_runnable(&download, &format!("{method} download"), audio);
        assert_not_runnable(
            &cover,
            &format!("{method} cover"),
            "application/octet-stream",
        );
        if method == "GET" {
            assert_eq!(
                stream.text(),
                hostile_page(&beacon.url),
                "the bytes as they came"
            );
        }
    }
    assert!(
        s.front.answered() >= 6,
        "the hostile answers were the ones passed on"
    );
    // And the zip made of those files is ours, and sandboxed too
    let zip = s.app.raw(
        "GET",
        &format!("/share/{}?download=true", s.share),
        &[],
        None,
    );
    assert_not_runnable(&zip, "zip", "application/zip");
}

#[test]
fn an_svg_cover_stays_an_svg_and_is_sandboxed() {
    let beacon = Beacon::start();
    let svg = Scripted::Answer {
        headers: vec![("Content-Type", "image/svg+xml")],
        body: hostile_svg(&beacon.url).into_bytes(),
    };
    let s = setup(untyped_page(&beacon.url), svg);

    let cover = s.app.raw("GET", &s.cover(), &[], None);

    assert_not_runnable(&cover, "svg cover", "image/svg+xml");
}

#[test]
fn chromium_runs_no_script_from_a_hostile_stream_or_cover() {
    // Given a music server answering streams and covers with a page that runs a script, and
    // another whose cover is an SVG with a script
    let beacon = Beacon::start();
    let html = setup(untyped_page(&beacon.url), untyped_page(&beacon.url));
    let svg = Scripted::Answer {
        headers: vec![("Content-Type", "image/svg+xml")],
        body: hostile_svg(&beacon.url).into_bytes(),
    };
    let with_svg = setup(untyped_page(&beacon.url), svg);
    let browser = Browser::start(Viewport::Desktop);

    // When Chromium opens each of those URLs on sharelog's origin
    let urls = [
        ("stream", format!("{}{}", html.app.url, html.stream())),
        ("cover", format!("{}{}", html.app.url, html.cover())),
        (
            "svg-cover",
            format!("{}{}", with_svg.app.url, with_svg.cover()),
        ),
    ];
    for (name, url) in &urls {
        browser.goto(url);
        // A script that ran would have called the beacon by now.
        std::thread::sleep(Duration::from_millis(1500));

        // Then none of the script ran: no beacon, no alert, the title untouched
        assert_eq!(
            browser.open_dialog(),
            None,
            "{name} ({url}): an alert opened"
        );
        assert_eq!(
            beacon.hits(),
            0,
            "{name} ({url}): the script called the beacon"
        );
        let title = browser.js("return document.title;");
        assert_ne!(
            title, "pwned",
            "{name} ({url}): the script renamed the page"
        );
        browser.screenshot(&format!("proxied-types-{name}"));
    }

    // And the same script, served as HTML from elsewhere, is seen running (the check works)
    browser.goto(&format!("{}/control", beacon.url));
    let deadline = Instant::now() + Duration::from_secs(10);
    while beacon.hits() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        beacon.hits(),
        2,
        "the control page's script calls the beacon twice"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.open_dialog().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(browser.open_dialog().as_deref(), Some("pwned"));
}
