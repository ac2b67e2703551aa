//! Chromium prerenders a share page and a person then opens it: one preview, then one visit.
//!
//! Real headless Chromium, real nginx with `deploy/nginx.conf`, real sharelog and supysonic.
//! A page of the same origin (what nginx sends to "Navidrome": here a small stand-in that
//! answers every request with one page) carries speculation rules for the share's page, as
//! any same-origin page may. Chromium prerenders the share page (`Sec-Purpose:
//! prefetch;prerender`: a preview), and a click on the link shows the prerendered page
//! without a new request; its script then sends the page's token, and the preview becomes a
//! visit. `activationStart > 0` in the shown page proves it was the prerendered one.

use crate::support;
use crate::support::browser;
use crate::support::nginx;

use browser::{Browser, Viewport};
use nginx::Nginx;
use serde_json::json;
use sharelog::config::Cidr;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};
use support::*;

/// A same-origin page (behind nginx's `location /`) whose speculation rules ask for `rules`
/// (`prerender` or `prefetch`) of `target`, with a link to it. Returns the stand-in's
/// address; it serves until the test process ends.
fn launcher(rules: &str, target: &str) -> String {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>launcher</title>\
         <script type=\"speculationrules\">{{\"{rules}\": [{{\"source\": \"list\", \"urls\": \
         [\"{target}\"]}}]}}</script></head><body><p><a id=\"go\" href=\"{target}\">Open the \
         share</a></p></body></html>"
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match conn.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Cache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    addr
}

/// sharelog and the launcher behind nginx with the shipped config; a share of Alpha.
fn behind_nginx(rules: &str) -> (TestApp, Nginx, String) {
    let port = free_port();
    let app = spawn_app(|s| {
        s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
        s.public_url = format!("http://127.0.0.1:{port}");
    });
    let album = upstream::shared().album("Alpha");
    let id = app.create_id(
        &alice(),
        json!({"albums": [album.id], "description": "Prerendered"}),
    );
    let stand_in = launcher(rules, &format!("/share/{id}"));
    let proxy = Nginx::start(
        &nginx::config(&format!("127.0.0.1:{}", app.port), &stand_in, port),
        port,
    );
    (app, proxy, id)
}

/// (visitCount, previewCount), from the owner API.
fn counts(app: &TestApp, id: &str) -> (u64, u64) {
    let v = app
        .req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
        .json();
    (
        v["visitCount"].as_u64().unwrap(),
        v["previewCount"].as_u64().unwrap(),
    )
}

/// Polls the counts until they are `want`; panics with what they were after `PATIENCE`.
fn wait_for_counts(app: &TestApp, id: &str, want: (u64, u64), what: &str) {
    let deadline = Instant::now() + browser::PATIENCE;
    loop {
        let now = counts(app, id);
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: (visits, previews) are {now:?}, not {want:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The share's events by type, in order.
fn event_types(app: &TestApp, id: &str) -> Vec<String> {
    let r = app.req(
        "GET",
        &format!("/api/share/{id}/history"),
        Some(&alice()),
        None,
    );
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_prerendered_page_is_a_preview_until_it_is_shown_then_one_visit() {
    // Given a same-origin page whose speculation rules prerender the share's page
    let (app, proxy, id) = behind_nginx("prerender");
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("http://{}/launch", proxy.addr()));

    // When Chromium prerenders it: a preview, and no visit while nobody sees it
    wait_for_counts(&app, &id, (0, 1), "Chromium prerenders the share page");
    let access = proxy.access_log();
    assert!(
        access.contains(&format!("GET /share/{id} ")),
        "the prerender went through nginx: {access}"
    );
    // The prerendered page has run its script by now (it loads the player's assets too);
    // give it time to post anything it would post.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        counts(&app, &id),
        (0, 1),
        "a page nobody has seen is no visit"
    );

    // When the person clicks the link
    browser.click("#go");

    // Then the prerendered page is shown (activated, not loaded again)
    browser.wait_for(
        "the share page",
        &format!("location.pathname === '/share/{id}' && !!document.getElementById('title')"),
    );
    let activation =
        browser.js("return performance.getEntriesByType('navigation')[0].activationStart;");
    assert!(
        activation.as_f64().unwrap_or(0.0) > 0.0,
        "the page shown was the prerendered one (activationStart {activation})"
    );
    assert_eq!(browser.js("return document.prerendering;"), json!(false));

    // And it became exactly one visit, with no second page load
    wait_for_counts(&app, &id, (1, 1), "the shown page sends its token");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(counts(&app, &id), (1, 1));
    assert_eq!(
        event_types(&app, &id),
        ["ShareCreated", "SharePreviewed", "ShareVisited"]
    );
    let shown_posts = proxy
        .access_log()
        .matches(&format!("POST /share/{id}/shown "))
        .count();
    assert_eq!(shown_posts, 1, "{}", proxy.access_log());
    let shot = browser.screenshot("share-page-prerendered-then-shown");
    assert!(shot.is_file());
    // No CSP violation (the post needs `connect-src 'self'`) and no script error.
    browser.assert_no_console_problems();
}

#[test]
fn a_prefetched_page_opened_from_memory_is_one_visit() {
    // Given a same-origin page whose speculation rules prefetch the share's page
    let (app, proxy, id) = behind_nginx("prefetch");
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("http://{}/launch", proxy.addr()));
    wait_for_counts(&app, &id, (0, 1), "Chromium prefetches the share page");

    // When the person clicks the link
    browser.click("#go");
    browser.wait_for(
        "the share page",
        &format!("location.pathname === '/share/{id}' && !!document.getElementById('title')"),
    );

    // Then the page came from the prefetch, and is one visit
    let delivery = browser.js("return performance.getEntriesByType('navigation')[0].deliveryType;");
    assert_eq!(delivery, json!("navigational-prefetch"));
    wait_for_counts(&app, &id, (1, 1), "the shown page sends its token");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(counts(&app, &id), (1, 1));
    browser.assert_no_console_problems();
}
