//! `GET /api/share/search`: what an owner can share, found on the real music server
//! (supysonic's `search3` and playlists), and a share created from what it found.

use crate::support;
use serde_json::{json, Value};
use support::*;

fn names(found: &Value, kind: &str, field: &str) -> Vec<String> {
    found[kind]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind}: {found}"))
        .iter()
        .map(|v| v[field].as_str().unwrap().to_string())
        .collect()
}

fn search(app: &TestApp, token: &str, query: &str) -> Resp {
    app.req(
        "GET",
        &format!(
            "/api/share/search?query={}",
            upstream::percent_encode(query)
        ),
        Some(token),
        None,
    )
}

#[test]
fn albums_songs_and_artists_are_found_and_a_share_is_made_of_them() {
    // Given the test library (Alpha by Ann Artist, its songs Alpha One, Two, Three)
    let app = spawn_app(|_| {});
    let up = upstream::shared();

    // When alice searches for "alpha" and for "ann"
    let r = search(&app, &alice(), "alpha");
    assert_eq!(r.status(), 200, "{}", r.text());
    let found = r.json();

    // Then the album and its songs are found, with what a person needs to choose
    assert_eq!(names(&found, "albums", "name"), vec!["Alpha"]);
    assert_eq!(found["albums"][0]["id"], up.album("Alpha").id.as_str());
    assert_eq!(found["albums"][0]["artist"], "Ann Artist");
    assert_eq!(found["albums"][0]["songCount"], 3);
    let mut songs = names(&found, "songs", "title");
    songs.sort();
    assert_eq!(songs, vec!["Alpha One", "Alpha Three", "Alpha Two"]);
    assert_eq!(found["songs"][0]["album"], "Alpha");
    assert_eq!(found["playlists"], json!([]));
    let artists = search(&app, &alice(), "Ann").json();
    assert_eq!(names(&artists, "artists", "name"), vec!["Ann Artist"]);

    // And text beyond ASCII is found too
    let cafe = search(&app, &alice(), "Café").json();
    assert_eq!(names(&cafe, "albums", "name"), vec!["Café 東京"]);

    // And what was found makes a share
    let body = json!({
        "albums": [found["albums"][0]["id"]],
        "artists": [artists["artists"][0]["id"]],
    });
    let made = app.req("POST", "/api/share", Some(&alice()), Some(&body));
    assert_eq!(made.status(), 201, "{}", made.text());
}

#[test]
fn a_playlist_is_found_by_its_owner_only_while_it_is_private() {
    // Given "Road Trip", the music server's admin's private playlist
    let app = spawn_app(|_| {});
    let owner = token_for("admin", "u-admin", true);

    // When its owner searches, then it is found
    let found = search(&app, &owner, "road").json();
    assert_eq!(names(&found, "playlists", "name"), vec!["Road Trip"]);
    assert_eq!(
        found["playlists"][0]["id"],
        upstream::shared().playlist.id.as_str()
    );
    assert_eq!(found["playlists"][0]["songCount"], 3);

    // And alice does not see it
    let hers = search(&app, &alice(), "road").json();
    assert_eq!(hers["playlists"], json!([]));
}

#[test]
fn a_search_needs_a_login_and_a_query() {
    let app = spawn_app(|_| {});
    assert_eq!(
        app.req("GET", "/api/share/search?query=alpha", None, None)
            .status(),
        401
    );
    for q in [
        "",
        "?query=",
        "?query=%20",
        "?query=a&count=0",
        "?query=a&count=51",
    ] {
        let r = app.req(
            "GET",
            &format!("/api/share/search{q}"),
            Some(&alice()),
            None,
        );
        assert_eq!(r.status(), 400, "{q}: {}", r.text());
        assert_eq!(r.code(), "invalid-field");
    }
    let r = app.req(
        "GET",
        "/api/share/search?query=a&count=1",
        Some(&alice()),
        None,
    );
    assert_eq!(r.status(), 200);
    assert!(r.json()["songs"].as_array().unwrap().len() <= 1);
}

#[test]
fn the_music_server_down_is_a_503_naming_it() {
    let app = spawn_app(|s| s.upstream.url = format!("http://127.0.0.1:{}", free_port()));
    let r = search(&app, &alice(), "alpha");
    assert_eq!(r.status(), 503, "{}", r.text());
    assert_eq!(r.code(), "upstream-unavailable");
}
