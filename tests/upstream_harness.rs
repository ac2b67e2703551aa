//! Smoke test of the real-Subsonic test harness (`tests/support/upstream.rs`).

use crate::support::upstream;

use upstream::{http_get, http_request};

fn response(body: &[u8]) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)));
    v["subsonic-response"].clone()
}

#[test]
fn shared_upstream_answers_and_has_the_library() {
    let up = upstream::shared();

    let (status, body) = http_get(&up.rest_url("ping", &[]));
    assert_eq!(status, 200);
    let ping = response(&body);
    assert_eq!(ping["status"], "ok", "{ping}");
    assert_eq!(ping["version"], "1.12.0");

    // Wrong password: HTTP 200 with a Subsonic error 40.
    let bad = upstream::Creds {
        username: "admin".into(),
        password: "nope".into(),
    };
    let (status, body) = http_get(&up.rest_url_as(&bad, "ping", &[]));
    assert_eq!(status, 200);
    assert_eq!(response(&body)["error"]["code"], 40);

    // The non-admin user can log in too.
    let (_, body) = http_get(&up.rest_url_as(&up.user, "ping", &[]));
    assert_eq!(response(&body)["status"], "ok");

    assert!(up.albums.len() >= 3, "{:?}", up.albums);
    let names: Vec<&str> = up.albums.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Alpha", "Beta", "Café 東京"]);
    assert_eq!(up.album("Alpha").artist, "Ann Artist");
    assert_eq!(up.album("Alpha").songs.len(), 3);
    assert_eq!(up.album("Beta").songs.len(), 2);
    assert_eq!(up.album("Café 東京").artist, "Zoë");
    assert_eq!(up.all_songs().len(), 6);
    for s in up.all_songs() {
        assert!(s.path.is_file(), "{s:?}");
        assert_eq!(std::fs::metadata(&s.path).unwrap().len(), s.size, "{s:?}");
        assert!(s.duration >= 2 && s.duration <= 3, "{s:?}");
    }
    let total: u64 = up.all_songs().iter().map(|s| s.size).sum();
    assert!(total < 1024 * 1024, "test library is {total} bytes");

    assert_eq!(up.playlist.name, "Road Trip");
    assert_eq!(up.playlist.songs.len(), 3);
    let album_ids: std::collections::BTreeSet<&str> = up
        .playlist
        .songs
        .iter()
        .map(|s| s.album_id.as_str())
        .collect();
    assert_eq!(album_ids.len(), 2);
    let pl = up.api("getPlaylist", &[("id", &up.playlist.id)]);
    assert_eq!(
        pl["playlist"]["entry"].as_array().map(Vec::len),
        Some(3),
        "{pl}"
    );

    // stream returns the original bytes; a Range request gets a 206 slice.
    for s in [
        &up.album("Alpha").songs[0],
        &up.album("Beta").songs[0],
        &up.album("Café 東京").songs[0],
    ] {
        let (status, body) = http_get(&up.rest_url("stream", &[("id", &s.id)]));
        assert_eq!(status, 200, "{s:?}");
        assert_eq!(
            body,
            std::fs::read(&s.path).unwrap(),
            "stream of {:?}",
            s.title
        );
    }
    let s = &up.album("Alpha").songs[1];
    let r = http_request(
        "GET",
        &up.rest_url("stream", &[("id", &s.id)]),
        &[("Range", "bytes=10-19")],
    );
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 10-19/{}", s.size).as_str())
    );
    assert_eq!(r.body, std::fs::read(&s.path).unwrap()[10..20]);

    // maxBitRate below the source's bitrate makes supysonic transcode with ffmpeg.
    let s = &up.album("Beta").songs[0];
    assert_eq!(s.suffix, "flac");
    let r = http_request(
        "GET",
        &up.rest_url("stream", &[("id", &s.id), ("maxBitRate", "64")]),
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    assert!(
        r.body.starts_with(b"ID3") || r.body.starts_with(&[0xff]),
        "not mp3: {:?}",
        &r.body[..r.body.len().min(16)]
    );
}

#[test]
fn private_instance_starts_on_another_port_and_stops() {
    let shared_port = upstream::shared().port();
    let mut up = upstream::start();
    assert_ne!(up.port(), shared_port);
    let (status, body) = http_get(&up.rest_url("ping", &[]));
    assert_eq!(status, 200);
    assert_eq!(response(&body)["status"], "ok");
    let workdir = up.workdir.clone();
    assert!(workdir.join("supysonic.conf").is_file());

    up.stop();
    assert!(!up.is_running());
    assert!(
        std::net::TcpStream::connect(up.addr()).is_err(),
        "server still listening"
    );
    if std::env::var_os("SHARELOG_KEEP_UPSTREAM").is_none() {
        assert!(!workdir.exists(), "workdir not removed");
    }
    up.stop(); // idempotent
}

#[test]
#[ignore = "generates a 20 MB track; run with --ignored"]
fn big_track_instance() {
    let up = upstream::start_with_big_track(20);
    let big = up.album("Big");
    assert_eq!(big.songs.len(), 1);
    let s = &big.songs[0];
    assert!(
        s.size > 19 * 1024 * 1024 && s.size < 22 * 1024 * 1024,
        "{s:?}"
    );
    assert!(up.big_dir.as_ref().is_some_and(|d| s.path.starts_with(d)));
    let (status, body) = http_get(&up.rest_url("stream", &[("id", &s.id)]));
    assert_eq!(status, 200);
    assert_eq!(body.len() as u64, s.size);
}
