//! Guessing a share's password over HTTP: after 10 wrong passwords (the unlock form or HTTP
//! Basic alike) from one client in 15 minutes, and after 100 from everyone in an hour, every
//! attempt is 429 with `Retry-After`, the right password too; other clients, other shares
//! and requests with a key or the unlock cookie are not held back. Each wrong password is
//! counted in `sharelog_share_unlock_failures_total` (process-wide, and other tests of the
//! suite fail passwords meanwhile: it is checked to grow by at least this test's failures).
//! Clients are told apart by `X-Forwarded-For` from a trusted proxy (the test itself).
use crate::support;

use serde_json::json;
use sharelog::config::Cidr;
use support::protected::*;
use support::*;

fn app() -> TestApp {
    spawn_app(|s| s.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()])
}

fn from(client: &str) -> [(&'static str, &str); 1] {
    [("X-Forwarded-For", client)]
}

fn failures(app: &TestApp, via: &str) -> u64 {
    let metrics = app.raw("GET", "/metrics", &[], None).text();
    let line = format!("sharelog_share_unlock_failures_total{{via=\"{via}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&line))
        .map_or(0, |v| v.trim().parse().unwrap())
}

fn retry_after(r: &Resp) -> u64 {
    r.header("Retry-After")
        .unwrap_or_else(|| panic!("no Retry-After: {}", r.status()))
        .parse()
        .unwrap()
}

#[test]
fn ten_wrong_passwords_from_one_client_close_the_share_to_it_even_for_the_right_one() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let other = share_with(&app, json!({ "password": PASSWORD }));
    let cookie = cookie_of(&unlock(&app, &id, PASSWORD, &from("192.0.2.1")));
    let (form0, basic0) = (failures(&app, "form"), failures(&app, "basic"));

    // Five wrong through the form and five with Basic: ten failures.
    for i in 0..5 {
        let r = unlock(&app, &id, &format!("wrong {i}"), &from("192.0.2.1"));
        assert_eq!(r.status(), 401, "{}", r.text());
        let wrong = basic(&format!("wrong {i}"));
        let r = app.raw(
            "GET",
            &format!("/share/{id}?format=raw"),
            &[("Authorization", &wrong), ("X-Forwarded-For", "192.0.2.1")],
            None,
        );
        assert_eq!(r.status(), 401, "{}", r.text());
    }
    assert!(failures(&app, "form") - form0 >= 5);
    assert!(failures(&app, "basic") - basic0 >= 5);

    // The eleventh is refused before its password is looked at: the right one too.
    let page = unlock(&app, &id, PASSWORD, &from("192.0.2.1"));
    assert_eq!(page.status(), 429);
    assert!(
        page.text().contains("Too many wrong passwords"),
        "{}",
        page.text()
    );
    assert!(page.header("Set-Cookie").is_none());
    let wait = retry_after(&page);
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");
    let right = basic(PASSWORD);
    let r = app.raw(
        "GET",
        &format!("/share/{id}?format=raw"),
        &[("Authorization", &right), ("X-Forwarded-For", "192.0.2.1")],
        None,
    );
    assert_eq!((r.status(), r.code()), (429, "rate-limited".into()));
    assert!(retry_after(&r) >= 14 * 60);

    // Others are not held back: another client, another share, and this client's cookie.
    assert_eq!(
        unlock(&app, &id, PASSWORD, &from("192.0.2.2")).status(),
        303
    );
    assert_eq!(
        unlock(&app, &other, PASSWORD, &from("192.0.2.1")).status(),
        303
    );
    let r = app.raw(
        "GET",
        &format!("/share/{id}?format=raw"),
        &[("Cookie", &cookie), ("X-Forwarded-For", "192.0.2.1")],
        None,
    );
    assert_eq!(r.status(), 200, "{}", r.text());
}

#[test]
fn a_hundred_wrong_passwords_from_everyone_close_the_share_for_an_hour() {
    let app = app();
    let id = share_with(&app, json!({ "password": PASSWORD }));
    // Ten clients, ten wrong each (each reaches its own limit exactly).
    for c in 0..10 {
        let client = format!("198.51.100.{c}");
        for i in 0..10 {
            let r = unlock(&app, &id, &format!("guess {i}"), &from(&client));
            assert_eq!(r.status(), 401, "client {c} guess {i}: {}", r.text());
        }
    }
    // A client that never guessed, with the right password: the share is closed to all.
    let r = unlock(&app, &id, PASSWORD, &from("203.0.113.7"));
    assert_eq!(r.status(), 429, "{}", r.text());
    let wait = retry_after(&r);
    assert!((59 * 60..=3600).contains(&wait), "{wait}");
    let script = app.raw(
        "POST",
        &format!("/share/{id}/unlock"),
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Forwarded-For", "203.0.113.8"),
        ],
        Some(format!("password={}", upstream::percent_encode(PASSWORD)).as_bytes()),
    );
    assert_eq!(
        (script.status(), script.code()),
        (429, "rate-limited".into())
    );
}
