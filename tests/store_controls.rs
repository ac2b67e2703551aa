//! Visit limits and links per recipient on a real sled store: exact under concurrent
//! visitors (decided inside the commit), and folded the same way by the live
//! projection, a reopen, a full replay, a rebuild and a restore of the export.

use crate::support;

use support::commands::*;
use support::offline::{config_for, sharelog, verify_py};

use sharelog::domain::*;
use sharelog::projection::Projection;
use sharelog::store::{Log, Refusal, Store};
use std::sync::{Arc, Barrier};

/// `n` visitors at once, each through `link(i)` (None: the share's own link); how many
/// were let in, and every refusal's reason.
fn race(
    store: &Store,
    id: &ShareId,
    n: usize,
    link: impl Fn(usize) -> Option<u128>,
) -> Vec<(Option<u128>, Result<(), DomainError>)> {
    let start = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (store, id, start, via) = (store.clone(), id.clone(), start.clone(), link(i));
            std::thread::spawn(move || {
                let cmd = match via {
                    Some(l) => via_link(visit(&id), l),
                    None => visit(&id),
                };
                start.wait();
                let r = match store.execute_blocking(cmd, None) {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(Refusal::Rule(e))) => Err(e),
                    Ok(Err(other)) => panic!("not a rule's refusal: {other}"),
                    Err(other) => panic!("not a refusal: {other}"),
                };
                (via, r)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn admitted(results: &[(Option<u128>, Result<(), DomainError>)], via: Option<u128>) -> usize {
    results
        .iter()
        .filter(|(l, r)| *l == via && r.is_ok())
        .count()
}

fn visits_in_log(store: &Store, id: &ShareId) -> Vec<Option<LinkId>> {
    store
        .events(1)
        .map(Result::unwrap)
        .filter(|e| e.stream.share() == Some(id))
        .filter_map(|e| match e.event {
            Event::ShareVisited(v) => Some(v.link),
            _ => None,
        })
        .collect()
}

#[test]
fn sixty_concurrent_visitors_of_a_share_limited_to_7_are_exactly_7() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    let id = store
        .execute_blocking(create_limited(1, 7), None)
        .unwrap()
        .unwrap()
        .share
        .id;
    let results = race(&store, &id, 60, |_| None);
    assert_eq!(admitted(&results, None), 7);
    assert!(results
        .iter()
        .all(|(_, r)| matches!(r, Ok(()) | Err(DomainError::VisitLimitReached))));
    assert_eq!(store.projection().get(&id).unwrap().visit_count, 7);
    assert_eq!(visits_in_log(&store, &id).len(), 7);
    // Previews are never refused by the limit, and never count towards it.
    store.execute_blocking(preview(&id), None).unwrap().unwrap();
    let s = store.projection().get(&id).cloned().unwrap();
    assert_eq!((s.visit_count, s.preview_count), (7, 1));
    store.close();
}

#[test]
fn sixty_concurrent_visitors_through_two_links_keep_each_links_limit_and_the_shares() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    // Each link's own limit: 3 and 4 of 30 visitors each.
    let a = created_share(&store, 1, None);
    store
        .execute_blocking(add_link(&a, 1, Some(3)), None)
        .unwrap()
        .unwrap();
    store
        .execute_blocking(add_link(&a, 2, Some(4)), None)
        .unwrap()
        .unwrap();
    let results = race(&store, &a, 60, |i| Some(1 + (i % 2) as u128));
    assert_eq!(
        (admitted(&results, Some(1)), admitted(&results, Some(2))),
        (3, 4)
    );
    let s = store.projection().get(&a).cloned().unwrap();
    let counts: Vec<u64> = s.links.iter().map(|l| l.visit_count).collect();
    assert_eq!((s.visit_count, counts), (7, vec![3, 4]));
    let log = visits_in_log(&store, &a);
    assert_eq!(log.iter().filter(|l| **l == Some(link_id(1))).count(), 3);
    assert_eq!(log.iter().filter(|l| **l == Some(link_id(2))).count(), 4);

    // The share's limit, 7, shared by two unlimited links and its own link.
    let b = created_share(&store, 2, Some(7));
    store
        .execute_blocking(add_link(&b, 3, None), None)
        .unwrap()
        .unwrap();
    store
        .execute_blocking(add_link(&b, 4, None), None)
        .unwrap()
        .unwrap();
    let results = race(&store, &b, 60, |i| [Some(3), Some(4), None][i % 3]);
    let by = [Some(3), Some(4), None].map(|l| admitted(&results, l));
    assert_eq!(by.iter().sum::<usize>(), 7, "{by:?}");
    let s = store.projection().get(&b).cloned().unwrap();
    assert_eq!(s.visit_count, 7);
    assert_eq!(s.links[0].visit_count as usize, by[0]);
    assert_eq!(s.links[1].visit_count as usize, by[1]);
    store.close();
}

fn created_share(store: &Store, n: u128, max_visits: Option<u32>) -> ShareId {
    let cmd = match max_visits {
        Some(m) => create_limited(n, m),
        None => create(n, "open"),
    };
    store.execute_blocking(cmd, None).unwrap().unwrap().share.id
}

/// A log with every control: links added, visited, previewed and revoked, limits, a
/// password set and removed.
fn log_with_controls(store: &Store) -> (ShareId, ShareId) {
    let a = created_share(store, 1, Some(5));
    let b = created_share(store, 2, None);
    store
        .execute_blocking(add_link(&a, 1, Some(2)), None)
        .unwrap()
        .unwrap();
    store
        .execute_blocking(add_link(&a, 2, None), None)
        .unwrap()
        .unwrap();
    store
        .execute_blocking(add_link(&b, 3, None), None)
        .unwrap()
        .unwrap();
    for cmd in [
        via_link(visit(&a), 1),
        via_link(preview(&a), 1),
        via_link(visit(&a), 2),
        visit(&a),
        via_link(visit(&b), 3),
        visit(&b),
        preview(&b),
    ] {
        store.execute_blocking(cmd, None).unwrap().unwrap();
    }
    store
        .execute_blocking(revoke_link(&a, 2), None)
        .unwrap()
        .unwrap();
    let hash = PasswordHash::parse(
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
    )
    .unwrap();
    for password in [Some(hash), None] {
        let cmd = Command::Update(UpdateShare {
            id: b.clone(),
            actor: alice_actor(),
            expected_version: None,
            changes: ShareChanges {
                password: Some(password),
                ..Default::default()
            },
        });
        store.execute_blocking(cmd, None).unwrap().unwrap();
    }
    for cmd in [via_link(visit(&a), 1), via_link(visit(&b), 3)] {
        store.execute_blocking(cmd, None).unwrap().unwrap();
    }
    (a, b)
}

#[test]
fn links_fold_the_same_live_reopened_replayed_rebuilt_and_restored() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = Store::open(&dir, POLICY).unwrap();
    let (a, b) = log_with_controls(&store);
    let live = store.projection().clone();
    assert_eq!(live, Projection::replay(store.events(1)).unwrap());
    let sa = live.get(&a).unwrap();
    assert_eq!(
        sa.links
            .iter()
            .map(|l| (l.visit_count, l.preview_count))
            .collect::<Vec<_>>(),
        vec![(2, 1), (1, 0)]
    );
    assert!(sa.links[1].revoked_at.is_some());
    let sb = live.get(&b).unwrap();
    assert_eq!((sb.has_password(), sb.password_version), (false, 7));
    assert_eq!(
        live.by_link(&link_id(3)).map(|(s, _)| s.id.clone()),
        Some(b.clone())
    );
    store.close();
    drop(store);

    let reopened = Store::open(&dir, POLICY).unwrap();
    assert_eq!(*reopened.projection(), live, "rows loaded at start");
    reopened.close();
    drop(reopened);
    let log = Log::open(&dir).unwrap();
    let (rebuilt, _) = log.rebuild(&mut |_| {}).unwrap();
    assert_eq!(rebuilt, live);
    assert_eq!(log.fold_while(|_| true, &mut |_| {}).unwrap().shares, live);
    drop(log);

    let config = config_for(&dir);
    let export = sharelog(&config, &["audit", "export"]);
    assert!(export.status.success(), "{export:?}");
    let file = tmp.path().join("export.jsonl");
    std::fs::write(&file, &export.stdout).unwrap();
    let text = String::from_utf8(export.stdout).unwrap();
    assert!(text.contains("\"type\":\"ShareLinkAdded\""));
    assert!(text.contains("\"type\":\"ShareLinkRevoked\""));
    let out = verify_py(&[file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let restored = tmp.path().join("restored");
    let restored_config = config_for(&restored);
    let out = sharelog(
        &restored_config,
        &["restore", "--from", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    let store = Store::open(&restored, POLICY).unwrap();
    assert_eq!(*store.projection(), live, "restored");
    store.close();
}

#[test]
fn a_restore_refuses_an_export_with_a_visit_past_a_links_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = Store::open(&dir, POLICY).unwrap();
    let a = created_share(&store, 1, None);
    store
        .execute_blocking(add_link(&a, 1, Some(1)), None)
        .unwrap()
        .unwrap();
    store
        .execute_blocking(via_link(visit(&a), 1), None)
        .unwrap()
        .unwrap();
    store.execute_blocking(visit(&a), None).unwrap().unwrap();
    store.close();
    drop(store);
    let export = sharelog(&config_for(&dir), &["audit", "export"]);
    // The last visit re-sealed as one through the spent link: a chain a tool could
    // write, which no server would.
    let mut lines: Vec<serde_json::Value> = String::from_utf8(export.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last_mut().unwrap();
    last["data"]["link"] = link_id(1).as_str().into();
    last["typeVersion"] = 2.into();
    let mut unhashed = last.clone();
    unhashed.as_object_mut().unwrap().remove("hash");
    let prev = sharelog::store::chain::from_hex(last["prevHash"].as_str().unwrap()).unwrap();
    let hash =
        sharelog::store::chain::link(&prev, &sharelog::store::chain::canonical_bytes(&unhashed));
    last["hash"] = sharelog::store::chain::to_hex(&hash).into();
    let file = tmp.path().join("forged.jsonl");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let restored = tmp.path().join("restored");
    let out = sharelog(
        &config_for(&restored),
        &["restore", "--from", file.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("event 4") && err.contains("past the visit limit"),
        "{err}"
    );
    assert!(!restored.join("db").exists());
}
