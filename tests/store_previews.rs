//! SharePreviewed on a real sled store on disk: durable before the answer, counted
//! as a preview and never as a visit, refused like a visit, and folded the same way
//! by the live projection, a full replay, a reopen and a rebuild.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::commands::{create, delete, preview, rename, visit, POLICY};

use sharelog::domain::*;
use sharelog::projection::Shares;
use sharelog::store::{Envelope, Log, Store, StoreError};
use std::time::Duration;
use time::OffsetDateTime;

fn replayed(store: &Store) -> Shares {
    Shares::replay(store.events(1)).unwrap()
}

fn share(store: &Store, id: &ShareId) -> Share {
    store.shares().get(id).cloned().unwrap()
}

#[test]
fn a_preview_raises_the_preview_count_and_not_the_visit_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    let id = store
        .execute_blocking(create(1, "a"), None)
        .unwrap()
        .share
        .id;

    let out = store.execute_blocking(preview(&id), None).unwrap();

    assert_eq!(out.seqs, vec![2]);
    let s = share(&store, &id);
    assert_eq!((s.preview_count, s.visit_count, s.version), (1, 0, 2));
    assert_eq!(s.last_visited_at, None, "a preview is not a visit");
    let env: Envelope = store.events(2).next().unwrap().unwrap();
    assert_eq!(env.event.type_name(), "SharePreviewed");
    let Event::SharePreviewed(data) = env.event else {
        panic!("not a preview: {:?}", env.event)
    };
    assert_eq!(data.format, VisitFormat::Html);
    assert!(data.user_agent.unwrap().starts_with("Slackbot"));
}

#[test]
fn a_preview_through_the_public_pages_path_is_on_disk_when_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = Store::open(dir.path(), POLICY).unwrap();
        let id = store
            .execute_blocking(create(1, "a"), None)
            .unwrap()
            .share
            .id;
        let Command::Visit(p) = preview(&id) else {
            unreachable!()
        };
        actix_rt::Runtime::new()
            .unwrap()
            .block_on(store.visit(p))
            .unwrap();
        // Read back from disk by another reader than the store that wrote it.
        assert_eq!(store.checkpoint().unwrap().unwrap().last_seq, 2);
        store.close();
        id
    };
    support::offline::wait_until_released(dir.path());
    let log = Log::open(dir.path()).unwrap();
    let stored = log.projections().unwrap();
    let s = stored.get(&id).unwrap();
    assert_eq!((s.preview_count, s.visit_count), (1, 0));
}

#[test]
fn a_preview_of_a_deleted_share_is_refused_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    let id = store
        .execute_blocking(create(1, "a"), None)
        .unwrap()
        .share
        .id;
    store.execute_blocking(delete(&id), None).unwrap();

    let r = store.execute_blocking(preview(&id), None);

    assert!(matches!(
        r,
        Err(StoreError::Rejected(DomainError::NotFound))
    ));
    assert_eq!(store.checkpoint().unwrap().unwrap().last_seq, 2);
}

#[test]
fn a_preview_of_an_expired_share_is_refused_as_gone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    let Command::Create(mut c) = create(1, "a") else {
        unreachable!()
    };
    c.expires_at = Some(OffsetDateTime::now_utc() + Duration::from_millis(300));
    let id = store
        .execute_blocking(Command::Create(c), None)
        .unwrap()
        .share
        .id;
    std::thread::sleep(Duration::from_millis(400));

    let r = store.execute_blocking(preview(&id), None);

    assert!(matches!(r, Err(StoreError::Rejected(DomainError::Expired))));
    assert_eq!(share(&store, &id).preview_count, 0);
}

/// Visits and previews from many threads, with renames between them (so shares get
/// both counter rows and full rows): the live projection, a full replay, the rows a
/// reopen loads and a rebuild all agree, and every open is counted as what it was.
#[test]
fn visits_and_previews_fold_the_same_live_replayed_reopened_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<ShareId> = {
        let store = Store::open(dir.path(), POLICY).unwrap();
        let threads: Vec<_> = (0..6u128)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let id = store
                        .execute_blocking(create(t, "s"), None)
                        .unwrap()
                        .share
                        .id;
                    for i in 0..40 {
                        let cmd = match i % 4 {
                            0 => preview(&id),
                            _ => visit(&id),
                        };
                        store.execute_blocking(cmd, None).unwrap();
                        if i % 15 == 7 {
                            store
                                .execute_blocking(rename(&id, None, &format!("r{i}")), None)
                                .unwrap();
                        }
                    }
                    id
                })
            })
            .collect();
        let ids = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(*store.shares(), replayed(&store));
        store.close();
        ids
    };
    support::offline::wait_until_released(dir.path());
    let reopened = Store::open(dir.path(), POLICY).unwrap();
    let loaded = reopened.shares().clone();
    assert_eq!(loaded, replayed(&reopened));
    for id in &ids {
        let s = loaded.get(id).unwrap();
        assert_eq!((s.visit_count, s.preview_count), (30, 10), "{id}");
        // created + 40 opens + renames at i = 7, 22 and 37
        assert_eq!(s.version, 44);
        assert!(s.last_visited_at.is_some());
    }
    reopened.close();
    drop(reopened);
    support::offline::wait_until_released(dir.path());
    let log = Log::open(dir.path()).unwrap();
    let (rebuilt, _) = log.rebuild(&mut |_| {}).unwrap();
    assert_eq!(rebuilt, loaded);
    assert_eq!(log.projections().unwrap(), loaded);
    let folded = log.fold_while(|_| true, &mut |_| {}).unwrap();
    assert_eq!(folded.shares, loaded);
}

/// The last visit's time survives a later preview in every fold: live, replay, rebuild.
#[test]
fn a_preview_after_a_visit_keeps_the_visit_time_in_every_fold() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    let id = store
        .execute_blocking(create(1, "a"), None)
        .unwrap()
        .share
        .id;
    let visited_at = store
        .execute_blocking(visit(&id), None)
        .unwrap()
        .share
        .last_visited_at;
    std::thread::sleep(Duration::from_millis(5));
    let after = store.execute_blocking(preview(&id), None).unwrap().share;
    assert_eq!(after.last_visited_at, visited_at);
    assert!(visited_at.is_some());
    store.close();
    drop(store);
    support::offline::wait_until_released(dir.path());
    let log = Log::open(dir.path()).unwrap();
    let (rebuilt, _) = log.rebuild(&mut |_| {}).unwrap();
    assert_eq!(rebuilt.get(&id).unwrap().last_visited_at, visited_at);
    assert_eq!(rebuilt.get(&id), Some(&after));
}
