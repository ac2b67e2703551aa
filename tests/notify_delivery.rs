//! Notifications delivered to a real HTTP receiver (`support::receiver`), from visits
//! made over real HTTP against the real supysonic: the json body and its signature
//! (checked here with the HMAC of the `hmac` crate, not ours), the ntfy form, first
//! visits once per share across a restart, previews never, a failing
//! target that recovers (nothing lost, in order, visits never waiting), and an allow-list
//! narrowed after the URL was stored.
use crate::support;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::{Duration, Instant};
use support::receiver::{Mode, Received, Receiver};
use support::*;

const NOTIFY_SECRET: &str = "notify-secret-of-the-tests";
const WITHIN: Duration = Duration::from_secs(30);

pub(crate) fn app_for(receiver: &Receiver) -> TestApp {
    let base = receiver.base.clone();
    spawn_app(move |s| allow(s, &base))
}

fn allow(s: &mut sharelog::config::Settings, target: &str) {
    s.notify.allowed_targets = vec![target.to_string()];
    s.notify.secret = NOTIFY_SECRET.into();
}

pub(crate) fn set(app: &TestApp, receiver: &Receiver, format: &str, on: &[&str]) {
    let body = json!({"url": format!("{}alice", receiver.base), "format": format, "on": on});
    let r = app.req("PUT", "/api/notifications", Some(&alice()), Some(&body));
    assert_eq!(r.status(), 200, "{}", r.text());
}

fn song() -> String {
    upstream::shared().album("Alpha").songs[0].id.clone()
}

pub(crate) fn share(app: &TestApp, extra: Value) -> String {
    let mut body = json!({"songs": [song()], "description": "Road songs"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.create_id(&alice(), body)
}

pub(crate) fn link(app: &TestApp, id: &str, label: &str) -> String {
    let r = app.req(
        "POST",
        &format!("/api/share/{id}/links"),
        Some(&alice()),
        Some(&json!({ "label": label })),
    );
    assert_eq!(r.status(), 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

/// Opens a public link as a person (`query` after `?`); panics unless 200.
pub(crate) fn open(app: &TestApp, id: &str, query: &str) {
    let r = app.raw("GET", &format!("/share/{id}?{query}"), &[], None);
    assert_eq!(r.status(), 200, "{}", r.text());
}

/// Opens it as a chat app's link preview does.
pub(crate) fn preview(app: &TestApp, id: &str) {
    let ua = [(
        "User-Agent",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    )];
    let r = app.raw("GET", &format!("/share/{id}"), &ua, None);
    assert_eq!(r.status(), 200, "{}", r.text());
}

/// The log's events of `kind`, oldest first.
pub(crate) fn logged(app: &TestApp, kind: &str) -> Vec<Value> {
    let r = app.req(
        "GET",
        &format!("/api/audit?type={kind}"),
        Some(&admin()),
        None,
    );
    r.text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A delivery outcome's count. Metrics are process-wide, and every test of this binary
/// counts into them: only `refused` is counted by no other test.
fn metric(app: &TestApp, outcome: &str) -> u64 {
    let text = app.raw("GET", "/metrics", &[], None).text();
    let name = format!("sharelog_notify_deliveries_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&name))
        .map_or(0, |n| n.trim().parse().unwrap())
}

fn verify_signature(r: &Received) {
    let mut mac = Hmac::<Sha256>::new_from_slice(NOTIFY_SECRET.as_bytes()).unwrap();
    mac.update(&r.body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        r.header("X-Sharelog-Signature"),
        Some(format!("sha256={hex}").as_str())
    );
}

#[test]
fn a_json_delivery_carries_the_documented_fields_and_a_valid_signature() {
    let receiver = Receiver::start(Mode::Ok);
    let app = app_for(&receiver);
    set(
        &app,
        &receiver,
        "json",
        &["first-visit", "visit", "link-revoked"],
    );
    let id = share(&app, json!({}));
    let bob = link(&app, &id, "Bob");
    open(&app, &id, "format=m3u&player=VLC");
    let got = receiver.wait_delivered(1, WITHIN);
    let visit = &logged(&app, "ShareVisited")[0];
    let r = &got[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/alice"));
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.header("X-Sharelog-Event"), visit["id"].as_str());
    verify_signature(r);
    assert_eq!(
        r.json(),
        json!({
            "event": "first-visit",
            "seq": visit["seq"],
            "share": {"id": id, "title": "Road songs", "url": format!("{PUBLIC_URL}/share/{id}")},
            "link": null,
            "visit": {"at": visit["at"], "format": "m3u", "player": "VLC"},
        })
    );

    // A revoked link: no visit. A password share is only "Shared music".
    let r = app.req(
        "DELETE",
        &format!("/api/share/{id}/links/{bob}"),
        Some(&alice()),
        None,
    );
    assert_eq!(r.status(), 200);
    let secret = share(&app, json!({"password": "open sesame"}));
    let r = app.raw(
        "GET",
        &format!("/share/{secret}?format=raw"),
        &[("Authorization", "Basic eDpvcGVuIHNlc2FtZQ==")],
        None,
    );
    assert_eq!(r.status(), 200, "{}", r.text());
    let got = receiver.wait_delivered(3, WITHIN);
    let revoked = got[1].json();
    assert_eq!(revoked["event"], "link-revoked");
    assert_eq!(revoked["link"], json!({"id": bob, "label": "Bob"}));
    assert_eq!(revoked["visit"], Value::Null);
    verify_signature(&got[1]);
    let protected = got[2].json();
    assert_eq!(protected["share"]["title"], "Shared music");
    assert!(!got[2].text().contains("Road songs"));
}

#[test]
fn an_ntfy_delivery_is_text_with_title_tags_and_click() {
    let receiver = Receiver::start(Mode::Ok);
    let app = app_for(&receiver);
    set(&app, &receiver, "ntfy", &["visit", "download"]);
    let id = share(&app, json!({"downloadable": true}));
    open(&app, &id, "format=raw");
    open(&app, &id, "download=true");
    let got = receiver.wait_delivered(2, WITHIN);
    assert_eq!(got[0].text(), "Someone opened \"Road songs\"");
    assert_eq!(got[0].header("Title"), Some("Visit"));
    assert_eq!(got[0].header("Tags"), Some("headphones"));
    assert_eq!(
        got[0].header("Click"),
        Some(format!("{PUBLIC_URL}/share/_manage").as_str())
    );
    assert!(got[0]
        .header("Content-Type")
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(got[1].text(), "Someone downloaded \"Road songs\"");
    assert_eq!(got[1].header("Title"), Some("Download"));
    assert_eq!(got[1].header("Tags"), Some("inbox_tray"));
}

#[test]
fn first_visit_fires_once_per_share_across_a_restart_and_previews_never_notify() {
    let receiver = Receiver::start(Mode::Ok);
    let app = app_for(&receiver);
    set(&app, &receiver, "json", &["first-visit", "visit"]);
    let a = share(&app, json!({}));
    preview(&app, &a);
    open(&app, &a, "format=raw");
    open(&app, &a, "format=raw");
    receiver.wait_delivered(2, WITHIN);
    // Received is not yet recorded: a delivery whose answer sharelog has not yet taken in
    // is in flight, and a restart sends it again (at least once). The metric counts a
    // delivery once its cursor is written; wait for that, so that none is in flight.
    delivered_and_recorded(&app, 2);
    // After a restart the worker knows nothing of earlier visits but what the log says.
    let base = receiver.base.clone();
    let app = app.restart(move |s| allow(s, &base));
    preview(&app, &a);
    open(&app, &a, "format=raw");
    let b = share(&app, json!({}));
    preview(&app, &b);
    open(&app, &b, "format=raw");
    open(&app, &b, "format=raw");
    let got = receiver.wait_delivered(5, WITHIN);
    let told: Vec<(Value, Value)> = got
        .iter()
        .map(|r| (r.json()["event"].clone(), r.json()["share"]["id"].clone()))
        .collect();
    assert_eq!(
        told,
        vec![
            (json!("first-visit"), json!(a)),
            (json!("visit"), json!(a)),
            (json!("visit"), json!(a)),
            (json!("first-visit"), json!(b)),
            (json!("visit"), json!(b)),
        ]
    );
    assert_eq!(
        logged(&app, "SharePreviewed").len(),
        3,
        "the previews were logged"
    );
    let visits: Vec<Value> = logged(&app, "ShareVisited")
        .iter()
        .map(|v| v["seq"].clone())
        .collect();
    let seqs: Vec<Value> = got.iter().map(|r| r.json()["seq"].clone()).collect();
    assert_eq!(seqs, visits, "one per visit, none per preview, in order");
}

#[test]
fn a_failing_target_gets_everything_in_order_once_it_recovers_and_visits_never_wait() {
    let receiver = Receiver::start(Mode::Hang);
    let app = app_for(&receiver);
    set(&app, &receiver, "json", &["visit"]);
    let id = share(&app, json!({}));
    let started = Instant::now();
    for _ in 0..20 {
        open(&app, &id, "format=raw");
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "20 visits took {took:?} with the target hanging"
    );
    receiver.wait_received(1, WITHIN);
    // The hanging attempt times out (10 s); the retries meet errors until it recovers.
    receiver.set_mode(Mode::Fail(503));
    receiver.wait_received(3, Duration::from_secs(40));
    receiver.set_mode(Mode::Ok);
    let got = receiver.wait_delivered(20, Duration::from_secs(60));
    let seqs: Vec<Value> = got.iter().map(|r| r.json()["seq"].clone()).collect();
    let visits: Vec<Value> = logged(&app, "ShareVisited")
        .iter()
        .map(|v| v["seq"].clone())
        .collect();
    assert_eq!(seqs, visits, "every visit once, in order");
    let failed = receiver.all().iter().filter(|r| r.status != 200).count();
    assert!(failed >= 3, "{failed} failed attempts");
}

#[test]
fn a_target_the_admin_no_longer_allows_gets_nothing() {
    let receiver = Receiver::start(Mode::Ok);
    let app = app_for(&receiver);
    set(&app, &receiver, "json", &["visit"]);
    let id = share(&app, json!({}));
    open(&app, &id, "format=raw");
    receiver.wait_delivered(1, WITHIN);
    // The admin narrows the list; the URL stored before is no longer allowed.
    let app = app.restart(|s| allow(s, "http://hooks.test/"));
    open(&app, &id, "format=raw");
    let deadline = Instant::now() + WITHIN;
    while metric(&app, "refused") < 1 {
        assert!(Instant::now() < deadline, "never refused");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(receiver.all().len(), 1, "nothing sent after the narrowing");
    // The owner still sees what they stored, and cannot store it again.
    let r = app.req("GET", "/api/notifications", Some(&alice()), None);
    assert_eq!(r.json()["url"], format!("{}alice", receiver.base));
    let body = json!({"url": format!("{}bob", receiver.base), "format": "json", "on": ["visit"]});
    let r = app.req("PUT", "/api/notifications", Some(&alice()), Some(&body));
    assert_eq!(r.code(), "notify-target");
}

/// Waits until `/metrics` counts `n` deliveries as delivered (each recorded in the log's
/// cursor before it is counted).
fn delivered_and_recorded(app: &TestApp, n: u64) {
    let line = r#"sharelog_notify_deliveries_total{outcome="delivered"}"#;
    let deadline = Instant::now() + WITHIN;
    loop {
        let metrics = app.raw("GET", "/metrics", &[], None).text();
        let count = metrics
            .lines()
            .find_map(|l| l.strip_prefix(line))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if count >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{count} of {n} deliveries recorded"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
