//! A data directory written before passwords, limits and links existed
//! (`tests/data/log-before-controls`, made by commit 6e9a765) opens unchanged: its rows
//! are rebuilt once into the current schema (the per-day rows came later) to the same
//! shares, its export is the same bytes, replay, rebuild and reopen give the
//! same shares; and it takes the new events after them.

use crate::support;

use support::commands::*;
use support::offline::{config_for, sharelog, verify_py, wait_until_released};

use sharelog::domain::*;
use sharelog::projection::Projection;
use sharelog::store::{keys, Log, Store};
use std::path::Path;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/log-before-controls"
);

fn copy_fixture(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["conf", "db", "events.jsonl", "events.jsonl.clean"] {
        std::fs::copy(Path::new(FIXTURE).join(name), to.join(name)).unwrap();
    }
}

/// The projection rows (`P`, `V`, `D`) as stored bytes.
fn rows(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let db = sled::open(dir).unwrap();
    let rows = [keys::SHARE, keys::VISITS, b'D']
        .into_iter()
        .flat_map(|p| db.scan_prefix([p]).map(Result::unwrap))
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    drop(db);
    wait_until_released(dir);
    rows
}

fn id(n: u128) -> ShareId {
    ShareId::from_random(n.to_be_bytes())
}

#[test]
fn a_log_from_before_the_controls_opens_exports_and_folds_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_fixture(&dir);
    let old_rows = rows(&dir);
    let old_mirror = std::fs::read(dir.join("events.jsonl")).unwrap();
    let text = String::from_utf8(old_mirror.clone()).unwrap();
    assert!(
        text.lines().all(|l| l.contains("\"typeVersion\":1,")),
        "the fixture must predate version 2 events"
    );

    let store = Store::open(&dir, POLICY).unwrap();
    let loaded = store.projection().clone();
    assert_eq!(loaded, Projection::replay(store.events(1)).unwrap());
    let counts = |s: &Projection, n: u128| {
        let s = s.get(&id(n)).unwrap();
        (s.visit_count, s.preview_count, s.version, s.deleted)
    };
    assert_eq!(counts(&loaded, 1), (4, 2, 7, false));
    assert_eq!(counts(&loaded, 2), (5, 1, 8, false));
    assert_eq!(counts(&loaded, 3), (1, 0, 3, true));
    for s in loaded.all() {
        assert!(!s.has_password() && s.max_visits.is_none() && s.links.is_empty());
        assert_eq!(s.password_version, 0);
    }
    // The per-day rows came after this log was written: its first open builds them
    // (every share's days add up to its counts) and rebuilds the rows beside them.
    for n in [1, 2] {
        let days = loaded.days(&id(n)).unwrap();
        let visits: u64 = days.values().map(|d| d.visits).sum();
        let previews: u64 = days.values().map(|d| d.previews).sum();
        let share = loaded.get(&id(n)).unwrap();
        assert_eq!((visits, previews), (share.visit_count, share.preview_count));
    }
    store.close();
    drop(store);
    let rebuilt_rows = rows(&dir);
    assert_ne!(rebuilt_rows, old_rows, "the rows were rebuilt once");
    assert_eq!(Log::open(&dir).unwrap().projections().unwrap(), loaded);
    wait_until_released(&dir);
    // And only once: the next open reads them as they are.
    let store = Store::open(&dir, POLICY).unwrap();
    assert_eq!(*store.projection(), loaded);
    store.close();
    drop(store);
    assert_eq!(rows(&dir), rebuilt_rows, "a second open rewrote the rows");
    assert_eq!(std::fs::read(dir.join("events.jsonl")).unwrap(), old_mirror);

    let config = config_for(&dir);
    let export = sharelog(&config, &["audit", "export"]);
    assert!(export.status.success(), "{export:?}");
    assert_eq!(export.stdout, old_mirror, "the export is the same bytes");
    std::fs::remove_file(dir.join("events.jsonl.clean")).unwrap();
    let from_sled = sharelog(&config, &["audit", "export"]);
    assert_eq!(from_sled.stdout, old_mirror, "and read from sled too");
    let replayed = sharelog(&config, &["replay", "--seq", "18"]);
    assert!(replayed.status.success(), "{replayed:?}");
    let replayed: serde_json::Value = serde_json::from_slice(&replayed.stdout).unwrap();
    let b = replayed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id(2).as_str())
        .unwrap();
    assert_eq!(
        (b["visitCount"].as_u64(), b["previewCount"].as_u64()),
        (Some(5), Some(1))
    );
    assert_eq!(b["hasPassword"], false);

    let log = Log::open(&dir).unwrap();
    let (rebuilt, _) = log.rebuild(&mut |_| {}).unwrap();
    assert_eq!(rebuilt, loaded);
    drop(log);

    // The new events go on after the old ones.
    let store = Store::open(&dir, POLICY).unwrap();
    store
        .execute_blocking(add_link(&id(1), 1, Some(1)), None)
        .unwrap()
        .unwrap();
    store
        .execute_blocking(via_link(visit(&id(1)), 1), None)
        .unwrap()
        .unwrap();
    let refused = store.execute_blocking(via_link(visit(&id(1)), 1), None);
    assert!(
        matches!(
            refused,
            Ok(Err(sharelog::store::Refusal::Rule(
                sharelog::domain::DomainError::VisitLimitReached
            )))
        ),
        "the link's limit: {refused:?}"
    );
    let after = store.projection().clone();
    let a = after.get(&id(1)).unwrap();
    assert_eq!((a.visit_count, a.links[0].visit_count), (5, 1));
    store.close();
    drop(store);
    let reopened = Store::open(&dir, POLICY).unwrap();
    assert_eq!(*reopened.projection(), after);
    reopened.close();
    drop(reopened);
    let mirror = std::fs::read(dir.join("events.jsonl")).unwrap();
    assert!(mirror.starts_with(&old_mirror), "old export lines changed");
    let out = verify_py(&[dir.join("events.jsonl").to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK 20 events"));
}
