//! The committer, plan and projections on the memory engine: one store, and two
//! stores on one log taking turns as replicas on one database do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::domain::*;
use crate::store::{chain, Store, StoreError};
use std::time::{Duration, Instant};

const POLICY: Policy = Policy {
    allow_downloads: true,
};

fn alice() -> Actor {
    Actor {
        user_id: UserId("u-alice".into()),
        username: "alice".into(),
        is_admin: false,
    }
}

fn id(n: u128) -> ShareId {
    ShareId::from_random(n.to_be_bytes())
}

fn create(n: u128) -> Command {
    Command::Create(CreateShare {
        id: id(n),
        actor: alice(),
        description: Some(format!("share {n}")),
        format: Format::Raw,
        max_bit_rate: 0,
        downloadable: false,
        expires_at: None,
        items: ShareItems {
            songs: vec![SongItem {
                id: format!("song-{n}"),
                title: "Song".into(),
                artist: "A".into(),
                album: "B".into(),
            }],
            ..Default::default()
        },
    })
}

fn rename(n: u128, expected: Option<u64>, to: &str) -> Command {
    Command::Update(UpdateShare {
        id: id(n),
        actor: alice(),
        expected_version: expected,
        changes: ShareChanges {
            description: Some(Some(to.into())),
            ..Default::default()
        },
    })
}

fn visit(n: u128) -> VisitShare {
    VisitShare {
        id: id(n),
        kind: VisitKind::Visit,
        visit: VisitData {
            format: VisitFormat::Raw,
            download: false,
            player: None,
            client_ip: None,
            user_agent: None,
        },
    }
}

/// Every stored event in seq order, gap-free from 1, chained by its hashes.
fn assert_one_chain(store: &Store) -> u64 {
    let mut prev = chain::GENESIS;
    let mut seq = 0;
    for env in store.events(1) {
        let env = env.unwrap();
        seq += 1;
        assert_eq!(env.seq, seq);
        assert_eq!(env.prev_hash, prev, "seq {seq}");
        assert!(env.is_sealed(), "seq {seq}");
        prev = env.hash;
    }
    seq
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "waited 5 s for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_memory_store_decides_appends_and_reads_like_any_other() {
    let store = Store::in_memory(POLICY);
    assert_eq!(store.engine(), "memory");
    let created = store.execute_blocking(create(1), None).unwrap();
    assert_eq!((created.share.version, created.seqs.clone()), (1, vec![1]));
    let refused = store.execute_blocking(rename(1, Some(7), "x"), None);
    assert!(matches!(
        refused,
        Err(StoreError::Rejected(DomainError::VersionConflict { .. }))
    ));
    store
        .execute_blocking(rename(1, Some(1), "renamed"), None)
        .unwrap();
    store
        .execute_blocking(Command::Visit(visit(1)), None)
        .unwrap();
    let share = store.shares().get(&id(1)).cloned().unwrap();
    assert_eq!((share.version, share.visit_count), (3, 1));
    assert_eq!(share.description.as_deref(), Some("renamed"));
    assert_eq!(store.history(&id(1)).count(), 3);
    assert_eq!(assert_one_chain(&store), 3);
    assert_eq!(store.checkpoint().unwrap().map(|c| c.last_seq), Some(3));
}

#[test]
fn a_write_on_one_replica_is_seen_on_the_other_without_a_write_there() {
    let stores = Store::in_memory_replicas(2, POLICY);
    stores[0].execute_blocking(create(1), None).unwrap();
    wait_until("the other replica to catch up", || {
        stores[1].shares().get(&id(1)).is_some()
    });
    assert_eq!(stores[1].durable_seq(), 1);
    assert_eq!(stores[1].events(1).count(), 1);
}

#[test]
fn if_match_is_exact_across_replicas() {
    let stores = Store::in_memory_replicas(2, POLICY);
    stores[0].execute_blocking(create(1), None).unwrap();
    for round in 0..20u64 {
        let expected = 1 + round;
        let results: Vec<_> = std::thread::scope(|s| {
            let tries: Vec<_> = (0..8)
                .map(|i| {
                    let store = &stores[i % 2];
                    s.spawn(move || {
                        store.execute_blocking(
                            rename(1, Some(expected), &format!("r{round}-{i}")),
                            None,
                        )
                    })
                })
                .collect();
            tries.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
    }
    assert_eq!(assert_one_chain(&stores[1]), 21);
}

#[test]
fn visits_spread_over_replicas_are_counted_exactly_on_both() {
    let stores = Store::in_memory_replicas(2, POLICY);
    stores[0].execute_blocking(create(1), None).unwrap();
    std::thread::scope(|s| {
        for i in 0..50 {
            let store = &stores[i % 2];
            s.spawn(move || {
                store
                    .execute_blocking(Command::Visit(visit(1)), None)
                    .unwrap()
            });
        }
    });
    for store in &stores {
        wait_until("50 visits on every replica", || {
            store.shares().get(&id(1)).map(|s| s.visit_count) == Some(50)
        });
    }
    assert_eq!(assert_one_chain(&stores[0]), 51);
}

#[test]
fn an_idempotency_key_used_on_one_replica_is_a_repeat_on_the_other() {
    let stores = Store::in_memory_replicas(2, POLICY);
    let key = crate::store::Idempotency {
        user_id: "u-alice".into(),
        key: "k".into(),
        fingerprint: "f".into(),
    };
    let first = stores[0]
        .execute_blocking(create(1), Some(key.clone()))
        .unwrap();
    let again = stores[1].execute_blocking(create(2), Some(key)).unwrap();
    assert!(again.replayed);
    assert_eq!(again.share.id, first.share.id);
    assert_eq!(assert_one_chain(&stores[1]), 1);
}
