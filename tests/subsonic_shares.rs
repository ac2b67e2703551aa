//! The Subsonic share endpoints over raw HTTP: formats, routes, error codes, ownership.

use crate::support;

use serde_json::{json, Value};
use support::{alice, bob, spawn_app, token_for, upstream, Resp, TestApp};

const ALICE: &str = "u=alice&p=alicepass";
const ADMIN: &str = "u=admin&p=adminpass";

fn rest(app: &TestApp, call: &str, query: &str) -> Resp {
    app.raw("GET", &format!("/rest/{call}?{query}"), &[], None)
}

/// A JSON call; asserts the Subsonic convention of HTTP 200 and returns `subsonic-response`.
fn json_call(app: &TestApp, call: &str, query: &str) -> Value {
    let r = rest(app, call, &format!("{query}&f=json"));
    assert_eq!(r.status(), 200, "{}", r.text());
    r.json()["subsonic-response"].clone()
}

fn error_code(r: &Value) -> u64 {
    assert_eq!(r["status"], "failed", "{r}");
    r["error"]["code"].as_u64().unwrap()
}

fn share_ids(r: &Value) -> Vec<String> {
    r["shares"]["share"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn album(name: &str) -> String {
    upstream::shared().album(name).id.clone()
}

#[test]
fn xml_is_the_default_and_escapes_what_it_carries() {
    let app = spawn_app(|_| {});
    let desc = "a<b & \"Café 東京\"";
    let q = format!("{ALICE}&id={}&description={}", album("Alpha"), enc(desc));
    let r = rest(&app, "createShare", &q);
    assert_eq!(r.status(), 200);
    assert!(r.header("content-type").unwrap().starts_with("text/xml"));
    let xml = r.text();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(r#"status="ok""#), "{xml}");
    assert!(
        xml.contains(r#"description="a&lt;b &amp; &quot;Café 東京&quot;""#),
        "{xml}"
    );
    assert!(xml.contains("<entry "), "{xml}");
}

#[test]
fn json_answers_carry_the_opensubsonic_share_shape() {
    let app = spawn_app(|_| {});
    let expires = (time::OffsetDateTime::now_utc().unix_timestamp() + 3600) * 1000;
    let q = format!(
        "{ALICE}&id={}&id={}&expires={expires}",
        album("Alpha"),
        album("Beta")
    );
    let r = json_call(&app, "createShare", &q);
    assert_eq!(r["status"], "ok");
    assert_eq!(r["openSubsonic"], true);
    let s = &r["shares"]["share"][0];
    for field in [
        "id",
        "url",
        "description",
        "username",
        "created",
        "expires",
        "visitCount",
    ] {
        assert!(!s[field].is_null(), "{field} missing: {s}");
    }
    assert_eq!(s["entry"].as_array().unwrap().len(), 2);
    assert_eq!(s["visitCount"], 0);
}

#[test]
fn the_view_suffix_and_post_forms_are_served() {
    let app = spawn_app(|_| {});
    app.create(&alice(), json!({"albums": [album("Alpha")]}));
    let body = format!("{ALICE}&f=json");
    let r = app.raw(
        "POST",
        "/rest/getShares.view",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(share_ids(&r.json()["subsonic-response"]).len(), 1);
}

#[test]
fn wrong_credentials_are_code_40_with_http_200() {
    let app = spawn_app(|_| {});
    assert_eq!(
        error_code(&json_call(&app, "getShares", "u=alice&p=nope")),
        40
    );
    assert_eq!(
        error_code(&json_call(&app, "getShares", "u=nobody&p=enc:6e6f")),
        40
    );
}

#[test]
fn missing_parameters_are_code_10() {
    let app = spawn_app(|_| {});
    assert_eq!(error_code(&json_call(&app, "getShares", "p=alicepass")), 10);
    assert_eq!(error_code(&json_call(&app, "getShares", "u=alice")), 10);
    assert_eq!(error_code(&json_call(&app, "createShare", ALICE)), 10);
    assert_eq!(error_code(&json_call(&app, "updateShare", ALICE)), 10);
}

#[test]
fn token_auth_the_music_server_cannot_check_is_code_41() {
    // supysonic knows no t+s; Navidrome does, and then it simply works.
    let app = spawn_app(|_| {});
    let r = json_call(
        &app,
        "getShares",
        "u=alice&t=26719a1196d2a940705a59634eb18eab&s=c19b2d",
    );
    assert_eq!(error_code(&r), 41);
}

#[test]
fn unknown_ids_are_code_70_and_nothing_is_stored() {
    let app = spawn_app(|_| {});
    let r = json_call(&app, "createShare", &format!("{ALICE}&id=no-such-thing"));
    assert_eq!(error_code(&r), 70);
    assert_eq!(
        error_code(&json_call(
            &app,
            "deleteShare",
            &format!("{ALICE}&id=nosuchshare")
        )),
        70
    );
    assert!(share_ids(&json_call(&app, "getShares", ALICE)).is_empty());
}

#[test]
fn more_ids_than_one_share_may_name_are_refused_before_any_is_looked_up() {
    let app = spawn_app(|_| {});
    // 501 ids that do not exist: were they looked up, the answer would be code 70.
    let ids: String = (0..501).map(|i| format!("&id=missing{i}")).collect();
    let r = json_call(&app, "createShare", &format!("{ALICE}{ids}"));
    assert_eq!(error_code(&r), 0, "{r}");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 500 items"), "{message}");
    assert!(share_ids(&json_call(&app, "getShares", ALICE)).is_empty());
}

#[test]
fn a_past_expiry_is_refused_by_the_domains_rule_before_any_lookup() {
    let app = spawn_app(|_| {});
    let past = (time::OffsetDateTime::now_utc().unix_timestamp() - 60) * 1000;
    // An id that does not exist: were it looked up, the answer would be code 70.
    let q = format!("{ALICE}&id=missing&expires={past}");
    let r = json_call(&app, "createShare", &q);
    assert_eq!(error_code(&r), 0, "{r}");
    assert_eq!(r["error"]["message"], "expiresAt: must be in the future");
    let long = "x".repeat(1025);
    let q = format!("{ALICE}&id=missing&description={long}");
    let r = json_call(&app, "createShare", &q);
    assert_eq!(error_code(&r), 0, "{r}");
    assert_eq!(
        r["error"]["message"],
        "description: at most 1024 characters"
    );
    assert!(share_ids(&json_call(&app, "getShares", ALICE)).is_empty());
}

#[test]
fn another_users_share_is_code_70_and_an_admin_sees_all() {
    let app = spawn_app(|_| {});
    let bobs = app.create(&bob(), json!({"albums": [album("Beta")]}));
    let id = bobs["id"].as_str().unwrap();
    assert!(share_ids(&json_call(&app, "getShares", ALICE)).is_empty());
    let q = format!("{ALICE}&id={id}&description=mine");
    assert_eq!(error_code(&json_call(&app, "updateShare", &q)), 70);
    // supysonic's admin has the admin role (getUser adminRole)
    assert_eq!(
        share_ids(&json_call(&app, "getShares", ADMIN)),
        vec![id.to_string()]
    );
    let r = json_call(
        &app,
        "updateShare",
        &format!("{ADMIN}&id={id}&description=tidied"),
    );
    assert_eq!(r["status"], "ok");
    let seen = app
        .req("GET", &format!("/api/share/{id}"), Some(&bob()), None)
        .json();
    assert_eq!(seen["description"], "tidied");
}

#[test]
fn shares_made_on_either_door_belong_to_the_same_user_by_username() {
    // Given alice known to the owner API (her token's uid is u-alice)
    let app = spawn_app(|_| {});
    let web = app.create(&alice(), json!({"albums": [album("Alpha")]}));
    // When she creates a share with a Subsonic client
    let r = json_call(
        &app,
        "createShare",
        &format!("{ALICE}&id={}", album("Beta")),
    );
    let rest_id = share_ids(&r)[0].clone();
    // Then each door shows both, and the Subsonic share carries her token's user id
    let listed = share_ids(&json_call(&app, "getShares", ALICE));
    assert!(listed.contains(&rest_id) && listed.contains(&web["id"].as_str().unwrap().to_string()));
    let owner = app.req(
        "GET",
        &format!("/api/share/{rest_id}"),
        Some(&alice()),
        None,
    );
    assert_eq!(owner.status(), 200);
    assert_eq!(owner.json()["userId"], "u-alice");
    // And she can delete the owner-API share through /rest
    let del = json_call(
        &app,
        "deleteShare",
        &format!("{ALICE}&id={}", web["id"].as_str().unwrap()),
    );
    assert_eq!(del["status"], "ok");
}

#[test]
fn a_user_never_seen_with_a_token_owns_shares_under_their_username() {
    // The documented fallback: the Subsonic login proves only a username.
    let app = spawn_app(|_| {});
    let r = json_call(
        &app,
        "createShare",
        &format!("{ALICE}&id={}", album("Alpha")),
    );
    let id = share_ids(&r)[0].clone();
    let as_username = token_for("alice", "alice", false);
    let owner = app.req("GET", &format!("/api/share/{id}"), Some(&as_username), None);
    assert_eq!(owner.json()["userId"], "alice");
}

#[test]
fn routes_are_absent_while_sharing_is_disabled() {
    let app = spawn_app(|s| s.sharing.enabled = false);
    assert_eq!(rest(&app, "getShares", ALICE).status(), 404);
}
