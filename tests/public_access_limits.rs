//! Shares with a visit limit over real HTTP: a visit hands out the key that the share's
//! streams, downloads and covers need (401 `access-key-required` without it); once the limit
//! is used up a visit is 410 `visit-limit-reached` (a short page for a browser), while a page
//! opened before goes on playing with its key, and link previews are neither counted nor
//! refused (their page's cover carries a cover-only key).
use crate::support;

use serde_json::json;
use support::protected::*;
use support::*;

fn raw(app: &TestApp, id: &str) -> Resp {
    app.raw("GET", &format!("/share/{id}?format=raw"), &[], None)
}

#[test]
fn the_media_of_a_limited_share_need_the_key_a_visit_handed_out() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({ "maxVisits": 5 }));
    let (track, cover) = alpha_track_and_cover();
    let key = visit_key(&app, &id, &[]);
    let media = [
        format!("/share/{id}/stream/{track}"),
        format!("/share/{id}/download/{track}"),
        format!("/share/{id}/cover"),
        format!("/share/{id}/cover/{cover}"),
    ];
    for path in &media {
        let bare = app.raw("GET", path, &[], None);
        assert_eq!(
            (bare.status(), bare.code()),
            (401, "access-key-required".into()),
            "{path}"
        );
        assert!(
            bare.header("WWW-Authenticate").is_none(),
            "no password to ask for"
        );
        let keyed = app.raw("GET", &format!("{path}?key={key}"), &[], None);
        assert_eq!(keyed.status(), 200, "{path}: {}", keyed.text());
        assert_eq!(
            keyed.header("Cache-Control"),
            Some("no-store, private"),
            "{path}"
        );
    }
    // A visit needs no key: the limit is what guards it.
    let page = raw(&app, &id);
    assert_eq!(page.status(), 200);
    assert_eq!(page.header("Cache-Control"), Some("no-store, private"));
    assert_eq!(owner_view(&app, &id)["visitCount"], 2);
}

#[test]
fn a_used_up_share_refuses_visits_but_a_page_opened_before_keeps_playing() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({ "maxVisits": 2 }));
    let (track, _) = alpha_track_and_cover();
    let first = raw(&app, &id).json();
    let stream = path_of(first["tracks"][1]["streamUrl"].as_str().unwrap()).to_string();
    assert_eq!(raw(&app, &id).status(), 200);

    // Spent: every kind of visit is 410, a browser gets a page saying so.
    let json = raw(&app, &id);
    assert_eq!(
        (json.status(), json.code()),
        (410, "visit-limit-reached".into())
    );
    let m3u = app.raw("GET", &format!("/share/{id}?format=m3u"), &[], None);
    assert_eq!(m3u.status(), 410);
    let key = key_in(&stream).unwrap();
    let zip = app.raw(
        "GET",
        &format!("/share/{id}?download=true&key={key}"),
        &[],
        None,
    );
    assert_eq!(
        (zip.status(), zip.code()),
        (410, "visit-limit-reached".into()),
        "a zip is a visit"
    );
    assert_eq!(
        app.raw("HEAD", &format!("/share/{id}"), &[], None).status(),
        410
    );
    let page = app.raw(
        "GET",
        &format!("/share/{id}"),
        &[("Accept", BROWSER), ("User-Agent", CHROME_UA)],
        None,
    );
    assert_eq!(page.status(), 410);
    let html = page.text();
    assert!(html.contains("This link has been used up"), "{html}");
    assert!(!html.contains("Secret songs"), "{html}");

    // The first visit's page still plays, downloads and shows its cover.
    let played = app.raw("GET", &stream, &[("Range", "bytes=0-99")], None);
    assert_eq!(played.status(), 206, "{}", played.text());
    for path in [
        format!("/share/{id}/download/{track}?key={key}"),
        format!("/share/{id}/cover?key={key}"),
    ] {
        assert_eq!(app.raw("GET", &path, &[], None).status(), 200, "{path}");
    }
    let view = owner_view(&app, &id);
    assert_eq!(view["visitCount"], 2, "{view}");
}

#[test]
fn previews_of_a_limited_share_are_never_counted_nor_refused_and_show_only_the_cover() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({ "maxVisits": 1 }));
    let bot = || {
        app.raw(
            "GET",
            &format!("/share/{id}"),
            &[("User-Agent", SLACKBOT)],
            None,
        )
    };
    let before = bot();
    assert_eq!(before.status(), 200);
    assert_eq!(raw(&app, &id).status(), 200);
    assert_eq!(raw(&app, &id).status(), 410);
    // Used up, and a chat app still unfurls it.
    let after = bot();
    assert_eq!(after.status(), 200);
    let html = after.text();
    assert!(
        html.contains("og:title\" content=\"Secret songs for Bob\""),
        "{html}"
    );
    let image =
        support::html::attr(&html, "property=\"og:image\"", "content").replace("&#38;", "&");
    let image_key = key_in(&image).expect("the cover of a preview carries a key");
    assert_eq!(
        app.raw("GET", path_of(&image), &[], None).status(),
        200,
        "{image}"
    );
    // That key opens the covers, nothing else; the preview's stream links carry none.
    let (track, _) = alpha_track_and_cover();
    let stream = app.raw(
        "GET",
        &format!("/share/{id}/stream/{track}?key={image_key}"),
        &[],
        None,
    );
    assert_eq!(
        (stream.status(), stream.code()),
        (401, "access-key-required".into())
    );
    let row = support::html::attr(&html, "class=\"play-link\"", "href");
    assert!(key_in(row).is_none(), "{row}");
    // oEmbed gives a thumbnail that loads.
    let url = upstream::percent_encode(&format!("{PUBLIC_URL}/share/{id}"));
    let about = app
        .raw("GET", &format!("/share/oembed?url={url}"), &[], None)
        .json();
    let thumb = about["thumbnail_url"].as_str().unwrap();
    assert!(key_in(thumb).is_some());
    assert_eq!(app.raw("GET", path_of(thumb), &[], None).status(), 200);
    assert_eq!(about["author_name"], "alice");

    let view = owner_view(&app, &id);
    assert_eq!(
        (view["visitCount"].as_u64(), view["previewCount"].as_u64()),
        (Some(1), Some(2))
    );
}

#[test]
fn a_prefetched_page_of_a_limited_share_gets_its_key_when_it_is_shown() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({ "maxVisits": 3 }));
    let page = app.raw(
        "GET",
        &format!("/share/{id}"),
        &[
            ("Accept", BROWSER),
            ("User-Agent", CHROME_UA),
            ("Sec-Purpose", "prefetch;prerender"),
        ],
        None,
    );
    assert_eq!(page.status(), 200);
    let html = page.text();
    let token = support::html::attr(&html, "name=\"sharelog-shown\"", "content");
    let row = support::html::attr(&html, "class=\"play-link\"", "href");
    assert!(key_in(row).is_none(), "a preview gets no key: {row}");
    let shown = app.raw(
        "POST",
        &format!("/share/{id}/shown"),
        &[("Content-Type", "application/json")],
        Some(json!({ "token": token }).to_string().as_bytes()),
    );
    assert_eq!(shown.status(), 200, "{}", shown.text());
    let key = shown.json()["key"].as_str().unwrap().to_string();
    let (track, _) = alpha_track_and_cover();
    let stream = app.raw(
        "GET",
        &format!("/share/{id}/stream/{track}?key={key}"),
        &[],
        None,
    );
    assert_eq!(stream.status(), 200);
    assert_eq!(owner_view(&app, &id)["visitCount"], 1);
}

/// Whether `what` (a path of `every_path`) is a visit.
fn is_visit(what: &str) -> bool {
    matches!(what, "page" | "embed" | "raw" | "m3u" | "zip")
}

#[test]
fn every_path_of_a_limited_share_with_and_without_its_key_before_and_after_the_limit() {
    let app = spawn_app(|_| {});
    // One visit for the key, then five visits a pass (page, embed, raw, m3u, zip), twice:
    // the HEAD after the last zip already finds the limit used up.
    let id = share_with(&app, json!({ "maxVisits": 11 }));
    let key = visit_key(&app, &id, &[]);
    let mut visits = 1;
    let media = |what: &str| matches!(what, "stream" | "download" | "cover" | "cover by id");
    for (pass, key) in [
        ("without a key", None),
        ("with its key", Some(key.as_str())),
        ("used up, with its key", Some(key.as_str())),
    ] {
        for p in every_path(&id) {
            let r = p.send(&app, key, &[]);
            let spent = visits >= 11;
            let expected = match (media(p.what), key) {
                (true, None) => 401,
                _ if spent && (is_visit(p.what) || p.what == "head") => 410,
                _ => 200,
            };
            assert_eq!(r.status(), expected, "{pass}, {}: {}", p.what, r.text());
            match expected {
                401 => assert_eq!(r.code(), "access-key-required", "{}", p.what),
                410 if p.method == "GET"
                    && r.header("Content-Type") == Some("application/json") =>
                {
                    assert_eq!(r.code(), "visit-limit-reached", "{}", p.what)
                }
                200 if is_visit(p.what) => visits += 1,
                _ => {}
            }
            assert_eq!(
                r.header("Cache-Control"),
                Some("no-store, private"),
                "{pass}, {}",
                p.what
            );
        }
    }
    let view = owner_view(&app, &id);
    assert_eq!(view["visitCount"], 11);
    assert_eq!(
        view["previewCount"], 3,
        "previews counted apart, never refused: {view}"
    );
}

#[test]
fn the_shown_post_is_a_visit_and_refused_once_the_limit_is_used_up() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({ "maxVisits": 1 }));
    let prefetch = || {
        let page = app.raw(
            "GET",
            &format!("/share/{id}"),
            &[("Accept", BROWSER), ("Sec-Purpose", "prefetch")],
            None,
        );
        assert_eq!(page.status(), 200);
        support::html::attr(&page.text(), "name=\"sharelog-shown\"", "content").to_string()
    };
    let post = |token: &str| {
        app.raw(
            "POST",
            &format!("/share/{id}/shown"),
            &[("Content-Type", "application/json")],
            Some(json!({ "token": token }).to_string().as_bytes()),
        )
    };
    let (first, second) = (prefetch(), prefetch());
    assert_eq!(post(&first).status(), 200);
    let spent = post(&second);
    assert_eq!(
        (spent.status(), spent.code()),
        (410, "visit-limit-reached".into())
    );
    assert_eq!(owner_view(&app, &id)["visitCount"], 1);
}
