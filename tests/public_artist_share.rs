//! An artist share (`artists` / `resourceType: "artist"`) plays the albums the artist had when
//! it was made, like a shared album: its raw JSON, M3U and page list their tracks, and its
//! streams and covers answer.
use crate::support;

use serde_json::{json, Value};
use support::*;

/// The id of an artist the test music server knows, by name.
fn artist_id(name: &str) -> String {
    let r = upstream::shared().api("getArtists", &[]);
    let artist = r["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().iter())
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no artist {name} in {r}"))
        .clone();
    match &artist["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn an_artist_share_lists_plays_and_shows_the_artists_albums() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = app.create_id(&alice(), json!({ "artists": [artist_id("Ann Artist")] }));
    let alpha = up.album("Alpha");

    let raw = app
        .raw("GET", &format!("/share/{id}?format=raw"), &[], None)
        .json();
    let titles: Vec<&str> = raw["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = alpha.songs.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, expected);
    let m3u = app
        .raw("GET", &format!("/share/{id}?format=m3u"), &[], None)
        .text();
    assert_eq!(m3u.matches("#EXTINF:").count(), alpha.songs.len(), "{m3u}");
    let page = app
        .raw("GET", &format!("/share/{id}?format=html"), &[], None)
        .text();
    assert!(page.contains("<h1 id=\"title\">Ann Artist</h1>"), "{page}");
    assert_eq!(
        page.matches("<li class=\"track\"").count(),
        alpha.songs.len()
    );

    let stream = raw["tracks"][0]["streamUrl"].as_str().unwrap();
    let stream = stream.strip_prefix(PUBLIC_URL).unwrap();
    let r = app.raw("GET", stream, &[("Range", "bytes=0-99")], None);
    assert_eq!(r.status(), 206);
    let cover = app.raw("GET", &format!("/share/{id}/cover"), &[], None);
    assert_eq!(cover.status(), 200);
    assert!(
        cover
            .header("Content-Type")
            .unwrap()
            .starts_with("image/jpeg"),
        "the album's art, not the stand-in"
    );
}
