//! The owner's page's edit dialog in a real headless Chromium, end to end: every control it
//! edits (description, expiry, downloads, password, visit limit) reaches the share, and the
//! public side obeys at once (a password asked for, downloads refused, a revoked link gone); a
//! change the server refuses is explained in the dialog and changes nothing.

use crate::support;
use crate::support::browser;

use browser::{Browser, Viewport};
use serde_json::{json, Value};
use support::owner_page_browser::*;
use support::protected;
use support::*;

/// Anonymous `GET /share/{id}?format=raw`: its status and error code (empty on success).
fn public(app: &TestApp, id: &str) -> (u16, String) {
    let r = app.raw("GET", &format!("/share/{id}?format=raw"), &[], None);
    let code = if r.status() == 200 {
        String::new()
    } else {
        r.code()
    };
    (r.status(), code)
}

/// Opens the edit dialog of the share whose card is `card`.
fn open_edit(browser: &Browser, card: &str) {
    browser.click(&format!("{card} .edit"));
    browser.wait_for(
        "the edit dialog",
        "document.getElementById('edit-dialog').open",
    );
}

/// Saves the edit dialog and waits until it has closed.
fn save(browser: &Browser) {
    browser.click("#edit-form button[type=submit]");
    browser.wait_for(
        "the dialog to close",
        "!document.getElementById('edit-dialog').open",
    );
}

/// Sets the value of a field the way an input by hand ends (an `input` event after it).
fn set_value(browser: &Browser, css: &str, value: &str) {
    browser.js_with(
        "const e = document.querySelector(arguments[0]); e.value = arguments[1];
         e.dispatchEvent(new Event('input', {bubbles: true}));",
        vec![json!(css), json!(value)],
    );
}

#[test]
fn from_the_page_an_owner_changes_every_control_and_the_public_side_obeys() {
    // Given alice's share for Sam (downloads, a limit of 20, no password, no expiry), open to
    // anyone, and alice signed in on the page
    let app = app();
    let (road, _) = alices_shares(&app);
    assert_eq!(public(&app, &road), (200, String::new()));
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&format!("{}/share/_manage", app.url));
    sign_in_with_form(&browser, &alice_creds().username, &alice_creds().password);
    wait_listed(&browser, 2);
    let road_card = card(&road);
    let before = api(&app, &format!("/api/share/{road}"));

    // When she types a password too short to be one and saves
    open_edit(&browser, &road_card);
    browser.press("#edit-password", "abc");
    browser.click("#edit-form button[type=submit]");

    // Then the dialog stays open and says why, and nothing changed
    browser.wait_for(
        "the dialog's error",
        "!document.getElementById('edit-error').hidden",
    );
    let error = browser.js("return document.getElementById('edit-error').textContent");
    assert!(
        error.as_str().unwrap().contains("4 to 128 characters"),
        "{error}"
    );
    assert_eq!(
        browser.js("return document.getElementById('edit-dialog').open"),
        true
    );
    assert_eq!(
        api(&app, &format!("/api/share/{road}"))["version"],
        before["version"]
    );
    let logged = problems(browser.console());
    assert!(
        logged
            .iter()
            .all(|e| e.message.contains(&format!("/api/share/{road}")) && e.message.contains("400")),
        "only the refused change is in the console: {logged:#?}"
    );

    // When she changes every control at once: a new description, an expiry ten days away (her
    // time), no downloads, a real password, a limit of 5 visits
    browser.js("document.getElementById('edit-password').value = ''");
    set_value(&browser, "#edit-description", "Road songs, for Sam only");
    let expiry = browser.js(
        "const d = new Date(Date.now() + 10 * 86400e3); d.setSeconds(0, 0);
         const p = n => String(n).padStart(2, '0');
         const local = d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' +
           p(d.getHours()) + ':' + p(d.getMinutes());
         const e = document.getElementById('edit-expires'); e.value = local;
         e.dispatchEvent(new Event('input', {bubbles: true}));
         return d.toISOString();",
    );
    browser.click("#edit-downloadable");
    browser.press("#edit-password", "sesame-42");
    set_value(&browser, "#edit-max-visits", "5");
    save(&browser);

    // Then the share has them all, and the card says so
    let share = api(&app, &format!("/api/share/{road}"));
    let expires = time::OffsetDateTime::parse(
        share["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let wanted = time::OffsetDateTime::parse(
        expiry.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expires, wanted, "{share}");
    assert_eq!(
        (
            &share["description"],
            &share["downloadable"],
            &share["hasPassword"],
            &share["maxVisits"]
        ),
        (
            &json!("Road songs, for Sam only"),
            &json!(false),
            &json!(true),
            &json!(5)
        )
    );
    browser.wait_for(
        "the card's new facts",
        &format!(
            "document.querySelector('{road_card} .title').textContent === 'Road songs, for Sam only'
             && document.querySelector('{road_card} .badges').textContent.includes('Password')
             && !document.querySelector('{road_card} .badges').textContent.includes('Downloads')"
        ),
    );

    // And the public side obeys at once: the link asks for the password, and with it (6 visits
    // of a limit of 5 already made) the limit is used up
    assert_eq!(public(&app, &road), (401, "password-required".into()));
    let with_password = app.raw(
        "GET",
        &format!("/share/{road}?format=raw"),
        &[("Authorization", &protected::basic("sesame-42"))],
        None,
    );
    assert_eq!(
        (with_password.status(), with_password.code()),
        (410, "visit-limit-reached".to_string()),
        "{}",
        with_password.text()
    );

    // When she opens the dialog again, then it shows what the share now is
    open_edit(&browser, &road_card);
    let shown = browser.js("const v = id => document.getElementById(id);
         return [v('edit-description').value, v('edit-downloadable').checked,
                 v('edit-max-visits').value, v('edit-password-state').textContent,
                 v('edit-password-remove-row').hidden, v('edit-expires').value !== ''];");
    assert_eq!(
        shown,
        json!([
            "Road songs, for Sam only",
            false,
            "5",
            "This share has a password.",
            false,
            true
        ])
    );

    // When she removes the password, the limit and the expiry
    browser.click("#edit-password-remove");
    set_value(&browser, "#edit-max-visits", "");
    set_value(&browser, "#edit-expires", "");
    save(&browser);

    // Then the share has none of them, and anyone with the link opens it again
    let share = api(&app, &format!("/api/share/{road}"));
    assert_eq!(
        (
            &share["hasPassword"],
            &share["maxVisits"],
            &share["expiresAt"]
        ),
        (&json!(false), &Value::Null, &Value::Null),
        "{share}"
    );
    assert_eq!(public(&app, &road), (200, String::new()));

    // When she revokes Jo's link from the page, then Jo's link is gone on the public side
    let jo = api(&app, &format!("/api/share/{road}/links"))
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["label"] == "Jo")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(public(&app, &jo), (200, String::new()));
    browser.click(&format!(
        "{road_card} .links li.link[data-id=\"{jo}\"] .revoke"
    ));
    browser.wait_for(
        "the confirmation",
        "document.getElementById('confirm-dialog').open",
    );
    browser.click("#confirm-yes");
    browser.wait_for(
        "the revoked row",
        &format!(
            "document.querySelector('{road_card} .links li.link[data-id=\"{jo}\"]').classList.contains('revoked')"
        ),
    );
    assert_eq!(public(&app, &jo), (410, "link-revoked".into()));

    browser.assert_no_console_problems();
    assert_same_origin(&browser, &app.url);
}
