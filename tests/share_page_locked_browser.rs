//! Protected shares as a friend meets them, in a real headless Chromium against the real
//! server and supysonic: the password form (a wrong password, then the right one, then the
//! page plays with the key its visit handed out), a used-up link's page, and a deep link
//! (`?track=2&t=…`) that starts there, also through the password form. On a 360 px phone
//! and a desktop, light and dark. Screenshots land in target/screenshots/ (locked-*).

use crate::support;
use crate::support::browser;

use browser::{Browser, Viewport};
use serde_json::json;
use support::protected::*;
use support::*;

/// A sharelog whose `publicUrl` is its own address, so every link it prints is reachable.
fn app() -> TestApp {
    let port = free_port();
    spawn_app(|s| {
        s.listen = format!("127.0.0.1:{port}").parse().unwrap();
        s.public_url = format!("http://127.0.0.1:{port}");
    })
}

fn song(index: usize) -> &'static upstream::Song {
    &upstream::shared().album("Alpha").songs[index]
}

/// Types `text` into the password field and sends the form, as a person would.
fn submit(browser: &Browser, text: &str) {
    browser.js("document.getElementById('password').value = '';");
    browser.press("#password", text);
    browser.click("#open");
}

/// Waits until the player plays track `index` of Alpha from a URL that carries a key, and
/// returns where in the track it was when it started.
fn wait_playing_with_key(browser: &Browser, index: usize) {
    let s = song(index);
    browser.wait_for(
        &format!("{} to play", s.title),
        &format!(
            "(() => {{ const a = document.getElementById('player');
                      return a.src.includes('/stream/{}?key=') && !a.paused && a.currentTime > 0.2; }})()",
            s.id
        ),
    );
}

/// No console errors nor CSP violations since the last look, but the browser's own note that
/// the document itself came with an error status (`statuses`: the form's 401, a used-up
/// link's 410), which is what those pages are.
fn assert_no_problems_but(browser: &Browser, statuses: &[u16]) {
    let problems: Vec<_> = browser
        .console()
        .into_iter()
        .filter(|e| e.is_problem())
        .filter(|e| {
            !(e.source == "network"
                && statuses.iter().any(|s| {
                    e.message.ends_with(&format!(
                        "the server responded with a status of {s} ({})",
                        reason(*s)
                    ))
                }))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "console errors / CSP violations: {problems:#?}"
    );
}

fn reason(status: u16) -> &'static str {
    match status {
        401 => "Unauthorized",
        410 => "Gone",
        other => panic!("no reason phrase for {other}"),
    }
}

/// No sideways scroll, and every control of the form at least 44 px tall.
fn assert_form_fits(browser: &Browser) {
    let v = browser.js(
        "return [document.documentElement.scrollWidth, window.innerWidth,
                 document.getElementById('password').getBoundingClientRect().height,
                 document.getElementById('open').getBoundingClientRect().height];",
    );
    let n = |i: usize| v[i].as_f64().unwrap();
    assert!(n(0) <= n(1), "sideways scroll: {v}");
    assert!(n(2) >= 44.0 && n(3) >= 44.0, "targets under 44 px: {v}");
}

#[test]
fn a_wrong_password_then_the_right_one_opens_the_page_and_it_plays() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{}/share/{id}", app.url));

    // The form, saying nothing of the share.
    assert_eq!(browser.js("return document.title"), "Shared music");
    assert_eq!(
        browser.js("return document.getElementById('title').textContent"),
        "Shared music"
    );
    let text = browser.js("return document.body.innerText").to_string();
    assert!(
        !text.contains("Secret") && !text.contains("alice") && !text.contains("Alpha"),
        "{text}"
    );
    browser.screenshot("locked-form-desktop");

    // Wrong: the form again, saying so.
    submit(&browser, "not the password");
    browser.wait_for("the note", "document.getElementById('note')");
    assert!(browser
        .js("return document.getElementById('note').textContent")
        .as_str()
        .unwrap()
        .contains("That is not the password"));
    browser.screenshot("locked-wrong-desktop");
    assert_eq!(owner_view(&app, &id)["visitCount"], 0);
    assert_no_problems_but(&browser, &[401]);

    // Right: the page itself, which plays.
    submit(&browser, PASSWORD);
    browser.wait_for(
        "the page",
        "document.getElementById('title') && document.getElementById('title').textContent === 'Secret songs for Bob'",
    );
    assert_eq!(
        browser.js("return location.pathname"),
        format!("/share/{id}")
    );
    browser.click("#play");
    wait_playing_with_key(&browser, 0);
    browser.click("#next");
    wait_playing_with_key(&browser, 1);
    browser.screenshot("locked-unlocked-playing-desktop");
    // The cover loaded too (with the key), not the stand-in nor a broken image.
    assert_eq!(
        browser.js("const c = document.getElementById('cover'); return c.complete && c.naturalWidth > 0 && c.currentSrc.includes('key=');"),
        true
    );
    assert_eq!(
        owner_view(&app, &id)["visitCount"],
        1,
        "the unlock is no visit, the page is"
    );
    // The unlock cookie is not readable by the page's script (HttpOnly).
    assert_eq!(browser.js("return document.cookie"), "");
    // A reload goes straight to the page: the cookie proves the password.
    browser.goto(&format!("{}/share/{id}", app.url));
    assert_eq!(
        browser.js("return document.getElementById('title').textContent"),
        "Secret songs for Bob"
    );
    browser.assert_no_console_problems();
}

#[test]
fn the_password_form_reads_on_a_phone_and_a_desktop_in_light_and_dark() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    for (viewport, name) in [(Viewport::Phone, "phone"), (Viewport::Desktop, "desktop")] {
        for dark in [false, true] {
            let browser = Browser::start(viewport);
            if dark {
                browser.prefer_dark();
            }
            browser.goto(&format!("{}/share/{id}", app.url));
            assert_eq!(
                browser.js("return matchMedia('(prefers-color-scheme: dark)').matches"),
                dark
            );
            assert_form_fits(&browser);
            let theme = if dark { "dark" } else { "light" };
            browser.screenshot(&format!("locked-form-{name}-{theme}"));
            submit(&browser, "wrong guess");
            browser.wait_for("the note", "document.getElementById('note')");
            assert_form_fits(&browser);
            browser.screenshot(&format!("locked-wrong-{name}-{theme}"));
            assert_no_problems_but(&browser, &[401]);
        }
    }
}

#[test]
fn a_used_up_link_shows_a_page_saying_so() {
    let app = app();
    let id = share_with(&app, json!({}));
    let bob = add_link(&app, &id, "Bob", Some(1));
    assert_eq!(
        app.raw("GET", &format!("/share/{bob}?format=raw"), &[], None)
            .status(),
        200
    );
    for (viewport, name) in [(Viewport::Phone, "phone"), (Viewport::Desktop, "desktop")] {
        for dark in [false, true] {
            let browser = Browser::start(viewport);
            if dark {
                browser.prefer_dark();
            }
            browser.goto(&format!("{}/share/{bob}", app.url));
            assert_eq!(
                browser.js("return document.getElementById('title').textContent"),
                "This link has been used up"
            );
            let text = browser.js("return document.body.innerText").to_string();
            assert!(!text.contains("Secret"), "{text}");
            let theme = if dark { "dark" } else { "light" };
            browser.screenshot(&format!("locked-used-up-{name}-{theme}"));
            assert_no_problems_but(&browser, &[410]);
        }
    }
}

/// Records, once, where the player was when it first played.
const WATCH_START: &str = "const a = document.getElementById('player');
    window.firstPlaying = null;
    a.addEventListener('playing', () => { if (window.firstPlaying === null) {
        window.firstPlaying = [a.currentTime, a.src]; } });";

#[test]
fn a_deep_link_starts_at_its_track_and_moment() {
    let app = app();
    let id = share_with(&app, json!({}));
    let browser = Browser::start(Viewport::Phone);
    browser.goto(&format!("{}/share/{id}?track=2&t=0:01", app.url));
    assert_eq!(
        browser.js("return document.getElementById('now-playing').textContent"),
        song(1).title
    );
    browser.js(WATCH_START);
    browser.click("#play");
    let first = browser.wait_for("the first playing", "window.firstPlaying");
    let (at, src) = (first[0].as_f64().unwrap(), first[1].as_str().unwrap());
    assert!(src.contains(&format!("/stream/{}", song(1).id)), "{src}");
    assert!(at >= 0.9, "started at {at} s, not at 1 s");
    browser.screenshot("locked-deep-link-phone");
    browser.assert_no_console_problems();
}

#[test]
fn a_deep_link_to_a_password_share_starts_there_after_the_password() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{}/share/{id}?track=2&t=1", app.url));
    assert_no_problems_but(&browser, &[401]);
    submit(&browser, PASSWORD);
    browser.wait_for(
        "the page",
        "document.getElementById('now-playing') && document.getElementById('now-playing').textContent !== ''",
    );
    assert_eq!(browser.js("return location.search"), "?track=2&t=1");
    assert_eq!(
        browser.js("return document.getElementById('now-playing').textContent"),
        song(1).title
    );
    browser.js(WATCH_START);
    browser.click("#play");
    let first = browser.wait_for("the first playing", "window.firstPlaying");
    let (at, src) = (first[0].as_f64().unwrap(), first[1].as_str().unwrap());
    assert!(
        src.contains(&format!("/stream/{}?key=", song(1).id)),
        "{src}"
    );
    assert!(at >= 0.9, "started at {at} s");
    browser.assert_no_console_problems();
}
