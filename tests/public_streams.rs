//! The stream and download proxies of public links, and the refusals of public access
//! (404, 403, 410, 429, 502), over real HTTP against a real supysonic upstream.
use crate::support;

use serde_json::{json, Value};
use support::*;

fn share_id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn alpha_share(app: &TestApp, extra: Value) -> (String, &'static upstream::Album) {
    let album = upstream::shared().album("Alpha");
    let mut body = json!({"albums": [album.id]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    (share_id(&app.create(&alice(), body)), album)
}

#[test]
fn the_streamed_bytes_are_the_original_file() {
    let app = spawn_app(|_| {});
    let (id, album) = alpha_share(&app, json!({}));
    let song = &album.songs[1];

    let r = app.raw("GET", &format!("/share/{id}/stream/{}", song.id), &[], None);

    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(r.header("Content-Type"), Some("audio/mpeg"));
    let original = std::fs::read(&song.path).unwrap();
    assert_eq!(
        r.header("Content-Length"),
        Some(original.len().to_string().as_str())
    );
    assert_eq!(r.0.body, original);
}

#[test]
fn a_range_request_gives_206_and_those_bytes() {
    let app = spawn_app(|_| {});
    let (id, album) = alpha_share(&app, json!({}));
    let song = &album.songs[0];
    let original = std::fs::read(&song.path).unwrap();

    let r = app.raw(
        "GET",
        &format!("/share/{id}/stream/{}", song.id),
        &[("Range", "bytes=100-199")],
        None,
    );

    assert_eq!(r.status(), 206);
    assert_eq!(
        r.header("Content-Range"),
        Some(format!("bytes 100-199/{}", original.len()).as_str())
    );
    assert_eq!(r.header("Content-Length"), Some("100"));
    assert_eq!(r.0.body, original[100..200]);
}

#[test]
fn head_on_a_stream_answers_the_length_without_a_body() {
    let app = spawn_app(|_| {});
    let (id, album) = alpha_share(&app, json!({}));
    let song = &album.songs[0];
    let r = app.raw(
        "HEAD",
        &format!("/share/{id}/stream/{}", song.id),
        &[],
        None,
    );
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.header("Content-Length"),
        Some(song.size.to_string().as_str())
    );
    assert!(r.0.body.is_empty());
}

#[test]
fn a_stream_under_a_64_kbps_cap_is_transcoded_smaller() {
    let app = spawn_app(|s| s.sharing.max_bitrate = 64);
    let (id, album) = alpha_share(&app, json!({"maxBitRate": 320}));
    let song = &album.songs[2];

    let r = app.raw("GET", &format!("/share/{id}/stream/{}", song.id), &[], None);

    assert_eq!(r.status(), 200, "{}", r.text());
    assert!(r.header("Content-Type").unwrap().starts_with("audio/"));
    let original = std::fs::metadata(&song.path).unwrap().len() as usize;
    assert!(
        !r.0.body.is_empty() && r.0.body.len() < original * 3 / 4,
        "{} bytes, original {original}",
        r.0.body.len()
    );
}

#[test]
fn a_track_download_is_an_attachment_with_the_original_bytes() {
    let app = spawn_app(|_| {});
    let beta = upstream::shared().album("Beta");
    let id = share_id(&app.create(&alice(), json!({"albums": [beta.id], "downloadable": true})));
    let song = &beta.songs[0];

    let r = app.raw(
        "GET",
        &format!("/share/{id}/download/{}", song.id),
        &[],
        None,
    );

    assert_eq!(r.status(), 200, "{}", r.text());
    assert!(r
        .header("Content-Disposition")
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(r.0.body, std::fs::read(&song.path).unwrap());
}

#[test]
fn unknown_shares_tracks_outside_the_share_and_deleted_shares_are_404() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let (id, album) = alpha_share(&app, json!({}));
    let outside = &up.album("Beta").songs[0];

    assert_eq!(
        app.raw("GET", "/share/nosuchshare", &[], None).status(),
        404
    );
    assert_eq!(
        app.raw("GET", "/share/nosuchshare/stream/x", &[], None)
            .status(),
        404
    );
    let r = app.raw(
        "GET",
        &format!("/share/{id}/stream/{}", outside.id),
        &[],
        None,
    );
    assert_eq!(r.status(), 404);
    assert_eq!(r.code(), "not-found");

    let del = app.req("DELETE", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(del.status(), 200);
    assert_eq!(
        app.raw("GET", &format!("/share/{id}"), &[], None).status(),
        404
    );
    let stream = format!("/share/{id}/stream/{}", album.songs[0].id);
    assert_eq!(app.raw("GET", &stream, &[], None).status(), 404);
}

#[test]
fn downloads_are_403_unless_the_share_and_the_server_allow_them() {
    let app = spawn_app(|_| {});
    let (id, album) = alpha_share(&app, json!({"downloadable": false}));
    let r = app.raw("GET", &format!("/share/{id}?download=true"), &[], None);
    assert_eq!(r.status(), 403);
    let track = format!("/share/{id}/download/{}", album.songs[0].id);
    assert_eq!(app.raw("GET", &track, &[], None).status(), 403);

    let (open, album) = alpha_share(&app, json!({"downloadable": true}));
    let app = app.restart(|s| s.sharing.allow_downloads = false);
    let zip = app.raw("GET", &format!("/share/{open}?download=true"), &[], None);
    assert_eq!(zip.status(), 403, "the server forbids downloads");
    let track = format!("/share/{open}/download/{}", album.songs[0].id);
    assert_eq!(app.raw("GET", &track, &[], None).status(), 403);
    for id in [id, open.clone()] {
        let visits = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
        assert_eq!(visits.json()["visitCount"], 0, "refusals are not visits");
    }
    // And neither the JSON nor the page offers the downloads the server now refuses
    let raw = app.raw("GET", &format!("/share/{open}"), &[], None);
    let tracks = raw.json()["tracks"].as_array().unwrap().clone();
    assert!(!tracks.is_empty());
    assert!(
        tracks.iter().all(|t| t.get("downloadUrl").is_none()),
        "{tracks:?}"
    );
    let page = app.raw(
        "GET",
        &format!("/share/{open}"),
        &[("Accept", "text/html")],
        None,
    );
    assert_eq!(page.status(), 200);
    assert!(
        !page.text().contains("/download/") && !page.text().contains("download=true"),
        "{}",
        page.text()
    );
}

#[test]
fn a_client_in_a_denied_network_gets_403() {
    let app = spawn_app(|s| {
        s.public_access.deny = vec![sharelog::config::Cidr::parse("127.0.0.0/8").unwrap()]
    });
    let (id, album) = alpha_share(&app, json!({}));
    let r = app.raw("GET", &format!("/share/{id}"), &[], None);
    assert_eq!(r.status(), 403);
    let stream = format!("/share/{id}/stream/{}", album.songs[0].id);
    assert_eq!(app.raw("GET", &stream, &[], None).status(), 403);
}

#[test]
fn an_expired_share_and_its_streams_are_gone() {
    let app = spawn_app(|_| {});
    let (id, album) = alpha_share(&app, json!({"expiresIn": 1}));
    std::thread::sleep(std::time::Duration::from_millis(1200));

    let r = app.raw("GET", &format!("/share/{id}"), &[], None);
    assert_eq!(r.status(), 410);
    assert_eq!(
        r.json(),
        json!({"error": "share expired", "code": "share-expired"})
    );
    let stream = format!("/share/{id}/stream/{}", album.songs[0].id);
    assert_eq!(app.raw("GET", &stream, &[], None).status(), 410);
}

#[test]
fn past_the_rate_limit_the_answer_is_429_with_retry_after() {
    let app = spawn_app(|s| {
        s.public_access.rate_limit.per_minute = 1;
        s.public_access.rate_limit.burst = 2;
    });
    let (id, _) = alpha_share(&app, json!({}));
    let path = format!("/share/{id}");
    assert_eq!(app.raw("GET", &path, &[], None).status(), 200);
    assert_eq!(app.raw("GET", &path, &[], None).status(), 200);

    let r = app.raw("GET", &path, &[], None);

    assert_eq!(r.status(), 429);
    assert_eq!(r.code(), "rate-limited");
    let secs: u64 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    let visits = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(visits.json()["visitCount"], 2);
}

#[test]
fn a_failing_upstream_is_502_and_not_a_visit() {
    let mut up = upstream::start();
    let tmp = tempfile::tempdir().unwrap();
    let app = spawn_with(settings_for(&up, tmp.path()));
    let album = up.album("Alpha").clone();
    let id = share_id(&app.create(&alice(), json!({"albums": [album.id]})));
    up.stop();

    let r = app.raw("GET", &format!("/share/{id}"), &[], None);

    assert_eq!(r.status(), 502);
    assert_eq!(r.code(), "upstream-error");
    let stream = format!("/share/{id}/stream/{}", album.songs[0].id);
    assert_eq!(app.raw("GET", &stream, &[], None).status(), 502);
    let visits = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(visits.json()["visitCount"], 0);
}

#[test]
fn with_sharing_disabled_public_links_are_404() {
    let app = spawn_app(|_| {});
    let (id, _) = alpha_share(&app, json!({}));
    let app = app.restart(|s| s.sharing.enabled = false);
    assert_eq!(
        app.raw("GET", &format!("/share/{id}"), &[], None).status(),
        404
    );
}
