//! The event log on a real sled store on disk: concurrency, idempotency,
//! replay equivalence, and acknowledged writes surviving `kill -9`.

use crate::support;

use support::commands::{create, delete, rename, visit, POLICY};
use support::offline::created;

use sharelog::domain::*;
use sharelog::projection::Projection;
use sharelog::store::{chain, Envelope, Idempotency, Refusal, Store};
use std::io::{BufRead, BufReader};
use std::process::{Command as Process, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Every event present, seqs 1..=n without gaps, each sealed and linked to the one before.
fn verify_chain(store: &Store) -> u64 {
    let mut prev = chain::GENESIS;
    let mut n = 0;
    for env in store.events(1) {
        let env: Envelope = env.unwrap();
        n += 1;
        assert_eq!(env.seq, n, "gap in the sequence");
        assert_eq!(env.prev_hash, prev, "broken link at seq {n}");
        assert!(env.is_sealed(), "bad hash at seq {n}");
        prev = env.hash;
    }
    n
}

fn projections_equal_replay(store: &Store) {
    let replayed = Projection::replay(store.events(1)).unwrap();
    assert_eq!(
        *store.projection(),
        replayed,
        "projections differ from a full replay"
    );
}

#[test]
fn two_appends_with_the_same_expected_version_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    let id = created(&store, 1, "a share");
    let barrier = Arc::new(Barrier::new(2));
    let writers: Vec<_> = (0..2)
        .map(|i| {
            let (store, id, barrier) = (store.clone(), id.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                store.execute_blocking(rename(&id, Some(1), &format!("writer {i}")), None)
            })
        })
        .collect();
    let results: Vec<_> = writers.into_iter().map(|t| t.join().unwrap()).collect();
    let wins = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    let conflicts = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Ok(Err(Refusal::Rule(DomainError::VersionConflict {
                    expected: 1,
                    actual: 2
                })))
            )
        })
        .count();
    assert_eq!((wins, conflicts), (1, 1));
    assert_eq!(store.projection().get(&id).unwrap().version, 2);
    assert_eq!(verify_chain(&store), 2);
}

#[test]
fn an_idempotent_create_stores_one_event_and_returns_the_first_result() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    let key = Idempotency {
        user_id: "u-alice".into(),
        key: "k1".into(),
        fingerprint: "f".into(),
    };
    let first = store
        .execute_blocking(create(1, "a share"), Some(key.clone()))
        .unwrap()
        .unwrap();
    let again = store
        .execute_blocking(create(2, "a share"), Some(key.clone()))
        .unwrap()
        .unwrap();
    assert!(again.replayed && again.seqs.is_empty());
    assert_eq!(again.share.id, first.share.id);
    assert_eq!(verify_chain(&store), 1);
    let other_body = Idempotency {
        fingerprint: "g".into(),
        ..key
    };
    assert!(matches!(
        store.execute_blocking(create(3, "a share"), Some(other_body)),
        Ok(Err(Refusal::KeyReused))
    ));
}

#[test]
fn projections_written_with_events_equal_a_full_replay_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), POLICY).unwrap();
        let threads: Vec<_> = (0..8u128)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let id = created(&store, t, "a share");
                    for i in 0..30 {
                        store.execute_blocking(visit(&id), None).unwrap().unwrap();
                        if i % 10 == 0 {
                            let _ =
                                store.execute_blocking(rename(&id, None, &format!("r{i}")), None);
                        }
                    }
                    if t % 3 == 0 {
                        store.execute_blocking(delete(&id), None).unwrap().unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        projections_equal_replay(&store);
        assert_eq!(store.projection().live_count(), 5);
    }
    let reopened = Store::open(dir.path(), POLICY).unwrap();
    projections_equal_replay(&reopened);
    assert_eq!(
        reopened
            .projection()
            .all()
            .map(|s| s.visit_count)
            .sum::<u64>(),
        8 * 30
    );
}

#[test]
fn a_second_process_cannot_open_a_held_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let _store = Store::open(dir.path(), POLICY).unwrap();
    let child = Process::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "store_log::crash_child_entry_point",
            "--nocapture",
        ])
        .env("SHARELOG_CHILD_DIR", dir.path())
        .env("SHARELOG_CHILD_MODE", "open-only")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&child.stdout);
    assert!(out.contains("open failed: locked"), "{out}");
}

/// Not a test: the child process of the crash test. It appends from 8 threads
/// and prints each acknowledged seq until it is killed.
#[test]
#[ignore]
fn crash_child_entry_point() {
    support::offline::appender_child(8);
}

#[test]
fn every_acknowledged_event_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked_total = 0;
    let mut visits_total = 0;
    for round in 0..25u64 {
        let mut child = Process::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "store_log::crash_child_entry_point",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SHARELOG_CHILD_DIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // A pseudo-random moment between 30 and 330 ms after the first ack.
        let deadline = Duration::from_millis(30 + (round * 7919 % 300));
        let mut acked = Vec::new();
        // Visits acknowledged through `Store::visit`, per share: the most seen.
        let mut visited: std::collections::HashMap<String, u64> = Default::default();
        let mut lines = BufReader::new(stdout).lines();
        let mut started: Option<Instant> = None;
        let mut record = |line: &str, acked: &mut Vec<u64>| {
            if let Some((id, n)) = line
                .strip_prefix("visited ")
                .and_then(|s| s.split_once(' '))
                .and_then(|(id, n)| Some((id.to_string(), n.parse::<u64>().ok()?)))
            {
                visited.insert(id, n);
            }
            if let Some(seq) = line
                .strip_prefix("ack ")
                .and_then(|s| s.parse::<u64>().ok())
            {
                acked.push(seq);
            }
        };
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            record(&line, &mut acked);
            if !acked.is_empty() && started.get_or_insert_with(Instant::now).elapsed() >= deadline {
                break;
            }
        }
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        child.wait().unwrap();
        // The child is dead, but what it printed before dying may still be in the pipe:
        // every acknowledgement it printed counts, so read them all (to EOF).
        for line in lines {
            let Ok(line) = line else { break };
            record(&line, &mut acked);
        }
        assert!(
            !acked.is_empty(),
            "round {round}: the child acknowledged nothing"
        );
        let store = Store::open(dir.path(), POLICY).unwrap();
        let last = verify_chain(&store);
        let max_acked = *acked.iter().max().unwrap();
        assert!(
            last >= max_acked,
            "round {round}: acknowledged seq {max_acked} lost (log ends at {last})"
        );
        projections_equal_replay(&store);
        for (id, n) in &visited {
            let share = ShareId::parse(id).unwrap();
            let count = store.projection().get(&share).unwrap().visit_count;
            // Each share is visited by one thread only: at most one visit was in flight.
            assert!(
                count == *n || count == n + 1,
                "round {round}: {n} visits to {id} acknowledged, {count} in the log"
            );
        }
        acked_total += acked.len();
        visits_total += visited.values().sum::<u64>();
    }
    assert!(
        acked_total > 100 && visits_total > 100,
        "too few acknowledged events to mean anything: {acked_total} acks, {visits_total} visits"
    );
}

/// A log written by the first schema (one event per `E` row, one seq per `S` row, the
/// checkpoint at `C`) opens unchanged: same events, same shares, a verifying chain; it
/// takes new events, and its checkpoint moves to `Z`.
#[test]
fn a_log_in_the_first_schema_layout_reads_the_same_and_keeps_growing() {
    use sharelog::store::keys;
    let dir = tempfile::tempdir().unwrap();
    let (lines, shares) = {
        let store = Store::open(dir.path(), POLICY).unwrap();
        let a = created(&store, 1, "a");
        let b = created(&store, 2, "b");
        for _ in 0..30 {
            store.execute_blocking(visit(&a), None).unwrap().unwrap();
        }
        store
            .execute_blocking(rename(&b, None, "b2"), None)
            .unwrap()
            .unwrap();
        let lines: Vec<Envelope> = store.events(1).map(Result::unwrap).collect();
        let shares = store.projection().clone();
        store.close();
        (lines, shares)
    };
    {
        // Rewrite the rows as the first schema laid them out.
        let db = sled::open(dir.path()).unwrap();
        let mut batch = sled::Batch::default();
        for prefix in [keys::EVENT, keys::STREAM] {
            for kv in db.scan_prefix([prefix]) {
                batch.remove(kv.unwrap().0);
            }
        }
        for env in &lines {
            batch.insert(&keys::event(env.seq), env.to_line().unwrap());
            batch.insert(
                keys::stream(&env.stream.to_string(), env.version),
                &env.seq.to_be_bytes(),
            );
        }
        let checkpoint = db.get(keys::CHECKPOINT).unwrap().unwrap();
        batch.insert(keys::LEGACY_CHECKPOINT, checkpoint);
        batch.remove(keys::CHECKPOINT);
        db.apply_batch(batch).unwrap();
        assert_eq!(db.scan_prefix([keys::EVENT]).count(), lines.len());
        db.flush().unwrap();
    }
    support::offline::wait_until_released(dir.path());

    let store = Store::open(dir.path(), POLICY).unwrap();
    assert_eq!(*store.projection(), shares);
    let again: Vec<Envelope> = store.events(1).map(Result::unwrap).collect();
    assert_eq!(again, lines);
    let a = lines[0].stream.share().unwrap();
    assert_eq!(store.history(a).count(), 31);
    let seq = store
        .execute_blocking(visit(a), None)
        .unwrap()
        .unwrap()
        .seqs[0];
    assert_eq!(seq, lines.len() as u64 + 1);
    assert_eq!(verify_chain(&store), seq);
    projections_equal_replay(&store);
    assert_eq!(store.checkpoint().unwrap().unwrap().last_seq, seq);
    store.close();
    drop(store);
    let db = sled::open(dir.path()).unwrap();
    assert!(db.get(keys::LEGACY_CHECKPOINT).unwrap().is_none());
    assert!(db.get(keys::CHECKPOINT).unwrap().is_some());
}
