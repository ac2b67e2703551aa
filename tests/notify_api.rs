//! `GET|PUT /api/notifications` over real HTTP: the caller's own settings, stored as an
//! event, refused outside the admin's allow-list, checked field by field.
use crate::support;

use serde_json::json;
use support::*;

const TARGET: &str = "http://hooks.test/";

fn app() -> TestApp {
    spawn_app(|s| {
        s.notify.allowed_targets = vec![TARGET.into()];
        s.notify.secret = "a-secret-of-16-chars".into();
    })
}

fn put(app: &TestApp, token: &str, body: serde_json::Value) -> Resp {
    app.req("PUT", "/api/notifications", Some(token), Some(&body))
}

#[test]
fn an_owner_sets_reads_and_turns_off_their_own_notifications() {
    let app = app();
    let off = json!({"url": null, "format": null, "on": []});
    let r = app.req("GET", "/api/notifications", Some(&alice()), None);
    assert_eq!((r.status(), r.json()), (200, off.clone()));

    let set = json!({"url": "http://hooks.test/alice", "format": "ntfy", "on": ["visit", "first-visit", "visit"]});
    let r = put(&app, &alice(), set);
    assert_eq!(r.status(), 200, "{}", r.text());
    let stored =
        json!({"url": "http://hooks.test/alice", "format": "ntfy", "on": ["first-visit", "visit"]});
    assert_eq!(r.json(), stored, "one order, no repeats");
    let r = app.req("GET", "/api/notifications", Some(&alice()), None);
    assert_eq!(r.json(), stored);
    // Bob's are his own.
    let r = app.req("GET", "/api/notifications", Some(&bob()), None);
    assert_eq!(r.json(), off);

    // The same again writes nothing; a change and turning off each write one event.
    put(&app, &alice(), stored.clone());
    let r = put(
        &app,
        &alice(),
        json!({"url": "http://hooks.test/alice", "format": "json", "on": ["link-revoked"]}),
    );
    assert_eq!(r.json()["format"], "json");
    let r = put(&app, &alice(), json!({"url": null}));
    assert_eq!((r.status(), r.json()), (200, off.clone()));
    // What GET answers while off may be sent back as it is.
    let r = put(&app, &alice(), off.clone());
    assert_eq!((r.status(), r.json()), (200, off.clone()));
    let audit = app.req(
        "GET",
        "/api/audit?type=NotifySettingsChanged",
        Some(&admin()),
        None,
    );
    let lines: Vec<serde_json::Value> = audit
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", audit.text());
    assert_eq!(lines[0]["stream"], "owner:u-alice");
    assert_eq!(lines[2]["data"], json!({"notify": null}));
}

#[test]
fn a_url_outside_the_allow_list_is_400_notify_target_and_nothing_is_stored() {
    let app = app();
    for url in [
        "http://hooks.test.evil/x",
        "http://127.0.0.1:6379/",
        "http://hooks.tes/",
        "https://hooks.test/",
    ] {
        let r = put(
            &app,
            &alice(),
            json!({"url": url, "format": "json", "on": ["visit"]}),
        );
        assert_eq!(r.status(), 400, "{url}: {}", r.text());
        assert_eq!(r.code(), "notify-target", "{url}");
        assert_eq!(r.json()["field"], "url");
    }
    // With no allow-list at all, notifications are off on this server.
    let closed = spawn_app(|_| {});
    let r = put(
        &closed,
        &alice(),
        json!({"url": "http://hooks.test/a", "format": "json", "on": ["visit"]}),
    );
    assert_eq!(r.code(), "notify-target");
    let r = app.req("GET", "/api/notifications", Some(&alice()), None);
    assert_eq!(r.json()["url"], serde_json::Value::Null);
}

#[test]
fn every_bad_field_is_400_naming_it() {
    let app = app();
    let ok = json!({"url": "http://hooks.test/a", "format": "json", "on": ["visit"]});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    for (body, field, code) in [
        (without("url"), "url", "invalid-field"),
        (with("url", json!(5)), "url", "invalid-field"),
        (
            with("url", json!("http://hooks.test/a b")),
            "url",
            "invalid-field",
        ),
        (without("format"), "format", "invalid-field"),
        (with("format", json!("xml")), "format", "invalid-field"),
        (without("on"), "on", "invalid-field"),
        (with("on", json!("visit")), "on", "invalid-field"),
        (
            with("on", json!(["visit", "sneeze"])),
            "on",
            "invalid-field",
        ),
        (with("on", json!([])), "on", "invalid-field"),
        (with("on", json!(null)), "on", "invalid-field"),
        (
            json!({"url": null, "format": "xml"}),
            "format",
            "invalid-field",
        ),
        (
            json!({"url": null, "on": ["sneeze"]}),
            "on",
            "invalid-field",
        ),
    ] {
        let r = put(&app, &alice(), body.clone());
        assert_eq!(r.status(), 400, "{body}: {}", r.text());
        assert_eq!(
            (r.json()["field"].as_str(), r.code().as_str()),
            (Some(field), code),
            "{body}"
        );
    }
    let r = app.raw(
        "PUT",
        "/api/notifications",
        &[
            ("X-ND-Authorization", &format!("Bearer {}", alice())),
            ("Content-Type", "application/json"),
        ],
        Some(b"{nope"),
    );
    assert_eq!(r.code(), "malformed-json");
    let r = app.req("PUT", "/api/notifications", None, Some(&ok));
    assert_eq!(r.status(), 401);
    let r = app.req("GET", "/api/notifications", None, None);
    assert_eq!(r.status(), 401);
    let r = app.req("DELETE", "/api/notifications", Some(&alice()), None);
    assert_eq!(r.status(), 405);
}
