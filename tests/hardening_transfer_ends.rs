//! A transfer ends however it progresses: a stream, download or zip from a music server that
//! trickles (16 KiB every 0.1 s, as fast as it ever gets nowhere) is cut off when
//! `limits.transferTimeout` passes, and one whose share is deleted, expires or stops allowing
//! downloads ends within 5 s of it. Cut off means the visitor's body ends early and not
//! cleanly (no end of the chunked body, or fewer bytes than its `Content-Length`), the music
//! server is hung up on, and the transfer slots are free again.
//!
//! The music server is the real supysonic behind `MusicServerFront`, which trickles the
//! `stream` and `download` answers itself.

use crate::support;

use serde_json::json;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::music_server_front::{MusicServerFront, Scripted};
use support::*;

/// How long after its cause a transfer may take to end (the promise).
const WITHIN: Duration = Duration::from_secs(5);

struct Setup {
    app: TestApp,
    front: MusicServerFront,
    share: String,
    track: String,
    _tmp: tempfile::TempDir,
}

/// sharelog in front of a music server whose files trickle for `seconds`, with a downloadable
/// share of six tracks (Alpha, Beta, Café 東京).
fn setup(seconds: usize, tweak: impl FnOnce(&mut sharelog::config::Settings)) -> Setup {
    let real = upstream::shared();
    let slow = Scripted::trickle_for(seconds);
    let front = MusicServerFront::start(real, vec![("stream", slow.clone()), ("download", slow)]);
    let tmp = tempfile::tempdir().unwrap();
    let mut s = settings_for(real, tmp.path());
    s.upstream.url = front.url.clone();
    tweak(&mut s);
    let app = spawn_with(s);
    let albums: Vec<&str> = ["Alpha", "Beta", "Café 東京"]
        .iter()
        .map(|a| real.album(a).id.as_str())
        .collect();
    let share = app.create_id(&alice(), json!({"albums": albums, "downloadable": true}));
    Setup {
        app,
        front,
        share,
        track: real.album("Alpha").songs[0].id.clone(),
        _tmp: tmp,
    }
}

impl Setup {
    fn paths(&self) -> [(&'static str, String); 3] {
        let (id, track) = (&self.share, &self.track);
        [
            ("stream", format!("/share/{id}/stream/{track}")),
            ("download", format!("/share/{id}/download/{track}")),
            ("zip", format!("/share/{id}?download=true")),
        ]
    }

    /// The three transfers, each started and its answer's head read.
    fn start_all(&self) -> Vec<(&'static str, Running)> {
        self.paths()
            .into_iter()
            .map(|(what, path)| (what, Running::start(self.app.port, &path)))
            .collect()
    }
}

/// A transfer as a visitor's HTTP/1.1 client sees it: its head read, its body read as fast
/// as it comes on a thread of its own.
struct Running {
    head: String,
    conn: TcpStream,
    reader: JoinHandle<Seen>,
}

#[derive(Debug)]
struct Seen {
    /// When the body ended (the server closed, or the connection failed).
    ended: Instant,
    /// Whether it ended as a whole body does: the last chunk, or `Content-Length` bytes.
    clean: bool,
    bytes: usize,
}

impl Running {
    fn start(port: u16, path: &str) -> Running {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            conn,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        // Generous: a body that never ends fails the test's own time checks first.
        conn.set_read_timeout(Some(Duration::from_secs(40)))
            .unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        let split = loop {
            if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "{path}: closed before the head");
            raw.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{path}: {head}");
        let mut body = raw[split + 4..].to_vec();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse::<usize>().unwrap());
        let chunked = head.contains("transfer-encoding: chunked");
        assert!(length.is_some() || chunked, "{path}: {head}");
        let mut from = conn.try_clone().unwrap();
        let reader = std::thread::spawn(move || {
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&buf[..n]);
            }
            let ended = Instant::now();
            let clean = match length {
                Some(len) => body.len() == len,
                None => body.ends_with(b"\r\n0\r\n\r\n"),
            };
            Seen {
                ended,
                clean,
                bytes: body.len(),
            }
        });
        Running { head, conn, reader }
    }

    /// Hangs up (the reader thread sees the end at once).
    fn hang_up(self) {
        let _ = self.conn.shutdown(Shutdown::Both);
        let _ = self.reader.join();
    }

    fn seen(self) -> Seen {
        self.reader.join().unwrap()
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[test]
fn a_trickling_stream_download_and_zip_are_cut_off_when_the_transfer_timeout_passes() {
    // Given a music server that would take 20 s per file, and a 3 s transfer timeout
    let s = setup(20, |s| {
        s.limits.transfer_timeout = 3;
        s.limits.transfers = 3;
    });
    let started = Instant::now();

    // When a stream, a download and a zip run, each read as fast as it comes
    let running = s.start_all();

    // Then each ends, not cleanly, when 3 s have passed
    for (what, r) in running {
        let seen = r.seen();
        let took = seen.ended - started;
        assert!(!seen.clean, "{what} ended as if whole: {seen:?}");
        assert!(seen.bytes > 0, "{what}: bytes did flow before the cut");
        assert!(
            took >= Duration::from_millis(2900) && took < Duration::from_secs(3) + WITHIN,
            "{what} ended after {}",
            secs(took)
        );
    }
    // And the music server was hung up on, and all three transfer slots are free again
    assert!(
        s.front.wait_until_idle(Duration::from_secs(2)),
        "{} answers still being read from the music server",
        s.front.writing()
    );
    // (`Running::start` asserts each answer is a 200, not a 503 `transfers-busy`)
    let again = s.start_all();
    again.into_iter().for_each(|(_, r)| r.hang_up());
}

#[test]
fn deleting_a_share_ends_its_running_stream_download_and_zip_within_5_s() {
    // Given a stream, a download and a zip running from a slow music server
    let s = setup(60, |_| {});
    let running = s.start_all();
    std::thread::sleep(Duration::from_secs(1));

    // When the share is deleted
    let r = s.app.req(
        "DELETE",
        &format!("/api/share/{}", s.share),
        Some(&alice()),
        None,
    );
    assert!(r.status() < 300, "{}: {}", r.status(), r.text());
    let deleted = Instant::now();

    // Then each ends within 5 s, not cleanly, and the music server is hung up on
    for (what, r) in running {
        let seen = r.seen();
        assert!(!seen.clean, "{what} ended as if whole: {seen:?}");
        assert!(
            seen.ended - deleted < WITHIN,
            "{what} ended {} after the delete",
            secs(seen.ended - deleted)
        );
    }
    assert!(s.front.wait_until_idle(Duration::from_secs(2)));
}

#[test]
fn an_expiry_passing_ends_running_transfers_within_5_s() {
    // Given a stream, a download and a zip running from a slow music server
    let s = setup(60, |_| {});
    let running = s.start_all();

    // When the share is set to expire 2–3 s from now (whole seconds), while they run
    let now = time::OffsetDateTime::now_utc();
    let expiry = (now + time::Duration::seconds(3))
        .replace_nanosecond(0)
        .unwrap();
    let expires_at = Instant::now() + Duration::try_from(expiry - now).unwrap();
    let at = expiry
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = s.app.update(&alice(), &s.share, json!({ "expiresAt": at }));
    assert_eq!(r.status(), 200, "{}", r.text());

    // Then each ends after the expiry (not before: nothing else cut it) and within 5 s of it
    for (what, r) in running {
        let seen = r.seen();
        assert!(!seen.clean, "{what} ended as if whole: {seen:?}");
        assert!(
            seen.ended + Duration::from_millis(100) >= expires_at,
            "{what} ended {} before the expiry",
            secs(expires_at - seen.ended)
        );
        assert!(
            seen.ended < expires_at + WITHIN,
            "{what} ended {} after the expiry",
            secs(seen.ended - expires_at)
        );
    }
    assert!(s.front.wait_until_idle(Duration::from_secs(2)));
}

#[test]
fn turning_downloads_off_ends_running_downloads_and_zips_but_not_streams() {
    // Given a stream, a download and a zip running from a slow music server
    let s = setup(60, |_| {});
    let mut running = s.start_all();
    std::thread::sleep(Duration::from_secs(1));

    // When the share stops allowing downloads
    let r = s
        .app
        .update(&alice(), &s.share, json!({"downloadable": false}));
    assert_eq!(r.status(), 200, "{}", r.text());
    let changed = Instant::now();

    // Then the download and the zip end within 5 s, and the stream goes on
    let (_, stream) = running.remove(0);
    for (what, r) in running {
        let seen = r.seen();
        assert!(!seen.clean, "{what} ended as if whole: {seen:?}");
        assert!(
            seen.ended - changed < WITHIN,
            "{what} ended {} after the change",
            secs(seen.ended - changed)
        );
    }
    std::thread::sleep(WITHIN.saturating_sub(changed.elapsed()));
    assert!(
        !stream.reader.is_finished(),
        "a stream is still allowed: {}",
        stream.head
    );
    stream.hang_up();
}
