//! The owner's page in headless Chromium: the steps and checks its browser tests share (a
//! sharelog at its own public address, alice's shares, signing in through the form, waiting for
//! the list and its charts, the same-origin and sideways-scroll checks).

use super::browser::{Browser, ConsoleEntry};
use super::*;
use serde_json::{json, Value};

/// A sharelog whose `publicUrl` is its own address, as in a deployment.
pub fn app() -> TestApp {
    let port = free_port();
    spawn_app(|s| {
        s.listen = format!("127.0.0.1:{port}").parse().unwrap();
        s.public_url = format!("http://127.0.0.1:{port}");
    })
}

pub fn album(name: &str) -> String {
    upstream::shared().album(name).id.clone()
}

pub fn alice_creds() -> &'static upstream::Creds {
    &upstream::shared().user
}

/// `n` visits of the share or link `id` by a program (raw JSON), and `previews` by a
/// link-preview bot.
pub fn open(app: &TestApp, id: &str, n: usize, previews: usize) {
    for (count, agent) in [(n, "curl/8"), (previews, "Slackbot-LinkExpanding 1.0")] {
        for _ in 0..count {
            let r = app.raw(
                "GET",
                &format!("/share/{id}"),
                &[("User-Agent", agent)],
                None,
            );
            assert_eq!(r.status(), 200, "{}", r.text());
        }
    }
}

/// Alice's shares as an owner has them after a while: an album for Sam with 4 visits, a
/// preview and two recipient links, Sam's opened twice (so 6 visits in all), and an album with
/// an expiry, made later.
pub fn alices_shares(app: &TestApp) -> (String, String) {
    let road = app.create_id(
        &alice(),
        json!({"albums": [album("Alpha")], "description": "Road songs for Sam", "downloadable": true, "maxVisits": 20}),
    );
    open(app, &road, 4, 1);
    for (label, limit) in [("Sam", json!(3)), ("Jo", json!(null))] {
        let r = app.req(
            "POST",
            &format!("/api/share/{road}/links"),
            Some(&alice()),
            Some(&json!({"label": label, "maxVisits": limit})),
        );
        assert_eq!(r.status(), 201, "{}", r.text());
        if label == "Sam" {
            open(app, r.json()["id"].as_str().unwrap(), 2, 0);
        }
    }
    let cafe = app.create_id(
        &alice(),
        json!({"albums": [album("Café 東京")], "expiresIn": 14 * 86400}),
    );
    (road, cafe)
}

/// Signs in through the page's form as a person does: types into the fields, presses the
/// button.
pub fn sign_in_with_form(browser: &Browser, username: &str, password: &str) {
    browser.wait_for("the sign-in form", "document.getElementById('sign-in')");
    browser.js("document.getElementById('username').value = ''; document.getElementById('password').value = '';");
    browser.press("#username", username);
    browser.press("#password", password);
    browser.click("#sign-in button[type=submit]");
}

/// Waits until the page has listed `n` shares, drawn every chart in view and listed those
/// cards' recipient links (each card's chart and links come by requests of their own).
pub fn wait_listed(browser: &Browser, n: usize) {
    browser.wait_for(
        &format!("{n} shares listed"),
        &format!("document.querySelectorAll('#shares li.share').length === {n}"),
    );
    browser.wait_for(
        "the charts",
        "Array.from(document.querySelectorAll('#shares li.share')).slice(0, 2)
           .every(li => li.querySelector('.chart-box svg.bars'))",
    );
    browser.wait_for(
        "the recipient links",
        "Array.from(document.querySelectorAll('#shares li.share')).slice(0, 2)
           .every(li => !li.querySelector('.links').hasAttribute('aria-busy'))",
    );
}

/// The card of share `id`: a CSS selector.
pub fn card(id: &str) -> String {
    format!("#shares li.share[data-id=\"{id}\"]")
}

pub fn assert_same_origin(browser: &Browser, origin: &str) {
    let urls = browser.loaded_urls();
    assert!(urls.len() > 3, "the page loaded nothing: {urls:?}");
    let foreign: Vec<&String> = urls
        .iter()
        .filter(|u| !u.starts_with(&format!("{origin}/")))
        .collect();
    assert!(foreign.is_empty(), "requests to other origins: {foreign:?}");
}

pub fn assert_no_sideways_scroll(browser: &Browser, what: &str) {
    let widths = browser
        .js("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]");
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "{what} scrolls sideways: scrollWidth, clientWidth = {widths}"
    );
}

pub fn problems(entries: Vec<ConsoleEntry>) -> Vec<ConsoleEntry> {
    entries.into_iter().filter(|e| e.is_problem()).collect()
}

pub fn api(app: &TestApp, path: &str) -> Value {
    let r = app.req("GET", path, Some(&alice()), None);
    assert_eq!(r.status(), 200, "{path}: {}", r.text());
    r.json()
}
