//! The deployment topology, for real: nginx with `deploy/nginx.conf` (only the two upstream
//! addresses and the listen port substituted, as scripts/check_deploy.sh does) in front of
//! sharelog and of the supysonic upstream standing in for Navidrome. Every request goes
//! through nginx's port only.
//!
//! nginx is installed with apt when it is missing; when that fails the test fails (a skipped
//! test that reports `ok` would let CI count a pass it never ran).

use crate::support;

use serde_json::{json, Value};
use sharelog::config::{Cidr, ClientIpMode};
use support::nginx::{self, Nginx};
use support::{alice, http_send, spawn_app, upstream, HttpResponse, TestApp};

const SPOOFED: &str = "203.0.113.7";

/// nginx's address as a URL, and a GET through it.
fn url(nginx: &Nginx) -> String {
    format!("http://{}", nginx.addr())
}

fn get(nginx: &Nginx, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http_send("GET", &format!("{}{path}", url(nginx)), headers, None)
}

fn json_of(r: &HttpResponse) -> Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&r.body)))
}

/// sharelog's own 404: JSON with `code: not-found`.
fn is_sharelog_404(r: &HttpResponse) -> bool {
    r.status == 404
        && serde_json::from_slice::<Value>(&r.body).is_ok_and(|v| v["code"] == "not-found")
}

#[test]
fn nginx_routes_shares_to_sharelog_and_the_rest_to_the_music_server() {
    // Given sharelog trusting only the proxy, and nginx with the shipped config in front
    let up = upstream::shared();
    let port = support::free_port();
    let proxy_url = format!("http://127.0.0.1:{port}");
    let app: TestApp = spawn_app(|s| {
        s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
        s.audit.client_ip = ClientIpMode::Full;
        s.public_url = proxy_url.clone();
    });
    let config = nginx::config(&format!("127.0.0.1:{}", app.port), up.addr(), port);
    let nginx = Nginx::start(&config, port);
    let auth = format!("Bearer {}", alice());
    let owner = [
        ("X-ND-Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];

    // When a share is created through the proxy
    let album = up.album("Alpha");
    let body =
        serde_json::to_vec(&json!({"albums": [album.id], "description": "via nginx"})).unwrap();
    let created = http_send(
        "POST",
        &format!("{}/api/share", url(&nginx)),
        &owner,
        Some(&body),
    );
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let share = json_of(&created);
    let id = share["id"].as_str().unwrap();
    // Then its link is the proxy's
    assert_eq!(share["url"], format!("{proxy_url}/share/{id}"));

    // And the public page opens raw, with the visitor trying to spoof its address
    let raw = get(
        &nginx,
        &format!("/share/{id}"),
        &[
            ("X-Forwarded-For", SPOOFED),
            ("Forwarded", &format!("for={SPOOFED}")),
        ],
    );
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    let page = json_of(&raw);
    assert_eq!(page["tracks"].as_array().unwrap().len(), album.songs.len());

    // And as M3U, with stream URLs on the proxy's origin
    let m3u = get(&nginx, &format!("/share/{id}?format=m3u"), &[]);
    assert_eq!(m3u.status, 200);
    assert!(
        m3u.header("Content-Type")
            .is_some_and(|c| c.starts_with("audio/x-mpegurl")),
        "{:?}",
        m3u.header("Content-Type")
    );
    let text = String::from_utf8_lossy(&m3u.body);
    assert!(text.starts_with("#EXTM3U"), "{text}");
    assert!(
        text.contains(&format!(
            "{proxy_url}/share/{id}/stream/{}",
            album.songs[0].id
        )),
        "{text}"
    );

    // And a track streams with Range through the proxy: 206 and exactly those bytes
    let song = &album.songs[0];
    let original = std::fs::read(&song.path).unwrap();
    let part = get(
        &nginx,
        &format!("/share/{id}/stream/{}", song.id),
        &[("Range", "bytes=100-199")],
    );
    assert_eq!(part.status, 206, "{}", String::from_utf8_lossy(&part.body));
    assert_eq!(
        part.header("Content-Range"),
        Some(format!("bytes 100-199/{}", original.len()).as_str())
    );
    assert_eq!(part.body, original[100..200]);

    // And the music server's own paths reach the music server, not sharelog
    let ping = get(&nginx, "/rest/ping.view?f=json", &[]);
    assert!(
        String::from_utf8_lossy(&ping.body).contains("subsonic-response"),
        "/rest/ping must be answered by the music server: {} {}",
        ping.status,
        String::from_utf8_lossy(&ping.body)
    );
    let theirs = get(&nginx, "/share/s/x", &[]);
    assert_eq!(theirs.status, 404);
    assert!(
        !is_sharelog_404(&theirs),
        "/share/s/x must reach the music server, got sharelog's 404"
    );
    // (sharelog itself answers an unknown share with its JSON 404, through the same proxy)
    assert!(is_sharelog_404(&get(&nginx, "/share/NoSuchShare0", &[])));
    // And the internal endpoints are not exposed
    let metrics = get(&nginx, "/metrics", &[]);
    assert_eq!(metrics.status, 404, "/metrics must not pass the proxy");

    // Then exactly the two GET visits were recorded, with the address nginx saw
    let history = get(&nginx, &format!("/api/share/{id}/history"), &owner);
    assert_eq!(
        history.status,
        200,
        "{}",
        String::from_utf8_lossy(&history.body)
    );
    let visits: Vec<Value> = json_of(&history)
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "ShareVisited")
        .cloned()
        .collect();
    assert_eq!(visits.len(), 2, "{visits:?}");
    for v in &visits {
        assert_eq!(v["data"]["clientIp"], "127.0.0.1", "{v}");
    }
    drop(nginx);
}
