//! Recipient links over real HTTP: `/share/{linkId}` opens the same share on every public
//! path, with its password and expiry, never naming the share's own id; its visits are
//! tagged with it and count towards the link's and the share's counts and limits; a revoked
//! link is 410 `link-revoked`, a used-up one 410 `visit-limit-reached`, and every link of a
//! deleted share 404.
use crate::support;

use serde_json::json;
use support::protected::*;
use support::*;

fn raw(app: &TestApp, id: &str) -> Resp {
    app.raw("GET", &format!("/share/{id}?format=raw"), &[], None)
}

fn browser(app: &TestApp, id: &str) -> Resp {
    app.raw(
        "GET",
        &format!("/share/{id}"),
        &[("Accept", BROWSER), ("User-Agent", CHROME_UA)],
        None,
    )
}

#[test]
fn a_link_opens_the_share_on_every_path_and_never_names_the_shares_own_id() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({}));
    let bob = add_link(&app, &id, "Bob", None);
    let key = visit_key(&app, &bob, &[]);
    for p in every_path(&bob) {
        let r = p.send(&app, Some(&key), &[]);
        let ok = matches!(r.status(), 200 | 206);
        assert!(ok, "{}: {} {}", p.what, r.status(), r.text());
        assert!(
            !r.text().contains(&id),
            "{} names the share: {}",
            p.what,
            r.text()
        );
        for (name, value) in &r.0.headers {
            assert!(!value.contains(&id), "{}: {name}: {value}", p.what);
        }
        assert_eq!(
            r.header("Cache-Control"),
            Some("no-store, private"),
            "{}",
            p.what
        );
    }
    // Without the key a visit handed out: the visits answer, the media do not.
    for p in every_path(&bob) {
        let r = p.send(&app, None, &[]);
        let media = matches!(p.what, "stream" | "download" | "cover" | "cover by id");
        assert_eq!(
            r.status(),
            if media { 401 } else { 200 },
            "{}: {}",
            p.what,
            r.text()
        );
    }
    let answer = raw(&app, &bob).json();
    assert_eq!(answer["id"], bob.as_str());
    let stream = answer["tracks"][0]["streamUrl"].as_str().unwrap();
    assert!(
        stream.starts_with(&format!("{PUBLIC_URL}/share/{bob}/stream/")),
        "{stream}"
    );
    // Without the key a visit handed out, a link's media are closed.
    let (track, _) = alpha_track_and_cover();
    let bare = app.raw("GET", &format!("/share/{bob}/stream/{track}"), &[], None);
    assert_eq!(
        (bare.status(), bare.code()),
        (401, "access-key-required".into())
    );
}

#[test]
fn a_links_visits_are_tagged_with_it_and_count_for_the_link_and_the_share() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({}));
    let bob = add_link(&app, &id, "Bob", None);
    let carol = add_link(&app, &id, "Carol", None);
    assert_eq!(raw(&app, &bob).status(), 200);
    assert_eq!(browser(&app, &bob).status(), 200);
    assert_eq!(raw(&app, &carol).status(), 200);
    assert_eq!(raw(&app, &id).status(), 200);
    // A preview through a link counts as the link's preview.
    let bot = app.raw(
        "GET",
        &format!("/share/{bob}"),
        &[("User-Agent", SLACKBOT)],
        None,
    );
    assert_eq!(bot.status(), 200);

    let b = link_view(&app, &id, &bob);
    let c = link_view(&app, &id, &carol);
    assert_eq!(
        (b["visitCount"].as_u64(), b["previewCount"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(c["visitCount"], 1);
    assert!(b["lastVisitedAt"].is_string());
    let share = owner_view(&app, &id);
    assert_eq!(
        (share["visitCount"].as_u64(), share["previewCount"].as_u64()),
        (Some(4), Some(1))
    );
    let history = app
        .req(
            "GET",
            &format!("/api/share/{id}/history"),
            Some(&alice()),
            None,
        )
        .json();
    let links: Vec<Option<&str>> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "ShareVisited" || e["type"] == "SharePreviewed")
        .map(|e| e["data"]["link"].as_str())
        .collect();
    assert_eq!(
        links,
        vec![
            Some(bob.as_str()),
            Some(bob.as_str()),
            Some(carol.as_str()),
            None,
            Some(bob.as_str())
        ]
    );
}

#[test]
fn a_links_key_opens_nothing_through_another_link() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({}));
    let bob = add_link(&app, &id, "Bob", None);
    let carol = add_link(&app, &id, "Carol", None);
    let bobs = visit_key(&app, &bob, &[]);
    let (track, _) = alpha_track_and_cover();
    let stream = |via: &str| {
        app.raw(
            "GET",
            &format!("/share/{via}/stream/{track}?key={bobs}"),
            &[],
            None,
        )
    };
    assert_eq!(stream(&bob).status(), 200);
    assert_eq!(stream(&carol).status(), 401);
}

#[test]
fn a_used_up_link_and_a_revoked_link_are_410_and_the_others_go_on() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({}));
    let bob = add_link(&app, &id, "Bob", Some(1));
    let carol = add_link(&app, &id, "Carol", None);
    let key = visit_key(&app, &bob, &[]);
    let spent = raw(&app, &bob);
    assert_eq!(
        (spent.status(), spent.code()),
        (410, "visit-limit-reached".into())
    );
    assert!(browser(&app, &bob)
        .text()
        .contains("This link has been used up"));
    assert_eq!(raw(&app, &carol).status(), 200);
    assert_eq!(raw(&app, &id).status(), 200);
    // Bob's page, opened before, keeps playing.
    let (track, _) = alpha_track_and_cover();
    let bobs_stream = format!("/share/{bob}/stream/{track}?key={key}");
    assert_eq!(app.raw("GET", &bobs_stream, &[], None).status(), 200);

    // Revoked: 410 on every path, the key of a visit before too; a browser gets a page.
    let carols_key = visit_key(&app, &carol, &[]);
    let r = app.req(
        "DELETE",
        &format!("/api/share/{id}/links/{carol}"),
        Some(&alice()),
        None,
    );
    assert_eq!(r.status(), 200, "{}", r.text());
    for p in every_path(&carol) {
        let r = p.send(&app, Some(&carols_key), &[]);
        assert_eq!(r.status(), 410, "{}: {}", p.what, r.text());
        if p.method == "GET" && !matches!(p.what, "page" | "embed" | "preview") {
            assert_eq!(r.code(), "link-revoked", "{}", p.what);
        }
    }
    let page = browser(&app, &carol);
    assert!(
        page.text().contains("This link no longer works"),
        "{}",
        page.text()
    );
    assert_eq!(
        raw(&app, &id).status(),
        200,
        "the share itself is untouched"
    );
}

#[test]
fn a_link_has_the_shares_password_and_expiry_and_a_deleted_share_ends_every_link() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({ "password": PASSWORD }));
    let bob = add_link(&app, &id, "Bob", None);
    let bare = raw(&app, &bob);
    assert_eq!(
        (bare.status(), bare.code()),
        (401, "password-required".into())
    );
    let auth = basic(PASSWORD);
    assert_eq!(
        app.raw(
            "GET",
            &format!("/share/{bob}?format=raw"),
            &[("Authorization", &auth)],
            None
        )
        .status(),
        200
    );
    // The unlock cookie is the link's own: the share's does not open the link.
    let shares_cookie = cookie_of(&unlock(&app, &id, PASSWORD, &[]));
    let bobs = unlock(&app, &bob, PASSWORD, &[]);
    assert!(bobs
        .header("Set-Cookie")
        .unwrap()
        .contains(&format!("Path=/share/{bob};")));
    let bobs_cookie = cookie_of(&bobs);
    let with = |cookie: &str| {
        app.raw(
            "GET",
            &format!("/share/{bob}?format=raw"),
            &[("Cookie", cookie)],
            None,
        )
        .status()
    };
    assert_eq!(with(&shares_cookie), 401);
    assert_eq!(with(&bobs_cookie), 200);

    // Expired: the link too.
    app.update(&alice(), &id, json!({ "expiresIn": 1 }));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let expired = app.raw(
        "GET",
        &format!("/share/{bob}?format=raw"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(
        (expired.status(), expired.code()),
        (410, "share-expired".into())
    );

    // Deleted: 404 for the share and each of its links, on every path.
    let other = share_with(&app, json!({}));
    let carol = add_link(&app, &other, "Carol", None);
    let key = visit_key(&app, &carol, &[]);
    assert_eq!(
        app.req(
            "DELETE",
            &format!("/api/share/{other}"),
            Some(&alice()),
            None
        )
        .status(),
        200
    );
    for p in every_path(&carol) {
        assert_eq!(p.send(&app, Some(&key), &[]).status(), 404, "{}", p.what);
    }
    assert!(browser(&app, &carol).text().contains("Share not found"));
}
