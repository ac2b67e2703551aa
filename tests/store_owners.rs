//! An owner's own stream (`owner:{userId}`, their notification settings) on a real
//! store of the engine under test (sled, or PostgreSQL with `TEST_ENGINE=postgres`): kept in its own projection row, loaded at start, rebuilt, exported and
//! restored byte for byte, replayed; and a restore refuses one on a share's stream.

use crate::support;

use serde_json::Value;
use sharelog::domain::*;
use support::commands::{alice_actor, create, visit};
use support::offline::{config_for, sharelog};

fn policy() -> Policy {
    Policy {
        notify_targets: vec!["https://ntfy.example/".into()],
        ..Policy::open(true)
    }
}

fn notify(url: &str, on: Vec<NotifyOn>) -> SetNotifications {
    SetNotifications {
        actor: alice_actor(),
        notify: Some(Notify {
            url: url.into(),
            format: NotifyFormat::Ntfy,
            on,
        }),
    }
}

fn alice() -> UserId {
    UserId("u-alice".into())
}

/// A closed log with a share, a visit, and alice's settings changed twice.
fn write_log(dir: &std::path::Path) -> Owner {
    let store = support::open_store(dir, policy());
    let id = store
        .execute_blocking(create(1, "one"), None)
        .unwrap()
        .unwrap()
        .share
        .id;
    store
        .set_notifications_blocking(notify("https://ntfy.example/a", vec![NotifyOn::Visit]))
        .unwrap()
        .unwrap();
    store.execute_blocking(visit(&id), None).unwrap().unwrap();
    store
        .set_notifications_blocking(notify(
            "https://ntfy.example/b",
            vec![NotifyOn::FirstVisit, NotifyOn::LinkRevoked],
        ))
        .unwrap()
        .unwrap();
    let owner = store.projection().owner(&alice()).cloned().unwrap();
    store.close();
    owner
}

#[test]
fn an_owners_stream_is_loaded_rebuilt_and_replayed_like_a_share() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let owner = write_log(&dir);
    assert_eq!(owner.version, 2);
    assert_eq!(owner.notify.as_ref().unwrap().url, "https://ntfy.example/b");

    // Loaded from its row at start, without reading the log.
    let store = support::open_store(&dir, policy());
    assert_eq!(store.projection().owner(&alice()), Some(&owner));
    let live = store.projection().clone();
    store.close();
    drop(store);

    let log = support::open_log(&dir);
    assert_eq!(log.projections().unwrap(), live);
    let (rebuilt, _) = log.rebuild(&mut |_| {}).unwrap();
    assert_eq!(rebuilt, live);
    let folded = log.fold_while(|_| true, &mut |_| {}).unwrap();
    assert_eq!(folded.shares, live);
    drop(log);

    // The stream in the export, with its own versions.
    let out = sharelog(&config_for(&dir), &["audit", "export"]);
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let owners: Vec<&Value> = lines
        .iter()
        .filter(|l| l["stream"] == "owner:u-alice")
        .collect();
    assert_eq!(owners.len(), 2);
    assert_eq!(owners[1]["type"], "NotifySettingsChanged");
    assert_eq!(owners[1]["version"], 2);
    assert_eq!(
        owners[1]["data"]["notify"]["on"],
        serde_json::json!(["first-visit", "link-revoked"])
    );

    // Restored into a new directory: the same bytes, the same projection.
    let file = tmp.path().join("export.jsonl");
    std::fs::write(&file, &out.stdout).unwrap();
    let target = tmp.path().join("restored");
    let restored = sharelog(
        &config_for(&target),
        &["restore", "--from", file.to_str().unwrap()],
    );
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let again = sharelog(&config_for(&target), &["audit", "export"]);
    assert_eq!(again.stdout, out.stdout);
    let log = support::open_log(&target);
    assert_eq!(log.projections().unwrap(), live);
}

#[test]
fn a_restore_refuses_notification_settings_on_a_shares_stream() {
    use sharelog::store::chain;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    write_log(&dir);
    let out = sharelog(&config_for(&dir), &["audit", "export"]);
    let mut events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The second settings change moved onto the share's stream, re-sealed.
    let share = events[0]["stream"].clone();
    events[3]["stream"] = share;
    events[3]["version"] = 3.into();
    let mut prev = chain::GENESIS;
    let mut text = Vec::new();
    for e in &mut events {
        let m = e.as_object_mut().unwrap();
        m.remove("hash");
        m.insert("prevHash".into(), chain::to_hex(&prev).into());
        let hash = chain::link(&prev, &chain::canonical_bytes(e));
        e["hash"] = chain::to_hex(&hash).into();
        text.extend_from_slice(&chain::canonical_bytes(e));
        text.push(b'\n');
        prev = hash;
    }
    let file = tmp.path().join("resealed.jsonl");
    std::fs::write(&file, &text).unwrap();
    let target = tmp.path().join("restored");
    let refused = sharelog(
        &config_for(&target),
        &["restore", "--from", file.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "event 4 breaks the rules a server keeps: NotifySettingsChanged on a share's stream"
        ),
        "{stderr}"
    );
    assert!(!target.exists());
}
