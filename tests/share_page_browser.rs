//! The share page for people, in a real headless Chromium over WebDriver, against the real
//! binary's HTTP server and a real supysonic upstream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/browser.rs"]
mod browser;
mod support;

use browser::{Browser, Viewport};

#[test]
fn the_harness_sees_console_errors_and_csp_violations() {
    // Given a browser on a page that logs an error and breaks its own CSP
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(
        "data:text/html,<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">\
         <p>x</p><script>console.error('boom')</script>",
    );
    // Then the harness reports the CSP violation (the inline script never ran)
    let problems: Vec<_> = browser
        .console()
        .into_iter()
        .filter(|e| e.is_problem())
        .collect();
    assert!(
        problems
            .iter()
            .any(|e| e.message.contains("Content Security Policy")),
        "{problems:#?}"
    );
    // And a console error from a script that may run
    browser.goto("data:text/html,<p>x</p><script>console.error('boom')</script>");
    let problems: Vec<_> = browser
        .console()
        .into_iter()
        .filter(|e| e.is_problem())
        .collect();
    assert!(
        problems.iter().any(|e| e.message.contains("boom")),
        "{problems:#?}"
    );
}
