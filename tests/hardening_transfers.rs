//! Visitors who start streams and stop reading cannot take the service down: one client
//! holds at most `limits.transfersPerClient` transfers (429), all together at most
//! `limits.transfers` (503), share pages keep working meanwhile, and a transfer whose reader
//! takes nothing for `limits.stallTimeout` is dropped, freeing its music-server connection.
//! A reader that takes its bytes slowly, or none at all, holds its transfer no longer than
//! `limits.transferTimeout`: then its slots are given back and its body ends short.
//! A real supysonic with a 20 MB track, so that a reader that stops really stalls the transfer.

use crate::support;

use serde_json::json;
use sharelog::config::{Cidr, Settings};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::*;

fn music_server() -> &'static TestUpstream {
    static UP: OnceLock<TestUpstream> = OnceLock::new();
    UP.get_or_init(|| upstream::start_with_big_track(20))
}

struct Fixture {
    app: TestApp,
    share: String,
    big: String,
    small: upstream::Song,
    _tmp: tempfile::TempDir,
}

/// sharelog behind a trusted proxy (loopback), so each test names its clients by
/// `X-Forwarded-For`, sharing an album with the big track and another with small ones.
fn fixture(tweak: impl FnOnce(&mut Settings)) -> Fixture {
    let up = music_server();
    let tmp = tempfile::tempdir().unwrap();
    let mut s = settings_for(up, tmp.path());
    s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
    tweak(&mut s);
    let app = spawn_with(s);
    let big = up.album("Big");
    let alpha = up.album("Alpha");
    let share = app.create(&alice(), json!({"albums": [big.id, alpha.id]}));
    Fixture {
        share: share["id"].as_str().unwrap().to_string(),
        big: big.songs[0].id.clone(),
        small: alpha.songs[0].clone(),
        app,
        _tmp: tmp,
    }
}

impl Fixture {
    /// Starts streaming the big track as `client`, reads the answer's head, then stops
    /// reading. The connection stays open while the returned stream lives.
    fn stalled_reader(&self, client: &str) -> TcpStream {
        let mut s = TcpStream::connect(("127.0.0.1", self.app.port)).unwrap();
        write!(
            s,
            "GET /share/{}/stream/{} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {client}\r\n\r\n",
            self.share, self.big
        )
        .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 256];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "closed before the head");
            head.extend_from_slice(&buf[..n]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        s
    }

    /// Streams the big track as `client`, taking 16 KiB every 0.1 s until `slow_for` has
    /// passed, then the rest as fast as it comes, until the answer ends. Gives the bytes read.
    fn slow_reader(&self, client: &str, slow_for: Duration) -> JoinHandle<usize> {
        let mut s = self.stalled_reader(client);
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut buf = vec![0u8; 16 * 1024];
            let mut got = 0;
            loop {
                let slow = started.elapsed() < slow_for;
                let n = s.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                got += n;
                if slow {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            got
        })
    }

    fn stream_small(&self, client: &str) -> Resp {
        let path = format!("/share/{}/stream/{}", self.share, self.small.id);
        self.app
            .raw("GET", &path, &[("X-Forwarded-For", client)], None)
    }

    fn page(&self, client: &str) -> Resp {
        let path = format!("/share/{}", self.share);
        self.app
            .raw("GET", &path, &[("X-Forwarded-For", client)], None)
    }
}

#[test]
fn one_client_holds_at_most_its_share_of_transfers() {
    let f = fixture(|s| s.limits.transfers_per_client = 2);
    let _held = [f.stalled_reader("192.0.2.1"), f.stalled_reader("192.0.2.1")];

    let third = f.stream_small("192.0.2.1");

    assert_eq!(third.status(), 429, "{}", third.text());
    assert_eq!(third.code(), "too-many-transfers");
    assert!(third.header("Retry-After").is_some());
    let other = f.stream_small("192.0.2.2");
    assert_eq!(other.status(), 200, "another client is not held back");
    assert_eq!(other.0.body, std::fs::read(&f.small.path).unwrap());
    assert_eq!(f.page("192.0.2.1").status(), 200, "pages are not transfers");
}

#[test]
fn all_transfers_together_are_bounded_and_pages_keep_working() {
    let f = fixture(|s| s.limits.transfers = 2);
    let _held = [f.stalled_reader("192.0.2.1"), f.stalled_reader("192.0.2.2")];

    let busy = f.stream_small("192.0.2.3");

    assert_eq!(busy.status(), 503, "{}", busy.text());
    assert_eq!(busy.code(), "transfers-busy");
    assert!(busy.header("Retry-After").is_some());
    let started = Instant::now();
    assert_eq!(f.page("192.0.2.3").status(), 200);
    let beta = music_server().album("Beta");
    let created = f.app.create(&bob(), json!({"albums": [beta.id]}));
    let path = format!("/share/{}", created["id"].as_str().unwrap());
    let page = f
        .app
        .raw("GET", &path, &[("X-Forwarded-For", "192.0.2.3")], None);
    assert_eq!(
        page.status(),
        200,
        "a page needing fresh metadata still works"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_stalled_transfer_is_dropped_after_the_stall_timeout() {
    let f = fixture(|s| {
        s.limits.transfers = 1;
        s.limits.stall_timeout = 1;
    });
    let _held = f.stalled_reader("192.0.2.1");
    assert_eq!(f.stream_small("192.0.2.2").status(), 503);

    std::thread::sleep(Duration::from_millis(2500));

    let after = f.stream_small("192.0.2.2");
    assert_eq!(after.status(), 200, "{}", after.text());
    assert_eq!(after.0.body, std::fs::read(&f.small.path).unwrap());
}

#[test]
fn a_slow_reader_is_cut_off_when_the_transfer_timeout_passes() {
    // Given one transfer slot in all and a 3 s transfer timeout
    let f = fixture(|s| {
        s.limits.transfers = 1;
        s.limits.transfer_timeout = 3;
    });
    let started = Instant::now();

    // When a visitor reads the big track at 160 KB/s (it would take two minutes)
    let slow = f.slow_reader("192.0.2.1", Duration::from_millis(4500));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        f.stream_small("192.0.2.2").status(),
        503,
        "the slow reader holds the only slot"
    );

    // Then once 3 s have passed its slots are free again
    std::thread::sleep(Duration::from_millis(4000).saturating_sub(started.elapsed()));
    let after = f.stream_small("192.0.2.2");
    assert_eq!(after.status(), 200, "{}", after.text());
    assert_eq!(after.0.body, std::fs::read(&f.small.path).unwrap());
    // And its body ended short of the file
    let got = slow.join().unwrap();
    let whole = music_server().album("Big").songs[0].size as usize;
    assert!(got < whole, "read {got} of {whole} bytes");
}

#[test]
fn a_reader_that_stops_gives_its_slots_back_when_the_transfer_timeout_passes() {
    // Given one transfer slot in all, a 2 s transfer timeout and a long stall timeout
    let f = fixture(|s| {
        s.limits.transfers = 1;
        s.limits.transfer_timeout = 2;
        s.limits.stall_timeout = 60;
    });

    // When a visitor starts the big track and takes nothing more
    let _held = f.stalled_reader("192.0.2.1");
    assert_eq!(f.stream_small("192.0.2.2").status(), 503);
    std::thread::sleep(Duration::from_millis(3500));

    // Then its slots are given back, though its connection is still open
    let after = f.stream_small("192.0.2.2");
    assert_eq!(after.status(), 200, "{}", after.text());
    assert_eq!(after.0.body, std::fs::read(&f.small.path).unwrap());
}
