//! `sharelog backup` against a running server over real HTTP: it appends only what
//! the file lacks, drops a torn last line, refuses a server whose log the file does
//! not belong to, and never shows the token.

use crate::support;

use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};
use support::*;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn backup(url: &str, token_file: &Path, to: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(["backup", "--url", url, "--token-file"])
        .arg(token_file)
        .arg("--to")
        .arg(to)
        .env("RUST_LOG", "info")
        .output()
        .unwrap()
}

fn token_file(dir: &Path, token: &str) -> std::path::PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, format!("{token}\n")).unwrap();
    path
}

/// The server's whole audit trail, as `GET /api/audit` streams it.
fn full_export(app: &TestApp) -> Vec<u8> {
    let r = app.req("GET", "/api/audit", Some(&admin()), None);
    assert_eq!(r.status(), 200);
    r.0.body
}

fn some_shares(app: &TestApp, n: usize) {
    let album = upstream::shared().album("Alpha");
    for i in 0..n {
        let v = app.create(
            &alice(),
            json!({"albums": [album.id], "description": format!("share {i}")}),
        );
        let id = v["id"].as_str().unwrap();
        let r = app.update(&alice(), id, json!({"description": "changed"}));
        assert_eq!(r.status(), 200);
    }
}

#[test]
fn a_second_backup_appends_only_the_new_events() {
    let app = spawn_app(|_| {});
    let tmp = tempfile::tempdir().unwrap();
    let (token, file) = (token_file(tmp.path(), &admin()), tmp.path().join("b.jsonl"));
    some_shares(&app, 3);

    let first = backup(&app.url, &token, &file);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(String::from_utf8_lossy(&first.stdout).contains("backed up 6 new events"));
    assert_eq!(std::fs::read(&file).unwrap(), full_export(&app));

    some_shares(&app, 2);
    let second = backup(&app.url, &token, &file);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("backed up 4 new events"),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
    assert_eq!(std::fs::read(&file).unwrap(), full_export(&app));

    let caught_up = backup(&app.url, &token, &file);
    assert!(String::from_utf8_lossy(&caught_up.stdout).contains("backed up 0 new events"));
}

#[test]
fn a_torn_last_line_is_dropped_and_the_backup_continues() {
    let app = spawn_app(|_| {});
    let tmp = tempfile::tempdir().unwrap();
    let (token, file) = (token_file(tmp.path(), &admin()), tmp.path().join("b.jsonl"));
    some_shares(&app, 2);
    let export = full_export(&app);
    // Three complete lines, then half of the fourth: what a kill -9 mid-write leaves.
    let ends: Vec<usize> = export
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .collect();
    std::fs::write(&file, &export[..ends[2] + 30]).unwrap();

    let out = backup(&app.url, &token, &file);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("dropping a torn last line (30 bytes"));
    assert_eq!(std::fs::read(&file).unwrap(), export);
}

#[test]
fn a_backup_file_of_another_server_is_refused_and_left_unchanged() {
    let (a, b) = (spawn_app(|_| {}), spawn_app(|_| {}));
    let tmp = tempfile::tempdir().unwrap();
    let (token, file) = (token_file(tmp.path(), &admin()), tmp.path().join("b.jsonl"));
    some_shares(&a, 1);
    some_shares(&b, 2);
    assert!(backup(&a.url, &token, &file).status.success());
    let before = std::fs::read(&file).unwrap();

    let out = backup(&b.url, &token, &file);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("do not continue the backup file") && stderr(&out).contains("seq 3"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn a_refused_or_unreachable_server_fails_without_showing_the_token() {
    let app = spawn_app(|_| {});
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("b.jsonl");

    let user = alice();
    let out = backup(&app.url, &token_file(tmp.path(), &user), &file);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("answered 403"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&user) && !String::from_utf8_lossy(&out.stdout).contains(&user));

    let expired = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyb290IiwiZXhwIjoxfQ.c2VjcmV0LXNpZ25hdHVyZQ";
    let out = backup(&app.url, &token_file(tmp.path(), expired), &file);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("answered 401"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(expired));

    let closed = format!("http://127.0.0.1:{}", free_port());
    let out = backup(&closed, &token_file(tmp.path(), &admin()), &file);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no answer"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&admin()[..40]));
    // And none of the failed runs left a file behind (it is created with the first events)
    assert!(!file.exists(), "a failed backup left {}", file.display());
}
