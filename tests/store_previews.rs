//! SharePreviewed on a real sled store on disk: durable before the answer, counted
//! as a preview and never as a visit, refused like a visit, and folded the same way
//! by the live projection, a full replay, a reopen and a rebuild; exported, filtered
//! and verified by the command line; and a data directory written before previews
//! existed (`tests/data/log-before-previews`, made by that code) opens unchanged.

use crate::support;

use support::commands::{create, delete, preview, rename, visit, POLICY};
use support::offline::{config_for, created, sharelog, verify_py, wait_until_released};

use sharelog::domain::*;
use sharelog::projection::Projection;
use sharelog::store::{keys, Envelope, Log, Refusal, Store};
use std::path::Path;
use std::time::Duration;
use time::OffsetDateTime;

fn replayed(store: &Store) -> Projection {
    Projection::replay(store.events(1)).unwrap()
}

fn share(store: &Store, id: &ShareId) -> Share {
    store.projection().get(id).cloned().unwrap()
}

#[test]
fn a_preview_raises_the_preview_count_and_not_the_visit_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    let id = created(&store, 1, "a");

    let out = store.execute_blocking(preview(&id), None).unwrap().unwrap();

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
        let id = created(&store, 1, "a");
        let Command::Visit(p) = preview(&id) else {
            unreachable!()
        };
        actix_rt::Runtime::new()
            .unwrap()
            .block_on(store.visit(p))
            .unwrap()
            .unwrap();
        // Read back from disk by another reader than the store that wrote it.
        assert_eq!(store.checkpoint().unwrap().unwrap().last_seq, 2);
        store.close();
        id
    };
    let log = Log::open(dir.path()).unwrap();
    let stored = log.projections().unwrap();
    let s = stored.get(&id).unwrap();
    assert_eq!((s.preview_count, s.visit_count), (1, 0));
}

#[test]
fn a_preview_of_a_deleted_share_is_refused_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), POLICY).unwrap();
    let id = created(&store, 1, "a");
    store.execute_blocking(delete(&id), None).unwrap().unwrap();

    let r = store.execute_blocking(preview(&id), None);

    assert!(matches!(r, Ok(Err(Refusal::Rule(DomainError::NotFound)))));
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
        .unwrap()
        .share
        .id;
    std::thread::sleep(Duration::from_millis(400));

    let r = store.execute_blocking(preview(&id), None);

    assert!(matches!(r, Ok(Err(Refusal::Rule(DomainError::Expired)))));
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
                    let id = created(&store, t, "s");
                    for i in 0..40 {
                        let cmd = match i % 4 {
                            0 => preview(&id),
                            _ => visit(&id),
                        };
                        store.execute_blocking(cmd, None).unwrap().unwrap();
                        if i % 15 == 7 {
                            store
                                .execute_blocking(rename(&id, None, &format!("r{i}")), None)
                                .unwrap()
                                .unwrap();
                        }
                    }
                    id
                })
            })
            .collect();
        let ids = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(*store.projection(), replayed(&store));
        store.close();
        ids
    };
    let reopened = Store::open(dir.path(), POLICY).unwrap();
    let loaded = reopened.projection().clone();
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
    let id = created(&store, 1, "a");
    let visited_at = store
        .execute_blocking(visit(&id), None)
        .unwrap()
        .unwrap()
        .share
        .last_visited_at;
    std::thread::sleep(Duration::from_millis(5));
    let after = store
        .execute_blocking(preview(&id), None)
        .unwrap()
        .unwrap()
        .share;
    assert_eq!(after.last_visited_at, visited_at);
    assert!(visited_at.is_some());
    store.close();
    drop(store);
    let log = Log::open(dir.path()).unwrap();
    let (rebuilt, _) = log.rebuild(&mut |_| {}).unwrap();
    assert_eq!(rebuilt.get(&id).unwrap().last_visited_at, visited_at);
    assert_eq!(rebuilt.get(&id), Some(&after));
}

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
    let loaded = store.projection().clone();
    assert_eq!(loaded, Projection::replay(store.events(1)).unwrap());
    let counts = |s: &Projection, id: &ShareId| {
        let s = s.get(id).unwrap();
        (s.visit_count, s.preview_count, s.version, s.deleted)
    };
    assert_eq!(counts(&loaded, &a), (5, 0, 6, false));
    assert_eq!(counts(&loaded, &b), (5, 0, 7, false));
    assert_eq!(counts(&loaded, &c), (1, 0, 3, true));
    store.close();
    drop(store);
    // Opened once by this version, the rows are rebuilt into its schema (the per-day
    // rows came later), to the same shares; the rows read the same as before.
    let rebuilt = projection_rows(&dir);
    for id in [&a, &b] {
        let share = |rows: &[(Vec<u8>, Vec<u8>)]| {
            let mut s = row(rows, keys::SHARE, id);
            if let Some((_, v)) = rows
                .iter()
                .find(|(k, _)| *k == keys::prefixed(keys::VISITS, id.as_str()))
            {
                let v: serde_json::Value = serde_json::from_slice(v).unwrap();
                for k in ["visitCount", "lastVisitedAt", "version"] {
                    s[k] = v[k].clone();
                }
            }
            (
                s["visitCount"].clone(),
                s["version"].clone(),
                s["description"].clone(),
            )
        };
        assert_eq!(share(&rebuilt), share(&old_rows));
    }
    let old_rows = rebuilt;

    let store = Store::open(&dir, POLICY).unwrap();
    let after = store
        .execute_blocking(preview(&a), None)
        .unwrap()
        .unwrap()
        .share;
    assert_eq!(
        (after.visit_count, after.preview_count, after.version),
        (5, 1, 7)
    );
    store.execute_blocking(visit(&b), None).unwrap().unwrap();
    store.close();
    drop(store);

    let rows = projection_rows(&dir);
    assert_eq!(row(&rows, keys::VISITS, &a)["previewCount"], 1);
    assert_eq!(
        row(&rows, keys::SHARE, &a),
        row(&old_rows, keys::SHARE, &a),
        "a preview rewrites only the counter row"
    );
    let reopened = Store::open(&dir, POLICY).unwrap();
    let shares = reopened.projection().clone();
    assert_eq!(shares, Projection::replay(reopened.events(1)).unwrap());
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

/// `audit export --type SharePreviewed` gives the same lines from the export mirror
/// (after a clean close) and from sled (without it); both verify as partial exports,
/// the full export verifies, and `replay` shows `previewCount`.
#[test]
fn previews_are_exported_filtered_verified_and_replayed_by_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = Store::open(&dir, POLICY).unwrap();
    let id = created(&store, 1, "a");
    for cmd in [preview(&id), visit(&id), preview(&id), preview(&id)] {
        store.execute_blocking(cmd, None).unwrap().unwrap();
    }
    store.close();
    drop(store);
    let config = config_for(&dir);

    let from_mirror = sharelog(&config, &["audit", "export", "--type", "SharePreviewed"]);
    assert!(from_mirror.status.success(), "{from_mirror:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8(from_mirror.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![2, 4, 5]);
    assert!(lines.iter().all(|l| l["type"] == "SharePreviewed"));

    std::fs::remove_file(dir.join("events.jsonl.clean")).unwrap();
    let from_sled = sharelog(&config, &["audit", "export", "--type", "SharePreviewed"]);
    assert!(from_sled.status.success(), "{from_sled:?}");
    assert_eq!(from_sled.stdout, from_mirror.stdout);

    let partial = tmp.path().join("previews.jsonl");
    std::fs::write(&partial, &from_sled.stdout).unwrap();
    let out = verify_py(&["--partial", partial.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let full = sharelog(&config, &["audit", "export"]);
    let full_file = tmp.path().join("full.jsonl");
    std::fs::write(&full_file, &full.stdout).unwrap();
    let out = verify_py(&[full_file.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("OK 5 events"),
        "{out:?}"
    );
    let out = sharelog(
        &config,
        &["audit", "verify", "--file", full_file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");

    let replayed = sharelog(&config, &["replay", "--seq", "4"]);
    let shares: serde_json::Value = serde_json::from_slice(&replayed.stdout).unwrap();
    assert_eq!(shares[0]["previewCount"], 2);
    assert_eq!(shares[0]["visitCount"], 1);
}
