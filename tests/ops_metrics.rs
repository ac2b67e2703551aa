//! `/metrics` after real traffic: every docs/operations.md series that saw traffic is
//! there, the text passes `promtool check metrics`, and no label carries an id.

use crate::support;
use crate::support::promtool;

use promtool::promtool;
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};
use support::*;

#[test]
fn metrics_after_real_traffic_pass_promtool_and_carry_no_ids() {
    let app = spawn_app(|_| {});
    let songs = &upstream::shared().album("Alpha").songs;
    let share = app.create(&alice(), json!({"songs": [songs[0].id]}));
    let id = share["id"].as_str().unwrap();
    assert_eq!(
        app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
            .status(),
        200
    );
    let put = app.update(&alice(), id, json!({"description": "x"}));
    assert_eq!(put.status(), 200);
    assert_eq!(
        app.req(
            "GET",
            &format!("/api/share/{id}/history"),
            Some(&alice()),
            None
        )
        .status(),
        200
    );
    assert_eq!(
        app.req("GET", "/api/share/doesnotexist", Some(&bob()), None)
            .status(),
        404
    );
    app.req("GET", &format!("/share/{id}"), None, None);
    app.req("GET", "/no/such/path/12345", None, None);

    let scrape = app.req("GET", "/metrics", None, None);
    assert_eq!(scrape.status(), 200);
    assert!(scrape
        .header("Content-Type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = scrape.text();
    for series in [
        "sharelog_http_requests_total{",
        "sharelog_http_request_duration_seconds_bucket{",
        "sharelog_shares ",
        "sharelog_events_appended_total{type=\"ShareCreated\"}",
        "sharelog_events_appended_total{type=\"ShareUpdated\"}",
        "sharelog_event_commit_batch_size_bucket{",
        "sharelog_event_commit_seconds_bucket{",
        "sharelog_upstream_requests_total{",
        "sharelog_build_info{version=",
    ] {
        assert!(text.contains(series), "missing {series} in:\n{text}");
    }
    assert!(
        text.contains("route=\"/api/share/{id}\""),
        "routes are labelled by pattern"
    );
    assert!(text.contains("route=\"/api/share/{id}/history\""));
    assert!(!text.contains(id), "a share id leaked into the metrics");
    assert!(
        !text.contains("doesnotexist") && !text.contains("12345"),
        "a raw path leaked"
    );
    assert!(!text.contains("127.0.0.1"), "an address leaked");

    let mut check = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
