//! The owner's page in a real headless Chromium, against the real server and supysonic's users:
//! signing in (a wrong password, then the right one; a Navidrome session), the shares with their
//! counts and the visits chart, setting a password, adding and revoking a recipient link,
//! creating a share by searching the music server, deleting one, all from the page; no console
//! errors, no CSP violations, nothing from another origin, no sideways scroll at 360 px.
//! Screenshots land in target/screenshots/ (the README's are copied from there).

use crate::support;
use crate::support::browser;

use browser::{Browser, Viewport};
use serde_json::{json, Value};
use support::owner_page_browser::*;
use support::visit_history::{self, Planned};
use support::*;

#[test]
fn an_owner_signs_in_after_a_wrong_password_and_sees_her_shares_and_their_visits() {
    // Given alice's two shares on supysonic's sharelog, one opened 4 times and previewed once
    let app = app();
    let (road, cafe) = alices_shares(&app);
    let browser = Browser::start(Viewport::Desktop);
    browser.prefer_color_scheme(false);

    // When she opens the owner's page, then it asks her to sign in, her cursor in the user
    // name (waited for: under load the focus came after the load event 2 times in 11 passes)
    browser.goto(&format!("{}/share/_manage", app.url));
    browser.wait_for(
        "the user name field to have the focus",
        "document.activeElement && document.activeElement.id === 'username'",
    );

    // When she types a wrong password, then the page says so, keeps her name, and lets her
    // try again (the 401 of that answer is the only problem in the console)
    sign_in_with_form(&browser, &alice_creds().username, "not-my-password");
    browser.wait_for(
        "the refusal",
        "(document.getElementById('sign-in-message') || {}).textContent === 'Wrong user name or password.'",
    );
    assert_eq!(
        browser.js("return document.getElementById('username').value"),
        "alice"
    );
    assert_eq!(browser.js("return document.activeElement.id"), "password");
    let logged = problems(browser.console());
    assert!(
        logged
            .iter()
            .all(|e| e.message.contains("/share/_manage/sign-in") && e.message.contains("401")),
        "{logged:#?}"
    );

    // When she types the right one
    browser.press("#password", &alice_creds().password);
    browser.press("#password", "\u{E007}");

    // Then her shares are listed, newest first, with their counts
    wait_listed(&browser, 2);
    let ids = browser.js(
        "return Array.from(document.querySelectorAll('#shares li.share')).map(li => li.dataset.id)",
    );
    assert_eq!(ids, json!([cafe, road]));
    assert_eq!(
        browser.js("return document.getElementById('count').textContent"),
        "2 shares"
    );
    let facts = browser.js_with(
        "const c = document.querySelector(arguments[0]);
         const t = s => c.querySelector(s).textContent;
         return [t('.title'), t('.visit-count'), t('.preview-count'), t('.last') !== 'Not yet',
                 t('.card > .url-row .url'), t('.badges')];",
        vec![json!(card(&road))],
    );
    assert_eq!(
        facts,
        json!([
            "Road songs for Sam",
            "6 of 20",
            "1",
            true,
            format!("{}/share/{road}", app.url),
            "Limit 20 visitsDownloads"
        ])
    );
    // (a share without a description is named after what it holds)
    assert_eq!(
        browser.js_with(
            "return document.querySelector(arguments[0] + ' .title').textContent",
            vec![json!(card(&cafe))]
        ),
        "Café 東京"
    );

    // And its chart has 30 days, the last (today, UTC) with 6 visits and 1 preview, drawn
    // taller than every other day
    let chart = browser.js_with(
        "const days = Array.from(document.querySelectorAll(arguments[0] + ' svg.bars g.day'));
         const h = g => { const r = g.querySelector('rect.visits'); return r ? Number(r.getAttribute('height')) : 0; };
         const last = days[days.length - 1];
         return [days.length, last.dataset.day, Number(last.dataset.visits), Number(last.dataset.previews),
                 days.slice(0, -1).every(g => h(g) < h(last)),
                 document.querySelector(arguments[0] + ' svg.bars').getAttribute('aria-label')];",
        vec![json!(card(&road))],
    );
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert_eq!(chart[0], 30, "{chart}");
    assert_eq!(chart[1], today.as_str(), "{chart}");
    assert_eq!(
        (chart[2].as_u64(), chart[3].as_u64(), chart[4].as_bool()),
        (Some(6), Some(1), Some(true))
    );
    assert!(
        chart[5]
            .as_str()
            .unwrap()
            .contains("6 visits and 1 preview in all"),
        "{chart}"
    );

    // And each recipient link has its own counts and limit
    let links = browser.js_with(
        "return Array.from(document.querySelectorAll(arguments[0] + ' .links li.link')).map(l =>
           [l.querySelector('.label').textContent, l.querySelector('.link-facts').textContent,
            l.querySelector('.url').textContent]);",
        vec![json!(card(&road))],
    );
    // (Sam's two visits through his link, opened a moment ago)
    let api_links = api(&app, &format!("/api/share/{road}/links"));
    let sams = links[0][1].as_str().unwrap();
    assert!(
        sams.starts_with("2 visits of 3 · 0 previews · last "),
        "{links}"
    );
    assert_eq!(
        links,
        json!([
            ["Sam", sams, api_links[0]["url"]],
            [
                "Jo",
                "0 visits · 0 previews · not opened yet",
                api_links[1]["url"]
            ],
        ])
    );

    // And a copy button copies the link
    browser.click(&format!("{} .card > .url-row .copy", card(&road)));
    browser.wait_for(
        "the copy",
        "document.getElementById('status').textContent.startsWith('Link copied')",
    );
    browser.screenshot("owner-page-desktop-today");

    // And nothing else was logged as an error or blocked, and nothing left the origin
    browser.assert_no_console_problems();
    assert_same_origin(&browser, &app.url);
}

#[test]
fn from_the_page_an_owner_sets_a_password_adds_and_revokes_a_link_creates_and_deletes_a_share() {
    // Given alice signed in on the page, with her two shares
    let app = app();
    let (road, cafe) = alices_shares(&app);
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{}/share/_manage", app.url));
    sign_in_with_form(&browser, &alice_creds().username, &alice_creds().password);
    wait_listed(&browser, 2);
    let road_card = card(&road);

    // When she edits the first share and sets a password (with the keyboard: Enter saves)
    browser.click(&format!("{road_card} .edit"));
    browser.wait_for(
        "the edit dialog",
        "document.getElementById('edit-dialog').open",
    );
    assert_eq!(
        browser.js("return document.activeElement.id"),
        "edit-description"
    );
    browser.screenshot("owner-page-edit-dialog");
    browser.press("#edit-password", "sesame-42");
    browser.press("#edit-password", "\u{E007}");

    // Then the dialog closes, the card says so, and the share has a password
    browser.wait_for(
        "the dialog to close",
        "!document.getElementById('edit-dialog').open",
    );
    browser.wait_for(
        "the password badge",
        &format!("document.querySelector('{road_card} .badges').textContent.includes('Password')"),
    );
    let share = api(&app, &format!("/api/share/{road}"));
    assert_eq!(share["hasPassword"], true);
    // (and nothing else changed)
    assert_eq!(
        (share["description"].as_str(), share["maxVisits"].as_u64()),
        (Some("Road songs for Sam"), Some(20))
    );

    // When she adds a recipient link for Bob with a limit of 2
    browser.press(&format!("{road_card} .add-link input[name=label]"), "Bob");
    browser.press(&format!("{road_card} .add-link input[name=maxVisits]"), "2");
    browser.click(&format!("{road_card} .add-link button"));

    // Then it is listed with its own link, and the share has it
    browser.wait_for(
        "Bob's link",
        &format!("Array.from(document.querySelectorAll('{road_card} .links .label')).some(l => l.textContent === 'Bob')"),
    );
    let links = api(&app, &format!("/api/share/{road}/links"));
    let bob = links
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["label"] == "Bob")
        .unwrap()
        .clone();
    assert_eq!(bob["maxVisits"], 2);
    let bob_id = bob["id"].as_str().unwrap().to_string();
    let row = format!("{road_card} .links li.link[data-id=\"{bob_id}\"]");
    assert_eq!(
        browser.js(&format!(
            "return document.querySelector('{row} .url').textContent"
        )),
        bob["url"]
    );

    // When she revokes it and confirms
    browser.click(&format!("{row} .revoke"));
    browser.wait_for(
        "the confirmation",
        "document.getElementById('confirm-dialog').open",
    );
    assert_eq!(
        browser.js("return document.getElementById('confirm-heading').textContent"),
        "Revoke the link for Bob?"
    );
    browser.click("#confirm-yes");

    // Then the row shows it revoked, without a revoke button, and the share's links say so
    browser.wait_for(
        "the revoked row",
        &format!("(document.querySelector('{row}') || {{classList: {{contains: () => false}}}}).classList.contains('revoked')"),
    );
    assert_eq!(
        browser.js(&format!(
            "return document.querySelectorAll('{row} .revoke').length"
        )),
        0
    );
    assert!(api(&app, &format!("/api/share/{road}/links"))
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["id"] == bob_id.as_str() && !l["revokedAt"].is_null()));

    // When she creates a share by searching the music server, from the keyboard
    browser.press("#new-share", "\u{E007}");
    browser.wait_for(
        "the new share dialog",
        "document.getElementById('create-dialog').open",
    );
    assert_eq!(browser.js("return document.activeElement.id"), "search");
    browser.press("#search", "bet");
    browser.wait_for(
        "the search results",
        "Array.from(document.querySelectorAll('#results .result-name')).some(r => r.textContent === 'Beta')",
    );
    let beta = browser.js(
        "return Array.from(document.querySelectorAll('#results .result')).findIndex(r =>
           r.querySelector('.result-name').textContent === 'Beta') + 1",
    );
    let result = format!("#results li:nth-child({beta}) .result");
    browser.press(&result, "\u{E007}");
    assert_eq!(
        browser.js(&format!(
            "return document.querySelector('{result}').getAttribute('aria-pressed')"
        )),
        "true"
    );
    assert_eq!(
        browser.js("return document.querySelector('#chosen li span').textContent"),
        "Beta"
    );
    browser.press("#create-description", "Jazz for the weekend");
    browser.click("#create-form button[type=submit]");

    // Then it is on top of the list, and it is a share of the album Beta
    wait_listed(&browser, 3);
    let first = browser.js(
        "const li = document.querySelector('#shares li.share');
         return [li.dataset.id, li.querySelector('.title').textContent, document.activeElement.className];",
    );
    assert_eq!(first[1], "Jazz for the weekend");
    assert_eq!(
        first[2], "copy",
        "the new share's copy button has the focus"
    );
    let made = api(&app, &format!("/api/share/{}", first[0].as_str().unwrap()));
    let contents: Value = serde_json::from_str(made["contents"].as_str().unwrap()).unwrap();
    assert_eq!(contents["albums"][0]["id"], album("Beta").as_str());
    browser.screenshot("owner-page-after-changes");

    // When she asks to delete the second share but presses Escape, then nothing is deleted
    browser.click(&format!("{} .delete", card(&cafe)));
    browser.wait_for(
        "the confirmation",
        "document.getElementById('confirm-dialog').open",
    );
    assert_eq!(
        browser.js("return document.activeElement.textContent"),
        "Cancel"
    );
    browser.press(".cancel-confirm", "\u{E00C}");
    browser.wait_for(
        "the dialog to close",
        "!document.getElementById('confirm-dialog').open",
    );
    assert_eq!(
        app.req("GET", &format!("/api/share/{cafe}"), Some(&alice()), None)
            .status(),
        200
    );

    // When she deletes it and confirms
    browser.click(&format!("{} .delete", card(&cafe)));
    browser.wait_for(
        "the confirmation",
        "document.getElementById('confirm-dialog').open",
    );
    browser.click("#confirm-yes");

    // Then it is gone from the page and from the API
    wait_listed(&browser, 2);
    assert_eq!(
        browser.js(&format!(
            "return document.querySelectorAll('{}').length",
            card(&cafe)
        )),
        0
    );
    assert_eq!(
        app.req("GET", &format!("/api/share/{cafe}"), Some(&alice()), None)
            .status(),
        404
    );
    assert_eq!(
        browser.js("return document.getElementById('count').textContent"),
        "2 shares"
    );

    browser.assert_no_console_problems();
    assert_same_origin(&browser, &app.url);
}

#[test]
fn on_a_phone_nothing_scrolls_sideways_in_light_or_dark() {
    // Given alice's shares, one with a long unbroken description and a long link label
    let app = app();
    let (road, _) = alices_shares(&app);
    let r = app.update(
        &alice(),
        &road,
        json!({"description": format!("Songs for the long drive home {}", "x".repeat(90))}),
    );
    assert_eq!(r.status(), 200);
    app.req(
        "POST",
        &format!("/api/share/{road}/links"),
        Some(&alice()),
        Some(&json!({"label": "y".repeat(64)})),
    );
    let browser = Browser::start(Viewport::Phone);

    // When she signs in on a 360 px wide phone
    browser.goto(&format!("{}/share/_manage", app.url));
    assert_eq!(browser.js("return window.innerWidth"), 360);
    assert_no_sideways_scroll(&browser, "the sign-in page");
    browser.screenshot("owner-page-phone-sign-in");
    sign_in_with_form(&browser, &alice_creds().username, &alice_creds().password);
    wait_listed(&browser, 2);

    // Then nothing is wider than the screen, in light and in dark, the dialogs included
    for dark in [false, true] {
        browser.prefer_color_scheme(dark);
        let scheme = if dark { "dark" } else { "light" };
        assert_no_sideways_scroll(&browser, &format!("the page ({scheme})"));
        browser.screenshot(if dark {
            "owner-page-phone-long-title-dark"
        } else {
            "owner-page-phone-long-title"
        });
    }
    browser.prefer_color_scheme(false);
    browser.js("window.scrollTo(0, document.querySelector('.recipients').getBoundingClientRect().top + window.scrollY - 80)");
    browser.screenshot("owner-page-phone-links");
    browser.click("#new-share");
    browser.wait_for(
        "the new share dialog",
        "document.getElementById('create-dialog').open",
    );
    browser.press("#search", "al");
    browser.wait_for(
        "results",
        "document.querySelectorAll('#results .result').length > 0",
    );
    let dialog = browser.js(
        "const d = document.getElementById('create-dialog').getBoundingClientRect();
         return [Math.round(d.left), Math.round(d.right)];",
    );
    assert!(
        dialog[0].as_i64() >= Some(0) && dialog[1].as_i64() <= Some(360),
        "dialog at {dialog}"
    );
    browser.screenshot("owner-page-phone-new-share");
    browser.assert_no_console_problems();
}

#[test]
fn a_script_in_a_description_or_a_label_shows_as_text() {
    // Given a share described as a script, with a recipient link labelled as one
    let evil = "</script><script>alert(1)</script>";
    let app = app();
    let id = app.create_id(
        &alice(),
        json!({"albums": [album("Alpha")], "description": evil}),
    );
    let r = app.req(
        "POST",
        &format!("/api/share/{id}/links"),
        Some(&alice()),
        Some(&json!({"label": evil})),
    );
    assert_eq!(r.status(), 201);

    // When alice opens her page
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{}/share/_manage", app.url));
    sign_in_with_form(&browser, &alice_creds().username, &alice_creds().password);
    wait_listed(&browser, 1);
    browser.wait_for("the link row", "document.querySelector('.links .label')");

    // Then both show the text itself, no dialog opened, and no inline script is on the page
    assert_eq!(browser.open_dialog(), None);
    assert_eq!(
        browser.js("return document.querySelector('.share .title').textContent"),
        evil
    );
    assert_eq!(
        browser.js("return document.querySelector('.links .label').textContent"),
        evil
    );
    assert_eq!(
        browser.js("return document.querySelectorAll('script:not([src])').length"),
        0
    );
    browser.assert_no_console_problems();
}

#[test]
fn the_navidrome_session_held_by_the_browser_signs_in_by_itself() {
    // Given a browser where Navidrome's UI, on the same origin, keeps alice's session token
    let app = app();
    let (road, cafe) = alices_shares(&app);
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{}/share/_manage", app.url));
    browser.js_with(
        "localStorage.setItem('token', arguments[0]);",
        vec![json!(alice())],
    );

    // When the owner's page is opened
    browser.goto(&format!("{}/share/_manage", app.url));

    // Then it signs in with that session, without a password, and lists her shares
    wait_listed(&browser, 2);
    assert_eq!(
        browser.js("return document.getElementById('who').textContent"),
        "alice"
    );
    let ids = browser.js(
        "return Array.from(document.querySelectorAll('#shares li.share')).map(li => li.dataset.id)",
    );
    assert_eq!(ids, json!([cafe, road]));

    // When she signs out, then the page says so and does not sign her in again by itself
    browser.click(".sign-out button");
    browser.wait_for(
        "the signed-out page",
        "(document.getElementById('sign-in-message') || {}).textContent === 'You are signed out.'",
    );
    browser.wait_for(
        "the offer",
        "!document.getElementById('navidrome-button').hidden",
    );
    assert_eq!(app.raw("GET", "/share/_manage", &[], None).status(), 200);
    // (and a press of the offered button signs her in again)
    browser.click("#navidrome-button");
    wait_listed(&browser, 2);
    browser.assert_no_console_problems();
}

/// Alice's shares after a month: "Road songs for Sam" (26 days old, two recipient links),
/// "Jazz for the weekend" (28 days old, opened this week), and "Piano for Ana", last opened
/// 35 days ago.
fn a_month_of_shares() -> Vec<Planned> {
    let up = upstream::shared();
    let mut road = Planned::album(1, 26, up.album("Alpha"), "Road songs for Sam");
    road.created.downloadable = true;
    road.created.max_visits = Some(50);
    road.links = vec![("Sam", Some(10), 22), ("Jo", None, 6)];
    road.opens = vec![
        (25, 2, 1, None),
        (24, 1, 0, None),
        (21, 3, 0, Some(0)),
        (20, 1, 0, Some(0)),
        (18, 0, 1, None),
        (14, 4, 0, None),
        (13, 2, 0, Some(0)),
        (10, 1, 0, None),
        (7, 5, 1, None),
        (6, 2, 0, Some(1)),
        (5, 1, 0, Some(1)),
        (3, 3, 0, None),
        (1, 2, 0, Some(0)),
        (0, 1, 0, None),
    ];
    let mut jazz = Planned::album(2, 28, up.album("Beta"), "Jazz for the weekend");
    jazz.opens = vec![(3, 1, 1, None), (2, 3, 0, None), (0, 2, 0, None)];
    let mut piano = Planned::album(3, 40, up.album("Café 東京"), "Piano for Ana");
    piano.opens = vec![(35, 3, 0, None)];
    vec![road, jazz, piano]
}

#[test]
fn a_month_of_visits_is_drawn_day_by_day_with_each_links_counts() {
    // Given a data directory where alice's shares were opened over the past month
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let plan = a_month_of_shares();
    visit_history::restore(&dir, &plan);
    let port = free_port();
    let mut settings = settings_for(upstream::shared(), &dir);
    settings.listen = format!("127.0.0.1:{port}").parse().unwrap();
    settings.public_url = format!("http://127.0.0.1:{port}");
    let app = spawn_with(settings);

    // When she signs in on the page
    let browser = Browser::start(Viewport::Desktop);
    browser.prefer_color_scheme(false);
    browser.goto(&format!("{}/share/_manage", app.url));
    sign_in_with_form(&browser, &alice_creds().username, &alice_creds().password);
    wait_listed(&browser, 3);

    // Then the shares are newest first
    let ids: Vec<String> = plan.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(
        browser.js("return Array.from(document.querySelectorAll('#shares li.share')).map(li => li.dataset.id)"),
        json!([ids[0], ids[1], ids[2]])
    );

    // And each day of the road share's chart holds that day's visits and previews, oldest
    // first, its bar as tall as its share of the busiest day
    let road = &plan[0];
    let bars = browser.js_with(
        "return Array.from(document.querySelectorAll(arguments[0] + ' svg.bars g.day')).map(g => {
           const h = c => { const r = g.querySelector('rect.' + c); return r ? Number(r.getAttribute('height')) : 0; };
           return [g.dataset.day, Number(g.dataset.visits), Number(g.dataset.previews), h('visits'), h('previews')]; });",
        vec![json!(card(&ids[0]))],
    );
    let bars: Vec<(String, u32, u32, f64, f64)> = serde_json::from_value(bars).unwrap();
    assert_eq!(bars.len(), 30);
    let now = time::OffsetDateTime::now_utc();
    let busiest = 6.0; // 7 days ago: 5 visits and 1 preview
    for (back, bar) in (0..30).rev().zip(&bars) {
        let (visits, previews) = road
            .opens
            .iter()
            .filter(|o| o.0 == back)
            .fold((0, 0), |(v, p), o| (v + o.1, p + o.2));
        let day = (now - time::Duration::days(back)).date().to_string();
        assert_eq!(
            (&bar.0, bar.1, bar.2),
            (&day, visits, previews),
            "{back} days ago"
        );
        let tall = |n: u32| f64::from(n) / busiest * 70.0;
        assert!(
            (bar.3 - tall(visits)).abs() < 0.01,
            "{back} days ago: {bar:?}"
        );
        assert!(
            (bar.4 - tall(previews)).abs() < 0.01,
            "{back} days ago: {bar:?}"
        );
    }

    // And the recipient links have their own counts: Sam's 8 of 10, Jo's 3
    let links = browser.js_with(
        "return Array.from(document.querySelectorAll(arguments[0] + ' .links li.link')).map(l =>
           [l.querySelector('.label').textContent, l.querySelector('.link-facts').textContent.split(' · ')[0]]);",
        vec![json!(card(&ids[0]))],
    );
    assert_eq!(
        links,
        json!([["Sam", "8 visits of 10"], ["Jo", "3 visits"]])
    );
    assert_eq!(
        browser.js(&format!(
            "return document.querySelector('{} .visit-count').textContent",
            card(&ids[0])
        )),
        "28 of 50"
    );

    // And a share not opened for 35 days says so under an empty chart
    assert_eq!(
        browser.js(&format!(
            "return document.querySelector('{} .chart-note').textContent",
            card(&ids[2])
        )),
        "No visits in the last 30 days."
    );
    // (and its key names the colours but gives no scale: no bar was drawn)
    assert_eq!(
        browser.js(&format!(
            "return document.querySelector('{} .chart-key').textContent",
            card(&ids[2])
        )),
        "VisitsPreviews"
    );

    // Screenshots, as an owner sees the page on a desktop and on a phone, light and dark
    for dark in [false, true] {
        browser.prefer_color_scheme(dark);
        browser.screenshot(if dark {
            "owner-page-desktop-dark"
        } else {
            "owner-page-desktop"
        });
    }
    browser.assert_no_console_problems();
    assert_same_origin(&browser, &app.url);
    let phone = Browser::start(Viewport::Phone);
    phone.goto(&format!("{}/share/_manage", app.url));
    sign_in_with_form(&phone, &alice_creds().username, &alice_creds().password);
    wait_listed(&phone, 3);
    for dark in [false, true] {
        phone.prefer_color_scheme(dark);
        assert_no_sideways_scroll(&phone, "the phone page");
        phone.screenshot(if dark {
            "owner-page-phone-dark"
        } else {
            "owner-page-phone"
        });
    }
    phone.assert_no_console_problems();
}

#[test]
fn an_admin_sees_every_owners_shares_fifty_at_a_time_with_their_owners() {
    // Given 53 shares of bob's and 2 of alice's
    let app = app();
    let alpha = album("Alpha");
    for i in 0..53 {
        app.create_id(
            &bob(),
            json!({"albums": [alpha], "description": format!("bob's {i}")}),
        );
    }
    alices_shares(&app);

    // When the music server's admin signs in on the page
    let up = upstream::shared();
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{}/share/_manage", app.url));
    sign_in_with_form(&browser, &up.admin.username, &up.admin.password);

    // Then the page is everyone's, fifty shares first, newest first, each naming its owner
    browser.wait_for(
        "fifty shares",
        "document.querySelectorAll('#shares li.share').length === 50",
    );
    assert_eq!(
        browser.js("return document.querySelector('h1').textContent"),
        "All shares"
    );
    assert_eq!(
        browser.js("return document.getElementById('count').textContent"),
        "55 shares"
    );
    let owners = browser.js(
        "return Array.from(document.querySelectorAll('#shares li.share')).slice(0, 3).map(li =>
           [li.querySelector('.title').textContent, li.querySelector('.owner').hidden,
            li.querySelector('.owner-name').textContent]);",
    );
    assert_eq!(
        owners,
        json!([
            ["Café 東京", false, "alice"],
            ["Road songs for Sam", false, "alice"],
            ["bob's 52", false, "bob"]
        ])
    );

    // When "Show more" is pressed, then the last five come, and the button goes
    browser.press("#more", "\u{E007}");
    browser.wait_for(
        "all shares",
        "document.querySelectorAll('#shares li.share').length === 55 && document.getElementById('more').hidden",
    );
    assert_eq!(
        browser
            .js("return document.querySelector('#shares li.share:last-child .title').textContent"),
        "bob's 0"
    );
    browser.assert_no_console_problems();
}
