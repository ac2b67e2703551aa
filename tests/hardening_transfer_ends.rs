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
use std::time::{Duration, Instant};
use support::music_server_front::{MusicServerFront, Scripted};
use support::running_transfer::Running;
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
            .map(|(what, path)| (what, Running::start(self.app.port, &path, &[])))
            .collect()
    }
}

/// A transfer as a visitor's HTTP/1.1 client sees it: its head read, its body read as fast
/// as it comes on a thread of its own.
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
