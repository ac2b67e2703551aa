//! A data directory written before SharePreviewed and `previewCount` existed
//! (`tests/data/log-before-previews`, made by that code) opens unchanged: its
//! projection rows are loaded as they are (not rebuilt), read as zero previews,
//! equal a full replay, and the log takes previews and stays verifiable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::commands::{preview, visit, POLICY};
use support::offline::{verify_py, wait_until_released};

use sharelog::domain::ShareId;
use sharelog::projection::Shares;
use sharelog::store::{keys, Store};
use std::path::Path;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/log-before-previews"
);

fn copy_fixture(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["conf", "db", "events.jsonl", "events.jsonl.clean"] {
        std::fs::copy(Path::new(FIXTURE).join(name), to.join(name)).unwrap();
    }
}

/// The projection rows (`P` and `V`) as stored bytes.
fn projection_rows(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let db = sled::open(dir).unwrap();
    let rows = [keys::SHARE, keys::VISITS]
        .into_iter()
        .flat_map(|p| db.scan_prefix([p]).map(Result::unwrap))
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    drop(db);
    wait_until_released(dir);
    rows
}

fn row(rows: &[(Vec<u8>, Vec<u8>)], prefix: u8, id: &ShareId) -> serde_json::Value {
    let key = keys::prefixed(prefix, id.as_str());
    let (_, v) = rows.iter().find(|(k, _)| *k == key).unwrap();
    serde_json::from_slice(v).unwrap()
}

fn id(n: u128) -> ShareId {
    ShareId::from_random(n.to_be_bytes())
}

#[test]
fn a_log_written_before_previews_opens_unchanged_and_takes_previews() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_fixture(&dir);
    let old_rows = projection_rows(&dir);
    assert!(
        old_rows
            .iter()
            .all(|(_, v)| !String::from_utf8_lossy(v).contains("previewCount")),
        "the fixture must predate previewCount"
    );
    let old_mirror = std::fs::read(dir.join("events.jsonl")).unwrap();
    let (a, b, c) = (id(1), id(2), id(3));

    let store = Store::open(&dir, POLICY).unwrap();
    let loaded = store.shares().clone();
    assert_eq!(loaded, Shares::replay(store.events(1)).unwrap());
    let counts = |s: &Shares, id: &ShareId| {
        let s = s.get(id).unwrap();
        (s.visit_count, s.preview_count, s.version, s.deleted)
    };
    assert_eq!(counts(&loaded, &a), (5, 0, 6, false));
    assert_eq!(counts(&loaded, &b), (5, 0, 7, false));
    assert_eq!(counts(&loaded, &c), (1, 0, 3, true));
    store.close();
    drop(store);
    wait_until_released(&dir);
    assert_eq!(
        projection_rows(&dir),
        old_rows,
        "opening rebuilt or rewrote the old rows"
    );

    let store = Store::open(&dir, POLICY).unwrap();
    let after = store.execute_blocking(preview(&a), None).unwrap().share;
    assert_eq!(
        (after.visit_count, after.preview_count, after.version),
        (5, 1, 7)
    );
    store.execute_blocking(visit(&b), None).unwrap();
    store.close();
    drop(store);
    wait_until_released(&dir);

    let rows = projection_rows(&dir);
    assert_eq!(row(&rows, keys::VISITS, &a)["previewCount"], 1);
    assert_eq!(
        row(&rows, keys::SHARE, &a),
        row(&old_rows, keys::SHARE, &a),
        "a preview rewrites only the counter row"
    );
    let reopened = Store::open(&dir, POLICY).unwrap();
    let shares = reopened.shares().clone();
    assert_eq!(shares, Shares::replay(reopened.events(1)).unwrap());
    assert_eq!(counts(&shares, &a), (5, 1, 7, false));
    assert_eq!(counts(&shares, &b), (6, 0, 8, false));
    reopened.close();
    drop(reopened);

    let mirror = std::fs::read(dir.join("events.jsonl")).unwrap();
    assert!(mirror.starts_with(&old_mirror), "old export lines changed");
    let out = verify_py(&[dir.join("events.jsonl").to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK 18 events"));
}
