//! The owner's controls over real HTTP against the real supysonic: passwords (write-only),
//! visit limits, links per recipient, artist shares, and the sharing policy with
//! `GET /api/share/settings`.
use crate::support;

use serde_json::{json, Value};
use support::*;

fn alpha_song() -> String {
    upstream::shared().album("Alpha").songs[0].id.clone()
}

/// The id of an artist the test music server knows, by name.
fn artist_id(name: &str) -> (String, u64) {
    let r = upstream::shared().api("getArtists", &[]);
    let index = r["artists"]["index"].as_array().unwrap();
    let artist = index
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().iter())
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no artist {name} in {r}"));
    let id = match &artist["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    (id, artist["albumCount"].as_u64().unwrap_or(0))
}

#[test]
fn a_password_is_write_only_and_null_removes_it() {
    let app = spawn_app(|_| {});
    let r = app.req(
        "POST",
        "/api/share",
        Some(&alice()),
        Some(&json!({"songs": [alpha_song()], "password": "open sesame"})),
    );
    assert_eq!(r.status(), 201, "{}", r.text());
    let share = r.json();
    assert_eq!(share["hasPassword"], true);
    assert!(share.get("password").is_none(), "{share}");
    assert!(!r.text().contains("argon2") && !r.text().contains("open sesame"));
    let id = share["id"].as_str().unwrap().to_string();
    let got = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(got.json()["hasPassword"], true);
    assert!(!got.text().contains("argon2"));

    let removed = app.update(&alice(), &id, json!({"password": null}));
    assert_eq!(removed.status(), 200, "{}", removed.text());
    assert_eq!(removed.json()["hasPassword"], false);
    let again = app.update(&alice(), &id, json!({"password": "another one"}));
    assert_eq!(again.json()["hasPassword"], true);
    let untouched = app.update(&alice(), &id, json!({"description": "x"}));
    assert_eq!(untouched.json()["hasPassword"], true, "absent leaves it");
}

#[test]
fn a_bad_password_or_limit_is_400_naming_the_field_and_nothing_is_stored() {
    let app = spawn_app(|_| {});
    for (body, field) in [
        (json!({"password": "abc"}), "password"),
        (json!({"password": "x".repeat(129)}), "password"),
        (json!({"password": 1234}), "password"),
        (json!({"maxVisits": 0}), "maxVisits"),
        (json!({"maxVisits": 1_000_001}), "maxVisits"),
        (json!({"maxVisits": -1}), "maxVisits"),
        (json!({"maxVisits": "3"}), "maxVisits"),
    ] {
        let mut body = body;
        body["songs"] = json!([alpha_song()]);
        let r = app.req("POST", "/api/share", Some(&alice()), Some(&body));
        assert_eq!(r.status(), 400, "{body}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{body}");
        assert_eq!(r.code(), "invalid-field");
    }
    let list = app.req("GET", "/api/share", Some(&alice()), None);
    assert_eq!(list.header("X-Total-Count"), Some("0"));
}

#[test]
fn a_visit_limit_is_set_changed_and_removed_and_the_raw_link_answers_410_past_it() {
    let app = spawn_app(|_| {});
    let share = app.create(&alice(), json!({"songs": [alpha_song()], "maxVisits": 2}));
    assert_eq!(share["maxVisits"], 2);
    let id = share["id"].as_str().unwrap().to_string();
    let raw = |app: &TestApp| app.raw("GET", &format!("/share/{id}?format=raw"), &[], None);
    assert_eq!(raw(&app).status(), 200);
    assert_eq!(raw(&app).status(), 200);
    let spent = raw(&app);
    assert_eq!(spent.status(), 410, "{}", spent.text());
    assert_eq!(spent.code(), "visit-limit-reached");
    let got = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(got.json()["visitCount"], 2);
    let raised = app.update(&alice(), &id, json!({"maxVisits": 3}));
    assert_eq!(raised.json()["maxVisits"], 3);
    assert_eq!(raw(&app).status(), 200);
    assert_eq!(raw(&app).status(), 410);
    let removed = app.update(&alice(), &id, json!({"maxVisits": null}));
    assert_eq!(removed.json()["maxVisits"], Value::Null);
    assert_eq!(raw(&app).status(), 200);
}

#[test]
fn sixty_concurrent_raw_visits_of_a_share_limited_to_7_are_exactly_7() {
    let app = spawn_app(|_| {});
    let id = app.create_id(&alice(), json!({"songs": [alpha_song()], "maxVisits": 7}));
    let start = std::sync::Arc::new(std::sync::Barrier::new(60));
    let statuses: Vec<u16> = (0..60)
        .map(|_| {
            let (url, start) = (format!("{}/share/{id}?format=raw", app.url), start.clone());
            std::thread::spawn(move || {
                start.wait();
                http_send("GET", &url, &[], None).status
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 7);
    assert_eq!(statuses.iter().filter(|s| **s == 410).count(), 53);
    let got = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(got.json()["visitCount"], 7);
}

#[test]
fn links_are_added_listed_oldest_first_and_revoked() {
    let app = spawn_app(|_| {});
    let id = app.create_id(&alice(), json!({"songs": [alpha_song()]}));
    let path = format!("/api/share/{id}/links");
    let bob = app.req(
        "POST",
        &path,
        Some(&alice()),
        Some(&json!({"label": "Bob", "maxVisits": 3})),
    );
    assert_eq!(bob.status(), 201, "{}", bob.text());
    let bob = bob.json();
    let bob_id = bob["id"].as_str().unwrap().to_string();
    assert!(bob_id.len() >= 22 && bob_id.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_ne!(bob_id, id);
    assert_eq!(bob["url"], format!("{PUBLIC_URL}/share/{bob_id}"));
    assert_eq!(
        (
            &bob["label"],
            &bob["maxVisits"],
            &bob["visitCount"],
            &bob["previewCount"]
        ),
        (&json!("Bob"), &json!(3), &json!(0), &json!(0))
    );
    assert_eq!(bob["revokedAt"], Value::Null);
    assert_eq!(bob["lastVisitedAt"], Value::Null);
    assert!(bob["createdAt"].is_string());
    let carol = app.req(
        "POST",
        &path,
        Some(&alice()),
        Some(&json!({"label": "Carol"})),
    );
    assert_eq!(carol.json()["maxVisits"], Value::Null);

    let list = app.req("GET", &path, Some(&alice()), None);
    assert_eq!(list.status(), 200);
    let labels: Vec<_> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].clone())
        .collect();
    assert_eq!(labels, vec![json!("Bob"), json!("Carol")]);
    assert_eq!(
        app.req("GET", &path, Some(&bob_token()), None).status(),
        404
    );
    assert_eq!(
        app.req(
            "POST",
            &path,
            Some(&bob_token()),
            Some(&json!({"label": "x"}))
        )
        .status(),
        404
    );

    let del = app.req("DELETE", &format!("{path}/{bob_id}"), Some(&alice()), None);
    assert_eq!(del.status(), 200, "{}", del.text());
    assert_eq!(del.json(), json!({"id": bob_id}));
    let again = app.req("DELETE", &format!("{path}/{bob_id}"), Some(&alice()), None);
    assert_eq!(
        (again.status(), again.code()),
        (410, "link-revoked".to_string())
    );
    let unknown = app.req(
        "DELETE",
        &format!("{path}/NoSuchLink"),
        Some(&alice()),
        None,
    );
    assert_eq!(unknown.status(), 404);
    let list = app.req("GET", &path, Some(&alice()), None).json();
    assert!(list[0]["revokedAt"].is_string());
    assert_eq!(list[1]["revokedAt"], Value::Null);

    // Every change is in the share's history.
    let history = app.req(
        "GET",
        &format!("/api/share/{id}/history"),
        Some(&alice()),
        None,
    );
    let types: Vec<_> = history
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(
        types,
        vec![
            json!("ShareCreated"),
            json!("ShareLinkAdded"),
            json!("ShareLinkAdded"),
            json!("ShareLinkRevoked")
        ]
    );
    assert_eq!(
        history.json()[1]["data"],
        json!({"link": bob_id, "label": "Bob", "maxVisits": 3})
    );

    // Deleting the share ends every link.
    app.req("DELETE", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(app.req("GET", &path, Some(&alice()), None).status(), 404);
}

fn bob_token() -> String {
    token_for("bob", "u-bob", false)
}

#[test]
fn a_bad_label_or_link_limit_is_400_naming_the_field() {
    let app = spawn_app(|_| {});
    let id = app.create_id(&alice(), json!({"songs": [alpha_song()]}));
    let path = format!("/api/share/{id}/links");
    for (body, field) in [
        (json!({}), "label"),
        (json!({"label": ""}), "label"),
        (json!({"label": "x".repeat(65)}), "label"),
        (json!({"label": 5}), "label"),
        (json!({"label": "Bob", "maxVisits": 0}), "maxVisits"),
    ] {
        let r = app.req("POST", &path, Some(&alice()), Some(&body));
        assert_eq!(r.status(), 400, "{body}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{body}");
    }
    assert_eq!(
        app.req("GET", &path, Some(&alice()), None).json(),
        json!([])
    );
}

#[test]
fn an_artist_share_snapshots_the_artists_albums() {
    let app = spawn_app(|_| {});
    let (artist, albums) = artist_id("Ann Artist");
    let share = app.create(&alice(), json!({"artists": [artist]}));
    let contents: Value = serde_json::from_str(share["contents"].as_str().unwrap()).unwrap();
    assert_eq!(contents["artists"][0]["id"], artist.as_str());
    assert_eq!(contents["artists"][0]["name"], "Ann Artist");
    assert_eq!(
        contents["artists"][0]["albumCount"].as_u64(),
        Some(albums.max(1))
    );
    let id = share["id"].as_str().unwrap().to_string();
    let history = app
        .req(
            "GET",
            &format!("/api/share/{id}/history"),
            Some(&alice()),
            None,
        )
        .json();
    assert_eq!(history[0]["typeVersion"], 2);
    let snapshot = &history[0]["data"]["items"]["artists"][0]["albums"];
    assert_eq!(snapshot[0]["name"], "Alpha", "{snapshot}");

    let navidrome = app.create(
        &alice(),
        json!({"resourceType": "artist", "resourceIds": artist}),
    );
    let contents: Value = serde_json::from_str(navidrome["contents"].as_str().unwrap()).unwrap();
    assert_eq!(contents["artists"][0]["name"], "Ann Artist");
    let unknown = app.req(
        "POST",
        "/api/share",
        Some(&alice()),
        Some(&json!({"artists": ["ar-nope"]})),
    );
    assert_eq!(
        (unknown.status(), unknown.code()),
        (422, "unknown-items".to_string())
    );
}

#[test]
fn the_settings_tell_each_caller_their_effective_policy() {
    let app = spawn_app(|_| {});
    let r = app.req("GET", "/api/share/settings", Some(&alice()), None);
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"canShare": true, "allowDownloads": true, "maxBitrate": 0, "defaultExpiresIn": 0,
               "maxExpiresIn": 0, "defaultDownloadable": false, "requirePassword": false})
    );
    assert_eq!(
        app.req("GET", "/api/share/settings", None, None).status(),
        401
    );
    let strict = spawn_app(|s| {
        s.sharing.allowed_users = vec!["bob".into()];
        s.sharing.default_expires_in = 3600;
        s.sharing.max_expires_in = 86_400;
        s.sharing.default_downloadable = true;
        s.sharing.require_password = true;
        s.sharing.max_bitrate = 192;
    });
    let alice_view = strict
        .req("GET", "/api/share/settings", Some(&alice()), None)
        .json();
    assert_eq!(
        alice_view,
        json!({"canShare": false, "allowDownloads": true, "maxBitrate": 192, "defaultExpiresIn": 3600,
               "maxExpiresIn": 86400, "defaultDownloadable": true, "requirePassword": true})
    );
    let bob_view = strict
        .req("GET", "/api/share/settings", Some(&bob_token()), None)
        .json();
    assert_eq!(bob_view["canShare"], true);
    assert_eq!(
        strict
            .req("GET", "/api/share/settings", Some(&admin()), None)
            .json()["canShare"],
        true
    );
}

#[test]
fn the_policy_rules_every_create_and_update() {
    let app = spawn_app(|_| {});
    // Alice shares before the policy names only bob.
    let before = app.create_id(&alice(), json!({"songs": [alpha_song()]}));
    let app = app.restart(|s| {
        s.sharing.allowed_users = vec!["bob".into()];
        s.sharing.max_expires_in = 86_400;
        s.sharing.default_downloadable = true;
        s.sharing.require_password = true;
    });
    let song = alpha_song();
    let refused = app.req(
        "POST",
        "/api/share",
        Some(&alice()),
        Some(&json!({"songs": [song], "password": "abcd"})),
    );
    assert_eq!(
        (refused.status(), refused.code()),
        (403, "sharing-not-allowed".to_string())
    );
    let list = app.req("GET", "/api/share", Some(&alice()), None);
    assert_eq!(
        list.header("X-Total-Count"),
        Some("1"),
        "existing shares stay listed"
    );
    let links = app.req(
        "POST",
        &format!("/api/share/{before}/links"),
        Some(&alice()),
        Some(&json!({"label": "x"})),
    );
    assert_eq!(links.code(), "sharing-not-allowed");
    assert_eq!(
        app.req(
            "DELETE",
            &format!("/api/share/{before}"),
            Some(&alice()),
            None
        )
        .status(),
        200
    );

    let bob = bob_token();
    let no_password = app.req(
        "POST",
        "/api/share",
        Some(&bob),
        Some(&json!({"songs": [song]})),
    );
    assert_eq!(
        (no_password.status(), no_password.code()),
        (400, "password-policy".to_string())
    );
    assert_eq!(no_password.json()["field"], "password");
    let too_far = app.req(
        "POST",
        "/api/share",
        Some(&bob),
        Some(&json!({"songs": [song], "password": "abcd", "expiresIn": 86_401})),
    );
    assert_eq!(
        (too_far.status(), too_far.code()),
        (400, "expiry-too-far".to_string())
    );
    let made = app.create(&bob, json!({"songs": [song], "password": "abcd"}));
    assert_eq!(made["downloadable"], true, "defaultDownloadable");
    let expires = time::OffsetDateTime::parse(
        made["expiresAt"]
            .as_str()
            .expect("the maximum when no default"),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let ahead = expires - time::OffsetDateTime::now_utc();
    assert!(
        ahead > time::Duration::hours(23) && ahead <= time::Duration::days(1),
        "{ahead}"
    );
    let id = made["id"].as_str().unwrap();
    let cleared = app.update(&bob, id, json!({"expiresIn": 0}));
    assert_eq!(cleared.code(), "expiry-too-far");
    let unlocked = app.update(&bob, id, json!({"password": null}));
    assert_eq!(unlocked.code(), "password-policy");
    let admin_share = app.create(
        &admin(),
        json!({"songs": [song], "password": "abcd", "downloadable": false}),
    );
    assert_eq!(
        admin_share["downloadable"], false,
        "a create that says wins over the default"
    );
}

#[test]
fn a_default_expiry_applies_to_a_create_that_names_none() {
    let app = spawn_app(|s| s.sharing.default_expires_in = 3600);
    let made = app.create(&alice(), json!({"songs": [alpha_song()]}));
    let expires = time::OffsetDateTime::parse(
        made["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let ahead = expires - time::OffsetDateTime::now_utc();
    assert!(
        ahead > time::Duration::minutes(59) && ahead <= time::Duration::hours(1),
        "{ahead}"
    );
    let longer = app.create(
        &alice(),
        json!({"songs": [alpha_song()], "expiresIn": 7200}),
    );
    assert!(longer["expiresAt"].is_string());
}

#[test]
fn the_audit_feed_and_its_filters_carry_the_new_events_live() {
    // A short heartbeat: the server notices the follower gone at its next one.
    let app = spawn_app(|s| s.audit.heartbeat_seconds = 1);
    let id = app.create_id(&alice(), json!({"songs": [alpha_song()], "maxVisits": 5}));
    let mut follower = support::follow_client::FollowClient::open(
        &format!("127.0.0.1:{}", app.port),
        &format!("/api/audit?follow=true&after=1&share={id}"),
        &admin(),
    );
    assert_eq!(follower.status, 200);
    let path = format!("/api/share/{id}/links");
    let link = app
        .req(
            "POST",
            &path,
            Some(&alice()),
            Some(&json!({"label": "Bob"})),
        )
        .json();
    let link_id = link["id"].as_str().unwrap().to_string();
    app.req("DELETE", &format!("{path}/{link_id}"), Some(&alice()), None);
    app.update(
        &alice(),
        &id,
        json!({"password": "abcd", "maxVisits": null}),
    );
    let lines = follower.lines_until(4, std::time::Duration::from_secs(10));
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["typeVersion"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("ShareLinkAdded".into(), 1),
            ("ShareLinkRevoked".into(), 1),
            ("ShareUpdated".into(), 2)
        ]
    );
    assert_eq!(events[1]["data"], json!({"link": link_id}));
    assert!(events[2]["data"]["password"]
        .as_str()
        .unwrap()
        .starts_with("$argon2id$"));
    assert_eq!(events[2]["data"]["maxVisits"], Value::Null);
    let filtered = app.req(
        "GET",
        "/api/audit?type=ShareLinkRevoked",
        Some(&admin()),
        None,
    );
    assert_eq!(filtered.status(), 200);
    assert_eq!(filtered.text().lines().count(), 1);
    let full = app.req("GET", "/api/audit", Some(&admin()), None).text();
    let from_feed: String = lines
        .iter()
        .map(|l| format!("{}\n", String::from_utf8_lossy(l)))
        .collect();
    assert!(
        full.ends_with(&from_feed),
        "the feed's bytes are the export's"
    );
}

#[test]
fn an_idempotency_key_ignores_the_password_and_still_tells_other_bodies_apart() {
    let app = spawn_app(|_| {});
    let create = |body: Value| {
        let bytes = serde_json::to_vec(&body).unwrap();
        let auth = format!("Bearer {}", alice());
        app.raw(
            "POST",
            "/api/share",
            &[
                ("X-ND-Authorization", &auth),
                ("Content-Type", "application/json"),
                ("Idempotency-Key", "k-1"),
            ],
            Some(&bytes),
        )
    };
    let song = alpha_song();
    let first = create(json!({"songs": [song], "password": "first one"}));
    assert_eq!(first.status(), 201, "{}", first.text());
    let again = create(json!({"songs": [song], "password": "second one"}));
    assert_eq!(again.status(), 201, "{}", again.text());
    assert_eq!(again.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(again.json()["id"], first.json()["id"]);
    let other = create(json!({"songs": [song], "password": "first one", "maxVisits": 2}));
    assert_eq!(other.code(), "idempotency-key-reused");
}
