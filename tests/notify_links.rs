//! Notifications of visits through recipient links, sent to a real HTTP receiver: through
//! the real public door (`/share/{linkId}` over real HTTP, previews by a chat app's user
//! agent), and with the visits appended to a real sled log directly, which reaches the
//! used-up limits of links and shares with fewer steps.
use crate::notify_delivery::{app_for, link, logged, open, preview as unfurl, set, share};
use crate::support;

use serde_json::{json, Value};
use sharelog::config::Settings;
use sharelog::domain::*;
use sharelog::store::Store;
use std::sync::Arc;
use std::time::Duration;
use support::alice;
use support::commands::*;
use support::receiver::{Mode, Receiver};

#[allow(clippy::field_reassign_with_default)]
fn settings(target: &str) -> Settings {
    let mut s = Settings::default();
    s.public_url = "http://share.example".into();
    s.notify.allowed_targets = vec![target.into()];
    s.notify.secret = "notify-secret-of-the-tests".into();
    s
}

fn store(dir: &std::path::Path, target: &str) -> Store {
    let policy = Policy {
        notify_targets: vec![target.into()],
        ..Policy::open(true)
    };
    Store::open(dir, policy).unwrap()
}

fn notify_on(store: &Store, url: String, format: NotifyFormat, on: Vec<NotifyOn>) {
    store
        .set_notifications_blocking(SetNotifications {
            actor: alice_actor(),
            notify: Some(Notify { url, format, on }),
        })
        .unwrap()
        .unwrap();
}

fn run(store: &Store, cmd: Command) {
    store.execute_blocking(cmd, None).unwrap().unwrap();
}

#[test]
fn first_visits_once_per_link_and_used_up_limits_of_links_and_shares() {
    let receiver = Receiver::start(Mode::Ok);
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path(), &receiver.base);
    let worker =
        sharelog::notify::start(store.clone(), Arc::new(settings(&receiver.base))).unwrap();
    notify_on(
        &store,
        format!("{}alice", receiver.base),
        NotifyFormat::Json,
        vec![NotifyOn::FirstVisit, NotifyOn::LimitReached],
    );
    let a = store
        .execute_blocking(create_limited(1, 5), None)
        .unwrap()
        .unwrap()
        .share
        .id;
    run(&store, add_link(&a, 1, Some(1))); // "friend 1", one visit
    run(&store, add_link(&a, 2, None)); // "friend 2"
    run(&store, visit(&a)); // the share's first
    run(&store, via_link(visit(&a), 1)); // friend 1's first, and their last
    run(&store, via_link(preview(&a), 2)); // a preview: nothing
    run(&store, via_link(visit(&a), 2)); // friend 2's first
    run(&store, via_link(visit(&a), 2)); // nothing they asked for
    run(&store, via_link(visit(&a), 2)); // the share's 5th of 5
    assert!(
        matches!(
            store.execute_blocking(visit(&a), None),
            Ok(Err(sharelog::store::Refusal::Rule(
                sharelog::domain::DomainError::VisitLimitReached
            )))
        ),
        "used up"
    );

    let got = receiver.wait_delivered(4, Duration::from_secs(30));
    let told: Vec<(Value, Value)> = got
        .iter()
        .map(|r| (r.json()["event"].clone(), r.json()["link"]["label"].clone()))
        .collect();
    assert_eq!(
        told,
        vec![
            (json!("first-visit"), Value::Null),
            (json!("limit-reached"), json!("friend 1")),
            (json!("first-visit"), json!("friend 2")),
            (json!("limit-reached"), json!("friend 2")),
        ]
    );
    let seqs: Vec<u64> = got
        .iter()
        .map(|r| r.json()["seq"].as_u64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // As ntfy says it: whose limit it was.
    notify_on(
        &store,
        format!("{}alice", receiver.base),
        NotifyFormat::Ntfy,
        vec![NotifyOn::LimitReached, NotifyOn::LinkRevoked],
    );
    let b = store
        .execute_blocking(create(2, "Road songs"), None)
        .unwrap()
        .unwrap()
        .share
        .id;
    run(&store, add_link(&b, 3, Some(1)));
    run(&store, via_link(visit(&b), 3));
    run(&store, revoke_link(&b, 3));
    let got = receiver.wait_delivered(6, Duration::from_secs(30));
    assert_eq!(
        got[4].text(),
        "friend 3 opened \"Road songs\": the link for friend 3 is used up"
    );
    assert_eq!(
        got[5].text(),
        "The link for friend 3 to \"Road songs\" was revoked"
    );
    assert_eq!(receiver.all().len(), 6, "nothing else was sent");
    worker.stop();
    store.close();
}

/// The real public door: opening the share's own link and each recipient's link tells
/// `first-visit` once for each, whatever comes after; previews (also through a link)
/// never. A revoke at the end is the last news, so once it arrives (deliveries keep the
/// log's order per owner) everything before it has been sent.
#[test]
fn first_visit_over_http_once_for_the_share_and_once_per_recipient_link_never_for_previews() {
    let receiver = Receiver::start(Mode::Ok);
    let app = app_for(&receiver);
    set(&app, &receiver, "json", &["first-visit", "link-revoked"]);
    let id = share(&app, json!({}));
    let bob = link(&app, &id, "Bob");
    let carol = link(&app, &id, "Carol");
    unfurl(&app, &id);
    unfurl(&app, &bob);
    open(&app, &bob, "format=raw"); // Bob's first, before the share's own
    open(&app, &id, "format=raw"); // the share's own first
    open(&app, &bob, "format=raw");
    open(&app, &id, "format=m3u");
    open(&app, &carol, "format=raw"); // Carol's first
    open(&app, &carol, "format=raw");
    open(&app, &bob, "format=m3u");
    unfurl(&app, &carol);
    let r = app.req(
        "DELETE",
        &format!("/api/share/{id}/links/{carol}"),
        Some(&alice()),
        None,
    );
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(
        logged(&app, "SharePreviewed").len(),
        3,
        "the previews were logged"
    );
    assert_eq!(logged(&app, "ShareVisited").len(), 7);

    let got = receiver.wait_delivered(4, Duration::from_secs(30));
    let told: Vec<(Value, Value)> = got
        .iter()
        .map(|r| (r.json()["event"].clone(), r.json()["link"].clone()))
        .collect();
    assert_eq!(
        told,
        vec![
            (json!("first-visit"), json!({"id": bob, "label": "Bob"})),
            (json!("first-visit"), Value::Null),
            (json!("first-visit"), json!({"id": carol, "label": "Carol"})),
            (
                json!("link-revoked"),
                json!({"id": carol, "label": "Carol"})
            ),
        ]
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(receiver.all().len(), 4, "nothing else was sent");
}
