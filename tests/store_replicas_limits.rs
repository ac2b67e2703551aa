//! Visit limits are exact across two replicas on one PostgreSQL database: each visit is
//! decided inside the serialised commit against the log, not against a replica's
//! possibly stale projection. 60 visitors released together, spread over both replicas,
//! get exactly 7 answers for a share limited to 7, and exactly 3 through a recipient
//! link limited to 3; both replicas then show those counts. Timing-shaped: looped 20
//! times (docs/testing.md).
use crate::store_replicas::replica;
use crate::support;

use serde_json::json;
use std::sync::Barrier;
use std::time::{Duration, Instant};
use support::protected::*;
use support::*;

/// 60 visitors of `path` at once, alternating between the replicas; each one's status.
fn race(apps: [&TestApp; 2], path: &str) -> Vec<u16> {
    let barrier = Barrier::new(60);
    std::thread::scope(|s| {
        let visitors: Vec<_> = (0..60)
            .map(|i| {
                let (app, barrier) = (apps[i % 2], &barrier);
                s.spawn(move || {
                    barrier.wait();
                    app.raw("GET", &format!("{path}?format=raw"), &[], None)
                        .status()
                })
            })
            .collect();
        visitors.into_iter().map(|v| v.join().unwrap()).collect()
    })
}

/// Polls `f` until it holds, for at most a second.
fn within_a_second(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "not within 1 s: {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_visit_limit_and_a_links_limit_are_exact_across_two_replicas() {
    let url = postgres::shared().fresh_database();
    let (a, b) = (replica(&url), replica(&url));
    let id = share_with(&a, json!({ "maxVisits": 7 }));
    within_a_second("b shows the share", || {
        b.req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
            .status()
            == 200
    });
    let statuses = race([&a, &b], &format!("/share/{id}"));
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        7,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 410),
        "{statuses:?}"
    );
    for app in [&a, &b] {
        within_a_second("7 visits on each replica", || {
            owner_view(app, &id)["visitCount"] == 7
        });
    }

    // A link with its own limit, added on b, raced on both.
    let open = share_with(&b, json!({}));
    let link = add_link(&b, &open, "Bob", Some(3));
    within_a_second("a knows the link", || {
        let links = a.req(
            "GET",
            &format!("/api/share/{open}/links"),
            Some(&alice()),
            None,
        );
        links.status() == 200 && links.text().contains(&link)
    });
    let statuses = race([&a, &b], &format!("/share/{link}"));
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        3,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 410),
        "{statuses:?}"
    );
    for app in [&a, &b] {
        within_a_second("3 visits through the link on each replica", || {
            link_view(app, &open, &link)["visitCount"] == 3
        });
    }
}
