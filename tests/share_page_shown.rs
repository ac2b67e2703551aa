//! A page fetched ahead of a person (a prefetch, Chrome's prerender) is a preview whose page
//! carries a single-use token; posted to `POST /share/{id}/shown` when the page is shown, the
//! token becomes exactly one visit. Replays, forgeries and tokens of other shares add nothing.
//! Over real HTTP against the real binary's code and the real supysonic upstream; the
//! browser's side is `share_page_prerender.rs`.

use crate::support;
use crate::support::html;

use serde_json::{json, Value};
use std::sync::{Arc, Barrier};
use support::*;

const BROWSER: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
const CHROME_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

fn share(app: &TestApp) -> String {
    let album = upstream::shared().album("Alpha");
    app.create_id(
        &alice(),
        json!({"albums": [album.id], "description": "soon"}),
    )
}

/// The page as Chrome's prerender asks for it.
fn prerender(app: &TestApp, id: &str) -> Resp {
    app.raw(
        "GET",
        &format!("/share/{id}"),
        &[
            ("Accept", BROWSER),
            ("User-Agent", CHROME_UA),
            ("Sec-Purpose", "prefetch;prerender"),
        ],
        None,
    )
}

/// The token a page carries, and where it says to post it; `None` when it carries none.
fn token_of(page: &str) -> Option<(String, String)> {
    page.contains("name=\"sharelog-shown\"").then(|| {
        let marker = "name=\"sharelog-shown\"";
        (
            html::attr(page, marker, "content").to_string(),
            html::attr(page, marker, "data-post").to_string(),
        )
    })
}

fn post_shown(app: &TestApp, id: &str, body: &[u8]) -> Resp {
    app.raw(
        "POST",
        &format!("/share/{id}/shown"),
        &[
            ("Content-Type", "application/json"),
            ("User-Agent", CHROME_UA),
        ],
        Some(body),
    )
}

fn post_token(app: &TestApp, id: &str, token: &str) -> Resp {
    post_shown(app, id, json!({ "token": token }).to_string().as_bytes())
}

/// (visitCount, previewCount) of a share.
fn counts(app: &TestApp, id: &str) -> (u64, u64) {
    let v = app
        .req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
        .json();
    (
        v["visitCount"].as_u64().unwrap(),
        v["previewCount"].as_u64().unwrap(),
    )
}

fn history(app: &TestApp, id: &str) -> Vec<Value> {
    let r = app.req(
        "GET",
        &format!("/api/share/{id}/history"),
        Some(&alice()),
        None,
    );
    r.json().as_array().unwrap().clone()
}

#[test]
fn a_prerendered_page_once_shown_is_exactly_one_visit() {
    // Given a share whose page Chrome prerendered: a preview, and a page with a token
    let app = spawn_app(|_| {});
    let id = share(&app);
    let page = prerender(&app, &id);
    assert_eq!(page.status(), 200);
    let (token, post) = token_of(&page.text()).expect("the prerendered page carries a token");
    assert_eq!(post, format!("/share/{id}/shown"));
    assert_eq!(counts(&app, &id), (0, 1), "a prerender alone is a preview");

    // When the page is shown and posts its token
    let shown = post_token(&app, &id, &token);

    // Then it is one visit, recorded like a page load (format html), on disk before the 204
    assert_eq!(shown.status(), 204, "{}", shown.text());
    assert!(shown.0.body.is_empty());
    assert_eq!(counts(&app, &id), (1, 1));
    let events = history(&app, &id);
    let last = events.last().unwrap();
    assert_eq!(last["type"], "ShareVisited", "{last}");
    assert_eq!(last["data"]["format"], "html", "{last}");
    assert_eq!(last["data"]["download"], false, "{last}");
    assert_eq!(last["data"]["userAgent"], CHROME_UA, "{last}");

    // And the same token again adds nothing, with a code that says why
    let again = post_token(&app, &id, &token);
    assert_eq!(again.status(), 409, "{}", again.text());
    assert_eq!(again.code(), "shown-token-used");
    assert_eq!(counts(&app, &id), (1, 1));
    assert_eq!(history(&app, &id).len(), events.len());
}

/// The log, not the process's memory, decides that a token counts once: a restart
/// (or another replica on one database) neither loses the key that signed a page's token
/// nor forgets that a token was counted.
#[test]
fn a_token_counts_once_across_a_restart_and_one_issued_before_it_still_counts() {
    let app = spawn_app(|_| {});
    let id = share(&app);
    let (counted, _) = token_of(&prerender(&app, &id).text()).unwrap();
    let (waiting, _) = token_of(&prerender(&app, &id).text()).unwrap();
    assert_eq!(post_token(&app, &id, &counted).status(), 204);

    let app = app.restart(|_| {});
    let again = post_token(&app, &id, &counted);
    assert_eq!(
        (again.status(), again.code().as_str()),
        (409, "shown-token-used"),
        "{}",
        again.text()
    );
    let later = post_token(&app, &id, &waiting);
    assert_eq!(later.status(), 204, "{}", later.text());
    assert_eq!(counts(&app, &id), (2, 2));
}

#[test]
fn a_speculation_prefetch_and_a_legacy_prefetch_get_a_token_too() {
    let app = spawn_app(|_| {});
    let id = share(&app);
    for (header, value) in [("Sec-Purpose", "prefetch"), ("Purpose", "prefetch")] {
        let page = app.raw(
            "GET",
            &format!("/share/{id}"),
            &[
                ("Accept", BROWSER),
                ("User-Agent", CHROME_UA),
                (header, value),
            ],
            None,
        );
        let (token, _) = token_of(&page.text()).expect("a prefetched page carries a token");
        assert_eq!(post_token(&app, &id, &token).status(), 204);
    }
    assert_eq!(counts(&app, &id), (2, 2));
}

#[test]
fn only_a_prefetched_html_page_carries_a_token() {
    // Given a share
    let app = spawn_app(|_| {});
    let id = share(&app);
    let path = format!("/share/{id}");

    // When a person loads the page (already a visit), a bot unfurls it (never shown to a
    // person), and a prefetch asks for the JSON (no script to send a token)
    let person = app.raw(
        "GET",
        &path,
        &[("Accept", BROWSER), ("User-Agent", CHROME_UA)],
        None,
    );
    let bot = app.raw(
        "GET",
        &path,
        &[
            ("Accept", BROWSER),
            ("User-Agent", "Slackbot-LinkExpanding 1.0"),
            ("Sec-Purpose", "prefetch"),
        ],
        None,
    );
    let json_prefetch = app.raw(
        "GET",
        &path,
        &[("Accept", "application/json"), ("Sec-Purpose", "prefetch")],
        None,
    );

    // Then none of them carries a token
    assert!(token_of(&person.text()).is_none(), "{}", person.text());
    assert!(token_of(&bot.text()).is_none());
    assert_eq!(json_prefetch.status(), 200);
    assert!(!json_prefetch.text().contains("sharelog-shown"));
    assert_eq!(counts(&app, &id), (1, 2));
}

#[test]
fn forged_damaged_and_foreign_tokens_add_no_visit() {
    // Given two shares, a prerendered page of the first, and another sharelog's token
    let app = spawn_app(|_| {});
    let (first, second) = (share(&app), share(&app));
    let (token, _) = token_of(&prerender(&app, &first).text()).unwrap();
    let other = spawn_app(|_| {});
    let other_id = share(&other);
    let (foreign, _) = token_of(&prerender(&other, &other_id).text()).unwrap();
    let mut damaged = token.clone();
    let last = damaged.pop().unwrap();
    damaged.push(if last == 'A' { 'B' } else { 'A' });
    let (header, payload, _) = {
        let mut parts = token.split('.');
        (
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
            (),
        )
    };
    let unsigned = format!("{header}.{payload}.");

    // When each is posted
    let refused = [
        (&second, token.as_str(), "another share's token"),
        (&first, foreign.as_str(), "a token of another sharelog"),
        (&first, damaged.as_str(), "a damaged signature"),
        (&first, unsigned.as_str(), "no signature"),
        (&first, "eyJhbGciOiJub25lIn0.e30.", "alg none"),
        (&first, "", "empty"),
    ];
    for (id, bad, what) in refused {
        let r = post_token(&app, id, bad);
        // Then each is 403 shown-token-invalid
        assert_eq!(r.status(), 403, "{what}: {}", r.text());
        assert_eq!(r.code(), "shown-token-invalid", "{what}");
    }
    for (body, code) in [
        (&b"not json"[..], "malformed-json"),
        (b"[1]", "malformed-json"),
        (b"{}", "invalid-field"),
        (br#"{"token": 5}"#, "invalid-field"),
    ] {
        let r = post_shown(&app, &first, body);
        assert_eq!(r.status(), 400, "{}", r.text());
        assert_eq!(r.code(), code);
    }

    // And nothing was counted; the real token still counts once, for its own share
    assert_eq!(counts(&app, &first), (0, 1));
    assert_eq!(counts(&app, &second), (0, 0));
    assert_eq!(post_token(&app, &first, &token).status(), 204);
    assert_eq!(counts(&app, &first), (1, 1));
}

#[test]
fn a_token_posted_many_times_at_once_counts_once() {
    // Given a prerendered page's token
    let app = Arc::new(spawn_app(|_| {}));
    let id = share(&app);
    let (token, _) = token_of(&prerender(&app, &id).text()).unwrap();

    // When 16 clients post it at the same moment
    let barrier = Arc::new(Barrier::new(16));
    let posts: Vec<_> = (0..16)
        .map(|_| {
            let (app, id, token, barrier) =
                (app.clone(), id.clone(), token.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let r = post_token(&app, &id, &token);
                let code = if r.status() == 204 {
                    String::new()
                } else {
                    r.code()
                };
                (r.status(), code)
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = posts.into_iter().map(|t| t.join().unwrap()).collect();

    // Then exactly one is counted and every other is told it was used
    let counted = answers.iter().filter(|(s, _)| *s == 204).count();
    assert_eq!(counted, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, c)| *s == 204 || (*s == 409 && c == "shown-token-used")),
        "{answers:?}"
    );
    assert_eq!(counts(&app, &id), (1, 1));
}

#[test]
fn a_token_of_a_deleted_or_unknown_share_counts_nothing() {
    // Given a prerendered page whose share is then deleted
    let app = spawn_app(|_| {});
    let id = share(&app);
    let (token, _) = token_of(&prerender(&app, &id).text()).unwrap();
    let deleted = app.req("DELETE", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(deleted.status(), 200);

    // When its token is posted, or posted to a share that never existed
    let gone = post_token(&app, &id, &token);
    let unknown = post_token(&app, "NoSuchShare123", &token);

    // Then both are 404, and the log holds no visit
    assert_eq!(gone.status(), 404, "{}", gone.text());
    assert_eq!(gone.code(), "not-found");
    assert_eq!(unknown.status(), 404);
    let types: Vec<String> = history(&app, &id)
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["ShareCreated", "SharePreviewed", "ShareDeleted"]);
}

#[test]
fn the_shown_route_takes_only_post() {
    let app = spawn_app(|_| {});
    let id = share(&app);
    let r = app.raw("GET", &format!("/share/{id}/shown"), &[], None);
    assert_eq!(r.status(), 405, "{}", r.text());
    assert_eq!(r.code(), "method-not-allowed");
    assert_eq!(r.header("allow"), Some("POST"));
}
