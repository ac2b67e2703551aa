//! Notifications of visits through recipient links: the real worker
//! (`sharelog::notify::start`) on a real sled log, sending to a real HTTP receiver. The
//! visits are appended to the store directly (as the public door appends them): a link's
//! own `/share/{linkId}` page is served by the public side of the owner controls, and
//! this tests what the worker makes of such visits, whoever appends them.
use crate::support;

use serde_json::{json, Value};
use sharelog::config::Settings;
use sharelog::domain::*;
use sharelog::store::Store;
use std::sync::Arc;
use std::time::Duration;
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
        .unwrap();
}

fn run(store: &Store, cmd: Command) {
    store.execute_blocking(cmd, None).unwrap();
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
    assert!(store.execute_blocking(visit(&a), None).is_err(), "used up");

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
