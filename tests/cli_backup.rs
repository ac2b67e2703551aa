//! What `sharelog backup` leaves behind when it fails: no file when there was none, the file
//! as it was when there was one (a full disk mid-append included), and a token file that is
//! missing is said in words. Against a real server over real HTTP; the full disk is a tmpfs.
use crate::support;

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::binary::Tmpfs;
use support::{admin, alice, spawn_app, upstream, TestApp};

fn backup(url: &str, token: &Path, to: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(["backup", "--url", url, "--token-file"])
        .arg(token)
        .arg("--to")
        .arg(to)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn admin_token_in(dir: &Path) -> PathBuf {
    let path = dir.join("backup.token");
    std::fs::write(&path, format!("{}\n", admin())).unwrap();
    path
}

fn shares(app: &TestApp, n: usize) {
    let album = upstream::shared().album("Alpha");
    for i in 0..n {
        app.create(
            &alice(),
            json!({"albums": [album.id], "description": format!("share {i} {}", "x".repeat(200))}),
        );
    }
}

#[test]
fn a_missing_token_file_is_said_in_words_and_an_unreachable_server_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("audit.jsonl");
    let closed = format!("http://127.0.0.1:{}", support::free_port());
    // Given a token file that does not exist
    let missing = dir.path().join("no-such.token");
    let out = backup(&closed, &missing, &to);
    let err = stderr(&out);
    // Then it is named, and said in words (not "entity not found")
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("--token-file {}: no such file", missing.display())),
        "{err}"
    );
    assert!(!err.contains("entity not found"), "{err}");
    // Given a server that cannot be reached: no file is left behind
    let out = backup(&closed, &admin_token_in(dir.path()), &to);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no answer"), "{}", stderr(&out));
    assert!(!to.exists(), "a failed backup left {}", to.display());
    // And a successful run with nothing new still leaves the (empty) file it names
    let app = spawn_app(|_| {});
    let out = backup(&app.url, &admin_token_in(dir.path()), &to);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(to.is_file());
}

#[test]
fn a_backup_that_fills_the_disk_leaves_no_file_or_the_file_as_it_was() {
    // Given a server with some events, and a small disk that is full
    let app = spawn_app(|_| {});
    shares(&app, 20);
    let work = tempfile::tempdir().unwrap();
    let token = admin_token_in(work.path());
    let disk = Tmpfs::mount(1);
    let kept = disk.path.join("kept.jsonl");
    let first = backup(&app.url, &token, &kept);
    assert!(first.status.success(), "{}", stderr(&first));
    let before = std::fs::read(&kept).unwrap();
    assert!(!before.is_empty());
    shares(&app, 20);
    disk.fill();

    // When a backup into a new file cannot write its first events
    let new = disk.path.join("new.jsonl");
    let out = backup(&app.url, &token, &new);
    // Then it fails, saying why, and leaves no file
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("No space left"), "{}", stderr(&out));
    assert!(!new.exists(), "the failed backup left {}", new.display());

    // When a backup appends to an existing file and the disk fills up mid-write
    let out = backup(&app.url, &token, &kept);
    // Then it fails and the file is exactly as it was (no part of a line)
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(std::fs::read(&kept).unwrap() == before, "the file changed");

    // And once there is room again, the same file continues without a gap
    disk.free();
    let out = backup(&app.url, &token, &kept);
    assert!(out.status.success(), "{}", stderr(&out));
    let verify = Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(["audit", "verify", "--file"])
        .arg(&kept)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", stderr(&verify));
}
