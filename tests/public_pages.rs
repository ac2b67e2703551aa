//! Public share pages (`GET /share/{id}`): raw JSON, M3U and the zip, over real HTTP against a
//! real supysonic upstream.
use crate::support;

use serde_json::{json, Value};
use std::collections::HashMap;
use support::*;

fn share_id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn ids(page: &Value) -> Vec<String> {
    page["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

fn song_ids(songs: &[upstream::Song]) -> Vec<String> {
    songs.iter().map(|s| s.id.clone()).collect()
}

#[test]
fn the_raw_page_of_an_album_share_lists_its_tracks_with_absolute_urls() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let album = up.album("Alpha");
    let id = share_id(&app.create(
        &alice(),
        json!({"description": "for you", "albums": [album.id], "maxBitRate": 96, "downloadable": true}),
    ));

    let r = app.raw("GET", &format!("/share/{id}"), &[], None);

    assert_eq!(r.status(), 200, "{}", r.text());
    assert!(r
        .header("Content-Type")
        .unwrap()
        .starts_with("application/json"));
    let page = r.json();
    assert_eq!(page["id"], id.as_str());
    assert_eq!(page["description"], "for you");
    assert_eq!(page["username"], "alice");
    assert_eq!(page["format"], "raw");
    assert_eq!(page["maxBitRate"], 96);
    assert_eq!(page["downloadable"], true);
    assert_eq!(page["expiresAt"], Value::Null);
    assert!(page["createdAt"].is_string());
    assert_eq!(ids(&page), song_ids(&album.songs));
    let first = &page["tracks"][0];
    let song = &album.songs[0];
    assert_eq!(first["title"], song.title.as_str());
    assert_eq!(first["artist"], song.artist.as_str());
    assert_eq!(first["album"], "Alpha");
    assert_eq!(first["track"], song.track);
    assert_eq!(first["duration"], song.duration);
    assert_eq!(first["contentType"], song.content_type.as_str());
    assert_eq!(first["suffix"], song.suffix.as_str());
    assert_eq!(
        first["streamUrl"],
        format!("{PUBLIC_URL}/share/{id}/stream/{}", song.id)
    );
    assert_eq!(
        first["downloadUrl"],
        format!("{PUBLIC_URL}/share/{id}/download/{}", song.id)
    );
    assert!(
        !r.text().contains(&up.admin.password) && !r.text().contains("/rest/"),
        "no upstream URL or credential reaches a visitor"
    );
}

#[test]
fn a_page_served_many_times_shows_an_update_at_once_in_both_formats() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let album = up.album("Alpha");
    let id = share_id(&app.create(
        &alice(),
        json!({"description": "before", "albums": [album.id]}),
    ));
    let page = format!("/share/{id}");
    let m3u = format!("/share/{id}?format=m3u");
    for _ in 0..3 {
        assert_eq!(
            app.raw("GET", &page, &[], None).json()["description"],
            "before"
        );
        assert!(app
            .raw("GET", &m3u, &[], None)
            .text()
            .contains("#PLAYLIST:before\n"));
    }

    let r = app.update(
        &alice(),
        &id,
        json!({"description": "after", "downloadable": true}),
    );
    assert_eq!(r.status(), 200, "{}", r.text());

    let after = app.raw("GET", &page, &[], None).json();
    assert_eq!(after["description"], "after");
    assert_eq!(after["downloadable"], true);
    assert!(after["tracks"][0]["downloadUrl"].is_string());
    assert!(app
        .raw("GET", &m3u, &[], None)
        .text()
        .contains("#PLAYLIST:after\n"));
    let counted = app
        .req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
        .json();
    assert_eq!(counted["visitCount"], 8);
}

#[test]
fn a_share_that_is_not_downloadable_has_no_download_urls() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_id(&app.create(&alice(), json!({"albums": [up.album("Alpha").id]})));
    let page = app.raw("GET", &format!("/share/{id}"), &[], None).json();
    assert_eq!(page["downloadable"], false);
    assert!(page["tracks"][0].get("downloadUrl").is_none());
}

#[test]
fn the_m3u_page_of_an_album_share_has_one_entry_per_track() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let album = up.album("Alpha");
    let id = share_id(&app.create(
        &alice(),
        json!({"description": "road songs", "albums": [album.id], "format": "m3u"}),
    ));

    let r = app.raw("GET", &format!("/share/{id}"), &[], None);

    assert_eq!(r.status(), 200);
    assert!(r
        .header("Content-Type")
        .unwrap()
        .starts_with("audio/x-mpegurl"));
    let mut expected = String::from("#EXTM3U\n#PLAYLIST:road songs\n");
    for s in &album.songs {
        expected.push_str(&format!(
            "#EXTINF:{},{} - {}\n{PUBLIC_URL}/share/{id}/stream/{}\n",
            s.duration, s.artist, s.title, s.id
        ));
    }
    assert_eq!(r.text(), expected);
}

#[test]
fn the_format_can_be_overridden_and_other_values_are_refused() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_id(&app.create(&alice(), json!({"albums": [up.album("Alpha").id]})));

    let m3u = app.raw("GET", &format!("/share/{id}?format=m3u"), &[], None);
    assert_eq!(m3u.status(), 200);
    assert!(m3u
        .text()
        .starts_with(&format!("#EXTM3U\n#PLAYLIST:{id}\n")));
    let bad = app.raw("GET", &format!("/share/{id}?format=xspf"), &[], None);
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json()["field"], "format");
}

#[test]
fn a_song_share_shows_that_song_in_raw_and_m3u() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let song = up.song(&up.album("Café 東京").songs[0].title);
    let id = share_id(&app.create(&alice(), json!({"songs": [song.id]})));

    let page = app.raw("GET", &format!("/share/{id}"), &[], None).json();
    assert_eq!(ids(&page), vec![song.id.clone()]);
    assert_eq!(page["tracks"][0]["artist"], song.artist.as_str());
    let m3u = app
        .raw("GET", &format!("/share/{id}?format=m3u"), &[], None)
        .text();
    assert!(m3u.contains(&format!(
        "#EXTINF:{},{} - {}\n{PUBLIC_URL}/share/{id}/stream/{}\n",
        song.duration, song.artist, song.title, song.id
    )));
}

#[test]
fn a_playlist_share_lists_the_playlist_in_order() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let id = share_id(&app.create(
        &alice(),
        json!({"playlists": [up.playlist.id], "format": "m3u"}),
    ));

    let page = app
        .raw("GET", &format!("/share/{id}?format=raw"), &[], None)
        .json();
    assert_eq!(ids(&page), song_ids(&up.playlist.songs));
    let m3u = app.raw("GET", &format!("/share/{id}"), &[], None).text();
    assert_eq!(m3u.matches("#EXTINF:").count(), up.playlist.songs.len());
}

#[test]
fn a_mixed_share_lists_albums_then_songs_then_playlists_each_track_once() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let beta = up.album("Beta");
    let cafe = &up.album("Café 東京").songs[0];
    let id = share_id(&app.create(
        &alice(),
        json!({"albums": [beta.id], "songs": [cafe.id], "playlists": [up.playlist.id]}),
    ));

    let page = app.raw("GET", &format!("/share/{id}"), &[], None).json();

    let mut expected = song_ids(&beta.songs);
    expected.push(cafe.id.clone());
    for s in &up.playlist.songs {
        if !expected.contains(&s.id) {
            expected.push(s.id.clone());
        }
    }
    assert_eq!(ids(&page), expected);
    let m3u = app
        .raw("GET", &format!("/share/{id}?format=m3u"), &[], None)
        .text();
    assert_eq!(m3u.matches("#EXTINF:").count(), expected.len());
}

#[test]
fn the_zip_opens_and_holds_every_track_with_its_original_bytes() {
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let alpha = up.album("Alpha");
    let beta = up.album("Beta");
    let id = share_id(&app.create(
        &alice(),
        json!({"description": "all of it", "albums": [alpha.id, beta.id], "downloadable": true}),
    ));

    let r = app.raw("GET", &format!("/share/{id}?download=true"), &[], None);

    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(r.header("Content-Type"), Some("application/zip"));
    assert!(r
        .header("Content-Disposition")
        .unwrap()
        .starts_with("attachment; filename=\"all of it.zip\""));
    let entries = unzip(&r.0.body);
    let songs: Vec<_> = alpha.songs.iter().chain(&beta.songs).collect();
    assert_eq!(entries.len(), songs.len(), "{:?}", entries.keys());
    // Each file is numbered by its place in the share, so the names sort in playing order
    for (i, s) in songs.iter().enumerate() {
        let name = format!("{:02} - {} - {}.{}", i + 1, s.artist, s.title, s.suffix);
        let bytes = entries
            .get(&name)
            .unwrap_or_else(|| panic!("no entry {name} in {:?}", entries.keys()));
        assert_eq!(bytes, &std::fs::read(&s.path).unwrap(), "{name}");
    }
    let share = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(share.json()["visitCount"], 1, "the zip is a visit");

    // And HEAD answers the same headers, with no length it cannot know (and is no visit)
    let head = app.raw("HEAD", &format!("/share/{id}?download=true"), &[], None);
    assert_eq!(head.status(), 200);
    for name in ["Content-Type", "Content-Disposition", "Cache-Control"] {
        assert_eq!(head.header(name), r.header(name), "{name}");
    }
    assert_eq!(head.header("Content-Length"), None);
    let share = app.req("GET", &format!("/api/share/{id}"), Some(&alice()), None);
    assert_eq!(share.json()["visitCount"], 1, "HEAD is not a visit");
}

/// Opens the zip with Python's `zipfile` (which checks every CRC): name -> bytes.
fn unzip(zip: &[u8]) -> HashMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("share.zip");
    std::fs::write(&path, zip).unwrap();
    let script = "import sys, zipfile, json\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        assert z.testzip() is None\n\
        print(json.dumps({i.filename: z.read(i).hex() for i in z.infolist()}))";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zipfile: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let map: HashMap<String, String> = serde_json::from_slice(&out.stdout).unwrap();
    map.into_iter()
        .map(|(k, v)| {
            let bytes = (0..v.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&v[i..i + 2], 16).unwrap())
                .collect();
            (k, bytes)
        })
        .collect()
}

#[test]
fn a_playlist_edited_upstream_after_sharing_still_serves_the_snapshot() {
    let up = upstream::start();
    let tmp = tempfile::tempdir().unwrap();
    let app = spawn_with(settings_for(&up, tmp.path()));
    let id = share_id(&app.create(&alice(), json!({"playlists": [up.playlist.id]})));
    let extra = &up.album("Café 東京").songs[0];
    let edit = up.api(
        "updatePlaylist",
        &[("playlistId", &up.playlist.id), ("songIdToAdd", &extra.id)],
    );
    assert_eq!(edit["status"], "ok", "{edit}");

    let page = app.raw("GET", &format!("/share/{id}"), &[], None).json();

    assert_eq!(ids(&page), song_ids(&up.playlist.songs));
    let outside = app.raw(
        "GET",
        &format!("/share/{id}/stream/{}", extra.id),
        &[],
        None,
    );
    assert_eq!(
        outside.status(),
        404,
        "the added song is not part of the share"
    );
}
