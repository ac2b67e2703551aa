//! The sharing policy and artist shares through the Subsonic endpoints: the same rules
//! as the owner API, as Subsonic errors (50 for a user who may not share).

use crate::support;

use serde_json::Value;
use support::{spawn_app, upstream, Resp, TestApp};

const ALICE: &str = "u=alice&p=alicepass";
const ADMIN: &str = "u=admin&p=adminpass";

fn call(app: &TestApp, call: &str, query: &str) -> Value {
    let r: Resp = app.raw("GET", &format!("/rest/{call}?{query}&f=json"), &[], None);
    assert_eq!(r.status(), 200, "{}", r.text());
    r.json()["subsonic-response"].clone()
}

fn album(name: &str) -> String {
    upstream::shared().album(name).id.clone()
}

#[test]
fn a_user_outside_allowed_users_gets_error_50_and_keeps_their_shares() {
    let app = spawn_app(|_| {});
    let kept = call(
        &app,
        "createShare",
        &format!("{ALICE}&id={}", album("Alpha")),
    );
    assert_eq!(kept["status"], "ok", "{kept}");
    let kept = kept["shares"]["share"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let app = app.restart(|s| s.sharing.allowed_users = vec!["carol".into()]);
    let refused = call(
        &app,
        "createShare",
        &format!("{ALICE}&id={}", album("Beta")),
    );
    assert_eq!(refused["status"], "failed");
    assert_eq!(refused["error"]["code"], 50, "{refused}");
    let listed = call(&app, "getShares", ALICE);
    assert_eq!(listed["shares"]["share"].as_array().map(Vec::len), Some(1));
    let deleted = call(&app, "deleteShare", &format!("{ALICE}&id={kept}"));
    assert_eq!(deleted["status"], "ok", "{deleted}");
    let by_admin = call(
        &app,
        "createShare",
        &format!("{ADMIN}&id={}", album("Beta")),
    );
    assert_eq!(by_admin["status"], "ok", "admins always may: {by_admin}");
}

#[test]
fn the_expiry_policy_applies_to_subsonic_creates_and_updates() {
    let app = spawn_app(|s| s.sharing.max_expires_in = 3600);
    let made = call(
        &app,
        "createShare",
        &format!("{ALICE}&id={}", album("Alpha")),
    );
    let share = &made["shares"]["share"][0];
    assert!(
        share["expires"].is_string(),
        "the maximum when none is named: {share}"
    );
    let id = share["id"].as_str().unwrap();
    let far = (time::OffsetDateTime::now_utc() + time::Duration::days(2)).unix_timestamp() * 1000;
    let refused = call(
        &app,
        "updateShare",
        &format!("{ALICE}&id={id}&expires={far}"),
    );
    assert_eq!(refused["status"], "failed");
    assert_eq!(refused["error"]["code"], 0);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3600 seconds"),
        "{refused}"
    );
    let never = call(&app, "updateShare", &format!("{ALICE}&id={id}&expires=0"));
    assert_eq!(
        never["status"], "failed",
        "no expiry is past the maximum too"
    );
    let far_create = call(
        &app,
        "createShare",
        &format!("{ALICE}&id={}&expires={far}", album("Beta")),
    );
    assert_eq!(far_create["error"]["code"], 0, "{far_create}");
}

#[test]
fn an_artist_id_is_shared_as_its_albums() {
    let app = spawn_app(|_| {});
    let r = upstream::shared().api("getArtists", &[]);
    let artist = r["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().iter())
        .find(|a| a["name"] == "Bob Band")
        .unwrap()["id"]
        .clone();
    let artist = artist.as_str().map_or(artist.to_string(), String::from);
    let made = call(&app, "createShare", &format!("{ALICE}&id={artist}"));
    assert_eq!(made["status"], "ok", "{made}");
    let entries = made["shares"]["share"][0]["entry"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["title"], "Beta");
    assert_eq!(entries[0]["isDir"], true);
}
