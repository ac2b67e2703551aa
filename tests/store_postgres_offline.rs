//! Moving a log between engines, with the real binary: `sharelog restore` of a sled
//! log's export into PostgreSQL, whose `audit export` is then the same bytes and
//! whose projections are the same shares; a restore refused into a database that
//! holds a log, and one that fails half-way leaving the database as it was;
//! `rebuild` and `audit verify` on PostgreSQL.
use crate::support;

use sharelog::domain::ShareId;
use sharelog::store::{DatabaseUrl, Location, Log, Store};
use std::path::{Path, PathBuf};
use std::process::Output;
use support::commands::{create, delete, rename, visit, POLICY};
use support::offline::{config_for, sharelog};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A config file for the database `url` (the data dir is not used by the log).
fn pg_config(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("pg.yaml");
    std::fs::write(
        &path,
        format!(
            "dataDir: {}\nstore:\n  engine: postgres\n  postgresUrl: \"{url}\"\n",
            dir.join("unused").display()
        ),
    )
    .unwrap();
    path
}

/// A closed sled log of ~20 000 events over 24 batches of restore: a share is created
/// before each 800 visits spread over every share so far, so shares first appear in
/// every batch of the restore; renames and a delete among them.
fn sled_log(dir: &Path) {
    let store = Store::open(dir, POLICY).unwrap();
    let mut ids: Vec<ShareId> = Vec::new();
    for phase in 0..25u128 {
        let id = store
            .execute_blocking(create(phase, &format!("share {phase}")), None)
            .unwrap()
            .unwrap()
            .share
            .id;
        ids.push(id);
        if phase % 5 == 4 {
            store
                .execute_blocking(rename(&ids[phase as usize], None, "renamed"), None)
                .unwrap()
                .unwrap();
        }
        std::thread::scope(|s| {
            for t in 0..32usize {
                let (store, ids) = (&store, &ids);
                s.spawn(move || {
                    for i in 0..25 {
                        let id = &ids[(t * 25 + i) % ids.len()];
                        store.execute_blocking(visit(id), None).unwrap().unwrap();
                    }
                });
            }
        });
    }
    store
        .execute_blocking(delete(&ids[3]), None)
        .unwrap()
        .unwrap();
    store.close();
}

#[test]
fn a_sled_log_restored_into_postgres_exports_the_same_bytes_with_the_same_shares() {
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("original");
    sled_log(&original);
    let out = sharelog(&config_for(&original), &["audit", "export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let export = out.stdout;
    let file = tmp.path().join("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    let events = export.iter().filter(|b| **b == b'\n').count();

    // Into sled first: the same shares, and each share's history, as the original.
    let restored = tmp.path().join("restored");
    let out = sharelog(
        &config_for(&restored),
        &["restore", "--from", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (a, b) = (Log::open(&original).unwrap(), Log::open(&restored).unwrap());
    assert_eq!(a.projections().unwrap(), b.projections().unwrap());
    let history = |log: &Log, id: &ShareId| -> Vec<u64> {
        let filter = sharelog::store::Filter {
            share: Some(id.clone()),
            ..Default::default()
        };
        log.filtered(filter).map(|e| e.unwrap().seq).collect()
    };
    for share in a.projections().unwrap().all() {
        assert_eq!(
            history(&a, &share.id),
            history(&b, &share.id),
            "{}",
            share.id
        );
    }
    drop((a, b));

    let url = support::postgres::shared().fresh_database();
    let config = pg_config(tmp.path(), &url);
    let out = sharelog(&config, &["restore", "--from", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.starts_with(&format!("restored {events} events (last seq {events}")),
        "{said}"
    );
    assert!(
        said.contains(" into PostgreSQL at sharelog@127.0.0.1:"),
        "{said}"
    );
    assert!(
        !said.contains(&support::postgres::shared().password),
        "{said}"
    );

    let again = sharelog(&config, &["audit", "export"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(again.stdout == export, "the export from PostgreSQL differs");
    let verify = sharelog(&config, &["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));

    // The projections the restore wrote are the original's, and a server loads them.
    let pg = Location::Postgres(DatabaseUrl::new(&url));
    let (a, b) = (Log::open(&original).unwrap(), Log::open_at(&pg).unwrap());
    assert_eq!(a.projections().unwrap(), b.projections().unwrap());
    assert_eq!(a.checkpoint().unwrap(), b.checkpoint().unwrap());
    drop(b);
    let rebuilt = sharelog(&config, &["rebuild"]);
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
    assert_eq!(
        a.projections().unwrap(),
        Log::open_at(&pg).unwrap().projections().unwrap()
    );
    let store = Store::open_at(&pg, POLICY).unwrap();
    assert_eq!(*store.projection(), a.projections().unwrap());
    // It takes new events where the original stopped.
    let next = store
        .execute_blocking(create(99, "after"), None)
        .unwrap()
        .unwrap();
    assert_eq!(next.seqs, vec![events as u64 + 1]);
    store.close();

    // A second restore into it is refused, and changes nothing.
    let out = sharelog(&config, &["restore", "--from", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("already holds an event log"),
        "{}",
        stderr(&out)
    );
    let pg_db = support::postgres::shared();
    assert_eq!(
        pg_db.psql_url(&url, "SELECT max(seq) FROM sharelog_events"),
        (events + 1).to_string()
    );
}

#[test]
fn a_restore_that_fails_half_way_leaves_the_database_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("original");
    sled_log(&original);
    let export = sharelog(&config_for(&original), &["audit", "export"]).stdout;
    // The chain breaks near the end: the batches before it reached the database.
    let mut lines: Vec<&[u8]> = export.split_inclusive(|b| *b == b'\n').collect();
    let n = lines.len();
    lines.swap(n - 2, n - 3);
    let file = tmp.path().join("broken.jsonl");
    std::fs::write(&file, lines.concat()).unwrap();

    let url = support::postgres::shared().fresh_database();
    let config = pg_config(tmp.path(), &url);
    let out = sharelog(&config, &["restore", "--from", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("FAIL seq "), "{}", stderr(&out));
    let pg = support::postgres::shared();
    assert_eq!(
        pg.psql_url(&url, "SELECT count(*) FROM sharelog_events"),
        "0"
    );
    assert_eq!(pg.psql_url(&url, "SELECT seq FROM sharelog_head"), "0");
    // The good export then restores into it.
    let good = tmp.path().join("good.jsonl");
    std::fs::write(&good, &export).unwrap();
    let out = sharelog(&config, &["restore", "--from", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sharelog(&config, &["audit", "export"]).stdout == export);
}

#[test]
fn offline_commands_on_a_database_without_a_log_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let url = support::postgres::shared().fresh_database();
    let out = sharelog(&pg_config(tmp.path(), &url), &["audit", "export"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no event log in PostgreSQL at sharelog@127.0.0.1:"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(&support::postgres::shared().password));
}
