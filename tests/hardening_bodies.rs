//! Request bodies are bounded in size and in time, before any handler runs: an announced
//! `Content-Length` over the limit is refused at once (413), and a body that trickles in is
//! cut off after `limits.bodyTimeout` (408, with a length or chunked), both as JSON, and the
//! connection is closed.

use crate::support;

use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::*;

/// Reads until the server closes the connection or `within` passes; returns what came and
/// whether it closed.
fn read_until_closed(s: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (got, true),
        }
    }
    (got, false)
}

/// The status and JSON body of a raw HTTP answer.
fn parse(answer: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    let json = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, json)
}

fn start_request(port: u16, path: &str, content_length: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {content_length}\r\n\r\n"
    )
    .unwrap();
    s
}

/// Writes `piece` to the connection every 200 ms, 40 times, or until the server closes it.
fn trickle(s: &TcpStream, piece: &'static [u8]) -> std::thread::JoinHandle<()> {
    let mut writer = s.try_clone().unwrap();
    std::thread::spawn(move || {
        for _ in 0..40 {
            if writer.write_all(piece).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

#[test]
fn an_announced_body_over_the_limit_is_refused_at_once() {
    let app = spawn_app(|_| {});
    let paths = [
        "/rest/getShares.view",
        "/rest/createShare.view",
        "/api/share",
        "/api/audit",
        "/share/abc",
        "/nowhere",
    ];
    for path in paths {
        let started = Instant::now();
        let mut s = start_request(app.port, path, "99999999999");
        s.write_all(b"u=x&").unwrap();

        let (answer, closed) = read_until_closed(&mut s, Duration::from_secs(5));

        let (status, body) = parse(&answer);
        assert_eq!(status, 413, "{path}: {body}");
        assert_eq!(body["code"], "payload-too-large", "{path}");
        assert!(closed, "{path}: the connection stayed open");
        assert!(started.elapsed() < Duration::from_secs(3), "{path}");
    }
}

#[test]
fn a_body_that_trickles_in_is_cut_off_after_the_body_timeout() {
    let app = spawn_app(|s| s.limits.body_timeout = 2);
    let started = Instant::now();
    let mut s = start_request(app.port, "/rest/getShares.view", "1000");
    let trickle = trickle(&s, b"u");

    let (answer, closed) = read_until_closed(&mut s, Duration::from_secs(6));

    let took = started.elapsed();
    let (status, body) = parse(&answer);
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["code"], "body-timeout");
    assert!(closed, "the connection stayed open");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(5),
        "{took:?}"
    );
    trickle.join().unwrap();
}

#[test]
fn a_chunked_body_that_trickles_in_is_cut_off_and_its_connection_closed() {
    // Given chunked bodies (no length announced) that keep coming, a byte at a time: to a
    // route that reads its body, and to one that answers without reading it
    let app = spawn_app(|s| s.limits.body_timeout = 2);
    let token = format!("X-ND-Authorization: Bearer {}\r\n", alice());
    let cases = [
        ("/rest/getShares.view", String::new(), 408, "body-timeout"),
        ("/api/share", token, 408, "body-timeout"),
        ("/api/share", String::new(), 401, "unauthorized"),
    ];
    for (path, auth, status, code) in cases {
        let started = Instant::now();
        let mut s = TcpStream::connect(("127.0.0.1", app.port)).unwrap();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: chunked\r\n\r\n3\r\nu=a\r\n"
        )
        .unwrap();
        let trickle = trickle(&s, b"1\r\na\r\n");

        // Then it gets its answer, and the connection is closed although chunks still come
        let (answer, closed) = read_until_closed(&mut s, Duration::from_secs(6));

        let (got, body) = parse(&answer);
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
        assert!(closed, "{path} ({status}): the connection stayed open");
        assert!(started.elapsed() < Duration::from_secs(5), "{path}");
        trickle.join().unwrap();
    }
}

#[test]
fn three_hundred_trickling_bodies_are_all_closed_after_the_timeout() {
    let app = spawn_app(|s| s.limits.body_timeout = 2);
    let mut conns: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut s = start_request(app.port, "/rest/getShares.view", "500");
            s.write_all(b"u").unwrap();
            s
        })
        .collect();

    std::thread::sleep(Duration::from_secs(4));

    for (i, s) in conns.iter_mut().enumerate() {
        let (answer, closed) = read_until_closed(s, Duration::from_secs(2));
        assert!(closed, "connection {i} still open");
        assert_eq!(parse(&answer).0, 408, "connection {i}");
    }
    let live = app.raw("GET", "/livez", &[], None);
    assert_eq!(live.status(), 200, "the server still answers");
}
