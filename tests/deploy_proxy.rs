//! The deployment topology, for real: a proxy in front of sharelog and of the supysonic
//! upstream standing in for Navidrome, every request through the proxy's port only. Three
//! proxies, the same checks: nginx with the whole `deploy/nginx.conf` (only the two upstream
//! addresses and the listen port substituted, as scripts/check_deploy.sh does); the include
//! file `deploy/nginx-sharelog-locations.conf` inside a TLS server block such as a Navidrome
//! host already has; and the snippet `deploy/sharelog-routes.caddy` inside a TLS Caddy site.
//! The TLS ones use a self-signed certificate that the client checks.
//!
//! nginx, Caddy and openssl are installed by the preflight check when missing; when that
//! fails the tests fail (a skipped test that reports `ok` would let CI count a pass it never
//! ran).

use crate::support;

use serde_json::{json, Value};
use sharelog::config::{Cidr, ClientIpMode};
use std::path::PathBuf;
use support::caddy::Caddy;
use support::nginx::{self, Nginx};
use support::preflight::{self, Need};
use support::tls::{https_send, SelfSigned};
use support::{alice, http_send, spawn_app, upstream, HttpResponse, TestApp};

const SPOOFED: &str = "203.0.113.7";

/// The proxy as a visitor reaches it: its origin (share links are built from it) and, for
/// HTTPS, the certificate to trust.
struct Front {
    origin: String,
    ca: Option<PathBuf>,
}

impl Front {
    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> HttpResponse {
        let url = format!("{}{path}", self.origin);
        match &self.ca {
            None => http_send(method, &url, headers, body),
            Some(ca) => https_send(method, &url, headers, body, ca),
        }
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        self.send("GET", path, headers, None)
    }
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

/// sharelog trusting only a proxy on loopback, building its links on `origin`.
fn sharelog_behind(origin: &str) -> TestApp {
    let origin = origin.to_string();
    spawn_app(|s| {
        s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
        s.audit.client_ip = ClientIpMode::Full;
        s.public_url = origin;
    })
}

#[test]
fn nginx_routes_shares_to_sharelog_and_the_rest_to_the_music_server() {
    // Given sharelog trusting only the proxy, and nginx with the shipped config in front
    preflight::require(&[Need::Nginx]);
    let up = upstream::shared();
    let port = support::free_port();
    let front = Front {
        origin: format!("http://127.0.0.1:{port}"),
        ca: None,
    };
    let app = sharelog_behind(&front.origin);
    let config = nginx::config(&format!("127.0.0.1:{}", app.port), up.addr(), port);
    let _nginx = Nginx::start(&config, port);
    // Then it does what every proxy configuration must
    every_proxy_routes_and_protects(&front);
}

#[test]
fn the_nginx_include_works_inside_an_existing_tls_server_block() {
    // Given a TLS server block as a Navidrome host has one (its own settings, an appending
    // X-Forwarded-For, Navidrome at `location /`) that includes sharelog's locations
    preflight::require(&[Need::Nginx, Need::Openssl, Need::Curl]);
    let up = upstream::shared();
    let tls = SelfSigned::new();
    let port = support::free_port();
    let front = Front {
        origin: format!("https://127.0.0.1:{port}"),
        ca: Some(tls.cert.clone()),
    };
    let app = sharelog_behind(&front.origin);
    let dir = tempfile::tempdir().unwrap();
    let config = nginx::tls_server_with_include(
        &format!("127.0.0.1:{}", app.port),
        up.addr(),
        port,
        &tls,
        dir.path(),
    );
    let _nginx = Nginx::start(&config, port);
    // Then, over HTTPS, it does what the whole nginx.conf does
    every_proxy_routes_and_protects(&front);
}

#[test]
fn the_caddy_snippet_works_inside_an_existing_tls_site() {
    // Given a TLS Caddy site that proxies to Navidrome and imports sharelog's routes
    preflight::require(&[Need::Caddy, Need::Openssl, Need::Curl]);
    let up = upstream::shared();
    let tls = SelfSigned::new();
    let port = support::free_port();
    let front = Front {
        origin: format!("https://127.0.0.1:{port}"),
        ca: Some(tls.cert.clone()),
    };
    let app = sharelog_behind(&front.origin);
    let caddyfile = format!(
        "{{
\tadmin off
\tauto_https disable_redirects
}}

https://:{port} {{
\ttls {cert} {key}
\timport {snippet}
\treverse_proxy {navidrome}
}}
",
        cert = tls.cert.display(),
        key = tls.key.display(),
        snippet = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/sharelog-routes.caddy"),
        navidrome = up.addr(),
    );
    let sharelog_addr = format!("127.0.0.1:{}", app.port);
    let _caddy = Caddy::start(&caddyfile, port, &[("SHARELOG_ADDR", &sharelog_addr)]);
    // Then, over HTTPS, it does what the whole Caddyfile does
    every_proxy_routes_and_protects(&front);
}

/// What every proxy configuration must do, seen through `front` only: shares, M3U and
/// ranged streams reach sharelog with links on the proxy's origin; the music server keeps
/// its own paths; the internal endpoints stay internal; a visitor cannot choose the
/// address sharelog records.
fn every_proxy_routes_and_protects(front: &Front) {
    let up = upstream::shared();
    let auth = format!("Bearer {}", alice());
    let owner = [
        ("X-ND-Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];

    // When a share is created through the proxy
    let album = up.album("Alpha");
    let body =
        serde_json::to_vec(&json!({"albums": [album.id], "description": "via nginx"})).unwrap();
    let created = front.send("POST", "/api/share", &owner, Some(&body));
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let share = json_of(&created);
    let id = share["id"].as_str().unwrap();
    // Then its link is the proxy's
    let origin = &front.origin;
    assert_eq!(share["url"], format!("{origin}/share/{id}"));

    // And the public page opens raw, with the visitor trying to spoof its address
    let raw = front.get(
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
    let m3u = front.get(&format!("/share/{id}?format=m3u"), &[]);
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
        text.contains(&format!("{origin}/share/{id}/stream/{}", album.songs[0].id)),
        "{text}"
    );

    // And a track streams with Range through the proxy: 206 and exactly those bytes
    let song = &album.songs[0];
    let original = std::fs::read(&song.path).unwrap();
    let part = front.get(
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
    let ping = front.get("/rest/ping.view?f=json", &[]);
    assert!(
        String::from_utf8_lossy(&ping.body).contains("subsonic-response"),
        "/rest/ping must be answered by the music server: {} {}",
        ping.status,
        String::from_utf8_lossy(&ping.body)
    );
    let theirs = front.get("/share/s/x", &[]);
    assert_eq!(theirs.status, 404);
    assert!(
        !is_sharelog_404(&theirs),
        "/share/s/x must reach the music server, got sharelog's 404"
    );
    // (sharelog itself answers an unknown share with its JSON 404, through the same proxy)
    assert!(is_sharelog_404(&front.get("/share/NoSuchShare0", &[])));
    // And the internal endpoints are not exposed
    let metrics = front.get("/metrics", &[]);
    assert_eq!(metrics.status, 404, "/metrics must not pass the proxy");

    // Then exactly the two GET visits were recorded, with the address the proxy saw
    let history = front.get(&format!("/api/share/{id}/history"), &owner);
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
}
