//! Previews as the owner API, the audit trail, the metrics and the Subsonic API show
//! them, over real HTTP. The previews are appended through the store, on the data
//! directory the server then opens (the page that turns a bot's request into a
//! preview is tested with the page).

use crate::support;

use serde_json::{json, Value};
use sharelog::domain::ShareId;
use sharelog::store::Store;
use support::commands::{preview, visit, POLICY};
use support::*;

/// The metric's value for exactly these labels, as `/metrics` prints it.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[test]
fn previews_show_in_the_owner_api_the_audit_trail_and_the_metrics_but_not_in_subsonic() {
    let app = spawn_app(|_| {});
    let songs = &upstream::shared().album("Alpha").songs;
    let created = app.create(&alice(), json!({"songs": [songs[0].id]}));
    assert_eq!(created["previewCount"], 0);
    let id = created["id"].as_str().unwrap().to_string();
    let mut app = app;
    let tmp = app.stop();

    let store = Store::open(&app.data_dir, POLICY).unwrap();
    let share = ShareId::parse(&id).unwrap();
    for _ in 0..2 {
        store
            .execute_blocking(preview(&share), None)
            .unwrap()
            .unwrap();
    }
    store
        .execute_blocking(visit(&share), None)
        .unwrap()
        .unwrap();
    store.close();
    drop(store);
    let app = spawn_with(settings_for(upstream::shared(), &app.data_dir));

    let one = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(one.status(), 200, "{}", one.text());
    let one = one.json();
    assert_eq!(
        (one["previewCount"].clone(), one["visitCount"].clone()),
        (json!(2), json!(1))
    );
    assert!(one["lastVisitedAt"].is_string());
    let list = app.req("GET", "/api/share", Some(&alice()), None).json();
    assert_eq!(list[0]["previewCount"], 2);

    let audit = app.req(
        "GET",
        "/api/audit?type=SharePreviewed",
        Some(&admin()),
        None,
    );
    assert_eq!(audit.status(), 200, "{}", audit.text());
    let previews: Vec<Value> = audit
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(previews.len(), 2);
    assert!(previews.iter().all(|e| e["type"] == "SharePreviewed"
        && e["actor"].is_null()
        && e["data"]["format"] == "html"));
    let bad = app.req("GET", "/api/audit?type=ShareUnfurled", Some(&admin()), None);
    assert_eq!(bad.status(), 400);
    assert!(bad.text().contains("SharePreviewed"), "{}", bad.text());

    // The store above ran in this process, so its commits are in this process's metrics.
    let text = app.req("GET", "/metrics", None, None).text();
    assert_eq!(
        metric(
            &text,
            r#"sharelog_events_appended_total{type="SharePreviewed"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        metric(&text, r#"sharelog_share_previews_total{format="html"}"#),
        Some(2.0)
    );

    let subsonic = app.raw(
        "GET",
        "/rest/getShares?u=alice&p=alicepass&f=json",
        &[],
        None,
    );
    let shares = &subsonic.json()["subsonic-response"]["shares"]["share"];
    assert_eq!(shares[0]["id"], id.as_str());
    assert_eq!(shares[0]["visitCount"], 1);
    assert!(shares[0].get("previewCount").is_none(), "{shares}");
    drop(tmp);
}
