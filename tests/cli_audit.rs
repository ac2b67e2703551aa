//! The offline command line (docs/cli.md) on a real data directory:
//! export and verify (ours and the standalone Python verifier), replay, rebuild,
//! and refusing to touch a directory a running server holds.

use crate::support;

use support::offline::{config_for, created, sharelog, verify_py};

use support::commands::{create, delete, rename, visit, POLICY};

use serde_json::Value;
use sharelog::domain::*;
use sharelog::store::{Log, Store};
use std::path::Path;
use std::process::Output;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A log with three shares, updates and visits; the store is closed on return.
fn small_log(dir: &Path) -> Vec<ShareId> {
    let store = Store::open(dir, POLICY).unwrap();
    let mut ids = Vec::new();
    for n in 1..=3u128 {
        let out = store
            .execute_blocking(create(n, &format!("share {n}")), None)
            .unwrap()
            .unwrap();
        ids.push(out.share.id);
    }
    store
        .execute_blocking(rename(&ids[0], None, "renamed"), None)
        .unwrap()
        .unwrap();
    for id in &ids {
        store.execute_blocking(visit(id), None).unwrap().unwrap();
    }
    store.close();
    drop(store);
    ids
}

#[test]
fn an_export_verifies_with_our_cli_and_with_the_python_script() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    small_log(&dir);
    let config = config_for(&dir);

    let export = sharelog(&config, &["audit", "export"]);
    assert!(export.status.success(), "{}", stderr(&export));
    let text = String::from_utf8(export.stdout).unwrap();
    assert_eq!(text.lines().count(), 7);
    let file = tmp.path().join("export.jsonl");
    std::fs::write(&file, &text).unwrap();

    let db = sharelog(&config, &["audit", "verify"]);
    assert!(db.status.success(), "{}", stderr(&db));
    assert!(String::from_utf8_lossy(&db.stdout).starts_with("OK 7 events, last seq 7"));
    let ours = sharelog(
        &config,
        &["audit", "verify", "--file", file.to_str().unwrap()],
    );
    assert!(ours.status.success(), "{}", stderr(&ours));
    let py = verify_py(&[file.to_str().unwrap()]);
    assert!(py.status.success(), "{}", stderr(&py));
    assert_eq!(
        ours.stdout, py.stdout,
        "both verifiers report the same head"
    );
}

#[test]
fn one_changed_byte_in_an_export_fails_verification_at_that_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    small_log(&dir);
    let config = config_for(&dir);
    let text = String::from_utf8(sharelog(&config, &["audit", "export"]).stdout).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // seq 4 is the rename: change one byte of its description.
    assert!(lines[3].contains("\"renamed\""));
    lines[3] = lines[3].replacen("\"renamed\"", "\"renamex\"", 1);
    let file = tmp.path().join("tampered.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();

    let ours = sharelog(
        &config,
        &["audit", "verify", "--file", file.to_str().unwrap()],
    );
    assert_eq!(ours.status.code(), Some(1), "{}", stderr(&ours));
    assert!(stderr(&ours).contains("seq 4"), "{}", stderr(&ours));
    let py = verify_py(&[file.to_str().unwrap()]);
    assert_eq!(py.status.code(), Some(1));
    assert!(stderr(&py).contains("FAIL seq 4"), "{}", stderr(&py));
}

#[test]
fn a_filtered_export_is_partial_and_verifies_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let ids = small_log(&dir);
    let config = config_for(&dir);
    let out = sharelog(&config, &["audit", "export", "--share", ids[0].as_str()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let seqs: Vec<u64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs, vec![1, 4, 5]);
    let file = tmp.path().join("partial.jsonl");
    std::fs::write(&file, &text).unwrap();
    let f = file.to_str().unwrap();
    assert_eq!(
        sharelog(&config, &["audit", "verify", "--file", f])
            .status
            .code(),
        Some(1)
    );
    let ours = sharelog(&config, &["audit", "verify", "--partial", "--file", f]);
    assert!(ours.status.success(), "{}", stderr(&ours));
    assert!(verify_py(&["--partial", f]).status.success());
}

#[test]
fn replay_until_a_time_between_two_updates_shows_the_older_state_and_its_visits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = Store::open(&dir, POLICY).unwrap();
    let id = created(&store, 7, "first");
    store.execute_blocking(visit(&id), None).unwrap().unwrap();
    store.execute_blocking(visit(&id), None).unwrap().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    let between = OffsetDateTime::now_utc();
    std::thread::sleep(Duration::from_millis(30));
    store
        .execute_blocking(rename(&id, None, "second"), None)
        .unwrap()
        .unwrap();
    store.execute_blocking(visit(&id), None).unwrap().unwrap();
    store.close();
    drop(store);

    let config = config_for(&dir);
    let until = between.format(&Rfc3339).unwrap();
    let out = sharelog(&config, &["replay", "--until", &until]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shares: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shares.as_array().unwrap().len(), 1);
    assert_eq!(shares[0]["id"], id.as_str());
    assert_eq!(shares[0]["description"], "first");
    assert_eq!(shares[0]["visitCount"], 2);
    assert_eq!(
        shares[0]["url"],
        format!("{}/share/{id}", support::PUBLIC_URL)
    );

    let now: Value =
        serde_json::from_slice(&sharelog(&config, &["replay", "--seq", "5"]).stdout).unwrap();
    assert_eq!(now[0]["description"], "second");
    assert_eq!(now[0]["visitCount"], 3);
    let before: Value =
        serde_json::from_slice(&sharelog(&config, &["replay", "--seq", "0"]).stdout).unwrap();
    assert_eq!(before, serde_json::json!([]));
}

#[test]
fn rebuild_yields_exactly_the_live_projections() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = Store::open(&dir, POLICY).unwrap();
    let mut ids = Vec::new();
    for n in 0..40u128 {
        ids.push(created(&store, n, "x"));
    }
    for (i, id) in ids.iter().enumerate() {
        for _ in 0..(i % 5) {
            store.execute_blocking(visit(id), None).unwrap().unwrap();
        }
        if i % 3 == 0 {
            store
                .execute_blocking(rename(id, None, "y"), None)
                .unwrap()
                .unwrap();
        }
        if i % 7 == 0 {
            store.execute_blocking(delete(id), None).unwrap().unwrap();
        }
    }
    let live = store.projection().clone();
    store.close();
    drop(store);

    let config = config_for(&dir);
    let out = sharelog(&config, &["rebuild"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("projections unchanged"), "{summary}");
    let log = Log::open(&dir).unwrap();
    assert_eq!(log.projections().unwrap(), live);
    let (rebuilt, _) = log.rebuild(&mut |_| {}).unwrap();
    assert_eq!(rebuilt, live);
}

#[test]
fn offline_commands_against_a_running_server_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let settings = sharelog::config::Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.clone(),
        ..Default::default()
    };
    let mut app = support::spawn_with(settings);
    let config = config_for(&dir);
    for args in [
        &["audit", "export"][..],
        &["audit", "verify"],
        &["replay", "--seq", "1"],
        &["rebuild"],
    ] {
        let out = sharelog(&config, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("in use by a running sharelog server"),
            "{}",
            stderr(&out)
        );
    }
    app.stop();
    assert!(sharelog(&config, &["audit", "verify"]).status.success());
}
