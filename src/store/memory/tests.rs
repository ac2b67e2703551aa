//! The committer, plan and projections on the memory engine: one store, and two
//! stores on one log taking turns as replicas on one database do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::domain::*;
use crate::store::{chain, Refusal, Store};
use std::time::{Duration, Instant};

const POLICY: Policy = Policy::open(true);

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
        downloadable: Some(false),
        expires_at: None,
        password: None,
        max_visits: None,
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
            link: None,
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
    let created = store.execute_blocking(create(1), None).unwrap().unwrap();
    assert_eq!((created.share.version, created.seqs.clone()), (1, vec![1]));
    let refused = store.execute_blocking(rename(1, Some(7), "x"), None);
    assert!(matches!(
        refused,
        Ok(Err(Refusal::Rule(DomainError::VersionConflict { .. })))
    ));
    store
        .execute_blocking(rename(1, Some(1), "renamed"), None)
        .unwrap()
        .unwrap();
    store
        .execute_blocking(Command::Visit(visit(1)), None)
        .unwrap()
        .unwrap();
    let share = store.projection().get(&id(1)).cloned().unwrap();
    assert_eq!((share.version, share.visit_count), (3, 1));
    assert_eq!(share.description.as_deref(), Some("renamed"));
    assert_eq!(store.history(&id(1)).count(), 3);
    assert_eq!(assert_one_chain(&store), 3);
    assert_eq!(store.checkpoint().unwrap().map(|c| c.last_seq), Some(3));
}

#[test]
fn a_write_on_one_replica_is_seen_on_the_other_without_a_write_there() {
    let stores = Store::in_memory_replicas(2, POLICY);
    stores[0]
        .execute_blocking(create(1), None)
        .unwrap()
        .unwrap();
    wait_until("the other replica to catch up", || {
        stores[1].projection().get(&id(1)).is_some()
    });
    assert_eq!(stores[1].durable_seq(), 1);
    assert_eq!(stores[1].events(1).count(), 1);
}

#[test]
fn if_match_is_exact_across_replicas() {
    let stores = Store::in_memory_replicas(2, POLICY);
    stores[0]
        .execute_blocking(create(1), None)
        .unwrap()
        .unwrap();
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
        let won = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
    }
    assert_eq!(assert_one_chain(&stores[1]), 21);
}

#[test]
fn visits_spread_over_replicas_are_counted_exactly_on_both() {
    let stores = Store::in_memory_replicas(2, POLICY);
    stores[0]
        .execute_blocking(create(1), None)
        .unwrap()
        .unwrap();
    std::thread::scope(|s| {
        for i in 0..50 {
            let store = &stores[i % 2];
            s.spawn(move || {
                store
                    .execute_blocking(Command::Visit(visit(1)), None)
                    .unwrap()
                    .unwrap()
            });
        }
    });
    for store in &stores {
        wait_until("50 visits on every replica", || {
            store.projection().get(&id(1)).map(|s| s.visit_count) == Some(50)
        });
    }
    assert_eq!(assert_one_chain(&stores[0]), 51);
}

#[test]
fn a_visit_limit_is_exact_across_replicas_for_the_share_and_its_link() {
    let stores = Store::in_memory_replicas(2, POLICY);
    let Command::Create(c) = create(1) else {
        unreachable!()
    };
    let limited = CreateShare {
        max_visits: Some(7),
        ..c
    };
    stores[0]
        .execute_blocking(Command::Create(limited), None)
        .unwrap()
        .unwrap();
    let link = LinkId::from_random([9; 16]);
    let add = AddLink {
        id: id(1),
        actor: alice(),
        link: link.clone(),
        label: "Bob".into(),
        max_visits: Some(3),
    };
    stores[1]
        .execute_blocking(Command::AddLink(add), None)
        .unwrap()
        .unwrap();
    let admitted = std::sync::atomic::AtomicUsize::new(0);
    let via_link = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for i in 0..60 {
            let (store, admitted, via_link) = (&stores[i % 2], &admitted, &via_link);
            let mut v = visit(1);
            let through = i % 3 == 0;
            if through {
                v.visit.link = Some(link.clone());
            }
            s.spawn(
                move || match store.execute_blocking(Command::Visit(v), None) {
                    Ok(Ok(_)) => {
                        admitted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if through {
                            via_link.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                    Ok(Err(Refusal::Rule(DomainError::VisitLimitReached))) => {}
                    Ok(Err(r)) => panic!("{r}"),
                    Err(e) => panic!("{e}"),
                },
            );
        }
    });
    assert_eq!(admitted.into_inner(), 7);
    let through = via_link.into_inner();
    assert!(through <= 3, "{through} through a link limited to 3");
    for store in &stores {
        wait_until("7 visits on every replica", || {
            store.projection().get(&id(1)).map(|s| s.visit_count) == Some(7)
        });
        let share = store.projection().get(&id(1)).cloned().unwrap();
        assert_eq!(share.links[0].visit_count as usize, through);
    }
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
        .unwrap()
        .unwrap();
    let again = stores[1]
        .execute_blocking(create(2), Some(key))
        .unwrap()
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.share.id, first.share.id);
    assert_eq!(assert_one_chain(&stores[1]), 1);
}

fn notify(url: &str) -> SetNotifications {
    SetNotifications {
        actor: alice(),
        notify: Some(Notify {
            url: url.into(),
            format: NotifyFormat::Json,
            on: vec![NotifyOn::FirstVisit],
        }),
    }
}

fn notifying_policy() -> Policy {
    Policy {
        notify_targets: vec!["https://hooks.example/".into()],
        ..POLICY
    }
}

#[test]
fn notification_settings_live_on_the_owners_own_stream() {
    let store = Store::in_memory(notifying_policy());
    store.execute_blocking(create(1), None).unwrap().unwrap();
    store
        .set_notifications_blocking(notify("https://hooks.example/alice"))
        .unwrap()
        .unwrap();
    // The same choice again is no event; another target is refused.
    store
        .set_notifications_blocking(notify("https://hooks.example/alice"))
        .unwrap()
        .unwrap();
    let refused = store.set_notifications_blocking(notify("http://127.0.0.1:6379/"));
    assert!(matches!(
        refused,
        Ok(Err(Refusal::Rule(DomainError::NotifyTarget)))
    ));
    let user = UserId("u-alice".into());
    let owner = store.projection().owner(&user).cloned().unwrap();
    assert_eq!(owner.version, 1);
    assert_eq!(owner.notify.unwrap().url, "https://hooks.example/alice");
    // Turned off: a second event on the same stream.
    store
        .set_notifications_blocking(SetNotifications {
            actor: alice(),
            notify: None,
        })
        .unwrap()
        .unwrap();
    assert_eq!(store.projection().owner(&user).unwrap().notify, None);
    let events: Vec<_> = store.events(1).map(|e| e.unwrap()).collect();
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].stream.to_string(), "owner:u-alice");
    assert_eq!((events[1].version, events[2].version), (1, 2));
    assert_eq!(events[2].event.type_name(), "NotifySettingsChanged");
    assert_eq!(assert_one_chain(&store), 3);
    // The projection rebuilt from the log is the live one, owners included.
    let replayed = crate::projection::Projection::replay(store.events(1)).unwrap();
    assert_eq!(replayed, *store.projection());
}

#[test]
fn an_owners_settings_reach_the_other_replica() {
    let stores = Store::in_memory_replicas(2, notifying_policy());
    stores[0]
        .set_notifications_blocking(notify("https://hooks.example/a"))
        .unwrap()
        .unwrap();
    let user = UserId("u-alice".into());
    wait_until("the other replica to see the owner's settings", || {
        stores[1].projection().owner(&user).is_some()
    });
    // Decided on the other replica against the log: the same choice is no event.
    stores[1]
        .set_notifications_blocking(notify("https://hooks.example/a"))
        .unwrap()
        .unwrap();
    assert_eq!(assert_one_chain(&stores[1]), 1);
}
