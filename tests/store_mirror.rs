//! The export mirror (`<dataDir>/events.jsonl`, see `store::mirror`): written by
//! the committer after sled, marked clean only by a clean close, repaired at open,
//! and read by `sharelog audit export` only when clean.

use crate::support;

use support::offline::{config_for, created};

use support::commands::{rename, visit, POLICY};

use sharelog::store::Store;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as Process, Output, Stdio};
use std::time::{Duration, Instant};

fn mirror(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("events.jsonl")).unwrap()
}

fn marker(dir: &Path) -> Option<u64> {
    let bytes = std::fs::read(dir.join("events.jsonl.clean")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    Some(v["lastSeq"].as_u64().unwrap())
}

/// Every event's export line followed by `\n`, in seq order.
fn expected(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    for ev in store.events(1) {
        out.extend_from_slice(&ev.unwrap().to_line().unwrap());
        out.push(b'\n');
    }
    out
}

/// Some events; returns the store still open.
fn append(store: &Store, base: u128, n: usize) {
    let id = created(store, base, "a share");
    store
        .execute_blocking(rename(&id, None, "renamed"), None)
        .unwrap()
        .unwrap();
    for _ in 0..n {
        store.execute_blocking(visit(&id), None).unwrap().unwrap();
    }
}

fn last_seq(store: &Store) -> u64 {
    store.checkpoint().unwrap().map_or(0, |c| c.last_seq)
}

/// Opens, checks the mirror against sled, closes; returns the last seq.
fn reopen_and_check(dir: &Path) -> u64 {
    let store = Store::open(dir, POLICY).unwrap();
    let want = expected(&store);
    let last = last_seq(&store);
    store.close();
    drop(store);
    assert_eq!(mirror(dir), want, "the mirror differs from sled's events");
    assert_eq!(marker(dir), Some(last));
    last
}

#[test]
fn a_clean_close_leaves_the_mirror_equal_to_the_log_and_marks_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let store = Store::open(dir, POLICY).unwrap();
    assert_eq!(marker(dir), None);
    append(&store, 1, 5);
    // A batch that appends nothing keeps the lines not yet written.
    let unknown = sharelog::domain::ShareId::from_random(999u128.to_be_bytes());
    assert!(matches!(
        store.execute_blocking(visit(&unknown), None),
        Ok(Err(sharelog::store::Refusal::Rule(
            sharelog::domain::DomainError::NotFound
        )))
    ));
    let want = expected(&store);
    assert_eq!(last_seq(&store), 7);
    store.close();
    drop(store);
    assert_eq!(mirror(dir), want);
    assert_eq!(marker(dir), Some(7));

    let store = Store::open(dir, POLICY).unwrap();
    assert_eq!(marker(dir), None, "the marker goes at open");
    append(&store, 2, 3);
    let want = expected(&store);
    store.close();
    drop(store);
    assert_eq!(mirror(dir), want);
    assert_eq!(marker(dir), Some(12));
}

#[test]
fn a_torn_tail_is_repaired_at_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let store = Store::open(dir, POLICY).unwrap();
    append(&store, 1, 4);
    store.close();
    drop(store);
    let full = mirror(dir);
    std::fs::remove_file(dir.join("events.jsonl.clean")).unwrap();
    // Half of the last line missing, then a torn extra line.
    let cut = full[..full.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let mut torn = full[..cut].to_vec();
    torn.extend_from_slice(&full[cut..cut + (full.len() - cut) / 2]);
    std::fs::write(dir.join("events.jsonl"), &torn).unwrap();
    assert_eq!(reopen_and_check(dir), 6);
    // Only a torn half line, no complete one.
    std::fs::write(dir.join("events.jsonl"), &full[..20]).unwrap();
    std::fs::remove_file(dir.join("events.jsonl.clean")).unwrap();
    assert_eq!(reopen_and_check(dir), 6);
    // A damaged last line is recreated from the log.
    let mut damaged = full[..full.len() - 1].to_vec();
    damaged.extend_from_slice(b"xx\n");
    std::fs::write(dir.join("events.jsonl"), &damaged).unwrap();
    assert_eq!(reopen_and_check(dir), 6);
    // Lines beyond the log are dropped.
    let mut longer = full.clone();
    longer.extend_from_slice(&full[cut..].to_vec().replace_seq(6, 7));
    std::fs::write(dir.join("events.jsonl"), &longer).unwrap();
    assert_eq!(reopen_and_check(dir), 6);
}

trait ReplaceSeq {
    fn replace_seq(self, from: u64, to: u64) -> Vec<u8>;
}

impl ReplaceSeq for Vec<u8> {
    fn replace_seq(self, from: u64, to: u64) -> Vec<u8> {
        String::from_utf8(self)
            .unwrap()
            .replacen(&format!("\"seq\":{from},"), &format!("\"seq\":{to},"), 1)
            .into_bytes()
    }
}

#[test]
fn a_missing_mirror_is_recreated_at_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let store = Store::open(dir, POLICY).unwrap();
    append(&store, 1, 10);
    store.close();
    drop(store);
    std::fs::remove_file(dir.join("events.jsonl")).unwrap();
    std::fs::remove_file(dir.join("events.jsonl.clean")).unwrap();
    assert_eq!(reopen_and_check(dir), 12);
}

/// Not a test: the child process of the crash test. It appends from 4 threads
/// and prints each acknowledged seq until it is killed.
#[test]
#[ignore]
fn mirror_crash_child_entry_point() {
    support::offline::appender_child(4);
}

fn export(config: &Path) -> Output {
    let out = Process::new(env!("CARGO_BIN_EXE_sharelog"))
        .arg("--config")
        .arg(config)
        .args(["audit", "export"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn after_kill_9_export_falls_back_to_sled_and_one_clean_start_restores_the_mirror() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let config = config_for(&dir);
    // A clean start first, so the crash hits a mirror with content.
    let store = Store::open(&dir, POLICY).unwrap();
    append(&store, 1, 3);
    store.close();
    drop(store);

    let mut child = Process::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "store_mirror::mirror_crash_child_entry_point",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SHARELOG_CHILD_DIR", &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut max_acked = 0;
    let mut started: Option<Instant> = None;
    while let Some(Ok(line)) = lines.next() {
        if let Some(seq) = line
            .strip_prefix("ack ")
            .and_then(|s| s.parse::<u64>().ok())
        {
            max_acked = max_acked.max(seq);
            if started.get_or_insert_with(Instant::now).elapsed() >= Duration::from_millis(150) {
                break;
            }
        }
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    assert!(max_acked > 5, "the child acknowledged nothing");
    assert_eq!(marker(&dir), None, "a killed process leaves no marker");

    let fallback = export(&config);
    assert!(
        String::from_utf8_lossy(&fallback.stderr).contains("not clean"),
        "{}",
        String::from_utf8_lossy(&fallback.stderr)
    );
    let text = String::from_utf8(fallback.stdout.clone()).unwrap();
    let count = text.lines().count() as u64;
    assert!(
        count >= max_acked,
        "export has {count} events, {max_acked} acknowledged"
    );
    for (i, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["seq"].as_u64(), Some(i as u64 + 1));
    }
    let file = tmp.path().join("export.jsonl");
    std::fs::write(&file, &fallback.stdout).unwrap();
    let py = Process::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/verify_audit.py"
        ))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stdout)
    );

    // One clean start and stop: the export now comes from the mirror, byte for byte the same.
    assert_eq!(reopen_and_check(&dir), count);
    let from_mirror = export(&config);
    assert!(
        from_mirror.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&from_mirror.stderr)
    );
    assert_eq!(from_mirror.stdout, fallback.stdout);

    // Proof that it read the mirror and not sled: a changed mirror shows in the export.
    let mut changed = mirror(&dir);
    let pos = changed.windows(7).position(|w| w == b"a share").unwrap();
    changed[pos] = b'A';
    std::fs::write(dir.join("events.jsonl"), &changed).unwrap();
    assert_eq!(export(&config).stdout, changed);
}
