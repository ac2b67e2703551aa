//! The live audit trail over real HTTP: `GET /api/audit` (admins, streamed
//! JSON Lines, filters) and `GET /api/share/{id}/history` (owner or admin).

use crate::support;

use serde_json::{json, Value};
use support::*;

fn lines(r: &Resp) -> Vec<Value> {
    r.text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

/// Two shares by alice (one renamed), one by bob: events 1..=4.
fn three_shares(app: &TestApp) -> (String, String) {
    let songs = &upstream::shared().album("Alpha").songs;
    let a = app.create(&alice(), json!({"songs": [songs[0].id]}));
    let a = a["id"].as_str().unwrap().to_string();
    let b = app.create(&bob(), json!({"songs": [songs[1].id]}));
    let b = b["id"].as_str().unwrap().to_string();
    let put = app.update(&alice(), &a, json!({"description": "renamed"}));
    assert_eq!(put.status(), 200, "{}", put.text());
    app.create(&alice(), json!({"songs": [songs[2].id]}));
    (a, b)
}

#[test]
fn the_audit_trail_streams_every_event_as_json_lines_for_admins() {
    let app = spawn_app(|_| {});
    three_shares(&app);
    let r = app.req("GET", "/api/audit", Some(&admin()), None);
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(r.header("Content-Type"), Some("application/x-ndjson"));
    let events = lines(&r);
    assert_eq!(seqs(&events), vec![1, 2, 3, 4]);
    assert_eq!(events[2]["type"], "ShareUpdated");
    assert_eq!(
        events[2]["actor"],
        json!({"userId": "u-alice", "username": "alice"})
    );
    assert_eq!(events[1]["prevHash"], events[0]["hash"]);
    assert_eq!(events[0].as_object().unwrap().len(), 11);
}

#[test]
fn the_audit_trail_filters_by_share_type_and_time() {
    let app = spawn_app(|_| {});
    let (a, b) = three_shares(&app);
    let get = |q: &str| {
        let r = app.req("GET", &format!("/api/audit?{q}"), Some(&admin()), None);
        assert_eq!(r.status(), 200, "{q}: {}", r.text());
        lines(&r)
    };
    assert_eq!(seqs(&get(&format!("share={a}"))), vec![1, 3]);
    assert_eq!(seqs(&get(&format!("share={b}"))), vec![2]);
    assert_eq!(seqs(&get("type=ShareCreated")), vec![1, 2, 4]);
    assert_eq!(seqs(&get(&format!("share={a}&type=ShareUpdated"))), vec![3]);

    let all = get("");
    let at = |i: usize| all[i]["at"].as_str().unwrap().to_string();
    let enc = |t: String| t.replace('+', "%2B");
    let since = get(&format!("since={}", enc(at(2))));
    assert!(seqs(&since).iter().all(|s| *s >= 3), "{since:?}");
    assert!(seqs(&since).contains(&3));
    let until = get(&format!("until={}", enc(at(1))));
    assert!(seqs(&until).iter().all(|s| *s <= 2) && seqs(&until).contains(&1));
    assert!(get("since=2999-01-01T00:00:00Z").is_empty());
    assert_eq!(get("until=2000-01-01T00:00:00Z").len(), 0);
}

#[test]
fn the_audit_trail_refuses_non_admins_and_bad_filters() {
    let app = spawn_app(|_| {});
    let r = app.req("GET", "/api/audit", Some(&alice()), None);
    assert_eq!(r.status(), 403);
    assert_eq!(r.code(), "forbidden");
    assert_eq!(app.req("GET", "/api/audit", None, None).status(), 401);
    let bad = app.req("GET", "/api/audit?since=yesterday", Some(&admin()), None);
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json()["field"], "since");
    let bad = app.req("GET", "/api/audit?type=ShareExploded", Some(&admin()), None);
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json()["field"], "type");
}

#[test]
fn a_share_history_is_for_its_owner_and_admins_only() {
    let app = spawn_app(|_| {});
    let (a, _) = three_shares(&app);
    let path = format!("/api/share/{a}/history");
    let own = app.req("GET", &path, Some(&alice()), None);
    assert_eq!(own.status(), 200, "{}", own.text());
    let events = own.json();
    let events = events.as_array().unwrap();
    assert_eq!(seqs(events), vec![1, 3]);
    assert_eq!(events[0]["type"], "ShareCreated");
    assert_eq!(events[1]["data"], json!({"description": "renamed"}));
    assert_eq!(
        app.req("GET", &path, Some(&admin()), None).json(),
        own.json()
    );
    assert_eq!(app.req("GET", &path, Some(&bob()), None).status(), 404);
    assert_eq!(app.req("GET", &path, None, None).status(), 401);
    assert_eq!(
        app.req(
            "GET",
            "/api/share/nosuchshare/history",
            Some(&admin()),
            None
        )
        .status(),
        404
    );

    let del = app.req("DELETE", &format!("/api/share/{a}"), Some(&alice()), None);
    assert_eq!(del.status(), 200);
    let after = app.req("GET", &path, Some(&alice()), None).json();
    assert_eq!(
        after.as_array().unwrap().last().unwrap()["type"],
        "ShareDeleted"
    );
    assert_eq!(app.req("GET", &path, Some(&bob()), None).status(), 404);
}

#[test]
fn the_audit_trail_stays_available_to_admins_when_sharing_is_disabled() {
    let app = support::spawn_app(|s| s.sharing.enabled = false);
    let r = app.req("GET", "/api/audit", Some(&support::admin()), None);
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(
        app.req("GET", "/api/audit", Some(&support::alice()), None)
            .status(),
        403
    );
}

#[test]
fn after_seq_streams_only_later_events_with_the_same_bytes() {
    let app = spawn_app(|_| {});
    let (a, _) = three_shares(&app);
    let get = |q: &str| {
        let r = app.req("GET", &format!("/api/audit?{q}"), Some(&admin()), None);
        assert_eq!(r.status(), 200, "{q}: {}", r.text());
        r.text()
    };
    let all = get("");
    let tail: String = all.split_inclusive('\n').skip(2).collect();
    assert_eq!(
        get("after=2"),
        tail,
        "after=2 is the export from seq 3 on, byte for byte"
    );
    assert_eq!(seqs(&lines_of(&get("after=0"))), vec![1, 2, 3, 4]);
    assert_eq!(get("after=4"), "");
    assert_eq!(get("after=99"), "");
    assert_eq!(
        seqs(&lines_of(&get(&format!("after=1&share={a}")))),
        vec![3]
    );
    assert_eq!(
        seqs(&lines_of(&get("after=1&type=ShareCreated"))),
        vec![2, 4]
    );
    for bad in ["after=abc", "after=-1", "after=1.5", "after="] {
        let r = app.req("GET", &format!("/api/audit?{bad}"), Some(&admin()), None);
        assert_eq!(r.status(), 400, "{bad}: {}", r.text());
        assert_eq!(r.json()["field"], "after", "{bad}");
    }
}

fn lines_of(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
