//! The share page through the shipped reverse proxy: real nginx with `deploy/nginx.conf` in
//! front of sharelog and the supysonic upstream. The page, its assets, its cover, oEmbed and
//! a track all come through the proxy's port, with the headers sharelog set.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::nginx::{shipped_config, Nginx};
use support::{alice, spawn_app, upstream, HttpResponse};

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn text(r: &HttpResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The first `attr="…"` value after `marker`.
fn value_after(html: &str, marker: &str, attr: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page"));
    let rest = &html[at..];
    let key = format!("{attr}=\"");
    let v = rest.find(&key).unwrap() + key.len();
    rest[v..v + rest[v..].find('"').unwrap()].to_string()
}

#[test]
fn the_page_its_assets_cover_and_tracks_pass_the_proxy_with_their_headers() {
    let up = upstream::shared();
    let port = support::free_port();
    let proxy_url = format!("http://127.0.0.1:{port}");
    let app = spawn_app(|s| s.public_url = proxy_url.clone());
    let nginx = Nginx::start(
        &shipped_config(&format!("127.0.0.1:{}", app.port), up.addr(), port),
        port,
    );
    let album = up.album("Alpha");
    let id = app.create(
        &alice(),
        json!({"albums": [album.id], "description": "via nginx"}),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let direct = app.raw("GET", &format!("/share/{id}"), &[("Accept", BROWSER)], None);

    let page = nginx.get(&format!("/share/{id}"), &[("Accept", BROWSER)]);

    assert_eq!(page.status, 200, "{}", text(&page));
    let html = text(&page);
    assert!(html.contains("<h1 id=\"title\">via nginx</h1>"));
    for h in [
        "Content-Security-Policy",
        "Cache-Control",
        "X-Robots-Tag",
        "Referrer-Policy",
        "Vary",
        "X-Frame-Options",
    ] {
        assert!(page.header(h).is_some(), "{h} lost in the proxy");
        assert_eq!(page.header(h), direct.header(h), "{h} changed by the proxy");
    }
    assert!(html.contains(&format!("content=\"{proxy_url}/share/{id}/cover\"")));

    for (marker, attr, kind) in [
        ("rel=\"stylesheet\"", "href", "text/css"),
        ("<script", "src", "text/javascript"),
        ("rel=\"icon\"", "href", "image/svg+xml"),
    ] {
        let path = value_after(&html, marker, attr);
        assert!(path.starts_with("/share/_assets/"), "{path}");
        let r = nginx.get(&path, &[]);
        assert_eq!(r.status, 200, "{path} through nginx: {}", text(&r));
        assert!(
            r.header("Content-Type").unwrap().starts_with(kind),
            "{path}"
        );
        assert_eq!(
            r.header("Cache-Control"),
            Some("public, max-age=31536000, immutable")
        );
    }

    let cover = nginx.get(&format!("/share/{id}/cover?size=64"), &[]);
    assert_eq!(cover.status, 200, "{}", text(&cover));
    assert!(cover.header("Content-Type").unwrap().starts_with("image/"));
    assert_eq!(cover.header("Cache-Control"), Some("public, max-age=86400"));

    let song = &album.songs[0];
    let link = value_after(&html, &format!("data-track-id=\"{}\"", song.id), "href");
    let part = nginx.get(&link, &[("Range", "bytes=0-99")]);
    assert_eq!(part.status, 206, "{link}: {}", text(&part));
    assert_eq!(part.body, std::fs::read(&song.path).unwrap()[..100]);

    let oembed_path = value_after(&html, "application/json+oembed", "href")
        .replace("&#38;", "&")
        .replace(&proxy_url, "");
    let oembed = nginx.get(&oembed_path, &[]);
    assert_eq!(oembed.status, 200, "{oembed_path}: {}", text(&oembed));
    assert!(text(&oembed).contains("\"type\":\"rich\""));

    let missing = nginx.get("/share/NoSuchShare0", &[("Accept", BROWSER)]);
    assert_eq!(missing.status, 404);
    assert!(missing
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    // Navidrome keeps its own token paths.
    let theirs = nginx.get("/share/img/x", &[]);
    assert!(
        !text(&theirs).contains("\"code\":\"not-found\""),
        "{}",
        text(&theirs)
    );
    drop(nginx);
}
