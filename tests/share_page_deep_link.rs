//! `?track=N&t=…` over HTTP: the page marks the track, starts its player's first source at
//! the moment (a media fragment, which the browser's own player honours without the script),
//! and says what is up first; malformed values are 400 naming the parameter, a track past
//! the end starts at the beginning. The browser's side is `share_page_locked_browser.rs`.
use crate::support;

use serde_json::json;
use support::html::attr;
use support::protected::*;
use support::*;

fn page(app: &TestApp, path: &str) -> Resp {
    app.raw(
        "GET",
        path,
        &[("Accept", BROWSER), ("User-Agent", CHROME_UA)],
        None,
    )
}

#[test]
fn the_page_starts_at_the_track_and_moment_the_link_names() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({}));
    let second = &upstream::shared().album("Alpha").songs[1];
    for (query, seconds) in [
        ("track=2&t=65", 65),
        ("track=2&t=1:05", 65),
        ("t=0:01:05&track=2", 65),
        ("track=2", 0),
    ] {
        let html = page(&app, &format!("/share/{id}?{query}")).text();
        assert!(
            html.contains(&format!(
                "<ol id=\"tracks\" data-start=\"1\" data-start-time=\"{seconds}\">"
            )),
            "{query}: {html}"
        );
        let stream = format!("/share/{id}/stream/{}", second.id);
        let src = attr(&html, "id=\"player\"", "src");
        match seconds {
            0 => assert_eq!(src, stream),
            s => assert_eq!(src, format!("{stream}#t={s}")),
        }
        assert!(html.contains(&format!("<span id=\"now-playing\">{}</span>", second.title)));
        let current = attr(&html, "aria-current=\"true\"", "data-track-id");
        assert_eq!(current, second.id, "{query}");
        assert_eq!(html.matches("aria-current").count(), 1);
    }
    // Past the end of the list: the first track, from the start.
    let html = page(&app, &format!("/share/{id}?track=9&t=30")).text();
    assert!(
        html.contains("data-start=\"0\" data-start-time=\"0\""),
        "{html}"
    );
}

#[test]
fn malformed_deep_links_are_400_naming_the_parameter() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({}));
    for (query, field) in [
        ("track=0", "track"),
        ("track=two", "track"),
        ("t=1:75", "t"),
        ("t=-4", "t"),
    ] {
        for path in [
            format!("/share/{id}?{query}"),
            format!("/share/{id}?format=raw&{query}"),
        ] {
            let r = app.raw("GET", &path, &[], None);
            assert_eq!(r.status(), 400, "{path}");
            assert_eq!(r.json()["field"], field, "{path}");
        }
    }
    assert_eq!(
        owner_view(&app, &id)["visitCount"],
        0,
        "a refused request is no visit"
    );
}
