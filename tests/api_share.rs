//! The owner API over real HTTP, against a real supysonic upstream.
mod support;

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

    let put = app.req(
        "PUT",
        &format!("/api/share/{id}"),
        Some(&alice()),
        Some(&json!({"description": "changed", "expiresIn": 0})),
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
