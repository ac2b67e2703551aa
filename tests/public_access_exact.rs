//! Visit limits are exact over HTTP, however many visitors race: 60 concurrent visitors of
//! a share limited to 7 (raw JSON, M3U and the page for people, mixed) get exactly 7 answers
//! and 53 refusals, the same through two recipient links at once (the share's limit shared
//! by both), and with a limit on each link. Each refusal is 410 `visit-limit-reached` (a
//! browser's an HTML page), and the counts the owner sees are the successes. Timing-shaped:
//! looped 20 times (docs/testing.md).
use crate::support;

use serde_json::json;
use std::sync::{Arc, Barrier};
use support::protected::*;
use support::*;

/// `paths.len()` visitors at once, one a thread, released together; each one's status.
fn race(app: &TestApp, paths: Vec<String>) -> Vec<(String, u16, String)> {
    let start = Arc::new(Barrier::new(paths.len()));
    let threads: Vec<_> = paths
        .into_iter()
        .enumerate()
        .map(|(i, path)| {
            let (url, start) = (app.url.clone(), start.clone());
            std::thread::spawn(move || {
                // A third each: raw JSON, an M3U, a browser's page.
                let (path, headers): (String, Vec<(&str, &str)>) = match i % 3 {
                    0 => (format!("{path}?format=raw"), vec![]),
                    1 => (format!("{path}?format=m3u"), vec![]),
                    _ => (path, vec![("Accept", BROWSER), ("User-Agent", CHROME_UA)]),
                };
                start.wait();
                let r = http_send("GET", &format!("{url}{path}"), &headers, None);
                let body = String::from_utf8_lossy(&r.body).into_owned();
                (path, r.status, body)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// Successes; every other answer must be the limit's 410.
fn successes(answers: &[(String, u16, String)]) -> usize {
    for (path, status, body) in answers {
        match status {
            200 => {}
            410 if body.starts_with('{') => {
                assert!(
                    body.contains("\"code\":\"visit-limit-reached\""),
                    "{path}: {body}"
                )
            }
            410 => assert!(
                body.contains("This link has been used up"),
                "{path}: {body}"
            ),
            other => panic!("{path}: {other} {body}"),
        }
    }
    answers.iter().filter(|(_, s, _)| *s == 200).count()
}

#[test]
fn sixty_concurrent_visitors_of_a_share_limited_to_7_get_exactly_7_answers() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({ "maxVisits": 7 }));
    let answers = race(&app, vec![format!("/share/{id}"); 60]);
    assert_eq!(successes(&answers), 7);
    assert_eq!(owner_view(&app, &id)["visitCount"], 7);
}

#[test]
fn sixty_concurrent_visitors_through_two_links_share_the_limit_of_7_exactly() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({ "maxVisits": 7 }));
    let bob = add_link(&app, &id, "Bob", None);
    let carol = add_link(&app, &id, "Carol", None);
    let paths: Vec<String> = (0..60)
        .map(|i| format!("/share/{}", if i % 2 == 0 { &bob } else { &carol }))
        .collect();
    let answers = race(&app, paths);
    assert_eq!(successes(&answers), 7);
    let (b, c) = (link_view(&app, &id, &bob), link_view(&app, &id, &carol));
    let through = |link: &str| {
        answers
            .iter()
            .filter(|(p, s, _)| *s == 200 && p.starts_with(&format!("/share/{link}")))
            .count() as u64
    };
    assert_eq!(b["visitCount"].as_u64(), Some(through(&bob)));
    assert_eq!(c["visitCount"].as_u64(), Some(through(&carol)));
    assert_eq!(owner_view(&app, &id)["visitCount"], 7);
}

#[test]
fn two_links_with_limits_of_their_own_each_get_exactly_theirs_at_once() {
    let app = spawn_app(|_| {});
    let id = share_with(&app, json!({}));
    let bob = add_link(&app, &id, "Bob", Some(3));
    let carol = add_link(&app, &id, "Carol", Some(4));
    let paths: Vec<String> = (0..60)
        .map(|i| format!("/share/{}", if i % 2 == 0 { &bob } else { &carol }))
        .collect();
    let answers = race(&app, paths);
    assert_eq!(successes(&answers), 7);
    assert_eq!(link_view(&app, &id, &bob)["visitCount"], 3);
    assert_eq!(link_view(&app, &id, &carol)["visitCount"], 4);
    assert_eq!(owner_view(&app, &id)["visitCount"], 7);
}
