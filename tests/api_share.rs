//! The owner API over real HTTP, against a real supysonic upstream.
use crate::support;

use serde_json::json;
use support::*;

#[test]
fn an_album_share_is_created_listed_fetched_updated_and_deleted() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let album = up.album("Alpha");
    let share = app.create(&alice(), json!({"description": "for you", "albums": [album.id], "expiresIn": 3600, "maxBitRate": 128}));
    let id = share["id"].as_str().unwrap().to_string();
    assert!(id.len() >= 22 && id.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(share["url"], format!("{PUBLIC_URL}/share/{id}"));
    assert_eq!(share["username"], "alice");
    assert_eq!(share["userId"], "u-alice");
    assert_eq!(share["format"], "raw");
    assert_eq!(share["visitCount"], 0);
    assert_eq!(share["lastVisitedAt"], serde_json::Value::Null);
    let contents: serde_json::Value =
        serde_json::from_str(share["contents"].as_str().unwrap()).unwrap();
    assert_eq!(contents["albums"][0]["name"], "Alpha");
    assert_eq!(contents["albums"][0]["songCount"], 3);

    let list = app.req("GET", "/api/share", Some(&alice()), None);
    assert_eq!(list.status(), 200);
    assert_eq!(list.header("X-Total-Count"), Some("1"));
    assert_eq!(list.json()[0]["id"], id.as_str());

    let got = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(got.status(), 200);
    assert_eq!(got.header("ETag"), Some("\"1\""));

    let put = app.update(
        &alice(),
        &id,
        json!({"description": "changed", "expiresIn": 0}),
    );
    assert_eq!(put.status(), 200, "{}", put.text());
    let updated = put.json();
    assert_eq!(updated["description"], "changed");
    assert_eq!(updated["expiresAt"], serde_json::Value::Null);
    assert_eq!(
        updated["maxBitRate"], 128,
        "fields not sent stay as they were"
    );
    assert_eq!(put.header("ETag"), Some("\"2\""));

    let del = app.req("DELETE", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(del.status(), 200);
    assert_eq!(del.json(), json!({"id": id}));
    assert_eq!(
        app.req("DELETE", &format!("/api/share/{id}"), Some(&alice()), None)
            .status(),
        404
    );
    assert_eq!(
        app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
            .status(),
        404
    );
}

fn alpha_song() -> String {
    upstream::shared().album("Alpha").songs[0].id.clone()
}

#[test]
fn requests_without_a_valid_token_are_unauthorized() {
    let app = spawn_app(|_| {});
    let expired = {
        use jwt_simple::prelude::*;
        let key = HS256Key::from_bytes(SECRET.as_bytes());
        let claims = Claims::create(Duration::from_hours(1)).with_subject("alice");
        let claims = JWTClaims {
            expires_at: Some(UnixTimeStamp::from_secs(1_000_000)),
            ..claims
        };
        key.authenticate(claims).unwrap()
    };
    let other_key = {
        let actor = sharelog::domain::Actor {
            user_id: sharelog::domain::UserId("u-alice".into()),
            username: "alice".into(),
            is_admin: true,
        };
        sharelog::auth::issue(
            "another-secret-of-enough-length",
            &actor,
            jwt_simple::prelude::Duration::from_hours(1),
        )
        .unwrap()
    };
    let alg_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsInVpZCI6InUtYWxpY2UiLCJhZG0iOnRydWUsImV4cCI6OTk5OTk5OTk5OX0.";
    for token in [
        None,
        Some("garbage"),
        Some(expired.as_str()),
        Some(other_key.as_str()),
        Some(alg_none),
    ] {
        let r = app.req("GET", "/api/share", token, None);
        assert_eq!(r.status(), 401, "token {token:?}");
        assert_eq!(r.code(), "unauthorized");
    }
    let r = app.raw(
        "GET",
        "/api/share",
        &[("Authorization", &format!("Bearer {}", alice()))],
        None,
    );
    assert_eq!(r.status(), 200, "Authorization: Bearer is accepted too");
}

#[test]
fn with_no_way_to_verify_tokens_every_owner_request_is_refused() {
    let app = spawn_app(|s| s.auth.jwt_secret.clear());
    let r = app.req("GET", "/api/share", Some(&alice()), None);
    assert_eq!((r.status(), r.code().as_str()), (401, "unauthorized"));
}

#[test]
fn users_see_only_their_own_shares_and_admins_see_all() {
    let app = spawn_app(|_| {});
    let mine = app.create(&alice(), json!({"songs": [alpha_song()]}));
    let theirs = app.create(&bob(), json!({"songs": [alpha_song()]}));
    let id = mine["id"].as_str().unwrap();
    let ids = |token: &str| -> Vec<String> {
        app.req("GET", "/api/share", Some(token), None)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&alice()), vec![id.to_string()]);
    assert_eq!(
        ids(&bob()),
        vec![theirs["id"].as_str().unwrap().to_string()]
    );
    assert_eq!(ids(&admin()).len(), 2);
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(json!({"description": "mine now"}))),
        ("DELETE", None),
    ] {
        let r = app.req(
            method,
            &format!("/api/share/{id}"),
            Some(&bob()),
            body.as_ref(),
        );
        assert_eq!(
            (r.status(), r.code().as_str()),
            (404, "not-found"),
            "{method} by another user"
        );
    }
    let r = app.update(&admin(), id, json!({"description": "by admin"}));
    assert_eq!(r.status(), 200);
    assert_eq!(r.json()["username"], "alice", "the owner stays the owner");
    assert_eq!(
        app.req("DELETE", &format!("/api/share/{id}"), Some(&admin()), None)
            .status(),
        200
    );
    assert_eq!(
        app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
            .status(),
        404
    );
}

#[test]
fn bad_input_gets_a_400_that_names_the_field() {
    let app = spawn_app(|_| {});
    let song = alpha_song();
    let cases = [
        (json!({"songs": [song], "format": "flac"}), "format"),
        (json!({"songs": [song], "expiresIn": -5}), "expiresIn"),
        (json!({"songs": [song], "maxBitRate": -1}), "maxBitRate"),
        (json!({"songs": [song], "maxBitRate": "high"}), "maxBitRate"),
        (
            json!({"songs": [song], "downloadable": "yes"}),
            "downloadable",
        ),
        (json!({"songs": "not-a-list"}), "songs"),
        (
            json!({"songs": [], "albums": [], "playlists": []}),
            "albums",
        ),
        (
            json!({"songs": [song], "description": "x".repeat(2000)}),
            "description",
        ),
        (
            json!({"songs": [song], "expiresAt": "tomorrow"}),
            "expiresAt",
        ),
        (
            json!({"songs": [song], "expiresAt": "9999-12-31T23:59:59-23:59"}),
            "expiresAt",
        ),
        (
            json!({"songs": [song], "description": "nul\u{0}here"}),
            "description",
        ),
        (
            json!({"resourceIds": song, "resourceType": "genre"}),
            "resourceType",
        ),
    ];
    for (body, field) in cases {
        let r = app.req("POST", "/api/share", Some(&alice()), Some(&body));
        assert_eq!(r.status(), 400, "{body}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{body}");
        assert!(r.json()["error"].as_str().unwrap().contains(field));
    }
    let r = app.raw(
        "POST",
        "/api/share",
        &[("X-ND-Authorization", &format!("Bearer {}", alice()))],
        Some(b"{\"songs\": [\"a\""),
    );
    assert_eq!((r.status(), r.code().as_str()), (400, "malformed-json"));
    let r = app.raw(
        "POST",
        "/api/share",
        &[("X-ND-Authorization", &format!("Bearer {}", alice()))],
        Some(b"[1,2]"),
    );
    assert_eq!(r.status(), 400);
    let big = vec![b' '; 70 * 1024];
    let r = app.raw(
        "POST",
        "/api/share",
        &[("X-ND-Authorization", &format!("Bearer {}", alice()))],
        Some(&big),
    );
    assert_eq!((r.status(), r.code().as_str()), (413, "payload-too-large"));
    let id = app.create_id(&alice(), json!({"songs": [alpha_song()]}));
    let r = app.update(&alice(), &id, json!({"maxBitRate": 1.5}));
    assert_eq!(
        (r.status(), r.json()["field"].as_str()),
        (400, Some("maxBitRate"))
    );
    let r = app.req("GET", "/api/share?_sort=password", Some(&alice()), None);
    assert_eq!(
        (r.status(), r.json()["field"].as_str()),
        (400, Some("_sort"))
    );
    assert_eq!(
        app.req("GET", "/api/share", Some(&alice()), None)
            .json()
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing was stored by the bad requests"
    );
}

#[test]
fn a_description_of_1024_cjk_characters_is_kept_whole() {
    let app = spawn_app(|_| {});
    let d = "東".repeat(1024);
    let share = app.create(&alice(), json!({"songs": [alpha_song()], "description": d}));
    assert_eq!(share["description"], d);
}

#[test]
fn a_downloadable_share_is_refused_while_the_server_forbids_downloads() {
    let app = spawn_app(|s| s.sharing.allow_downloads = false);
    let r = app.req(
        "POST",
        "/api/share",
        Some(&alice()),
        Some(&json!({"songs": [alpha_song()], "downloadable": true})),
    );
    assert_eq!((r.status(), r.code().as_str()), (400, "downloads-disabled"));
    assert_eq!(r.json()["field"], "downloadable");
}

#[test]
fn unknown_ids_are_422_listing_every_one_and_nothing_is_stored() {
    let app = spawn_app(|_| {});
    let missing_album = "00000000-0000-4000-8000-000000000001";
    let r = app.req(
        "POST",
        "/api/share",
        Some(&alice()),
        Some(&json!({"songs": [alpha_song(), "not-a-uuid"], "albums": [missing_album]})),
    );
    assert_eq!(
        (r.status(), r.code().as_str()),
        (422, "unknown-items"),
        "{}",
        r.text()
    );
    let mut items: Vec<String> = serde_json::from_value(r.json()["items"].clone()).unwrap();
    items.sort();
    assert_eq!(
        items,
        vec![missing_album.to_string(), "not-a-uuid".to_string()]
    );
    assert_eq!(
        app.req("GET", "/api/share", Some(&alice()), None)
            .header("X-Total-Count"),
        Some("0")
    );
}

#[test]
fn a_create_naming_500_unknown_ids_lists_them_all_while_public_streams_keep_playing() {
    // Given a share of Alpha, and a create naming 500 albums the music server does not have
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let shared = app.create_id(&alice(), json!({"albums": [up.album("Alpha").id]}));
    let song = &up.album("Alpha").songs[0].id;
    let missing: Vec<String> = (0..500)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();

    std::thread::scope(|scope| {
        let create = scope.spawn(|| {
            app.req(
                "POST",
                "/api/share",
                Some(&alice()),
                Some(&json!({"albums": missing})),
            )
        });
        // While it is looked up (a few ids at a time), the public stream still plays
        let mut streams = 0;
        while !create.is_finished() {
            let r = app.raw("GET", &format!("/share/{shared}/stream/{song}"), &[], None);
            assert_eq!(r.status(), 200, "stream during the lookups: {}", r.text());
            streams += 1;
            // A listener's pace, not a flood of the music server every test shares.
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // Then the create is a 422 naming every one of them, not a music server "unreachable"
        let r = create.join().unwrap();
        assert_eq!(
            (r.status(), r.code().as_str()),
            (422, "unknown-items"),
            "{}",
            r.text()
        );
        let mut items: Vec<String> = serde_json::from_value(r.json()["items"].clone()).unwrap();
        items.sort();
        assert_eq!(items, missing);
        assert!(streams > 0);
    });
}

#[test]
fn an_unreachable_music_server_fails_creates_only() {
    let app = spawn_app(|_| {});
    let id = app.create_id(&alice(), json!({"songs": [alpha_song()]}));
    // The same data dir, now pointing at a port where nothing listens.
    let app = app.restart(|s| s.upstream.url = "http://127.0.0.1:9".into());
    let r = app.req(
        "POST",
        "/api/share",
        Some(&alice()),
        Some(&json!({"songs": [alpha_song()]})),
    );
    assert_eq!(
        (r.status(), r.code().as_str()),
        (503, "upstream-unavailable")
    );
    assert_eq!(
        app.req("GET", "/api/share", Some(&alice()), None).status(),
        200
    );
    assert_eq!(
        app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
            .status(),
        200
    );
    assert_eq!(
        app.update(&alice(), &id, json!({"maxBitRate": 96}))
            .status(),
        200
    );
    assert_eq!(
        app.req("DELETE", &format!("/api/share/{id}"), Some(&alice()), None)
            .status(),
        200
    );
}

#[test]
fn if_match_guards_updates_and_deletes() {
    let app = spawn_app(|_| {});
    let id = app.create_id(&alice(), json!({"songs": [alpha_song()]}));
    let put = |etag: &str, body: serde_json::Value| {
        let body = serde_json::to_vec(&body).unwrap();
        app.raw(
            "PUT",
            &format!("/api/share/{id}"),
            &[
                ("X-ND-Authorization", &format!("Bearer {}", alice())),
                ("If-Match", etag),
            ],
            Some(&body),
        )
    };
    let ok = put("\"1\"", json!({"description": "v2"}));
    assert_eq!((ok.status(), ok.header("ETag")), (200, Some("\"2\"")));
    let stale = put("\"1\"", json!({"description": "lost update"}));
    assert_eq!(
        (stale.status(), stale.code().as_str()),
        (409, "version-conflict")
    );
    assert_eq!(put("not-a-version", json!({})).status(), 400);
    let del = app.raw(
        "DELETE",
        &format!("/api/share/{id}"),
        &[
            ("X-ND-Authorization", &format!("Bearer {}", alice())),
            ("If-Match", "\"1\""),
        ],
        None,
    );
    assert_eq!(del.status(), 409);
    let got = app
        .req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
        .json();
    assert_eq!(got["description"], "v2");
}

#[test]
fn twelve_concurrent_puts_with_one_if_match_have_exactly_one_winner() {
    let app = spawn_app(|_| {});
    let id = app.create_id(&alice(), json!({"songs": [alpha_song()]}));
    let barrier = std::sync::Barrier::new(12);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|i| {
                let (app, id, barrier) = (&app, &id, &barrier);
                scope.spawn(move || {
                    let body =
                        serde_json::to_vec(&json!({"description": format!("writer {i}")})).unwrap();
                    barrier.wait();
                    app.raw(
                        "PUT",
                        &format!("/api/share/{id}"),
                        &[
                            ("X-ND-Authorization", &format!("Bearer {}", alice())),
                            ("If-Match", "\"1\""),
                        ],
                        Some(&body),
                    )
                    .status()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        11,
        "{statuses:?}"
    );
    let got = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(got.header("ETag"), Some("\"2\""));
}

/// A create by alice of `body` with this `Idempotency-Key`.
fn create_with_key(app: &TestApp, key: &str, body: &[u8]) -> Resp {
    let auth = format!("Bearer {}", alice());
    app.raw(
        "POST",
        "/api/share",
        &[("X-ND-Authorization", &auth), ("Idempotency-Key", key)],
        Some(body),
    )
}

#[test]
fn an_idempotency_key_repeat_returns_the_first_share_and_stores_nothing() {
    let app = spawn_app(|_| {});
    let body =
        serde_json::to_vec(&json!({"songs": [alpha_song()], "description": "once"})).unwrap();
    let send = |key: &str, body: &[u8]| create_with_key(&app, key, body);
    let first = send("k-1", &body);
    let again = send("k-1", &body);
    assert_eq!((first.status(), again.status()), (201, 201));
    assert_eq!(first.json()["id"], again.json()["id"]);
    assert_eq!(again.header("Idempotent-Replayed"), Some("true"));
    let other =
        serde_json::to_vec(&json!({"songs": [alpha_song()], "description": "twice"})).unwrap();
    let reused = send("k-1", &other);
    assert_eq!(
        (reused.status(), reused.code().as_str()),
        (422, "idempotency-key-reused")
    );
    assert_eq!(
        app.req("GET", "/api/share", Some(&alice()), None)
            .header("X-Total-Count"),
        Some("1")
    );
}

/// Clients that time out retry at once, several times over: every repeat of a key whose
/// create is still on its way to the disk waits for it and gets its share, never a 503
/// (it once read the key before the share was durable and called the log damaged).
#[test]
fn concurrent_repeats_of_one_idempotency_key_all_get_the_first_share() {
    let app = spawn_app(|_| {});
    for round in 0..8 {
        let body =
            serde_json::to_vec(&json!({"songs": [alpha_song()], "description": "race"})).unwrap();
        let key = format!("k-race-{round}");
        let answers: Vec<Resp> = std::thread::scope(|scope| {
            let sends: Vec<_> = (0..12)
                .map(|_| scope.spawn(|| create_with_key(&app, &key, &body)))
                .collect();
            sends.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let statuses: Vec<u16> = answers.iter().map(Resp::status).collect();
        assert!(
            statuses.iter().all(|s| *s == 201),
            "round {round}: {statuses:?}: {:?}",
            answers.iter().map(Resp::code).collect::<Vec<_>>()
        );
        let ids: std::collections::HashSet<String> = answers
            .iter()
            .map(|a| a.json()["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 1, "round {round}: {ids:?}");
        let fresh = answers
            .iter()
            .filter(|a| a.header("Idempotent-Replayed").is_none())
            .count();
        assert_eq!(fresh, 1, "round {round}: one create, the rest replays");
    }
    assert_eq!(
        app.req("GET", "/api/share", Some(&alice()), None)
            .header("X-Total-Count"),
        Some("8")
    );
}

/// A retry is what the key is for: when the music server went down after the first
/// create, the repeat still gets the first share, without asking the music server.
#[test]
fn an_idempotency_key_repeat_is_answered_while_the_music_server_is_down() {
    let app = spawn_app(|_| {});
    let body =
        serde_json::to_vec(&json!({"songs": [alpha_song()], "description": "retry"})).unwrap();
    let send = |app: &TestApp, key: &str| create_with_key(app, key, &body);
    let first = send(&app, "k-retry");
    assert_eq!(first.status(), 201, "{}", first.text());

    // The same data directory, with a music server that refuses every connection
    let down = format!("http://127.0.0.1:{}", free_port());
    let app = app.restart(|s| s.upstream.url = down.clone());
    let fresh = send(&app, "k-new");
    assert_eq!(
        (fresh.status(), fresh.code().as_str()),
        (503, "upstream-unavailable"),
        "{}",
        fresh.text()
    );

    let again = send(&app, "k-retry");
    assert_eq!(again.status(), 201, "{}", again.text());
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.header("Idempotent-Replayed"), Some("true"));
}

#[test]
fn the_navidrome_ui_body_creates_a_playlist_share_with_a_snapshot() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let r = app.req("POST", "/api/share", Some(&alice()), Some(&json!({"resourceType": "playlist", "resourceIds": up.playlist.id, "expiresAt": "2099-01-01T00:00:00Z", "downloadable": true})));
    assert_eq!(r.status(), 201, "{}", r.text());
    let share = r.json();
    assert_eq!(
        r.header("Location"),
        Some(format!("/api/share/{}", share["id"].as_str().unwrap()).as_str())
    );
    assert_eq!(share["expiresAt"], "2099-01-01T00:00:00Z");
    let contents: serde_json::Value =
        serde_json::from_str(share["contents"].as_str().unwrap()).unwrap();
    assert_eq!(contents["playlists"][0]["name"], "Road Trip");
    assert_eq!(contents["playlists"][0]["songCount"], 3);
}

#[test]
fn lists_follow_react_admin_paging_and_sorting() {
    let app = spawn_app(|_| {});
    for d in ["b", "c", "a"] {
        app.create(&alice(), json!({"songs": [alpha_song()], "description": d}));
    }
    let descs = |q: &str| -> Vec<String> {
        let r = app.req("GET", &format!("/api/share{q}"), Some(&alice()), None);
        assert_eq!(r.header("X-Total-Count"), Some("3"));
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["description"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(descs(""), vec!["a", "c", "b"], "newest first");
    assert_eq!(descs("?_sort=description&_order=ASC"), vec!["a", "b", "c"]);
    assert_eq!(
        descs("?_sort=description&_order=DESC&_start=1&_end=2"),
        vec!["b"]
    );
}

#[test]
fn shares_survive_a_restart() {
    let app = spawn_app(|_| {});
    let id = app.create_id(
        &alice(),
        json!({"songs": [alpha_song()], "description": "kept"}),
    );
    app.update(&alice(), &id, json!({"maxBitRate": 64}));
    let app = app.restart(|_| {});
    let r = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(r.status(), 200);
    assert_eq!(
        (
            r.json()["description"].as_str(),
            r.json()["maxBitRate"].as_u64()
        ),
        (Some("kept"), Some(64))
    );
    assert_eq!(r.header("ETag"), Some("\"2\""));
}

#[test]
fn with_sharing_disabled_the_owner_api_is_not_found() {
    let app = spawn_app(|s| s.sharing.enabled = false);
    for (m, p) in [
        ("GET", "/api/share"),
        ("POST", "/api/share"),
        ("GET", "/api/share/abc"),
    ] {
        let r = app.req(m, p, Some(&alice()), Some(&json!({})));
        assert_eq!(
            (r.status(), r.code().as_str()),
            (404, "not-found"),
            "{m} {p}"
        );
    }
}

#[test]
fn an_expiry_sent_with_an_offset_is_answered_and_shown_in_utc() {
    // Given a share whose expiry a client wrote in UTC+14
    let app = spawn_app(|_| {});
    let body = json!({"songs": [alpha_song()], "expiresAt": "2031-06-01T12:00:00+14:00"});
    let r = app.req("POST", "/api/share", Some(&alice()), Some(&body));
    assert_eq!(r.status(), 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();

    // Then the owner API, the public JSON and the page show that instant in UTC
    assert_eq!(r.json()["expiresAt"], "2031-05-31T22:00:00Z");
    let got = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(got.json()["expiresAt"], "2031-05-31T22:00:00Z");
    let public = app.raw("GET", &format!("/share/{id}"), &[], None);
    let public: serde_json::Value = serde_json::from_str(&public.text()).unwrap();
    assert_eq!(public["expiresAt"], "2031-05-31T22:00:00Z");
    let page = app
        .raw("GET", &format!("/share/{id}?format=html"), &[], None)
        .text();
    assert!(
        page.contains("<time datetime=\"2031-05-31T22:00:00Z\">2031-05-31 22:00 UTC</time>"),
        "{page}"
    );

    // And so does an update written in UTC-05:30
    let r = app.update(
        &alice(),
        &id,
        json!({"expiresAt": "2031-06-01T00:00:00-05:30"}),
    );
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(r.json()["expiresAt"], "2031-06-01T05:30:00Z");
}
