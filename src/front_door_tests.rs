//! The front doors (owner API, public links) over the in-memory engine: the real
//! routes, handlers, share service, committer and projections, with no directory
//! and no music server (a playlist share is a snapshot, so its public answer needs
//! none). The black-box suites in `tests/` run the same doors over real HTTP, sled
//! and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::config::Settings;
use crate::domain::*;
use crate::startup::Shared;
use crate::store::Store;
use actix_web::{test, App};
use serde_json::Value;

const SECRET: &str = "front-door-test-secret";

fn settings() -> Settings {
    let mut s = Settings::default();
    s.auth.jwt_secret = SECRET.into();
    s.public_url = "http://share.example".into();
    s.public_access.rate_limit.per_minute = 0;
    s
}

fn alice() -> Actor {
    Actor {
        user_id: UserId("u-alice".into()),
        username: "alice".into(),
        is_admin: false,
    }
}

fn bearer(actor: &Actor) -> String {
    let token = crate::auth::issue(SECRET, actor, jwt_simple::prelude::Duration::from_hours(1));
    format!("Bearer {}", token.unwrap())
}

/// A playlist share of alice's, `n` distinct, created through the store.
fn playlist_share(store: &Store, n: u8, expires_at: Option<time::OffsetDateTime>) -> ShareId {
    let id = ShareId::from_random([n; 16]);
    let track = Track {
        id: format!("t{n}"),
        title: "First <song>".into(),
        artist: "Ann".into(),
        album: "Road".into(),
        track: 1,
        duration: 61,
        content_type: "audio/mpeg".into(),
        suffix: "mp3".into(),
    };
    let cmd = Command::Create(CreateShare {
        id: id.clone(),
        actor: alice(),
        description: Some(format!("share {n}")),
        format: Format::Raw,
        max_bit_rate: 0,
        downloadable: Some(false),
        expires_at,
        password: None,
        max_visits: None,
        items: ShareItems {
            playlists: vec![PlaylistItem {
                id: "pl".into(),
                name: "Road".into(),
                song_count: 1,
                tracks: vec![track],
            }],
            ..Default::default()
        },
    });
    let store = store.clone();
    std::thread::spawn(move || store.execute_blocking(cmd, None))
        .join()
        .unwrap()
        .unwrap()
        .unwrap();
    id
}

macro_rules! app {
    ($store:expr) => {{
        let shared = Shared::new(settings(), $store).unwrap();
        test::init_service(App::new().configure(|cfg| shared.configure(cfg))).await
    }};
}

#[actix_web::test]
async fn the_owner_api_lists_changes_and_deletes_over_a_memory_store() {
    let store = Store::in_memory(Policy::open(true));
    let id = playlist_share(&store, 1, None);
    let app = app!(&store);
    let auth = bearer(&alice());

    let req = test::TestRequest::get()
        .uri("/api/share")
        .insert_header(("X-ND-Authorization", auth.as_str()))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("X-Total-Count").unwrap(), "1");
    let list: Value = test::read_body_json(resp).await;
    assert_eq!(list[0]["id"], id.as_str());

    // If-Match on another version: 409, nothing changed.
    let req = test::TestRequest::put()
        .uri(&format!("/api/share/{id}"))
        .insert_header(("X-ND-Authorization", auth.as_str()))
        .insert_header(("If-Match", "\"9\""))
        .set_json(serde_json::json!({"description": "never"}))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 409);
    let req = test::TestRequest::put()
        .uri(&format!("/api/share/{id}"))
        .insert_header(("X-ND-Authorization", auth.as_str()))
        .insert_header(("If-Match", "\"1\""))
        .set_json(serde_json::json!({"description": "renamed"}))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("ETag").unwrap(), "\"2\"");

    // Somebody else's token sees nothing, exactly as if it did not exist.
    let bob = Actor {
        user_id: UserId("u-bob".into()),
        username: "bob".into(),
        is_admin: false,
    };
    let req = test::TestRequest::get()
        .uri(&format!("/api/share/{id}"))
        .insert_header(("X-ND-Authorization", bearer(&bob).as_str()))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 404);

    let delete = || {
        test::TestRequest::delete()
            .uri(&format!("/api/share/{id}"))
            .insert_header(("X-ND-Authorization", auth.as_str()))
            .to_request()
    };
    assert_eq!(test::call_service(&app, delete()).await.status(), 200);
    assert_eq!(test::call_service(&app, delete()).await.status(), 404);
    let history: Vec<_> = store.history(&id).collect();
    assert_eq!(history.len(), 3, "created, updated, deleted");
    store.close();
}

#[actix_web::test]
async fn a_public_link_answers_and_counts_its_visit_over_a_memory_store() {
    let store = Store::in_memory(Policy::open(true));
    let id = playlist_share(&store, 2, None);
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    let expiring = playlist_share(&store, 3, Some(soon));
    let app = app!(&store);

    let req = test::TestRequest::get()
        .uri(&format!("/share/{id}?format=raw"))
        .peer_addr("192.0.2.1:4000".parse().unwrap())
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), 200);
    let body: Value = test::read_body_json(resp).await;
    assert_eq!(body["tracks"][0]["title"], "First <song>");
    assert_eq!(store.projection().get(&id).unwrap().visit_count, 1);

    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    let req = test::TestRequest::get()
        .uri(&format!("/share/{expiring}?format=raw"))
        .peer_addr("192.0.2.1:4000".parse().unwrap())
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), 410);
    let body: Value = test::read_body_json(resp).await;
    assert_eq!(body["code"], "share-expired");
    assert_eq!(store.projection().get(&expiring).unwrap().visit_count, 0);
    store.close();
}
