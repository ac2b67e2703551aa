//! The share page for people, in a real headless Chromium over WebDriver, against the real
//! HTTP server and a real supysonic upstream: playback, the track list without JavaScript,
//! escaping, the phone layout, visits, the embed page, and that nothing leaves the origin.
//! Screenshots land in target/screenshots/.

use crate::support;
use crate::support::browser;

use browser::{Browser, Viewport};
use serde_json::{json, Value};
use support::*;

/// A sharelog whose `publicUrl` is its own address, as in a deployment: every absolute URL
/// the page prints is one the browser can reach.
fn app() -> TestApp {
    let port = free_port();
    spawn_app(|s| {
        s.listen = format!("127.0.0.1:{port}").parse().unwrap();
        s.public_url = format!("http://127.0.0.1:{port}");
    })
}

/// An album share of "Alpha" (three short mp3s) as alice; returns its id.
fn alpha_share(app: &TestApp, extra: Value) -> String {
    let mut body = json!({"albums": [upstream::shared().album("Alpha").id]});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    app.create_id(&alice(), body)
}

/// A browser at `viewport` on the page of a new "Alpha" share (see `alpha_share`).
fn alpha_page(viewport: Viewport, extra: Value) -> (TestApp, String, Browser) {
    let app = app();
    let id = alpha_share(&app, extra);
    let browser = Browser::start(viewport);
    browser.goto(&format!("{}/share/{id}", app.url));
    (app, id, browser)
}

fn alpha_songs() -> &'static [upstream::Song] {
    &upstream::shared().album("Alpha").songs
}

fn visit_count(app: &TestApp, id: &str) -> u64 {
    let r = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    r.json()["visitCount"].as_u64().unwrap()
}

/// The track the player has loaded, by the page's own state: `aria-current` row and
/// `#now-playing`, checked against the `<audio>` source.
fn playing_track(browser: &Browser) -> (String, String) {
    let v = browser.js(
        "const li = document.querySelector('#tracks li[aria-current=\"true\"]');
         const audio = document.getElementById('player');
         return [li && li.dataset.trackId, document.getElementById('now-playing').textContent,
                 li && audio.src === new URL(li.dataset.stream, location.href).href];",
    );
    assert_eq!(
        v[2], true,
        "the audio source is not the current row's stream: {v}"
    );
    (
        v[0].as_str().unwrap().to_string(),
        v[1].as_str().unwrap().trim().to_string(),
    )
}

/// Waits until the `<audio>` plays track `index` of Alpha and its clock has moved.
fn wait_playing(browser: &Browser, index: usize) {
    let song = &alpha_songs()[index];
    browser.wait_for(
        &format!("{} to play", song.title),
        &format!(
            "(() => {{ const a = document.getElementById('player');
                      return a.src.endsWith('/stream/{}') && !a.paused && a.currentTime > 0.2; }})()",
            song.id
        ),
    );
    assert_eq!(
        playing_track(browser),
        (song.id.clone(), song.title.clone())
    );
}

fn assert_same_origin(browser: &Browser, origin: &str) {
    let urls = browser.loaded_urls();
    assert!(urls.len() > 1, "the page loaded no resources: {urls:?}");
    let foreign: Vec<&String> = urls
        .iter()
        .filter(|u| !u.starts_with(&format!("{origin}/")))
        .collect();
    assert!(foreign.is_empty(), "requests to other origins: {foreign:?}");
}

#[test]
fn the_harness_sees_console_errors_and_csp_violations() {
    // Given a browser on a page that breaks its own CSP
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

#[test]
fn pressing_play_plays_the_share_and_next_and_previous_change_track() {
    // Given the page of a three-track share, opened as a person would (Accept: text/html)
    let (app, _, browser) = alpha_page(Viewport::Desktop, json!({"description": "Road songs"}));
    assert_eq!(
        browser.js("return document.getElementById('title').textContent"),
        "Road songs"
    );
    assert_eq!(
        browser.js("return document.getElementById('play').getAttribute('aria-label')"),
        "Play"
    );

    // When play is pressed, then the first track plays and the button turns to pause
    browser.click("#play");
    wait_playing(&browser, 0);
    assert_eq!(
        browser.js("return document.getElementById('play').getAttribute('aria-label')"),
        "Pause"
    );
    browser.screenshot("share-page-desktop");

    // When next is pressed, then the second track plays; previous brings back the first
    browser.click("#next");
    wait_playing(&browser, 1);
    browser.click("#prev");
    wait_playing(&browser, 0);

    // When play is pressed again, then it pauses
    browser.click("#play");
    browser.wait_for(
        "the pause",
        "document.getElementById('player').paused && \
         document.getElementById('play').getAttribute('aria-label') === 'Play'",
    );

    // And nothing was logged as an error or blocked by the CSP, and nothing left the origin
    browser.assert_no_console_problems();
    assert_same_origin(&browser, &app.url);
}

#[test]
fn the_next_track_starts_when_one_ends() {
    // Given the page playing its first track (two seconds long)
    let (_app, _, browser) = alpha_page(Viewport::Desktop, json!({}));
    browser.click("#play");
    wait_playing(&browser, 0);

    // When it ends, then the second one plays, without a click
    wait_playing(&browser, 1);
    assert_eq!(
        browser.js("return document.querySelectorAll('#tracks li[aria-current=\"true\"]').length"),
        1
    );
    browser.assert_no_console_problems();
}

#[test]
fn the_player_works_from_the_keyboard() {
    // Given the page, with focus on the play button
    let (_app, _, browser) = alpha_page(Viewport::Desktop, json!({}));

    // When Enter is pressed on it, then the first track plays
    browser.press("#play", "\u{E007}");
    wait_playing(&browser, 0);
    // And `n` on the page goes to the next track
    browser.press("body", "n");
    wait_playing(&browser, 1);
    browser.assert_no_console_problems();
}

#[test]
fn keys_work_where_a_click_leaves_the_focus() {
    // Given the page on a phone, playing the second track after a click on it (the focus
    // stays on that track's link)
    let (_app, _, browser) = alpha_page(Viewport::Phone, json!({}));
    let second = ".track:nth-child(2) .play-link";
    browser.click(second);
    wait_playing(&browser, 1);
    let scrolled = browser.js("return window.scrollY");

    // When space is pressed there, then the track pauses (and the page does not scroll)
    browser.press(second, "\u{E00D}");
    browser.wait_for(
        "the second track to pause",
        "(() => { const a = document.getElementById('player');
                  return a.paused && !a.ended && a.src.endsWith(
                    document.querySelector('#tracks li[aria-current=\"true\"]').dataset.stream); })()",
    );
    assert_eq!(playing_track(&browser).1, alpha_songs()[1].title);
    assert_eq!(browser.js("return window.scrollY"), scrolled);
    // And pressed again, it plays on
    browser.press(second, "\u{E00D}");
    wait_playing(&browser, 1);

    // When `n` is pressed on the seek slider, then the next track plays
    browser.press("#seek", "n");
    wait_playing(&browser, 2);
    browser.assert_no_console_problems();
}

#[test]
fn a_script_in_the_description_shows_as_text_and_opens_no_dialog() {
    // Given a share described as a script
    let evil = "</script><script>alert(1)</script>";
    let app = app();
    let id = alpha_share(&app, json!({"description": evil}));

    // When its page is opened
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{}/share/{id}", app.url));

    // Then the title shows the text itself, no dialog opened, and no inline script was even
    // attempted (the CSP would have reported it)
    assert_eq!(browser.open_dialog(), None);
    assert_eq!(
        browser.js("return document.getElementById('title').textContent"),
        evil
    );
    assert_eq!(browser.js("return document.title"), evil);
    assert_eq!(
        browser.js("return document.querySelectorAll('script:not([src])').length"),
        0
    );
    browser.assert_no_console_problems();
}

#[test]
fn without_javascript_the_page_lists_and_plays_every_track() {
    // Given a browser whose JavaScript is off (checked on a page of its own first)
    let app = app();
    let id = alpha_share(&app, json!({}));
    let browser = Browser::start_without_javascript(Viewport::Phone);
    browser.goto("data:text/html,<p id=x>off</p><script>document.getElementById('x').textContent='on'</script>");
    assert_eq!(
        browser.js("return document.getElementById('x').textContent"),
        "off"
    );

    // When the share page is opened
    browser.goto(&format!("{}/share/{id}", app.url));

    // Then every track is listed with a link to its stream
    let links = browser.js(
        "return Array.from(document.querySelectorAll('#tracks li.track')).map(li =>
           [li.dataset.trackId, li.querySelector('a.play-link').href,
            li.querySelector('a.play-link').textContent]);",
    );
    let links = links.as_array().unwrap().clone();
    let songs = alpha_songs();
    assert_eq!(links.len(), songs.len(), "{links:?}");
    // And the native audio control is there to play the first one
    assert_eq!(
        browser.js("const a = document.getElementById('player'); return a.controls && getComputedStyle(a).display !== 'none'"),
        true
    );
    browser.screenshot("share-page-phone-no-js");

    // And following each link opens that track in Chromium's own media page (no page
    // script), which plays it. The stream is sandboxed (`Content-Security-Policy: sandbox`,
    // like every body from the music server), and a sandbox never starts media by itself, so
    // the test presses play as the visitor does (chromedriver cannot click inside that page).
    for (link, song) in links.iter().zip(songs) {
        assert_eq!(link[0], song.id.as_str());
        assert!(link[2].as_str().unwrap().contains(&song.title), "{link}");
        let href = link[1].as_str().unwrap();
        assert_eq!(href, format!("{}/share/{id}/stream/{}", app.url, song.id));
        browser.goto(href);
        browser.wait_for(
            &format!("{} to load from its link", song.title),
            "(() => { const m = document.querySelector('video, audio'); return m && m.readyState >= 3; })()",
        );
        browser.js("document.querySelector('video, audio').play();");
        browser.wait_for(
            &format!("{} to play from its link", song.title),
            "(() => { const m = document.querySelector('video, audio'); return m && m.currentTime > 0.2; })()",
        );
    }
    browser.assert_no_console_problems();
}

#[test]
fn the_phone_page_has_no_sideways_scroll() {
    // Given a plain share, and one with a long unbroken description and downloads on
    let app = app();
    let plain = alpha_share(&app, json!({"description": "Road songs"}));
    let long = alpha_share(
        &app,
        json!({"description": format!("A mix for the long drive home {}", "x".repeat(80)), "downloadable": true}),
    );
    let browser = Browser::start(Viewport::Phone);

    for (id, shot) in [
        (plain, "share-page-phone"),
        (long, "share-page-phone-long-title"),
    ] {
        // When each is opened on a 360 px wide phone
        browser.goto(&format!("{}/share/{id}", app.url));
        assert_eq!(browser.js("return window.innerWidth"), 360);
        browser.wait_for("the cover", "document.getElementById('cover').complete");
        browser.screenshot(shot);

        // Then nothing is wider than the screen
        let widths = browser.js(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]",
        );
        assert!(
            widths[0].as_u64() <= widths[1].as_u64(),
            "{shot} scrolls sideways: scrollWidth, clientWidth = {widths}"
        );
    }
    browser.assert_no_console_problems();
}

#[test]
fn on_a_phone_the_title_player_and_first_tracks_fit_the_first_screen() {
    // Given a share with a two-line title
    let app = app();
    let id = alpha_share(
        &app,
        json!({"description": "Songs for the long drive home, side one"}),
    );
    let browser = Browser::start(Viewport::Phone);

    // When it is opened on a 360 x 640 phone
    browser.goto(&format!("{}/share/{id}", app.url));
    browser.wait_for("the cover", "document.getElementById('cover').complete");
    assert_eq!(
        browser.js("return [window.innerWidth, window.innerHeight]"),
        json!([360, 640])
    );
    browser.screenshot("share-page-phone-first-screen");

    // Then the cover leaves room: the title, the play button and the first track are on the
    // first screen, without scrolling, and the second track begins on it
    let bottoms = browser.js("const b = e => Math.ceil(e.getBoundingClientRect().bottom);
         const t = document.querySelectorAll('#tracks .track');
         return [b(document.getElementById('cover')), b(document.getElementById('title')),
                 b(document.getElementById('play')), b(t[0]),
                 Math.ceil(t[1].getBoundingClientRect().top) + 24, window.scrollY];");
    let b: Vec<u64> = bottoms
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(b[5], 0, "the page opened scrolled");
    for (what, bottom) in [
        "cover",
        "title",
        "play button",
        "first track",
        "first line of the second track",
    ]
    .iter()
    .zip(&b)
    {
        assert!(
            *bottom <= 640,
            "the {what} ends at {bottom} px, below the first screen: {bottoms}"
        );
    }
    assert!(
        b[0] <= 280,
        "the cover takes {} px of the 640 px screen",
        b[0]
    );
}

#[test]
fn a_page_load_with_playback_is_exactly_one_visit() {
    // Given a share nobody has visited
    let app = app();
    let id = alpha_share(&app, json!({}));
    assert_eq!(visit_count(&app, &id), 0);

    // When a person opens it and listens to two tracks (streams, cover, assets)
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{}/share/{id}", app.url));
    browser.click("#play");
    wait_playing(&browser, 0);
    browser.click("#next");
    wait_playing(&browser, 1);
    browser.wait_for("the cover", "document.getElementById('cover').complete");

    // Then exactly one visit was counted
    assert_eq!(visit_count(&app, &id), 1);

    // And a reload is one more
    browser.goto(&format!("{}/share/{id}", app.url));
    assert_eq!(visit_count(&app, &id), 2);
}

#[test]
fn the_embed_page_fits_its_oembed_frame_and_plays() {
    // Given the compact page meant for an iframe, of a share of three tracks, and the iframe
    // size its oEmbed answer gives
    let app = app();
    let id = alpha_share(
        &app,
        json!({"description": "Road songs for the long drive home"}),
    );
    assert_eq!(alpha_songs().len(), 3);
    let oembed = app.raw(
        "GET",
        &format!("/share/oembed?url={}/share/{id}", app.url),
        &[],
        None,
    );
    assert_eq!(oembed.status(), 200, "{}", oembed.text());
    let oembed: Value = serde_json::from_str(&oembed.text()).unwrap();
    let (width, height) = (
        oembed["width"].as_u64().unwrap() as u32,
        oembed["height"].as_u64().unwrap() as u32,
    );
    let browser = Browser::start(Viewport::Frame { width, height });

    // When it is opened in a viewport of exactly that size
    browser.goto(&format!("{}/share/{id}?embed=true", app.url));
    browser.wait_for("the cover", "document.getElementById('cover').complete");
    assert_eq!(
        browser.js("return [window.innerWidth, window.innerHeight]"),
        json!([width, height])
    );

    // Then neither the page nor the track list scrolls
    let sizes = browser.js(
        "const d = document.documentElement, t = document.getElementById('tracks');
         return [d.scrollHeight, d.clientHeight, d.scrollWidth, d.clientWidth, t.scrollHeight, t.clientHeight];",
    );
    let n: Vec<u64> = sizes
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(
        n[0] <= n[1],
        "the embed page scrolls at {width}x{height}: {sizes}"
    );
    assert!(n[2] <= n[3], "the embed page scrolls sideways: {sizes}");
    assert!(
        n[4] <= n[5],
        "the three tracks scroll in their list: {sizes}"
    );

    // And pressing play plays, with nothing logged and nothing from elsewhere
    browser.click("#play");
    wait_playing(&browser, 0);
    browser.screenshot("share-page-embed");
    browser.assert_no_console_problems();
    assert_same_origin(&browser, &app.url);
}

/// Sizes of the page's parts, by CSS selector: `[width, height, top, bottom]`, rounded.
fn boxes(browser: &Browser, selectors: &[&str]) -> Vec<[i64; 4]> {
    let v = browser.js_with(
        "return arguments[0].map(s => { const r = document.querySelector(s).getBoundingClientRect();
           return [r.width, r.height, r.top, r.bottom].map(Math.round); });",
        vec![json!(selectors)],
    );
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_long_description_is_a_short_heading_with_the_whole_text_below_it() {
    // Given a share whose description is as long as the API allows (1024 characters)
    let app = app();
    let words = "a long note about this mix ".repeat(38);
    let description = &words[..1024];
    let id = alpha_share(&app, json!({"description": description}));
    let page = format!("{}/share/{id}", app.url);

    // When it is opened on a phone, then the heading is a few lines, the player is still on
    // the first screen and the first track begins there, and the whole text is one click away
    let phone = Browser::start(Viewport::Phone);
    phone.goto(&page);
    phone.wait_for("the cover", "document.getElementById('cover').complete");
    phone.screenshot("share-page-phone-long-description");
    let b = boxes(&phone, &["#title", "#play", "#tracks .track"]);
    assert!(b[0][1] <= 160, "the heading is {} px tall", b[0][1]);
    assert!(b[1][3] <= 640, "the play button ends at {} px", b[1][3]);
    assert!(
        b[2][2] + 24 <= 640,
        "the first track begins at {} px",
        b[2][2]
    );
    assert_eq!(
        phone.js("return document.querySelector('details.description').open"),
        false
    );
    // (from the keyboard: space opens it, it does not start the music)
    phone.press("details.description summary", "\u{E00D}");
    assert_eq!(
        phone.js("return [document.querySelector('details.description').open,
                          document.getElementById('player').paused]"),
        json!([true, true])
    );
    assert_eq!(
        phone.js("return document.getElementById('description').textContent"),
        description.trim_end()
    );
    phone.assert_no_console_problems();

    // And on a desktop the cover keeps its size beside it
    let desktop = Browser::start(Viewport::Desktop);
    desktop.goto(&page);
    let cover = boxes(&desktop, &["#cover"])[0];
    assert_eq!((cover[0], cover[1]), (200, 200), "cover {cover:?}");

    // And the embed player shows two lines of it, then the player and the tracks
    let embed = Browser::start(Viewport::Frame {
        width: 480,
        height: 420,
    });
    embed.goto(&format!("{page}?embed=true"));
    embed.screenshot("share-page-embed-long-description");
    let b = boxes(&embed, &["#title", "#play", "#tracks .track"]);
    assert!(b[0][1] <= 60, "the embed's heading is {} px tall", b[0][1]);
    assert!(b[2][3] <= 420, "the first track ends at {} px", b[2][3]);
}

#[test]
fn a_long_album_name_never_squeezes_the_track_title() {
    // Given the page and the embed player, at their widths, with a long album name on each
    // track (the test library's names are short, so the page's text is changed in place)
    let app = app();
    let id = alpha_share(&app, json!({}));
    for (viewport, url) in [
        (Viewport::Desktop, format!("{}/share/{id}", app.url)),
        (
            Viewport::Frame {
                width: 480,
                height: 420,
            },
            format!("{}/share/{id}?embed=true", app.url),
        ),
    ] {
        let browser = Browser::start(viewport);
        browser.goto(&url);
        browser.js(
            "document.querySelectorAll('.t-album').forEach(e => e.textContent =
             'Beethoven: The Complete Symphonies (Karajan, 1963 Remaster), Disc 2');",
        );
        browser.screenshot(match viewport {
            Viewport::Desktop => "share-page-desktop-long-album",
            _ => "share-page-embed-long-album",
        });

        // Then each title keeps at least half the row, and the durations line up on the right
        let rows = browser.js(
            "return Array.from(document.querySelectorAll('.play-link')).map(l => {
               const w = s => l.querySelector(s).getBoundingClientRect();
               return [w('.t-title').width / l.getBoundingClientRect().width,
                       Math.round(w('.t-duration').right)]; });",
        );
        let rows: Vec<(f64, i64)> = serde_json::from_value(rows).unwrap();
        assert_eq!(rows.len(), alpha_songs().len());
        for (share_of_row, _) in &rows {
            assert!(
                *share_of_row >= 0.5,
                "{viewport:?}: a title has {share_of_row:.2} of its row: {rows:?}"
            );
        }
        assert!(
            rows.iter().all(|r| (r.1 - rows[0].1).abs() <= 1),
            "{viewport:?}: durations end at different places: {rows:?}"
        );
        browser.assert_no_console_problems();
    }
}
