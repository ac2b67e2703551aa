//! The share page through the shipped reverse proxy: real nginx with `deploy/nginx.conf` in
//! front of sharelog and of the supysonic upstream standing in for Navidrome, and a real
//! headless Chromium that only ever talks to nginx's port. The headers sharelog sets (CSP,
//! caching, Vary) must come out of the proxy as they went in.

use crate::support;
use crate::support::browser;
use crate::support::html;
use crate::support::nginx;

use browser::{Browser, Viewport};
use html::attr;
use nginx::Nginx;
use serde_json::json;
use sharelog::config::{Cidr, Settings};
use support::*;

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn text(r: &HttpResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// GET `path` from nginx's port.
fn via(proxy: &Nginx, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http_send(
        "GET",
        &format!("http://{}{path}", proxy.addr()),
        headers,
        None,
    )
}

/// sharelog behind nginx with the shipped config, its public URL the proxy's.
fn behind_nginx() -> (TestApp, Nginx, String) {
    let up = upstream::shared();
    let port = free_port();
    let proxy_url = format!("http://127.0.0.1:{port}");
    let app = spawn_app(|s| {
        s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
        s.public_url = proxy_url.clone();
    });
    let proxy = Nginx::start(
        &nginx::config(&format!("127.0.0.1:{}", app.port), up.addr(), port),
        port,
    );
    (app, proxy, proxy_url)
}

#[test]
fn the_page_its_assets_cover_oembed_and_tracks_pass_the_proxy_with_their_headers() {
    // Given a share behind nginx
    let (app, proxy, proxy_url) = behind_nginx();
    let album = upstream::shared().album("Alpha");
    let id = app.create_id(
        &alice(),
        json!({"albums": [album.id], "description": "via nginx"}),
    );
    let direct = app.raw(
        "GET",
        &format!("/share/{id}"),
        &[("Accept", BROWSER_ACCEPT)],
        None,
    );

    // When a browser's request for the page goes through the proxy
    let page = via(
        &proxy,
        &format!("/share/{id}"),
        &[("Accept", BROWSER_ACCEPT)],
    );

    // Then it is the page, with every header sharelog set, unchanged
    assert_eq!(page.status, 200, "{}", text(&page));
    let html = text(&page);
    assert!(html.contains("<h1 id=\"title\">via nginx</h1>"), "{html}");
    for h in [
        "Content-Security-Policy",
        "Cache-Control",
        "X-Robots-Tag",
        "Referrer-Policy",
        "Vary",
        "X-Frame-Options",
        "X-Content-Type-Options",
    ] {
        assert!(page.header(h).is_some(), "{h} lost in the proxy");
        assert_eq!(page.header(h), direct.header(h), "{h} changed by the proxy");
    }
    assert!(html.contains(&format!("content=\"{proxy_url}/share/{id}/cover\"")));

    // And its stylesheet, script and icon come through with their immutable caching
    for (marker, name, kind) in [
        ("rel=\"stylesheet\"", "href", "text/css"),
        ("<script", "src", "text/javascript"),
        ("rel=\"icon\"", "href", "image/svg+xml"),
    ] {
        let path = attr(&html, marker, name);
        assert!(path.starts_with("/share/_assets/"), "{path}");
        let r = via(&proxy, path, &[]);
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

    // And the cover, a track range and oEmbed answer through it too
    let cover = via(&proxy, &format!("/share/{id}/cover?size=64"), &[]);
    assert_eq!(cover.status, 200, "{}", text(&cover));
    assert!(cover.header("Content-Type").unwrap().starts_with("image/"));
    assert_eq!(cover.header("Cache-Control"), Some("public, max-age=86400"));

    let song = &album.songs[0];
    let link = attr(
        &html,
        &format!("data-track-id=\"{}\"", song.id),
        "data-stream",
    );
    let part = via(&proxy, link, &[("Range", "bytes=0-99")]);
    assert_eq!(part.status, 206, "{link}: {}", text(&part));
    assert_eq!(part.body, std::fs::read(&song.path).unwrap()[..100]);

    let oembed_path = attr(&html, "application/json+oembed", "href")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace(&proxy_url, "");
    let oembed = via(&proxy, &oembed_path, &[]);
    assert_eq!(oembed.status, 200, "{oembed_path}: {}", text(&oembed));
    assert!(text(&oembed).contains("\"type\":\"rich\""));

    // And a missing share is sharelog's HTML 404, while Navidrome keeps its token paths
    let missing = via(&proxy, "/share/NoSuchShare0", &[("Accept", BROWSER_ACCEPT)]);
    assert_eq!(missing.status, 404);
    assert!(missing
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    let theirs = via(&proxy, "/share/img/x", &[]);
    assert!(
        !text(&theirs).contains("\"code\":\"not-found\""),
        "{}",
        text(&theirs)
    );
}

#[test]
fn through_nginx_the_browser_loads_the_page_its_assets_and_cover_and_plays_a_track() {
    // Given sharelog behind nginx with the shipped config, its public URL the proxy's
    let (app, nginx, proxy_url) = behind_nginx();
    let album = upstream::shared().album("Alpha");
    let id = app.create_id(
        &alice(),
        json!({"albums": [album.id], "description": "via nginx"}),
    );

    // When a browser opens the link the owner was given
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{proxy_url}/share/{id}"));

    // Then the page, its stylesheet and script (under /share/_assets/) and the cover all
    // arrived through the proxy with a 200
    assert_eq!(
        browser.js("return document.getElementById('title').textContent"),
        "via nginx"
    );
    browser.wait_for(
        "the cover",
        "document.getElementById('cover').complete && document.getElementById('cover').naturalWidth > 0",
    );
    let loaded = browser.js(
        "return performance.getEntriesByType('resource').map(e => [new URL(e.name).pathname, e.initiatorType, e.responseStatus]);",
    );
    let loaded = loaded.as_array().unwrap();
    let arrived = |what: &str, initiator: &str| {
        loaded
            .iter()
            .any(|e| e[0].as_str().unwrap().starts_with(what) && e[1] == initiator && e[2] == 200)
    };
    assert!(
        arrived("/share/_assets/", "link"),
        "no stylesheet: {loaded:?}"
    );
    assert!(
        arrived("/share/_assets/", "script"),
        "no script: {loaded:?}"
    );
    assert!(
        arrived(&format!("/share/{id}/cover"), "img"),
        "no cover: {loaded:?}"
    );
    assert!(
        browser.js(
            "return document.styleSheets.length > 0 && document.styleSheets[0].cssRules.length > 0"
        ) == true,
        "the stylesheet is empty"
    );

    // And pressing play plays the first track through the proxy
    browser.click("#play");
    let song = &album.songs[0];
    browser.wait_for(
        "the first track to play",
        &format!(
            "(() => {{ const a = document.getElementById('player');
                      return a.src === '{proxy_url}/share/{id}/stream/{}' && !a.paused && a.currentTime > 0.2; }})()",
            song.id
        ),
    );
    browser.assert_no_console_problems();
    let foreign: Vec<String> = browser
        .loaded_urls()
        .into_iter()
        .filter(|u| !u.starts_with(&format!("{proxy_url}/")))
        .collect();
    assert!(foreign.is_empty(), "requests to other origins: {foreign:?}");

    // And nginx served all of it (not a direct connection to sharelog)
    let log = nginx.access_log();
    for path in [
        format!("GET /share/{id} "),
        "GET /share/_assets/".to_string(),
        format!("GET /share/{id}/cover"),
        format!("GET /share/{id}/stream/{}", song.id),
    ] {
        assert!(log.contains(&path), "nginx did not serve {path}:\n{log}");
    }
}

/// The shipped config plus a front server on `front` that serves the whole shipped site
/// under `/music/` (the prefix is stripped before the shipped routes see the path), the way
/// a host that mounts the music server below a path does.
fn under_a_prefix(app: &TestApp, shipped: u16, front: u16) -> String {
    let conf = nginx::config(
        &format!("127.0.0.1:{}", app.port),
        upstream::shared().addr(),
        shipped,
    );
    let end = conf.trim_end().rfind('}').unwrap();
    format!(
        "{}    server {{
        listen 127.0.0.1:{front};
        location /music/ {{
            proxy_buffering off;
            proxy_pass http://127.0.0.1:{shipped}/;
        }}
    }}
}}
",
        &conf[..end]
    )
}

#[test]
fn with_a_path_prefix_in_public_url_every_link_stays_under_it_through_the_proxy() {
    // Given sharelog whose publicUrl has a path (given with a trailing slash, as people
    // write it), behind a proxy that serves it there
    let (shipped, front) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{front}/music");
    let configured = Settings::load(None, |k| {
        (k == "SHARELOG_PUBLIC_URL").then(|| format!("{base}/"))
    })
    .unwrap()
    .public_url;
    assert_eq!(
        configured, base,
        "publicUrl keeps its path, without the slash"
    );
    let app = spawn_app(|s| {
        s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
        s.public_url = configured;
    });
    let proxy = Nginx::start(&under_a_prefix(&app, shipped, front), shipped);
    let get = |path: &str, headers: &[(&str, &str)]| {
        http_send(
            "GET",
            &format!("http://127.0.0.1:{front}{path}"),
            headers,
            None,
        )
    };
    let album = upstream::shared().album("Alpha");
    let created = app.create(&alice(), json!({"albums": [album.id]}));
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["url"], format!("{base}/share/{id}"));

    // When the page is opened under the prefix
    let page = get(&format!("/music/share/{id}"), &[("Accept", BROWSER_ACCEPT)]);

    // Then every link on it is under the prefix and answers through the proxy
    assert_eq!(page.status, 200, "{}", text(&page));
    let html = text(&page);
    for (marker, name) in [
        ("rel=\"stylesheet\"", "href"),
        ("<script", "src"),
        ("rel=\"icon\"", "href"),
        ("id=\"cover\"", "src"),
        ("id=\"m3u\"", "href"),
        (
            &format!("data-track-id=\"{}\"", album.songs[0].id) as &str,
            "data-stream",
        ),
    ] {
        let path = attr(&html, marker, name);
        assert!(path.starts_with("/music/share/"), "{marker}: {path}");
        let r = get(path, &[("Range", "bytes=0-9")]);
        assert!(
            r.status == 200 || r.status == 206,
            "{path}: {} {}",
            r.status,
            text(&r)
        );
    }
    // And the absolute ones (previews, oEmbed discovery) carry the prefix too
    let og_image = attr(&html, "property=\"og:image\"", "content");
    assert_eq!(og_image, format!("{base}/share/{id}/cover"));
    let og_url = attr(&html, "property=\"og:url\"", "content");
    assert_eq!(og_url, format!("{base}/share/{id}"));
    let cover = http_send("GET", og_image, &[], None);
    assert_eq!(cover.status, 200);
    assert!(cover.header("Content-Type").unwrap().starts_with("image/"));

    let oembed_url = attr(&html, "application/json+oembed", "href")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        oembed_url.starts_with(&format!("{base}/share/oembed?")),
        "{oembed_url}"
    );
    let oembed = http_send("GET", &oembed_url, &[], None);
    assert_eq!(oembed.status, 200, "{oembed_url}: {}", text(&oembed));
    let oembed: serde_json::Value = serde_json::from_slice(&oembed.body).unwrap();
    assert_eq!(oembed["provider_url"], base);
    let iframe = oembed["html"].as_str().unwrap();
    assert!(
        iframe.contains(&format!("src=\"{base}/share/{id}?embed=true")),
        "{iframe}"
    );
    let embed = get(&format!("/music/share/{id}?embed=true"), &[]);
    assert_eq!(embed.status, 200);
    assert!(text(&embed).contains(&format!("href=\"/music/share/{id}\"")));

    // And the M3U lists absolute stream URLs under the prefix, each playable through it
    let m3u = get(&format!("/music/share/{id}?format=m3u"), &[]);
    assert_eq!(m3u.status, 200);
    let streams: Vec<String> = text(&m3u)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert_eq!(streams.len(), album.songs.len(), "{}", text(&m3u));
    for (url, song) in streams.iter().zip(&album.songs) {
        assert_eq!(url, &format!("{base}/share/{id}/stream/{}", song.id));
        let part = http_send("GET", url, &[("Range", "bytes=0-99")], None);
        assert_eq!(part.status, 206, "{url}");
        assert_eq!(part.body, std::fs::read(&song.path).unwrap()[..100]);
    }

    // And a browser at the prefixed URL loads it all and plays the first track
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{base}/share/{id}"));
    browser.wait_for(
        "the cover",
        "document.getElementById('cover').complete && document.getElementById('cover').naturalWidth > 0",
    );
    browser.click("#play");
    browser.wait_for(
        "the first track to play",
        "(() => { const a = document.getElementById('player'); return !a.paused && a.currentTime > 0.2; })()",
    );
    browser.assert_no_console_problems();
    let outside: Vec<String> = browser
        .loaded_urls()
        .into_iter()
        .filter(|u| !u.starts_with(&format!("{base}/")))
        .collect();
    assert!(
        outside.is_empty(),
        "requests outside the prefix: {outside:?}"
    );
    drop(proxy);
}
