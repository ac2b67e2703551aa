//! The share page for people (`GET /share/{id}` negotiated to HTML), its assets, covers,
//! embed player and oEmbed, over real HTTP against a real supysonic upstream.
use crate::support;
use crate::support::html;

use html::attr;
use serde_json::{json, Value};
use support::upstream::http_get;
use support::*;

const BROWSER: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
const CHROME_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

fn share_of(app: &TestApp, body: Value) -> String {
    app.create(&alice(), body)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn page(app: &TestApp, path: &str) -> Resp {
    app.raw(
        "GET",
        path,
        &[("Accept", BROWSER), ("User-Agent", CHROME_UA)],
        None,
    )
}

fn visits(app: &TestApp, id: &str) -> u64 {
    let r = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    r.json()["visitCount"].as_u64().unwrap()
}

#[test]
fn a_browser_gets_the_page_and_curl_keeps_the_json() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let album = up.album("Alpha");
    let id = share_of(
        &app,
        json!({"description": "for you", "albums": [album.id]}),
    );

    let browser = page(&app, &format!("/share/{id}"));
    let curl = app.raw("GET", &format!("/share/{id}"), &[("Accept", "*/*")], None);
    let forced = app.raw("GET", &format!("/share/{id}?format=html"), &[], None);

    assert_eq!(browser.status(), 200);
    assert_eq!(
        browser.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert!(browser.text().starts_with("<!doctype html>"));
    assert_eq!(curl.status(), 200);
    assert!(curl
        .header("Content-Type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(curl.json()["id"], id.as_str());
    assert!(forced.text().starts_with("<!doctype html>"));
    for r in [&browser, &curl, &forced] {
        assert_eq!(r.header("Vary"), Some("Accept"));
    }
    let bad = app.raw("GET", &format!("/share/{id}?format=pdf"), &[], None);
    assert_eq!((bad.status(), bad.code()), (400, "invalid-field".into()));
    assert_eq!(bad.header("Vary"), Some("Accept"));
}

#[test]
fn the_page_keeps_the_dom_the_player_and_browser_tests_rely_on() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let album = up.album("Alpha");
    let id = share_of(
        &app,
        json!({"description": "for you", "albums": [album.id], "downloadable": true, "expiresIn": 86_400}),
    );

    let html = page(&app, &format!("/share/{id}")).text();

    assert!(html.contains("<main>"));
    assert!(html.contains("<h1 id=\"title\">for you</h1>"), "{html}");
    assert!(html.contains("<audio id=\"player\" controls preload=\"none\""));
    for control in [
        "id=\"prev\"",
        "id=\"play\"",
        "id=\"next\"",
        "id=\"seek\"",
        "id=\"now-label\"",
        "id=\"now-playing\"",
    ] {
        assert!(html.contains(control), "{control}");
    }
    assert!(html.contains("<ol id=\"tracks\" data-start=\"0\" data-start-time=\"0\">"));
    assert_eq!(
        html.matches("<li class=\"track\"").count(),
        album.songs.len()
    );
    for song in &album.songs {
        let stream = format!("/share/{id}/stream/{}", song.id);
        let row = format!("data-track-id=\"{}\"", song.id);
        assert_eq!(attr(&html, &row, "data-stream"), stream);
        assert!(html.contains(&format!("<a class=\"play-link\" href=\"{stream}\">")));
        assert!(html.contains(&format!("<span class=\"t-title\">{}</span>", song.title)));
        assert!(html.contains(&format!("href=\"/share/{id}/download/{}\"", song.id)));
    }
    assert_eq!(
        attr(&html, "id=\"zip\"", "href"),
        format!("/share/{id}?download=true")
    );
    assert_eq!(
        attr(&html, "id=\"m3u\"", "href"),
        format!("/share/{id}?format=m3u")
    );
    let total: u32 = album.songs.iter().map(|s| s.duration).sum();
    assert!(html.contains(&format!("<span id=\"total\">0:{total:02}</span>")));
    assert!(html.contains("<span id=\"expires\">"));
    assert_eq!(
        attr(&html, "id=\"cover\"", "src"),
        format!("/share/{id}/cover")
    );
    assert!(html.contains("Shared by <span id=\"owner\">alice</span>"));
}

#[test]
fn downloads_and_expiry_are_shown_only_when_they_apply() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_of(
        &app,
        json!({"albums": [up.album("Alpha").id], "downloadable": false}),
    );

    let html = page(&app, &format!("/share/{id}")).text();

    assert!(!html.contains("id=\"zip\"") && !html.contains("class=\"download\""));
    assert!(!html.contains("id=\"expires\""));
    assert!(
        html.contains("<h1 id=\"title\">Alpha</h1>"),
        "no description: the contents"
    );
}

#[test]
fn the_page_headers_lock_it_to_our_origin() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_of(&app, json!({"albums": [up.album("Alpha").id]}));

    let r = page(&app, &format!("/share/{id}"));

    let csp = r.header("Content-Security-Policy").unwrap();
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(r.header("X-Robots-Tag"), Some("noindex"));
    assert_eq!(r.header("Referrer-Policy"), Some("no-referrer"));
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    let html = r.text();
    assert!(!html.contains("<script>") && !html.contains("<style") && !html.contains(" style="));
    assert!(
        !html.contains(" on") || !html.contains(" onclick="),
        "no inline handlers"
    );
}

#[test]
fn a_script_in_the_description_is_text() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let evil = "</script><script>alert(1)</script>";
    let id = share_of(
        &app,
        json!({"description": evil, "albums": [up.album("Alpha").id]}),
    );

    let html = page(&app, &format!("/share/{id}")).text();

    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("&#60;/script&#62;&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only our own script tag"
    );
}

#[test]
fn assets_are_served_under_hashed_names_and_cached_forever() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_of(&app, json!({"albums": [up.album("Alpha").id]}));
    let html = page(&app, &format!("/share/{id}")).text();
    let css = attr(&html, "rel=\"stylesheet\"", "href").to_string();
    let js = attr(&html, "<script src", "src").to_string();
    assert!(
        css.starts_with("/share/_assets/share.") && css.ends_with(".css"),
        "{css}"
    );

    let mut wire = html.len();
    for (path, kind) in [(&css, "text/css"), (&js, "text/javascript")] {
        let r = app.raw("GET", path, &[], None);
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.header("Content-Type").unwrap().starts_with(kind));
        assert_eq!(
            r.header("Cache-Control"),
            Some("public, max-age=31536000, immutable")
        );
        wire += r.0.body.len();
    }
    assert!(wire < 50 * 1024, "page + CSS + JS is {wire} bytes");
    let stale = app.raw("GET", "/share/_assets/share.0000000000.css", &[], None);
    assert_eq!((stale.status(), stale.code()), (404, "not-found".into()));
}

#[test]
fn a_browser_asking_for_a_missing_or_expired_share_gets_a_short_page() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_of(
        &app,
        json!({"albums": [up.album("Alpha").id], "expiresIn": 1}),
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));

    let missing = page(&app, "/share/nosuchshare");
    let gone = page(&app, &format!("/share/{id}"));
    let curl_gone = app.raw("GET", &format!("/share/{id}"), &[("Accept", "*/*")], None);

    assert_eq!(missing.status(), 404);
    assert!(missing
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    assert!(missing.text().contains("Share not found"));
    assert_eq!(gone.status(), 410);
    assert!(gone.text().contains("expired"));
    assert!(gone.header("Content-Security-Policy").is_some());
    assert_eq!(gone.header("Vary"), Some("Accept"));
    assert_eq!(
        (curl_gone.status(), curl_gone.code()),
        (410, "share-expired".into())
    );
    // The full page's error may not be framed; the embed player's may, so a site that
    // embedded the share shows the message in its frame instead of a broken frame
    assert_eq!(gone.header("X-Frame-Options"), Some("DENY"));
    for path in [
        format!("/share/{id}?embed=true"),
        "/share/nosuchshare?embed=true".into(),
    ] {
        let framed = app.raw("GET", &path, &[], None);
        assert!(
            matches!(framed.status(), 404 | 410),
            "{path}: {}",
            framed.status()
        );
        assert!(
            framed
                .header("Content-Type")
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let csp = framed.header("Content-Security-Policy").unwrap();
        assert!(csp.ends_with("frame-ancestors *"), "{path}: {csp}");
        assert_eq!(framed.header("X-Frame-Options"), None, "{path}");
    }
}

#[test]
fn a_browser_gets_a_page_past_the_rate_limit_and_while_the_music_server_is_down() {
    // Given a server whose rate limit allows two answers at once and one a minute
    let up = upstream::shared();
    let app = spawn_app(|s| {
        s.public_access.rate_limit.per_minute = 1;
        s.public_access.rate_limit.burst = 2;
    });
    let id = share_of(&app, json!({"albums": [up.album("Alpha").id]}));
    let path = format!("/share/{id}");
    assert_eq!(page(&app, &path).status(), 200);
    assert_eq!(page(&app, &path).status(), 200);

    // When a browser asks once more, then it gets a page that says to wait, with Retry-After
    let limited = page(&app, &path);
    assert_eq!(limited.status(), 429);
    assert!(limited
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    assert!(
        limited.text().contains("Too many requests"),
        "{}",
        limited.text()
    );
    assert!(limited.header("Retry-After").is_some());
    assert!(limited.header("Content-Security-Policy").is_some());
    // And a program keeps the JSON error
    let json = app.raw("GET", &path, &[("Accept", "*/*")], None);
    assert_eq!((json.status(), json.code()), (429, "rate-limited".into()));

    // Given the same share once the music server is gone
    let app = app.restart(|s| s.upstream.url = "http://127.0.0.1:9".into());
    // Then a browser gets a page that says so, and a program the JSON error
    let down = page(&app, &path);
    assert!(matches!(down.status(), 502..=504), "{}", down.status());
    assert!(down
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    assert!(down.text().contains("music server"), "{}", down.text());
    let json = app.raw("GET", &path, &[("Accept", "*/*")], None);
    assert_eq!(json.status(), down.status());
    assert!(json.code().starts_with("upstream-"), "{}", json.text());
}

#[test]
fn each_page_load_is_one_visit_and_head_is_none() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_of(&app, json!({"albums": [up.album("Alpha").id]}));

    for _ in 0..3 {
        assert_eq!(page(&app, &format!("/share/{id}")).status(), 200);
    }
    let head = app.raw(
        "HEAD",
        &format!("/share/{id}"),
        &[("Accept", BROWSER)],
        None,
    );

    assert_eq!(head.status(), 200);
    assert_eq!(visits(&app, &id), 3);
}

fn cover_of(up: &TestUpstream, album: &str) -> String {
    let a = up.api("getAlbum", &[("id", &up.album(album).id)]);
    a["album"]["coverArt"].as_str().unwrap().to_string()
}

#[test]
fn the_cover_is_the_music_servers_art_and_cacheable_and_not_a_visit() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_of(&app, json!({"albums": [up.album("Alpha").id]}));
    let cover = cover_of(up, "Alpha");
    let (status, original) =
        http_get(&up.rest_url("getCoverArt", &[("id", &cover), ("size", "64")]));
    assert_eq!(status, 200);

    let first = app.raw("GET", &format!("/share/{id}/cover?size=64"), &[], None);
    let named = app.raw(
        "GET",
        &format!("/share/{id}/cover/{cover}?size=64"),
        &[],
        None,
    );

    for r in [&first, &named] {
        assert_eq!(r.status(), 200, "{}", r.text());
        assert!(r.header("Content-Type").unwrap().starts_with("image/"));
        assert_eq!(r.header("Cache-Control"), Some("public, max-age=86400"));
        assert_eq!(r.0.body, original, "the music server's bytes, unchanged");
    }
    assert_eq!(visits(&app, &id), 0, "covers are not visits");
    let default = app.raw("GET", &format!("/share/{id}/cover"), &[], None);
    assert_eq!(default.status(), 200);
    assert!(default.0.body.starts_with(&[0xFF, 0xD8]), "a JPEG");
}

#[test]
fn a_cover_outside_the_share_is_not_found_even_if_the_music_server_has_it() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let beta = share_of(&app, json!({"albums": [up.album("Beta").id]}));
    let alpha_cover = cover_of(up, "Alpha");

    let foreign = app.raw(
        "GET",
        &format!("/share/{beta}/cover/{alpha_cover}"),
        &[],
        None,
    );
    let unknown = app.raw("GET", "/share/nosuchshare/cover", &[], None);
    let bad_size = app.raw("GET", &format!("/share/{beta}/cover?size=5000"), &[], None);

    assert_eq!(
        (foreign.status(), foreign.code()),
        (404, "not-found".into())
    );
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        (bad_size.status(), bad_size.code()),
        (400, "invalid-field".into())
    );
    assert_eq!(bad_size.json()["field"], "size");
}

#[test]
fn a_share_without_art_shows_a_stand_in_picture() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let beta = share_of(&app, json!({"albums": [up.album("Beta").id]}));
    // A playlist's covers are its tracks' ids, which supysonic answers with an XML error
    let playlist = share_of(&app, json!({"playlists": [up.playlist.id]}));

    for id in [beta, playlist] {
        let r = app.raw("GET", &format!("/share/{id}/cover"), &[], None);

        assert_eq!(r.status(), 200, "{}", r.text());
        assert_eq!(r.header("Content-Type"), Some("image/svg+xml"));
        assert!(r.text().starts_with("<svg"));
    }
}

fn counts(app: &TestApp, id: &str) -> (u64, u64) {
    let v = app
        .req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
        .json();
    (
        v["visitCount"].as_u64().unwrap(),
        v["previewCount"].as_u64().unwrap(),
    )
}

#[test]
fn preview_bots_and_prefetches_get_the_page_as_a_preview_not_a_visit() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_of(
        &app,
        json!({"description": "for you", "albums": [up.album("Alpha").id]}),
    );
    let path = format!("/share/{id}");
    let person = page(&app, &path).text();

    // Slack asks with */*: it still gets the page, whose tags it reads.
    let slack = app.raw(
        "GET",
        &path,
        &[
            ("Accept", "*/*"),
            (
                "User-Agent",
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            ),
        ],
        None,
    );
    let prefetch = app.raw(
        "GET",
        &path,
        &[
            ("Accept", BROWSER),
            ("User-Agent", CHROME_UA),
            ("Sec-Purpose", "prefetch"),
        ],
        None,
    );

    assert_eq!(slack.status(), 200);
    assert_eq!(slack.text(), person, "the same page");
    // The prefetched page is the same but for one line: its token, for when it is shown
    // (share_page_shown.rs).
    let prefetched = prefetch.text();
    let token_line = prefetched
        .lines()
        .find(|l| l.starts_with("<meta name=\"sharelog-shown\""))
        .expect("a prefetched page carries a token");
    assert_eq!(prefetched.replace(&format!("{token_line}\n"), ""), person);
    assert_eq!(counts(&app, &id), (1, 2));
    let og = |name: &str| attr(&person, &format!("property=\"og:{name}\""), "content").to_string();
    assert_eq!(og("title"), "for you");
    assert_eq!(og("url"), format!("{PUBLIC_URL}/share/{id}"));
    assert_eq!(og("image"), format!("{PUBLIC_URL}/share/{id}/cover"));
    assert!(
        og("description").starts_with("3 tracks · 0:07"),
        "{}",
        og("description")
    );
}

#[test]
fn configured_preview_agents_replace_the_defaults() {
    let up = upstream::shared();
    let app = spawn_app(|s| s.public_access.preview_agents = vec!["OurUnfurler".into()]);
    let id = share_of(&app, json!({"albums": [up.album("Alpha").id]}));
    let path = format!("/share/{id}");

    app.raw(
        "GET",
        &path,
        &[("Accept", BROWSER), ("User-Agent", "ourunfurler/2")],
        None,
    );
    app.raw(
        "GET",
        &path,
        &[("Accept", BROWSER), ("User-Agent", "Slackbot 1.0")],
        None,
    );

    assert_eq!(counts(&app, &id), (1, 1));
}

#[test]
fn only_the_embed_player_may_be_framed() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_of(&app, json!({"albums": [up.album("Alpha").id]}));

    let full = page(&app, &format!("/share/{id}"));
    let embed = app.raw("GET", &format!("/share/{id}?embed=true"), &[], None);

    assert_eq!(full.header("X-Frame-Options"), Some("DENY"));
    assert_eq!(embed.status(), 200);
    assert!(embed.text().contains("<body class=\"embed\">"));
    assert!(embed.text().contains("<audio id=\"player\""));
    let csp = embed.header("Content-Security-Policy").unwrap();
    assert!(csp.ends_with("frame-ancestors *"), "{csp}");
    assert_eq!(embed.header("X-Frame-Options"), None);
    assert_eq!(counts(&app, &id), (2, 0), "both are visits");
    let bad = app.raw("GET", &format!("/share/{id}?embed=yes"), &[], None);
    assert_eq!(bad.status(), 400);
}

#[test]
fn oembed_describes_our_share_pages_and_nothing_else() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_of(
        &app,
        json!({"description": "Mix \"1\" <b>", "albums": [up.album("Alpha").id]}),
    );
    let page_url = format!("{PUBLIC_URL}/share/{id}");
    let html = page(&app, &format!("/share/{id}")).text();
    let advertised = attr(&html, "type=\"application/json+oembed\"", "href").replace("&#38;", "&");
    let oembed = |url: &str| {
        app.raw(
            "GET",
            &format!("/share/oembed?url={}", upstream::percent_encode(url)),
            &[],
            None,
        )
    };

    let r = oembed(&page_url);

    assert_eq!(
        advertised,
        format!(
            "{PUBLIC_URL}/share/oembed?url={}&format=json",
            upstream::percent_encode(&page_url)
        )
    );
    assert_eq!(r.status(), 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["version"], "1.0");
    assert_eq!(v["type"], "rich");
    assert_eq!(v["title"], "Mix \"1\" <b>");
    assert_eq!(v["author_name"], "alice");
    assert_eq!(v["thumbnail_url"], format!("{page_url}/cover"));
    let iframe = v["html"].as_str().unwrap();
    assert!(
        iframe.starts_with(&format!("<iframe src=\"{page_url}?embed=true\"")),
        "{iframe}"
    );
    assert!(
        iframe.contains("title=\"Mix &#34;1&#34; &#60;b&#62;\""),
        "{iframe}"
    );
    assert_eq!(counts(&app, &id), (1, 0), "only the page load was a visit");

    let foreign = oembed(&format!("http://elsewhere.example/share/{id}"));
    let unknown = oembed(&format!("{PUBLIC_URL}/share/nosuchshare"));
    let missing = app.raw("GET", "/share/oembed", &[], None);
    let xml = app.raw(
        "GET",
        &format!(
            "/share/oembed?url={}&format=xml",
            upstream::percent_encode(&page_url)
        ),
        &[],
        None,
    );
    assert_eq!(
        (foreign.status(), foreign.code()),
        (404, "not-found".into())
    );
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        (missing.status(), missing.json()["field"].clone()),
        (400, json!("url"))
    );
    assert_eq!(xml.status(), 501);
    // HEAD, like every public path: the GET's headers, no body
    let head = app.raw(
        "HEAD",
        &format!("/share/oembed?url={}", upstream::percent_encode(&page_url)),
        &[],
        None,
    );
    assert_eq!(head.status(), 200);
    assert_eq!(head.header("Content-Type"), r.header("Content-Type"));
    assert!(head.text().is_empty());
    let small = app.raw(
        "GET",
        &format!(
            "/share/oembed?url={}&maxwidth=320&maxheight=300",
            upstream::percent_encode(&page_url)
        ),
        &[],
        None,
    );
    assert_eq!(
        (
            small.json()["width"].clone(),
            small.json()["height"].clone()
        ),
        (json!(320), json!(300))
    );
}
