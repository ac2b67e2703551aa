//! `Store::close` lets go of sled before it returns: the data directory opens
//! again at once, with no retry, in this process or another.

use crate::support;

use support::commands::{create, visit, POLICY};

use sharelog::store::{Log, Store, StoreError};

#[test]
fn a_closed_store_reopens_at_once_two_hundred_times_in_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut id = None;
    for round in 0..200u64 {
        let store = Store::open(dir.path(), POLICY)
            .unwrap_or_else(|e| panic!("reopen {round} right after a close failed: {e}"));
        // Each round writes through the committer, so sled has I/O of its own to finish.
        let share = match &id {
            None => {
                store
                    .execute_blocking(create(1, "kept"), None)
                    .unwrap()
                    .unwrap()
                    .share
                    .id
            }
            Some(id) => {
                store.execute_blocking(visit(id), None).unwrap().unwrap();
                id.clone()
            }
        };
        id = Some(share);
        assert_eq!(
            store.checkpoint().unwrap().map(|c| c.last_seq),
            Some(round + 1),
            "every round's write is there after the reopen"
        );
        store.close();
    }
}

#[test]
fn a_handle_kept_after_close_does_not_hold_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    let kept = store.clone();
    store
        .execute_blocking(create(1, "kept"), None)
        .unwrap()
        .unwrap();
    store.close();
    // An HTTP worker may still hold its clone of the store: the directory is free anyway.
    let reopened = Store::open(dir.path(), POLICY).unwrap();
    assert!(matches!(kept.checkpoint(), Err(StoreError::Closed)));
    assert!(matches!(
        kept.events(1).next(),
        Some(Err(StoreError::Closed))
    ));
    assert_eq!(reopened.events(1).count(), 1);
    reopened.close();
}

#[test]
fn a_dropped_offline_log_lets_go_of_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    store
        .execute_blocking(create(1, "kept"), None)
        .unwrap()
        .unwrap();
    store.close();
    for _ in 0..50 {
        let log = Log::open(dir.path()).unwrap();
        assert_eq!(log.events(1).count(), 1);
        drop(log);
        Store::open(dir.path(), POLICY).unwrap().close();
    }
}
